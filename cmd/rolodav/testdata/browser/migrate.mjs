// Import from another provider: fill the form with the second rolodav the
// Go test started (behind a proxy that slows it down), watch the progress
// page, close it while the import runs, then find the import finished on
// the activity page in a new page, its report with the counts and the
// offer of the duplicates page (the book had cards), and the cards over
// DAV. axe-core checks each new page.
import { check, run, heading, openSignedIn, screenshot, dav, login, password, axe, base } from './lib.mjs';

const source = process.env.SOURCE_URL;
const sourceLogin = process.env.SOURCE_LOGIN;
const sourcePassword = process.env.SOURCE_PASSWORD;
const cards = Number(process.env.SOURCE_CARDS);
const book = `/dav/addressbooks/${encodeURIComponent(login)}/contacts/`;

async function countCards() {
  const res = await dav('PROPFIND', book, login, password,
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>', { Depth: '1' });
  check(res.status === 207, `PROPFIND ${book}: ${res.status}`);
  return (res.text.match(/<D:href>[^<]*\.vcf<\/D:href>/gi) || []).length;
}

await run('migrate', async ({ page, context }) => {
  const before = await countCards();
  await openSignedIn(page, '/account/collections');
  await heading(page, 'Address books and calendars');
  await page.getByRole('heading', { level: 2, name: 'Import from another provider', exact: true }).waitFor();
  await axe(page);

  await page.getByLabel('Server address', { exact: true }).fill(source);
  await page.getByLabel('Login there', { exact: true }).fill(sourceLogin);
  const pw = page.getByLabel('Password there', { exact: true });
  check(await pw.getAttribute('type') === 'password', 'the password field is not a password input');
  check(await pw.getAttribute('autocomplete') === 'new-password', 'the password field may be filled with the password saved for this site');
  await pw.fill(sourcePassword);
  check(await page.getByRole('radio', { name: 'Contacts and calendars', exact: true }).isChecked(), 'both is not the default');
  await page.getByRole('button', { name: 'Start the import', exact: true }).click();

  await page.waitForURL(/\/account\/migrations\/\d+$/);
  const progress = page.url();
  await heading(page, 'Import from another provider');
  check(await page.locator('meta[http-equiv="refresh"][content="2"]').count() === 1, 'the running import\'s page does not reload every 2 s');
  // The page reloads itself until the plan and the first cards show.
  const contacts = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^Contacts/ }) });
  await contacts.getByRole('cell', { name: 'Reading', exact: true }).waitFor({ timeout: 60_000 });
  const read = Number(await contacts.getByRole('cell').nth(2).innerText());
  check(read > 0 && read < cards, `the import is not midway when the page is closed: ${read} of ${cards} read`);

  // Reloading every 2 s is a time limit the page lets the user stop (WCAG
  // 2.2.1); stopped, the page passes axe whole.
  await page.getByRole('link', { name: 'Stop reloading', exact: true }).click();
  await page.waitForURL(/\?refresh=off$/);
  check(await page.locator('meta[http-equiv="refresh"]').count() === 0, 'the page still reloads after "Stop reloading"');
  await page.getByText('Running', { exact: true }).waitFor();
  await axe(page);
  await screenshot(page, 'migration-running.png');
  await page.close();

  // Later, in a new page: the activity page lists it, finished.
  const later = await context.newPage();
  await later.goto(base + '/account/activity');
  await heading(later, 'Activity');
  const row = later.getByRole('row').filter({ hasText: source });
  let text = '';
  for (let i = 0; ; i++) {
    text = await row.innerText();
    if (!text.includes('running')) break;
    check(i < 120, `the import did not end in 2 minutes:\n${text}`);
    await later.waitForTimeout(1000);
    await later.reload();
  }
  check(text.includes('Done'), `the import did not end done:\n${text}`);
  check(text.includes(`${cards} added, 0 updated, 0 already here, 0 not imported`), `the activity page's counts:\n${text}`);
  await axe(later);

  await row.getByRole('link', { name: /^Report/ }).click();
  await heading(later, 'Import from another provider');
  check(later.url() === progress, `the report is at ${later.url()}, the progress page was ${progress}`);
  check(await later.locator('meta[http-equiv="refresh"]').count() === 0, 'the finished import\'s page still reloads');
  await later.getByText(`In all: ${cards} added, 0 updated, 0 already here, 0 not imported.`, { exact: true }).waitFor();
  await axe(later);
  await screenshot(later, 'migration.png');

  const n = await countCards();
  check(n === before + cards, `the book has ${n} cards over DAV, want ${before} + ${cards}`);

  // The book had cards before: the duplicates page is offered.
  await later.getByRole('link', { name: 'Look for duplicates in Contacts', exact: true }).click();
  await heading(later, 'Duplicates in Contacts');
});
