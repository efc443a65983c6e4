// A trainee takes the HMIS Fundamentals quiz in Chromium: the answer picked is saved by the
// page's script and is still there after a reload; submitting half the quiz fails it, with
// the right answers shown (the quiz's review policy is "always") and emailed; the retake
// passes and the plan shows the quiz complete. Answered faster than the questions can be
// read, the retake is flagged, and the Lead clears the flag with a note. The Lead's quiz
// pages (quizzes, settings, item analysis, question bank, an import's report) pass axe-core.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_PASSWORD, login } from '../support/demo.js';
import { newContext, axe, formatViolations, clickAndWait, signIn, pathOf } from '../support/browser.js';
import { answerAll, answerQuestion } from '../support/quiz.js';

const env = serverAndBrowser();
const TRAINEE = login('Trainee (Harbor House)').email;
const LEAD = login('Lead admin').email;
const secrets = new Map();

async function assertAccessible(page, what) {
  const violations = await axe(page);
  assert.equal(violations.length, 0, `${what}:\n${formatViolations(violations)}`);
}

async function visit(page, path, what) {
  const r = await page.goto(path);
  assert.equal(r.status(), 200, `${what}: ${await page.locator('main').innerText()}`);
  await assertAccessible(page, what);
}

function assertClean(problems) {
  assert.deepEqual(problems.csp, [], 'no Content Security Policy violations');
  assert.deepEqual(problems.errors, [], 'no page errors');
  assert.deepEqual(problems.foreign, [], 'no requests to other origins');
}

test('a trainee fails the quiz, sees and is emailed the right answers, retakes it and passes', { timeout: 180_000 }, async () => {
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  const lead = await newContext(env.browser, env.server.baseURL);
  try {
    await signIn(page, { email: TRAINEE, password: DEMO_PASSWORD });
    await visit(page, '/training', 'the training plan');
    const link = page.locator('main a[href="/training/quizzes/hmis-fundamentals"]');
    assert.ok(await link.count(), 'the plan links to the quiz');
    await clickAndWait(page, link.first());
    await assertAccessible(page, 'the quiz overview');
    assert.match(await page.locator('main').innerText(), /Open book/);

    await clickAndWait(page, page.getByRole('button', { name: 'Start the quiz' }));
    assert.match(pathOf(page), /^\/training\/attempts\/\d+$/);
    await assertAccessible(page, 'an attempt');
    const attempt = pathOf(page);
    const questions = page.locator('fieldset.question');
    assert.equal(await questions.count(), 9, 'nine questions, three from each category');

    // One answer, saved by the page's script as it is picked.
    const first = questions.nth(0);
    const firstId = await first.getAttribute('id');
    await answerQuestion(first);
    await page.waitForFunction(() => /Answers saved at/.test(document.getElementById('quiz-save-status').textContent), null, { timeout: 10_000 });
    const picked = async () => page.locator(`#${firstId}`).evaluate((fs) => [...fs.querySelectorAll('input, select')]
      .map((i) => (i.type === 'radio' || i.type === 'checkbox' ? (i.checked ? i.value : '') : i.value)).join('|'));
    const before = await picked();
    await page.reload();
    assert.equal(await picked(), before, 'the saved answer is there after a reload');

    // Submitted with one answer of nine: not passed, and the right answers are shown.
    await clickAndWait(page, page.getByRole('button', { name: 'Submit for grading' }));
    assert.equal(pathOf(page), `${attempt}/result`);
    await assertAccessible(page, 'a failed result');
    assert.match(await page.locator('#quiz-outcome').innerText(), /Not passed/);
    assert.ok(await page.locator('.right-answer').count() >= 8, 'the right answers are shown');
    assert.match(await page.locator('#retake-note').innerText(), /retake/i);

    // Sending the attempt again changes nothing: it is submitted once.
    const again = await page.evaluate(async (url) => {
      const csrf = document.querySelector('input[name=_csrf]').value;
      const r = await fetch(url, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ _csrf: csrf, q1: '0' }).toString(),
      });
      return { status: r.status, body: await r.json() };
    }, `${attempt}/save`);
    assert.equal(again.status, 409, `a submitted attempt takes no answers: ${JSON.stringify(again.body)}`);

    // The email the trainee got, read in the Lead's outbox.
    await signIn(lead.page, { email: LEAD, password: DEMO_PASSWORD, secrets });
    await visit(lead.page, '/admin/outbox', 'the outbox');
    const mail = lead.page.locator('main table tbody tr').filter({ hasText: TRAINEE }).filter({ hasText: /HMIS Fundamentals quiz: you did not pass/ });
    assert.equal(await mail.count(), 1, 'one result email to the trainee');
    await clickAndWait(lead.page, mail.locator('a').first());
    const body = await lead.page.locator('pre.mail-body').first().innerText();
    assert.equal((body.match(/The right answer: /g) ?? []).length, 8, `the email carries the right answers to the eight missed: ${body}`);
    assert.match(body, /retake/i);

    // The retake, answered from what the trainee learned (and faster than anyone reads).
    await clickAndWait(page, page.getByRole('button', { name: 'Retake the quiz' }));
    const retake = pathOf(page);
    assert.notEqual(retake, attempt);
    await answerAll(page);
    await clickAndWait(page, page.getByRole('button', { name: 'Submit for grading' }));
    assert.match(await page.locator('#quiz-outcome').innerText(), /Passed/);
    await assertAccessible(page, 'a passed result');
    await visit(page, '/training', 'the plan with the quiz passed');
    const item = page.locator('li', { has: page.locator('a[href="/training/quizzes/hmis-fundamentals"]') });
    assert.match(await item.first().innerText(), /Complete/, 'the plan shows the quiz complete');
    assertClean(problems);

    // The Lead looks into the fast retake and clears its flag with a note.
    await visit(lead.page, '/quiz-reviews', 'the quiz reviews');
    // Both attempts came in faster than nine questions can be read.
    assert.equal(await lead.page.locator('table[aria-labelledby=too-fast] tbody tr').count(), 2);
    const flagged = lead.page.locator(`table[aria-labelledby=too-fast] a[href="/quiz-reviews/${retake.split('/').pop()}"]`);
    assert.equal(await flagged.count(), 1, 'the fast retake waits for the Lead');
    await clickAndWait(lead.page, flagged.first());
    await assertAccessible(lead.page, 'an attempt under review');
    await clickAndWait(lead.page, lead.page.getByRole('button', { name: 'Clear the flag' }));
    assert.equal(lead.page.url().endsWith('/clear'), true);
    assert.match(await lead.page.locator('.error-summary').innerText(), /Say what you found/);
    await assertAccessible(lead.page, 'the flag form refused');
    await lead.page.locator('#f-note').fill('Spoke with Sam: he had the course notes open, as the quiz allows.');
    await clickAndWait(lead.page, lead.page.getByRole('button', { name: 'Clear the flag' }));
    assert.match(await lead.page.locator('#flag').innerText(), /Flag cleared/);
    assertClean(lead.problems);
  } finally {
    await context.close();
    await lead.context.close();
  }
});

test("the Lead's quiz pages: quizzes, settings, item analysis, the bank and an import's report", { timeout: 120_000 }, async () => {
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    await signIn(page, { email: LEAD, password: DEMO_PASSWORD, secrets });
    await visit(page, '/quizzes', 'the quizzes');
    const settings = page.locator('main table a', { hasText: 'HMIS Fundamentals quiz' }).first();
    await clickAndWait(page, settings);
    await assertAccessible(page, 'a quiz\'s settings');
    const quiz = pathOf(page);
    await page.locator('#f-pass_percent').fill('120');
    await clickAndWait(page, page.getByRole('button', { name: /Save/ }));
    assert.match(await page.locator('.error-summary').innerText(), /pass mark/i);
    await assertAccessible(page, 'the settings refused');
    await visit(page, `${quiz}/statistics`, 'the item analysis');
    await visit(page, '/questions', 'the question bank');
    assert.match(await page.locator('main').innerText(), /FUN-01/);

    await visit(page, '/questions/import', 'the import form');
    const dir = mkdtempSync(join(tmpdir(), 'onramp-gift-'));
    const file = join(dir, 'questions.gift');
    writeFileSync(file, [
      '// [id:E2E-01]',
      '::Good::Onramp imports GIFT files. {T}',
      '',
      '::Bad::A question whose answers are never closed {=yes ~no',
      '',
    ].join('\n'));
    await page.locator('#f-file').setInputFiles(file);
    await clickAndWait(page, page.getByRole('button', { name: 'Import' }));
    await assertAccessible(page, 'the import report');
    const report = await page.locator('main').innerText();
    assert.match(report, /Added/);
    assert.match(report, /Rejected/);
    assertClean(problems);
  } finally {
    await context.close();
  }
});
