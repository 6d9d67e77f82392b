// agency-objections.js -- the agency's 复核申请 (R-CER-12, S3 第九条;
// issue 12's leftover): the region's objections and hospitals' appeals,
// newest first, by state (复核中, 已作出复核结论, 已撤回, 全部), a page
// at a time; each with its application (the person masked) and a link to
// the application's trail and materials (#/agency/applications/{id}).
// The API: GET /agency/objections; an admin chooses the region first
// (region-choice.js).

import { api } from './api.js';
import { h, clear, field, busy, announce, button, fmtTime, fmtDate, statusBadge, formError, clearErrors, showError } from './ui.js';
import { regionGate, withRegion } from './region-choice.js';

const PAGE = 50;
const SCOPES = [['open', '复核中'], ['decided', '已作出复核结论'], ['withdrawn', '已撤回'], ['any', '全部']];
const STATE = {
  open: '复核中', upheld: '复核结论：予以认定', dismissed: '复核结论：维持不予认定', withdrawn: '已撤回，维持原结论',
};
const KIND = { applicant: '参保人申请复核', hospital: '医院申诉' };

function item(o) {
  const a = o.application;
  return h('li', { class: 'card', 'data-objection': o.id, 'data-app': a.id },
    h('div', { class: 'app-head' },
      h('strong', { class: 'app-disease', text: a.disease.name }),
      h('span', { class: 'badge', text: STATE[o.state] || o.state }),
      o.overdue ? h('span', { class: 'badge badge-overdue', text: '已超期' }) : null),
    h('p', { text: '申请编号 ' + a.id + ' · ' + a.applicant.name + '（' + a.applicant.id_number + '）' }),
    h('p', {}, KIND[o.kind] || o.kind, ' · 提出于 ' + fmtTime(o.filed_at) + ' · 申请状态 ', statusBadge(a.status)),
    h('p', { class: 'hint', text: o.state === 'open'
      ? '复核专家 ' + o.panel_size + ' 名，已作出意见 ' + o.seats_decided + ' 名；目标日期 ' + fmtDate(o.deadline)
      : '复核专家 ' + o.panel_size + ' 名' + (o.decided_at ? '；' + fmtTime(o.decided_at) + ' 办结' : '') }),
    h('p', { class: 'hint', text: '复核理由：' + o.reason }),
    h('p', {}, h('a', { class: 'btn btn-secondary', href: '#/agency/applications/' + a.id,
      text: '查看轨迹与材料', 'aria-label': '查看轨迹与材料（申请编号 ' + a.id + '）' })));
}

// #/agency/objections: the state select, the list and 加载更多.  A failed
// load is announced and the list kept.
export async function agencyObjections(m, main) {
  const gate = await regionGate(main, '复核申请');
  if (gate.stop) return;
  const scope = h('select', { id: 'obj-status' }, SCOPES.map(([v, t]) => h('option', { value: v, text: t })));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'obj-search' }, '查询');
  const form = h('form', { class: 'form card', novalidate: true, role: 'search', id: 'obj-form' }, formError(),
    field('复核状态', scope, 'status'), submit);
  const summary = h('p', { id: 'obj-summary', 'aria-live': 'polite' });
  const list = h('ul', { class: 'queue', id: 'obj-list' });
  const more = button('加载更多', null, 'btn btn-secondary', { hidden: true, id: 'obj-more' });
  clear(main).append(h('h1', { text: '复核申请' }), gate.el,
    h('p', { class: 'hint', text: '参保人对不予认定结论申请的复核和医院的申诉：复核由未参与原认定的专家重新认定，复核结果为最终结果。' +
      '点“查看轨迹与材料”可看到复核专家的抽取、受理和意见。' }),
    form, summary, list, more);
  let cursor = null;
  let shown = 0;
  let loads = 0;
  let last = scope.value;
  async function load(reset) {
    const mine = ++loads;
    if (reset) last = scope.value;
    const p = new URLSearchParams({ limit: String(PAGE), status: last });
    if (!reset && cursor) p.set('cursor', cursor);
    let r;
    try {
      r = await api('GET', withRegion('/agency/objections?' + p.toString()));
    } catch (e) {
      if (mine !== loads) return;
      if (e.field === 'status' || e.field === 'region') showError(form, e);
      else if (e.status !== 401) announce(e.message, true);
      return;
    }
    if (mine !== loads) return;
    if (reset) { clear(list); shown = 0; }
    r.items.forEach((o) => list.append(item(o)));
    shown += r.items.length;
    cursor = r.next_cursor;
    more.hidden = !cursor;
    summary.textContent = shown ? '已列出 ' + shown + ' 份复核申请' + (cursor ? '，还有更多' : '') : '没有符合条件的复核申请';
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    busy(submit, () => load(true));
  });
  more.addEventListener('click', () => busy(more, () => load(false)));
  await load(true);
}
