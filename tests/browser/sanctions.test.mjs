// sanctions.test.mjs -- 违规处理 and 专家库 (issue 12 item 6 and item 8's
// expert pool; R-SUP-4, S2 五, R-CER-4) in a real browser: the agency
// reads what a sanction will do before it records it, records one against
// a hospital (the hospital's certification suspended at once) and sees it
// listed; on 专家库 it adds an expert, suspends one with a reason and
// reinstates it.  axe (WCAG 2.1 AA) and the size checks on each page, and
// at 360 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, phoneCheck, shot, sql, newRegion, newPerson, newAgencyUser, staffSession, URL, done,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('R-SUP-4 / S2 五(三): the agency suspends a hospital on 违规处理; the effect is said first and takes hold', async () => {
  const reg = newRegion();
  const agency = newAgencyUser(reg.region);
  const p = newPerson(reg.region, '钱有财');
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/queue');
  await page.getByRole('link', { name: '违规处理' }).click();
  await page.locator('#sanction-form').waitFor();
  assert.match(await page.locator('#sanction-effect').textContent(), /停止享受待遇.*不会自动恢复/);
  // The kinds follow the subject type, each with its effect.
  await page.getByLabel('处理对象类别').selectOption('institution');
  assert.match(await page.locator('#sanction-effect').textContent(), /暂停认定资格.*不能再做门诊慢特病认定/);
  await page.getByLabel('处理方式').selectOption('revoke_certification');
  assert.match(await page.locator('#sanction-effect').textContent(), /不会自动恢复/);
  assert.equal(await page.getByLabel(/最后一天/).isVisible(), false, 'a revocation has no last day');
  await page.getByLabel('处理方式').selectOption('suspend_certification');
  // Nothing typed: the error is beside the field, in Chinese.
  await page.click('#sanction-save');
  assert.match(await page.locator('[data-field="subject"] .field-error').textContent(), /请填写医疗机构编码/);
  // Another region's code: the server's refusal beside the field.
  await page.getByLabel('医疗机构编码').fill('H41120000001');
  await page.getByLabel('处理原因').fill('违规办理认定，限期整改');
  await page.click('#sanction-save');
  await page.locator('[data-field="subject"] .field-error', { hasText: '不属于您的统筹区' }).waitFor();
  await page.getByLabel('医疗机构编码').fill(reg.hospitals[0]);
  await page.getByLabel(/最后一天/).fill(sql("SELECT cn_today() + 90")[0][0]);
  await page.click('#sanction-save');
  await page.locator('#sanctions li[data-sanction]').first().waitFor();
  const item = await page.locator('#sanctions li[data-sanction]').first().textContent();
  assert.match(item, /暂停认定资格/);
  assert.match(item, /测试市第甲人民医院/);
  assert.match(item, /执行中/);
  assert.deepEqual(sql(`SELECT certification_status FROM institutions WHERE code = '${reg.hospitals[0]}'`), [['suspended']]);
  // A recovery of funds: the amount shown with two decimals, the ID number masked.
  await page.getByLabel('处理对象类别').selectOption('person');
  await page.getByLabel('处理方式').selectOption('recover_funds');
  await page.getByLabel('参保人身份证号').fill(p.id_number);
  await page.getByLabel('追回金额（元）').fill('1280.5');
  await page.getByLabel('处理原因').fill('虚开检查单据骗取医保基金');
  await page.click('#sanction-save');
  await page.locator('#sanctions li', { hasText: '1280.50 元' }).waitFor();
  assert.ok(!(await page.content()).includes(p.id_number), 'the whole ID number is nowhere');
  await shot(page, 's1-agency-sanctions');
  await phoneCheck(browser, page, '/#/agency/sanctions', '#sanctions li[data-sanction]', 's1-agency-sanctions-360');
  await done(page);
});

test('R-CER-4: 专家库 adds an expert, suspends one with a reason, reinstates it', async () => {
  const reg = newRegion();
  const agency = newAgencyUser(reg.region);
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/experts');
  await page.locator('#expert-form').waitFor();
  // Nothing chosen: the server names the first field.
  await page.click('#expert-add');
  await page.locator('#expert-form .field-error:not(:empty)').first().waitFor();
  const login = 'expert-sa-' + Date.now().toString(36);
  await page.getByLabel('所在医院').selectOption(reg.hospitals[1]);
  await page.getByLabel('职称').selectOption('正高');
  await page.getByLabel('心血管').check();
  await page.getByLabel('登录账号').fill(login);
  await page.getByLabel('初始密码').fill('expert-pass-1');
  await page.click('#expert-add');
  const li = page.locator('#experts li', { hasText: login });
  await li.waitFor();
  assert.match(await li.textContent(), /测试市第乙人民医院 · 正高 · 心血管/);
  assert.match(await li.textContent(), /在库/);
  await li.locator('[data-action="suspend"]').click();
  await li.getByLabel('暂停原因').fill('本月连续三次未受理任务');
  await li.locator('[data-action="suspend-confirm"]').click();
  await li.locator('.status-reason').waitFor();
  assert.match(await li.textContent(), /暂停.*原因：本月连续三次未受理任务/);
  assert.deepEqual(sql(`SELECT e.status FROM experts e JOIN users u ON u.id = e.user_id WHERE u.login = '${login}'`),
    [['suspended']]);
  await shot(page, 's2-agency-experts');
  await li.locator('[data-action="reinstate"]').click();
  await li.locator('[data-action="suspend"]').waitFor();
  assert.deepEqual(sql(`SELECT e.status FROM experts e JOIN users u ON u.id = e.user_id WHERE u.login = '${login}'`),
    [['active']]);
  await phoneCheck(browser, page, '/#/agency/experts', '#experts li', 's2-agency-experts-360');
  await done(page);
});
