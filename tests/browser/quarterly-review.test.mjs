// quarterly-review.test.mjs -- the quarterly review, 双随机一公开 (R-SUP-2,
// S2 三; issue 12 item 4) in a real browser: the agency draws a quarter
// and sees its reviewers and cases, the drawn expert disagrees (a reason
// is required) seeing no name, and anyone reads the published counts;
// axe and the size checks on every page, the expert's list and the
// public counts on a 360 px phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, shot, sql, newRegion, newPerson, newExpert, newAgencyUser, staffSession, insuredSession,
  phoneCheck, URL, done,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// A rejected application of person decided in the last ended quarter
// (the draft through the portal's API, the decision arranged with SQL).
async function decidedLastQuarter(page, hospital) {
  await page.goto(URL + '/#/my');
  const id = await page.evaluate(async (hospital) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1/applications', { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ disease_code: 'D013', phone: '13900000000', medical_record_no: 'ZY-2026-31',
        designated_institution: hospital }) });
    return (await r.json()).id;
  }, hospital);
  sql(`UPDATE applications SET status = 'rejected', promised_at = now(), submitted_at = now(),
       decided_at = (quarter_first_day(quarter_before(cn_today())) + time '10:00') AT TIME ZONE 'Asia/Shanghai'
       WHERE id = ${id}`);
  return id;
}

test('R-SUP-2, S2 三: the agency draws a quarter, the drawn expert disagrees with a reason, the public sees the counts', async () => {
  const reg = newRegion();
  const experts = [newExpert(reg.hospitals[1], '肿瘤'), newExpert(reg.hospitals[2], '肿瘤')];
  const person = newPerson(reg.region, '赵桂芳');
  const ip = await newPage(browser);
  await insuredSession(ip, person);
  const appId = await decidedLastQuarter(ip, reg.hospitals[0]);
  await done(ip);

  // The agency: no review yet, then 随机抽取 the last ended quarter.
  const page = await newPage(browser);
  await staffSession(page, newAgencyUser(reg.region));
  await page.goto(URL + '/#/agency/queue');
  await page.getByRole('link', { name: '季度复核' }).click();
  await page.locator('#reviews-empty').waitFor();
  assert.match(await page.locator('#reviews-schedule').textContent(), /尚未设定抽取日/);
  await shot(page, 'q1-agency-reviews');
  await page.click('#review-draw');
  await page.waitForURL(/#\/agency\/reviews\/\d+$/);
  const row = page.locator('#review-cases tbody tr').first();
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(String(appId)));
  assert.match(await row.textContent(), /不予认定.*待复核/);
  assert.equal(await page.locator('#review-reviewers li').count(), 2);
  await shot(page, 'q2-agency-review');
  // Twice: said in words, beside the quarter.
  await page.goto(URL + '/#/agency/reviews');
  await page.locator('#reviews-list').waitFor();
  await page.click('#review-draw');
  await page.locator('[data-field="quarter"] .field-error').filter({ hasText: '已经抽取' }).waitFor();

  // The expert given the case: blind, and a disagreement needs a reason.
  const [[uid]] = sql(`SELECT u.login FROM quarterly_review_cases c JOIN users u ON u.id = c.expert_id
                       WHERE c.application_id = ${appId}`);
  const ex = experts.find((e) => e.login === uid);
  const ep = await newPage(browser);
  await staffSession(ep, ex);
  await ep.goto(URL + '/#/expert');
  await ep.getByRole('link', { name: '复核病例' }).click();
  const card = ep.locator('#review-cases li[data-case]').first();
  await card.waitFor();
  assert.doesNotMatch(await ep.locator('main').textContent(), /赵桂芳/);
  await shot(ep, 'q3-expert-reviews');
  await card.getByRole('button', { name: '不同意' }).click();
  await card.locator('[data-field="note"] .field-error').filter({ hasText: '请写明理由' }).waitFor();
  await card.getByLabel('复核意见（不同意时必须填写理由）').fill('病历资料不足以支持该病种的诊断');
  await card.getByRole('button', { name: '不同意' }).click();
  await card.locator('.review-result').filter({ hasText: '不同意原结论' }).waitFor();
  assert.equal(await ep.evaluate(() => document.activeElement.className), 'review-result');
  await phoneCheck(browser, ep, '/#/expert/reviews', '#review-cases li[data-case]', 'q4-expert-reviews-phone');
  await done(ep);

  // The agency sees the disagreement and its note.
  await page.goto(URL + '/#/agency/reviews');
  await page.locator('#reviews-list a').first().click();
  await page.locator('#review-cases tbody tr').filter({ hasText: '病历资料不足' }).waitFor();
  await done(page);

  // Anyone: the counts, no name of a person or an expert.
  const pub = await newPage(browser);
  // Reached from the home page (no sign-in): the link, then the region.
  await pub.goto(URL + '/#/');
  await pub.click('#home-reviews');
  await pub.getByLabel(/统筹区代码/).fill(reg.region);
  await pub.click('#public-show');
  const counts = pub.locator('#public-counts');
  await counts.waitFor();
  const text = await counts.textContent();
  assert.match(text, /随机抽取的病例1/);
  assert.match(text, /不同意原结论1/);
  assert.match(text, /随机抽取的专家2/);
  const all = await pub.locator('main').textContent();
  assert.doesNotMatch(all, /赵桂芳/);
  for (const e of experts) assert.ok(!all.includes(e.login));
  await shot(pub, 'q5-public-counts');
  // A region code that is not one: said beside the field.
  await pub.getByLabel(/统筹区代码/).fill('12');
  await pub.click('#public-show');
  await pub.locator('[data-field="region"] .field-error').filter({ hasText: '6 位数字' }).waitFor();
  await phoneCheck(browser, pub, '/#/reviews/public/' + reg.region, '#public-counts', 'q6-public-counts-phone');
  await done(pub);
});
