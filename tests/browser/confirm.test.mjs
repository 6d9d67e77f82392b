// confirm.test.mjs -- the agency's 待确认 queue and the archive viewer of
// issue 11 in a real browser (Debian's Chromium through nginx, the real
// modules, nothing mocked).  R-CER-11 (the agency confirms a hospital's
// result), S4 三 (an overturned result is void, the qualification is
// cancelled), R-SUP-6 (the form and the images stay in the archive).
// The hospital's own pages are other work of the issue: the hospital's
// result is arranged with SQL as the certification endpoint leaves it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, shot, sql, ctl, newRegion, newPerson, newAgencyUser, staffSession, insuredSession,
  URL, done, fileWithScans,
  idHmac,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// Hospital A certifies it on site and approves (the form, the event,
// confirmation pending, the qualification from today).
function certifyOnSite(reg, appId) {
  const login = 'hospital-' + reg.region;
  ctl('user', 'add', '--role', 'hospital', '--login', login, '--password', 'hospital-pass-1',
    '--institution', reg.hospitals[0]);
  const by = sql(`SELECT id FROM users WHERE login = '${login}'`)[0][0];
  sql(`INSERT INTO certifications (application_id, institution, diagnosis, basis, examinations,
         physician_name, physician_title, conclusion, certified_by)
       VALUES (${appId}, '${reg.hospitals[0]}', '冠状动脉粥样硬化性心脏病', '冠脉造影示前降支狭窄 75%',
         '心电图、冠脉造影', '李明', '副高', 'approve', ${by})`);
  sql(`INSERT INTO events (application_id, type, actor_user, actor_role, data)
       VALUES (${appId}, 'certified_onsite', ${by}, 'hospital',
         jsonb_build_object('conclusion', 'approve', 'institution_name', '${reg.names[0]}'))`);
  sql(`UPDATE applications SET confirmation = 'pending' WHERE id = ${appId}`);
  sql(`SELECT conclude_application(${appId}, true, NULL, NULL)`);
}

test('R-CER-11, S4 三: the agency opens a hospital\'s result from 待确认, overturns it with a reason, the queue empties and the person\'s benefit shows 已取消', async () => {
  const reg = newRegion();
  sql(`UPDATE region_diseases SET review_mode = 'onsite' WHERE region = '${reg.region}' AND disease = 'D013'`);
  const person = newPerson(reg.region, '杨丽华');
  const ip = await newPage(browser);
  await insuredSession(ip, person);
  const appId = await fileWithScans(ip, reg.hospitals[0]);
  certifyOnSite(reg, appId);

  // 待确认: the result with its hospital and conclusion.
  const page = await newPage(browser);
  await staffSession(page, newAgencyUser(reg.region));
  await page.goto(URL + '/#/agency/queue');
  await page.getByRole('link', { name: '待确认' }).click();
  const item = page.locator(`#confirm-queue li[data-app="${appId}"]`);
  await item.waitFor();
  const text = await item.textContent();
  assert.match(text, /杨丽华（\d{4}\*+\d{3}[\dX]）/);
  assert.match(text, new RegExp('认定医院：' + reg.names[0]));
  assert.match(text, /医院结论：符合认定标准/);
  await shot(page, 'c1-agency-confirm-queue');

  // The archive: the form, the images, the timeline.
  await item.getByRole('link', { name: '查看档案并确认（申请编号 ' + appId + '）' }).click();
  await page.waitForURL(new RegExp('#/agency/applications/' + appId + '$'));
  const form = page.locator('#certification');
  await form.waitFor();
  assert.match(await form.textContent(), /冠脉造影示前降支狭窄 75%/);
  assert.match(await form.textContent(), /李明（副高）/);
  const img = page.locator('img.zoomable').first();
  await img.waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('img.zoomable')].every((e) => e.complete && e.naturalWidth > 0));
  assert.match(await page.locator('#timeline').textContent(), /已现场认定：符合认定标准/);
  assert.match(await page.locator('#confirm-outcome').textContent(), /待确认/);
  // The read is in the archive's log.
  assert.equal(sql(`SELECT count(*) FROM access_log WHERE object_type = 'certification' AND object_id = ${appId}`)[0][0], '1');
  await shot(page, 'c2-agency-archive');

  // Nothing chosen, then no reason: said beside the field.
  await page.click('#confirm-submit');
  await page.locator('[data-field="decision"] .field-error').filter({ hasText: '请选择确认或不予确认' }).waitFor();
  await page.getByLabel('不予确认（认定结果无效）').check();
  await page.click('#confirm-submit');
  await page.locator('[data-field="reason"] .field-error').filter({ hasText: '请写明不予确认的理由' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.name), 'reason');
  await page.getByLabel('理由').fill('检查报告与病历不符');
  await page.click('#confirm-submit');
  await page.locator('#status').filter({ hasText: '已不予确认，认定结果无效，待遇资格已取消' }).waitFor();
  const outcome = page.locator('#confirm-outcome');
  assert.match(await outcome.textContent(), /未予确认（结果无效）.*理由：检查报告与病历不符/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm-outcome');
  assert.equal(await page.locator('#confirm-form').count(), 0);
  assert.match(await page.locator('#timeline').textContent(), /医保经办机构未予确认，认定结果无效：检查报告与病历不符/);
  await shot(page, 'c3-agency-overturned');

  // The queue is empty now.
  await page.getByRole('link', { name: '返回待确认' }).click();
  await page.locator('#confirm-empty').filter({ hasText: '没有待确认的认定结果' }).waitFor();

  // The person: the benefit cancelled, with the reason in words.
  await ip.goto(URL + '/#/benefits');
  const q = ip.locator('#benefits li').first();
  await q.filter({ hasText: '已取消' }).waitFor();
  assert.match(await q.textContent(), /认定结果经医保经办机构审核未予确认/);
  await shot(ip, 'c4-insured-benefit-revoked');

  // The archive on a 360 px phone: nothing wider than the screen.
  const phone = await newPage(browser, 360, 740);
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(URL + '/#/agency/applications/' + appId);
  await phone.locator('#certification').waitFor();
  const [sw, cw] = await phone.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(sw <= cw, `archive at 360 px: scrollWidth ${sw} > ${cw}`);
  await shot(phone, 'c5-agency-archive-360');
  for (const p of [page, ip, phone]) await done(p);
});

test('the archive of another region is not found, said in Chinese', async () => {
  const reg = newRegion();
  const page = await newPage(browser);
  await staffSession(page, newAgencyUser(reg.region));
  const other = sql(`SELECT max(id) FROM applications WHERE region <> '${reg.region}'`)[0][0];
  await page.goto(URL + '/#/agency/applications/' + (other || 999999999));
  await page.getByText('申请不存在，或您无权查看').first().waitFor();
  await shot(page, 'c6-agency-archive-not-found');
  await done(page);
});

test('R-CER-13, S4 三: a 海东 person certified by 青海省人民医院 -- 西宁\'s agency reads the archive but the 确认 form is only 海东\'s', async () => {
  const person = newPerson('630200', '祁永福');
  const qhph = 'H63010200143';
  const by = sql("SELECT id FROM users WHERE login = 'hospital-qhph'")[0][0];
  // The hospital's on-site result as certify_onsite leaves it: the
  // application of the person's region, the form, confirmation pending.
  const appId = sql(`INSERT INTO applications (person_id, disease, region, channel, status, review_mode, phone,
         medical_record_no, designated_institution, filing_institution, certifying_institution, filed_by,
         promised_at, submitted_at)
       SELECT p.id, 'D013', '630200', 'hospital', 'submitted', 'onsite', '${person.phone}', 'MZ-HD-1', '${qhph}',
              '${qhph}', '${qhph}', ${by}, now(), now()
       FROM persons p WHERE p.id_number_hmac = '${idHmac(person.id_number)}' RETURNING id`)[0][0];
  sql(`INSERT INTO certifications (application_id, institution, diagnosis, basis, examinations,
         physician_name, physician_title, conclusion, certified_by)
       VALUES (${appId}, '${qhph}', '冠心病', '冠脉造影', '心电图', '李明', '副高', 'approve', ${by})`);
  sql(`UPDATE applications SET confirmation = 'pending' WHERE id = ${appId}`);
  sql(`SELECT conclude_application(${appId}, true, NULL, NULL)`);

  // 西宁 (the hospital's region): the archive, no form, who decides.
  const xining = await newPage(browser);
  await staffSession(xining, { login: 'agency-xining', password: 'mtcert-agency-2026' });
  await xining.goto(URL + '/#/agency/applications/' + appId);
  await xining.locator('#certification').waitFor();
  const who = xining.locator('#confirm-elsewhere');
  await who.waitFor();
  assert.equal(await who.textContent(), '由参保地（海东市）医保经办机构确认');
  assert.equal(await xining.locator('#confirm-form').count(), 0);
  await shot(xining, 'c7-agency-archive-other-region');

  // 海东 (the person's region): the form.
  const haidong = await newPage(browser);
  await staffSession(haidong, { login: 'agency-haidong', password: 'mtcert-agency-2026' });
  await haidong.goto(URL + '/#/agency/applications/' + appId);
  await haidong.locator('#confirm-form').waitFor();
  assert.equal(await haidong.locator('#confirm-elsewhere').count(), 0);
  for (const p of [xining, haidong]) await done(p);
});
