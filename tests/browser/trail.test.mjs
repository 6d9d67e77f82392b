// trail.test.mjs -- the agency's 申请查询 and an application's trail in a
// real browser (issue 12 items 2 and 8; R-SUP-7, S0 四(二)): a decided
// application found by its number, its timeline of draws (each with its
// pool and seed in a block to open), the refusal with its reason, the
// acceptance and the opinion, and the materials as links; axe and the
// size checks on each page, and at 360 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, shot, sql, newRegion, newPerson, newExpert, newAgencyUser, staffSession, insuredSession,
  post, waitFor, checkA11y, checkSizes, done, fileWithScans, URL,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

async function expertCall(expert, pathname, body) {
  const r = await post('/auth/password-login', { login: expert.login, password: expert.password });
  const token = JSON.parse(r.text).token;
  const res = await post(pathname, body || {}, { Authorization: 'Bearer ' + token });
  assert.equal(res.status, 200, pathname + ': ' + res.text);
}

// The live push of app: [assignment id, expert id], once there.
async function livePush(appId, not) {
  let row;
  await waitFor(() => {
    row = sql(`SELECT id, expert_id FROM assignments WHERE application_id = ${appId}
               AND state = 'pushed' AND id <> ${not || 0}`)[0];
    return !!row;
  }, 60000);
  return row;
}

test('R-SUP-7, S0 四(二): 申请查询 finds a decided application by number; its page shows each draw with pool and seed, the refusal, the acceptance, the opinion, and the materials', async () => {
  const reg = newRegion();
  const experts = [newExpert(reg.hospitals[1], '肿瘤'), newExpert(reg.hospitals[2], '肿瘤')];
  const byId = (id) => experts[sql(`SELECT login FROM users WHERE id = ${id}`)[0][0] === experts[0].login ? 0 : 1];
  const ip = await newPage(browser);
  await insuredSession(ip, newPerson(reg.region, '王秀兰'));
  const appId = await fileWithScans(ip, reg.hospitals[0], 'D001');    // D001: one expert
  await done(ip);
  const [first, firstExpert] = await livePush(appId);
  await expertCall(byId(firstExpert), `/expert/tasks/${first}/refuse`, { reason: '与申请人相识，需回避' });
  const [second, secondExpert] = await livePush(appId, first);
  const e2 = byId(secondExpert);
  await expertCall(e2, `/expert/tasks/${second}/accept`);
  await expertCall(e2, `/expert/tasks/${second}/decision`, { decision: 'approve', opinion: '病理报告明确，符合认定标准' });
  assert.equal(sql(`SELECT status FROM applications WHERE id = ${appId}`)[0][0], 'approved');

  const agency = newAgencyUser(reg.region);
  const page = await newPage(browser);
  await staffSession(page, agency);
  await page.goto(URL + '/#/agency/applications');
  await page.locator('#apps-form').waitFor();
  // Open ones by default: the decided one is not among them.
  await page.locator('#apps-summary').filter({ hasText: '没有符合条件的申请' }).waitFor();
  await page.locator('#apps-q').fill(String(appId));
  await page.locator('#apps-search').click();
  const item = page.locator(`#apps-list li[data-app="${appId}"]`);
  await item.waitFor();
  assert.match(await item.innerText(), /已通过/);
  assert.match(await item.innerText(), /\*{4}/);                    // the ID number masked
  // A number that is not one: said in Chinese beside the box.
  await page.locator('#apps-q').fill('12a');
  await page.locator('#apps-search').click();
  await page.locator('[data-field="q"] .field-error').filter({ hasText: '申请编号' }).waitFor();
  await page.locator('#apps-q').fill(String(appId));
  await page.locator('#apps-search').click();
  await item.waitFor();
  await checkA11y(page, '申请查询');
  await checkSizes(page, '申请查询');
  await shot(page, 'agency-applications');

  await item.getByRole('link', { name: /查看轨迹与材料/ }).click();
  const trail = page.locator('#trail-list');
  await trail.waitFor();
  const draws = trail.locator('li[data-kind="draw"]');
  assert.equal(await draws.count(), 2);
  assert.match(await draws.nth(0).innerText(), /从 2 名候选专家中随机抽取 1 名/);
  assert.match(await draws.nth(1).innerText(), /从 1 名候选专家中随机抽取 1 名/);
  assert.match(await trail.locator('li[data-kind="refused"]').innerText(), /与申请人相识，需回避/);
  assert.match(await trail.locator('li[data-kind="accepted"]').innerText(), /专家已受理/);
  assert.match(await trail.locator('li[data-kind="decided"]').innerText(), /予以认定。病理报告明确/);
  const kinds = await trail.locator('> li').evaluateAll((ls) => ls.map((l) => l.dataset.kind));
  const order = kinds.filter((k) => ['draw', 'pushed', 'refused', 'accepted', 'decided', 'approved'].includes(k));
  assert.deepEqual(order, ['draw', 'pushed', 'refused', 'draw', 'pushed', 'accepted', 'decided', 'approved']);
  // The first draw's block: the seed of the record and the pool.
  const [seed, pool] = sql(`SELECT encode(seed, 'hex'), cardinality(pool) FROM draws
                            WHERE application_id = ${appId} ORDER BY id LIMIT 1`)[0];
  const block = draws.nth(0).locator('details');
  assert.equal(await block.locator('code').isVisible(), false);
  await block.locator('summary').click();
  assert.equal(await block.locator('code').innerText(), seed);
  assert.equal(await block.locator('ul li').count(), Number(pool));
  // The materials as links to the files.
  const links = page.locator('#material-links a');
  assert.ok(await links.count() >= 1);
  assert.match(await links.first().getAttribute('href'), /^\/api\/v1\/materials\/\d+$/);
  await checkA11y(page, '申请轨迹');
  await checkSizes(page, '申请轨迹');
  await shot(page, 'agency-trail');

  // At 360 px: one column, nothing wider than the screen.
  const phone = await newPage(browser, 360, 740);
  await staffSession(phone, agency);
  await phone.goto(URL + '/#/agency/applications/' + appId);
  await phone.locator('#trail-list').waitFor();
  await phone.locator('#trail-list li[data-kind="draw"] summary').first().click();
  const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360, 'page ' + wide + ' px wide at 360');
  await checkSizes(phone, '申请轨迹 360 px');
  await done(phone);
  await done(page);
});
