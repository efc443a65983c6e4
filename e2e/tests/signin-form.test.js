// The sign-in form as a keyboard and screen-reader user meets it: errors are summarised at
// the top and stated next to the field, what was typed is kept, and Tab reaches the email,
// password and button in that order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_PASSWORD, login } from '../support/demo.js';
import { newContext, clickAndWait, pathOf } from '../support/browser.js';

const env = serverAndBrowser();

/** What has keyboard focus, as "tag#id" or "tag(text)". */
const focused = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const tag = el.tagName.toLowerCase();
    return el.id ? `${tag}#${el.id}` : `${tag}(${(el.textContent || '').trim()})`;
  });

test('a wrong password shows an error summary and a message next to the field', { timeout: 90_000 }, async () => {
  const { email } = login('Trainee');
  const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
  try {
    await page.goto('/signin');
    assert.equal(await page.locator('.error-summary').count(), 0, 'no error summary before a submit');
    await page.locator('#f-email').fill(email);
    await page.locator('#f-password').fill(`${DEMO_PASSWORD}-wrong`);
    const r = await clickAndWait(page, page.locator('form[action="/signin"] button[type=submit]'));
    assert.equal(r.status(), 422);
    assert.equal(pathOf(page), '/signin');

    const summary = page.locator('.error-summary');
    assert.equal(await summary.getAttribute('role'), 'alert', 'the summary is announced');
    assert.match(await summary.locator('h2').innerText(), /There is a problem/);
    const link = summary.locator('a[href="#f-password"]');
    assert.equal(await link.count(), 1, 'the summary links to the password field');
    assert.match(await link.innerText(), /email or password is not right/);

    const message = page.locator('#f-password-error');
    assert.match(await message.innerText(), /email or password is not right/, 'the message is next to the field');
    const password = page.locator('#f-password');
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    assert.match(await password.getAttribute('aria-describedby'), /\bf-password-error\b/, 'the field is described by its message');
    assert.equal(await password.inputValue(), '', 'the password is not sent back');
    assert.equal(await page.locator('#f-email').inputValue(), email, 'the email address is kept');

    // Following the summary's link takes the reader to the field.
    await link.click();
    assert.equal(new URL(page.url()).hash, '#f-password');

    // An empty submit names both fields.
    await page.goto('/signin');
    const empty = await clickAndWait(page, page.locator('form[action="/signin"] button[type=submit]'));
    assert.equal(empty.status(), 422);
    assert.deepEqual(
      await page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
      ['#f-email', '#f-password'],
    );
    assert.match(await page.locator('#f-email-error').innerText(), /Enter your email address/);
    assert.match(await page.locator('#f-password-error').innerText(), /Enter your password/);
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, { csp: [], errors: [], foreign: [] });
});

test('Tab reaches the email, password and sign-in button in order, and Enter signs in', { timeout: 90_000 }, async () => {
  const { email } = login('Trainee');
  const { context, page } = await newContext(env.browser, env.server.baseURL);
  try {
    await page.goto('/signin');
    const order = [];
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused(page));
      if (order.at(-1).startsWith('button')) break;
    }
    assert.equal(order[0], 'a(Skip to main content)', `the skip link comes first: ${order.join(' → ')}`);
    const at = (what) => order.indexOf(what);
    assert.ok(at('input#f-email') > 0, `Tab reaches the email field: ${order.join(' → ')}`);
    assert.equal(at('input#f-password'), at('input#f-email') + 1, `password follows email: ${order.join(' → ')}`);
    assert.equal(order[at('input#f-password') + 1], 'button(Sign in)', `the button follows the password: ${order.join(' → ')}`);

    // The skip link moves focus to the main content.
    await page.goto('/signin');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    assert.equal(await focused(page), 'main#main', 'the skip link focuses <main>');

    // Keyboard only: type, Tab, type, Enter.
    await page.goto('/signin');
    await page.locator('#f-email').focus();
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEMO_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(pathOf(page), '/', `Enter in the password field signs in (at ${page.url()})`);
  } finally {
    await context.close();
  }
});
