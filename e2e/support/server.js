// Starts the real `onramp` binary on the demo data in a throwaway data directory, on a free
// loopback port, and stops it again. Each test file gets a server of its own, so that what
// one file does (enrol MFA, fail a sign-in) cannot change what another sees.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The binary under test: ONRAMP_BIN, else <CARGO_TARGET_DIR or target>/debug/onramp. */
export function binaryPath() {
  if (process.env.ONRAMP_BIN) return resolve(process.env.ONRAMP_BIN);
  const target = process.env.CARGO_TARGET_DIR ? resolve(REPO, process.env.CARGO_TARGET_DIR) : join(REPO, 'target');
  return join(target, 'debug', 'onramp');
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Environment for the child: ours, less anything that would point it at other data. */
function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('ONRAMP_') || k === 'DATABASE_URL') continue;
    env[k] = v;
  }
  env.ONRAMP_LOG = process.env.ONRAMP_E2E_LOG || 'warn';
  return env;
}

/**
 * Starts `onramp --data-dir <tmp> --listen 127.0.0.1:<port> demo` and waits for /readyz.
 * Returns { baseURL, stop(), log() }.
 */
export async function startServer() {
  const bin = binaryPath();
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: build it first with \`cargo build --bin onramp\` (scripts/test does), or set ONRAMP_BIN`);
  }
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'onramp-e2e-'));
    const port = await freePort();
    const baseURL = `http://127.0.0.1:${port}`;
    const logPath = join(dataDir, 'server.log');
    const logFile = createWriteStream(logPath);
    const child = spawn(bin, ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--base-url', baseURL, 'demo'], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(logFile, { end: false });
    child.stderr.pipe(logFile, { end: false });
    let exited = null;
    child.on('exit', (code, signal) => { exited = { code, signal }; });
    const killOnExit = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
    process.on('exit', killOnExit);

    const log = () => { try { return readFileSync(logPath, 'utf8'); } catch { return ''; } };
    const cleanup = () => {
      process.off('exit', killOnExit);
      logFile.end();
      if (process.env.ONRAMP_E2E_KEEP) console.error(`onramp e2e: kept the server's data directory ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    };
    const stop = async () => {
      if (!exited) {
        child.kill('SIGINT');
        for (let i = 0; i < 100 && !exited; i++) await sleep(50);
        if (!exited) {
          child.kill('SIGKILL');
          for (let i = 0; i < 40 && !exited; i++) await sleep(50);
        }
      }
      cleanup();
    };

    const deadline = Date.now() + 60_000;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      try {
        const r = await fetch(`${baseURL}/readyz`);
        if (r.ok) { ready = true; break; }
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    if (ready) return { baseURL, dataDir, stop, log };
    lastError = exited
      ? `onramp exited (${JSON.stringify(exited)}) before it was ready`
      : 'onramp was not ready after 60 s';
    lastError += `; its output:\n${log()}`;
    await stop();
    // A port taken between our probe and its bind: try another one.
    if (!/cannot listen/i.test(lastError)) break;
  }
  throw new Error(lastError);
}
