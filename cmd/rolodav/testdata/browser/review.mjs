// Review of one group of duplicates: three cards of Tina, put over DAV.
// A click on a card (not on its link) makes it the reference and the page
// stays where it was scrolled, at 1280 and at 390 px wide (without
// JavaScript it opens at the cards); then the other name is picked and
// the merge writes both the full name and its parts, checked over DAV.
import { login, password, check, run, heading, openSignedIn, screenshot, dav, axe } from './lib.mjs';

const book = `/dav/addressbooks/${encodeURIComponent(login)}/contacts/`;

// tina-1, the fullest card and so the default reference, writes the name
// as the defect of issue 17 left it: FN Tina Krueger, N kruger;tina;X.
// tina-2 and tina-3 write it Tina Krüger, Krüger;Tina. Only two of the
// cards have the phone.
const shared = ['EMAIL;TYPE=HOME:tina@example.org', 'BDAY:1985-03-10'];
const cards = {
  'tina-1': ['FN:Tina Krueger', 'N:kruger;tina;X.;;', 'TEL;TYPE=CELL:+49 30 1234567', 'TEL;TYPE=WORK:+49 30 7654321',
    'EMAIL;TYPE=WORK:t.krueger@acme.example', 'ADR;TYPE=HOME:;;Torstraße 1;Berlin;;10119;Germany',
    'ADR;TYPE=WORK:;;Friedrichstraße 100;Berlin;;10117;Germany', 'ORG:Acme', 'TITLE:Engineer', 'URL:https://tina.example',
    'NICKNAME:Tini', 'NOTE:Met at the Berlin meetup; prefers e-mail. Her team moved to the new office in spring.'],
  'tina-2': ['FN:Tina Krüger', 'N:Krüger;Tina;;;', 'TEL:+49301234567', 'ORG:Globex', 'TITLE:Lead engineer',
    'ADR;TYPE=HOME:;;Torstraße 1;Berlin;;10119;Germany', 'URL:https://krueger.example', 'NOTE:Call after 6.'],
  'tina-3': ['FN:Tina Krüger', 'N:Krüger;Tina;;;', 'EMAIL;TYPE=OTHER:tina.k@mail.example', 'ORG:Initech',
    'IMPP:xmpp:tina@chat.example', 'CATEGORIES:Friends,Berlin'],
};

async function seed() {
  for (const [uid, lines] of Object.entries(cards)) {
    const vcf = ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, ...lines, ...shared, 'END:VCARD', ''].join('\r\n');
    const res = await dav('PUT', `${book}${uid}.vcf`, login, password, vcf, { 'Content-Type': 'text/vcard; charset=utf-8' });
    check(res.status === 201, `PUT ${uid}: ${res.status} ${res.text}`);
  }
}

// card is the section of card n on the review page.
const card = (page, n) => page.locator('section.dup-card').filter({ has: page.getByRole('heading', { name: `(card ${n})` }) });

// pickByClick scrolls card n's top out of view and clicks the card low
// down, on a value, where there is no visible link, then checks that the
// card became the reference without the page moving (with JavaScript) and
// returns where the page was scrolled.
async function pickByClick(page, n, { js = true } = {}) {
  const target = card(page, n);
  const box = await target.boundingBox();
  const top = await page.evaluate(() => window.scrollY) + box.y;
  const want = Math.round(top + 40);
  await page.evaluate((y) => window.scrollTo(0, y), want);
  const before = await page.evaluate(() => window.scrollY);
  check(before === want, `the page cannot be scrolled to ${want} (got ${before}): too short for the test`);
  const now = await target.boundingBox();
  const viewport = page.viewportSize();
  const x = now.x + now.width / 2;
  const y = Math.min(now.y + now.height, viewport.height) - 12;
  check(y > 0 && y > now.y + 40, `card ${n} is not visible below its link (box ${JSON.stringify(now)})`);
  const hit = await page.evaluate(([px, py]) => {
    const el = document.elementFromPoint(px, py);
    return el && el.matches('a.dup-pick') ? el.getAttribute('href') : `${el && el.outerHTML.slice(0, 120)}`;
  }, [x, y]);
  check(hit.startsWith('?reference='), `a click low on card ${n} does not hit its link but ${hit}`);
  // The link's name starts with what it shows, then says whose card it is.
  const link = target.getByRole('link', { name: new RegExp(`^Keep card ${n} as the reference \\(Tina Kr\\S+ger\\)$`) });
  check(await link.count() === 1, `card ${n} has no link called "Keep card ${n} as the reference (its name)": ${await target.getByRole('link').ariaSnapshot()}`);

  await page.mouse.click(x, y);
  await target.getByText('Reference', { exact: true }).waitFor();
  await page.waitForURL(/reference=tina-/);
  check(await target.getByRole('link').count() === 0, `the reference, card ${n}, still offers to be the reference`);
  const after = await page.evaluate(() => window.scrollY);
  if (js) {
    check(Math.abs(after - before) <= 1, `the page moved from ${before} to ${after} when card ${n} was picked`);
  } else {
    const cardsTop = await page.evaluate(() => Math.round(document.getElementById('cards').getBoundingClientRect().top + window.scrollY));
    check(page.url().endsWith('#cards'), `without JavaScript the pick leads to ${page.url()}, not #cards`);
    check(after > 0 && Math.abs(after - cardsTop) <= 12, `without JavaScript the page is at ${after}, not at the cards (${cardsTop})`);
  }
  return after;
}

await run('review', async ({ page, context }) => {
  await seed();
  await openSignedIn(page, '/account/duplicates/contacts');
  await page.getByRole('heading', { level: 1, name: /^Duplicates in / }).waitFor();
  await page.locator('main a[href*="/groups/"]').first().click();
  await heading(page, 'Review duplicates');
  const group = page.url().split('?')[0];
  check(await card(page, 1).getByText('Reference', { exact: true }).isVisible(), 'card 1, the fullest, is not the default reference');

  // What only two cards have is not "on all cards", and is marked on them.
  const same = page.locator('h2:text-is("Same on all cards") + ul');
  check(!(await same.innerText()).includes('Phone'), `the phone of two cards is listed as on all cards:\n${await same.innerText()}`);
  check((await same.innerText()).includes('E-mail: tina@example.org'), `the shared e-mail is not on all cards:\n${await same.innerText()}`);
  await card(page, 1).getByText('on 2 of 3 cards').first().waitFor();

  // Desktop: card 2 becomes the reference where the page is.
  await pickByClick(page, 2);
  await screenshot(page, 'review.png');
  await axe(page);

  // Phone: the same, with card 1 back as the reference.
  await page.setViewportSize({ width: 390, height: 844 });
  await pickByClick(page, 1);
  await axe(page);
  check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the review page scrolls sideways at 390 px');

  // Without JavaScript the pick reloads the page at the cards, not at the top.
  const nojs = await context.browser().newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 },
    storageState: await context.storageState() });
  const plain = await nojs.newPage();
  await plain.goto(group);
  await heading(plain, 'Review duplicates');
  await pickByClick(plain, 3, { js: false });
  await nojs.close();

  // Pick the other name: "Tina Krüger" of cards 2 and 3, full and in parts.
  const names = page.getByRole('radiogroup', { name: 'Name', exact: true });
  check(await page.getByRole('radiogroup', { name: /Name parts/ }).count() === 0, 'the name parts are a choice of their own');
  const other = names.getByRole('radio', { name: /^Tina Krüger / });
  await other.check();
  await screenshot(page, 'review-phone.png');
  await page.getByRole('button', { name: 'Merge', exact: true }).click();
  await page.getByRole('status').filter({ hasText: /Merged 3 cards/ }).waitFor();

  const merged = await dav('GET', `${book}tina-1.vcf`, login, password);
  check(merged.status === 200, `GET the kept card: ${merged.status}`);
  check(/^FN:Tina Krüger\r?$/m.test(merged.text), `the kept card's full name is not Tina Krüger:\n${merged.text}`);
  check(/^N:Krüger;Tina;;;\r?$/m.test(merged.text), `the kept card's name parts are not those of Tina Krüger:\n${merged.text}`);
  check(!/kruger|Krueger/.test(merged.text), `the old name is left in the kept card:\n${merged.text}`);
  for (const gone of ['tina-2.vcf', 'tina-3.vcf']) {
    const res = await dav('GET', book + gone, login, password);
    check(res.status === 404, `GET ${gone} after the merge: ${res.status}, want 404`);
  }
}, { viewport: { width: 1280, height: 720 } });
