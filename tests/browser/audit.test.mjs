// audit.test.mjs -- audit samples in a real browser (issue 12 item 3;
// R-SUP-1, S0 五(二) 按不低于 10% 的比例抽审, S3 第二十条): the agency
// opens 抽查审核, reads the region's minimum, is refused in Chinese below
// it, draws a sample, reads the report (persons masked, the seed),
// fails one item with a note (the qualification is cancelled) and
// passes the other; the report prints without the menu and the forms.
// Qualifications are arranged with SQL (newQualification).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, phoneCheck, shot, sql, newRegion, newPerson, newAgencyUser, newQualification, staffSession,
  URL, done, cnDate,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('R-SUP-1 / S0 五(二): the agency draws an audit sample, fails one item and prints the report', async () => {
  const reg = newRegion();
  const agency = newAgencyUser(reg.region);
  const p1 = newPerson(reg.region, '马秀兰');
  const p2 = newPerson(reg.region, '韩德明');
  const q1 = newQualification(p1, reg.hospitals[0]);
  const q2 = newQualification(p2, reg.hospitals[1]);
  // Approved 30 days ago (newQualification's valid_from).
  sql(`UPDATE qualifications SET created_at = now() - interval '30 days' WHERE id IN (${q1}, ${q2})`);

  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/queue');
  await page.getByRole('link', { name: '抽查审核' }).click();
  await page.locator('#audit-form').waitFor();
  assert.match(await page.locator('#audit-form').textContent(), /不低于 10%/);
  await page.locator('#audit-none').waitFor();
  await shot(page, 'au1-audits-empty');

  // Below the minimum: the server's refusal in Chinese beside the rate.
  await page.getByLabel('开始日期').fill(cnDate(40));
  await page.getByLabel('结束日期').fill(cnDate(0));
  await page.getByLabel('抽查比例（%）').fill('5');
  await page.click('#audit-draw');
  const rateErr = page.locator('[data-field="rate"] .field-error');
  await rateErr.filter({ hasText: '不能低于' }).waitFor();
  assert.match(await rateErr.textContent(), /最低比例 10%/);
  assert.equal(await page.getByLabel('抽查比例（%）').evaluate((e) => e === document.activeElement), true);
  // A period with nothing approved: said in words.
  await page.getByLabel('开始日期').fill(cnDate(400));
  await page.getByLabel('结束日期').fill(cnDate(300));
  await page.getByLabel('抽查比例（%）').fill('100');
  await page.click('#audit-draw');
  await page.locator('[data-field="from"] .field-error').filter({ hasText: '没有通过认定的待遇资格' }).waitFor();

  // 100 % of two: the report opens with both, masked.
  await page.getByLabel('开始日期').fill(cnDate(40));
  await page.getByLabel('结束日期').fill(cnDate(0));
  await page.click('#audit-draw');
  await page.locator('#audit-table tbody tr').first().waitFor();
  const id = sql(`SELECT id FROM audits WHERE region = '${reg.region}'`)[0][0];
  assert.equal(await page.evaluate(() => location.hash), '#/agency/audits/' + id);
  const table = await page.locator('#audit-table').textContent();
  assert.ok(table.includes('马*兰') && table.includes('韩*明'), 'names masked');
  assert.ok(!(await page.content()).includes(p1.id_number), 'the whole ID number is nowhere');
  assert.ok(!(await page.content()).includes('马秀兰'), 'the whole name is nowhere');
  assert.match(await page.locator('#audit-counts').textContent(), /待核查 2 条/);
  await shot(page, 'au2-audit-report');

  // 不通过 without a note: asked for; with it, the qualification ends.
  const itemOf = (qid) => sql(`SELECT id FROM audit_items WHERE audit_id = ${id} AND qualification_id = ${qid}`)[0][0];
  const f1 = page.locator(`form[data-item="${itemOf(q1)}"]`);
  await f1.getByLabel('不通过（取消待遇资格）').check();
  await f1.getByRole('button').click();
  await f1.locator('[data-field="note"] .field-error').filter({ hasText: '请写明' }).waitFor();
  await f1.getByLabel('说明').fill('病历中无诊断依据');
  await f1.getByRole('button').click();
  await page.locator('#audit-counts').filter({ hasText: '不通过 1 条' }).waitFor();
  assert.equal(await page.locator('#audit-counts').evaluate((e) => e === document.activeElement), true,
    'focus on the counts after a result');
  await page.locator('#status').filter({ hasText: '待遇资格已取消' }).waitFor();
  assert.deepEqual(sql(`SELECT status, end_reason FROM qualifications WHERE id = ${q1}`), [['revoked', 'audit_failed']]);
  const row = await page.locator(`#audit-table tr[data-item="${itemOf(q1)}"]`).textContent();
  assert.match(row, /不通过/);
  assert.match(row, /病历中无诊断依据/);
  await page.locator(`form[data-item="${itemOf(q2)}"]`).getByLabel('通过', { exact: true }).check();
  await page.locator(`form[data-item="${itemOf(q2)}"]`).getByRole('button').click();
  await page.locator('#audit-counts').filter({ hasText: '通过 1 条，不通过 1 条，待核查 0 条' }).waitFor();
  assert.equal(await page.locator('form[data-item]').count(), 0);
  await shot(page, 'au3-audit-done');

  // 打印: the report without the menu, the buttons and the forms.
  await page.emulateMedia({ media: 'print' });
  const hidden = await page.evaluate(() => ['nav', '#audit-print']
    .map((s) => getComputedStyle(document.querySelector(s).closest('.no-print, nav') || document.body).display));
  assert.deepEqual(hidden, ['none', 'none']);
  assert.notEqual(await page.locator('#audit-table').evaluate((e) => getComputedStyle(e).display), 'none');
  await page.emulateMedia({ media: 'screen' });

  await phoneCheck(browser, page, '/#/agency/audits/' + id, '#audit-table tbody tr', 'au4-audit-report-360');
  await page.getByRole('link', { name: '返回抽查审核' }).click();
  await page.locator(`#audit-list li[data-audit="${id}"]`).waitFor();
  assert.match(await page.locator(`#audit-list li[data-audit="${id}"]`).textContent(), /已全部核查/);
  await phoneCheck(browser, page, '/#/agency/audits', '#audit-list li', 'au5-audits-360');
  await done(page);
});
