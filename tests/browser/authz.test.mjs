// authz.test.mjs -- the agency's authorization editor of issue 11 in a
// real browser (Debian's Chromium through nginx, the real modules, nothing
// mocked): 认定机构 lists the region's hospitals; the editor shows every
// disease with the rule that admits it or the reason the rules refuse it
// (R-CER-9), saves what the server accepts, shows its refusal in Chinese,
// and suspends a hospital with a reason (R-SUP-4).  axe and the size
// checks on each page, and at 360 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, shot, sql, newRegion, newAgencyUser, newPerson, staffSession, insuredSession, URL, done,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('R-CER-9/R-SUP-4: the agency sees which diseases each hospital may certify, grants what the rules allow, is refused the rest with the reason, and suspends a hospital', async () => {
  const reg = newRegion();
  const [a, b] = reg.hospitals;
  // Hospital b: private, level 2, score 84 (the rules refuse it);
  // hospital a: level 2 public (no special diseases at policy 3).
  sql(`UPDATE institutions SET level = 2 WHERE code = '${a}'`);
  sql(`UPDATE institutions SET level = 2, ownership = 'private', score = 84 WHERE code = '${b}'`);
  const agency = newAgencyUser(reg.region);
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/queue');
  await page.getByRole('link', { name: '认定机构' }).click();
  await page.locator('#institutions li').first().waitFor();
  assert.equal(await page.locator('#institutions li').count(), 3);
  assert.match(await page.locator(`#institutions li[data-code="${b}"]`).textContent(), /民营.*上年度考核 84 分/);
  await shot(page, 'z1-agency-institutions');

  // The editor: a special disease is refused for the level-2 public
  // hospital, with the rule in words; a chronic one is allowed.
  await page.locator(`#institutions li[data-code="${a}"] a`).click();
  await page.locator('#authz-list').waitFor();
  assert.match(await page.locator('#authz-D001-why').textContent(), /不符合条件：特殊病须由3级及以上公立医疗机构认定（本院为2级）/);
  assert.match(await page.locator('#authz-D013-why').textContent(), /符合条件：公立医院认定慢性病/);
  assert.ok(await page.locator('#authz-D013 option[value=active]').isEnabled());
  await shot(page, 'z2-authz-editor');

  // It held every disease (from before the rules): saving so is refused
  // beside the list, naming the first disease the rules refuse.
  await page.click('#authz-save');
  await page.locator('[data-field="diseases"] .field-error').filter({ hasText: '恶性肿瘤门诊治疗（D001）：特殊病须由3级' }).waitFor();
  // The special ones dropped and one suspended, without a reason: the
  // server's message beside the reason; with it: saved, the answer drawn.
  for (const d of ['D001', 'D002', 'D003', 'D004', 'D005', 'D006']) await page.locator('#authz-' + d).selectOption('none');
  await page.locator('#authz-D013').selectOption('suspended');
  await page.click('#authz-save');
  await page.locator('[data-field="reason"] .field-error').filter({ hasText: '暂停或取消的原因' }).waitFor();
  await page.getByLabel('原因', { exact: true }).fill('违规办理认定，暂停三个月');
  await page.click('#authz-save');
  await page.locator('#status').filter({ hasText: '已保存' }).waitFor();
  assert.match(await page.locator('#authz-D013-why').textContent(), /暂停.*违规办理认定，暂停三个月/);
  assert.deepEqual(sql(`SELECT status, reason FROM institution_diseases WHERE institution = '${a}' AND disease = 'D013'`)[0],
    ['suspended', '违规办理认定，暂停三个月']);
  assert.equal(sql(`SELECT status FROM institution_diseases WHERE institution = '${a}' AND disease = 'D001'`)[0][0], 'revoked');
  assert.ok(await page.locator('#authz-D001').isDisabled());

  // The private hospital below the score: every disease disabled with
  // the reason; what it held before is refused on save, nothing changed.
  await page.goto(URL + '/#/agency/institutions/' + b);
  await page.locator('#authz-list').waitFor();
  assert.match(await page.locator('#authz-D013-why').textContent(), /上年度考核成绩须达到85分/);
  await page.click('#authz-save');
  await page.locator('[data-field="diseases"] .field-error').filter({ hasText: '不符合认定机构条件' }).waitFor();
  assert.equal(sql(`SELECT count(*) FROM institution_diseases WHERE institution = '${b}' AND status = 'active'`)[0][0], '45');

  // The whole hospital suspended, with a reason.
  await page.goto(URL + '/#/agency/institutions/' + reg.hospitals[2]);
  await page.locator('#authz-list').waitFor();
  await page.getByLabel('医院的认定资格').selectOption('suspended');
  await page.getByLabel('原因', { exact: true }).fill('年度考核发现严重违规');
  await page.click('#authz-save');
  await page.locator('#status').filter({ hasText: '已保存' }).waitFor();
  assert.match(await page.locator('main').textContent(), /认定资格已暂停/);
  assert.equal(sql(`SELECT certification_status FROM institutions WHERE code = '${reg.hospitals[2]}'`)[0][0], 'suspended');

  // A 360 px phone: nothing wider than the screen; axe and sizes.
  const phone = await newPage(browser, 360, 740);
  await phone.context().addCookies(await page.context().cookies());
  for (const [route, ready, name] of [['/#/agency/institutions', '#institutions li', 'z3-institutions-360'],
    ['/#/agency/institutions/' + a, '#authz-list', 'z4-authz-360']]) {
    await phone.goto(URL + route);
    await phone.locator(ready).first().waitFor();
    const [sw, cw] = await phone.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(sw <= cw, `${name}: scrollWidth ${sw} > ${cw}`);
    await shot(phone, name);
  }
  // Another region's hospital: the page says so in Chinese.
  await phone.goto(URL + '/#/agency/institutions/H63010200143');
  await phone.locator('.form-error').filter({ hasText: '未找到该医疗机构' }).waitFor();
  for (const p of [page, phone]) await done(p);
});

// The wizard's hospital choice lists the hospitals that fit the chosen
// disease only (R-CER-8, S1: a psychiatric-only hospital is not offered
// for 高血压); for a disease certified on the spot, only those that may
// certify it now (a suspended authorization is not offered).
test('R-CER-8: the applicant chooses among the hospitals that fit the disease only', async () => {
  const reg = newRegion();
  const [a, b, c] = reg.hospitals;
  sql(`INSERT INTO institution_scopes VALUES ('${c}', 'D006')`);
  sql(`UPDATE region_diseases SET review_mode = 'onsite' WHERE region = '${reg.region}' AND disease = 'D013'`);
  sql(`UPDATE institution_diseases SET status = 'suspended' WHERE institution = '${b}' AND disease = 'D013'`);
  const person = newPerson(reg.region);
  const page = await newPage(browser);
  await insuredSession(page, person);
  const offered = async (search) => {
    // A fresh wizard each time (a new page load, not a hash change).
    await page.goto(URL + '/#/apply');
    await page.reload();
    await page.getByLabel('按名称查找病种').fill(search);
    await page.locator('label.disease').first().click();
    await page.click('#to-details');
    const sel = page.getByLabel(/定点医疗机构/);
    await sel.waitFor();
    return sel.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  };
  assert.deepEqual(await offered('高血压'), [a, b]);
  assert.deepEqual(await offered('重性精神疾病'), [a, b, c]);
  assert.deepEqual(await offered('冠状动脉'), [a]);
  await done(page);
});
