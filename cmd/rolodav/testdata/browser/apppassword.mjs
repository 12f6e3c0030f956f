// App passwords: create one, use it over DAV, require app passwords for
// devices, revoke it, and see it named on the activity page.
import { login, password, check, run, heading, nav, openSignedIn, whoAmI } from './lib.mjs';

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

  let got = await davStatus(appPassword);
  check(got === 207, `PROPFIND with the app password: ${got}, want 207`);
  got = await davStatus(password);
  check(got === 207, `PROPFIND with the account password: ${got}, want 207`);

  await page.getByRole('link', { name: 'Back to app passwords', exact: true }).click();
  await heading(page, 'App passwords');
  await page.getByRole('row').filter({ hasText: 'Test phone' }).waitFor();
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

  await page.getByRole('button', { name: 'Revoke Test phone', exact: true }).click();
  await heading(page, 'App passwords');
  got = await davStatus(appPassword);
  check(got === 401, `PROPFIND with the revoked app password: ${got}, want 401`);

  await nav(page, 'Activity', 'Activity');
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'app password: Test phone', exact: true }) });
  await row.first().waitFor();
  await row.first().getByRole('cell', { name: 'device (DAV)', exact: true }).waitFor();
});
