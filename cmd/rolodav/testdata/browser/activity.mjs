// Activity page: a failed and then a successful sign-in, newest first;
// the clients the Go test signed in with (seedClients) by name, with what
// each sent on demand; times in the browser's zone (Europe/Berlin here),
// then in the zone chosen in the form; on a phone, rows as cards and no
// sideways scrolling.
import { check, run, heading, signIn, nav, base, axe, screenshot } from './lib.mjs';

const davx5 = 'DAVx5/4.5.3-ose (2025/07/14; dav4jvm; okhttp/4.12.0) Android/14';
const names = ['DAVx5 4.5 on Android 14', 'Contacts and Calendar on iOS 18', 'Contacts on macOS 15',
  'Thunderbird 140 on Windows', 'vdirsyncer 0.19', 'Evolution 3.54'];
const phone = { width: 390, height: 844 };

// times are the texts of the sign-ins' times.
async function times(page) {
  return page.locator('table.activity tbody th time').allInnerTexts();
}

// noSidewaysScroll checks that the page is no wider than the window.
async function noSidewaysScroll(page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  check(scroll <= width, `at ${width} px the page is ${scroll} px wide: it scrolls sideways`);
}

await run('activity', async ({ page }) => {
  await page.goto(base + '/account/activity');
  await signIn(page, 'not the password');
  await page.getByRole('alert').filter({ hasText: 'Wrong login or password.' }).waitFor();
  await signIn(page);
  await heading(page, 'Activity');
  await nav(page, 'Activity', 'Activity');

  const rows = page.getByRole('row');
  const whats = await rows.evaluateAll((trs) => trs.map((tr) => tr.innerText));
  const failed = whats.findIndex((t) => t.includes('Failed sign-in'));
  const ok = whats.findIndex((t) => t.includes('Signed in'));
  check(failed > 0, `no "Failed sign-in" row in:\n${whats.join('\n')}`);
  check(ok > 0 && ok < failed, `the sign-in is not above the failure (newest first):\n${whats.join('\n')}`);
  const row = rows.nth(failed);
  check(/\bfailed\b/.test(await row.getAttribute('class') || ''), 'the failed row lacks class "failed"');
  await row.getByRole('cell', { name: '127.0.0.1', exact: true }).waitFor();
  await row.getByRole('cell', { name: 'web page', exact: true }).waitFor();

  // Clients by name; what one sent, on demand, by keyboard.
  for (const name of names) {
    await page.locator('.client-name').getByText(name, { exact: true }).first().waitFor();
  }
  await page.locator('.client-name').getByText(/^Chrome \d+ on Linux$/).first().waitFor();
  const davRow = rows.filter({ has: page.locator('.client-name', { hasText: names[0] }) });
  const raw = davRow.getByText(davx5, { exact: true });
  check(!(await raw.isVisible()), 'the header DAVx5 sent shows before it is asked for');
  await davRow.getByText('Show what the device sent', { exact: true }).focus();
  await page.keyboard.press('Enter');
  await raw.waitFor();

  // Times in the browser's zone, named.
  let shown = await times(page);
  check(shown.length >= names.length && shown.every((t) => /^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d CES?T$/.test(t)),
    `times not in the browser's zone (Europe/Berlin), with its name:\n${shown.join('\n')}`);
  await axe(page);

  // A phone: rows as cards, each at most a third of the screen.
  await page.setViewportSize(phone);
  await noSidewaysScroll(page);
  const heights = await page.locator('table.activity tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height));
  const tallest = Math.max(...heights);
  check(tallest <= phone.height / 3, `a row is ${tallest} px tall on a ${phone.height} px phone, more than a third`);
  await page.locator('table.activity tbody td[data-label="Address"]').first().evaluate((td) => {
    const label = getComputedStyle(td, '::before').content;
    if (!label.includes('Address')) throw new Error(`the address cell is not labelled on a phone: ${label}`);
  });
  await axe(page);
  await screenshot(page, 'activity-phone.png');

  // The time zone form offers the browser's zone; a wrong name is
  // refused; a chosen zone is what the server writes times in.
  const zone = page.getByLabel('Time zone', { exact: true });
  check(await zone.inputValue() === 'Europe/Berlin', `the form offers ${await zone.inputValue()}, not the browser's zone`);
  await zone.fill('Mars/Olympus');
  await page.getByRole('button', { name: 'Save time zone', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: '“Mars/Olympus” is not a time zone' }).waitFor();
  await noSidewaysScroll(page);
  await page.getByLabel('Time zone', { exact: true }).fill('America/New_York');
  await page.getByRole('button', { name: 'Save time zone', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Times are now shown in America/New_York.' }).waitFor();
  shown = await times(page);
  check(shown.every((t) => / E[SD]T$/.test(t)), `times not in the chosen America/New_York:\n${shown.join('\n')}`);
  await noSidewaysScroll(page);
  await axe(page);
}, { timezoneId: 'Europe/Berlin' });
