// agency-objections.test.mjs -- issue 12's leftovers in a real browser:
// the agency's 复核申请 (R-CER-12, S3 第九条): the region's objections by
// state, the person masked, each a link to the application's trail; the
// 申请查询 filter 有未结复核申请; and the admin's region chooser on 统计,
// 抽查审核, 病种目录 and 复核申请 (the API answers an admin without a
// region 400).  axe and the size checks on each page, 360 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, phoneCheck, shot, sql, newRegion, newPerson, newAgencyUser, newExpert, staffSession, URL, done,
  idHmac,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// A D001 application of person (filed at the counter: no sign-in of the
// person needed) rejected (conclude_application, as a review leaves it)
// and objected to for the person (file_objection, as POST
// /applications/{id}/objection calls it).  Returns its id.
function rejected(reg, person) {
  const id = sql(`INSERT INTO applications (person_id, disease, region, channel, status, review_mode,
      phone, medical_record_no, designated_institution, filed_by, promised_at, submitted_at)
    SELECT p.id, 'D001', p.region, 'counter', 'in_review', 'single', '${person.phone}', 'ZY-2026-12',
      '${reg.hospitals[0]}', (SELECT id FROM users WHERE login = 'admin'), now(), now()
    FROM persons p WHERE p.id_number_hmac = '${idHmac(person.id_number)}' RETURNING id`)[0][0];
  sql(`SELECT conclude_application(${id}, false, NULL, '病理报告不足以确诊')`);
  return id;
}

function objected(reg, person) {
  const id = rejected(reg, person);
  const r = sql(`SELECT file_objection(${id}, (SELECT id FROM users WHERE login = 'admin'), 'insured', p.id,
      NULL, '补充了三级医院的病理会诊报告')::text
    FROM persons p WHERE p.id_number_hmac = '${idHmac(person.id_number)}'`)[0][0];
  assert.match(r, /"ok"/);
  return id;
}

test('R-CER-12: the agency\'s 复核申请 lists the region\'s objections by state, masked, each to its trail; 申请查询 filters 有未结复核申请', async () => {
  const reg = newRegion();
  // A panel to push (the expected date shows while nobody waits for an
  // expert).
  for (const i of [1, 2, 1]) newExpert(reg.hospitals[i], '肿瘤');
  const p1 = newPerson(reg.region, '马秀兰');
  const p2 = newPerson(reg.region, '韩德明');
  const open = objected(reg, p1);
  // Withdrawn as withdraw_objection leaves it (no panel to cancel).
  const withdrawn = rejected(reg, p2);
  sql(`INSERT INTO objections (application_id, reason, kind, panel_size, deadline, state, decided_at)
    VALUES (${withdrawn}, '理由', 'applicant', 3, cn_today() + 20, 'withdrawn', now())`);
  const deadline = sql(`SELECT to_char(deadline, 'FMYYYY"年"FMMM"月"FMDD"日"') FROM objections
    WHERE application_id = ${open}`)[0][0];
  const agency = newAgencyUser(reg.region);
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/queue');
  await page.click('nav a[href="#/agency/objections"]');
  await page.locator(`#obj-list li[data-app="${open}"]`).waitFor();
  // 复核中 by default: only the open one, its deadline and panel.
  assert.equal(await page.locator('#obj-list li').count(), 1);
  const row = await page.locator(`#obj-list li[data-app="${open}"]`).innerText();
  assert.match(row, /复核中/);
  assert.ok(row.includes('目标日期 ' + deadline), row);
  assert.match(row, /复核专家 3 名，已作出意见 0 名/);
  const text = await page.locator('main').innerText();
  for (const secret of [p1.name, p2.name, p1.id_number, p2.id_number]) {
    assert.ok(!text.includes(secret), secret + ' in the list');
  }
  await shot(page, 'agency-objections');
  // 已撤回, then 全部.
  await page.selectOption('#obj-status', 'withdrawn');
  await page.click('#obj-search');
  await page.locator(`#obj-list li[data-app="${withdrawn}"]`).waitFor();
  assert.equal(await page.locator('#obj-list li').count(), 1);
  await page.selectOption('#obj-status', 'any');
  await page.click('#obj-search');
  await page.locator('#obj-summary', { hasText: '已列出 2 份复核申请' }).waitFor();
  // A row leads to the application's trail.
  await page.click(`#obj-list li[data-app="${open}"] a`);
  await page.waitForURL(new RegExp('#/agency/applications/' + open + '$'));
  await phoneCheck(browser, page, '/#/agency/objections', '#obj-list li', 'agency-objections-360');
  // The progress page: the expected date is the objection's deadline.
  await page.goto(URL + '/#/app/' + open);
  await page.locator('#expected', { hasText: deadline }).waitFor();
  assert.match(await page.locator('#expected').innerText(), /前作出复核结论/);
  // 申请查询: 有未结复核申请.
  await page.goto(URL + '/#/agency/applications');
  await page.locator('#apps-objection').waitFor();
  await page.selectOption('#apps-objection', 'open');
  await page.click('#apps-search');
  await page.locator('#apps-summary', { hasText: '已列出 1 份申请' }).waitFor();
  assert.equal(await page.locator(`#apps-list li[data-app="${open}"]`).count(), 1);
  await shot(page, 'agency-applications-objection');
  await done(page);
});

test('admin: 统计, 抽查审核, 病种目录 and 复核申请 ask for a region first, then show the chosen one', async () => {
  const reg = newRegion();
  const person = newPerson(reg.region, '赵丽华');
  const open = objected(reg, person);
  const page = await newPage(browser);
  await staffSession(page, { login: 'admin', password: 'mtcert-admin-2026' });
  await page.goto(URL + '/#/agency/queue');
  // Every one of these pages is in the admin's menu now (the menu is
  // drawn once GET /me has answered: wait for it, then count).
  await page.locator('nav a[href="#/agency/objections"]').waitFor();
  for (const href of ['#/agency/stats', '#/agency/audits', '#/agency/catalog', '#/agency/objections']) {
    assert.equal(await page.locator(`nav a[href="${href}"]`).count(), 1, href);
  }
  await page.click('nav a[href="#/agency/stats"]');
  await page.locator('#region-needed').waitFor();       // not a 400
  await shot(page, 'admin-region-needed');
  await page.selectOption('#region-choice-select', reg.region);
  await page.click('#region-choice-go');
  await page.locator('#stats-experts-title').waitFor();
  await page.locator('#stats-turnaround-title').waitFor();
  assert.equal(await page.locator('#region-choice-select').inputValue(), reg.region);
  await shot(page, 'admin-stats');
  // The choice is kept for the other pages.
  await page.click('nav a[href="#/agency/objections"]');
  await page.locator(`#obj-list li[data-app="${open}"]`).waitFor();
  await page.click('nav a[href="#/agency/audits"]');
  await page.locator('#audit-form').waitFor();
  assert.match(await page.locator('#audit-form').innerText(), /不低于 10%/);
  await page.click('nav a[href="#/agency/catalog"]');
  await page.locator('#catalog li').first().waitFor();
  const name = sql(`SELECT name FROM regions WHERE code = '${reg.region}'`)[0][0];
  assert.ok((await page.locator('main').innerText()).includes(name));
  await done(page);
});
