// Activity page: a failed and then a successful sign-in, newest first.
import { check, run, heading, signIn, nav, base } from './lib.mjs';

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
});
