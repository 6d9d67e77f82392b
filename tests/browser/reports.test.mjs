// reports.test.mjs -- the quarterly certification table (issue 11 item 3;
// R-SUP-2, S4 西宁转发文 四(二): 每季度结束后10个工作日内送交) in a real
// browser: hospital staff see their table of the last ended quarter,
// download the CSV, print it (the table alone), send it; the region's
// agency then reads 已报送 beside the hospital.  Certifications are
// arranged with SQL (the on-site endpoint is built elsewhere).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  launch, newPage, phoneCheck, shot, sql, newRegion, newPerson, newAgencyUser, staffSession, URL, done, ctl, pdfText,
  idHmac,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// A hospital staff account of institution.
function newHospitalUser(institution) {
  const login = 'hospital-' + institution.toLowerCase();
  ctl('user', 'add', '--role', 'hospital', '--login', login, '--password', 'hospital-pass-1',
    '--institution', institution);
  return { login, password: 'hospital-pass-1', id: sql(`SELECT id FROM users WHERE login = '${login}'`)[0][0] };
}

// An on-site certification of person by hospital (user by) on day
// (an SQL date expression) at 10:00 China time: its application id.
function certified(person, hospital, by, day, conclusion = 'approve') {
  const app = sql(`INSERT INTO applications (person_id, disease, region, channel, status, review_mode, phone,
      medical_record_no, designated_institution, filing_institution, filed_by, certifying_institution,
      promised_at, submitted_at, decided_at)
    SELECT id, 'D013', region, 'hospital', 'approved', 'onsite', '${person.phone}', 'MR1', '${hospital}', '${hospital}',
      ${by}, '${hospital}', now(), now(), now() FROM persons WHERE id_number_hmac = '${idHmac(person.id_number)}'
    RETURNING id`)[0][0];
  sql(`INSERT INTO certifications (application_id, institution, diagnosis, basis, examinations, physician_name,
      physician_title, conclusion, reason, certified_by, certified_at)
    VALUES (${app}, '${hospital}', '原发性高血压2级', '病史与动态血压', '动态血压监测', '李建国', '副高',
      '${conclusion}', ${conclusion === 'approve' ? 'NULL' : "'血压未达标准'"}, ${by},
      ((${day})::timestamp + interval '10 hours') AT TIME ZONE 'Asia/Shanghai')`);
  return app;
}

// The same page on a 360 px phone: nothing wider than the screen, and
// the axe and size checks.

test('R-SUP-2 / S4: a hospital downloads, prints and sends its quarterly table; its agency sees 已报送', async () => {
  const reg = newRegion();
  const [a, b] = reg.hospitals;
  const staff = newHospitalUser(a);
  const agency = newAgencyUser(reg.region);
  const quarter = sql('SELECT quarter_before(cn_today())')[0][0];
  const p1 = newPerson(reg.region, '马秀兰');
  const p2 = newPerson(reg.region, '韩德明');
  certified(p1, a, staff.id, `quarter_last_day('${quarter}') - 20`);
  certified(p2, a, staff.id, `quarter_last_day('${quarter}') - 3`, 'reject');

  const page = await newPage(browser);
  await staffSession(page, staff);
  await page.goto(URL + '/#/hospital');
  await page.getByRole('link', { name: '季度认定表' }).click();
  await page.locator('#report-table tbody tr').first().waitFor();
  assert.equal(await page.getByLabel('季度', { exact: true }).inputValue(), quarter, 'the last ended quarter is shown first');
  const rows = await page.locator('#report-table tbody tr').allTextContents();
  assert.equal(rows.length, 2);
  assert.match(rows[0], /马秀兰/);
  assert.match(rows[1], /韩德明.*不通过/);
  const masked = p1.id_number.slice(0, 4) + '*'.repeat(10) + p1.id_number.slice(-4);
  assert.ok(rows[0].includes(masked), 'ID number masked');
  assert.ok(!(await page.content()).includes(p1.id_number), 'the whole ID number is nowhere');
  assert.match(await page.locator('#report-sent').textContent(), /尚未报送/);
  await shot(page, 'r1-hospital-report');

  // 下载CSV: the same rows, UTF-8 with a BOM, Chinese headers.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#report-csv')]);
  assert.equal(dl.suggestedFilename(), `quarterly-${a}-${quarter}.csv`);
  const bytes = fs.readFileSync(await dl.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const lines = bytes.toString('utf8').slice(1).trim().split('\r\n');
  assert.equal(lines[0], '申请编号,认定时间,姓名,身份证号,险种,病种编码,病种名称,认定方式,认定结论,认定医师');
  assert.equal(lines.length, 3);
  assert.ok(lines[1].includes(',马秀兰,' + masked + ',城乡居民医保,D013,'));
  assert.ok(lines[2].includes(',韩德明,') && lines[2].includes(',现场认定,不通过,李建国'));

  // 打印: the table alone (no menu, no buttons), its caption the title.
  await page.emulateMedia({ media: 'print' });
  const hidden = await page.evaluate(() => ['nav', '#report-csv', '#report-print', '#report-send', 'form']
    .map((s) => getComputedStyle(document.querySelector(s).closest('.no-print, nav') || document.body).display));
  assert.deepEqual(hidden, ['none', 'none', 'none', 'none', 'none']);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'report-')), 'report.pdf');
  await page.pdf({ path: file, preferCSSPageSize: true });
  const { text, pages } = pdfText(file);
  const flat = text.replace(/\s+/g, '');
  assert.equal(pages, 1);
  for (const x of ['测试市第甲人民医院', '门诊慢特病认定表', '马秀兰', '韩德明', masked, '认定医师']) {
    assert.ok(flat.includes(x), x);
  }
  await page.emulateMedia({ media: 'screen' });

  await phoneCheck(browser, page, '/#/hospital/reports', '#report-table tbody tr', 'r2-hospital-report-360');

  // 报送医保经办机构: sent, in words, and the button is gone.
  await page.click('#report-send');
  await page.locator('#report-sent').filter({ hasText: '已于' }).waitFor();
  assert.match(await page.locator('#report-sent').textContent(), /共 2 条/);
  await page.locator('#status').filter({ hasText: '已报送' }).waitFor();
  assert.equal(await page.locator('#report-send').count(), 0);
  assert.deepEqual(sql(`SELECT row_count FROM quarterly_reports WHERE institution = '${a}' AND quarter = '${quarter}'`),
    [['2']]);
  await shot(page, 'r3-hospital-report-sent');

  // The agency: 已报送 beside hospital A, the others not sent -- in words.
  const ap = await newPage(browser);
  await staffSession(ap, agency);
  await ap.goto(URL + '/#/agency/queue');
  await ap.getByRole('link', { name: '认定表报送' }).click();
  await ap.locator('#reports-list li').first().waitFor();
  const itemA = ap.locator(`#reports-list li[data-code="${a}"]`);
  assert.match(await itemA.textContent(), /已报送/);
  assert.match(await itemA.textContent(), /认定记录 2 条/);
  const itemB = await ap.locator(`#reports-list li[data-code="${b}"]`).textContent();
  assert.match(itemB, /逾期未报送|未到截止日期/);
  assert.match(await ap.locator('#reports-count').textContent(), /已报送 1 家/);
  await shot(ap, 'r4-agency-reports');
  await phoneCheck(browser, ap, '/#/agency/reports', '#reports-list li', 'r5-agency-reports-360');

  // A quarter with nothing: said in words, and no table.
  await page.getByLabel('季度', { exact: true }).selectOption({ index: 8 });
  await page.click('#report-show');
  await page.locator('#report-empty').waitFor();
  assert.equal(await page.locator('#report-title').evaluate((e) => e === document.activeElement), true,
    'focus moves to the chosen quarter');
  for (const p of [page, ap]) await done(p);
});
