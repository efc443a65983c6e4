// The demo accounts, read from the Rust source that creates them (crates/app/src/demo.rs),
// so that a role added to the demo is crawled without editing these tests.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './server.js';

const source = readFileSync(join(REPO, 'crates', 'app', 'src', 'demo.rs'), 'utf8');

const pw = source.match(/pub const DEMO_PASSWORD: &str = "([^"]+)";/);
if (!pw) throw new Error('DEMO_PASSWORD not found in crates/app/src/demo.rs');
/** The password of every demo account. */
export const DEMO_PASSWORD = pw[1];

const block = source.match(/pub const DEMO_LOGINS: &\[DemoLogin\] = &\[([\s\S]*?)\];/);
if (!block) throw new Error('DEMO_LOGINS not found in crates/app/src/demo.rs');
/**
 * [{ role, email }] for every demo login, in the order the demo prints them. Either layout
 * parses: one line each, or rustfmt's one field a line with a trailing comma.
 */
export const DEMO_LOGINS = [...block[1].matchAll(/DemoLogin\s*\{\s*role:\s*"([^"]+)",\s*email:\s*"([^"]+)",?\s*\}/g)]
  .map((m) => ({ role: m[1], email: m[2] }));
if (DEMO_LOGINS.length === 0) throw new Error('no DemoLogin entries parsed from crates/app/src/demo.rs');

/** The demo login whose role starts with `prefix` (e.g. "Lead admin", "Auditor"). */
export function login(prefix) {
  const l = DEMO_LOGINS.find((d) => d.role.startsWith(prefix));
  if (!l) throw new Error(`no demo login with a role starting ${JSON.stringify(prefix)}: ${DEMO_LOGINS.map((d) => d.role).join(', ')}`);
  return l;
}
