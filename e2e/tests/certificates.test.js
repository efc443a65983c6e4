// The certificate pages pass axe-core with zero violations: the public
// verification form (empty, with a mistyped code, with a code that matches nothing) and a
// trainee's list of certificates. (The demo issues no certificate yet; the pages showing one
// are covered by crates/web/tests/certificates.rs.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_PASSWORD, login } from '../support/demo.js';
import { newContext, axe, formatViolations, clickAndWait, signIn, pathOf } from '../support/browser.js';

const env = serverAndBrowser();

async function assertAccessible(page, what) {
  const violations = await axe(page);
  assert.equal(violations.length, 0, `${what}:\n${formatViolations(violations)}`);
}

function assertNoProblems(problems) {
  assert.deepEqual(problems.csp, [], 'no Content Security Policy violations');
  assert.deepEqual(problems.errors, [], 'no page errors');
  assert.deepEqual(problems.foreign, [], 'no requests to other origins');
}

// axe-core runs inside the page, so this walk keeps JavaScript on; the form itself is a
// plain GET form and uses none.
test('anyone checks a certificate code, and mistakes are explained', { timeout: 90_000 }, async () => {
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    let r = await page.goto('/verify');
    assert.equal(r.status(), 200);
    assert.match(r.headers()['x-robots-tag'] ?? '', /noindex/);
    await assertAccessible(page, 'the verification form');

    await page.locator('#f-code').fill('7KQ2-M9XD');
    r = await clickAndWait(page, page.locator('main form button[type=submit]'));
    assert.equal(r.status(), 422);
    assert.match(await page.locator('#f-code-error').innerText(), /12 letters and digits/);
    assert.equal(await page.locator('#f-code').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'the form with a mistyped code');

    await page.locator('#f-code').fill('0000 0000 0000');
    r = await clickAndWait(page, page.locator('main form button[type=submit]'));
    assert.equal(r.status(), 404);
    assert.equal(pathOf(page), '/verify/0000-0000-0000', 'the code as printed is in the address');
    assert.match(await page.locator('main').innerText(), /No certificate has this code\./);
    await assertAccessible(page, 'a code that matches no certificate');
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test('a trainee sees their certificates page', { timeout: 90_000 }, async () => {
  const { email } = login('Trainee');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    await signIn(page, { email, password: DEMO_PASSWORD });
    const r = await page.goto('/certificates');
    assert.equal(r.status(), 200);
    assert.match(await page.locator('main h1').innerText(), /My certificates/);
    await assertAccessible(page, 'my certificates');
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});
