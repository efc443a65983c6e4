// The Lead's side of training in Chromium, every page through axe-core with zero
// violations: the requirement rules with a previewed plan and a refused edit, the training
// completion report with its chart, a person's plan with a waiver refused then recorded; and
// an agency administrator's view of their staff's plans.

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

test('the Lead previews a plan, reads the report and waives an item of a plan', { timeout: 180_000 }, async () => {
  const { email } = login('Lead admin');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    await signIn(page, { email, password: DEMO_PASSWORD });

    // ---- the rules, from the course list
    await page.goto('/courses');
    let r = await clickAndWait(page, page.getByRole('link', { name: 'Requirement rules' }));
    assert.equal(r.status(), 200);
    assert.match(await page.locator('#rules-version').innerText(), /^Version 1,/);
    await assertAccessible(page, 'the rule editor');

    await page.locator('#f-process').selectOption('agency-checklist-then-account');
    await page.locator('#f-access_level').selectOption('read_only');
    r = await clickAndWait(page, page.getByRole('button', { name: 'Show the plan' }));
    assert.equal(r.status(), 200);
    const preview = await page.locator('#preview-result').innerText();
    assert.match(preview, /read-only/i, `the read-only introduction: ${preview}`);
    assert.match(preview, /Replaced:/);
    assert.equal(await page.locator('#f-process').inputValue(), 'agency-checklist-then-account', 'the choices are kept');
    await assertAccessible(page, 'the rule editor with a preview');

    const rules = page.locator('#f-rules');
    const saved = await rules.inputValue();
    await rules.fill(`${saved}\n[[rules]]\nkey = "broken"\n`);
    r = await clickAndWait(page, page.getByRole('button', { name: 'Save as a new version' }));
    assert.equal(r.status(), 422);
    assert.match(await page.locator('#f-rules-error').innerText(), /could not be read|title/);
    assert.equal(await page.locator('#f-rules').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#f-rules').inputValue(), /key = "broken"/, 'what was typed is kept');
    await assertAccessible(page, 'the rule editor with refused rules');
    await page.goto('/training-rules');
    assert.match(await page.locator('#rules-version').innerText(), /^Version 1,/, 'nothing saved');

    // ---- the completion report
    r = await clickAndWait(page, page.locator('nav a', { hasText: 'Training report' }));
    assert.equal(r.status(), 200);
    assert.equal(await page.locator('svg.chart').getAttribute('role'), 'img');
    assert.ok((await page.locator('#completion-table tbody tr').count()) > 5, 'a row per course');
    await assertAccessible(page, 'the training completion report');

    // ---- Sam's plan, from the people list
    await page.goto('/admin/people?q=sam');
    await clickAndWait(page, page.locator('main table a', { hasText: 'Ortiz, Sam' }));
    r = await clickAndWait(page, page.getByRole('link', { name: 'Training plan, history and accommodations' }));
    assert.equal(r.status(), 200);
    assert.match(await page.locator('main h1').innerText(), /Training: Sam Ortiz/);
    await assertAccessible(page, "a person's training plan");

    const waive = page.locator('form[action$="/training/waive"]');
    const item = await page.locator('#f-item option').first().innerText();
    r = await clickAndWait(page, waive.getByRole('button', { name: 'Waive the item' }));
    assert.equal(r.status(), 422);
    assert.match(await page.locator('#f-reason-error').innerText(), /Say why/);
    await assertAccessible(page, 'the waiver refused without a reason');
    await page.locator('#f-reason').fill('Completed at the neighbouring CoC in October');
    r = await clickAndWait(page, page.locator('form[action$="/training/waive"]').getByRole('button', { name: 'Waive the item' }));
    assert.equal(r.status(), 200);
    const waived = page.locator('li.plan-item', { hasText: item });
    assert.match(await waived.first().innerText(), /Waived: Completed at the neighbouring CoC/);
    await assertAccessible(page, 'the plan with an item waived');
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});

test("an agency administrator sees their staff's plans", { timeout: 120_000 }, async () => {
  const { email } = login('Agency administrator (Harbor House)');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    await signIn(page, { email, password: DEMO_PASSWORD });
    await page.goto('/admin/agencies');
    await clickAndWait(page, page.locator('main table a', { hasText: 'Harbor House' }));
    let r = await clickAndWait(page, page.getByRole('link', { name: "Training of this agency's staff" }));
    assert.equal(r.status(), 200);
    const table = await page.locator('main table').innerText();
    assert.match(table, /Sam Ortiz/);
    assert.match(table, /Rosa Diaz[\s\S]*Complete/);
    await assertAccessible(page, "the agency's staff plans");
    r = await clickAndWait(page, page.locator('main table a', { hasText: 'Rosa Diaz' }));
    assert.equal(r.status(), 200);
    assert.equal(await page.getByRole('heading', { name: 'Change the plan' }).count(), 0, 'nothing to change');
    await assertAccessible(page, "a staff member's plan, read-only");
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});
