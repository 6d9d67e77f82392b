// helpers.mjs -- what the browser tests share: Debian's Chromium driven by
// playwright-core, the test stack's database and mtcertctl to arrange
// what a test needs (a region with its own expert pool, a person), the
// development SMS log for sign-in codes, and screenshots.
// The stack is the throwaway one of tests/run.sh (MTCERT_URL, MTCERT_VAR,
// MTCERT_PG_PORT, MTCERT_BUILD); nothing is mocked.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = process.env.MTCERT_ROOT || path.resolve(here, '..', '..');
export const URL = process.env.MTCERT_URL || 'http://127.0.0.1:8080';
export const VAR = process.env.MTCERT_VAR || path.join(ROOT, 'var');
const PG_PORT = process.env.MTCERT_PG_PORT || '5433';
const CTL = path.join(process.env.MTCERT_BUILD || path.join(ROOT, 'build'), 'bin', 'mtcertctl');
// Screenshots of each main page, kept after the throwaway stack is gone.
export const SHOTS = process.env.MTCERT_SCREENSHOTS || path.join(ROOT, 'var', 'screenshots');
export const FIXTURES = path.join(here, 'fixtures');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

// A new page of its own context (own cookies), zh-CN, the given width.
export async function newPage(browser, width = 1280, height = 900) {
  const ctx = await browser.newContext({
    viewport: { width, height }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
  });
  const page = await ctx.newPage();
  // Script errors, and anything the browser refused by policy (CSP,
  // framing): each fails the test in done().
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Refused|Content Security Policy|violates/.test(m.text())) page.errors.push(m.text());
  });
  // Every address the page asked for (the tests check no personal data
  // is in any).
  page.urls = [];
  page.on('request', (r) => page.urls.push(r.url()));
  page.on('framenavigated', (f) => page.urls.push(f.url()));
  return page;
}

// The end of a page's part in a test: no script error, nothing refused.
export async function done(page) {
  const errors = page.errors.slice();
  await page.context().close();
  if (errors.length) throw new Error('errors in the page:\n  ' + errors.join('\n  '));
}

// A screenshot of the page as it is, and its accessibility checks.
export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
  await checkA11y(page, name);
  await checkSizes(page, name);
}

// Made for old eyes and unsteady hands (issue 5): every visible text at
// least 18 px; every button, field, menu link and button-styled link at
// least 44 px high; every checkbox and radio at least 24 px.
export async function checkSizes(page, where) {
  const bad = await page.evaluate(() => {
    const out = [];
    const visible = (e) => e.offsetParent !== null && e.getBoundingClientRect().width > 0;
    const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '');
    for (const e of document.querySelectorAll('body *')) {
      if (!visible(e) || ['SCRIPT', 'STYLE', 'OPTION'].includes(e.tagName)) continue;
      const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      const fs = parseFloat(getComputedStyle(e).fontSize);
      if (own && fs < 17.95) out.push(name(e) + ' text ' + fs + 'px');
    }
    const targets = 'button, select, textarea, input:not([type=checkbox]):not([type=radio]):not([type=hidden]), nav a, a.btn, a.choice';
    for (const e of document.querySelectorAll(targets)) {
      if (visible(e) && e.getBoundingClientRect().height < 44) out.push(name(e) + ' target ' + e.getBoundingClientRect().height + 'px high');
    }
    for (const e of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
      const r = e.getBoundingClientRect();
      if (visible(e) && (r.height < 24 || r.width < 24)) out.push(name(e) + ' ' + r.width + 'x' + r.height);
    }
    return out;
  });
  if (bad.length) throw new Error('sizes on ' + where + ':\n  ' + bad.slice(0, 15).join('\n  '));
}

// axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is now (labels,
// names, contrast, landmarks, ARIA...).  Any violation fails the test,
// with the rule, the element and axe's explanation.  Run through the
// DevTools protocol, so the page's CSP stays on.
const AXE = fs.readFileSync(path.join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
export async function checkA11y(page, where) {
  const violations = await page.evaluate(async (src) => {
    if (!window.axe) (0, eval)(src);
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' -- ' +
      v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary.replace(/\s+/g, ' ')).join(' | '));
  }, AXE);
  if (violations.length) {
    throw new Error('accessibility (WCAG 2.1 AA) on ' + where + ':\n  ' + violations.join('\n  '));
  }
}

// One SQL statement on the stack's database; rows as arrays of strings.
export function sql(query) {
  const out = execFileSync('psql', ['-h', path.join(VAR, 'run', 'pg'), '-p', PG_PORT,
    '-U', 'mtcert', '-d', 'mtcert', '-qAtX', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', query],
  { encoding: 'utf8', timeout: 30000 });
  return out.split('\n').filter((l) => l).map((l) => l.split('\t'));
}

// shared/stack.sh on the test stack (modules-stop, modules-start ...).
export function stack(cmd) {
  execFileSync(path.join(ROOT, 'shared', 'stack.sh'), [cmd], { stdio: 'ignore', timeout: 120000 });
}

export function ctl(...args) {
  return execFileSync(CTL, ['--config', path.join(VAR, 'mtcert.conf'), ...args],
    { encoding: 'utf8', timeout: 60000 });
}

// The lookup HMAC the database keeps of an ID number or phone
// (persons.id_number_hmac, phone_hmac: shared/mt_identity.h); the plain
// values are never stored, so tests find a person by these.
export function idHmac(number) {
  return ctl('identity', 'hmac', 'id_number', number).trim();
}
export function phoneHmac(phone) {
  return ctl('identity', 'hmac', 'phone', phone).trim();
}

function rnd(n) { return Math.floor(Math.random() * n); }

// A GB 11643 ID number with a correct check digit.
export function idNumber(region, birth) {
  const body = region + birth + String(100 + rnd(900));
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(body[i]) * w[i];
  return body + '10X98765432'[s % 11];
}

// A fresh insured person of region (own phone: SMS limits are per phone).
export function newPerson(region, name = '王秀兰') {
  for (;;) {
    const p = {
      id_number: idNumber(region, '19' + (40 + rnd(20)) + '0' + (1 + rnd(9)) + '1' + rnd(10)),
      phone: '137' + String(rnd(1e8)).padStart(8, '0'), name, region,
    };
    if (sql(`SELECT 1 FROM persons WHERE id_number_hmac = '${idHmac(p.id_number)}' OR phone_hmac = '${phoneHmac(p.phone)}'`).length) continue;
    ctl('person', 'add', '--id-number', p.id_number, '--name', name, '--phone', p.phone,
      '--region', region, '--insurance', 'resident');
    return p;
  }
}

// A region of its own (catalog, policies, three certifying designated
// hospitals A, B, C), so a test knows its expert pool exactly.
export function newRegion() {
  let code;
  do { code = '7' + String(rnd(1e5)).padStart(5, '0'); } while (sql(`SELECT 1 FROM regions WHERE code = '${code}'`).length);
  const hosp = [1, 2, 3].map((i) => 'H' + code + '000' + i);
  sql(`INSERT INTO regions VALUES ('${code}', '测试市${code}', '测试省')`);
  sql(`INSERT INTO region_diseases (region, disease) SELECT '${code}', code FROM diseases`);
  sql(`INSERT INTO policies (region, key, value) SELECT '${code}', key, value FROM policies WHERE region = '411200'`);
  ['甲', '乙', '丙'].forEach((n, i) => {
    sql(`INSERT INTO institutions (code, name, region, level, ownership, certifying, source)
         VALUES ('${hosp[i]}', '测试市第${n}人民医院', '${code}', 3, 'public', true, 'test')`);
    sql(`INSERT INTO institution_diseases SELECT '${hosp[i]}', code FROM diseases`);
  });
  return { region: code, hospitals: hosp, names: ['测试市第甲人民医院', '测试市第乙人民医院', '测试市第丙人民医院'] };
}

// Logins shaped like the demo ones (expert-cardio-1, agency-sanmenxia):
// the README's screenshots show them in the page header.
const SPECIALTY_TAG = { 心血管: 'cardio', 肿瘤: 'onc', 内分泌: 'endo' };
function uniqueSuffix() { return Date.now().toString(36).slice(-4) + rnd(100); }

export function newExpert(institution, specialties, login) {
  login = login || 'expert-' + (SPECIALTY_TAG[specialties] || 'md') + '-' + uniqueSuffix();
  ctl('expert', 'add', '--login', login, '--password', 'expert-pass-1', '--institution', institution,
    '--title', '副高', '--specialties', specialties);
  return { login, password: 'expert-pass-1' };
}

export function newAgencyUser(region) {
  const login = 'agency-' + region;   // one per (new) region
  ctl('user', 'add', '--role', 'agency', '--login', login, '--password', 'agency-pass-1', '--region', region);
  return { login, password: 'agency-pass-1' };
}

export function smsLines(phone) {
  const f = path.join(VAR, 'sms.log');
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').filter((l) => l)
    .map((l) => JSON.parse(l)).filter((m) => m.to === phone);
}

export async function waitFor(pred, ms = 15000, step = 100) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, step));
  }
}

// The newest login code sent to phone after `before` codes.
export async function loginCode(phone, before) {
  return waitFor(() => {
    const codes = smsLines(phone).filter((m) => m.template === 'login_code');
    return codes.length > before ? /验证码为(\d{6})/.exec(codes[codes.length - 1].text)[1] : null;
  });
}

// Sign in over the API from a loopback address of its own (nginx limits
// sign-ins per address; the browser always comes from 127.0.0.1), then
// hand the session cookie to the page's context.  Tests that are about
// something other than the sign-in page use this.
export function post(pathname, body, headers) {
  const u = new globalThis.URL(URL);
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port, path: '/api/v1' + pathname, method: 'POST',
      localAddress: `127.${1 + rnd(250)}.${rnd(250)}.${1 + rnd(250)}`,
      headers: Object.assign({ 'Content-Type': 'application/json', 'Content-Length': data.length }, headers || {}),
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function cookieLogin(page, pathname, body) {
  const r = await post(pathname, body);
  if (r.status !== 200) throw new Error('sign-in failed: ' + r.status + ' ' + r.text);
  const token = JSON.parse(r.text).token;
  const cookie = /^([^=]+)=/.exec(r.headers['set-cookie'][0])[1];
  await page.context().addCookies([{ name: cookie, value: token, url: URL }]);
  return JSON.parse(r.text);
}

export async function staffSession(page, user) {
  return cookieLogin(page, '/auth/password-login', { login: user.login, password: user.password });
}

export async function insuredSession(page, person) {
  const before = smsLines(person.phone).filter((m) => m.template === 'login_code').length;
  const r = await post('/auth/sms-code', { phone: person.phone });
  if (r.status !== 204) throw new Error('sms-code: ' + r.status + ' ' + r.text);
  const code = await loginCode(person.phone, before);
  return cookieLogin(page, '/auth/login', {
    phone: person.phone, code, id_number: person.id_number, name: person.name,
  });
}

// Today in China (what the date inputs want), minus days.
export function cnDate(daysAgo = 0) {
  const d = new Date(Date.now() + 8 * 3600e3 - daysAgo * 86400e3);
  return d.toISOString().slice(0, 10);
}

// An active qualification of person (one of newPerson's) for disease at
// hospital, begun 30 days ago and valid for a year: what an approval
// leaves (conclude_application, sql/fn/30_review.sql), without driving
// two experts through their inboxes.  Returns its id.
export function newQualification(person, hospital, disease = 'D013') {
  return sql(`INSERT INTO qualifications (person_id, disease, region, designated_institution, valid_from, valid_to)
    SELECT id, '${disease}', region, '${hospital}', cn_today() - 30, cn_today() + 334
    FROM persons WHERE id_number_hmac = '${idHmac(person.id_number)}' RETURNING id`)[0][0];
}

// The region agency's contact, as the agency sets it (every page's footer).
export function setRegionContact(region, agencyName, hotline, address) {
  sql(`UPDATE regions SET agency_name = '${agencyName}', hotline = '${hotline}', agency_address = '${address}'
    WHERE code = '${region}'`);
  return { agency_name: agencyName, hotline, agency_address: address };
}

// The text of a PDF in reading order (Debian's poppler-utils, stack.sh
// browser-deps) and its number of pages.
export function pdfText(file) {
  const text = execFileSync('pdftotext', ['-raw', file, '-'], { encoding: 'utf8', timeout: 30000 });
  const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8', timeout: 30000 }))[1]);
  return { text, pages };
}

// Upload one material on the wizard's step 3 (applicant.js): its kind by
// label, a date 10 days ago, the issuer and the file.
export async function uploadOne(page, kindText, file, issuer) {
  await page.getByLabel('材料类别').selectOption({ label: kindText });
  await page.getByLabel('出具日期').fill(cnDate(10));
  await page.getByLabel('出具机构').fill(issuer);
  await page.getByLabel(/选择文件/).setInputFiles(file);
  await page.click('#upload');
}

// The wizard's "还缺 n 项材料" line.
export async function missingText(page) {
  return (await page.locator('#missing-summary').textContent()).trim();
}

// A page of another width (360 px phone) in page's session (one SMS code
// a minute per phone: no second sign-in).
export async function phoneOf(browser, page) {
  const phone = await newPage(browser, 360, 740);
  await phone.context().addCookies(await page.context().cookies());
  return phone;
}

// The page at route on a 360 px phone in page's session, once ready is
// shown: nothing wider than the screen, and the axe and size checks
// (shot, named name).
export async function phoneCheck(browser, page, route, ready, name) {
  const phone = await phoneOf(browser, page);
  await phone.goto(URL + route);
  await phone.locator(ready).first().waitFor();
  const [sw, cw] = await phone.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  if (sw > cw) throw new Error(`${name}: scrollWidth ${sw} > ${cw}`);
  await shot(phone, name);
  await done(phone);
}

// ------------------------------------------------ 现场认定 (onsite.js)

// The new-certification form of hospital staff (现场认定 → 新的现场认定)
// filled and sent: the page moves to the record (#/hospital/onsite/{id});
// returns the application id.
export async function onsiteFile(page, person, diseaseName) {
  await page.goto(URL + '/');
  await page.getByRole('link', { name: '现场认定' }).click();
  await page.locator('#onsite-new').click();
  await page.getByLabel('身份证号码').fill(person.id_number);
  await page.getByLabel('姓名').fill(person.name);
  await page.getByLabel('认定病种').selectOption({ label: diseaseName });
  await page.getByLabel('联系电话').fill(person.phone);
  await page.getByLabel('病案号').fill('MZ-' + Date.now());
  await page.click('#onsite-file');
  await page.waitForURL(/#\/hospital\/onsite\/\d+$/);
  return /(\d+)$/.exec(page.url())[1];
}

// The record's upload form: the fixture image for every kind it offers,
// each waited for in the list; returns the number of kinds.
export async function onsiteUploadAll(page) {
  const kinds = await page.locator('select[name=kind] option').evaluateAll((os) => os.map((o) => o.value));
  for (const k of kinds) {
    const before = await page.locator('#images li').count();
    await page.locator('select[name=kind]').selectOption(k);
    await page.locator('input[type=file]').setInputFiles(path.join(FIXTURES, 'record.png'));
    await page.click('#onsite-upload');
    await page.waitForFunction((n) => document.querySelectorAll('#images li').length > n, before);
  }
  return kinds.length;
}

// The record's 认定表 filled (f: diagnosis, basis, examinations, doctor,
// title) with the conclusion's label checked; not sent.
export async function onsiteFillForm(page, f, conclusion) {
  await page.getByLabel('诊断').fill(f.diagnosis);
  await page.getByLabel('认定依据').fill(f.basis);
  await page.getByLabel('检查检验结果').fill(f.examinations);
  await page.getByLabel('认定医师姓名').fill(f.doctor);
  await page.getByLabel('认定医师职称').selectOption(f.title || '副高');
  await page.getByLabel(conclusion).check();
}

// The texts of the 认定病种 choice on 新的现场认定 (the diseases the
// signed-in hospital may certify).
export async function onsiteDiseaseChoice(page) {
  await page.goto(URL + '/#/hospital/onsite/new');
  await page.locator('#onsite-file').waitFor();
  return page.getByLabel('认定病种').locator('option').allTextContents();
}

// ------------------------------------------- the wizard (applicant.js)

// Step 1 of the wizard: the one disease found by q (a name or a code)
// picked, on to step 2 once its hospital choice is filled; returns the
// disease's text.
export async function chooseDisease(page, q) {
  await page.getByLabel('按名称查找病种').fill(q);
  const d = page.locator('label.disease');
  await waitFor(async () => (await d.count()) === 1);
  const text = await d.textContent();
  await d.click();
  await page.click('#to-details');
  await waitFor(async () => (await page.getByLabel(/定点医疗机构/).locator('option').count()) > 1);
  return text;
}

// The person of page files an application of disease (D013 unless named)
// with PNG scans for every required material and submits it (the
// portal's own API calls).  Returns its number.
export async function fileWithScans(page, hospital, disease = 'D013') {
  if (!page.url().startsWith(URL)) await page.goto(URL + '/#/my');
  const png = fs.readFileSync(path.join(FIXTURES, 'record.png')).toString('base64');
  return page.evaluate(async ({ hospital, png, disease }) => {
    const me = await (await fetch('/api/v1/me')).json();
    const json = { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token };
    const call = async (p, init) => {
      const r = await fetch('/api/v1' + p, init);
      if (r.status >= 300) throw new Error(p + ': ' + r.status + ' ' + await r.text());
      return r.json();
    };
    const a = await call('/applications', { method: 'POST', headers: json, body: JSON.stringify({
      disease_code: disease, phone: '13900000000', medical_record_no: 'ZY-2026-77', designated_institution: hospital }) });
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    for (const m of a.missing_materials) {
      const fd = new FormData();
      fd.append('kind', m.kind);
      fd.append('issued_on', new Date(Date.now() - 3 * 86400e3).toISOString().slice(0, 10));
      fd.append('issuer', '测试市第甲人民医院');
      fd.append('file', new Blob([bytes], { type: 'image/png' }), m.kind + '.png');
      await call('/applications/' + a.id + '/materials', { method: 'POST',
        headers: { 'X-CSRF-Token': me.csrf_token }, body: fd });
    }
    await call('/applications/' + a.id + '/submit', { method: 'POST', headers: json, body: '{"promise":true}' });
    return a.id;
  }, { hospital, png, disease });
}
