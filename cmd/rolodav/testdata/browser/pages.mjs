// Every account page, as a new user meets it, at desktop (1280 px) and
// phone (390 px) widths: axe-core finds no violation, and on the phone the
// page does not scroll sideways. The Go test seeded the Jane Doe
// duplicates and sign-ins of several clients (seedPages); this script adds
// an app password used by a device, a file import, a failed import from
// another provider, and two-factor sign-in. All faults are gathered and
// reported together, by page.
import { check, run, heading, signIn, base, login, dav, axe } from './lib.mjs';
import { stepOf, totp } from './otp.mjs';

const sizes = [{ name: 'desktop', width: 1280, height: 800 }, { name: 'phone', width: 390, height: 844 }];
const faults = [];
const seen = [];

// here checks the page as it is, at each width.
async function here(page, what) {
  for (const size of sizes) {
    await page.setViewportSize({ width: size.width, height: size.height });
    try {
      await axe(page);
    } catch (err) {
      faults.push(`${what} (${size.name}): ${err.message}`);
    }
    const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    if (scroll > width) faults.push(`${what} (${size.name}): the page is ${scroll} px wide in a ${width} px window`);
  }
  seen.push(what);
}

// visit opens path, waits for its h1 (the text, or a pattern), and
// checks it.
async function visit(page, path, h1) {
  await page.goto(base + path);
  if (h1 instanceof RegExp) {
    await page.getByRole('heading', { level: 1, name: h1 }).waitFor();
  } else {
    await heading(page, h1);
  }
  await here(page, path);
}

const vcard = (uid, fn) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${fn}\r\nN:${fn.split(' ').reverse().join(';')};;;\r\nEND:VCARD\r\n`;

await run('pages', async ({ page }) => {
  // Signing in, and a refused attempt.
  await visit(page, '/account/signin', 'Sign in');
  await signIn(page, 'not the password');
  await page.getByRole('alert').waitFor();
  await here(page, 'sign-in refused');
  await signIn(page);
  await heading(page, 'Connect your devices');
  await here(page, '/account/devices');

  // App passwords: one made, then used by a phone.
  await visit(page, '/account/passwords', 'App passwords');
  await page.getByLabel('Device name', { exact: true }).fill('Phone');
  await page.getByRole('button', { name: 'Create app password', exact: true }).click();
  await heading(page, 'App password created');
  await here(page, 'app password created');
  const appPassword = (await page.locator('#new-app-password').innerText()).trim();
  const used = await dav('PROPFIND', '/dav/', login, appPassword,
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>',
    { Depth: '0', 'User-Agent': 'DAVx5/4.5.3-ose (2025/07/14; dav4jvm; okhttp/4.12.0) Android/15' });
  check(used.status === 207, `PROPFIND with the app password: ${used.status}`);
  await visit(page, '/account/passwords', 'App passwords');

  await visit(page, '/account/security', 'Security');
  await visit(page, '/account/password', 'Change password');

  // Address books and calendars: the list, one, a file imported into it,
  // its delete confirmation.
  await visit(page, '/account/collections', 'Address books and calendars');
  await page.getByRole('row').filter({ hasText: 'Contacts' }).getByRole('link', { name: 'Edit', exact: true }).first().click();
  await page.getByRole('heading', { level: 1 }).waitFor();
  const book = new URL(page.url()).pathname;
  await here(page, book);
  await page.getByLabel('File to import (.vcf or .ics)', { exact: true }).setInputFiles({
    name: 'people.vcf', mimeType: 'text/vcard',
    buffer: Buffer.from(vcard('imp-1', 'Ada Lovelace') + vcard('imp-2', 'Alan Turing') + 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken\r\n'),
  });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.waitForLoadState();
  await here(page, `${book} after an import`);
  await visit(page, `${book}/delete`, /^Delete .+\?$/);

  // Duplicates: the books, one book's groups, a review, past merges.
  await visit(page, '/account/duplicates', 'Duplicates');
  await page.getByRole('main').getByRole('link', { name: /contacts/i }).first().click();
  await page.getByRole('heading', { level: 1, name: /^Duplicates in / }).waitFor();
  const groups = new URL(page.url()).pathname;
  await here(page, groups);
  await page.getByRole('link', { name: 'Review', exact: true }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Review duplicates' }).waitFor();
  await here(page, 'duplicates review');
  await visit(page, `${groups}/merges`, 'Past merges');

  // An import from another provider that fails at once: its report.
  await page.goto(base + '/account/collections');
  await page.getByLabel('Server address', { exact: true }).fill('http://127.0.0.1:9/');
  await page.getByLabel('Login there', { exact: true }).fill('ann@old.example');
  await page.getByLabel('Password there', { exact: true }).fill('old password');
  await page.getByRole('button', { name: 'Start the import', exact: true }).click();
  await page.waitForURL(/\/account\/migrations\/\d+$/);
  const report = new URL(page.url()).pathname;
  for (let i = 0; i < 20 && !(await page.getByText(/^(Failed|Done|Interrupted)$/).count()); i++) {
    await page.waitForTimeout(500);
    await page.reload();
  }
  await heading(page, 'Import from another provider');
  await here(page, report);
  await visit(page, '/account/activity', 'Activity');
  await page.getByLabel('Time zone', { exact: true }).fill('Mars/Olympus');
  await page.getByRole('button', { name: 'Save time zone', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await here(page, 'time zone refused');

  // Errors: a page that is not there.
  await page.goto(base + book.replace(/[^/]+$/, 'no-such-book'));
  await heading(page, 'Not Found');
  await here(page, 'not found');

  // Two-factor sign-in: setup, the emergency codes, the code asked at
  // sign-in (answered with an emergency code).
  await page.goto(base + '/account/security');
  await page.getByRole('button', { name: 'Turn on two-factor sign-in', exact: true }).click();
  await heading(page, 'Set up two-factor sign-in');
  await here(page, 'two-factor setup');
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  await page.getByLabel('Code from your app', { exact: true }).fill(totp(secret, stepOf(Date.now())));
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  await heading(page, 'Your emergency codes');
  await here(page, 'emergency codes');
  const codes = (await page.locator('#emergency-codes li').allInnerTexts()).map((c) => c.trim());
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await heading(page, 'Sign in');
  await signIn(page);
  await heading(page, 'Two-factor sign-in');
  await here(page, 'two-factor sign-in');
  await page.getByText('Use an emergency code instead', { exact: true }).click();
  await page.getByLabel('Emergency code', { exact: true }).fill(codes[0]);
  await page.getByRole('button', { name: 'Sign in with the emergency code', exact: true }).click();
  await heading(page, 'Connect your devices');
  await visit(page, '/account/security', 'Security');

  console.log(`checked ${seen.length} pages: ${seen.join(', ')}`);
  check(faults.length === 0, `${faults.length} faults:\n${faults.join('\n\n')}`);
});
