// The training-credit pages pass axe-core with zero violations: the Lead admin's page for an
// agency (its balance and movements, the grant and purchase forms, with their errors next to
// the fields, then a grant recorded), and the agency administrator's read-only view of their
// own agency's ledger.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_PASSWORD, login } from '../support/demo.js';
import { newContext, axe, formatViolations, clickAndWait, signIn } from '../support/browser.js';

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

/** From the agency list to Harbor House's training credits, as a person would go. */
async function openHarborCredits(page) {
  await page.goto('/admin/agencies');
  await clickAndWait(page, page.locator('main table a', { hasText: 'Harbor House' }));
  return clickAndWait(page, page.getByRole('link', { name: 'Training credits and charges' }));
}

test('the Lead admin grants credits and records a purchase, and mistakes are explained', { timeout: 120_000 }, async () => {
  const { email } = login('Lead admin');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    await signIn(page, { email, password: DEMO_PASSWORD });
    let r = await openHarborCredits(page);
    assert.equal(r.status(), 200);
    assert.match(await page.locator('main h1').innerText(), /Training credits: Harbor House/);
    assert.equal(await page.locator('#credit-balance').innerText(), '5 credits', "the demo's pack");
    assert.match(await page.locator('main table').first().innerText(), /Demo invoice 2026-001/);
    await assertAccessible(page, 'the credits page');

    const grant = page.locator('form[action$="/credits/grant"]');
    r = await clickAndWait(page, grant.locator('button[type=submit]'));
    assert.equal(r.status(), 422);
    assert.match(await page.locator('#f-credits-error').innerText(), /how many credits/);
    assert.match(await page.locator('#f-reason-error').innerText(), /reason/);
    assert.equal(await page.locator('#f-credits').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'the grant form submitted empty');

    const purchase = page.locator('form[action$="/credits/purchase"]');
    await page.locator('#f-pack_credits').fill('10');
    await page.locator('#f-amount').fill('two hundred');
    await page.locator('#f-reference').fill('PayPal 7HX-2201');
    r = await clickAndWait(page, purchase.locator('button[type=submit]'));
    assert.equal(r.status(), 422);
    assert.ok(await page.locator('#f-amount-error').isVisible(), 'the amount is named');
    assert.equal(await page.locator('#f-reference').inputValue(), 'PayPal 7HX-2201', 'what was typed is kept');
    assert.equal(await page.locator('#credit-balance').innerText(), '5 credits', 'nothing recorded');
    await assertAccessible(page, 'the purchase form with a bad amount');

    await page.locator('#f-credits').fill('3');
    await page.locator('#f-reason').fill('Pilot of the project courses');
    r = await clickAndWait(page, page.locator('form[action$="/credits/grant"] button[type=submit]'));
    assert.equal(r.status(), 200);
    assert.equal(await page.locator('#credit-balance').innerText(), '8 credits');
    assert.match(await page.locator('main table').first().innerText(), /Pilot of the project courses/);
    await assertAccessible(page, 'the credits page after a grant');
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("an agency administrator reads their own agency's credits", { timeout: 90_000 }, async () => {
  const { email } = login('Agency administrator');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    await signIn(page, { email, password: DEMO_PASSWORD });
    const r = await openHarborCredits(page);
    assert.equal(r.status(), 200);
    assert.match(await page.locator('#credit-balance').innerText(), /credits/);
    assert.equal(await page.locator('main form').count(), 0, 'read only');
    await assertAccessible(page, "the agency administrator's credits page");
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});
