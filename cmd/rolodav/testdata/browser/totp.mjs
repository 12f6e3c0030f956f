// Two-factor sign-in: turn it on with a code computed here from the secret
// read off the page, keep the emergency codes, make an app password, then
// sign in with the password and a code; a wrong code, a replayed code and
// an emergency code used twice are refused; DAV takes only the app
// password. Last, turn it off with an emergency code.
import { login, password, check, run, heading, nav, openSignedIn, signIn, screenshot, downloaded, whoAmI } from './lib.mjs';
import { stepOf, totp } from './otp.mjs';

// untilStep waits for step s to begin (at most 30 s from a code just used).
async function untilStep(s) {
  const wait = s * 30_000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait + 250));
}

async function davStatus(pw) {
  return (await whoAmI(login, pw)).status;
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await heading(page, 'Sign in');
}

async function passwordThenCode(page, code) {
  await signIn(page);
  await heading(page, 'Two-factor sign-in');
  await page.getByLabel('Code from your app', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function refused(page, text) {
  await page.getByRole('alert').filter({ hasText: text }).waitFor();
  await heading(page, 'Two-factor sign-in');
}

await run('totp', async ({ page }) => {
  await openSignedIn(page, '/account/security');
  await heading(page, 'Security');
  await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
  await heading(page, 'Set up two-factor sign-in');
  await page.getByRole('img', { name: 'QR code to scan with your authenticator app', exact: true }).waitFor();
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  check(/^[A-Z2-7]{32}$/.test(secret), `secret ${JSON.stringify(secret)} is not 160 bits of base32`);
  await screenshot(page, 'two-factor-setup.png');

  let used = stepOf(Date.now());
  await page.getByLabel('Code from your app', { exact: true }).fill(totp(secret, used));
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  await heading(page, 'Your emergency codes');
  const codes = (await page.locator('#emergency-codes li').allInnerTexts()).map((c) => c.trim());
  await screenshot(page, 'two-factor-codes.png');
  check(codes.length === 10 && codes.every((c) => /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/.test(c)), `emergency codes: ${codes}`);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the codes', exact: true }).click(),
  ]);
  const text = await downloaded(download);
  check(codes.every((c) => text.includes(c)), `the download lacks codes:\n${text}`);
  check(download.suggestedFilename() === 'rolodav-emergency-codes.txt', `download name ${download.suggestedFilename()}`);
  await page.getByRole('link', { name: 'create app passwords for your devices', exact: true }).waitFor();

  // Devices: the account password no longer, an app password yes.
  await nav(page, 'App passwords', 'App passwords');
  await page.getByText('Two-factor sign-in is on, so devices must use an app password').waitFor();
  await page.getByLabel('Device name', { exact: true }).fill('Phone');
  await page.getByRole('button', { name: 'Create app password', exact: true }).click();
  await heading(page, 'App password created');
  const appPassword = (await page.locator('#new-app-password').innerText()).trim();
  let got = await davStatus(password);
  check(got === 401, `PROPFIND with the account password and two-factor on: ${got}, want 401`);
  got = await davStatus(appPassword);
  check(got === 207, `PROPFIND with the app password and two-factor on: ${got}, want 207`);

  // Sign in: the password, then a code. A wrong one first.
  await signOut(page);
  await untilStep(used + 1);
  const now = stepOf(Date.now());
  const wrong = ['000000', '111111', '222222'].find((c) => ![now - 1, now, now + 1].some((s) => totp(secret, s) === c));
  await passwordThenCode(page, wrong);
  await refused(page, 'Wrong code.');
  await screenshot(page, 'two-factor-signin.png');
  used = stepOf(Date.now());
  const code = totp(secret, used);
  await page.getByLabel('Code from your app', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await heading(page, 'Connect your devices');

  // The same code again, within its window: refused.
  await signOut(page);
  await passwordThenCode(page, code);
  await refused(page, 'This code was already used; wait for the next one.');

  // An emergency code works once.
  await page.getByText('Use an emergency code instead', { exact: true }).click();
  await page.getByLabel('Emergency code', { exact: true }).fill(codes[0].toUpperCase());
  await page.getByRole('button', { name: 'Sign in with the emergency code', exact: true }).click();
  await heading(page, 'Connect your devices');
  await page.getByRole('status').filter({ hasText: 'You used an emergency code; 9 left.' }).waitFor();
  await signOut(page);
  await signIn(page);
  await heading(page, 'Two-factor sign-in');
  await page.getByText('Use an emergency code instead', { exact: true }).click();
  await page.getByLabel('Emergency code', { exact: true }).fill(codes[0]);
  await page.getByRole('button', { name: 'Sign in with the emergency code', exact: true }).click();
  await refused(page, 'Wrong code.');
  await page.getByText('Use an emergency code instead', { exact: true }).click();
  await page.getByLabel('Emergency code', { exact: true }).fill(codes[1]);
  await page.getByRole('button', { name: 'Sign in with the emergency code', exact: true }).click();
  await heading(page, 'Connect your devices');

  // Turning off needs a code: a used one is refused, an emergency code does it.
  await nav(page, 'Security', 'Security');
  const left = (await page.locator('#codes-left').innerText()).trim();
  check(left === '8', `emergency codes left: ${left}, want 8`);
  await page.getByLabel('Code from your app or an emergency code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Turn off two-factor sign-in', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'This code was already used' }).waitFor();
  await page.getByLabel('Code from your app or an emergency code', { exact: true }).fill(codes[2]);
  await page.getByRole('button', { name: 'Turn off two-factor sign-in', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Two-factor sign-in is off' }).waitFor();
  got = await davStatus(password);
  check(got === 207, `PROPFIND with the account password after turning off: ${got}, want 207`);
});
