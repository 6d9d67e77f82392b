// filing.test.mjs -- who files an application (issue 11 item 6) in a real
// browser (Debian's Chromium through nginx, the real modules): a son
// files for his mother as her family agent (R-APP-9, S2 承诺书), hospital
// staff file with the pre-check (代办申报, R-APP-7: only diseases the
// hospital may certify, S1), the agency files at the counter (窗口代办,
// R-APP-1).  Each test asserts what a person sees, with the axe and size
// checks (shot) and a 360 px check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  launch, newPage, shot, sql, newRegion, newPerson, newAgencyUser, smsLines, waitFor,
  staffSession, insuredSession, FIXTURES, URL, done, uploadOne, missingText,
  phoneCheck as phoneCheckIn, chooseDisease,
  idHmac,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const PNG = path.join(FIXTURES, 'record.png');
const PDF = path.join(FIXTURES, 'report.pdf');

// Step 3 for 冠心病 (D013): its two materials, one after the other.
async function uploadHeartDisease(page, issuer) {
  await page.getByRole('heading', { name: '第三步：上传材料' }).waitFor();
  await uploadOne(page, '确诊住院病历', PNG, issuer);
  await waitFor(async () => /还缺 1 项材料/.test(await missingText(page)));
  await uploadOne(page, '近期相关化验检查报告', PDF, issuer);
  await waitFor(async () => /必需的材料已经齐全/.test(await missingText(page)));
}

// Step 2 for staff: the person, the phone and the record number.
async function fillPerson(page, person, recordNo) {
  await page.getByLabel('申请人身份证号码').fill(person.id_number);
  await page.getByLabel('申请人姓名').fill(person.name);
  await page.getByLabel(/联系电话/).fill(person.phone);
  await page.getByLabel('病案号').fill(recordNo);
}

const phoneCheck = (page, ...args) => phoneCheckIn(browser, page, ...args);

test('a son signs in as himself and files for his mother; both follow it, her phone is never needed', async () => {
  const reg = newRegion();
  const mother = newPerson(reg.region, '王秀兰');
  const son = newPerson(reg.region, '李建国');
  const page = await newPage(browser);
  await insuredSession(page, son);
  await page.goto(URL + '/#/apply');

  // Step 1: each disease says whether it is quota and how it is certified.
  const text = await chooseDisease(page, '冠状动脉');
  assert.match(text, /定额病种|非定额病种/);
  assert.match(text, /常规认定（初审 \+ 复审）/);

  // Step 2: 为家人申请, the relative, the relation and the agent's promise.
  await page.getByLabel('为家人申请（我是代办人）').check();
  await page.locator('#relative-box').waitFor();
  assert.match(await page.locator('#relative-box').textContent(), /以上信息及提供的申请资料均真实有效/);
  await page.getByLabel('家人的身份证号码').fill(mother.id_number);
  await page.getByLabel('家人的姓名').fill('王秀芳');          // wrong name first
  await page.getByLabel('您是家人的').selectOption('子女');
  await page.getByLabel(/联系电话/).fill(son.phone);
  await page.getByLabel('病案号').fill('ZY-2026-0901');
  await page.getByLabel(/定点医疗机构/).selectOption({ label: reg.names[0] });
  // Without the promise: said beside it, nothing sent.
  await page.click('#save-details');
  await page.locator('[data-field="relative.promise"] .field-error').filter({ hasText: '代办承诺书' }).waitFor();
  await page.getByLabel('我已阅读并同意以上承诺').check();
  await shot(page, 'filing-family-details');
  // Not her name in the registry: the server's Chinese message beside it.
  await page.click('#save-details');
  await page.locator('[data-field="relative.id_number"] .field-error').filter({ hasText: '参保登记' }).waitFor();
  await page.getByLabel('家人的姓名').fill(mother.name);
  await page.click('#save-details');

  // Step 3 and 4: her materials, uploaded by him; submit.
  await uploadHeartDisease(page, '测试市第甲人民医院');
  await page.click('#to-review');
  const summary = await page.locator('dl.summary').textContent();
  assert.match(summary, /王秀兰/);
  assert.match(summary, /李建国（子女/);
  await page.getByLabel('我已阅读并同意以上承诺').check();
  await page.click('#submit-app');
  await page.waitForURL(/#\/app\/\d+$/);
  const appId = /#\/app\/(\d+)$/.exec(page.url())[1];
  await page.locator('#timeline').getByText('家属李建国（子女）已代为填报申请').waitFor();
  assert.deepEqual(sql(`SELECT p.name, a.agent_name FROM applications a JOIN persons p ON p.id = a.person_id
    WHERE a.id = ${appId}`)[0], ['王秀兰', '李建国']);
  await shot(page, 'filing-family-submitted');

  // 我的申请: marked as filed for her, with her name.
  await page.goto(URL + '/#/my');
  const card = page.locator('.app-list li').first();
  await card.waitFor();
  assert.match(await card.textContent(), /为家人代办：王秀兰（您是其子女）/);
  await shot(page, 'filing-family-my');
  await phoneCheck(page, '/#/my', '.filed-for', 'filing-family-my-360');
  await phoneCheck(page, '/#/apply', 'label.disease', 'filing-apply-360');

  // No code was ever sent to her phone; when she signs in, she sees it.
  assert.equal(smsLines(mother.phone).length, 0);
  const her = await newPage(browser);
  await insuredSession(her, mother);
  await her.goto(URL + '/#/my');
  const hers = her.locator('.app-list li').first();
  await hers.waitFor();
  assert.match(await hers.textContent(), /冠状动脉/);
  assert.doesNotMatch(await hers.textContent(), /为家人代办/);
  for (const p of [page, her]) await done(p);
});

test('hospital staff file for a person with the pre-check; a disease the hospital cannot certify is refused', async () => {
  const person = newPerson('532300', '杨秀英');
  const page = await newPage(browser);
  await staffSession(page, { login: 'hospital-kangning', password: 'mtcert-hospital-2026' });
  await page.goto(URL + '/#/hospital');
  await page.getByRole('link', { name: '代办申报' }).click();
  await page.getByRole('heading', { name: '代办申报', level: 1 }).waitFor();

  // 癫痫 (D031): 康宁 certifies psychiatric diseases only (S1): 403 with
  // the reason, in Chinese, and no draft.
  await chooseDisease(page, 'D031');   // 癫痫 (by code: 重性精神疾病 names 癫痫性精神病 too)
  await fillPerson(page, person, 'KN-2026-77');
  const opts = await page.getByLabel(/定点医疗机构/).locator('option').allTextContents();
  assert.ok(!opts.includes('禄丰康宁医院'), 'a psychiatric hospital is not offered for 癫痫');
  await page.getByLabel(/定点医疗机构/).selectOption({ label: '禄丰市人民医院' });
  await page.click('#save-details');
  await page.locator('.form-error').filter({ hasText: '本院不能认定该病种' }).waitFor();
  assert.equal(sql(`SELECT count(*) FROM applications a JOIN persons p ON p.id = a.person_id
    WHERE p.id_number_hmac = '${idHmac(person.id_number)}'`)[0][0], '0');

  // 重性精神疾病 (D006): filed, the pre-check in plain words.
  await page.getByRole('button', { name: '上一步' }).click();
  await chooseDisease(page, 'D006');
  await fillPerson(page, person, 'KN-2026-78');
  assert.equal(await page.getByLabel(/定点医疗机构/).inputValue(), 'H53230000005');
  await shot(page, 'filing-hospital-details');
  await page.click('#save-details');
  await page.getByRole('heading', { name: '第三步：上传材料' }).waitFor();
  assert.match(await page.locator('#precheck').textContent(), /还缺 1 项材料：专科医院或综合医院精神科住院病历/);
  assert.match(page.url(), /#\/hospital\/file\/\d+$/);
  // The hospital's own electronic record, then the required one.
  await uploadOne(page, '本院电子病历', PDF, '禄丰康宁医院');
  await page.locator('#uploaded li').first().waitFor();
  await uploadOne(page, '专科医院或综合医院精神科住院病历', PNG, '禄丰康宁医院');
  await waitFor(async () => /必需的材料已经齐全/.test(await missingText(page)));
  await shot(page, 'filing-hospital-materials');
  await page.click('#to-review');
  await page.getByLabel('我已阅读并同意以上承诺').check();
  await page.click('#submit-app');
  await page.waitForURL(/#\/app\/\d+$/);
  await page.locator('#timeline').getByText('医院已代为填报申请').waitFor();
  await page.locator('#timeline').getByText('已提交申请，等待认定医院现场认定').waitFor();
  await phoneCheck(page, '/#/hospital/file', 'label.disease', 'filing-hospital-360');
  await done(page);
});

test('agency staff file at the counter for a person of their region', async () => {
  const reg = newRegion();
  const agency = newAgencyUser(reg.region);
  const person = newPerson(reg.region, '周桂英');
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/queue');
  await page.getByRole('link', { name: '窗口代办' }).click();
  await page.getByRole('heading', { name: '窗口代办', level: 1 }).waitFor();
  await chooseDisease(page, '冠状动脉');
  await fillPerson(page, person, 'CT-2026-5');
  await page.getByLabel(/定点医疗机构/).selectOption({ label: reg.names[1] });
  await shot(page, 'filing-counter-details');
  await page.click('#save-details');
  await uploadHeartDisease(page, '测试市第乙人民医院');
  await page.click('#to-review');
  await page.getByLabel('我已阅读并同意以上承诺').check();
  await page.click('#submit-app');
  await page.waitForURL(/#\/app\/\d+$/);
  await page.locator('#timeline').getByText('医保经办机构窗口已代为填报申请').waitFor();
  const appId = /#\/app\/(\d+)$/.exec(page.url())[1];
  assert.equal(sql(`SELECT channel FROM applications WHERE id = ${appId}`)[0][0], 'counter');
  await shot(page, 'filing-counter-submitted');
  await phoneCheck(page, '/#/agency/file', 'label.disease', 'filing-counter-360');
  await done(page);
});

test('R-APP-9: a son of region A files for his mother insured in region B: her region\'s hospitals are offered after the server names it, and the application is hers', async () => {
  const regA = newRegion();
  const regB = newRegion();
  const mother = newPerson(regB.region, '王秀兰');
  const son = newPerson(regA.region, '李建国');
  const page = await newPage(browser);
  await insuredSession(page, son);
  await page.goto(URL + '/#/apply');
  await chooseDisease(page, '冠状动脉');
  await page.getByLabel('为家人申请（我是代办人）').check();
  await page.getByLabel('家人的身份证号码').fill(mother.id_number);
  await page.getByLabel('家人的姓名').fill(mother.name);
  await page.getByLabel('您是家人的').selectOption('子女');
  await page.getByLabel('我已阅读并同意以上承诺').check();
  await page.getByLabel(/联系电话/).fill(son.phone);
  await page.getByLabel('病案号').fill('ZY-2026-0902');
  // His own region's list is all he has before her region is known.
  const hosp = page.getByLabel(/定点医疗机构/);
  await hosp.selectOption(regA.hospitals[0]);
  await page.click('#save-details');
  // The server names her region; the list is hers now, his fields kept.
  const err = page.locator('[data-field="designated_institution"] .field-error');
  await err.filter({ hasText: '您的家人在' + regionName(regB) + '参保' }).waitFor();
  const codes = await hosp.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.deepEqual(codes.sort(), [...regB.hospitals].sort());
  assert.equal(await page.getByLabel('家人的身份证号码').inputValue(), mother.id_number);
  assert.equal(await page.getByLabel('病案号').inputValue(), 'ZY-2026-0902');
  assert.match(await page.locator('label[for="' + await hosp.getAttribute('id') + '"]').textContent(),
    new RegExp('家人参保地：' + regionName(regB)));
  await hosp.selectOption(regB.hospitals[0]);
  await page.click('#save-details');
  await uploadHeartDisease(page, '测试市第甲人民医院');
  await page.click('#to-review');
  await page.getByLabel('我已阅读并同意以上承诺').check();
  await page.click('#submit-app');
  await page.waitForURL(/#\/app\/\d+$/);
  const appId = /#\/app\/(\d+)$/.exec(page.url())[1];
  assert.deepEqual(sql(`SELECT a.region, a.designated_institution, p.name, a.status FROM applications a
    JOIN persons p ON p.id = a.person_id WHERE a.id = ${appId}`)[0],
  [regB.region, regB.hospitals[0], '王秀兰', 'submitted']);
  await done(page);
});

// A region of newRegion() by name.
function regionName(reg) { return '测试市' + reg.region; }
