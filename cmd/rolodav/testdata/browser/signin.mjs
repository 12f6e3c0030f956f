// Sign-in page: redirect when signed out, wrong password, the devices page
// after signing in, sign out, and a new session cookie at every sign-in.
import { base, login, password, check, run, heading, signIn } from './lib.mjs';

async function session(context) {
  return (await context.cookies(base)).find((c) => c.name === 'rolodav_session')?.value;
}

await run('signin', async ({ page, context }) => {
  const planted = 'planted-by-the-test';
  await context.addCookies([{ name: 'rolodav_session', value: planted, url: base }]);

  await page.goto(base + '/');
  await heading(page, 'Sign in');
  check(new URL(page.url()).pathname.endsWith('/account/signin'), `/ did not redirect to sign-in: ${page.url()}`);

  await signIn(page, 'not the password');
  await page.getByRole('alert').filter({ hasText: 'Wrong login or password.' }).waitFor();
  await heading(page, 'Sign in');

  await signIn(page);
  await heading(page, 'Connect your devices');
  const shown = (await page.locator('#login').innerText()).trim();
  check(shown === login, `#login shows ${JSON.stringify(shown)}, want ${login}`);
  const first = await session(context);
  check(first && first !== planted, `session cookie after sign-in: ${first}`);

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await heading(page, 'Sign in');
  check(!(await session(context)), 'session cookie still set after signing out');
  await page.goto(base + '/account/devices');
  await heading(page, 'Sign in');

  await signIn(page);
  await heading(page, 'Connect your devices');
  const second = await session(context);
  check(second && second !== first && second !== planted, 'signing in again did not give a new session cookie');
});
