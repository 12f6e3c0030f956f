// The phone region of the duplicates page: the country guessed from the
// browser's language (de-DE) is offered but not used until saved; saved,
// Tina's two cards (one number with and one without its country code) are
// proposed. axe-core at desktop and phone widths (axe needs JavaScript; the
// form itself is a plain POST, which the Go tests send).
import { check, run, heading, openSignedIn, screenshot, axe } from './lib.mjs';

await run('region', async ({ page }) => {
  const label = 'Phone numbers without a country code are from';
  const tinaProposed = async () => {
    await page.getByRole('main').getByRole('link', { name: /contacts/i }).first().click();
    await page.getByRole('heading', { level: 1, name: /^Duplicates in / }).waitFor();
    const n = await page.getByRole('main').getByText('Tina Krüger').count();
    await page.goBack();
    await heading(page, 'Duplicates');
    return n > 0;
  };

  await openSignedIn(page, '/account/duplicates');
  await heading(page, 'Duplicates');
  const select = page.getByLabel(label, { exact: true });
  check(await select.inputValue() === 'DE', `the guess is ${await select.inputValue()}, want DE`);
  await page.getByText('Germany is a guess from your browser').waitFor();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 800 });
    await axe(page);
    const scroll = await page.evaluate(() => document.scrollingElement.scrollWidth);
    check(scroll <= width, `the duplicates page scrolls sideways at ${width}px (scrollWidth ${scroll})`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  check(!(await tinaProposed()), 'the guessed country is used before it is saved');

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved: phone numbers without a country code are read as numbers of Germany.' }).waitFor();
  check(await select.inputValue() === 'DE', 'Germany is not chosen once saved');
  await axe(page);
  await screenshot(page, 'duplicates-region.png');
  check(await tinaProposed(), "Tina's cards are not proposed with Germany saved");
}, { locale: 'de-DE' });
