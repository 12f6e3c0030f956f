// The pages work without JavaScript: sign in, create an address book, make
// an app password (its copy button stays hidden), review duplicates' list.
import { check, run, heading, nav, openSignedIn } from './lib.mjs';

await run('nojs', async ({ page }) => {
  await openSignedIn(page, '/account/collections');
  await heading(page, 'Address books and calendars');
  await page.getByLabel('Name', { exact: true }).fill('Work people');
  await page.getByLabel('Kind', { exact: true }).selectOption({ label: 'Address book' });
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('status').waitFor();
  await page.getByRole('rowheader').filter({ hasText: 'Work people' }).waitFor();

  await nav(page, 'App passwords', 'App passwords');
  await page.getByLabel('Device name', { exact: true }).fill('Laptop');
  await page.getByRole('button', { name: 'Create app password', exact: true }).click();
  await heading(page, 'App password created');
  check((await page.locator('#new-app-password').innerText()).trim().length >= 16, 'no app password shown');
  check(!(await page.getByRole('button', { name: 'Copy' }).isVisible()), 'the copy button shows without JavaScript');

  await nav(page, 'Duplicates', 'Duplicates');
  await page.getByRole('link', { name: /Work people/ }).click();
  await heading(page, 'Duplicates in Work people');
}, { javaScriptEnabled: false });
