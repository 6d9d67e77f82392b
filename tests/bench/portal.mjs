// tests/bench/portal.mjs -- how fast the portal is usable in Debian's
// Chromium, cold (a new browser context: empty cache) each time, against
// a baseline measured in the same run: the least a browser must do, one
// HTML file with a labelled form served by the same nginx.
//   login    #/login until the phone field and 获取验证码 are there
//   apply    #/apply (signed in) until the 45 diseases are listed
// Each on loopback and on an emulated phone network (150 ms round trip,
// 1.6 Mbit/s down, 0.75 Mbit/s up).  Prints the median and 90th
// percentile time from navigation start, the bytes transferred, requests,
// and the ratio to the baseline.
// Environment: MTCERT_URL, MTCERT_VAR, MTCERT_PG_PORT, MTCERT_BUILD (as
// tests/browser), BENCH_RUNS (default 15).
import fs from 'node:fs';
import path from 'node:path';
import {
  launch, VAR, URL, newRegion, newPerson, insuredSession,
} from '../browser/helpers.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 15);
const PHONE = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 0.75e6 / 8 };

fs.writeFileSync(path.join(VAR, 'www', 'bench-baseline.html'),
  '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>基线</title></head>' +
  '<body><form><label for="b">手机号码</label><input id="b" type="tel"><button type="button">获取验证码</button>' +
  '</form></body></html>\n');

const browser = await launch();
const reg = newRegion();
const person = newPerson(reg.region);

// One cold load: a fresh context (no cache, no service worker).
async function load(url, ready, net, session) {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  if (session) await session(page);
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (net) await cdp.send('Network.emulateNetworkConditions', net);
  let bytes = 0;
  let requests = 0;
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; requests += 1; });
  await page.goto(url, { waitUntil: 'commit' });
  await page.locator(ready).first().waitFor({ timeout: 60000 });
  const ms = await page.evaluate(() => performance.now());
  await ctx.close();
  return { ms, bytes, requests };
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)], p90: s[Math.min(s.length - 1, Math.floor(s.length * 0.9))] };
}

async function measure(name, url, ready, net, session) {
  const runs = [];
  await load(url, ready, net, session);   // warm nginx and the workers
  for (let i = 0; i < RUNS; i++) runs.push(await load(url, ready, net, session));
  const t = stats(runs.map((r) => r.ms));
  return { name, ...t, bytes: runs[runs.length - 1].bytes, requests: runs[runs.length - 1].requests };
}

// A signed-in applicant (cookie), made once and reused for every load.
const holder = await browser.newContext();
const hp = await holder.newPage();
await insuredSession(hp, person);
const cookies = await holder.cookies();
await holder.close();
const signedIn = async (page) => page.context().addCookies(cookies);

const rows = [];
for (const [net, label] of [[null, 'loopback'], [PHONE, 'phone network']]) {
  const base = await measure('baseline', URL + '/bench-baseline.html', '#b', net);
  const login = await measure('login', URL + '/#/login', '#send-code', net);
  const apply = await measure('apply', URL + '/#/apply', 'label.disease >> nth=44', net, signedIn);
  for (const r of [base, login, apply]) rows.push({ label, ...r, ratio: r.p50 / base.p50 });
}
await browser.close();

console.log(`portal cold loads in Chromium at 360 px (${RUNS} runs each, time from navigation start):`);
console.log('network        page      p50 ms   p90 ms   bytes    requests  p50 / baseline');
for (const r of rows) {
  console.log(`${r.label.padEnd(14)} ${r.name.padEnd(9)} ${r.p50.toFixed(0).padStart(6)} ${r.p90.toFixed(0).padStart(8)} ` +
    `${String(r.bytes).padStart(8)} ${String(r.requests).padStart(8)}  ${r.ratio.toFixed(2)}x`);
}
