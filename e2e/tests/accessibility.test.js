// Every page each demo role can reach passes axe-core (WCAG 2.0/2.1 A and AA) with zero
// violations, breaks no Content Security Policy rule, and fetches nothing from elsewhere.
//
// Pages are discovered, not listed: each role signs in, and the crawler follows every
// same-origin link from the home page, the navigation and the account pages, then the links
// on those pages (list → item → its edit form, "New …" buttons, filters, pagers). Pages built
// from one template are visited at most PER_PATTERN times per role: the items of a list
// (links in a table: /admin/agencies/1, /admin/email-templates/welcome) and URLs that differ
// only in numbers or query values. Which item is sampled differs from role to role. Every
// "…/new" form is also submitted empty, to check it re-rendered with its errors. Anonymous
// pages and error pages are checked too.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { serverAndBrowser } from '../support/fixture.js';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../support/demo.js';
import { newContext, axe, formatViolations, clickAndWait, signIn } from '../support/browser.js';

/** Links followed from the start pages: 1 = the pages they link to, 2 = one more hop. */
const MAX_DEPTH = 2;
/** Pages visited per role for one URL shape (list items, numbers and query values ignored). */
const PER_PATTERN = 1;
/** Not pages, or not to be followed by a crawler. */
const SKIP = [/^\/static\//, /^\/api\//, /^\/(healthz|readyz|metrics)$/, /sign-?out|log-?out/i];
/** Start pages for every signed-in role, besides the links in the navigation. */
const ACCOUNT_PAGES = ['/account', '/account/mfa', '/account/password'];

const env = serverAndBrowser();

/** The shape of a URL: numbers → :id, the last segment of a list item's link → :item. */
function urlPattern(u, listItem) {
  const segments = u.pathname.split('/').map((s) => (/^\d+$/.test(s) ? ':id' : s));
  if (listItem && segments.length > 2) segments[segments.length - 1] = ':item';
  const path = segments.join('/');
  const keys = [...new Set(u.searchParams.keys())].sort();
  return keys.length ? `${path}?${keys.join('&')}` : path;
}

/** A stable pseudo-random order that differs per role, so roles sample different items. */
function shuffled(items, seed) {
  const key = (x) => createHash('sha1').update(`${seed}|${x.url.href}`).digest('hex');
  return items.map((x) => [key(x), x]).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, x]) => x);
}

/** Collects what went wrong on a role's pages, to report all of it at once. */
class Findings {
  constructor(label) {
    this.label = label;
    this.axe = [];
    this.broken = [];
    this.other = [];
    this.checked = [];
  }
  async check(page, what, response) {
    const url = page.url().replace(/^https?:\/\/[^/]+/, '');
    const status = response?.status();
    this.checked.push(`${url}${status ? ` (${status})` : ''} ${what ? `— ${what}` : ''}`.trim());
    const csp = response?.headers()['content-security-policy'];
    if (response && !csp) this.other.push(`${url}: no Content-Security-Policy header`);
    const violations = await axe(page);
    if (violations.length) this.axe.push(`${url}${what ? ` (${what})` : ''}:\n${formatViolations(violations)}`);
  }
  report(problems) {
    const parts = [];
    if (this.axe.length) parts.push(`axe-core violations on ${this.axe.length} page(s):\n${this.axe.join('\n')}`);
    if (this.broken.length) parts.push(`links that lead nowhere good:\n  ${this.broken.join('\n  ')}`);
    if (problems.csp.length) parts.push(`Content Security Policy violations:\n  ${problems.csp.join('\n  ')}`);
    if (problems.errors.length) parts.push(`uncaught page errors:\n  ${problems.errors.join('\n  ')}`);
    if (problems.foreign.length) parts.push(`requests to other origins:\n  ${problems.foreign.join('\n  ')}`);
    if (this.other.length) parts.push(`other problems:\n  ${this.other.join('\n  ')}`);
    return parts.length ? `${this.label}: ${parts.join('\n')}\n(pages checked: ${this.checked.length})` : '';
  }
}

/** Visits the seeds and the links found on them, up to MAX_DEPTH, checking every page. */
async function crawl(page, context, base, seeds, findings) {
  const origin = new URL(base).origin;
  const seen = new Set();
  const perPattern = new Map();
  let frontier = seeds.map((s) => ({ url: new URL(s, base), from: '(start)', listItem: false }));
  const visitedNew = [];
  for (let depth = 0; depth <= MAX_DEPTH && frontier.length; depth++) {
    const next = [];
    for (const { url, from, listItem } of shuffled(frontier, findings.label)) {
      url.hash = '';
      const key = url.href;
      if (seen.has(key)) continue;
      seen.add(key);
      if (url.origin !== origin || SKIP.some((re) => re.test(url.pathname))) continue;
      const pat = urlPattern(url, listItem);
      const n = perPattern.get(pat) ?? 0;
      if (n >= PER_PATTERN) continue;
      perPattern.set(pat, n + 1);

      const rel = url.pathname + url.search;
      if (/\.[a-z0-9]+$/i.test(url.pathname)) {
        // A file (CSV export…): it must download, not be a page to check.
        const r = await context.request.get(url.href, { maxRedirects: 0 });
        if (r.status() >= 400) findings.broken.push(`${rel} (linked from ${from}): HTTP ${r.status()}`);
        findings.checked.push(`${rel} (${r.status()}, ${r.headers()['content-type']}) — file, not checked by axe`);
        continue;
      }
      const response = await page.goto(url.href);
      const status = response?.status() ?? 0;
      if (status >= 400) findings.broken.push(`${rel} (linked from ${from}): HTTP ${status}`);
      const type = response?.headers()['content-type'] ?? '';
      if (!type.startsWith('text/html')) {
        findings.checked.push(`${rel} (${status}, ${type}) — not HTML`);
        continue;
      }
      await findings.check(page, '', response);
      const landed = new URL(page.url());
      if (landed.pathname.endsWith('/new') && status < 400) visitedNew.push(landed.href);
      const links = await page.$$eval('a[href]', (as) => as.map((a) => [a.href, !!a.closest('table')]));
      for (const [href, listItem] of links) {
        let u;
        try { u = new URL(href); } catch { continue; }
        next.push({ url: u, from: rel, listItem });
      }
    }
    frontier = next;
  }
  return visitedNew;
}

/** "…/new" forms already submitted empty, by any role: one check per form is enough. */
const submittedEmpty = new Set();

/** Submits a "new …" form with its text fields empty: it must come back with its errors. */
async function submitEmpty(page, href, findings) {
  const path = new URL(href).pathname;
  if (submittedEmpty.has(path)) return;
  const response = await page.goto(href);
  const form = page.locator('main form[method="post"]').filter({ has: page.locator('button[type=submit]:enabled') }).last();
  if ((await form.count()) === 0 || submittedEmpty.has(path)) return;
  submittedEmpty.add(path);
  for (const input of await form.locator('input[type=text], input[type=email], input[type=date], input[type=number], input[type=search], input:not([type]), textarea').all()) {
    if (await input.isEditable()) await input.fill('');
  }
  const after = await clickAndWait(page, form.locator('button[type=submit]').first());
  const rel = path;
  if (after?.status() !== 422 || (await page.locator('.error-summary').count()) === 0) {
    findings.other.push(`${rel}: submitted empty, expected it back with an error summary (HTTP 422), got HTTP ${after?.status()} at ${page.url()}`);
    return;
  }
  await findings.check(page, 'submitted empty, with errors', after ?? response);
}

// Two roles at a time: the server, Chromium and axe share two cores.
describe('every page passes axe-core', { concurrency: 2 }, () => {
  test('control: axe-core reports violations planted in a real page', { timeout: 60_000 }, async () => {
    const { context, page } = await newContext(env.browser, env.server.baseURL);
    try {
      await page.goto('/signin');
      await page.evaluate(() => {
        const img = document.createElement('img');
        img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
        document.querySelector('main').append(img, document.createElement('input'));
      });
      const ids = (await axe(page)).map((v) => v.id);
      assert.ok(ids.includes('image-alt'), `an image without alt text is reported: ${ids.join(', ')}`);
      assert.ok(ids.includes('label'), `an input without a label is reported: ${ids.join(', ')}`);
    } finally {
      await context.close();
    }
  });

  test('anonymous pages: sign-in, password reset, errors', { timeout: 120_000 }, async () => {
    const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
    const f = new Findings('anonymous');
    try {
      const visit = async (path, what, wantStatus) => {
        const r = await page.goto(path);
        if (wantStatus && r.status() !== wantStatus) f.other.push(`${path}: HTTP ${r.status()}, expected ${wantStatus}`);
        await f.check(page, what, r);
      };
      await visit('/signin', 'sign-in form', 200);
      await visit('/password-reset', 'password reset request', 200);
      await visit('/no-such-page', 'not found', 404);
      await visit('/password-reset/not-a-real-token', 'reset link that is not valid');
      await visit('/invitation/not-a-real-token', 'invitation link that is not valid');
      await visit('/admin/agencies', 'signed-out visit to a signed-in page');

      // The sign-in form with errors: empty, then a wrong password for an unknown address.
      await page.goto('/signin');
      let r = await clickAndWait(page, page.locator('form[action="/signin"] button[type=submit]'));
      await f.check(page, 'sign-in submitted empty', r);
      await page.locator('#f-email').fill('nobody@example.org');
      await page.locator('#f-password').fill('not the password');
      r = await clickAndWait(page, page.locator('form[action="/signin"] button[type=submit]'));
      await f.check(page, 'sign-in with a wrong password', r);

      // The reset request with errors, then sent.
      await page.goto('/password-reset');
      r = await clickAndWait(page, page.locator('form[action="/password-reset"] button[type=submit]'));
      await f.check(page, 'password reset submitted empty', r);
      await page.locator('#f-email').fill('nobody@example.org');
      r = await clickAndWait(page, page.locator('form[action="/password-reset"] button[type=submit]'));
      await f.check(page, 'password reset sent', r);
    } finally {
      await context.close();
    }
    const report = f.report(problems);
    if (report) assert.fail(report);
  });

  for (const { role, email } of DEMO_LOGINS) {
    test(`signed in as ${role} (${email})`, { timeout: 240_000 }, async () => {
      const { context, page, problems } = await newContext(env.browser, env.server.baseURL);
      const f = new Findings(`${role} <${email}>`);
      try {
        await signIn(page, {
          email,
          password: DEMO_PASSWORD,
          onStep: async (label) => f.check(page, label, null),
        });
        const nav = await page.$$eval('header nav a[href]', (as) => as.map((a) => a.getAttribute('href')));
        assert.ok(nav.length > 0, `${role}: the home page has no navigation links`);
        const seeds = ['/', ...nav, ...ACCOUNT_PAGES];
        const newForms = await crawl(page, context, env.server.baseURL, seeds, f);
        for (const href of newForms) await submitEmpty(page, href, f);

        const r = await page.goto('/no-such-page');
        if (r.status() !== 404) f.other.push(`/no-such-page: HTTP ${r.status()}, expected 404`);
        await f.check(page, 'not found, signed in', r);
      } finally {
        await context.close();
      }
      const report = f.report(problems);
      if (report) assert.fail(report);
      if (process.env.ONRAMP_E2E_VERBOSE) console.log(`${role}: ${f.checked.length} pages checked\n  ${f.checked.join('\n  ')}`);
    });
  }
});
