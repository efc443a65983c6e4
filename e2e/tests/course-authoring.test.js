// The course writers' pages pass axe-core with zero violations, in the states the crawler of
// accessibility.test.js does not reach: the catalogue, the course form with its errors, a
// course with lessons that cannot be published yet (and the refused publish), the lesson
// form with a refused upload next to its field, the package import form with its error,
// and an import's report. The forms are plain HTML (multipart uploads, up/down buttons);
// axe-core runs inside the page, so JavaScript stays on for the checks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverAndBrowser } from '../support/fixture.js';
import { REPO } from '../support/server.js';
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

const media = (name) => readFileSync(join(REPO, 'crates/app/curriculum/intro-hmis/media', name));

test('a Lead writes a course, is told what keeps it from publishing, and imports a package', { timeout: 180_000 }, async () => {
  const { email } = login('Lead');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    await signIn(page, { email, password: DEMO_PASSWORD });
    let r = await page.goto('/courses');
    assert.equal(r.status(), 200);
    assert.equal(await page.locator('header nav a[href="/courses"]').getAttribute('aria-current'), 'page');
    await assertAccessible(page, 'the course catalogue');

    // The course form: refused with its errors, then created.
    await page.goto('/courses/new');
    await assertAccessible(page, 'the new-course form');
    await page.locator('#f-key').fill('Not A Key');
    await page.locator('#f-price').fill('ten');
    r = await clickAndWait(page, page.locator('main form button[type=submit]'));
    assert.equal(r.status(), 422);
    assert.equal(await page.locator('#f-title').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'the new-course form with its errors');
    await page.locator('#f-key').fill('intake-e2e');
    await page.locator('#f-title').fill('Intake, in the browser');
    await page.locator('#f-price').fill('25');
    await page.locator('#f-data_standards').selectOption('FY2026');
    await page.locator('#pre-all-intro-hmis').check();
    r = await clickAndWait(page, page.locator('main form button[type=submit]'));
    assert.equal(r.status(), 200);
    const course = pathOf(page);
    assert.match(course, /^\/courses\/\d+$/);
    await assertAccessible(page, 'a new course, without lessons');

    // A video lesson: a corrupt file is refused next to its field.
    await page.goto(`${course}/lessons/new?kind=video`);
    await assertAccessible(page, 'the new video lesson form');
    await page.locator('#f-key').fill('intake-video');
    await page.locator('#f-title').fill('Intake video');
    await page.locator('#f-transcript').fill('Welcome to intake.');
    const corrupt = Buffer.concat([media('welcome.webm').subarray(0, 64), Buffer.alloc(512, 0xff)]);
    await page.locator('#f-file').setInputFiles({ name: 'broken.webm', mimeType: 'video/webm', buffer: corrupt });
    r = await clickAndWait(page, page.locator('main form button[type=submit]'));
    assert.equal(r.status(), 422);
    assert.match(await page.locator('#f-file-error').innerText(), /could not be read/);
    await assertAccessible(page, 'the lesson form with a refused upload');

    // The real video, still without captions.
    await page.locator('#f-file').setInputFiles({ name: 'welcome.webm', mimeType: 'video/webm', buffer: media('welcome.webm') });
    r = await clickAndWait(page, page.locator('main form button[type=submit]'));
    assert.equal(r.status(), 200);
    assert.equal(pathOf(page), course);
    assert.match(await page.locator('#publish-problems').innerText(), /Lesson 1 ‘Intake video’: A video needs captions/);
    await assertAccessible(page, 'a course whose video has no captions');
    r = await clickAndWait(page, page.locator('form[action$="/publish"] button[type=submit]'));
    assert.equal(r.status(), 422);
    assert.match(await page.locator('.error-summary').innerText(), /needs captions/);
    await assertAccessible(page, 'the refused publish');

    // Captions added, a reading after it, moved up, then published.
    await clickAndWait(page, page.locator('main table a', { hasText: 'Intake video' }).first());
    assert.match(pathOf(page), /\/lessons\/\d+$/);
    await assertAccessible(page, 'the video lesson with its file');
    await page.locator('#f-captions').setInputFiles({ name: 'welcome.vtt', mimeType: 'text/vtt', buffer: media('welcome.vtt') });
    await clickAndWait(page, page.locator('main form button[type=submit]'));
    await page.goto(`${course}/lessons/new?kind=reading`);
    await page.locator('#f-key').fill('checklist');
    await page.locator('#f-title').fill('The intake checklist');
    await page.locator('#f-body').fill('Ask for **consent** first.');
    await clickAndWait(page, page.locator('main form button[type=submit]'));
    await clickAndWait(page, page.locator('main form[action$="/arrange"]').filter({ has: page.locator('input[value="up"]') }).first().locator('button'));
    assert.ok((await page.locator('main table').innerText()).indexOf('The intake checklist') < (await page.locator('main table').innerText()).indexOf('Intake video'), 'the reading moved up');
    r = await clickAndWait(page, page.locator('form[action$="/publish"] button[type=submit]'));
    assert.equal(r.status(), 200);
    assert.match(await page.locator('.flash').innerText(), /Version 1 is published/);
    await assertAccessible(page, 'a published course');

    // The package import: refused without a file, then a report.
    await page.goto('/courses/import');
    await assertAccessible(page, 'the import form');
    r = await clickAndWait(page, page.locator('main form button[type=submit]'));
    assert.equal(r.status(), 422);
    await assertAccessible(page, 'the import form with its error');
    const zip = await context.request.get(`${course}/package.zip`);
    assert.equal(zip.status(), 200);
    await page.locator('#f-package').setInputFiles({ name: 'intake.zip', mimeType: 'application/zip', buffer: await zip.body() });
    r = await clickAndWait(page, page.locator('main form button[type=submit]'));
    assert.equal(r.status(), 200);
    assert.match(await page.locator('main').innerText(), /Nothing changed/);
    await assertAccessible(page, 'an import report');
    assertNoProblems(problems);
  } finally {
    await context.close();
  }
});
