// panel.test.mjs -- hospital panels and the public notice (issue 11 item
// 5; R-CER-10, S2 二(二)) in a real browser: Taiyuan's 山西省人民医院 panel
// approves a quota disease on 专家组评审, the person is on the public 认定
// 结果公示 page (name masked, no sign-in), an objection is filed there,
// and once the notice is over (`mtcertctl publicity run` with its dates
// moved back) the qualification starts on the 1st of next month.  axe and
// the size checks on every page, and the 360 px phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  launch, newPage, phoneCheck, shot, sql, newPerson, staffSession, insuredSession, URL, done, ctl, FIXTURES,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const HOSPITAL = { login: 'hospital-sxph', password: 'mtcert-hospital-2026' };
// A real scan (the panel looks at it on the case page).
const PNG = [...fs.readFileSync(path.join(FIXTURES, 'record.png'))];

// A submitted application of the signed-in person (page) for disease at
// hospital: the draft, one image for every missing material, the submit
// -- through the API in the page's session.
async function submitted(page, disease, hospital) {
  await page.goto(URL + '/');
  return page.evaluate(async ({ disease, hospital, png }) => {
    const me = await (await fetch('/api/v1/me')).json();
    const hd = { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token };
    let r = await fetch('/api/v1/applications', { method: 'POST', headers: hd, body: JSON.stringify({
      disease_code: disease, phone: '13900000000', medical_record_no: 'MR-' + Date.now(),
      designated_institution: hospital }) });
    const app = await r.json();
    const issued = new Date(Date.now() - 10 * 86400e3).toISOString().slice(0, 10);
    for (const m of app.missing_materials) {
      const f = new FormData();
      f.append('kind', m.kind);
      f.append('issued_on', issued);
      f.append('issuer', '山西省人民医院');
      f.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'scan.png');
      r = await fetch('/api/v1/applications/' + app.id + '/materials', { method: 'POST',
        headers: { 'X-CSRF-Token': me.csrf_token }, body: f });
      if (r.status !== 201) throw new Error('upload ' + r.status + ' ' + await r.text());
    }
    r = await fetch('/api/v1/applications/' + app.id + '/submit', { method: 'POST', headers: hd,
      body: JSON.stringify({ promise: true }) });
    if (r.status !== 200) throw new Error('submit ' + r.status + ' ' + await r.text());
    return app.id;
  }, { disease, hospital, png: PNG });
}

// The page again on a 360 px phone in the same session: nothing wider
// than the screen, axe and sizes.

// The first day of next month in China, as the pages write it.
function nextMonthText() {
  const [y, m] = sql(`SELECT to_char((date_trunc('month', cn_today()) + interval '1 month')::date, 'YYYY-MM')`)[0][0].split('-');
  return Number(y) + '年' + Number(m) + '月1日';
}

test('Taiyuan: the panel approves, the notice is public, benefits from the 1st of next month', async () => {
  const person = newPerson('140100', '赵建国');
  const insured = await newPage(browser);
  await insuredSession(insured, person);
  const app = await submitted(insured, 'D013', 'H14010000001');
  const app2 = await submitted(insured, 'D015', 'H14010000001');

  // The hospital's panel queue: the case waits there (ID masked).
  const staff = await newPage(browser);
  await staffSession(staff, HOSPITAL);
  await staff.goto(URL + '/#/hospital/panel');
  const card = staff.locator(`[data-case="${app}"]`);
  await card.waitFor();
  const text = await card.textContent();
  assert.match(text, /赵建国/);
  assert.ok(!text.includes(person.id_number), 'the ID number is masked');
  assert.equal(await staff.locator('nav a[aria-current="page"]').textContent(), '专家组评审');
  await shot(staff, 'panel-queue');
  await phoneCheck(browser, staff, '/#/hospital/panel', `[data-case="${app}"]`, 'panel-queue-360');

  // The case: three experts of the hospital, their opinions, approve.
  await card.getByRole('link', { name: '组织评审' }).click();
  await staff.locator('#panel-submit').waitFor();
  // The person filed online (no filing hospital): the panel still sees
  // every material, each image shown and loaded, before deciding.
  const kinds = Number(sql(`SELECT count(*) FROM materials WHERE application_id = ${app} AND deleted_at IS NULL`)[0][0]);
  const imgs = staff.locator('#panel-materials img.zoomable');
  await imgs.first().waitFor();
  assert.equal(await imgs.count(), kinds);
  await staff.waitForFunction(() => [...document.querySelectorAll('#panel-materials img.zoomable')]
    .every((e) => e.complete && e.naturalWidth > 0));
  assert.ok(await imgs.first().isVisible());
  assert.equal(await staff.locator('a[href^="#/app/"]').count(), 0);
  assert.equal(await staff.locator('#panel-result').textContent(), '');
  // Nobody chosen: the page says so beside the members.
  await staff.locator('#panel-submit').click();
  assert.match(await staff.locator('[data-field="members"] .field-error').textContent(), /请勾选/);
  const boxes = staff.locator('input[type=checkbox][data-expert]');
  assert.ok(await boxes.count() >= 3);
  for (let i = 0; i < 3; i++) await boxes.nth(i).check();
  await staff.locator('select[id^="o-"]').nth(2).selectOption('reject');
  await shot(staff, 'panel-case');
  await staff.locator('#panel-submit').click();
  const period = staff.locator('#publicity-period');
  await period.waitFor();
  const pub = sql(`SELECT id, starts_on, ends_on FROM publicity WHERE application_id = ${app}`)[0];
  const fmt = (d) => { const [y, m, dd] = d.split('-'); return Number(y) + '年' + Number(m) + '月' + Number(dd) + '日'; };
  assert.match(await period.textContent(), new RegExp(fmt(pub[1]) + ' 至 ' + fmt(pub[2])));
  assert.equal(await staff.evaluate(() => document.activeElement.closest('#panel-result') !== null), true);
  await shot(staff, 'panel-approved');

  // The second application approved too (for the objection below).
  const ids = sql(`SELECT e.user_id FROM experts e JOIN users u ON u.id = e.user_id
    WHERE u.institution = 'H14010000001' AND e.status = 'active' AND title_rank(e.title) >= 3 ORDER BY e.user_id LIMIT 3`)
    .map((r) => Number(r[0]));
  const r2 = await staff.evaluate(async ({ app2, ids }) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1/hospital/panel-decisions', { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ application_id: app2, conclusion: 'approve',
        members: ids.map((id) => ({ expert_id: id, opinion: 'approve' })) }) });
    return r.status;
  }, { app2, ids });
  assert.equal(r2, 201);
  await done(staff);

  // The public page, from the home page's link, without signing in.
  const pubPage = await newPage(browser);
  await pubPage.goto(URL + '/');
  await pubPage.locator('#home-publicity').click();
  await pubPage.locator('#pub-region').selectOption('140100');
  const notice = pubPage.locator(`[data-notice="${pub[0]}"]`);
  await notice.waitFor();
  const nt = await notice.textContent();
  assert.match(nt, /赵\*国/);
  assert.ok(!nt.includes('赵建国') && !nt.includes(person.id_number));
  assert.match(nt, /山西省人民医院/);
  await shot(pubPage, 'publicity');
  await phoneCheck(browser, pubPage, '/#/publicity', `[data-notice="${pub[0]}"]`, 'publicity-360');

  // An objection to the second notice: the server's answer, in Chinese
  // (received, or, when this address objected too often, 429 said so).
  const pub2 = sql(`SELECT id FROM publicity WHERE application_id = ${app2}`)[0][0];
  const n2 = pubPage.locator(`[data-notice="${pub2}"]`);
  await n2.getByRole('button', { name: '提出异议' }).click();
  await n2.getByRole('button', { name: '提交异议' }).click();
  assert.match(await n2.locator('[data-field="reason"] .field-error').textContent(), /请填写异议理由/);
  await n2.locator('textarea').fill('据我了解此人并未患高血压');
  await shot(pubPage, 'publicity-objection');
  await n2.getByRole('button', { name: '提交异议' }).click();
  const answer = await pubPage.waitForFunction((id) => {
    const li = document.querySelector(`[data-notice="${id}"]`);
    const ok = li.querySelector('.card.success');
    const err = li.querySelector('.form-error:not([hidden])');
    return (ok && ok.textContent) || (err && err.textContent) || null;
  }, pub2);
  const said = await answer.jsonValue();
  assert.match(said, /异议已收到|过于频繁/);
  if (/异议已收到/.test(said)) {
    assert.deepEqual(sql(`SELECT state FROM publicity WHERE id = ${pub2}`), [['objected']]);
  }
  await done(pubPage);

  // The notice over (its dates moved back): the job makes the
  // qualification, from the 1st of next month (quota_benefit_start).
  sql(`UPDATE publicity SET starts_on = cn_today() - 10, ends_on = cn_today() - 1 WHERE id = ${pub[0]}`);
  ctl('publicity', 'run');
  assert.deepEqual(sql(`SELECT status FROM applications WHERE id = ${app}`), [['approved']]);
  await insured.goto(URL + '/#/benefits');
  await insured.getByText(nextMonthText()).first().waitFor();
  await done(insured);
});
