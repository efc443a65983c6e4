// Two-step sign-in end to end: a lead admin must enrol at first sign-in (the key is read from
// the page and the code computed as an authenticator app would), sees recovery codes, reaches
// the home page, signs out, and at the next sign-in must pass the code step.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_PASSWORD, login } from '../support/demo.js';
import { newContext, axe, formatViolations, clickAndWait, submitSignIn, enrolMfa, passMfa, pathOf } from '../support/browser.js';

const env = serverAndBrowser();

async function assertNoAxeViolations(page, what) {
  const v = await axe(page);
  assert.equal(v.length, 0, `${what} (${page.url()}) has axe-core violations:\n${formatViolations(v)}`);
}

test('a lead admin enrols in two-step sign-in at first sign-in, then must pass it', { timeout: 90_000 }, async () => {
  const { email } = login('Lead admin');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    // First sign-in: straight to the required set-up, and nowhere else until it is done.
    await submitSignIn(page, email, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/account/mfa', 'a lead admin without MFA is sent to set it up');
    await assert.doesNotReject(page.locator('text=Your role requires two-step sign-in').waitFor());
    const qr = page.locator('figure.qr svg');
    assert.equal(await qr.count(), 1, 'the set-up page shows a QR code');
    const r = await page.goto('/admin/agencies');
    assert.equal(pathOf(page), '/account/mfa', `other pages wait until MFA is set up (got HTTP ${r.status()} at ${page.url()})`);

    // A wrong code is refused with a message next to the field.
    await page.locator('#f-code').fill('000000');
    const wrong = await clickAndWait(page, page.locator('form[action="/account/mfa"] button[type=submit]'));
    assert.equal(wrong.status(), 422);
    assert.match(await page.locator('#f-code-error').innerText(), /not right/);
    await assertNoAxeViolations(page, 'the MFA set-up page with an error');

    // The right code: ten recovery codes, shown once.
    const { secret, codes } = await enrolMfa(page);
    assert.match(secret, /^[A-Z2-7]+=*$/, 'the key is base32');
    assert.equal(codes.length, 10, 'ten recovery codes');
    assert.equal(new Set(codes).size, 10, 'the recovery codes differ');
    for (const c of codes) assert.match(c, /^[a-z0-9]{5}-[a-z0-9]{5}$/);
    await clickAndWait(page, page.getByRole('link', { name: 'Continue' }));
    assert.equal(pathOf(page), '/', 'after enrolment the lead admin reaches the home page');
    assert.match(await page.locator('h1').innerText(), /Welcome/);
    await page.goto('/account');
    assert.match(await page.locator('dl.facts').innerText(), /Two-step sign-in\s*On \(10 recovery codes left\)/);

    // Sign out; the next sign-in stops at the code step.
    await clickAndWait(page, page.locator('form.signout button[type=submit]'));
    assert.equal(pathOf(page), '/signin');
    assert.match(await page.locator('.flash').innerText(), /signed out/i);
    await submitSignIn(page, email, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/signin/mfa', 'an enrolled lead admin is asked for a code');
    await assertNoAxeViolations(page, 'the authentication code page');
    const home = await page.goto('/');
    assert.equal(pathOf(page), '/signin/mfa', `the home page waits for the code (got HTTP ${home.status()} at ${page.url()})`);

    await page.locator('#f-code').fill('12345');
    const bad = await clickAndWait(page, page.locator('form[action="/signin/mfa"] button[type=submit]'));
    assert.equal(bad.status(), 422);
    assert.match(await page.locator('#f-code-error').innerText(), /not right/);
    await assertNoAxeViolations(page, 'the authentication code page with an error');

    await passMfa(page, secret);
    assert.equal(pathOf(page), '/', 'the right code opens the home page');
    assert.match(await page.locator('.who').innerText(), /\S/);

    // A recovery code also works, once.
    await clickAndWait(page, page.locator('form.signout button[type=submit]'));
    await submitSignIn(page, email, DEMO_PASSWORD);
    assert.equal(pathOf(page), '/signin/mfa');
    await page.locator('#f-code').fill(codes[0]);
    await clickAndWait(page, page.locator('form[action="/signin/mfa"] button[type=submit]'));
    assert.equal(pathOf(page), '/', 'a recovery code passes the step');
    await page.goto('/account');
    assert.match(await page.locator('dl.facts').innerText(), /9 recovery codes left/);
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, { csp: [], errors: [], foreign: [] });
});
