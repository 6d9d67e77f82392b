// objection.test.mjs -- 申请复核 in a real browser (R-CER-12; S3 第九条:
// within 10 days of the result).  A rejected application's progress page
// shows the last day and the 申请复核 button; the form takes the reason,
// then offers the uploads (the wizard's upload form); the timeline shows
// the objection; a refusal of the server is shown in plain Chinese; the
// window's end is said.  axe and the size checks on each page, 360 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  launch, newPage, shot, sql, newRegion, newPerson, insuredSession, URL, done, FIXTURES,
  uploadOne, phoneCheck as phoneCheckIn,
  idHmac,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// A D001 application of person, rejected daysAgo days ago (the rows a
// review leaves: conclude_application, sql/fn/30_review.sql), without
// driving an expert through the inbox.  Returns its id.
function rejectedApplication(reg, person, daysAgo = 0) {
  const id = sql(`INSERT INTO applications (person_id, disease, region, channel, status, review_mode,
      phone, medical_record_no, designated_institution, filed_by, promised_at, submitted_at)
    SELECT p.id, 'D001', p.region, 'web', 'in_review', 'single', '${person.phone}', 'ZY-2026-12',
      '${reg.hospitals[0]}', u.id, now(), now()
    FROM persons p JOIN users u ON u.person_id = p.id AND u.role = 'insured'
    WHERE p.id_number_hmac = '${idHmac(person.id_number)}' RETURNING id`)[0][0];
  sql(`SELECT conclude_application(${id}, false, NULL, '病理报告不足以确诊')`);
  if (daysAgo) {
    sql(`UPDATE applications SET decided_at = now() - interval '${daysAgo} days' WHERE id = ${id}`);
    sql(`INSERT INTO events (application_id, type, actor_role) VALUES (${id}, 'updated', 'system')`);
  }
  return id;
}

test('R-CER-12/S3 第九条: a rejected application offers 申请复核 with its last day; the reason, the uploads and the timeline', async () => {
  const reg = newRegion();
  const person = newPerson(reg.region);
  const page = await newPage(browser);
  await insuredSession(page, person);
  const id = rejectedApplication(reg, person);
  const lastDay = sql(`SELECT to_char((decided_at AT TIME ZONE 'Asia/Shanghai')::date + 10, 'FMYYYY"年"FMMM"月"FMDD"日"')
    FROM applications WHERE id = ${id}`)[0][0];
  await page.goto(URL + '/#/app/' + id);
  const box = page.locator('#objection');
  await box.waitFor();
  assert.match(await box.textContent(), new RegExp('最后一天：' + lastDay));
  await shot(page, 'objection-offer');
  await page.click('#object');
  await page.locator('#objection-form').waitFor();
  assert.match(await page.locator('#objection-form').textContent(), /病理报告不足以确诊/);
  await shot(page, 'objection-form');
  // Empty: said beside the field, nothing sent.
  await page.click('#objection-submit');
  assert.match(await page.locator('[data-field="reason"] .field-error').textContent(), /请填写复核理由/);
  await page.getByLabel('复核理由').fill('补充了三级医院的病理会诊报告，请重新认定。');
  await page.click('#objection-submit');
  // Filed: the uploads, focused.
  await page.locator('#objection-materials:focus').waitFor();
  assert.equal(sql(`SELECT state, kind FROM objections WHERE application_id = ${id}`)[0].join(' '), 'open applicant');
  await uploadOne(page, '病理报告（穿刺、术后病检、切检、活检）', path.join(FIXTURES, 'record.png'), '测试市第乙人民医院');
  await page.locator('#status', { hasText: '上传成功' }).waitFor();
  assert.equal(sql(`SELECT count(*) FROM materials WHERE application_id = ${id}`)[0][0], '1');
  await shot(page, 'objection-materials');
  await phoneCheckIn(browser, page, '/#/app/' + id + '/objection', '#objection-materials', 'objection-360');
  // The progress page: the objection and the timeline.
  await page.goto(URL + '/#/app/' + id);
  await page.locator('#objection', { hasText: '复核中' }).waitFor();
  assert.match(await page.locator('#timeline').textContent(), /已申请复核，将由3名未参与原认定的专家重新认定/);
  await done(page);
});

test('R-CER-12: past the window the page says so; a refusal of the server is shown in plain Chinese', async () => {
  const reg = newRegion();
  const person = newPerson(reg.region);
  const page = await newPage(browser);
  await insuredSession(page, person);
  const late = rejectedApplication(reg, person, 11);
  await page.goto(URL + '/#/app/' + late);
  await page.locator('#objection', { hasText: '申请复核的期限已过' }).waitFor();
  assert.equal(await page.locator('#object').count(), 0);
  await shot(page, 'objection-closed');
  // Open when the page was drawn, closed when sent: the server's 422.
  // (A rejected application is not open: the same person has a second.)
  const id = rejectedApplication(reg, person);
  await page.goto(URL + '/#/app/' + id + '/objection');
  await page.locator('#objection-form').waitFor();
  sql(`UPDATE applications SET decided_at = now() - interval '11 days' WHERE id = ${id}`);
  await page.getByLabel('复核理由').fill('我不同意');
  await page.click('#objection-submit');
  await page.locator('.form-error', { hasText: '已超过申请复核的期限：须在收到认定结果之日起 10 日内提出' }).waitFor();
  await done(page);
});
