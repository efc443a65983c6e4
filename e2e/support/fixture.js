// The per-file fixture: a fresh Onramp demo server and a headless Chromium, started before the
// file's tests and stopped after them. Server warnings and errors are shown at the end.

import { before, after } from 'node:test';
import { startServer } from './server.js';
import { launch } from './browser.js';

/** Returns { server, browser }, filled in by a `before` hook of the calling test file. */
export function serverAndBrowser() {
  const env = { server: null, browser: null };
  before(async () => {
    const [server, browser] = await Promise.allSettled([startServer(), launch()]);
    env.server = server.value ?? null;
    env.browser = browser.value ?? null;
    if (server.status === 'rejected' || browser.status === 'rejected') {
      await env.browser?.close();
      await env.server?.stop();
      throw server.reason ?? browser.reason;
    }
  });
  after(async () => {
    await env.browser?.close();
    if (env.server) {
      const noisy = env.server.log().split('\n').filter((l) => /\b(ERROR|WARN)\b/.test(l));
      if (noisy.length) console.error(`onramp server log (warnings and errors):\n  ${noisy.join('\n  ')}`);
      await env.server.stop();
    }
  });
  return env;
}
