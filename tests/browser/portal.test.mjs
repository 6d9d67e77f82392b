// portal.test.mjs -- the web portal in a real browser (issue 5): Debian's
// Chromium, driven by playwright-core, against the test stack through
// nginx.  Each test asserts what a person sees on the page.
// Requirement ids: R-APP-1 (web channel), R-APP-2/R-APP-3 (materials
// checklist), R-APP-9 (promise), R-CER-2..R-CER-5 (push, accept window,
// double review), R-CER-7 (progress online), R-BEN-1/R-BEN-2 (the
// qualification shown).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  launch, newPage, shot, sql, newRegion, newPerson, newExpert, newAgencyUser, loginCode,
  smsLines, waitFor, staffSession, insuredSession, FIXTURES, URL, cnDate, done, post, stack,
  uploadOne, missingText,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const PNG = path.join(FIXTURES, 'record.png');
const PDF = path.join(FIXTURES, 'report.pdf');

// The expert's login holding the application's live assignment.
async function liveExpert(appId, stage) {
  return waitFor(() => {
    const r = sql(`SELECT u.login FROM assignments x JOIN users u ON u.id = x.expert_id
      WHERE x.application_id = ${appId} AND x.stage = ${stage} AND x.state = 'pushed'`);
    return r.length ? r[0][0] : null;
  }, 60000);   // the dispatcher's push: a hang bound, not a speed
}

async function expertDecides(page, user, appId, stage, name) {
  await page.goto(URL + '/#/staff');
  await page.getByLabel('账号').fill(user.login);
  await page.getByLabel('密码').fill(user.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/#\/expert$/);
  const card = page.locator('.task').first();
  await card.waitFor();
  // A live countdown to the accept deadline (24 h window: not urgent).
  const cd = card.locator('.countdown');
  const t1 = await cd.textContent();
  assert.match(t1, /^剩余 2[34] 小时 \d+ 分 \d+ 秒$/);
  assert.equal(await cd.evaluate((e) => e.classList.contains('urgent')), false);
  await waitFor(async () => (await cd.textContent()) !== t1);   // it ticks
  assert.match(await card.textContent(), stage === 1 ? /初审/ : /复审/);
  // Blind: no name, no ID number, no phone of the applicant.
  assert.doesNotMatch(await card.textContent(), /王秀兰|\d{17}[\dX]|1\d{10}/);
  await shot(page, name + '-inbox');
  await card.getByRole('button', { name: '受理', exact: true }).click();
  await page.waitForURL(/#\/expert\/\d+$/);
  // The materials: the image loaded (zoomable), the PDF inline.
  const img = page.locator('img.zoomable').first();
  await img.waitFor();
  await waitFor(() => img.evaluate((e) => e.complete && e.naturalWidth > 0));
  const w0 = await img.evaluate((e) => e.getBoundingClientRect().width);
  await page.locator('[data-action=zoom-in]').first().click();
  const w1 = await img.evaluate((e) => e.getBoundingClientRect().width);
  assert.ok(w1 > w0 * 1.4, `zoom in widens the image (${w0} -> ${w1})`);
  // The PDF is shown inside the page: the frame itself loaded the file
  // (a frame refused by X-Frame-Options or CSP ends on an error page,
  // and the refusal fails the test in done()).
  const frame = page.locator('iframe.pdf-frame');
  assert.equal(await frame.count(), 1);
  const src = await frame.getAttribute('src');
  await waitFor(() => page.frames().some((f) => f.url() === URL + src));
  const pdf = await page.request.get(URL + src);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  await shot(page, name + '-task');
  await page.getByLabel('予以认定').check();
  await page.getByLabel('认定意见').fill('病历和检查报告符合冠心病认定标准。');
  await page.click('#decide');
  await page.waitForURL(/#\/expert$/);
  await page.locator('#status').filter({ hasText: '认定意见已提交' }).waitFor();
  await page.click('#tab-decided');
  await page.locator('.task').filter({ hasText: '予以认定' }).first().waitFor();
}

// A fresh person of a region of their own, signed in (cookie) on an
// empty 我的申请.
async function applicantOnEmptyList(reg = newRegion()) {
  const person = newPerson(reg.region);
  const page = await newPage(browser);
  await insuredSession(page, person);
  await page.goto(URL + '/#/my');
  await page.getByText('您还没有申请').waitFor();
  return { reg, person, page };
}

// A complete D013 application submitted by the signed-in applicant of
// page, through the same API calls the portal makes (same session).
async function submitInPage(page, hospital, phone, disease = 'D013') {
  const pdf = fs.readFileSync(PDF).toString('base64');
  return page.evaluate(async ({ hospital, phone, disease, pdf }) => {
    const me = await (await fetch('/api/v1/me')).json();
    const h = { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token };
    const a = await (await fetch('/api/v1/applications', { method: 'POST', headers: h,
      body: JSON.stringify({ disease_code: disease, phone, medical_record_no: 'ZY-9', designated_institution: hospital }) })).json();
    for (const kind of a.missing_materials.map((m) => m.kind)) {
      const fd = new FormData();
      fd.append('kind', kind);
      fd.append('issued_on', new Date(Date.now() - 5 * 86400e3).toISOString().slice(0, 10));
      fd.append('issuer', '测试市第甲人民医院');
      fd.append('file', new Blob([Uint8Array.from(atob(pdf), (c) => c.charCodeAt(0))], { type: 'application/pdf' }), 'r.pdf');
      const r = await fetch('/api/v1/applications/' + a.id + '/materials', { method: 'POST', headers: { 'X-CSRF-Token': me.csrf_token }, body: fd });
      if (r.status !== 201) throw new Error(await r.text());
    }
    const s = await fetch('/api/v1/applications/' + a.id + '/submit', { method: 'POST', headers: h, body: '{"promise":true}' });
    if (s.status !== 200) throw new Error(await s.text());
    return a.id;
  }, { hospital, phone, disease, pdf });
}

// A logout holds in every worker within a second (each keeps a session
// it read for half a second, shared/mt_auth.c, issue 13).
const logoutHolds = () => new Promise((r) => setTimeout(r, 1000));

test('an applicant applies for a double disease, two experts decide, the applicant sees 已通过 and the qualification', async () => {
  const reg = newRegion();
  // Two experts of the disease's specialty at hospitals B and C: stage 1
  // goes to one, the re-review to the other (never the applicant's A).
  const ex = [newExpert(reg.hospitals[1], '心血管'), newExpert(reg.hospitals[2], '心血管')];
  const agency = newAgencyUser(reg.region);
  const person = newPerson(reg.region);

  const page = await newPage(browser);
  await page.goto(URL + '/');
  await page.getByRole('heading', { name: '门诊慢特病网上认定' }).waitFor();
  await shot(page, '01-home');

  // Sign in: phone, the code from the SMS log, ID number and name.
  await page.getByRole('link', { name: /我是参保人/ }).click();
  await page.getByLabel('手机号码').fill(person.phone);
  const before = smsLines(person.phone).length;
  await page.click('#send-code');
  const code = await loginCode(person.phone, before);
  await page.locator('#status').filter({ hasText: '验证码已发送' }).waitFor();
  assert.equal(await page.locator('#send-code').isDisabled(), true, 'one code a minute');
  await page.getByLabel('短信验证码').fill(code);
  await page.getByLabel('身份证号码').fill(person.id_number);
  await page.getByLabel('姓名').fill(person.name);
  await shot(page, '02-login');
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/#\/my$/);
  await page.getByText('您还没有申请').waitFor();
  assert.match(await page.locator('#who').textContent(), /王秀兰/);

  // Step 1: find the disease by name; it says it is a double review.
  await page.getByRole('link', { name: '申请门诊慢特病' }).first().click();
  await page.getByLabel('按名称查找病种').fill('冠状动脉');
  const d = page.locator('label.disease');
  await waitFor(async () => (await d.count()) === 1);
  assert.match(await d.textContent(), /常规认定（初审 \+ 复审）/);
  assert.match(await d.textContent(), /确诊住院病历/);
  await d.click();
  await shot(page, '03-apply-disease');
  await page.click('#to-details');

  // Step 2: only the region's designated hospitals are offered.
  await waitFor(async () => (await page.getByLabel(/定点医疗机构/).locator('option').count()) > 1);
  const options = await page.getByLabel(/定点医疗机构/).locator('option').allTextContents();
  assert.deepEqual(options.slice(1).sort(), [...reg.names].sort());
  await page.getByLabel(/联系电话/).fill(person.phone);
  await page.getByLabel('病案号').fill('ZY-2026-0815');
  await page.getByLabel(/定点医疗机构/).selectOption({ label: reg.names[0] });
  await shot(page, '04-apply-details');
  await page.click('#save-details');

  // Step 3: the checklist; the missing list shrinks with each upload.
  await page.getByRole('heading', { name: '第三步：上传材料' }).waitFor();
  assert.match(await missingText(page), /还缺 2 项材料/);
  assert.equal(await page.locator('#checklist li.todo').count(), 2);
  await page.getByLabel(/选择文件/).setInputFiles(PNG);
  await page.locator('.preview img').waitFor();    // image thumbnail
  await uploadOne(page, '确诊住院病历', PNG, '测试市第甲人民医院');
  await waitFor(async () => /还缺 1 项材料：近期相关化验检查报告/.test(await missingText(page)));
  assert.equal(await page.locator('#checklist li.ok').count(), 1);
  assert.equal(await page.locator('#uploaded li').count(), 1);

  // Submit stays disabled while something is missing.
  await page.click('#to-review');
  await page.getByText('材料还没有齐全，补齐后才能提交').waitFor();
  await page.getByLabel('我已阅读并同意以上承诺').check();
  assert.equal(await page.locator('#submit-app').isDisabled(), true);
  await page.getByRole('button', { name: '上一步' }).click();

  await page.getByLabel(/选择文件/).setInputFiles(PDF);
  await page.locator('.preview img[alt="PDF 文件"]').waitFor();   // PDF icon
  await shot(page, '05-apply-materials');
  await uploadOne(page, '近期相关化验检查报告', PDF, '测试市第甲人民医院');
  await waitFor(async () => /必需的材料已经齐全/.test(await missingText(page)));

  // Step 4: everything, the promise, submit.
  await page.click('#to-review');
  assert.equal(await page.locator('#submit-app').isDisabled(), true, 'not before the promise');
  await page.getByLabel('我已阅读并同意以上承诺').check();
  assert.equal(await page.locator('#submit-app').isDisabled(), false);
  await shot(page, '06-apply-review');
  await page.click('#submit-app');
  await page.waitForURL(/#\/app\/\d+$/);
  const appId = /#\/app\/(\d+)$/.exec(page.url())[1];
  await page.locator('#timeline').getByText('已提交申请，等待分配认定专家').waitFor();
  await page.locator('#expected').waitFor();   // the expected decision date
  assert.match(await page.locator('.status-line').textContent(), /已提交|专家认定中/);
  assert.equal(sql(`SELECT channel FROM applications WHERE id = ${appId}`)[0][0], 'web');
  await shot(page, '07-application-submitted');

  // Two experts accept and decide in their own inboxes.
  const byLogin = Object.fromEntries(ex.map((e) => [e.login, e]));
  const first = await liveExpert(appId, 1);
  const expertPage = await newPage(browser);
  await expertDecides(expertPage, byLogin[first], appId, 1, '08-expert-1');
  const second = await liveExpert(appId, 2);
  assert.notEqual(second, first, 'the re-review goes to another expert');
  const expertPage2 = await newPage(browser);
  await expertDecides(expertPage2, byLogin[second], appId, 2, '09-expert-2');

  // The applicant sees 已通过 and the qualification.
  await waitFor(() => sql(`SELECT status FROM applications WHERE id = ${appId}`)[0][0] === 'approved');
  await page.goto(URL + '/#/my');
  await page.locator('.badge-approved').filter({ hasText: '已通过' }).waitFor();
  await shot(page, '10-my-applications');
  await page.getByRole('link', { name: '查看进度' }).first().click();
  const q = page.locator('#qualification');
  await q.waitFor();
  assert.match(await q.textContent(), /测试市第甲人民医院/);
  assert.match(await q.textContent(), /待遇有效期\d{4}年\d+月\d+日 至 \d{4}年\d+月\d+日/);
  assert.match(await page.locator('#timeline').textContent(), /通过/);
  await shot(page, '11-application-approved');
  // No personal data in any address the browser asked for or showed.
  const pii = [person.phone, person.id_number, person.name, encodeURIComponent(person.name)];
  for (const u of [...page.urls, ...expertPage.urls, ...expertPage2.urls]) {
    for (const x of pii) assert.ok(!u.includes(x), 'personal data in ' + u);
  }
  assert.ok(page.urls.length > 20, 'the addresses were recorded');
  // Everything from the portal itself: no CDN, no other site.
  const foreign = page.urls.filter((u) => !u.startsWith(URL + '/') && !/^(blob|data|about):/.test(u));
  assert.deepEqual(foreign, []);

  // The agency sees the region's queue and the expert pool.
  const ag = await newPage(browser);
  await staffSession(ag, agency);
  await ag.goto(URL + '/#/agency/experts');
  await ag.locator('#experts li').first().waitFor();
  assert.equal(await ag.locator('#experts li').count(), 2);
  await shot(ag, '13-agency-experts');
  for (const p of [page, expertPage, expertPage2, ag]) await done(p);
});

test('an API error shows its Chinese message beside the field it names', async () => {
  const reg = newRegion();
  const person = newPerson(reg.region);
  const page = await newPage(browser);
  await insuredSession(page, person);
  await page.goto(URL + '/#/apply');
  await page.getByLabel('按名称查找病种').fill('高血压');
  await page.locator('label.disease').first().click();
  await page.click('#to-details');
  // A phone number the API refuses (the page sends what was typed).
  await page.getByLabel(/联系电话/).fill('12345');
  await page.getByLabel('病案号').fill('MZ-1');
  await page.getByLabel(/定点医疗机构/).selectOption({ label: reg.names[0] });
  await page.click('#save-details');
  const box = page.locator('[data-field="phone"]');
  await box.locator('.field-error').filter({ hasText: '手机号码格式不正确' }).waitFor();
  assert.equal(await box.locator('input').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'phone');
  await shot(page, '14-field-error');

  // Agent: an ID number with a wrong check digit, beside its own field.
  await page.getByLabel(/联系电话/).fill(person.phone);
  await page.getByLabel('由家属或他人代办').check();
  await page.getByLabel('代办人姓名').fill('李强');
  await page.getByLabel('代办人身份证号码').fill(person.id_number.slice(0, 17) +
    (person.id_number[17] === '1' ? '2' : '1'));
  await page.getByLabel('与申请人关系').fill('子女');
  await page.getByLabel('代办人手机号码').fill('13800000000');
  await page.click('#save-details');
  await page.locator('[data-field="agent.id_number"] .field-error').filter({ hasText: /身份证/ }).waitFor();
  assert.equal(await page.locator('[data-field="phone"] .field-error').textContent(), '');

  // An upload the API refuses (a text file): the message beside the file.
  await page.getByLabel('代办人身份证号码').fill(person.id_number);
  await page.click('#save-details');
  await page.getByRole('heading', { name: '第三步：上传材料' }).waitFor();
  await page.getByLabel('出具日期').fill(cnDate(3));
  await page.getByLabel('出具机构').fill('测试市第甲人民医院');
  await page.getByLabel(/选择文件/).setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a scan') });
  await page.click('#upload');
  const fileErr = page.locator('[data-field="file"] .field-error');
  await fileErr.filter({ hasText: /[\u4e00-\u9fff]/ }).waitFor();
  assert.match(await fileErr.textContent(), /JPEG|PNG|PDF|格式|类型/);
  // Over the limit (api.js MAX_UPLOAD): said beside the file, nothing sent.
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
  await page.getByLabel(/选择文件/).setInputFiles({ name: 'huge.pdf', mimeType: 'application/pdf',
    buffer: Buffer.alloc(13 * 1048576, 0x20) });
  await page.click('#upload');
  await fileErr.filter({ hasText: '文件过大' }).waitFor();
  assert.deepEqual(posts, []);
  assert.deepEqual(page.errors, []);
  await done(page);
});

test('at 360 px wide the pages have no horizontal scroll, large type and big targets', async () => {
  const reg = newRegion();
  const person = newPerson(reg.region);
  const page = await newPage(browser, 360, 740);
  const noScroll = async (what) => {
    const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(sw <= cw, `${what}: scrollWidth ${sw} > ${cw}`);
  };
  await page.goto(URL + '/');
  await page.locator('.choice').first().waitFor();
  await noScroll('home');
  const fs = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
  assert.ok(fs >= 18, 'body text ' + fs + ' px');
  await page.goto(URL + '/#/login');
  await page.getByLabel('手机号码').waitFor();
  await noScroll('login');
  // Every button and text input is at least 44 px high.
  const small = await page.evaluate(() => [...document.querySelectorAll('button, input:not([type=checkbox]):not([type=radio])')]
    .filter((e) => e.offsetParent && e.getBoundingClientRect().height < 44).map((e) => e.outerHTML));
  assert.deepEqual(small, []);
  await shot(page, 'm1-login-360');

  await insuredSession(page, person);
  await page.goto(URL + '/#/apply');
  await page.getByLabel('按名称查找病种').fill('糖尿病');
  await page.locator('label.disease').first().click();
  await noScroll('apply, diseases');
  await page.click('#to-details');
  await page.getByLabel(/定点医疗机构/).waitFor();
  await noScroll('apply, details');
  await page.getByLabel(/联系电话/).fill(person.phone);
  await page.getByLabel('病案号').fill('MZ-360');
  await page.getByLabel(/定点医疗机构/).selectOption({ label: reg.names[0] });
  await page.click('#save-details');
  await page.getByRole('heading', { name: '第三步：上传材料' }).waitFor();
  await uploadOne(page, await page.getByLabel('材料类别').locator('option').first().textContent(), PNG, '测试医院');
  await page.locator('#uploaded li').waitFor();
  await noScroll('apply, materials');
  await shot(page, 'm2-apply-materials-360');
  await page.goto(URL + '/#/my');
  await page.locator('.app-list li').waitFor();
  await noScroll('my applications');
  await shot(page, 'm3-my-360');
  await done(page);
});

test('the keyboard alone signs a staff member in and out; logout ends the session on the server', async () => {
  const reg = newRegion();
  const ex = newExpert(reg.hospitals[1], '心血管');
  const page = await newPage(browser);
  await page.goto(URL + '/#/staff');
  await page.getByLabel('账号').waitFor();
  // Tab from the top of the page to the account field: the skip link,
  // the brand, the menu... each with a visible focus ring.
  const rings = [];
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const e = document.activeElement;
      const cs = getComputedStyle(e);
      return { name: e.name || e.id || e.textContent.trim().slice(0, 12), ring: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 };
    });
    rings.push(f);
    if (f.name === 'login') break;
  }
  assert.equal(rings[rings.length - 1].name, 'login', JSON.stringify(rings));
  assert.deepEqual(rings.filter((r) => !r.ring), [], 'every focused element shows a ring');
  await page.keyboard.type(ex.login);
  await page.keyboard.press('Tab');
  await page.keyboard.type(ex.password);
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/expert$/);
  await page.getByText('暂无待受理的任务').waitFor();
  // Nothing personal in web storage; the session cookie is HttpOnly.
  const stored = await page.evaluate(() => JSON.stringify({ l: { ...localStorage }, s: { ...sessionStorage } }));
  assert.equal(stored, '{"l":{},"s":{}}');
  assert.equal(await page.evaluate(() => document.cookie), '');
  const cookies = await page.context().cookies();
  assert.equal(cookies.length, 1);
  assert.equal(cookies[0].httpOnly, true);
  const token = cookies[0].value;

  // Tab to 退出登录 and press Enter.
  for (let i = 0; i < 10 && await page.evaluate(() => document.activeElement.id) !== 'logout'; i++) {
    await page.keyboard.press('Shift+Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), 'logout');
  await page.keyboard.press('Enter');
  await page.getByRole('link', { name: /我是参保人/ }).waitFor();
  // The old token is dead on the server, not just forgotten here (within
  // a second: another worker may keep the session half a second).
  await logoutHolds();
  const r = await page.request.get(URL + '/api/v1/me', { headers: { Cookie: cookies[0].name + '=' + token } });
  assert.equal(r.status(), 401);
  await done(page);
});

test('the portal is served with a CSP that forbids inline scripts, and no personal data in its URLs', async () => {
  const page = await newPage(browser);
  const res = await page.goto(URL + '/');
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
  assert.equal(res.headers()['x-frame-options'], 'DENY');
  // Every script the page loads is a file of the portal; none is inline.
  const inline = await page.evaluate(() => [...document.scripts].filter((s) => !s.src).length);
  assert.equal(inline, 0);
  // The portal's code never touches web storage (checked at run time too,
  // after a sign-in, in the keyboard test).
  for (const f of ['app', 'api', 'ui', 'login', 'applicant', 'expert', 'agency', 'benefit']) {
    const js = await (await page.request.get(URL + '/js/' + f + '.js')).text();
    assert.doesNotMatch(js, /\b(localStorage|sessionStorage|indexedDB)\s*[.[]/, f + '.js');
  }
  await done(page);
});

test('an expert sees the countdown in red under 2 hours, refuses with a reason, and the task goes to another expert', async () => {
  const reg = newRegion();
  sql(`UPDATE policies SET value = '5400' WHERE region = '${reg.region}' AND key = 'accept_window_seconds'`);
  const ex = [newExpert(reg.hospitals[1], '心血管'), newExpert(reg.hospitals[2], '心血管')];
  const { person, page } = await applicantOnEmptyList(reg);
  const appId = await submitInPage(page, reg.hospitals[0], person.phone);
  const first = await liveExpert(appId, 1);
  const e1 = ex.find((e) => e.login === first);
  const ep = await newPage(browser);
  await staffSession(ep, e1);
  await ep.goto(URL + '/#/expert');
  const card = ep.locator('.task').first();
  await card.waitFor();
  const cd = card.locator('.countdown');
  assert.match(await cd.textContent(), /^剩余 1 小时 [2-3]\d 分 \d+ 秒$/);
  assert.equal(await cd.evaluate((e) => e.classList.contains('urgent')), true);
  assert.equal(await cd.evaluate((e) => getComputedStyle(e).color), 'rgb(179, 38, 30)');
  await shot(ep, '15-expert-urgent');
  await card.locator('[data-action=refuse]').click();
  await card.locator('[data-action=refuse-confirm]').click();
  await card.locator('.field-error').filter({ hasText: '请填写拒绝受理的理由' }).waitFor();
  await card.getByLabel('拒绝受理的理由').fill('本人近期外出，无法按时审核');
  await card.locator('[data-action=refuse-confirm]').click();
  await ep.locator('#status').filter({ hasText: '已拒绝受理' }).waitFor();
  await ep.getByText('暂无待受理的任务').waitFor();
  assert.notEqual(await liveExpert(appId, 1), first);
  for (const p of [page, ep]) await done(p);
});

test('an agency reinstates a disqualified expert from the pool page', async () => {
  const reg = newRegion();
  const ex = newExpert(reg.hospitals[1], '内分泌');
  sql(`UPDATE experts SET status = 'disqualified', consecutive_misses = 3
       WHERE user_id = (SELECT id FROM users WHERE login = '${ex.login}')`);
  const agency = newAgencyUser(reg.region);
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/experts');
  const li = page.locator('#experts li').filter({ hasText: ex.login });
  await li.waitFor();
  assert.match(await li.textContent(), /已取消资格/);
  assert.equal(await li.locator('.misses').textContent(), '3');
  await li.locator('[data-action=reinstate]').click();
  await li.filter({ hasText: '在库' }).waitFor();
  assert.equal(await li.locator('.misses').textContent(), '0');
  assert.equal(sql(`SELECT status FROM experts WHERE user_id = (SELECT id FROM users WHERE login = '${ex.login}')`)[0][0], 'active');
  await done(page);
});

test('the agency queue shows an application waiting for an expert and one past its working-day target', async () => {
  const reg = newRegion();   // no expert at all: nobody can be drawn
  const agency = newAgencyUser(reg.region);
  const ids = [];
  for (const name of ['赵德明', '钱玉珍']) {
    const person = newPerson(reg.region, name);
    const p = await newPage(browser);
    await insuredSession(p, person);
    await p.goto(URL + '/#/my');
    await p.getByText('您还没有申请').waitFor();
    ids.push(await submitInPage(p, reg.hospitals[0], person.phone));
    await done(p);
  }
  await waitFor(() => sql(`SELECT count(*) FROM applications WHERE id IN (${ids})
    AND unassigned_since IS NOT NULL`)[0][0] === '2', 60000);
  // The second is past its expected decision date.
  sql(`UPDATE applications SET expected_decision_date = current_date - 3 WHERE id = ${ids[1]}`);
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/queue');
  await page.locator('#queue li[data-app]').first().waitFor();
  assert.equal(await page.locator('#filter-unassigned').textContent(), '待分配专家（2）');
  assert.equal(await page.locator('#filter-overdue').textContent(), '超过办理时限（1）');
  assert.equal(await page.locator('#queue-more').isVisible(), false);
  await page.click('#filter-overdue');
  await waitFor(async () => (await page.locator('#queue li[data-app]').count()) === 1);
  const li = page.locator('#queue li[data-app]');
  assert.equal(await li.getAttribute('data-app'), String(ids[1]));
  assert.match(await li.textContent(), /已超期/);
  assert.match(await li.textContent(), /钱玉珍（\d{4}\*+\d{3}[\dX]）/);   // ID number masked
  assert.match(await li.textContent(), /无可分配专家/);
  await page.click('#filter-open');
  await waitFor(async () => (await page.locator('#queue li[data-app]').count()) === 2);
  await shot(page, '12-agency-queue');
  await done(page);
});

test('an applicant withdraws a submitted application from its progress page', async () => {
  const reg = newRegion();   // no expert: it stays submitted, waiting
  const { person, page } = await applicantOnEmptyList(reg);
  const appId = await submitInPage(page, reg.hospitals[0], person.phone);
  await waitFor(() => sql(`SELECT unassigned_since IS NOT NULL FROM applications
    WHERE id = ${appId}`)[0][0] === 't', 20000);
  await page.goto(URL + '/#/app/' + appId);
  // Nobody can review it: the page says so, with no date (issue 9 A4).
  await page.locator('#waiting').getByText('暂无可分配的认定专家').waitFor();
  assert.equal(await page.locator('#expected').count(), 0, 'no false date');
  await page.click('#withdraw');
  // A second, explicit confirmation; "不撤回" keeps it.
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
  await page.getByRole('button', { name: '不撤回' }).click();
  await page.locator('#withdraw-confirm').waitFor({ state: 'hidden' });
  assert.deepEqual(posts, [], 'nothing sent');
  assert.equal(await page.locator('.status-line .badge-unassigned').count(), 1);
  await page.click('#withdraw');
  await page.click('#withdraw-confirm');
  await page.locator('.status-line .badge-withdrawn').filter({ hasText: '已撤回' }).waitFor();
  await page.locator('#timeline').getByText('已撤回申请').waitFor();
  assert.equal(posts.length, 1);
  assert.match(posts[0], new RegExp('/applications/' + appId + '/withdraw$'));
  assert.equal(await page.locator('#withdraw').count(), 0, 'nothing left to withdraw');
  assert.equal(await page.locator('#expected').count(), 0, 'no expected date once withdrawn');
  assert.equal(sql(`SELECT status FROM applications WHERE id = ${appId}`)[0][0], 'withdrawn');
  await done(page);
});

test('hospital staff sign in and see the applications their hospital filed', async () => {
  // The demo hospital (青海省人民医院, region 630100) files for a person.
  const person = newPerson('630100', '周桂英');
  const hosp = { login: 'hospital-qhph', password: 'mtcert-hospital-2026' };
  const page = await newPage(browser);
  const s = await staffSession(page, hosp);
  const r = await post('/hospital/applications', {
    id_number: person.id_number, name: person.name, disease_code: 'D013', phone: person.phone,
    medical_record_no: 'QH-77', designated_institution: 'H63010200143',
  }, { Authorization: 'Bearer ' + s.token });
  assert.equal(r.status, 201, r.text);
  const appId = JSON.parse(r.text).id;
  await page.goto(URL + '/');
  await page.getByRole('heading', { name: '本院代办的申请' }).waitFor();
  const li = page.locator('.app-list li').filter({ hasText: '申请编号 ' + appId + ' ' });
  await li.waitFor();
  assert.match(await li.textContent(), /周桂英（\d{4}\*+\d{3}[\dX]）/);   // masked
  await li.getByRole('link', { name: '查看或继续填写' }).click();
  await page.locator('#timeline').getByText('医院已代为填报申请').waitFor();
  // The draft is finished in 代办申报 (filing.test.mjs).
  assert.equal(await page.getByRole('link', { name: '继续填写并提交' }).getAttribute('href'),
    '#/hospital/file/' + appId);
  await shot(page, '16-hospital-filed');
  await done(page);
});

// A fresh expert of a region of their own, signed in on their empty
// inbox.  clock: install Playwright's fake clock first.
async function expertOnEmptyInbox(clock) {
  const reg = newRegion();
  const ex = newExpert(reg.hospitals[1], '心血管');
  const page = await newPage(browser);
  if (clock) await page.clock.install();
  const s = await staffSession(page, ex);
  await page.goto(URL + '/#/expert');
  await page.getByText('暂无待受理的任务').waitFor();
  return { page, s };
}

test('a failed logout says so and keeps the person signed in; a retry signs out', async () => {
  const { page } = await expertOnEmptyInbox();
  // The network fails once (fault injection in the browser; the server
  // is the real one).
  let fail = true;
  await page.route('**/api/v1/auth/logout', (route) => (fail
    ? route.fulfill({ status: 503, contentType: 'application/json',
      body: '{"error":{"code":"service_unavailable","message":"服务暂时不可用，请稍后再试"}}' })
    : route.continue()));
  await page.click('#logout');
  await page.locator('#status').filter({ hasText: '退出登录未成功：服务暂时不可用' }).waitFor();
  assert.equal(await page.locator('#logout').isVisible(), true);
  assert.equal((await page.request.get(URL + '/api/v1/me')).status(), 200, 'still signed in');
  fail = false;
  await page.click('#logout');
  await page.locator('#status').filter({ hasText: '您已安全退出' }).waitFor();
  await logoutHolds();
  assert.equal((await page.request.get(URL + '/api/v1/me')).status(), 401, 'signed out on the server');
  await done(page);
});

test('a session ended on the server sends the person to sign in again, in Chinese', async () => {
  const { page, s } = await expertOnEmptyInbox();
  // The session ends (signed out elsewhere with the same token).
  assert.equal((await post('/auth/logout', {}, { Authorization: 'Bearer ' + s.token })).status, 204);
  await logoutHolds();
  await page.click('#tab-decided');
  await page.waitForURL(/#\/staff$/);
  await page.locator('#status').filter({ hasText: '登录已过期，请重新登录' }).waitFor();
  assert.equal(await page.locator('#logout').count(), 0);
  await done(page);
});

test('before an idle session ends the page warns, and 继续使用 keeps it', async () => {
  const { page, s } = await expertOnEmptyInbox(true);
  const warn = page.locator('.idle-warning');
  assert.equal(await warn.isVisible(), false);
  // 29 minutes without a request (the policy: 30): the warning, focused.
  await page.clock.fastForward((s.expires_in - 90) * 1000);
  await warn.waitFor();
  assert.match(await warn.textContent(), /登录将在 \d+ 秒后失效/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'keep-alive');
  await shot(page, '17-idle-warning');
  await page.keyboard.press('Enter');
  await warn.waitFor({ state: 'hidden' });
  await page.locator('#status').filter({ hasText: '已延长登录时间' }).waitFor();
  await done(page);
});

test('an expert rejects an instant disease with a reason; the applicant sees 未通过 and why', async () => {
  const reg = newRegion();
  const ex = newExpert(reg.hospitals[1], '肿瘤');
  // A reason only the server's list has (B5): the form must offer it.
  sql("INSERT INTO rejection_reasons (code, name_zh, sort) VALUES ('browser_test_reason', '测试：目录新增的原因', 95)"
    + ' ON CONFLICT (code) DO UPDATE SET active = true');
  const { person, page } = await applicantOnEmptyList(reg);
  const appId = await submitInPage(page, reg.hospitals[0], person.phone, 'D001');
  await liveExpert(appId, 1);
  await waitFor(async () => (await (await fetch(URL + '/api/v1/rejection-reasons')).json())
    .items.some((r) => r.code === 'browser_test_reason'));
  const ep = await newPage(browser);
  await staffSession(ep, ex);
  await ep.goto(URL + '/#/expert');
  const card = ep.locator('.task').first();
  await card.waitFor();
  assert.match(await card.textContent(), /即时认定/);
  await card.getByRole('button', { name: '受理', exact: true }).click();
  await ep.waitForURL(/#\/expert\/\d+$/);
  // The expert reads first: both PDFs shown inside the page.
  await waitFor(async () => (await ep.locator('iframe.pdf-frame').count()) === 2 &&
    ep.frames().filter((f) => /\/api\/v1\/materials\/\d+$/.test(f.url())).length === 2);
  await ep.waitForLoadState('load');
  await ep.getByRole('radio', { name: '不予认定' }).check();
  // The reasons offered are the server's list, in its order.
  const offered = await ep.getByLabel('不予认定原因').locator('option')
    .evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.deepEqual(offered, sql('SELECT code FROM rejection_reasons WHERE active ORDER BY sort, code')
    .map((r) => r[0]));
  assert.ok(offered.includes('browser_test_reason'));
  sql("DELETE FROM rejection_reasons WHERE code = 'browser_test_reason'");
  // The reason code is asked for first, in the page ...
  await ep.click('#decide');
  await ep.locator('[data-field="reason_code"] .field-error').filter({ hasText: '请选择不予认定原因' }).waitFor();
  await ep.getByLabel('不予认定原因').selectOption('materials_insufficient');
  // ... the opinion by the API, beside its field.
  await ep.click('#decide');
  await ep.locator('[data-field="opinion"] .field-error').filter({ hasText: '不予认定须写明理由' }).waitFor();
  await ep.getByLabel('认定意见').fill('病理报告缺失，现有材料不足以确诊恶性肿瘤。');
  await ep.click('#decide');
  await ep.waitForURL(/#\/expert$/);
  await waitFor(() => sql(`SELECT status FROM applications WHERE id = ${appId}`)[0][0] === 'rejected');
  await page.goto(URL + '/#/app/' + appId);
  await page.locator('.status-line .badge-rejected').filter({ hasText: '未通过' }).waitFor();
  assert.match(await page.locator('.card.warn').textContent(), /原因：病理报告缺失，现有材料不足以确诊恶性肿瘤。/);
  assert.equal(await page.locator('#qualification').count(), 0);
  assert.equal(sql(`SELECT decision_reason_code FROM applications WHERE id = ${appId}`)[0][0], 'materials_insufficient');
  await shot(page, '18-application-rejected');
  for (const p of [page, ep]) await done(p);
});

test('a large upload shows its progress, then the missing list shrinks', async () => {
  const { reg, person, page } = await applicantOnEmptyList();
  const appId = await page.evaluate(async ({ hospital, phone }) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1/applications', { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ disease_code: 'D013', phone, medical_record_no: 'ZY-1', designated_institution: hospital }) });
    return (await r.json()).id;
  }, { hospital: reg.hospitals[0], phone: person.phone });
  await page.goto(URL + '/#/apply/' + appId);
  await page.getByRole('heading', { name: '第三步：上传材料' }).waitFor();
  // A 3 MB scan over a slow uplink (2 Mbit/s): the bar moves.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 250000 });
  const big = Buffer.concat([fs.readFileSync(PNG), crypto.randomBytes(3 * 1048576)]);
  await page.getByLabel('材料类别').selectOption({ label: '确诊住院病历' });
  await page.getByLabel('出具日期').fill(cnDate(5));
  await page.getByLabel('出具机构').fill('测试医院');
  await page.getByLabel(/选择文件/).setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: big });
  await page.click('#upload');
  const bar = page.locator('progress');
  await bar.waitFor();
  const mid = await waitFor(async () => {
    const v = Number(await bar.getAttribute('value'));
    return v > 0 && v < 100 ? v : null;
  }, 60000, 50);
  assert.ok(mid > 0 && mid < 100);
  assert.match(await page.locator('.progress-row .hint').textContent(), /^已上传 \d+%$/);
  // 3 MB at 250 kB/s is 13 s at best: a bound for a loaded machine.
  await page.locator('#status').filter({ hasText: '上传成功' }).waitFor({ timeout: 90000 });
  await waitFor(async () => /还缺 1 项材料/.test(await missingText(page)));
  assert.equal(await bar.isVisible(), false);
  await done(page);
});

test('a slow answer for a tab already left never replaces the newer one', async () => {
  const { page } = await expertOnEmptyInbox();
  // The 已完成 list answers slowly (a weak network): the expert moves on.
  // The slow answer is held until the newer list has come and been drawn,
  // then let through, and the page is given its turn to handle it: the
  // order is made, not hoped for from a fixed wait (A13).
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/api/v1/expert/tasks?state=decided', async (route) => {
    await held;
    await route.continue();
  });
  const settle = () => page.evaluate(() => new Promise((r) => setTimeout(r, 100)));
  const newer = page.waitForResponse((r) => r.url().endsWith('/expert/tasks?state=pushed'));
  const slow = page.waitForEvent('requestfinished',
    (r) => r.url().endsWith('/expert/tasks?state=decided'));
  await page.click('#tab-decided');
  await page.click('#tab-pushed');
  await newer;
  await settle();
  release();
  await slow;
  await settle();
  assert.equal(await page.locator('#tab-pushed').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('#tab-decided').getAttribute('aria-pressed'), 'false');
  assert.equal(await page.locator('#tasks').textContent(), '暂无待受理的任务');
  // The focus stayed on the tab that was pressed.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-pushed');
  await done(page);
});

test('with the API pools down the page says so in Chinese and offers a retry that works once they are back', async () => {
  const { page } = await expertOnEmptyInbox();
  stack('modules-stop');
  try {
    await page.click('#tab-decided');
    await page.locator('#tasks .form-error').filter({ hasText: '服务暂时不可用，请稍后再试' }).waitFor();
    // A reload while down: the service is down, not the session (no
    // "please sign in").
    await page.reload();
    await page.getByRole('heading', { name: '出错了' }).waitFor();
    assert.match(await page.locator('.view .form-error').textContent(), /服务暂时不可用/);
    assert.equal(page.url(), URL + '/#/expert');
  } finally {
    stack('modules-start');
  }
  await page.click('#retry');
  await page.getByRole('heading', { name: '认定任务' }).waitFor();
  await page.click('#tab-decided');
  await page.locator('#tasks').filter({ hasText: '暂无任务' }).waitFor();
  assert.equal(await page.locator('#tab-decided').getAttribute('aria-pressed'), 'true');
  await done(page);
});
