// stats.test.mjs -- the statistics of issue 12 (R-SUP-3, S0 四(二)
// 公开、公平、公正) in a real browser: anyone opens 公开数据 from the home
// page, chooses a region and reads its monthly figures as a chart and a
// table, with no name, ID number or phone anywhere; the region's agency
// reads 统计: the experts' workload per hospital and per expert, the
// turnaround against the targets.  Figures are arranged with SQL in this
// month (China time); the exact figures are tests/api/test_stats.py's.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, phoneCheck, shot, sql, newRegion, newPerson, newAgencyUser, staffSession, URL, done,
  idHmac,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// The first minutes of this month in China time, plus n minutes.
const at = (n) => `(date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + interval '${n} minutes')` +
  " AT TIME ZONE 'Asia/Shanghai'";

// A decided application of person (channel web, online target).
function decided(person, hospital, status) {
  return sql(`INSERT INTO applications (person_id, disease, region, channel, status, review_mode, phone,
      medical_record_no, designated_institution, filed_by, promised_at, submitted_at, decided_at)
    SELECT id, 'D013', region, 'web', '${status}', 'double', '${person.phone}', 'MR1', '${hospital}',
      (SELECT id FROM users WHERE login = 'admin'), ${at(1)}, ${at(1)}, ${at(3)}
    FROM persons WHERE id_number_hmac = '${idHmac(person.id_number)}' RETURNING id`)[0][0];
}

// An expert of hospital with one decided assignment of app this month.
function expertWithTask(hospital, name, app) {
  const uid = sql(`INSERT INTO users (login, role, password_hash, institution, display_name)
    SELECT 'ex-' || md5(random()::text), 'expert', password_hash, '${hospital}', '${name}'
    FROM users WHERE login = 'admin' RETURNING id`)[0][0];
  sql(`INSERT INTO experts (user_id, title) VALUES (${uid}, '副高')`);
  sql(`INSERT INTO assignments (application_id, stage, expert_id, state, pool_size, pushed_at,
      accept_deadline, accepted_at, ended_at, decision, hospital)
    VALUES (${app}, 1, ${uid}, 'decided', 3, ${at(1)}, ${at(1)} + interval '1 day', ${at(2)}, ${at(3)},
      'approve', '${hospital}')`);
}

test('R-SUP-3 / S0 四(二): 公开数据 from the home page, no personal data; the agency reads 统计', async () => {
  const reg = newRegion();
  const [a, b] = reg.hospitals;
  const p1 = newPerson(reg.region, '马秀兰');
  const p2 = newPerson(reg.region, '韩德明');
  const x = decided(p1, a, 'approved');
  decided(p2, a, 'rejected');
  expertWithTask(a, '专家赵', x);
  expertWithTask(b, '专家钱', x);
  const regionName = sql(`SELECT name FROM regions WHERE code = '${reg.region}'`)[0][0];

  // Anyone: the home page links 公开数据.
  const page = await newPage(browser);
  await page.goto(URL + '/#/');
  await page.click('#home-stats');
  await page.locator('#stats-region-select').waitFor();
  await page.selectOption('#stats-region-select', reg.region);
  await page.click('#stats-show');
  await page.locator('#stats-title').filter({ hasText: regionName }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'stats-title');
  const row = page.locator('#stats-table tbody tr').first();
  const cells = await row.locator('td').allTextContents();
  // This month (the newest, first): 2 submitted, 2 decided, 1 approved, 50 %, 0 days.
  assert.deepEqual(cells.slice(1), ['2', '2', '1', '50%', '0']);
  assert.equal(await page.locator('#stats-chart').getAttribute('role'), 'img');
  const text = await page.locator('main').innerText();
  for (const secret of [p1.name, p2.name, p1.id_number, p1.phone, p2.phone, '专家赵']) {
    assert.ok(!text.includes(secret), secret + ' on the public page');
  }
  await shot(page, 'stats-public');
  await phoneCheck(browser, page, '/#/stats', '#stats-table', 'stats-public-360');
  await done(page);

  // The agency: 统计 in its menu.
  const agency = newAgencyUser(reg.region);
  const ap = await newPage(browser);
  await staffSession(ap, agency);
  await ap.goto(URL + '/#/agency/queue');
  await ap.click('nav a[href="#/agency/stats"]');
  await ap.locator('#stats-hospitals').waitFor();
  const hosp = await ap.locator('#stats-hospitals tbody tr').allTextContents();
  assert.equal(hosp.length, 2);
  assert.ok(hosp[0].includes(reg.names[0]));
  const experts = await ap.locator('#stats-experts-table').innerText();
  assert.ok(experts.includes('专家赵') && experts.includes('专家钱'));
  await ap.locator('#stats-total').waitFor();
  assert.match(await ap.locator('#stats-total').innerText(), /通过 1 件（50%）/);
  assert.match(await ap.locator('#stats-targets').innerText(), /网上申请 8 个工作日/);
  // A bad range: the server's Chinese refusal beside the field.
  await ap.fill('#stats-from', '2026-10-31');
  await ap.fill('#stats-to', '2026-10-01');
  await ap.click('#stats-turnaround-show');
  await ap.locator('#stats-from-err').filter({ hasText: '开始日期不能晚于结束日期' }).waitFor();
  await shot(ap, 'agency-stats');
  await phoneCheck(browser, ap, '/#/agency/stats', '#stats-hospitals', 'agency-stats-360');
  await done(ap);
});
