// Shared helpers of the browser scenarios: the settings from the Go test
// (environment), a headless chromium, and small checks that throw.
import { chromium } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const base = process.env.BASE_URL.replace(/\/$/, '');
export const login = process.env.LOGIN;
export const password = process.env.PASSWORD;
const shots = process.env.SCREENSHOT_DIR;

export function check(ok, message) {
  if (!ok) throw new Error(`check failed: ${message}`);
}

// run opens a browser, hands a fresh page to the scenario and prints OK
// or the error with where the page was. Playwright gives every launch a
// fresh temporary profile, so nothing leaks between scenarios.
export async function run(name, scenario, contextOptions = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, acceptDownloads: true, ...contextOptions });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  try {
    await scenario({ page, context });
    console.log(`OK: ${name}`);
  } catch (err) {
    // Playwright colours its call log; the Go test's output is plain text.
    console.error(`FAIL: ${name}: ${String(err.stack || err).replace(/\x1b\[[0-9;]*m/g, '')}`);
    console.error(`page: ${page.url()}`);
    const text = await page.locator('main').innerText({ timeout: 1000 }).catch(() => '(no main)');
    console.error(`main text:\n${text.slice(0, 3000)}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

// heading waits for the page's h1 with this exact text.
export async function heading(page, text) {
  await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
}

export async function signIn(page, pw = password) {
  await page.getByLabel('Login', { exact: true }).fill(login);
  await page.getByLabel('Password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

// openSignedIn goes to an account page, signing in on the way.
export async function openSignedIn(page, path) {
  await page.goto(base + path);
  await heading(page, 'Sign in');
  await signIn(page);
  await page.waitForURL((u) => !u.pathname.endsWith('/account/signin'));
}

export async function nav(page, link, h1) {
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: link, exact: true }).click();
  await heading(page, h1);
}

export async function screenshot(page, file) {
  await page.screenshot({ path: join(shots, file), fullPage: true });
}

export async function downloaded(download) {
  return readFile(await download.path(), 'latin1');
}

// dav sends a DAV request from Node (not the browser) with Basic auth.
export async function dav(method, path, user, pw, body = '', headers = {}) {
  const res = await fetch(base + path, {
    method,
    body: body || undefined,
    headers: {
      Authorization: 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64'),
      'Content-Type': 'application/xml; charset=utf-8',
      ...headers,
    },
  });
  return { status: res.status, text: await res.text() };
}

export function whoAmI(user, pw) {
  return dav('PROPFIND', '/dav/', user, pw,
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>',
    { Depth: '0' });
}

// axe runs axe-core on the page as it is and throws on any violation of
// the WCAG 2.x A and AA rules and axe's best practices. It is evaluated
// through the DevTools protocol, which the pages' CSP does not govern.
// disable names rules to skip; the caller says why.
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function axe(page, disable = []) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async (off) => {
    const rules = Object.fromEntries(off.map((id) => [id, { enabled: false }]));
    const res = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      rules,
    });
    return res.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
  }, disable);
  check(violations.length === 0, `axe on ${page.url()}:\n${violations.join('\n')}`);
}
