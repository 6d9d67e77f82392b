// stats.js -- the statistics of issue 12 (R-SUP-3, S0 四(二) 公开、
// 公平、公正; S0 二(三) 5-8 个工作日; S3 第八条 20 个工作日):
//   anyone  #/stats         公开数据: a region's monthly figures (the last
//                           12 months), a chart and its table
//   agency  #/agency/stats  统计: the experts' workload of a month (per
//                           hospital and per expert), the turnaround of a
//                           period against the region's targets, charts
// The API: GET /stats/public, GET /agency/stats/experts,
// GET /agency/stats/turnaround.  Each chart is plain SVG drawn here (no
// library, nothing inline the CSP forbids): one labelled bar per row, its
// text at 18 px whatever the screen's width, and the same figures in a
// table beside it for screen readers (the chart itself is an image with
// a name).

import { api } from './api.js';
import { regionGate, withRegion } from './region-choice.js';
import { h, clear, field, formError, showError, clearErrors, busy, cnToday, fmtDate } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

// A horizontal bar chart: rows [{label, value, text}], one row per bar,
// the bar's length value / max of the width.  Blue #0b57a4 on white (7:1),
// text #1a1a1a.
function barChart(name, rows, id) {
  const max = Math.max(1, ...rows.map((r) => r.value || 0));
  const row = 64;
  const svg = s('svg', {
    width: '100%', height: rows.length * row + 4, role: 'img', 'aria-label': name, id, class: 'stats-chart',
  });
  rows.forEach((r, i) => {
    const y = i * row;
    svg.append(s('text', { x: 0, y: y + 22, 'font-size': 18, fill: '#1a1a1a' }, r.label + '：' + r.text));
    const pct = r.value ? Math.max(0.5, (r.value / max) * 100) : 0;
    svg.append(s('rect', { x: 0, y: y + 32, height: 22, width: pct + '%', fill: '#0b57a4', rx: 3 }));
  });
  return h('figure', { class: 'stats-figure' }, h('figcaption', { text: name }), svg);
}

// A table with a caption, column heads and rows of texts (on a phone the
// portal shows each row as a block, each cell named: .letter-table).
function table(caption, cols, rows, id) {
  return h('table', { class: 'letter-table', id },
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, k) => h('td', { 'data-label': cols[k], text: c }))))));
}

const num = (x, unit) => (x === null || x === undefined ? '—' : String(x) + (unit || ''));

// "2026-10" -> "2026年10月".
function monthText(m) { return Number(m.slice(0, 4)) + '年' + Number(m.slice(5)) + '月'; }

// This month and the eleven before it, newest first.
function lastMonths() {
  const out = [];
  let [y, m] = cnToday().slice(0, 7).split('-').map(Number);
  for (let i = 0; i < 12; i++) {
    out.push(y + '-' + String(m).padStart(2, '0'));
    if (--m === 0) { m = 12; y--; }
  }
  return out;
}

// ------------------------------------------------ anyone: 公开数据

export async function publicStats(m, main) {
  const box = h('div', { id: 'stats-region' });
  const sel = h('select', { id: 'stats-region-select' });
  const go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'stats-show' }, '查看');
  const form = h('form', { class: 'card filters', novalidate: true, role: 'search', 'aria-label': '选择统筹区' },
    formError(), field('统筹区', sel, 'region'), h('div', { class: 'actions' }, go));
  clear(main).append(h('h1', { text: '公开数据' }),
    h('p', { class: 'lead', text: '各统筹区每月收到多少门诊慢特病认定申请、办结多少、通过多少，以及从提交到办结用了几个工作日。' }),
    h('p', { class: 'hint', text: '这里只有数字，没有任何人的姓名、身份证号或电话。数字每 5 分钟更新一次。' }),
    form, box);
  // The regions from this month's figures (one month of every region is
  // a twelfth of the work of a year of all); a region's year on choice.
  let all;
  try { all = await api('GET', '/stats/public?month=' + cnToday().slice(0, 7)); } catch (e) {
    if (e.status !== 401) showError(form, e);
    return;
  }
  all.regions.forEach((r) => sel.append(h('option', { value: r.code, text: r.name })));
  let shows = 0;
  const show = async (moved) => {
    const mine = ++shows;
    let r;
    try { r = await api('GET', '/stats/public?region=' + encodeURIComponent(sel.value)); } catch (e) {
      if (mine === shows && e.status !== 401) showError(form, e);
      return;
    }
    if (mine !== shows) return;
    clearErrors(form);
    drawPublic(box, r.regions[0], moved);
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(go, () => show(true)); });
  if (all.regions.length) await show(false);
}

function drawPublic(box, r, moved) {
  const months = r.months.slice().reverse();
  const title = h('h2', { id: 'stats-title', tabindex: '-1', text: r.name + ' 最近 12 个月' });
  clear(box).append(h('section', { class: 'card', 'aria-labelledby': 'stats-title' }, title,
    barChart(r.name + '每月办结件数', months.map((x) => ({
      label: monthText(x.month), value: x.decided,
      text: '办结 ' + x.decided + ' 件，通过 ' + x.approved + ' 件',
    })), 'stats-chart'),
    table(r.name + '每月数字', ['月份', '提交申请', '办结', '通过', '通过率', '办结用时（工作日，中位数）'],
      months.map((x) => [monthText(x.month), String(x.submitted), String(x.decided), String(x.approved),
        num(x.approval_rate, '%'), num(x.median_working_days)]), 'stats-table')));
  if (moved) title.focus();
}

// ------------------------------------------------ agency: 统计

export async function agencyStats(m, main) {
  const gate = await regionGate(main, '统计');
  if (gate.stop) return;
  const experts = h('div', { id: 'stats-experts' });
  const turn = h('div', { id: 'stats-turnaround' });
  const monthSel = h('select', { id: 'stats-month' }, lastMonths().map((x) => h('option', { value: x, text: monthText(x) })));
  const f1go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'stats-experts-show' }, '查看');
  const f1 = h('form', { class: 'card filters', novalidate: true, role: 'search', 'aria-label': '专家工作量的月份' },
    formError(), field('月份', monthSel, 'month'), h('div', { class: 'actions' }, f1go));
  const today = cnToday();
  const from = h('input', { type: 'date', id: 'stats-from', value: today.slice(0, 8) + '01' });
  const to = h('input', { type: 'date', id: 'stats-to', value: today });
  const f2go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'stats-turnaround-show' }, '查看');
  const f2 = h('form', { class: 'card filters', novalidate: true, role: 'search', 'aria-label': '办结时效的统计区间' },
    formError(), field('开始日期', from, 'from'), field('结束日期', to, 'to'), h('div', { class: 'actions' }, f2go));
  clear(main).append(h('h1', { text: '统计' }), gate.el,
    h('h2', { text: '专家工作量（按月）' }),
    h('p', { class: 'hint', text: '当月推送出的本统筹区申请的认定任务（其他统筹区的专家参与的也算在内）：推送、受理、拒绝、超时、作出结论的次数，受理和作出结论用了几个小时（中位数和 90% 分位数）。' }),
    f1, experts,
    h('h2', { text: '办结时效' }),
    h('p', { class: 'hint', text: '期间内办结的申请：从提交到办结的工作日数，和按时限办结的比例。' }),
    f2, turn);
  f1.addEventListener('submit', (ev) => { ev.preventDefault(); busy(f1go, () => showExperts(true)); });
  f2.addEventListener('submit', (ev) => { ev.preventDefault(); busy(f2go, () => showTurn(true)); });

  async function showExperts(moved) {
    let r;
    try { r = await api('GET', withRegion('/agency/stats/experts?month=' + encodeURIComponent(monthSel.value))); } catch (e) {
      if (e.status !== 401) showError(f1, e);
      return;
    }
    clearErrors(f1);
    drawExperts(experts, r, moved);
  }
  async function showTurn(moved) {
    let r;
    try {
      r = await api('GET', withRegion('/agency/stats/turnaround?from=' + encodeURIComponent(from.value) +
        '&to=' + encodeURIComponent(to.value)));
    } catch (e) {
      if (e.status !== 401) showError(f2, e);
      return;
    }
    clearErrors(f2);
    drawTurn(turn, r, moved);
  }
  await showExperts(false);
  await showTurn(false);
}

const hours = (x) => num(x.median) + ' / ' + num(x.p90);
const EXPERT_COLS = ['推送', '受理', '拒绝', '超时', '作出结论', '受理用时（小时，中位数 / P90）', '作出结论用时（小时，中位数 / P90）'];
const expertCells = (x) => [String(x.pushed), String(x.accepted), String(x.refused), String(x.expired),
  String(x.decided), hours(x.accept_hours), hours(x.decide_hours)];

function drawExperts(box, r, moved) {
  const title = h('h3', { id: 'stats-experts-title', tabindex: '-1', text: monthText(r.month) + '：共推送 ' + r.total.pushed + ' 次，作出结论 ' + r.total.decided + ' 次' });
  clear(box).append(h('section', { class: 'card', 'aria-labelledby': 'stats-experts-title' }, title,
    r.hospitals.length ? [
      barChart('各医院推送次数', r.hospitals.map((x) => ({
        label: x.hospital.name, value: x.pushed, text: '推送 ' + x.pushed + ' 次，作出结论 ' + x.decided + ' 次',
      })), 'stats-hospitals-chart'),
      table('各医院合计', ['医院', '专家人数', ...EXPERT_COLS],
        r.hospitals.map((x) => [x.hospital.name, String(x.experts), ...expertCells(x)]), 'stats-hospitals'),
      table('每位专家', ['专家', '医院', ...EXPERT_COLS],
        r.experts.map((x) => [x.name, x.hospital.name, ...expertCells(x)]), 'stats-experts-table'),
    ] : h('p', { id: 'stats-experts-empty', text: '这个月没有推送出的本统筹区申请的认定任务。' })));
  if (moved) title.focus();
}

const CHANNEL = { mini_program: '小程序', web: '网页', hospital: '医院代办', counter: '窗口代办' };
const MODE = { single: '一名专家认定', double: '初审和复审', onsite: '医院现场认定', panel: '专家组评审' };
const TURN_COLS = ['件数', '通过', '通过率', '工作日（中位数 / P90）', '时限（工作日）', '按时办结'];
const turnCells = (x) => [String(x.count), String(x.approved), num(x.approved_percent, '%'),
  num(x.working_days.median) + ' / ' + num(x.working_days.p90), x.targets.join('、'),
  x.within_target + ' 件（' + num(x.within_target_percent, '%') + '）'];

function drawTurn(box, r, moved) {
  const t = r.total;
  const title = h('h3', { id: 'stats-turnaround-title', tabindex: '-1', text: fmtDate(r.from) + ' 至 ' + fmtDate(r.to) + '：办结 ' + t.count + ' 件' });
  clear(box).append(h('section', { class: 'card', 'aria-labelledby': 'stats-turnaround-title' }, title,
    h('p', { id: 'stats-targets', text: '本统筹区的时限：网上申请 ' + r.targets.online + ' 个工作日，即时办理病种 ' +
      r.targets.instant + ' 个工作日，其他 ' + r.targets.other + ' 个工作日。' }),
    t.count ? [
      h('p', { id: 'stats-total', text: '通过 ' + t.approved + ' 件（' + num(t.approved_percent, '%') + '）；用时中位数 ' +
        num(t.working_days.median) + ' 个工作日，90% 在 ' + num(t.working_days.p90) + ' 个工作日内；按时办结 ' +
        t.within_target + ' 件（' + num(t.within_target_percent, '%') + '）。' }),
      barChart('各申报渠道按时办结的比例', r.by_channel.map((x) => ({
        label: CHANNEL[x.channel] || x.channel, value: x.within_target_percent,
        text: num(x.within_target_percent, '%') + '（' + x.within_target + '/' + x.count + ' 件）',
      })), 'stats-channel-chart'),
      table('按申报渠道', ['渠道', ...TURN_COLS], r.by_channel.map((x) => [CHANNEL[x.channel] || x.channel, ...turnCells(x)]), 'stats-by-channel'),
      table('按认定方式', ['认定方式', ...TURN_COLS], r.by_review_mode.map((x) => [MODE[x.review_mode] || x.review_mode, ...turnCells(x)]), 'stats-by-mode'),
      table('按病种', ['病种', ...TURN_COLS], r.by_disease.map((x) => [x.disease.name, ...turnCells(x)]), 'stats-by-disease'),
    ] : h('p', { id: 'stats-turnaround-empty', text: '这段时间没有办结的申请。' })));
  if (moved) title.focus();
}
