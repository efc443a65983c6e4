// The process editor in a real browser, as a Lead who is no programmer uses it: open a seed
// process in the form editor, change a step (its title, who acts, when it applies, a deadline),
// move it, see the picture of the process and the preview of the steps a request gets, make a
// mistake and find the message next to the field with everything typed still there, then save
// a new version. axe-core (WCAG 2.0/2.1 A and AA) runs on every page state, and any Content
// Security Policy report or uncaught error fails the test.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_PASSWORD, login } from '../support/demo.js';
import { newContext, axe, formatViolations, clickAndWait, signIn, pathOf } from '../support/browser.js';

/** Opens a disclosure the way a person would, unless the page shows it open already. */
async function expand(details) {
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
}

const env = serverAndBrowser();
const LEAD = login('Lead admin').email;
/** Seed 004: validated request, courses and a proctored session; CE roles via the CE team. */
const KEY = 'courses-and-proctored-session';

let session = null;
after(async () => {
  await session?.context.close().catch(() => {});
});

async function check(s, what) {
  const v = await axe(s.page);
  assert.equal(v.length, 0, `${what} (${s.page.url()}) has axe-core violations:\n${formatViolations(v)}`);
  assert.deepEqual(s.problems.csp, [], `Content Security Policy reports by ${what}`);
  assert.deepEqual(s.problems.errors, [], `uncaught page errors by ${what}`);
  assert.deepEqual(s.problems.foreign, [], `requests to other origins by ${what}`);
}

async function press(s, locator, what, status = 200) {
  const r = await clickAndWait(s.page, locator);
  assert.equal(r?.status(), status, `${what}: HTTP ${r?.status()} at ${s.page.url()}`);
  await check(s, what);
  return r;
}

const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

test('a Lead edits a process with the form, sees its picture and a preview, and saves a version', { timeout: 90_000 }, async () => {
  session = await newContext(env.browser, env.server.baseURL);
  const s = session;
  const p = s.page;
  await signIn(p, { email: LEAD, password: DEMO_PASSWORD, secrets: new Map(), onStep: (label) => check(s, label) });
  assert.equal(pathOf(p), '/');
  await check(s, 'the Lead admin home page');
  assert.match(await text(p.locator('main')), /What you need to do next/);
  assert.match(await text(p.locator('main')), /Access requests by state/);

  // From the process's page, which shows the picture, to the editor.
  const show = await p.goto(`/admin/processes/${KEY}`);
  assert.equal(show.status(), 200);
  await check(s, 'the process page');
  assert.equal(await p.locator('#picture ol.timeline > li').count(), 8, 'the picture shows the eight steps');
  await press(s, p.getByRole('link', { name: /Edit the steps/ }), 'the process editor');
  assert.equal(pathOf(p), `/admin/processes/${KEY}/editor`);
  assert.equal(await p.locator('fieldset.step-editor').count(), 8);
  assert.equal(await p.locator('.error-summary').count(), 0, 'the seed opens without a problem');

  // Change step 6 (the CE team's approval): its title, a deadline, and a condition.
  await p.locator('#f-s5-title').fill('CE team approves the user');
  await expand(p.locator('#f-s5-step details', { hasText: 'Deadline, SLA and reminders' }));
  await p.locator('#f-s5-deadline_days').fill('10');
  await p.locator('#f-s5-deadline_from').selectOption('step_open');
  await expand(p.locator('#f-s5-step details', { hasText: 'When this step applies' }));
  assert.ok(await p.locator('#f-s5-access_levels-ce_specialist').isChecked(), 'the CE condition is ticked');
  await p.locator('label[for="f-s5-audience-new"]').click();

  // Move it above the proctored session: the page comes back with everything typed.
  await press(s, p.locator('button[name=op][value="up-5"]'), 'the editor after moving a step');
  assert.match(await text(p.locator('.flash')), /CE team approves the user is now step 5/);
  assert.equal(await p.locator('#f-s4-title').inputValue(), 'CE team approves the user');
  assert.equal(await p.locator('#f-s4-deadline_days').inputValue(), '10');
  assert.ok(await p.locator('#f-s4-audience-new').isChecked());
  const picture = await text(p.locator('#picture ol.timeline'));
  assert.match(picture, /5 CE team approves the user/, 'the picture follows the edit');
  assert.match(picture, /10 days from when the step opens/);
  assert.match(picture, /New users only/);

  // Preview a returning coordinated-entry specialist: the CE step now applies to new users only.
  await p.locator('#f-p-access_level').selectOption('ce_specialist');
  await p.locator('label[for="f-p-returning-returning"]').click();
  await press(s, p.getByRole('button', { name: 'Show the steps this request gets' }), 'the preview');
  const preview = await text(p.locator('#preview-result'));
  assert.match(preview, /Coordinated-entry specialist/);
  assert.match(preview, /returning to the HMIS/);
  assert.match(preview, /Does not apply to this request: .*CE team approves the user/);
  assert.match(preview, /Validate the new hire/);

  // A mistake: an SLA that is not a number. The message sits next to the field.
  await p.locator('#f-s4-step details', { hasText: 'Deadline, SLA and reminders' }).evaluate((d) => { d.open = true; });
  await p.locator('#f-s4-sla_hours').fill('two days');
  await press(s, p.locator('form.process-editor button[value=save]').last(), 'the editor with an error', 422);
  const summary = p.locator('.error-summary');
  assert.equal(await summary.getAttribute('role'), 'alert');
  assert.match(await text(summary), /Step 5 \(CE team approves the user\): Enter a whole number of hours/);
  assert.match(await text(p.locator('#f-s4-sla_hours-error')), /whole number of hours/);
  assert.equal(await p.locator('#f-s4-sla_hours').getAttribute('aria-invalid'), 'true');
  assert.equal(await p.locator('#f-s4-sla_hours').inputValue(), 'two days', 'what was typed is kept');
  assert.equal(await p.locator('#f-s4-title').inputValue(), 'CE team approves the user');
  const target = await summary.locator('a').first().getAttribute('href');
  assert.equal(await p.locator(target).count(), 1, `the summary's link ${target} leads to the field`);

  // Corrected and saved: a new version, shown on the process's page.
  await p.locator('#f-s4-sla_hours').fill('48');
  await press(s, p.locator('form.process-editor button[value=save]').last(), 'the process after saving');
  assert.equal(pathOf(p), `/admin/processes/${KEY}`);
  assert.match(await text(p.locator('.flash')), /Saved as version 2/);
  const saved = await text(p.locator('#picture ol.timeline'));
  assert.match(saved, /5 CE team approves the user/);
  assert.match(saved, /SLA 48 hours/);
});
