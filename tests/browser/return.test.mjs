// return.test.mjs -- the returned state of issue 12 in a real browser
// (R-APP-8, S3 第七条 一次性告知需补齐的材料): the expert accepts a task
// and returns it with 退回补充材料, ticking the kinds to add and saying
// what is missing; the applicant's progress page then says what to add
// and the last day, on a desktop and a 360 px phone.  axe (WCAG 2.1 AA)
// and the size checks on each page (shot()).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, shot, sql, newRegion, newPerson, newExpert, insuredSession, staffSession,
  waitFor, phoneCheck, URL, done, fileWithScans, newAgencyUser,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('an expert returns a task for 病理报告; the applicant sees what to add and the last day', async () => {
  const reg = newRegion();
  const expert = newExpert(reg.hospitals[1], '肿瘤');
  const person = newPerson(reg.region);
  const page = await newPage(browser);
  await insuredSession(page, person);
  await page.goto(URL + '/#/my');
  const appId = await fileWithScans(page, reg.hospitals[0], 'D001');
  const aid = await waitFor(() => {
    const r = sql(`SELECT id FROM assignments WHERE application_id = ${appId} AND state = 'pushed'`);
    return r.length ? r[0][0] : null;
  }, 60000);   // the dispatcher's push: a hang bound, not a speed

  const ep = await newPage(browser);
  await staffSession(ep, expert);
  await ep.goto(URL + '/#/expert');
  const card = ep.locator('.task').first();
  await card.waitFor();
  await card.getByRole('button', { name: '受理', exact: true }).click();
  await ep.waitForURL(/#\/expert\/\d+$/);
  await ep.getByLabel('退回补充材料').check();
  const box = ep.locator('[data-field=missing]');
  await box.getByLabel('病理报告（穿刺、术后病检、切检、活检）').waitFor();
  // Nothing ticked: said beside the list, nothing sent.
  await ep.getByLabel('认定意见').fill('病理报告缺少诊断结论页，请补充完整的病理报告。');
  await ep.click('#decide');
  await box.locator('.field-error').filter({ hasText: '请勾选需补充的材料' }).waitFor();
  await box.getByLabel('病理报告（穿刺、术后病检、切检、活检）').check();
  await shot(ep, 'return-expert-form');
  await ep.click('#decide');
  await ep.waitForURL(/#\/expert$/);
  await ep.click('#tab-decided');
  await ep.locator('.task').filter({ hasText: '退回补充材料' }).first().waitFor();
  assert.deepEqual(sql(`SELECT state FROM assignments WHERE id = ${aid}`), [['returned']]);

  await page.goto(URL + '/#/app/' + appId);
  const notice = page.locator('#returned');
  await notice.waitFor();
  const last = sql(`SELECT to_char(resubmit_by, 'YYYY-MM-DD') FROM applications WHERE id = ${appId}`)[0][0];
  const text = await notice.textContent();
  assert.match(text, /材料不全，请补充后重新提交/);
  assert.match(text, /病理报告/);
  assert.match(text, /缺少诊断结论页/);
  const [y, m, d] = last.split('-').map(Number);
  assert.ok(text.includes(`${y}年${m}月${d}日`), text);
  // The expert stays unnamed to the applicant.
  assert.doesNotMatch(await page.locator('main').textContent(), new RegExp(expert.login));
  await page.getByText('材料不全，已退回补充').first().waitFor();   // the timeline
  await shot(page, 'return-applicant');

  // The same on a 360 px phone: one column, nothing wider than the screen.
  await phoneCheck(browser, page, '/#/app/' + appId, '#returned', 'return-applicant-360');

  // The agency's 申请查询 finds it by its state (neither open nor decided).
  const ap = await newPage(browser);
  await staffSession(ap, newAgencyUser(reg.region));
  await ap.goto(URL + '/#/agency/applications');
  await ap.locator('#apps-summary').filter({ hasText: /./ }).waitFor();
  await ap.selectOption('#apps-status', 'returned');
  await ap.click('#apps-search');
  await ap.locator(`#apps-list li[data-app="${appId}"]`).waitFor();
  assert.equal(await ap.locator('#apps-list li').count(), 1);
  for (const p of [page, ep, ap]) await done(p);
});
