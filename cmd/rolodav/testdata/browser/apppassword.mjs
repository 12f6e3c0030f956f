// App passwords: create one, reload the page that shows it (which creates
// nothing and shows it no more), use it over DAV, require app passwords
// for devices, revoke it (the question and the message name the device),
// and see it named on the activity page.
import { login, password, check, run, heading, nav, openSignedIn, whoAmI, axe } from './lib.mjs';

async function davStatus(pw) {
  return (await whoAmI(login, pw)).status;
}

await run('apppassword', async ({ page }) => {
  await openSignedIn(page, '/account/passwords');
  await heading(page, 'App passwords');
  await page.getByLabel('Device name', { exact: true }).fill('Test phone');
  await page.getByRole('button', { name: 'Create app password', exact: true }).click();
  await heading(page, 'App password created');
  const appPassword = (await page.locator('#new-app-password').innerText()).trim();
  check(appPassword.length >= 16, `app password ${JSON.stringify(appPassword)} looks too short`);
  // The copy button exists only where copying works: here, with JavaScript on localhost.
  await page.getByRole('button', { name: 'Copy', exact: true }).waitFor({ state: 'visible' });

  // A reload creates nothing and no longer shows the password: the list
  // says it was shown once.
  await page.reload();
  await heading(page, 'App passwords');
  await page.getByRole('status').filter({ hasText: 'The new app password was shown once and is not kept' }).waitFor();
  check(!(await page.content()).includes(appPassword), 'the reloaded page shows the password');
  const rows = await page.getByRole('row').filter({ hasText: 'Test phone' }).count();
  check(rows === 1, `${rows} app passwords named Test phone after the reload, want 1`);

  let got = await davStatus(appPassword);
  check(got === 207, `PROPFIND with the app password: ${got}, want 207`);
  got = await davStatus(password);
  check(got === 207, `PROPFIND with the account password: ${got}, want 207`);

  const require = page.getByLabel('Require app passwords for devices', { exact: true });
  check(!(await require.isChecked()), 'app passwords are required before ticking the box');
  await require.check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await heading(page, 'App passwords');
  check(await require.isChecked(), 'the box is not ticked after saving');
  got = await davStatus(password);
  check(got === 401, `PROPFIND with the account password while app passwords are required: ${got}, want 401`);
  got = await davStatus(appPassword);
  check(got === 207, `PROPFIND with the app password while required: ${got}, want 207`);

  // Revoke asks first, naming the device; the message after names it too.
  await page.getByRole('link', { name: 'Revoke Test phone', exact: true }).click();
  await heading(page, 'Revoke the app password of “Test phone”?');
  await page.getByText('The device using it will no longer connect.').waitFor();
  await axe(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await axe(page);
  await page.setViewportSize({ width: 1000, height: 800 });
  got = await davStatus(appPassword);
  check(got === 207, `PROPFIND with the app password while asked to revoke it: ${got}, want 207`);
  await page.getByRole('button', { name: 'Revoke', exact: true }).click();
  await heading(page, 'App passwords');
  await page.getByRole('status').filter({ hasText: 'Revoked the app password of “Test phone”.' }).waitFor();
  got = await davStatus(appPassword);
  check(got === 401, `PROPFIND with the revoked app password: ${got}, want 401`);

  await nav(page, 'Activity', 'Activity');
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'app password: Test phone', exact: true }) });
  await row.first().waitFor();
  await row.first().getByRole('cell', { name: 'device (DAV)', exact: true }).waitFor();
});
