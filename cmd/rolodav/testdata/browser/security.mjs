// The security page: without a mail relay it says no mail is sent; the
// password is changed there (a wrong current password and a mistyped
// repetition are refused), which signs out another browser and changes
// what DAV takes; "Sign out everywhere else" signs out the other again.
import { login, password, check, run, heading, openSignedIn, whoAmI } from './lib.mjs';

const newPassword = 'a brand new browser password';

await run('security', async ({ page, context }) => {
  await openSignedIn(page, '/account/security');
  await heading(page, 'Security');
  check(await page.getByText('This server sends no mail').isVisible(), 'no word that mails are not sent');

  // Another browser, signed in too.
  const other = await (await context.browser().newContext()).newPage();
  const otherSignIn = async (pw) => {
    await other.goto(page.url().replace(/\/account\/.*$/, '/account/devices'));
    await heading(other, 'Sign in');
    await other.getByLabel('Login', { exact: true }).fill(login);
    await other.getByLabel('Password', { exact: true }).fill(pw);
    await other.getByRole('button', { name: 'Sign in', exact: true }).click();
    await heading(other, 'Connect your devices');
  };
  await otherSignIn(password);

  await page.getByRole('link', { name: 'Change your password' }).click();
  await heading(page, 'Change password');
  const change = async (current, next, again) => {
    await page.getByLabel('Current password', { exact: true }).fill(current);
    await page.getByLabel('New password', { exact: true }).fill(next);
    await page.getByLabel('New password again', { exact: true }).fill(again);
    await page.getByRole('button', { name: 'Change password', exact: true }).click();
  };
  await change('not my password', newPassword, newPassword);
  check((await page.getByRole('alert').innerText()).includes('current password is not right'), 'a wrong current password was not refused');
  await change(password, newPassword, newPassword + 'x');
  check((await page.getByRole('alert').innerText()).includes('differ'), 'a mistyped repetition was not refused');
  await change(password, newPassword, newPassword);
  check((await page.getByRole('status').innerText()).includes('Password changed'), 'no word that the password changed');

  // The other browser was signed out; DAV takes the new password only.
  await other.reload();
  await heading(other, 'Sign in');
  check((await whoAmI(login, password)).status === 401, 'DAV still takes the old password');
  check((await whoAmI(login, newPassword)).status === 207, 'DAV refuses the new password');

  // Signed in again there, then signed out from here.
  await otherSignIn(newPassword);
  await page.goto(page.url().replace(/\/account\/.*$/, '/account/security'));
  await page.getByRole('button', { name: 'Sign out everywhere else', exact: true }).click();
  check((await page.getByRole('status').innerText()).includes('Signed out 1 other browser.'), 'no count of browsers signed out');
  await other.reload();
  await heading(other, 'Sign in');
  // This browser stays signed in.
  await page.reload();
  await heading(page, 'Security');
});
