// Import on an address book's page: a .vcf of 217 cards, one more whose
// content is already there, and a last card cut off (no end). With
// JavaScript the upload shows its progress, then the summary: 217 added,
// 1 skipped (named by its name), 1 rejected, and where the file stopped;
// the book holds the 217 over DAV, and a reload imports nothing. Without
// JavaScript the plain form gives the same summary. axe at desktop and
// phone widths on the summary, and at desktop during the upload.
import { login, password, check, run, heading, openSignedIn, screenshot, dav, axe } from './lib.mjs';

const book = `/dav/addressbooks/${encodeURIComponent(login)}/contacts/`;
const page0 = `/account/collections/addressbooks/contacts`;

async function cards() {
  const res = await dav('PROPFIND', book, login, password,
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>', { Depth: '1' });
  check(res.status === 207, `PROPFIND ${book}: ${res.status}`);
  return (res.text.match(/<D:href>[^<]*\.vcf<\/D:href>/gi) || []).length;
}

// The file: each card carries a note, so that the upload takes a moment
// under the throttle below. copyLine and cutLine are where Person 5's copy
// and the cut card start.
const note = 'x'.repeat(1500);
let vcf = '';
for (let i = 0; i < 217; i++) {
  vcf += `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:person-${i}\r\nFN:Person ${i}\r\nTEL:+1 202 555 ${String(1000 + i)}\r\nNOTE:${note}\r\nEND:VCARD\r\n`;
}
const copyLine = vcf.split('\r\n').length;
vcf += `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:person-5-copy\r\nFN:Person 5\r\nTEL:+1 202 555 1005\r\nNOTE:${note}\r\nEND:VCARD\r\n`;
const cutLine = vcf.split('\r\n').length;
vcf += 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cut\r\nFN:Cut Off\r\n';
const file = { name: 'phone.vcf', mimeType: 'text/vcard', buffer: Buffer.from(vcf) };

async function upload(page) {
  await page.getByLabel('File to import (.vcf or .ics)', { exact: true }).setInputFiles(file);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
}

async function summary(page, counts) {
  await page.getByRole('heading', { level: 2, name: 'Imported phone.vcf', exact: true }).waitFor();
  const text = await page.locator('.import-summary').innerText();
  for (const want of [...counts,
    `Stopped: the file ends inside a card that starts at line ${cutLine}: that card was not imported.`]) {
    check(text.includes(want), `the summary lacks ${JSON.stringify(want)}:\n${text}`);
  }
  check(!/Bad Request|person-5|Nothing after that line/.test(text), `the summary names a card by UID or says Bad Request:\n${text}`);
}

await run('import', async ({ page, context }) => {
  check(await cards() === 0, 'the book is not empty at the start');
  await openSignedIn(page, page0);
  await heading(page, 'Contacts');
  await page.setViewportSize({ width: 1280, height: 800 });

  // About 370 KB at 100 KB/s: the bar has a few seconds to show.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 100 * 1024 });
  await upload(page);
  const bar = page.getByRole('progressbar', { name: 'Uploading phone.vcf', exact: true });
  await bar.waitFor();
  await page.getByRole('status').filter({ hasText: 'Uploading phone.vcf…' }).waitFor();
  await page.getByText(/^\d+% \([\d.]+ KB of [\d.]+ KB\)$/).waitFor();
  await screenshot(page, 'import-progress.png');
  await axe(page);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  await summary(page, ['Added: 217', 'Updated: 0', 'Skipped (already here): 1', 'Rejected: 1']);
  const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: String(copyLine), exact: true }) });
  await row.getByRole('cell', { name: 'Person 5', exact: true }).waitFor();
  await row.getByRole('cell', { name: 'Skipped: same content as Person 5, already in this address book', exact: true }).waitFor();
  check(await page.evaluate(() => document.activeElement?.id) === 'import-summary', 'the focus is not on the summary');
  check(new URL(page.url()).pathname === page0, `the summary is at ${page.url()}, want the book's page`);
  check(await cards() === 217, 'the book does not hold the 217 cards over DAV');
  await axe(page);
  await screenshot(page, 'import.png');
  await page.setViewportSize({ width: 390, height: 844 });
  await axe(page);
  check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the page scrolls sideways at 390 px');
  await page.setViewportSize({ width: 1280, height: 800 });

  // A reload shows the book's page: nothing is imported again.
  await page.reload();
  await heading(page, 'Contacts');
  check(await page.locator('.import-summary').count() === 0, 'the reloaded page shows a summary');
  check(await cards() === 217, 'the reload changed the book');

  // A second import, still with the script: nothing added twice.
  await upload(page);
  await summary(page, ['Added: 0', 'Skipped (already here): 218', 'Rejected: 1']);
  check(await cards() === 217, 'importing the file again added cards');
});

await run('import without JavaScript', async ({ page }) => {
  await openSignedIn(page, page0);
  await heading(page, 'Contacts');
  await upload(page);
  // (axe needs JavaScript: it ran on the same page above.)
  await summary(page, ['Added: 0', 'Skipped (already here): 218', 'Rejected: 1']);
  check(await cards() === 217, 'the plain form changed the book');
}, { javaScriptEnabled: false });
