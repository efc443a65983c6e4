// Access requests in a real browser, as the people who use them: an agency administrator
// fills in the request form (errors, then a new person, then someone named like a person
// Onramp already knows); the Lead works the queue (search, bulk approve, hold with a reason,
// resume, a message in the thread); and a request following the agency-checklist process
// reaches its user agreement, which the new person (after setting their password through the
// invitation from the outbox), the agency administrator and the executive director sign in
// turn, ending with a printable document whose hash check passes.
//
// axe-core (WCAG 2.0/2.1 A and AA) runs on every page state visited, and any Content Security
// Policy report or uncaught error in the console fails the test. The three tests share one
// server and run in order: the queue works the requests the form created.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_PASSWORD, login } from '../support/demo.js';
import { newContext, axe, formatViolations, clickAndWait, signIn, pathOf } from '../support/browser.js';

const env = serverAndBrowser();

const LEAD = login('Lead admin').email;
const AGENCY_ADMIN = login('Agency administrator (Harbor House)').email; // Tomas Reyes
const DIRECTOR = login('Executive director (Harbor House)').email; // Grace Lin

/** MFA keys of the accounts enrolled in this file, by email. */
const secrets = new Map();
/** One signed-in browser context per account, kept for the whole file (no second MFA code). */
const sessions = new Map();
/** What the tests created, for the tests after them. */
const made = {};

after(async () => {
  for (const s of sessions.values()) await s.context.close().catch(() => {});
});

/**
 * Checks the page as it is now: zero axe-core violations, and nothing reported about the
 * Content Security Policy and no uncaught error in any page of this session so far.
 */
async function check(s, what) {
  if (process.env.ONRAMP_E2E_VERBOSE) console.log(`  axe: ${what} (${s.page.url().replace(/^https?:\/\/[^/]+/, '')})`);
  const v = await axe(s.page);
  assert.equal(v.length, 0, `${what} (${s.page.url()}) has axe-core violations:\n${formatViolations(v)}`);
  assert.deepEqual(s.problems.csp, [], `Content Security Policy reports by ${what}`);
  assert.deepEqual(s.problems.errors, [], `uncaught page errors by ${what}`);
  assert.deepEqual(s.problems.foreign, [], `requests to other origins by ${what}`);
}

/** Opens a page, checks it, and returns the response. */
async function visit(s, path, what, status = 200) {
  const r = await s.page.goto(path);
  assert.equal(r.status(), status, `${what}: HTTP ${r.status()} at ${s.page.url()}`);
  await check(s, what);
  return r;
}

/** Clicks a submit button (or link), waits for the page it leads to, checks it. */
async function submit(s, locator, what, status = 200) {
  const r = await clickAndWait(s.page, locator);
  assert.equal(r?.status(), status, `${what}: HTTP ${r?.status()} at ${s.page.url()}: ${await mainText(s)}`);
  await check(s, what);
  return r;
}

const mainText = async (s) => (await s.page.locator('main').innerText()).replace(/\s+/g, ' ').slice(0, 600);
const flash = async (s) => (await s.page.locator('.flash').innerText()).trim();

/** The browser session of an account, signed in on first use (enrolling MFA if its role must). */
async function as(email, password = DEMO_PASSWORD) {
  if (sessions.has(email)) return sessions.get(email);
  const s = await newContext(env.browser, env.server.baseURL);
  sessions.set(email, s);
  await signIn(s.page, { email, password, secrets, onStep: (label) => check(s, `${label} (${email})`) });
  assert.equal(pathOf(s.page), '/', `${email} reaches the home page`);
  await check(s, `home page (${email})`);
  return s;
}

/** The numeric id in a /requests/{id} URL. */
function requestIdOf(page) {
  const m = new URL(page.url()).pathname.match(/^\/requests\/(\d+)$/);
  assert.ok(m, `expected a request page, at ${page.url()}`);
  return Number(m[1]);
}

/** A step of the tracker on a request page, found by its title or kind. */
const stepItem = (s, text) => s.page.locator('ol.tracker > li.step').filter({ hasText: text });
const stepStatus = async (s, text) => (await stepItem(s, text).locator('.step-head .badge').innerText()).trim();

/** Fills in the request form for one Harbor House person (the form must be open). */
async function fillRequest(s, { given, family, email, note }) {
  const p = s.page;
  await p.locator('#f-given_name').fill(given);
  await p.locator('#f-family_name').fill(family);
  await p.locator('#f-email').fill(email);
  await p.locator('#f-agency_id').selectOption({ label: 'Harbor House' });
  const levels = await p.locator('#f-access_level option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(levels.length > 0, 'the form offers access levels');
  await p.locator('#f-access_level').selectOption(levels[0]);
  await p.locator('#f-responsibilities input[type=checkbox]').first().check();
  await p.locator('#f-projects label', { hasText: 'Harbor House Emergency Shelter' }).click();
  assert.ok(await p.getByLabel(/Harbor House Emergency Shelter/).isChecked(), 'the project is ticked');
  if (note) await p.locator('#f-note').fill(note);
}

test('the request form: errors, a new person, and someone named like a known person', { timeout: 60_000 }, async () => {
  const ata = await as(AGENCY_ADMIN);
  const p = ata.page;

  await visit(ata, '/requests', "the agency's requests");
  await submit(ata, p.locator('main a.button', { hasText: 'Request HMIS access' }), 'the request form');
  assert.equal(pathOf(p), '/requests/new');

  // Submitted empty: back with a summary and a message next to each field.
  await submit(ata, p.locator('form[action="/requests/new"] button[type=submit]'), 'the request form submitted empty', 422);
  const summary = p.locator('.error-summary');
  assert.equal(await summary.getAttribute('role'), 'alert');
  const targets = await summary.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  for (const f of ['given_name', 'family_name', 'email', 'agency_id', 'access_level']) {
    assert.ok(targets.includes(`#f-${f}`), `the summary links to ${f}: ${targets.join(', ')}`);
    assert.match(await p.locator(`#f-${f}-error`).innerText(), /\S/, `a message next to ${f}`);
    assert.equal(await p.locator(`#f-${f}`).getAttribute('aria-invalid'), 'true', `${f} is marked invalid`);
    assert.match(await p.locator(`#f-${f}`).getAttribute('aria-describedby'), new RegExp(`\\bf-${f}-error\\b`));
  }
  for (const target of targets) assert.equal(await p.locator(target).count(), 1, `the summary's link ${target} leads to a field`);

  // Filled in: the request page, with the Lead review waiting.
  await fillRequest(ata, {
    given: 'Rosa',
    family: 'Delgado',
    email: 'rosa.delgado@harbor.example.org',
    note: 'Starts on the shelter night shift next Monday.',
  });
  await submit(ata, p.locator('form[action="/requests/new"] button[type=submit]'), 'a submitted request');
  made.rosa = requestIdOf(p);
  assert.match(await flash(ata), /request is submitted/i);
  assert.match(await p.locator('h1').innerText(), /HMIS access for Rosa Delgado/);
  const facts = await p.locator('dl.facts').innerText();
  assert.match(facts, /Harbor House Emergency Shelter/);
  assert.match(facts, /Starts on the shelter night shift/);
  const review = stepItem(ata, 'Lead review');
  assert.equal(await review.count(), 1, 'the tracker has a Lead review step');
  assert.equal(await stepStatus(ata, 'Lead review'), 'To do', 'the Lead review is open');
  assert.match(await p.locator('label[for=progress]').innerText(), /^0 of \d+ steps done$/);

  // Someone named like Sam Ortiz (a Harbor House trainee) with another address: asked first.
  await visit(ata, '/requests/new', 'the request form again');
  await fillRequest(ata, { given: 'Sam', family: 'Ortiz', email: 'sam.ortiz2@harbor.example.org' });
  await submit(ata, p.locator('form[action="/requests/new"] button[type=submit]'), 'the form asking whether this is a known person', 422);
  const choice = p.locator('#f-confirm_person');
  assert.match(await choice.locator('legend').innerText(), /someone already known/i);
  assert.match(await choice.innerText(), /Yes: Sam Ortiz \(trainee@harbor\.example\.org/);
  assert.equal(await p.locator('.error-summary a[href="#f-confirm_person"]').count(), 1);
  assert.equal(await p.locator('#f-given_name').inputValue(), 'Sam', 'what was typed is kept');
  assert.ok(await p.getByLabel(/Harbor House Emergency Shelter/).isChecked(), 'the project stays ticked');
  await p.getByLabel('No, a different person').check();
  await submit(ata, p.locator('form[action="/requests/new"] button[type=submit]'), 'the request for a different Sam Ortiz');
  made.sam = requestIdOf(p);
  assert.notEqual(made.sam, made.rosa);
  assert.match(await p.locator('dl.facts').innerText(), /sam\.ortiz2@harbor\.example\.org/);
  assert.match(await p.locator('dl.facts').innerText(), /New to the HMIS/);
});

test('the Lead queue: search, bulk approve, hold with a reason, resume, a message', { timeout: 60_000 }, async () => {
  assert.ok(made.rosa && made.sam, 'the request form test created two requests');
  const lead = await as(LEAD);
  const p = lead.page;

  await visit(lead, '/requests', 'the Lead queue');
  assert.match(await p.locator('h1').innerText(), /Access request queue/);
  const rows = p.locator('main table tbody tr');
  const listed = await rows.allInnerTexts();
  assert.ok(listed.some((t) => t.includes('Rosa Delgado')), `Rosa Delgado is in the queue: ${listed.join(' | ')}`);
  assert.ok(listed.some((t) => t.includes('sam.ortiz2@harbor.example.org')), 'the new Sam Ortiz is in the queue');

  // Search narrows the queue to one request.
  await p.locator('#q').fill('Delgado');
  await submit(lead, p.locator('form.filters button[type=submit]'), 'the queue filtered by a name');
  assert.equal(new URL(p.url()).searchParams.get('q'), 'Delgado');
  assert.equal(await rows.count(), 1, 'one request matches');
  assert.match(await rows.first().innerText(), /Rosa Delgado/);

  // Bulk: select it and approve its Lead review.
  await p.locator(`#sel-${made.rosa}`).check();
  await p.locator('#bulk-action').selectOption({ label: 'Approve the Lead review' });
  await submit(lead, p.locator('fieldset.bulk button[type=submit]'), 'the queue after a bulk action');
  assert.match(await flash(lead), /^1 of 1 requests updated\.$/);

  // The request: the review is done; hold it (a reason is needed), resume it.
  await visit(lead, `/requests/${made.rosa}`, 'the approved request');
  assert.equal(await stepStatus(lead, 'Lead review'), 'Done');
  const statusForm = p.locator(`form[action="/requests/${made.rosa}/status"]`);
  await statusForm.locator('#f-to').selectOption({ label: 'Put on hold' });
  await submit(lead, statusForm.locator('button[type=submit]'), 'putting on hold without a reason', 422);
  assert.match(await p.locator('#f-reason-error').innerText(), /Give a reason/);
  assert.equal(await p.locator('#f-reason').getAttribute('aria-invalid'), 'true');
  assert.match(await p.locator('#f-reason').getAttribute('aria-describedby'), /\bf-reason-error\b/);
  assert.equal(await p.locator('.error-summary a[href="#f-reason"]').count(), 1);
  await statusForm.locator('#f-to').selectOption({ label: 'Put on hold' });
  await p.locator('#f-reason').fill('Waiting for the signed confidentiality form');
  await submit(lead, statusForm.locator('button[type=submit]'), 'the request on hold');
  assert.match(await p.locator('dl.facts').innerText(), /Status\s*On hold: Waiting for the signed confidentiality form/);
  await statusForm.locator('#f-to').selectOption({ label: 'Resume' });
  await submit(lead, statusForm.locator('button[type=submit]'), 'the request resumed');
  assert.match(await p.locator('dl.facts').innerText(), /Status\s*In progress/);

  // The thread.
  await p.locator('#f-body').fill('Rosa, your training invitation is on its way.');
  await submit(lead, p.locator(`form[action="/requests/${made.rosa}/messages"] button[type=submit]`), 'the request with a message');
  assert.equal(new URL(p.url()).hash, '#thread');
  assert.match(await flash(lead), /Message sent/);
  const thread = await p.locator('ol.thread').innerText();
  assert.match(thread, /Rosa, your training invitation is on its way\./);
  assert.match(thread, /Lena Okafor/);

  // The other request still waits for its review.
  await visit(lead, `/requests/${made.sam}`, 'the other request');
  assert.equal(await stepStatus(lead, 'Lead review'), 'To do');
});

test('signing: the person, the agency administrator and the executive director sign the user agreement', { timeout: 90_000 }, async () => {
  const lead = await as(LEAD);
  const ata = await as(AGENCY_ADMIN);
  const person = { given: 'Jordan', family: 'Avery', email: 'jordan.avery@harbor.example.org', password: 'harbor-lights-7731' };

  // The Lead makes the agency-checklist process the default.
  await visit(lead, '/admin/processes', 'the processes');
  const row = lead.page.locator('main table tbody tr').filter({ has: lead.page.locator('code', { hasText: /^agency-checklist-then-account$/ }) });
  await submit(lead, row.locator('button[type=submit]'), 'the processes with a new default');
  assert.match(await row.innerText(), /Default/);

  // The agency administrator asks for access for a new person.
  await visit(ata, '/requests/new', 'the request form');
  await fillRequest(ata, person);
  await ata.page.getByLabel('No, new to the HMIS').check();
  await submit(ata, ata.page.locator('form[action="/requests/new"] button[type=submit]'), 'the request for Jordan Avery');
  const id = requestIdOf(ata.page);
  const requestPage = `/requests/${id}`;
  assert.match(await ata.page.locator('dl.facts').innerText(), /Agency-led training checklist/);
  const act = async (s, title, what) => {
    const form = stepItem(s, title).locator(`form[action="/requests/${id}/steps/${await stepKey(s, title)}"]`).filter({ has: s.page.locator('input[name=action][value=done]') });
    await submit(s, form.locator('button[type=submit]'), what);
    assert.equal(await stepStatus(s, title), 'Done', `${title}: done`);
  };
  assert.equal(await stepStatus(ata, 'Review the User Training Checklist'), 'To do');
  await act(ata, 'Review the User Training Checklist', 'the checklist reviewed');

  // The person's invitation, from the outbox: only the Lead can read it there.
  await visit(lead, '/admin/outbox', 'the outbox');
  const mail = lead.page.locator('main table tbody tr').filter({ hasText: person.email }).filter({ hasText: /Welcome/ });
  assert.equal(await mail.count(), 1, 'one welcome email to the person');
  await submit(lead, mail.locator('a'), 'the welcome email');
  const body = await lead.page.locator('pre.mail-body').first().innerText();
  const link = body.match(/https?:\/\/\S+\/invitation\/[A-Za-z0-9_-]+/);
  assert.ok(link, `the welcome email has an invitation link: ${body}`);
  assert.match(body, new RegExp(`/requests/${id}\\b`), 'and the link to the request');

  const me = await newContext(env.browser, env.server.baseURL);
  sessions.set(person.email, me);
  await visit(me, new URL(link[0]).pathname, 'the invitation');
  assert.match(await me.page.locator('main').innerText(), new RegExp(person.email.replace(/\./g, '\\.')));
  await me.page.locator('#f-password').fill(person.password);
  await me.page.locator('#f-confirm').fill(person.password);
  await submit(me, me.page.locator('main form button[type=submit]'), 'the password set');
  assert.equal(pathOf(me.page), '/signin');
  assert.match(await flash(me), /password is set/i);
  await me.page.locator('#f-email').fill(person.email);
  await me.page.locator('#f-password').fill(person.password);
  await submit(me, me.page.locator('form[action="/signin"] button[type=submit]'), "the person's home page");
  assert.equal(pathOf(me.page), '/');

  // The person's own step, then the training recorded as met, then the agency's confirmation.
  await visit(me, requestPage, 'the request, as the person');
  await act(me, 'Set up your learning account', 'the learning account set up');

  await visit(lead, requestPage, 'the request, as the Lead');
  const courses = 'Complete the required HMIS training courses';
  const met = stepItem(lead, courses).locator('form').filter({ has: lead.page.locator('input[name=action][value=met]') });
  await met.locator('input[name=reason]').fill('Completed the courses at the state HMIS in March');
  await submit(lead, met.locator('button[type=submit]'), 'the training recorded as met');
  assert.equal(await stepStatus(lead, courses), 'Met');
  assert.match(await stepItem(lead, courses).innerText(), /state HMIS in March/);

  await visit(ata, requestPage, 'the request, as the agency administrator');
  await act(ata, 'Confirm the required training is complete', 'the training confirmed');
  const agreement = 'Sign the HMIS user agreement';
  assert.equal(await stepStatus(ata, agreement), 'To do', 'the user agreement is open');
  assert.equal(await stepItem(ata, agreement).locator('a', { hasText: 'Read and sign' }).count(), 0, 'the person signs first');

  // The person signs: a wrong name first.
  await visit(me, requestPage, 'the request with the agreement open');
  await submit(me, stepItem(me, agreement).locator('a', { hasText: 'Read and sign' }), 'the signing page');
  const signPath = pathOf(me.page);
  assert.equal(signPath, `/requests/${id}/sign/user-agreement`);
  const text = await me.page.locator('.agreement-text').innerText();
  assert.ok(text.trim().length > 200, `the agreement text is shown: ${text}`);
  assert.match(await me.page.locator('#f-typed_name-hint').innerText(), /Jordan Avery/);
  const sign = async (s, typed, what, status = 200, tick = true) => {
    await s.page.locator('#f-typed_name').fill(typed);
    if (tick) await s.page.locator('#f-agree').check();
    return submit(s, s.page.locator(`form[action="${signPath}"] button[type=submit]`), what, status);
  };
  await sign(me, 'Jordan Smith', 'the signing page with a wrong name', 422);
  assert.match(await me.page.locator('#f-typed_name-error').innerText(), /\S/);
  assert.equal(await me.page.locator('#f-typed_name').getAttribute('aria-invalid'), 'true');
  assert.match(await me.page.locator('#f-typed_name').getAttribute('aria-describedby'), /\bf-typed_name-error\b/);
  assert.equal(await me.page.locator('.error-summary a[href="#f-typed_name"]').count(), 1);
  await sign(me, 'Jordan Avery', 'the agreement signed by the person');
  assert.match(await flash(me), /next signer/i);
  assert.match(await me.page.locator('main').innerText(), /Waiting for the agency administrator to sign/i);

  // Then the agency administrator, then the executive director.
  await visit(ata, requestPage, "the request at the agency administrator's turn");
  await submit(ata, stepItem(ata, agreement).locator('a', { hasText: 'Read and sign' }), 'the signing page for the agency administrator');
  await sign(ata, 'Tomas Reyes', 'the agreement signed by the agency administrator');
  assert.match(await flash(ata), /next signer/i);

  const director = await as(DIRECTOR);
  await visit(director, requestPage, "the request at the executive director's turn");
  await submit(director, stepItem(director, agreement).locator('a', { hasText: 'Read and sign' }), 'the signing page for the executive director');
  await sign(director, 'Grace Lin', 'the agreement signed by everyone');
  assert.match(await flash(director), /Everyone has now signed/);

  await visit(director, requestPage, 'the request with the agreement signed');
  assert.equal(await stepStatus(director, agreement), 'Done');

  // The printable document: three signatures, each on the stored text.
  await submit(director, stepItem(director, agreement).locator('a', { hasText: 'Printable agreement and signatures' }), 'the printable agreement');
  const block = director.page.locator('article.printable table.signature-block').first();
  const signed = await block.locator('tbody tr').allInnerTexts();
  assert.equal(signed.length, 3, `three signers: ${signed.join(' | ')}`);
  for (const [i, name] of ['Jordan Avery', 'Tomas Reyes', 'Grace Lin'].entries()) {
    assert.match(signed[i], new RegExp(`${name}[\\s\\S]*Matches the stored text`), `signature ${i + 1}: ${signed[i]}`);
  }
  const integrity = await director.page.locator('section.signatures').innerText();
  assert.match(integrity, /Intact\s*The stored text has the fingerprint recorded with every signature/);
  assert.doesNotMatch(integrity, /Not every signer has signed/);
  assert.match(await director.page.locator('code.hash').innerText(), /^[0-9a-f]{64}$/);
});

/** The key of a step (from its form or link on the request page), by its title. */
async function stepKey(s, title) {
  const action = await stepItem(s, title).locator('form[action*="/steps/"]').first().getAttribute('action');
  return action.split('/steps/')[1];
}
