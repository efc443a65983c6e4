// Debian's Chromium driven by playwright-core, axe-core checks, and the sign-in steps every
// test shares (including two-step sign-in enrolment with a computed TOTP code).

import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { totp } from './totp.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Headless Chromium, with nothing that would reach beyond this machine. */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh browser context (its own cookies, so its own session) that records, for every page
 * it opens: console messages about the Content Security Policy, uncaught page errors, and
 * requests to any origin other than the server's.
 */
export async function newContext(browser, baseURL, options = {}) {
  const context = await browser.newContext({ baseURL, ...options });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const problems = { csp: [], errors: [], foreign: [] };
  const origin = new URL(baseURL).origin;
  context.on('console', (msg) => {
    const text = msg.text();
    const where = msg.page()?.url() ?? '?';
    if (/content[ -]security[ -]policy/i.test(text)) problems.csp.push(`${where}: [${msg.type()}] ${text}`);
  });
  context.on('weberror', (e) => problems.errors.push(`${e.page()?.url() ?? '?'}: ${e.error().message}`));
  context.on('request', (r) => {
    const u = r.url();
    if (u.startsWith('data:') || u.startsWith('blob:') || u.startsWith('about:')) return;
    try {
      if (new URL(u).origin !== origin) problems.foreign.push(`${r.frame()?.url() ?? '?'} requested ${u}`);
    } catch {
      problems.foreign.push(`unparseable request URL ${u}`);
    }
  });
  const page = await context.newPage();
  return { context, page, problems };
}

/** Runs axe-core on the page as it is now; returns the WCAG 2.0/2.1 A and AA violations. */
export async function axe(page) {
  const result = await new AxeBuilder({ page }).withTags(AXE_TAGS).setLegacyMode(true).analyze();
  return result.violations;
}

/** A readable account of axe violations: rule, impact, and each element with what to fix. */
export function formatViolations(violations) {
  const lines = [];
  for (const v of violations) {
    lines.push(`  ${v.id} [${v.impact}] ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes) {
      const html = n.html.replace(/\s+/g, ' ').slice(0, 200);
      const summary = (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 300);
      lines.push(`    - ${n.target.join(' ')}: ${html}`);
      if (summary) lines.push(`      ${summary}`);
    }
  }
  return lines.join('\n');
}

/** Clicks something that submits a form or follows a link, and waits for the next page. */
export async function clickAndWait(page, locator) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  return response;
}

export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** Fills the sign-in form and submits it; returns the response of the page it leads to. */
export async function submitSignIn(page, email, password) {
  await page.goto('/signin');
  await page.locator('#f-email').fill(email);
  await page.locator('#f-password').fill(password);
  return clickAndWait(page, page.locator('form[action="/signin"] button[type=submit]'));
}

/** The last TOTP time step used per secret: Onramp accepts each step once. */
const lastStep = new Map();
const STEP_MS = 30_000;

/**
 * A code for `secret` that Onramp has not seen yet: the current step's, else the next one's
 * (one step of drift is accepted), else it waits for a fresh step.
 */
export async function unusedCode(secret) {
  let current = Math.floor(Date.now() / STEP_MS);
  const step = Math.max(current, (lastStep.get(secret) ?? -1) + 1);
  while (step > current + 1) {
    await new Promise((resolve) => setTimeout(resolve, (current + 1) * STEP_MS - Date.now() + 50));
    current = Math.floor(Date.now() / STEP_MS);
  }
  lastStep.set(secret, step);
  return totp(secret, step * STEP_MS);
}

/**
 * On the two-step sign-in set-up page: reads the key, enters the current code, and returns
 * { secret, codes } with the recovery codes shown afterwards (the page is left on them).
 */
export async function enrolMfa(page) {
  const secret = (await page.locator('code.secret').textContent()).trim();
  const now = Date.now();
  await page.locator('#f-code').fill(totp(secret, now));
  lastStep.set(secret, Math.floor(now / STEP_MS));
  const response = await clickAndWait(page, page.locator('form[action="/account/mfa"] button[type=submit]'));
  const codes = (await page.locator('ul.codes code').allTextContents()).map((c) => c.trim());
  if (codes.length === 0) {
    throw new Error(`MFA enrolment did not show recovery codes (HTTP ${response?.status()} at ${page.url()}): ${await page.locator('main').innerText()}`);
  }
  return { secret, codes };
}

/** On the "enter your authentication code" page: enters a code for `secret` not used yet. */
export async function passMfa(page, secret) {
  await page.locator('#f-code').fill(await unusedCode(secret));
  return clickAndWait(page, page.locator('form[action="/signin/mfa"] button[type=submit]'));
}

/**
 * Signs in and walks through whatever the account owes: MFA enrolment (the key is kept in
 * `secrets` by email, for the next sign-in on the same server) or the MFA step. Calls
 * `onStep(label)` on each intermediate page, e.g. to run axe on it. Ends on the home page.
 */
export async function signIn(page, { email, password, secrets = new Map(), onStep = async () => {} }) {
  const response = await submitSignIn(page, email, password);
  if (pathOf(page) === '/signin') {
    throw new Error(`sign-in as ${email} failed (HTTP ${response?.status()}): ${await page.locator('main').innerText()}`);
  }
  for (let i = 0; i < 5; i++) {
    const path = pathOf(page);
    if (path === '/account/mfa') {
      await onStep('two-step sign-in set-up (required)');
      const { secret } = await enrolMfa(page);
      secrets.set(email, secret);
      await onStep('recovery codes');
      await clickAndWait(page, page.getByRole('link', { name: 'Continue' }));
    } else if (path === '/signin/mfa') {
      const secret = secrets.get(email);
      if (!secret) throw new Error(`${email} is asked for an MFA code but enrolled outside this test`);
      await onStep('authentication code');
      await passMfa(page, secret);
    } else if (path === '/account/password') {
      throw new Error(`${email} is asked to change the issued password: the demo accounts should not be`);
    } else {
      return;
    }
  }
  throw new Error(`sign-in as ${email} did not settle; still at ${page.url()}`);
}
