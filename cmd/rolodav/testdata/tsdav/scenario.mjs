// A tsdav session against a running rolodav, driven by
// ../../realclients_tsdav_test.go:
//
//   node scenario.mjs BASE_URL USER PASSWORD
//
// The Go test has already stored one card (seed.vcf) and one weekly event
// (seed-event.ics) for USER. Every step checks what tsdav returns and the
// script exits 1 with "FAIL: ..." at the first wrong answer; it prints
// "OK: ..." when all steps pass.
import { DAVClient } from 'tsdav';

const [baseUrl, username, password] = process.argv.slice(2);
if (!baseUrl || !username || !password) {
  console.error('usage: node scenario.mjs BASE_URL USER PASSWORD');
  process.exit(2);
}
const base = baseUrl.replace(/\/+$/, '');
const auth = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
const login = username;

class Failure extends Error {}

function check(cond, what, got) {
  if (!cond) {
    throw new Failure(got === undefined ? what : `${what}; got ${JSON.stringify(got, null, 1)}`);
  }
  console.log(`ok   ${what}`);
}

// Plain HTTP, outside tsdav: stands in for another client changing data.
async function http(method, path, body, contentType) {
  const headers = { Authorization: auth };
  if (contentType) headers['Content-Type'] = contentType;
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  return { status: res.status, text };
}

function vcard(uid, fn) {
  return [
    'BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${fn}`, `N:${fn.split(' ').reverse().join(';')};;;`,
    `EMAIL;TYPE=INTERNET:${uid}@example.org`, 'END:VCARD', '',
  ].join('\r\n');
}

function vevent(uid, summary, start, end) {
  return [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//rolodav tests//tsdav//EN', 'BEGIN:VEVENT',
    `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `DTSTART:${start}`, `DTEND:${end}`, `SUMMARY:${summary}`,
    'END:VEVENT', 'END:VCALENDAR', '',
  ].join('\r\n');
}

const path = (url) => decodeURIComponent(new URL(url, base + '/').pathname);
const basename = (url) => decodeURIComponent(new URL(url, base + '/').pathname.split('/').pop());
const names = (objs) => objs.map((o) => basename(o.url)).sort();

async function contacts() {
  const client = new DAVClient({
    serverUrl: base + '/',
    credentials: { username, password },
    authMethod: 'Basic',
    defaultAccountType: 'carddav',
  });
  await client.login();
  const account = client.account;
  check(account && account.homeUrl && path(account.homeUrl) === `/dav/addressbooks/${login}/`,
    'carddav discovery finds the address-book home', account && account.homeUrl);
  check(path(account.principalUrl) === `/dav/principals/${login}/`,
    'carddav discovery finds the principal', account.principalUrl);

  let books = await client.fetchAddressBooks();
  check(books.length === 1, 'fetchAddressBooks returns one address book', books.map((b) => b.url));
  let book = books[0];
  check(path(book.url) === `/dav/addressbooks/${login}/contacts/`, 'the address book is contacts/', book.url);
  check(book.displayName === 'Contacts', 'its display name is "Contacts"', book.displayName);
  check(typeof book.ctag === 'string' && book.ctag.length > 0, 'it has a getctag', book.ctag);
  check(typeof book.syncToken === 'string' && book.syncToken.length > 0, 'it has a sync-token', book.syncToken);
  check(book.reports.includes('syncCollection'), 'supported-report-set lists sync-collection', book.reports);
  check(book.reports.includes('addressbookMultiget'), 'supported-report-set lists addressbook-multiget', book.reports);

  let cards = await client.fetchVCards({ addressBook: book });
  check(cards.length === 1 && basename(cards[0].url) === 'seed.vcf', 'fetchVCards returns seed.vcf', names(cards));
  check(/^FN:Seed Person\r?$/m.test(cards[0].data), 'seed.vcf has its FN', cards[0].data);
  check(/^"[^"]+"$/.test(cards[0].etag), 'seed.vcf has a quoted etag', cards[0].etag);

  const created = await client.createVCard({
    addressBook: book, filename: 'tsdav-1.vcf', vCardString: vcard('tsdav-1', 'Tess Dav'),
  });
  check(created.status === 201, 'createVCard answers 201 Created', created.status);
  check(/^"[^"]+"$/.test(created.headers.get('etag') ?? ''), 'createVCard answer carries an ETag', created.headers.get('etag'));
  const again = await client.createVCard({
    addressBook: book, filename: 'tsdav-1.vcf', vCardString: vcard('tsdav-1', 'Tess Dav'),
  });
  check(again.status === 412, 'createVCard on an existing name answers 412 (If-None-Match: *)', again.status);
  const got = await http('GET', `/dav/addressbooks/${login}/contacts/tsdav-1.vcf`);
  check(got.status === 200 && /^FN:Tess Dav\r?$/m.test(got.text), 'the created card is on the server', got);

  cards = await client.fetchVCards({ addressBook: book });
  check(names(cards).join() === 'seed.vcf,tsdav-1.vcf', 'fetchVCards now returns both cards', names(cards));

  // Sync: start from the current token, expect nothing new, change the
  // book behind tsdav's back, expect exactly those changes.
  [book] = await client.fetchAddressBooks();
  let coll = { ...book, objects: cards, objectMultiGet: (p) => client.addressBookMultiGet(p) };
  const quiet = await client.smartCollectionSyncDetailed({ collection: coll, method: 'webdav' });
  check(quiet.objects.created.length === 0 && quiet.objects.updated.length === 0 && quiet.objects.deleted.length === 0,
    'smartCollectionSync with a fresh token reports no changes', quiet.objects);

  let r = await http('PUT', `/dav/addressbooks/${login}/contacts/from-http.vcf`, vcard('from-http', 'Hattie Put'), 'text/vcard');
  check(r.status === 201, 'PUT of a new card over HTTP answers 201', r.status);
  r = await http('PUT', `/dav/addressbooks/${login}/contacts/seed.vcf`, vcard('seed', 'Seed Changed'), 'text/vcard');
  check(r.status === 204, 'PUT replacing seed.vcf over HTTP answers 204', r.status);
  r = await http('DELETE', `/dav/addressbooks/${login}/contacts/tsdav-1.vcf`);
  check(r.status === 204, 'DELETE of tsdav-1.vcf over HTTP answers 204', r.status);

  coll = { ...coll, syncToken: quiet.syncToken };
  const changed = await client.smartCollectionSyncDetailed({ collection: coll, method: 'webdav' });
  check(names(changed.objects.created).join() === 'from-http.vcf', 'sync reports from-http.vcf as created', names(changed.objects.created));
  check(/^FN:Hattie Put\r?$/m.test(changed.objects.created[0].data), 'the created card comes with its data', changed.objects.created[0]);
  check(names(changed.objects.updated).join() === 'seed.vcf', 'sync reports seed.vcf as updated', names(changed.objects.updated));
  check(/^FN:Seed Changed\r?$/m.test(changed.objects.updated[0].data), 'the updated card comes with the new data', changed.objects.updated[0]);
  check(names(changed.objects.deleted).join() === 'tsdav-1.vcf', 'sync reports tsdav-1.vcf as deleted', names(changed.objects.deleted));
  check(changed.syncToken && changed.syncToken !== quiet.syncToken, 'sync returns a new token', changed.syncToken);

  // The non-detailed form merges the changes into the object list.
  const merged = await client.smartCollectionSync({ collection: coll, method: 'webdav' });
  check(names(merged.objects).join() === 'from-http.vcf,seed.vcf', 'smartCollectionSync merges changes into the list', names(merged.objects));
}

async function calendars() {
  const client = new DAVClient({
    serverUrl: base + '/',
    credentials: { username, password },
    authMethod: 'Basic',
    defaultAccountType: 'caldav',
  });
  await client.login();
  const account = client.account;
  check(account && account.homeUrl && path(account.homeUrl) === `/dav/calendars/${login}/`,
    'caldav discovery finds the calendar home', account && account.homeUrl);

  const cals = await client.fetchCalendars();
  const byName = Object.fromEntries(cals.map((c) => [basename(c.url.replace(/\/$/, '')), c]));
  check(Object.keys(byName).sort().join() === 'calendar,tasks', 'fetchCalendars returns calendar/ and tasks/', Object.keys(byName));
  let cal = byName.calendar;
  check(cal.displayName === 'Calendar', 'calendar/ is named "Calendar"', cal.displayName);
  check(cal.components.includes('VEVENT'), 'calendar/ takes VEVENT', cal.components);
  check(byName.tasks.components.includes('VTODO'), 'tasks/ takes VTODO', byName.tasks.components);
  check(cal.reports.includes('syncCollection') && cal.reports.includes('calendarMultiget') && cal.reports.includes('calendarQuery'),
    'calendar/ reports sync-collection, calendar-multiget, calendar-query', cal.reports);

  let objs = await client.fetchCalendarObjects({ calendar: cal });
  check(names(objs).join() === 'seed-event.ics', 'fetchCalendarObjects returns seed-event.ics', names(objs));
  check(/^SUMMARY:Weekly seed\r?$/m.test(objs[0].data), 'seed-event.ics has its SUMMARY', objs[0].data);

  const created = await client.createCalendarObject({
    calendar: cal, filename: 'tsdav-ev.ics',
    iCalString: vevent('tsdav-ev', 'Made by tsdav', '20261203T100000Z', '20261203T110000Z'),
  });
  check(created.status === 201, 'createCalendarObject answers 201 Created', created.status);

  // A time range that holds only the new event, one that holds a later
  // instance of the weekly seed event, and one that holds both.
  let inRange = await client.fetchCalendarObjects({
    calendar: cal, timeRange: { start: '2026-12-03T00:00:00Z', end: '2026-12-03T23:59:59Z' },
  });
  check(names(inRange).join() === 'tsdav-ev.ics', 'time-range query for 3 Dec finds only tsdav-ev.ics', names(inRange));
  inRange = await client.fetchCalendarObjects({
    calendar: cal, timeRange: { start: '2026-12-22T00:00:00Z', end: '2026-12-23T00:00:00Z' },
  });
  check(names(inRange).join() === 'seed-event.ics', 'time-range query for 22 Dec finds the weekly seed event', names(inRange));
  inRange = await client.fetchCalendarObjects({
    calendar: cal, timeRange: { start: '2026-12-05T00:00:00Z', end: '2026-12-07T00:00:00Z' },
  });
  check(inRange.length === 0, 'time-range query for 5-6 Dec finds nothing', names(inRange));
  objs = await client.fetchCalendarObjects({ calendar: cal });
  check(names(objs).join() === 'seed-event.ics,tsdav-ev.ics', 'fetchCalendarObjects now returns both events', names(objs));

  [cal] = (await client.fetchCalendars()).filter((c) => c.url.endsWith('/calendar/'));
  const coll = { ...cal, objects: objs, objectMultiGet: (p) => client.calendarMultiGet(p) };
  const quiet = await client.smartCollectionSyncDetailed({ collection: coll, method: 'webdav' });
  check(quiet.objects.created.length === 0 && quiet.objects.updated.length === 0 && quiet.objects.deleted.length === 0,
    'calendar smartCollectionSync with a fresh token reports no changes', quiet.objects);

  const r = await http('PUT', `/dav/calendars/${login}/calendar/from-http.ics`,
    vevent('from-http', 'Put over HTTP', '20261210T080000Z', '20261210T090000Z'), 'text/calendar');
  check(r.status === 201, 'PUT of a new event over HTTP answers 201', r.status);
  const changed = await client.smartCollectionSyncDetailed({ collection: { ...coll, syncToken: quiet.syncToken }, method: 'webdav' });
  check(names(changed.objects.created).join() === 'from-http.ics', 'calendar sync reports from-http.ics as created', names(changed.objects.created));
  check(/^SUMMARY:Put over HTTP\r?$/m.test(changed.objects.created[0].data), 'the created event comes with its data', changed.objects.created[0]);
  check(changed.objects.updated.length === 0 && changed.objects.deleted.length === 0,
    'calendar sync reports nothing else', changed.objects);
}

try {
  await contacts();
  await calendars();
  console.log('OK: tsdav scenario passed');
} catch (e) {
  console.error(`FAIL: ${e instanceof Failure ? e.message : e.stack}`);
  process.exit(1);
}
