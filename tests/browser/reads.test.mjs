// reads.test.mjs -- 谁查阅了我的材料 on the person's progress page in a
// real browser (issue 15 item 4, PIPL art. 45): the agency's read, the
// hospital's and an expert's download listed newest first with the role
// and the hospital or agency; the expert as a role alone (blind review);
// axe and the size checks, and at 360 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, shot, sql, newRegion, newPerson, newExpert, insuredSession, done, fileWithScans, URL, idHmac,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// One access_log row as a service read writes it (the trigger chains it).
function logRead(login, personId, obj, oid, action) {
  sql(`INSERT INTO access_log (user_id, person_id, object_type, object_id, action)
       SELECT id, ${personId}, '${obj}', ${oid}, '${action}' FROM users WHERE login = '${login}'`);
}

test('PIPL art. 45: the progress page lists who read the file -- role and hospital or agency, never the expert', async () => {
  const reg = newRegion();
  const person = newPerson(reg.region, '王秀兰');
  const pid = sql(`SELECT id FROM persons WHERE id_number_hmac = '${idHmac(person.id_number)}'`)[0][0];
  const expert = newExpert(reg.hospitals[1], '肿瘤');
  const page = await newPage(browser);
  await insuredSession(page, person);
  const appId = await fileWithScans(page, reg.hospitals[0]);
  const mid = sql(`SELECT id FROM materials WHERE application_id = ${appId} ORDER BY id LIMIT 1`)[0][0];
  sql(`INSERT INTO users (login, role, password_hash, region) VALUES ('agency-r${reg.region}', 'agency', 'x', '${reg.region}')`);
  logRead(`agency-r${reg.region}`, pid, 'application', appId, 'read');
  sql(`INSERT INTO users (login, role, password_hash, institution) VALUES ('hosp-r${reg.region}', 'hospital', 'x', '${reg.hospitals[0]}')`);
  logRead(`hosp-r${reg.region}`, pid, 'certification', appId, 'read');
  logRead(expert.login, pid, 'material', mid, 'download');

  await page.goto(URL + '/#/app/' + appId);
  const items = page.locator('#reads li');
  await items.nth(2).waitFor();
  // The person's own downloads (本人) are listed too: the page's thumbnails
  // are downloads, logged as they load, so how many came before the list
  // depends on the machine's speed.  The three others' reads are exact.
  const all = await items.allTextContents();
  const texts = all.filter((t) => !/本人/.test(t));
  assert.ok(all.slice(0, all.length - texts.length).every((t) => /本人/.test(t)), all.join(' | '));
  assert.equal(texts.length, 3);
  assert.match(texts[0], /认定专家下载了材料/);
  assert.doesNotMatch(texts[0], new RegExp(expert.login + '|人民医院'));
  assert.match(texts[1], /医疗机构：测试市第甲人民医院查看了认定表/);
  assert.match(texts[2], new RegExp('医保经办机构：测试市' + reg.region + '医疗保障部门查看了申请'));
  assert.equal(await page.locator('#reads-more').isHidden(), true);
  await shot(page, 'reads-progress');
  await page.setViewportSize({ width: 360, height: 800 });
  await shot(page, 'reads-progress-360');
  await done(page);
});
