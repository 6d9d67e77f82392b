// catalog-admin.test.mjs -- the agency's catalog and the working-day
// calendar (issue 12 item 7; R-SUP-5, R-CER-6) in a real browser: 病种目录
// lists the region's diseases, the editor changes the validity and is
// refused in Chinese beside the field; 工作日历 shows a year, refuses a
// pointless day beside the list and saves a real one (then put back).
// Each page: axe WCAG 2.1 AA, the size checks, 360 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, phoneCheck, shot, sql, newRegion, newAgencyUser, staffSession, URL, done,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('R-SUP-5: the agency changes the validity of a disease of its own catalog (121 refused beside the field); the national entry stays', async () => {
  const reg = newRegion();
  const agency = newAgencyUser(reg.region);
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/queue');
  await page.getByRole('link', { name: '病种目录' }).click();
  await page.locator('#catalog li[data-code="D013"]').waitFor();
  await shot(page, 'agency-catalog');
  await page.locator('#catalog li[data-code="D013"] a').click();
  await page.locator('#cat-form').waitFor();
  await shot(page, 'agency-catalog-editor');

  // 121 months: refused beside the field, in Chinese.
  await page.getByLabel('有效期（月）').fill('121');
  await page.locator('#cat-save').click();
  const err = page.locator('[data-field="validity_months"] .field-error');
  await err.filter({ hasText: '格式不正确' }).waitFor();
  assert.equal(await page.getByLabel('有效期（月）').getAttribute('aria-invalid'), 'true');

  await page.getByLabel('有效期（月）').fill('36');
  await page.locator('#cat-save').click();
  await page.locator('#cat-summary', { hasText: '有效期 36 个月（本地调整）' }).waitFor();
  assert.deepEqual(sql(`SELECT validity_months FROM region_diseases WHERE region = '${reg.region}'
    AND disease = 'D013'`), [['36']]);
  assert.deepEqual(sql("SELECT validity_months FROM diseases WHERE code = 'D013'"), [['24']]);
  await phoneCheck(browser, page, '/#/agency/catalog/D013', '#cat-form', 'agency-catalog-editor-360');
  await done(page);
});

test('R-CER-6: the calendar of a year; a pointless day is refused, a holiday is saved and taken out again', async () => {
  const reg = newRegion();
  const agency = newAgencyUser(reg.region);
  const page = await newPage(browser);
  await staffSession(page, agency);
  const year = Number(sql('SELECT extract(year FROM cn_today())::int')[0][0]) + 1;
  const kept = sql(`SELECT count(*) FROM calendar WHERE extract(year FROM day) = ${year}`)[0][0];
  await page.goto(URL + '/#/agency/queue');
  await page.getByRole('link', { name: '工作日历' }).click();
  await page.locator('#cal-form').waitFor();
  await page.goto(URL + '/#/agency/calendar/' + year);
  await page.locator('#cal-title', { hasText: String(year) }).waitFor();
  await shot(page, 'agency-calendar');

  // The first Monday of March: a working day already, so 'workday' is
  // pointless; 'holiday' is a real change.
  const monday = sql(`SELECT d FROM generate_series(make_date(${year}, 3, 1), make_date(${year}, 3, 7),
    interval '1 day') g(d) WHERE extract(isodow FROM d) = 1`)[0][0].slice(0, 10);
  await page.locator('#cal-add').click();
  const row = page.locator('#cal-days li').last();
  await row.locator('input[type=date]').fill(monday);
  await row.locator('select').selectOption('workday');
  await page.locator('#cal-save').click();
  await page.locator('#cal-days-err', { hasText: '本来就是工作日' }).waitFor();

  await row.locator('select').selectOption('holiday');
  await row.locator('input[type=text]').fill('测试假日');
  await page.locator('#cal-save').click();
  await page.locator('#cal-changes li').first().waitFor();
  assert.deepEqual(sql(`SELECT kind, note FROM calendar WHERE day = '${monday}'`), [['holiday', '测试假日']]);
  assert.match(await page.locator('#cal-changes').textContent(), new RegExp(reg.region));

  // Taken out again: the year as it was.
  const again = page.locator('#cal-days li', { has: page.locator(`input[value="${monday}"]`) });
  await again.getByRole('button', { name: '删除这一天' }).click();
  await page.locator('#cal-save').click();
  await page.locator('#cal-changes li').nth(1).waitFor();
  assert.deepEqual(sql(`SELECT count(*) FROM calendar WHERE extract(year FROM day) = ${year}`), [[kept]]);
  await phoneCheck(browser, page, '/#/agency/calendar/' + year, '#cal-form', 'agency-calendar-360');
  await done(page);
});

test('the admin menu names every agency page whose route admits an admin (待遇资格 was lost by a slice), none it refuses', async () => {
  const page = await newPage(browser);
  await staffSession(page, { login: 'admin', password: 'mtcert-admin-2026' });
  await page.goto(URL + '/#/agency/queue');
  await page.locator('nav a', { hasText: '申请队列' }).waitFor();
  const names = await page.locator('nav a').allTextContents();
  // 统计, 病种目录, 抽查审核 and 复核申请 with the region chooser
  // (agency-objections.test.mjs).
  for (const n of ['申请队列', '申请查询', '待确认', '专家库', '待遇资格', '违规处理', '工作日历', '季度复核',
    '统计', '病种目录', '抽查审核', '复核申请']) {
    assert.ok(names.includes(n), n + ' missing from the admin menu: ' + names.join(' '));
  }
  // Agency-only routes (the admin would get 无权访问): not offered.
  for (const n of ['窗口代办', '经办机构信息']) assert.ok(!names.includes(n), n + ' offered to the admin');
  await page.getByRole('link', { name: '工作日历' }).click();
  await page.locator('#cal-form').waitFor();
  for (const [n, h1] of [['违规处理', '违规处理'], ['季度复核', '季度复核'], ['待遇资格', '待遇资格']]) {
    await page.getByRole('link', { name: n, exact: true }).click();
    await page.locator('main h1', { hasText: h1 }).first().waitFor();
    // A part the admin has none of (the sanctions form needs a region)
    // leaves nothing, not the word null.
    assert.doesNotMatch(await page.locator('main').textContent(), /null|undefined/, n);
  }
  await done(page);
});
