// onsite.test.mjs -- hospital staff's 现场认定 (issue 11, items 2 and 3) in a
// real browser: Xining's flow of S4 (医疗鉴定 → 认定表 → 影像资料上传 → 享受
// 待遇) end to end, a suspended authorization refused with its reason in
// Chinese, the archive record, axe and the size checks on every page, and
// the pages at 360 px.  Requirement ids: R-CER-8 (on-site certification),
// R-CER-11 (the agency confirms after), R-SUP-6 (the archive).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, shot, sql, ctl, newPerson, newRegion, staffSession, URL, done, FIXTURES,
  onsiteFile, onsiteUploadAll, onsiteFillForm,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const QHPH = { login: 'hospital-qhph', password: 'mtcert-hospital-2026' };
const HDYY = { login: 'hospital-hdyy', password: 'mtcert-hospital-2026' };

const CORONARY = {
  diagnosis: '冠状动脉粥样硬化性心脏病', basis: '冠脉造影示前降支狭窄75%', examinations: '冠脉造影、心电图',
  doctor: '李明', title: '副高',
};
const fileFor = onsiteFile;
const uploadAll = onsiteUploadAll;
const fillForm = (page, conclusion) => onsiteFillForm(page, CORONARY, conclusion);

test('R-CER-8, S4: 青海省人民医院 certifies a Xining person on site: upload, approve, the qualification shown', async () => {
  const person = newPerson('630100', '陈玉梅');
  const page = await newPage(browser);
  await staffSession(page, QHPH);
  await page.goto(URL + '/#/hospital/onsite');
  await page.locator('h1', { hasText: '现场认定' }).waitFor();
  await shot(page, 'o1-onsite-queue');
  const id = await fileFor(page, person, '冠状动脉粥样硬化性心脏病');
  await page.locator('#certify-form').waitFor();
  await shot(page, 'o2-onsite-record-waiting');
  // The form refuses to send without a conclusion, beside the choice.
  await page.getByLabel('诊断').fill('冠心病');
  await page.getByLabel('认定依据').fill('依据');
  await page.getByLabel('检查检验结果').fill('心电图');
  await page.getByLabel('认定医师姓名').fill('李明');
  await page.click('#onsite-certify');
  await page.locator('[data-field=conclusion] .field-error').filter({ hasText: '请选择认定结论' }).waitFor();
  // Without the images the server refuses, in Chinese.
  await fillForm(page, '予以认定');
  await page.click('#onsite-certify');
  await page.locator('.form-error').filter({ hasText: /材料/ }).first().waitFor();
  const n = await uploadAll(page);
  assert.ok(n > 0);
  await fillForm(page, '予以认定');
  await page.click('#onsite-certify');
  const result = page.locator('#onsite-result');
  await result.filter({ hasText: '已生成门诊慢特病待遇资格' }).waitFor();
  const [from] = sql(`SELECT valid_from FROM qualifications WHERE application_id = ${id}`)[0];
  const [y, m, d] = from.split('-').map(Number);
  assert.match(await result.textContent(), new RegExp(`${y}年${m}月${d}日`));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'onsite-result');
  assert.equal(sql(`SELECT conclusion, physician_title FROM certifications WHERE application_id = ${id}`)[0].join(), 'approve,副高');
  await shot(page, 'o3-onsite-approved');
  // The archive lists it as done and opens the record with its images.
  await page.goto(URL + '/#/hospital/onsite');
  await page.locator(`a[href="#/hospital/onsite/${id}"]`, { hasText: '查看认定档案' }).click();
  await page.locator('#images li').first().waitFor();
  assert.ok((await page.locator('main').textContent()).includes('等待确认'));
  // No ID number or name in any address the page asked for.
  assert.ok(!page.urls.some((u) => u.includes(person.id_number) || u.includes(encodeURIComponent(person.name))));
  await done(page);

  // The same pages on a 360 px phone.
  const phone = await newPage(browser, 360, 740);
  await staffSession(phone, QHPH);
  await phone.goto(URL + `/#/hospital/onsite/${id}`);
  await phone.locator('#onsite-result').waitFor();
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= 360));
  await shot(phone, 'o4-onsite-record-360');
  await phone.goto(URL + '/#/hospital/onsite/new');
  await phone.locator('#onsite-file').waitFor();
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= 360));
  await shot(phone, 'o5-onsite-new-360');
  await done(phone);
});

test('R-CER-8, R-SUP-4: a suspended authorization is refused with the reason in Chinese', async () => {
  const person = newPerson('630200', '祁永福');
  const page = await newPage(browser);
  await staffSession(page, HDYY);
  const id = await fileFor(page, person, '冠状动脉粥样硬化性心脏病');
  await page.locator('#certify-form').waitFor();
  await uploadAll(page);
  sql("UPDATE institution_diseases SET status = 'suspended' WHERE institution = 'H63020000001' AND disease = 'D013'");
  try {
    await fillForm(page, '予以认定');
    await page.click('#onsite-certify');
    const err = page.locator('.form-error').filter({ hasText: '认定授权已被暂停' });
    await err.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.className), 'form-error');
    await shot(page, 'o6-onsite-refused');
  } finally {
    sql("UPDATE institution_diseases SET status = 'active' WHERE institution = 'H63020000001' AND disease = 'D013'");
  }
  assert.equal(sql(`SELECT count(*) FROM certifications WHERE application_id = ${id}`)[0][0], '0');
  await done(page);
});

test('an 11 MiB image is refused beside the file field before any request is sent; the label names the same limit', async () => {
  const person = newPerson('630100', '马秀英');
  const page = await newPage(browser);
  await staffSession(page, QHPH);
  await fileFor(page, person, '冠状动脉粥样硬化性心脏病');
  await page.locator('#certify-form').waitFor();
  // The label and the check are one number (api.js MAX_UPLOAD_MB, the
  // default of the region policy material_max_bytes).
  await page.getByLabel('选择文件（照片或 PDF，单个不超过 10 MB）').waitFor();
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
  await page.locator('input[type=file]').setInputFiles({ name: 'ct.png', mimeType: 'image/png',
    buffer: Buffer.alloc(11 * 1048576, 0x20) });
  await page.click('#onsite-upload');
  const err = page.locator('[data-field="file"] .field-error');
  await err.filter({ hasText: '文件过大' }).waitFor();
  assert.match(await err.textContent(), /单个文件不能超过 10 MB/);
  assert.deepEqual(posts, []);
  await done(page);
});

test('the 现场认定 queue lists every waiting case: 51 waiting, the first page of 50 and 加载更多 for the 51st', async () => {
  const reg = newRegion();
  const hosp = reg.hospitals[0];
  const login = 'hospital-' + reg.region;
  ctl('user', 'add', '--role', 'hospital', '--login', login, '--password', 'hospital-pass-1', '--institution', hosp);
  const by = sql(`SELECT id FROM users WHERE login = '${login}'`)[0][0];
  // 51 people of the region, each with an on-site application submitted
  // to the hospital, arranged in one statement each.
  sql(`INSERT INTO persons (id_number, name, sex, birth_date, phone, insurance, region)
       SELECT '${reg.region}19600101' || lpad(g::text, 4, '0'), '排队' || g, 'F', '1960-01-01',
              '139' || lpad(g::text, 8, '0'), 'resident', '${reg.region}'
       FROM generate_series(1, 51) g`);
  const ids = sql(`INSERT INTO applications (person_id, disease, region, channel, status, review_mode, phone,
         medical_record_no, designated_institution, filed_by, certifying_institution, promised_at, submitted_at)
       SELECT p.id, 'D013', '${reg.region}', 'web', 'submitted', 'onsite', p.phone, 'MZ-' || p.id, '${hosp}',
              ${by}, '${hosp}', now(), now()
       FROM persons p WHERE p.region = '${reg.region}' ORDER BY p.id RETURNING id`).map((r) => r[0]);
  assert.equal(ids.length, 51);
  const oldest = Math.min(...ids.map(Number));
  const page = await newPage(browser);
  await staffSession(page, { login, password: 'hospital-pass-1' });
  await page.goto(URL + '/#/hospital/onsite');
  const waiting = page.locator('#onsite-waiting li');
  await waiting.first().waitFor();
  assert.equal(await waiting.count(), 50);
  assert.equal(await page.locator(`#onsite-waiting li[data-app="${oldest}"]`).count(), 0);
  await page.click('#onsite-more-waiting');
  await page.locator(`#onsite-waiting li[data-app="${oldest}"]`).waitFor();
  assert.equal(await waiting.count(), 51);
  assert.ok(await page.locator('#onsite-more-waiting').isHidden());
  await shot(page, 'o7-onsite-queue-more');
  await done(page);
});
