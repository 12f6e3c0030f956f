// Duplicates manager on the Jane Doe cards the Go test seeded (jane-a,
// jane-b with the phone, jane-c "Jane M. Doe" at Globex): review with
// another reference, pick a conflict's value, merge, then undo.
import { login, password, check, run, heading, nav, openSignedIn, screenshot, dav } from './lib.mjs';

const book = `/dav/addressbooks/${encodeURIComponent(login)}/contacts/`;

async function cards() {
  const res = await dav('PROPFIND', book, login, password,
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>', { Depth: '1' });
  check(res.status === 207, `PROPFIND ${book}: ${res.status}`);
  return (res.text.match(/<D:href>[^<]*\.vcf<\/D:href>/gi) || []).length;
}

await run('duplicates', async ({ page }) => {
  const before = await cards();
  await openSignedIn(page, '/account/devices');
  await nav(page, 'Duplicates', 'Duplicates');
  await page.getByRole('main').getByRole('link', { name: /contacts/i }).first().click();
  await page.getByRole('heading', { level: 1, name: /^Duplicates in / }).waitFor();
  const group = page.getByRole('listitem').filter({ hasText: 'Jane M. Doe' });
  await group.getByText('maybe the same').waitFor();
  await group.getByRole('link', { name: 'Review', exact: true }).click();
  await heading(page, 'Review duplicates');

  // Only the cards that are not the reference offer to become it.
  const jane = page.getByRole('link', { name: /^Keep card \d as the reference \(Jane M\. Doe\)$/ });
  check(await jane.count() === 1, 'Jane M. Doe is already the reference; the test wants another default');
  await jane.click();
  await page.waitForURL(/reference=jane-c/);
  await page.getByRole('region', { name: /Jane M\. Doe/ }).getByText('Reference', { exact: true }).waitFor();
  check(await jane.count() === 0, 'the chosen reference still offers to become the reference');

  await page.locator('.identical').filter({ hasText: 'jane.doe@example.org' }).first().waitFor();
  await page.locator('.added').filter({ hasText: '555 0142' }).first().waitFor();
  const org = page.getByRole('radiogroup', { name: 'Organisation' });
  check(await org.getByRole('radio', { name: /Globex/ }).isChecked(), "the reference's ORG is not the default choice");
  await org.getByRole('radio', { name: /Acme/ }).check();

  await screenshot(page, 'duplicates.png');
  await page.getByRole('button', { name: 'Merge', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Merged 3 cards into Jane M. Doe.' }).waitFor();

  let n = await cards();
  check(n === before - 2, `after the merge the book has ${n} cards, want ${before - 2}`);
  const merged = await dav('GET', book + 'jane-c.vcf', login, password);
  check(merged.status === 200, `GET the merged card: ${merged.status}`);
  check(/^TEL[^:\r\n]*:\+1 202 555 0142\r?$/m.test(merged.text), `the merged card lacks the phone:\n${merged.text}`);
  check(/^ORG[^:\r\n]*:Acme\r?$/m.test(merged.text), `the merged card's ORG is not the chosen Acme:\n${merged.text}`);
  for (const gone of ['jane-a.vcf', 'jane-b.vcf']) {
    const res = await dav('GET', book + gone, login, password);
    check(res.status === 404, `GET ${gone} after the merge: ${res.status}, want 404`);
  }

  await page.getByRole('link', { name: 'Past merges', exact: true }).click();
  await heading(page, 'Past merges');
  await page.getByRole('row').filter({ hasText: 'Jane M. Doe' }).getByRole('button', { name: 'Undo', exact: true }).click();
  await page.getByRole('button', { name: 'Undo', exact: true }).waitFor({ state: 'detached' });
  n = await cards();
  check(n === before, `after undo the book has ${n} cards, want ${before}`);
  for (const back of ['jane-a.vcf', 'jane-b.vcf', 'jane-c.vcf']) {
    const res = await dav('GET', book + back, login, password);
    check(res.status === 200, `GET ${back} after undo: ${res.status}, want 200`);
  }
});
