// The Content Security Policy: every page is served with one that allows no inline script,
// and the browser enforces it. The crawl in accessibility.test.js fails on any CSP report in
// the console; this file shows that such a report is caught when there is one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_PASSWORD, login } from '../support/demo.js';
import { newContext, signIn } from '../support/browser.js';

const env = serverAndBrowser();

function directives(csp) {
  const out = new Map();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

test('pages carry a CSP that allows scripts only from Onramp itself', { timeout: 90_000 }, async () => {
  for (const path of ['/signin', '/password-reset', '/no-such-page', '/static/onramp.css']) {
    const r = await fetch(env.server.baseURL + path);
    const csp = r.headers.get('content-security-policy');
    assert.ok(csp, `${path} has a Content-Security-Policy header`);
    const d = directives(csp);
    const script = d.get('script-src') ?? d.get('default-src');
    assert.ok(script, `${path}: the CSP says where scripts may come from: ${csp}`);
    for (const bad of ["'unsafe-inline'", "'unsafe-eval'", '*', 'http:', 'https:', 'data:']) {
      assert.ok(!script.includes(bad), `${path}: script-src allows ${bad}: ${csp}`);
    }
    assert.ok(d.has('frame-ancestors'), `${path}: framing is restricted: ${csp}`);
    assert.ok(!(d.get('style-src') ?? []).includes("'unsafe-inline'"), `${path}: style-src allows inline styles: ${csp}`);
  }
});

test('the browser blocks an inline script, and the crawl would see the report', { timeout: 90_000 }, async () => {
  const { email } = login('Auditor');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    await signIn(page, { email, password: DEMO_PASSWORD });
    assert.deepEqual(problems.csp, [], 'the pages themselves cause no CSP report');
    // Plant an inline script and an inline style as an injection would.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'document.body.dataset.injected = "ran"';
      document.body.append(s);
      const st = document.createElement('style');
      st.textContent = 'body { background: red }';
      document.head.append(st);
    });
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate(() => document.body.dataset.injected ?? 'blocked'), 'blocked', 'the inline script did not run');
    assert.ok(problems.csp.some((m) => /script/i.test(m)), `a CSP report for the script was recorded: ${JSON.stringify(problems.csp)}`);
    assert.ok(problems.csp.some((m) => /style/i.test(m)), `a CSP report for the style was recorded: ${JSON.stringify(problems.csp)}`);
  } finally {
    await context.close();
  }
});
