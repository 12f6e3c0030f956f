// Devices page: the one-click Apple profile, the QR code, a screenshot,
// and no sideways scrolling on a phone.
import { login, base, check, run, heading, openSignedIn, screenshot, downloaded } from './lib.mjs';

await run('profile', async ({ page }) => {
  await openSignedIn(page, '/account/devices');
  await heading(page, 'Connect your devices');
  const url = (await page.locator('#server-url').innerText()).trim();
  check(url === base + '/dav/', `#server-url is ${JSON.stringify(url)}, want ${base}/dav/`);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the profile for iPhone, iPad and Mac', exact: true }).click(),
  ]);
  const profile = await downloaded(download);
  for (const want of [login, 'com.apple.carddav.account', 'com.apple.caldav.account']) {
    check(profile.includes(want), `the profile ${download.suggestedFilename()} lacks ${want}`);
  }

  const qr = page.getByRole('img', { name: 'QR code with the account URL', exact: true });
  const width = await qr.evaluate((img) => img.decode().then(() => img.naturalWidth, () => 0));
  check(width > 0, 'the QR code image did not load');

  await screenshot(page, 'devices.png');

  await page.setViewportSize({ width: 375, height: 700 });
  await page.reload();
  await heading(page, 'Connect your devices');
  const scroll = await page.evaluate(() => document.scrollingElement.scrollWidth);
  check(scroll <= 375, `the devices page scrolls sideways on a 375px phone (scrollWidth ${scroll})`);
});
