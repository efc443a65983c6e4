// Onramp's pages work without JavaScript (htmx only enhances them): with scripts disabled an
// auditor signs in (setting up the two-step sign-in their role requires), opens the agencies
// list from the navigation, filters it, and signs out.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_PASSWORD, login } from '../support/demo.js';
import { newContext, clickAndWait, signIn, pathOf } from '../support/browser.js';

const env = serverAndBrowser();

const rowNames = (page) => page.locator('main table tbody tr td:first-child').allInnerTexts();

test('without JavaScript an auditor signs in, lists and filters agencies, and signs out', { timeout: 90_000 }, async () => {
  const { email } = login('Auditor');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL, { javaScriptEnabled: false });
  try {
    const steps = [];
    await signIn(page, { email, password: DEMO_PASSWORD, onStep: async (label) => steps.push(label) });
    assert.deepEqual(steps, ['two-step sign-in set-up (required)', 'recovery codes'], 'the auditor sets up two-step sign-in without scripts');
    assert.equal(pathOf(page), '/', `signed in to the home page (at ${page.url()})`);

    await clickAndWait(page, page.locator('header nav a', { hasText: 'Agencies' }));
    assert.equal(pathOf(page), '/admin/agencies');
    const all = await rowNames(page);
    assert.ok(all.length >= 2, `the demo has several agencies: ${all.join(', ')}`);
    assert.ok(all.some((n) => /Harbor House/.test(n)), `Harbor House is listed: ${all.join(', ')}`);

    // Filter by name: a plain GET form.
    await page.locator('#q').fill('harbor');
    let r = await clickAndWait(page, page.locator('form.filters button[type=submit]'));
    assert.equal(r.status(), 200);
    assert.equal(new URL(page.url()).searchParams.get('q'), 'harbor', 'the filter is in the address, so it can be shared');
    assert.deepEqual(await rowNames(page), ['Harbor House']);
    assert.equal(await page.locator('#q').inputValue(), 'harbor', 'the filter form shows the filter in force');

    // Filter by participation status.
    await page.locator('#q').fill('');
    await page.locator('#status').selectOption({ label: 'Pending' });
    r = await clickAndWait(page, page.locator('form.filters button[type=submit]'));
    assert.equal(r.status(), 200);
    const pending = await rowNames(page);
    assert.ok(pending.length >= 1 && pending.length < all.length, `only pending agencies: ${pending.join(', ')}`);
    assert.ok(pending.every((n) => !/Harbor House/.test(n)), `Harbor House is participating, not pending: ${pending.join(', ')}`);
    const statuses = await page.locator('main table tbody tr td:nth-child(2)').allInnerTexts();
    assert.ok(statuses.every((s) => /pending/i.test(s)), `every row is pending: ${statuses.join(', ')}`);

    // No match says so.
    await page.locator('#q').fill('no agency is called this');
    await clickAndWait(page, page.locator('form.filters button[type=submit]'));
    assert.equal(await page.locator('main table').count(), 0);
    assert.match(await page.locator('main').innerText(), /No agencies match/);

    // An agency's page opens, read-only for an auditor.
    await page.goto('/admin/agencies');
    await clickAndWait(page, page.locator('main table a', { hasText: 'Harbor House' }));
    assert.match(pathOf(page), /^\/admin\/agencies\/\d+$/);
    assert.equal(await page.locator('main fieldset[disabled]').count(), 1, 'the auditor cannot edit');

    await clickAndWait(page, page.locator('form.signout button[type=submit]'));
    assert.equal(pathOf(page), '/signin', 'signing out is a form post that needs no script');
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, { csp: [], errors: [], foreign: [] });
});
