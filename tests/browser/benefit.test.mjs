// benefit.test.mjs -- the benefit pages of issue 10 in a real browser
// (Debian's Chromium through nginx, the real modules, nothing mocked):
// 我的待遇, 电子凭证, 打印告知书, 变更定点医院, 退出待遇, hospital staff's
// 核验凭证, the agency's 待遇资格 and 经办机构信息, and every page's footer.
// Each test asserts what a person sees.  Requirement ids: R-BEN-1 (the
// qualification shown), R-BEN-2 (card and letter), R-BEN-3 (two changes a
// year), R-BEN-5 (exit).


import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  launch, newPage, shot, sql, newRegion, newPerson, newAgencyUser, staffSession, insuredSession,
  URL, done, newQualification, setRegionContact, pdfText, idNumber, ctl,
  phoneOf as phoneOfIn, phoneCheck as phoneCheckIn,
  idHmac,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// A call the test makes beside the page, in the page's session (with its
// CSRF token, from GET /me).
async function apiInPage(page, method, p, body) {
  if (!page.url().startsWith(URL)) await page.goto(URL + '/');
  return page.evaluate(async ({ method, p, body }) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1' + p, { method, body: body ? JSON.stringify(body) : undefined,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token } });
    return { status: r.status, body: await r.json() };
  }, { method, p, body });
}

const CONTACT = ['测试市医疗保障事业管理中心', '0398-2812393', '测试市崤山路 18 号'];

// One region (three hospitals, its agency's contact) for the insured
// persons' tests, each with a person of their own: every new region adds
// institutions every later catalog reader pages through.
let insuredRegion = null;

// A fresh person of that region, signed in.
async function insuredWithBenefits(width) {
  if (!insuredRegion) {
    insuredRegion = newRegion();
    setRegionContact(insuredRegion.region, ...CONTACT);
  }
  const reg = insuredRegion;
  const person = newPerson(reg.region);
  const page = await newPage(browser, width);
  await insuredSession(page, person);
  return { reg, person, page };
}

// A page of another width in the same session, and the 360 px check
// of a route (helpers.mjs).
const phoneOf = (page) => phoneOfIn(browser, page);
const phoneCheck = (page, ...args) => phoneCheckIn(browser, page, ...args);

// The first day of next month (a quota disease's benefit begins then).
const NEXT_MONTH = `(date_trunc('month', cn_today()) + interval '1 month')::date`;

async function footer(page) {
  return (await page.locator('#foot').textContent()).replace(/\s+/g, ' ');
}

test('R-BEN-1/R-BEN-2: the person sees 我的待遇 with status and days left, and the card with a large QR; the footer gives the agency', async () => {
  const { reg, person, page } = await insuredWithBenefits();
  const q1 = newQualification(person, reg.hospitals[0], 'D013');
  const q2 = newQualification(person, reg.hospitals[1], 'D011');
  sql(`SELECT end_qualification(${q2}, 'cured', cn_today(), NULL, 'agency', '复查已治愈')`);
  await page.goto(URL + '/#/benefits');
  const li1 = page.locator(`#benefits li[data-q="${q1}"]`);
  const li2 = page.locator(`#benefits li[data-q="${q2}"]`);
  await li1.waitFor();
  assert.match(await li1.textContent(), /冠状动脉粥样硬化性心脏病享受中/);
  assert.match(await li1.textContent(), new RegExp(reg.names[0]));
  assert.match(await li1.textContent(), /剩余天数还有 335 天/);
  assert.match(await li2.textContent(), /已终止/);
  assert.match(await li2.textContent(), /终止原因已治愈/);
  assert.equal(await li2.getByRole('link', { name: '电子凭证' }).count(), 0, 'no card for an ended one');
  // Every page's footer: the agency of the person's region.
  const f = await footer(page);
  for (const x of CONTACT) assert.ok(f.includes(x), f);
  assert.equal(await page.locator('#foot-hotline').getAttribute('href'), 'tel:03982812393');
  await shot(page, 'b1-my-benefits');

  await li1.getByRole('link', { name: '电子凭证' }).click();
  const card = page.locator('#ecard');
  await card.waitFor();
  const text = await card.textContent();
  assert.match(text, new RegExp('参保人' + person.name));
  assert.match(text, /证件号码\d{4}\*+\d{3}[\dX]/);   // masked
  assert.ok(!text.includes(person.id_number));
  assert.match(text, new RegExp('定点医疗机构' + reg.names[0]));
  assert.match(text, /待遇有效期\d{4}年\d+月\d+日 至 \d{4}年\d+月\d+日/);
  assert.match(text, /亮度调高/);
  const qr = page.locator('#qr');
  await page.waitForFunction(() => { const i = document.getElementById('qr'); return i.complete && i.naturalWidth > 0; });
  assert.ok((await qr.boundingBox()).width >= 300, 'the QR is large');
  const svg = await page.request.get(URL + await qr.getAttribute('src'));
  assert.equal(svg.status(), 200);
  assert.match(svg.headers()['content-type'], /^image\/svg\+xml/);
  await shot(page, 'b2-card');

  // On a phone: nothing wider than the screen, the QR most of its width.
  const phone = await phoneOf(page);
  await phone.goto(URL + `/#/benefits/${q1}/card`);
  await phone.locator('#qr').waitFor();
  const [sw, cw] = await phone.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(sw <= cw, `scrollWidth ${sw} > ${cw}`);
  assert.ok((await phone.locator('#qr').boundingBox()).width >= 280);
  await shot(phone, 'b3-card-360');
  for (const p of [page, phone]) await done(p);
});

test('R-BEN-2: the letter lists every held disease with hospital, validity and QR, the rules and the agency, and prints on one A4 page', async () => {
  const { reg, person, page } = await insuredWithBenefits();
  const held = [['D013', 0], ['D011', 1], ['D010', 2]].map(([d, i]) => newQualification(person, reg.hospitals[i], d));
  const gone = newQualification(person, reg.hospitals[0], 'D012');
  sql(`SELECT end_qualification(${gone}, 'voluntary', cn_today(), NULL, 'insured', NULL)`);
  const names = Object.fromEntries(sql(`SELECT code, name FROM diseases WHERE code IN ('D010','D011','D012','D013')`));
  await page.goto(URL + '/#/benefits');
  await page.click('#to-letter');
  await page.locator('#letter-rules li').first().waitFor();
  assert.equal(await page.locator('.letter-table tbody tr').count(), 3);
  await page.waitForFunction(() => [...document.querySelectorAll('.letter-qr')].every((i) => i.complete && i.naturalWidth > 0));
  await shot(page, 'b4-letter');

  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'letter-')), 'letter.pdf');
  await page.pdf({ path: file, format: 'A4' });
  const { text, pages } = pdfText(file);
  const flat = text.replace(/\s+/g, '');
  assert.equal(pages, 1, 'one A4 page');
  assert.ok(flat.includes('门诊慢特病待遇告知书'));
  assert.ok(flat.includes(person.name));
  assert.ok(!flat.includes(person.id_number), 'the ID number masked');
  for (const code of ['D013', 'D011', 'D010']) assert.ok(flat.includes(names[code].replace(/\s+/g, '')), names[code]);
  assert.ok(!flat.includes(names.D012), 'an exited disease is not listed');
  for (const n of reg.names) assert.ok(flat.includes(n), n);
  assert.match(flat, /\d{4}年\d+月\d+日至\d{4}年\d+月\d+日/);
  assert.ok(flat.includes('办理须知'));
  for (const x of CONTACT) assert.ok(flat.includes(x.replace(/\s+/g, '')), x);
  // Printed: no menu, no buttons, no footer of the screen.
  for (const x of ['我的申请', '退出登录', '打印告知书', '返回我的待遇']) assert.ok(!flat.includes(x), x);
  // Each row's QR is that qualification's.
  const srcs = await page.locator('.letter-qr').evaluateAll((is) => is.map((i) => i.getAttribute('src')));
  assert.deepEqual(srcs.sort(), held.map((id) => `/api/v1/qualifications/${id}/card/qr.svg`).sort());

  // On a phone the table becomes blocks: nothing wider than the screen.
  const phone = await phoneOf(page);
  await phone.goto(URL + '/#/benefits/letter');
  await phone.locator('#letter-rules li').first().waitFor();
  const [sw, cw] = await phone.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(sw <= cw, `scrollWidth ${sw} > ${cw}`);
  await shot(phone, 'b4-letter-360');
  for (const p of [page, phone]) await done(p);
});

test('R-BEN-3: the change page shows the changes left before submitting, changes twice and refuses the third', async () => {
  const { reg, person, page } = await insuredWithBenefits();
  sql(`INSERT INTO policies (region, key, value) VALUES ('${reg.region}', 'designated_change_scope', 'person')
       ON CONFLICT (region, key) DO UPDATE SET value = EXCLUDED.value`);
  const q = newQualification(person, reg.hospitals[0], 'D013');
  await page.goto(URL + '/#/benefits');
  await page.locator(`#benefits li[data-q="${q}"]`).getByRole('link', { name: '变更定点医院' }).click();
  const left = page.locator('#changes-left');
  await left.filter({ hasText: '本年度还可变更 2 次' }).waitFor();
  // Only the other designated hospitals of the region are offered.
  const options = await page.getByLabel('新的定点医院').locator('option').allTextContents();
  assert.deepEqual(options.slice(1).sort(), reg.names.slice(1).sort());
  await shot(page, 'b5-change');
  await page.getByLabel('新的定点医院').selectOption({ label: reg.names[1] });
  await page.click('#change-submit');
  await page.locator('#status').filter({ hasText: '定点医院已变更为 ' + reg.names[1] }).waitFor();
  await left.filter({ hasText: '本年度还可变更 1 次' }).waitFor();
  // Focus stays on the page: its heading, redrawn.
  assert.deepEqual(await page.evaluate(() => [document.activeElement.tagName, document.activeElement.textContent]),
    ['H1', '变更定点医院']);
  // The old QR codes are void, the printed letter's too: said, with the
  // way to print a new one.
  const doneText = await page.locator('#change-done').textContent();
  assert.match(doneText, /已打印的告知书上的二维码已经作废/);
  assert.match(doneText, /定点医院已变更，这是旧的凭证/);
  assert.equal(await page.locator('#change-letter').getAttribute('href'), '#/benefits/letter');
  assert.equal(await page.locator('#change-letter').textContent(), '打印告知书');
  await phoneCheck(page, `/#/benefits/${q}/change`, '#change-submit', 'b5-change-360');
  assert.equal(await page.locator('#current-hospital').textContent(), reg.names[1]);
  await page.getByLabel('新的定点医院').selectOption({ label: reg.names[2] });
  await page.click('#change-submit');
  await page.locator('#status').filter({ hasText: '本年度还可变更 0 次' }).waitFor();
  // The third: said before anything is sent, and no form to send it.
  await left.filter({ hasText: '本年度变更定点医院的次数已经用完' }).waitFor();
  assert.equal(await page.locator('#change-submit').count(), 0);
  assert.equal(sql(`SELECT designated_institution FROM qualifications WHERE id = ${q}`)[0][0], reg.hospitals[2]);
  assert.equal(sql(`SELECT count(*) FROM hospital_changes WHERE qualification_id = ${q}`)[0][0], '2');

  // The region counts per person (S0 三(二) 每人每个自然年度, its
  // designated_change_scope): the person's other disease has none left.
  const other = newQualification(person, reg.hospitals[0], 'D011');
  await page.goto(URL + `/#/benefits/${other}/change`);
  await left.filter({ hasText: '本年度变更定点医院的次数已经用完' }).waitFor();
  assert.equal(await page.locator('#change-submit').count(), 0);
  await done(page);

  // A change made elsewhere meanwhile (another tab) uses the last one:
  // the server's 422 change_limit_reached is shown in plain words.
  const s2 = await insuredWithBenefits();
  const q2 = newQualification(s2.person, reg.hospitals[0], 'D011');
  const p2 = s2.page;
  await p2.goto(URL + `/#/benefits/${q2}/change`);
  const left2 = p2.locator('#changes-left');
  await left2.filter({ hasText: '本年度还可变更 2 次' }).waitFor();
  for (const h of [reg.hospitals[1], reg.hospitals[2]]) {
    assert.equal((await apiInPage(p2, 'POST', `/qualifications/${q2}/designated-institution`, { institution: h })).status, 200);
  }
  await p2.getByLabel('新的定点医院').selectOption({ label: reg.names[1] });
  await p2.click('#change-submit');
  await p2.locator('.form-error').filter({ hasText: '每个自然年度最多变更定点医院 2 次，本年度已达上限' }).waitFor();
  await shot(p2, 'b6-change-refused');
  assert.equal(sql(`SELECT count(*) FROM hospital_changes WHERE qualification_id = ${q2}`)[0][0], '2');
  await done(p2);
});

test('R-BEN-5: exit says what it means, needs the promise, and a guardian for a psychiatric disease; the card then verifies as ended', async () => {
  const { reg, person, page } = await insuredWithBenefits();
  const q = newQualification(person, reg.hospitals[0], 'D013');
  const psych = newQualification(person, reg.hospitals[0], 'D006');
  const token = (await apiInPage(page, 'GET', `/qualifications/${q}/card`)).body.token;
  await page.goto(URL + `/#/benefits/${q}/exit`);
  const explain = page.locator('#exit-explain');
  await explain.waitFor();
  assert.match(await explain.textContent(), /不再享受“冠状动脉粥样硬化性心脏病”的门诊慢特病待遇/);
  assert.match(await explain.textContent(), /要重新申请认定/);
  assert.equal(await page.locator('#guardian').isVisible(), false, 'no guardian for a non-psychiatric disease');
  await shot(page, 'b7-exit');
  await phoneCheck(page, `/#/benefits/${q}/exit`, '#exit-submit', 'b7-exit-360');
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
  await page.click('#exit-submit');
  await page.locator('[data-field="promise"] .field-error').filter({ hasText: '请先阅读并勾选承诺' }).waitFor();
  assert.deepEqual(posts, [], 'nothing sent without the promise');
  await page.getByLabel(/自愿申请退出/).check();
  await page.click('#exit-submit');
  await page.waitForURL(/#\/benefits$/);
  await page.locator('#status').filter({ hasText: '已退出“冠状动脉粥样硬化性心脏病”的门诊慢特病待遇' }).waitFor();
  const li = page.locator(`#benefits li[data-q="${q}"]`);
  await li.filter({ hasText: '已终止' }).waitFor();
  assert.match(await li.textContent(), /本人申请退出/);
  assert.deepEqual(sql(`SELECT status, end_reason FROM qualifications WHERE id = ${q}`)[0], ['terminated', 'voluntary']);
  // The old card now verifies as ended.
  const v = await (await page.request.get(URL + '/api/v1/cards/verify?token=' + encodeURIComponent(token))).json();
  assert.equal(v.valid, false);
  assert.equal(v.current.status, 'terminated');

  // A psychiatric disease: the guardian signs (name and ID number).
  await page.goto(URL + `/#/benefits/${psych}/exit`);
  await page.locator('#guardian').waitFor();
  await page.getByLabel(/自愿申请退出/).check();
  await page.click('#exit-submit');
  await page.locator('.field-error, .form-error').filter({ hasText: /监护人/ }).first().waitFor();
  assert.equal(sql(`SELECT status FROM qualifications WHERE id = ${psych}`)[0][0], 'active');
  await shot(page, 'b8-exit-guardian');
  await page.getByLabel('监护人姓名').fill('王建国');
  await page.getByLabel('监护人身份证号码').fill(idNumber(reg.region, '19650312'));
  await page.click('#exit-submit');
  await page.waitForURL(/#\/benefits$/);
  await page.locator(`#benefits li[data-q="${psych}"]`).filter({ hasText: '已终止' }).waitFor();
  assert.equal(sql(`SELECT guardian_name FROM qualifications WHERE id = ${psych}`)[0][0], '王建国');
  await done(page);
});

test('R-BEN-2: hospital staff verify a genuine card as valid and a tampered one as invalid, in words', async () => {
  const { reg, person, page } = await insuredWithBenefits();
  const q = newQualification(person, reg.hospitals[0], 'D013');
  const token = (await apiInPage(page, 'GET', `/qualifications/${q}/card`)).body.token;
  // The token the card page shows is the one a scanner reads.
  await page.goto(URL + `/#/benefits/${q}/card`);
  await page.locator('details.token summary').click();
  assert.equal(await page.locator('#token').textContent(), token);
  await done(page);

  // Another hospital (青海省人民医院): genuine and active, but the benefit
  // settles only at the card's designated hospital -- said plainly.
  const other = await newPage(browser);
  await staffSession(other, { login: 'hospital-qhph', password: 'mtcert-hospital-2026' });
  await other.goto(URL + '/#/verify');
  await other.getByLabel('凭证编码').fill(token);
  await other.keyboard.press('Enter');
  await other.locator('#verdict').filter({ hasText: '不是本院' }).waitFor();
  assert.equal(await other.locator('#verdict-reason').textContent(),
    '凭证有效，但定点医院是 ' + reg.names[0] + '，不是本院，不能在本院按门诊慢特病待遇结算。');
  assert.ok(!(await other.locator('#verdict').textContent()).includes('可以按门诊慢特病待遇结算'));
  await shot(other, 'b9-verify-other-hospital');
  await done(other);

  // The card's own hospital: valid, and it may settle.
  const staff = { login: 'hospital-' + reg.region, password: 'hospital-pass-1' };
  ctl('user', 'add', '--role', 'hospital', '--login', staff.login, '--password', staff.password,
    '--institution', reg.hospitals[0]);
  const hp = await newPage(browser);
  await staffSession(hp, staff);
  await hp.goto(URL + '/');
  await hp.getByRole('link', { name: '核验凭证' }).click();
  await hp.getByLabel('凭证编码').fill(token);
  await hp.keyboard.press('Enter');   // a scanner types the code and Enter
  const verdict = hp.locator('#verdict');
  await verdict.filter({ hasText: '凭证有效' }).waitFor();
  assert.match(await verdict.textContent(), /可以按门诊慢特病待遇结算/);
  assert.ok(!(await verdict.textContent()).includes('不是本院'));
  const res = await hp.locator('#verify-result').textContent();
  assert.match(res, new RegExp('参保人' + person.name[0] + '\\*+（\\d{4}\\*+\\d{3}[\\dX]）'));   // masked
  assert.ok(!res.includes(person.id_number) && !res.includes(person.name));
  assert.match(res, /冠状动脉粥样硬化性心脏病/);
  assert.match(res, new RegExp(reg.names[0]));
  assert.match(res, /享受中/);
  await shot(hp, 'b9-verify-valid');

  // One character of the signed part changed: not genuine, said so.
  const i = Math.floor(token.length / 3);
  const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
  await hp.getByLabel('凭证编码').fill(tampered);
  await hp.click('#verify-submit');
  await verdict.filter({ hasText: '凭证无效' }).waitFor();
  assert.match(await hp.locator('#verdict-reason').textContent(), /[\u4e00-\u9fff]/);
  assert.equal(await hp.locator('#verify-result').getByText('凭证上的信息').count(), 0, 'nothing shown from a forged card');
  await shot(hp, 'b10-verify-tampered');
  // Not a card at all.
  await hp.getByLabel('凭证编码').fill('这不是凭证');
  await hp.click('#verify-submit');
  await verdict.filter({ hasText: '凭证无效' }).waitFor();
  await phoneCheck(hp, '/#/verify', '#verify-submit', 'b10-verify-360');
  await done(hp);
});

test('the agency lists the region\'s qualifications, filters them, terminates one with a reason, and edits the contact every footer shows', async () => {
  const reg = newRegion();
  const agency = newAgencyUser(reg.region);
  const page = await newPage(browser);
  await staffSession(page, agency);
  const a = newPerson(reg.region, '赵德明');
  const b = newPerson(reg.region, '钱玉珍');
  const qa = newQualification(a, reg.hospitals[0], 'D013');
  const qb = newQualification(b, reg.hospitals[1], 'D011');
  // Not set yet: a neutral sentence, no hotline without a number.
  await page.goto(URL + '/#/agency/qualifications');
  await page.locator('#quals li').first().waitFor();
  assert.match(await footer(page), /请向参保地医疗保障经办机构咨询/);
  assert.equal(await page.locator('#quals li').count(), 2);
  assert.match(await page.locator(`#quals li[data-q="${qa}"]`).textContent(), /赵德明（\d{4}\*+\d{3}[\dX]）/);
  await page.getByLabel('病种').selectOption('D011');
  await page.click('#q-search');
  await page.waitForFunction(() => document.querySelectorAll('#quals li').length === 1);
  assert.equal(await page.locator('#quals li').getAttribute('data-q'), String(qb));
  await page.getByLabel('病种').selectOption('');
  await page.getByLabel('定点医院').selectOption(reg.hospitals[0]);
  await page.click('#q-search');
  await page.waitForFunction((id) => document.querySelectorAll('#quals li').length === 1 &&
    document.querySelector('#quals li').dataset.q === id, String(qa));

  // Terminate: the reason first, then the note and the date.
  const li = page.locator(`#quals li[data-q="${qa}"]`);
  await li.locator('[data-action=terminate]').click();
  await li.locator('[data-action=terminate-confirm]').click();
  await li.locator('[data-field="reason"] .field-error').filter({ hasText: '请选择终止原因' }).waitFor();
  await li.getByLabel('终止原因').selectOption('cured');
  await li.getByLabel('情况说明').fill('复查结果正常，经专家确认已治愈');
  await shot(page, 'b11-agency-terminate');
  await li.locator('[data-action=terminate-confirm]').click();
  await li.filter({ hasText: '已终止' }).waitFor();
  assert.match(await li.textContent(), /终止原因已治愈/);
  await page.locator('#status').filter({ hasText: '已终止 赵德明 的“冠状动脉粥样硬化性心脏病”待遇（已治愈）' }).waitFor();
  assert.deepEqual(sql(`SELECT status, end_reason, end_note FROM qualifications WHERE id = ${qa}`)[0],
    ['terminated', 'cured', '复查结果正常，经专家确认已治愈']);

  // The region's contact: saved, and in the footer at once.
  await page.getByRole('link', { name: '经办机构信息' }).click();
  await page.getByLabel('经办机构名称').fill(CONTACT[0]);
  await page.getByLabel('服务热线').fill(CONTACT[1]);
  await page.getByLabel('办公地址').fill(CONTACT[2]);
  await page.click('#region-save');
  await page.locator('#status').filter({ hasText: '已保存' }).waitFor();
  for (const x of CONTACT) assert.ok((await footer(page)).includes(x));
  await shot(page, 'b12-agency-region');
  // A person of the region sees it in every page's footer.
  const ip = await newPage(browser);
  await insuredSession(ip, b);
  await ip.goto(URL + '/#/benefits');
  await ip.locator('#benefits li').waitFor();
  for (const x of CONTACT) assert.ok((await footer(ip)).includes(x));
  for (const p of [page, ip]) await done(p);
});

test('R-BEN-2: a letter of 6 diseases with a 128-character hospital name still prints on one A4 page, every disease in it', async () => {
  const { reg, person, page } = await insuredWithBenefits();
  // A long name, as some hospitals' full names (with their branch) are.
  const long = ('测试市第一人民医院集团总院东院区心血管内科与内分泌代谢病联合门诊'.repeat(4)).slice(0, 128);
  const code = 'H' + reg.region + '0009';
  sql(`INSERT INTO institutions (code, name, region, level, ownership, certifying, source)
       VALUES ('${code}', '${long}', '${reg.region}', 3, 'public', true, 'test')`);
  const codes = ['D001', 'D002', 'D003', 'D004', 'D005', 'D007'];
  codes.forEach((d) => newQualification(person, code, d));
  const names = Object.fromEntries(sql(`SELECT code, name FROM diseases WHERE code IN (${codes.map((c) => `'${c}'`).join(',')})`));
  await page.goto(URL + '/#/benefits/letter');
  await page.locator('#letter-rules li').first().waitFor();
  assert.equal(await page.locator('.letter-table tbody tr').count(), 6);
  await page.waitForFunction(() => [...document.querySelectorAll('.letter-qr')].every((i) => i.complete && i.naturalWidth > 0));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'letter-')), 'letter6.pdf');
  await page.pdf({ path: file, format: 'A4' });
  const { text, pages } = pdfText(file);
  const flat = text.replace(/\s+/g, '');
  assert.equal(pages, 1, 'one A4 page');
  for (const c of codes) assert.ok(flat.includes(names[c].replace(/\s+/g, '')), names[c]);
  assert.equal(flat.split(long).length - 1, 6, 'the long name in every row');
  for (const x of ['办理须知', '告知日期', ...CONTACT.map((y) => y.replace(/\s+/g, ''))]) assert.ok(flat.includes(x), x);
  // Legible: no printed text under 9 pt.
  await page.emulateMedia({ media: 'print' });
  const small = await page.evaluate(() => [...document.querySelectorAll('#letter *')]
    .filter((e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
    .map((e) => parseFloat(getComputedStyle(e).fontSize)).filter((px) => px < 12));   // 9 pt = 12 px
  assert.deepEqual(small, [], 'nothing under 9 pt');
  await page.emulateMedia({ media: 'screen' });
  await done(page);
});

test('a benefit not yet begun says from when it applies, on the list, the card and the exit page', async () => {
  const { reg, person, page } = await insuredWithBenefits();
  const q = newQualification(person, reg.hospitals[0], 'D013');
  sql(`UPDATE qualifications SET valid_from = ${NEXT_MONTH} WHERE id = ${q}`);
  const from = sql(`SELECT to_char(valid_from, 'FMYYYY年FMMM月FMDD日') FROM qualifications WHERE id = ${q}`)[0][0];
  await page.goto(URL + '/#/benefits');
  const li = page.locator(`#benefits li[data-q="${q}"]`);
  await li.waitFor();
  const t = await li.textContent();
  assert.ok(t.includes('尚未开始，自 ' + from + ' 起享受'), t);
  assert.ok(!t.includes('享受中') && !t.includes('还有'), t);
  await shot(page, 'b13-not-begun');
  await page.goto(URL + `/#/benefits/${q}/card`);
  await page.locator('#ecard').waitFor();
  const c = await page.locator('#ecard').textContent();
  assert.ok(c.includes('尚未开始，自 ' + from + ' 起享受，自这一天起可以使用本凭证就医'), c);
  assert.ok(!c.includes('享受中'), c);
  await page.goto(URL + `/#/benefits/${q}/exit`);
  const explain = await page.locator('#exit-explain').textContent();
  assert.ok(explain.includes('原定自 ' + from + ' 起享受；退出后，待遇将不再开始'), explain);
  assert.ok(!explain.includes('从今天起不再享受'), explain);
  await done(page);
});

test('R-BEN-5: the agency terminates a benefit not yet begun from its first day; 加载更多 keeps the last search; each 终止待遇 names whose', async () => {
  const reg = newRegion();
  const agency = newAgencyUser(reg.region);
  const a = newPerson(reg.region, '孙桂芳');
  const b = newPerson(reg.region, '李文华');
  // 52 active benefits: a page of 50 and 2 more.
  for (const p of [a, b]) {
    sql(`INSERT INTO qualifications (person_id, disease, region, designated_institution, valid_from, valid_to)
      SELECT p.id, d.code, p.region, '${reg.hospitals[0]}', cn_today() - 30, cn_today() + 334
      FROM persons p, (SELECT code FROM diseases ORDER BY code LIMIT 26) d WHERE p.id_number_hmac = '${idHmac(p.id_number)}'`);
  }
  const q = sql(`SELECT q.id FROM qualifications q JOIN persons p ON p.id = q.person_id
    WHERE p.id_number_hmac = '${idHmac(a.id_number)}' AND q.disease = 'D013'`)[0][0];
  sql(`UPDATE qualifications SET valid_from = ${NEXT_MONTH} WHERE id = ${q}`);
  const from = sql(`SELECT valid_from FROM qualifications WHERE id = ${q}`)[0][0];
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/qualifications');
  await page.locator('#q-count').filter({ hasText: '已显示 50 条，还有更多' }).waitFor();
  // The selects changed without 查询: 加载更多 goes on with the last search.
  await page.getByLabel('状态').selectOption('terminated');
  await page.click('#quals-more');
  await page.locator('#q-count').filter({ hasText: '已显示 52 条' }).waitFor();
  assert.equal(await page.locator('#quals li').count(), 52);
  assert.equal(await page.locator('#quals-more').isVisible(), false);

  // Each button names the person and the disease.
  const li = page.locator(`#quals li[data-q="${q}"]`);
  const open = li.locator('[data-action=terminate]');
  assert.equal(await open.getAttribute('aria-label'), '终止待遇：孙桂芳的“冠状动脉粥样硬化性心脏病”');
  const labels = await page.locator('[data-action=terminate]').evaluateAll((bs) => bs.map((x) => x.getAttribute('aria-label')));
  assert.equal(new Set(labels).size, 52, 'no two alike');
  await open.click();
  // Not begun: the date is its first day, and may be nothing else.
  const on = li.getByLabel('终止日期');
  assert.equal(await on.inputValue(), from);
  assert.equal(await on.getAttribute('min'), from);
  assert.equal(await on.getAttribute('max'), from);
  await li.getByLabel('终止原因').selectOption('death');
  await li.getByLabel('情况说明').fill('家属报告参保人已去世');
  await li.locator('[data-action=terminate-confirm]').click();
  await li.filter({ hasText: '已终止' }).waitFor();
  assert.deepEqual(sql(`SELECT status, end_reason, ended_on FROM qualifications WHERE id = ${q}`)[0],
    ['terminated', 'death', from]);
  // A benefit begun: today, not before it began.
  const other = page.locator('#quals li').filter({ hasNot: page.locator('.badge-q-terminated') }).first();
  await other.locator('[data-action=terminate]').click();
  const today = sql(`SELECT cn_today()`)[0][0];
  assert.equal(await other.getByLabel('终止日期').inputValue(), today);
  assert.equal(await other.getByLabel('终止日期').getAttribute('max'), today);
  assert.equal(await other.getByLabel('终止日期').getAttribute('min'), sql(`SELECT cn_today() - 30`)[0][0]);
  await shot(page, 'b14-agency-terminate-many');
  await phoneCheck(page, '/#/agency/qualifications', '#quals li', 'b14-agency-360');
  await done(page);
});

test('the agency 待遇资格 list says so when a search fails, keeps what it showed, and a retry works', async () => {
  const reg = newRegion();
  const agency = newAgencyUser(reg.region);
  const q = newQualification(newPerson(reg.region, '周建国'), reg.hospitals[0], 'D013');
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/qualifications');
  await page.locator('#q-count').filter({ hasText: '已显示 1 条' }).waitFor();
  // The agency module down for the next search (its pool gone: nginx's
  // 503 without a body).
  const search = (u) => u.pathname === '/api/v1/agency/qualifications';
  await page.route(search, (route) => route.fulfill({ status: 503, body: '' }));
  await page.getByLabel('状态').selectOption('terminated');
  await page.click('#q-search');
  await page.locator('#status.status-error').filter({ hasText: '服务暂时不可用，请稍后再试' }).waitFor();
  // What was shown stays, with its count.
  assert.equal(await page.locator('#quals li').count(), 1);
  assert.equal(await page.locator(`#quals li[data-q="${q}"]`).count(), 1);
  assert.equal(await page.locator('#q-count').textContent(), '已显示 1 条');
  // Back: the same 查询 answers.
  await page.unroute(search);
  await page.click('#q-search');
  await page.locator('#q-count').filter({ hasText: '没有符合条件的待遇资格' }).waitFor();
  assert.equal(await page.locator('#quals li').count(), 0);
  await done(page);
});
