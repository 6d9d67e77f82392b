// lufeng.test.mjs -- 禄丰 (S1, 楚雄州（禄丰市） 532300) end to end in a real
// browser (Debian's Chromium through nginx, the real modules, the
// reference data and demo accounts, nothing mocked): issue 11's "done
// when" for the seed city that confirms on the spot (S1 现场确认备案,
// 即时办理即时享受待遇).
//   1. 禄丰市人民医院 (level-2 public) certifies a 禄丰 person for 高血压 on
//      现场认定: the images, the 认定表, approve -> the qualification from
//      today; the person sees it 享受中 in 我的待遇.
//   2. A special disease (恶性肿瘤) is certified at level-3 public hospitals
//      only (S1 二(四)): not offered to 禄丰市人民医院, refused in Chinese when
//      forced; offered to 楚雄州人民医院 (level 3).
//   3. 禄丰康宁医院 certifies 重性精神疾病 only, and a person cannot designate
//      it for 高血压 in the applicant wizard.
//   4. 禄丰市医疗保障局 opens the approval of 1 from 待确认, overturns it with
//      a reason -> 我的待遇 shows it 已取消 with the reason.
// axe (WCAG 2.1 AA) and the size checks on every page (shot), one 360 px
// check.  Requirement ids: R-CER-8, R-CER-9, R-CER-11, R-SUP-6.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, shot, sql, newPerson, staffSession, insuredSession, URL, done, cnDate,
  onsiteFile, onsiteUploadAll, onsiteFillForm, onsiteDiseaseChoice, chooseDisease, phoneCheck,
  idHmac,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const LFRM = { login: 'hospital-lfrm', password: 'mtcert-hospital-2026' };          // 禄丰市人民医院 H53230000001
const KANGNING = { login: 'hospital-kangning', password: 'mtcert-hospital-2026' };  // 禄丰康宁医院 H53230000005
const CXZ = { login: 'hospital-cxz', password: 'mtcert-hospital-2026' };            // 楚雄州人民医院 H53230000007
const AGENCY = { login: 'agency-lufeng', password: 'mtcert-agency-2026' };

const HYPERTENSION = '高血压3级（极高危）';   // D015, chronic
const CANCER = '恶性肿瘤门诊治疗';            // D001, special
const PSYCHIATRIC = /^重性精神疾病/;          // D006, special, 康宁's only one

const FORM = {
  diagnosis: '高血压3级（极高危）', basis: '非同日三次测量收缩压≥180 mmHg，合并左心室肥厚',
  examinations: '24小时动态血压、心脏彩超、尿微量白蛋白', doctor: '张国华', title: '中级',
};

test('S1: 禄丰市人民医院 certifies 高血压 on the spot, benefits from today; the agency overturns it from 待确认 and the person sees it 已取消 with the reason', async () => {
  const person = newPerson('532300', '李凤英');

  // 1. 现场认定 → 新的现场认定: the person checked against the registry.
  const page = await newPage(browser);
  await staffSession(page, LFRM);
  await page.goto(URL + '/#/hospital/onsite');
  await page.locator('h1', { hasText: '现场认定' }).waitFor();
  await shot(page, 'lufeng-1-onsite-queue');
  const id = await onsiteFile(page, person, HYPERTENSION);
  await page.locator('#certify-form').waitFor();
  assert.match(await page.locator('main dl.summary').first().textContent(), /禄丰市人民医院/);
  await shot(page, 'lufeng-2-onsite-record');

  // The images, one for each kind the disease requires, then the 认定表.
  assert.ok(await onsiteUploadAll(page) >= 2);
  await onsiteFillForm(page, FORM, '予以认定');
  await shot(page, 'lufeng-3-onsite-form-filled');
  await page.click('#onsite-certify');
  const result = page.locator('#onsite-result');
  await result.filter({ hasText: '已生成门诊慢特病待遇资格' }).waitFor();
  // 即时办理即时享受待遇 (S1 三(一)2): the qualification from today.
  const [from, qid] = sql(`SELECT valid_from, id FROM qualifications WHERE application_id = ${id}`)[0];
  assert.equal(from, cnDate());
  const [y, m, d] = from.split('-').map(Number);
  assert.match(await result.textContent(), new RegExp(`享受待遇${y}年${m}月${d}日 至 `));
  assert.match(await result.textContent(), new RegExp('待遇资格编号' + qid));
  assert.equal(sql(`SELECT institution, conclusion, physician_title FROM certifications WHERE application_id = ${id}`)[0].join(),
    'H53230000001,approve,中级');
  await shot(page, 'lufeng-4-onsite-approved');
  await done(page);

  // The person signs in: 我的待遇 shows it 享受中 at 禄丰市人民医院.
  const ip = await newPage(browser);
  await insuredSession(ip, person);
  await ip.goto(URL + '/#/benefits');
  const mine = ip.locator(`#benefits li[data-q="${qid}"]`);
  await mine.filter({ hasText: '享受中' }).waitFor();
  const active = await mine.textContent();
  assert.match(active, new RegExp(HYPERTENSION.replace(/[()（）]/g, '.')));
  assert.match(active, /定点医疗机构禄丰市人民医院/);
  assert.match(active, new RegExp(`待遇有效期${y}年${m}月${d}日 至 `));
  await shot(ip, 'lufeng-5-insured-benefit-active');

  // 4. 禄丰市医疗保障局: 待确认, the archive of that approval, overturned.
  const ag = await newPage(browser);
  await staffSession(ag, AGENCY);
  await ag.goto(URL + '/#/agency/queue');
  await ag.getByRole('link', { name: '待确认' }).click();
  const item = ag.locator(`#confirm-queue li[data-app="${id}"]`);
  await item.waitFor();
  assert.match(await item.textContent(), /认定医院：禄丰市人民医院/);
  assert.match(await item.textContent(), /医院结论：符合认定标准/);
  await shot(ag, 'lufeng-6-agency-confirm-queue');
  await item.getByRole('link', { name: '查看档案并确认（申请编号 ' + id + '）' }).click();
  await ag.waitForURL(new RegExp('#/agency/applications/' + id + '$'));
  const form = ag.locator('#certification');
  await form.waitFor();
  assert.match(await form.textContent(), /左心室肥厚/);
  assert.match(await form.textContent(), /张国华（中级）/);
  await ag.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('img.zoomable')];
    return imgs.length > 0 && imgs.every((e) => e.complete && e.naturalWidth > 0);
  });
  assert.match(await ag.locator('#confirm-outcome').textContent(), /待确认/);
  // The agency's read is in the archive's log (the hospital's own reads are too).
  assert.equal(sql(`SELECT count(*) FROM access_log l JOIN users u ON u.id = l.user_id
    WHERE u.login = '${AGENCY.login}' AND l.object_type = 'certification' AND l.object_id = ${id}`)[0][0], '1');
  await shot(ag, 'lufeng-7-agency-archive');
  const reason = '动态血压报告日期早于住院病历，认定依据不足';
  await ag.getByLabel('不予确认（认定结果无效）').check();
  await ag.getByLabel('理由').fill(reason);
  await ag.click('#confirm-submit');
  await ag.locator('#status').filter({ hasText: '已不予确认，认定结果无效，待遇资格已取消' }).waitFor();
  assert.match(await ag.locator('#confirm-outcome').textContent(), new RegExp('未予确认（结果无效）.*理由：' + reason));
  await shot(ag, 'lufeng-8-agency-overturned');
  await done(ag);

  // The person's 我的待遇 again: 已取消 today, with the reason in words.
  await ip.reload();
  await mine.filter({ hasText: '已取消' }).waitFor();
  const ended = await mine.textContent();
  assert.match(ended, /终止原因认定结果经医保经办机构审核未予确认/);
  assert.match(ended, new RegExp('说明' + reason));
  assert.match(ended, new RegExp(`终止日期${y}年${m}月${d}日`));
  assert.equal(await mine.getByRole('link', { name: '电子凭证' }).count(), 0);
  await shot(ip, 'lufeng-9-insured-benefit-revoked');
  await phoneCheck(browser, ip, '/#/benefits', `#benefits li[data-q="${qid}"]`, 'lufeng-10-insured-benefit-revoked-360');
  await done(ip);
});

test('S1 二(四): a special disease is certified at level-3 public hospitals: not offered to 禄丰市人民医院, refused in Chinese when forced, offered to 楚雄州人民医院', async () => {
  const person = newPerson('532300', '普文华');
  const page = await newPage(browser);
  await staffSession(page, LFRM);
  const offered = await onsiteDiseaseChoice(page);
  assert.ok(offered.includes(HYPERTENSION), '高血压 offered to 禄丰市人民医院');
  assert.ok(!offered.includes(CANCER), '恶性肿瘤 not offered to a level-2 hospital');
  assert.ok(!offered.some((t) => PSYCHIATRIC.test(t)), 'no special disease at level 2');

  // Forced: the option put in by hand (as a stale page or a crafted
  // request would), the request sent -- the server's refusal, in Chinese.
  await page.getByLabel('身份证号码').fill(person.id_number);
  await page.getByLabel('姓名').fill(person.name);
  await page.getByLabel('联系电话').fill(person.phone);
  await page.getByLabel('病案号').fill('MZ-' + Date.now());
  await page.getByLabel('认定病种').evaluate((s, name) => {
    const o = document.createElement('option');
    o.value = 'D001';
    o.textContent = name;
    s.append(o);
    s.value = 'D001';
  }, CANCER);
  assert.equal(await page.getByLabel('定点医疗机构').inputValue(), 'H53230000001');
  await page.click('#onsite-file');
  const err = page.locator('.form-error').filter({ hasText: '本院不能认定该病种' });
  await err.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.className), 'form-error');
  assert.match(page.url(), /#\/hospital\/onsite\/new$/);
  assert.equal(sql(`SELECT count(*) FROM applications a JOIN persons p ON p.id = a.person_id
    WHERE p.id_number_hmac = '${idHmac(person.id_number)}'`)[0][0], '0');
  await shot(page, 'lufeng-11-onsite-special-refused');
  await done(page);

  // 楚雄州人民医院 (level-3 public): 恶性肿瘤 is offered.
  const cxz = await newPage(browser);
  await staffSession(cxz, CXZ);
  const cxzOffered = await onsiteDiseaseChoice(cxz);
  assert.ok(cxzOffered.includes(CANCER), '恶性肿瘤 offered to 楚雄州人民医院');
  assert.ok(cxzOffered.includes(HYPERTENSION));
  await cxz.getByLabel('认定病种').selectOption({ label: CANCER });
  await shot(cxz, 'lufeng-12-onsite-new-level3');
  await done(cxz);
});

test('S1: 禄丰康宁医院 certifies 重性精神疾病 only, and a person cannot designate it for 高血压', async () => {
  const page = await newPage(browser);
  await staffSession(page, KANGNING);
  const offered = await onsiteDiseaseChoice(page);
  assert.equal(offered.length, 1, 'one disease offered: ' + offered.join('、'));
  assert.match(offered[0], PSYCHIATRIC);
  await shot(page, 'lufeng-13-onsite-new-kangning');
  await done(page);

  // The applicant's wizard: 高血压 -- 康宁 is not among the hospitals.
  const person = newPerson('532300', '杨志强');
  const ip = await newPage(browser);
  await insuredSession(ip, person);
  await ip.goto(URL + '/#/apply');
  assert.match(await chooseDisease(ip, 'D015'), /高血压/);
  const hospitals = await ip.getByLabel(/定点医疗机构/).locator('option').allTextContents();
  assert.ok(hospitals.includes('禄丰市人民医院'), hospitals.join('、'));
  assert.ok(!hospitals.includes('禄丰康宁医院'), '康宁 not offered for 高血压');
  assert.ok(!hospitals.includes('禄丰阳光医院'), '阳光 not offered for 高血压');
  await shot(ip, 'lufeng-14-apply-hypertension-hospitals');
  // For 重性精神疾病 it is.
  await ip.getByRole('button', { name: '上一步' }).click();
  await chooseDisease(ip, 'D006');
  assert.ok((await ip.getByLabel(/定点医疗机构/).locator('option').allTextContents()).includes('禄丰康宁医院'));
  await done(ip);
});
