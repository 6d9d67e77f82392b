// confirm.js -- the agency confirms hospitals' results (R-CER-11): the
// 待确认 queue (each result with the hospital and its conclusion) and the
// archive of one application (R-SUP-6, S4 三): the person (ID number
// masked), the disease, the certification form, the panel and each
// member's opinion, the public notice and its objections, the images,
// the whole trail (agency-apps.js: every draw with its pool and seed,
// every expert's step) and the timeline; then confirm, or overturn
// with a reason.  The API scopes everything to the agency's region.

import { api } from './api.js';
import {
  h, clear, field, clearErrors, showError, formError, busy, announce, button, fmtTime, fmtDate,
  statusBadge, REVIEW_MODE,
} from './ui.js';
import { rows } from './benefit.js';
import { viewer } from './expert.js';
import { session } from './app.js';
import { trailSection, materialLinks } from './agency-apps.js';

const PAGE = 200;   // the API's largest page
const CONCLUSION = { approve: '符合认定标准（予以认定）', reject: '不符合认定标准（不予认定）' };
const OPINION = { approve: '同意', reject: '不同意' };
const CONFIRMATION = { pending: '待确认', confirmed: '已确认', overturned: '未予确认（结果无效）' };
const NOTICE = { open: '公示中', objected: '收到异议，待核实', ended: '公示期满', withdrawn: '已撤回' };

function conclusionText(c) { return c ? CONCLUSION[c] || c : '尚无结论'; }

function queueItem(a) {
  return h('li', { class: 'card', 'data-app': a.id },
    h('div', { class: 'app-head' },
      h('strong', { class: 'app-disease', text: a.disease.name }),
      statusBadge(a.status)),
    h('p', { text: '申请编号 ' + a.id + ' · ' + a.applicant.name + '（' + a.applicant.id_number + '）' }),
    h('p', { text: '认定医院：' + (a.certifying_institution ? a.certifying_institution.name : '—') }),
    h('p', {}, '医院结论：', h('strong', { text: conclusionText(a.conclusion) })),
    h('p', {}, h('a', { class: 'btn btn-secondary', href: '#/agency/applications/' + a.id,
      text: '查看档案并确认', 'aria-label': '查看档案并确认（申请编号 ' + a.id + '）' })));
}

// #/agency/confirm: the hospitals' results waiting for the agency, newest
// first, a page at a time (加载更多 while there are more).
export async function confirmQueue(m, main) {
  const first = await api('GET', '/agency/applications?confirmation=pending&limit=' + PAGE);
  const list = h('ul', { class: 'queue', id: 'confirm-queue' });
  let cursor = first.next_cursor;
  const more = button('加载更多', () => busy(more, async () => {
    try {
      const r = await api('GET', '/agency/applications?confirmation=pending&limit=' + PAGE +
        '&cursor=' + encodeURIComponent(cursor));
      r.items.forEach((a) => list.append(queueItem(a)));
      cursor = r.next_cursor;
      more.hidden = !cursor;
    } catch (e) { announce(e.message, true); }
  }), 'btn btn-secondary', { hidden: !cursor, id: 'confirm-more' });
  clear(main).append(h('h1', { text: '待确认' }),
    h('p', { class: 'hint', text: '定点医院现场认定或专家组评审的结果，须经办机构确认。' +
      '不予确认的，认定结果无效，已享受的待遇资格随即取消，并短信告知参保人。' }),
    list, more);
  if (!first.items.length) list.append(h('li', { class: 'card', id: 'confirm-empty', text: '没有待确认的认定结果' }));
  first.items.forEach((a) => list.append(queueItem(a)));
}

function certificationSection(c) {
  return h('section', { class: 'card', id: 'certification' },
    h('h2', { text: '认定表（' + c.institution.name + '）' }),
    rows([
      ['诊断', c.diagnosis], ['认定依据', c.basis], ['检查检验', c.examinations],
      ['认定医师', c.physician_name + '（' + c.physician_title + '）'],
      ['认定结论', conclusionText(c.conclusion)], ['不予认定理由', c.reason],
      ['认定时间', fmtTime(c.certified_at)],
    ]));
}

function panelSection(p) {
  return h('section', { class: 'card', id: 'panel' },
    h('h2', { text: '专家组评审（' + p.institution.name + '）' }),
    rows([['评审结论', conclusionText(p.conclusion)], ['评审意见', p.opinion], ['不予认定理由', p.reason],
      ['评审时间', fmtTime(p.decided_at)]]),
    h('h3', { text: '专家组成员意见' }),
    h('ul', { class: 'plain', id: 'panel-members' }, p.members.map((x) =>
      h('li', { text: x.name + '（' + x.title + '）：' + (OPINION[x.opinion] || x.opinion) +
        (x.note ? '。' + x.note : '') }))));
}

function publicitySection(p) {
  return h('section', { class: 'card', id: 'publicity' },
    h('h2', { text: '院内公示' }),
    rows([['公示期', fmtDate(p.starts_on) + ' 至 ' + fmtDate(p.ends_on)],
      ['状态', NOTICE[p.state] || p.state]]),
    h('h3', { text: '收到的异议（' + p.objections.length + ' 件）' }),
    p.objections.length ? h('ul', { class: 'plain', id: 'objections' }, p.objections.map((o) =>
      h('li', {}, h('time', { datetime: o.filed_at, text: fmtTime(o.filed_at) }), '：' + o.reason)))
      : h('p', { text: '没有收到异议' }));
}

// The images inline with zoom, a PDF in a frame: the expert's viewer.
function materialsSection(a) {
  if (!a.materials.length) return h('p', { text: '没有材料图片' });
  return h('div', { class: 'viewers' }, a.materials.map((x) => viewer(x)));
}

// The decision: confirm, or overturn with a reason (required).  The
// server's answer redraws the page, the outcome announced and focused.
function decisionForm(a, main) {
  const yes = h('input', { type: 'radio', name: 'decision', value: 'confirm', id: 'c-confirm' });
  const no = h('input', { type: 'radio', name: 'decision', value: 'overturn', id: 'c-overturn' });
  const reason = h('textarea', { rows: 4, maxlength: 1000 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', id: 'confirm-submit' }, '提交');
  const form = h('form', { class: 'form card', novalidate: true, id: 'confirm-form' },
    formError(),
    h('h2', { text: '确认认定结果' }),
    h('fieldset', { 'data-field': 'decision', class: 'field' },
      h('legend', { text: '您的决定' }),
      h('div', { class: 'check' }, yes, h('label', { for: 'c-confirm', text: '确认认定结果' })),
      h('div', { class: 'check' }, no, h('label', { for: 'c-overturn', text: '不予确认（认定结果无效）' })),
      h('p', { class: 'field-error', 'aria-live': 'polite' })),
    field('理由', reason, 'reason', '不予确认时必须写明理由，参保人将看到该理由'),
    submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      const decision = yes.checked ? 'confirm' : (no.checked ? 'overturn' : '');
      if (!decision) { showError(form, { field: 'decision', message: '请选择确认或不予确认' }); return; }
      if (decision === 'overturn' && !reason.value.trim()) {
        showError(form, { field: 'reason', message: '请写明不予确认的理由' });
        return;
      }
      const body = { decision };
      if (reason.value.trim()) body.reason = reason.value.trim();
      try {
        const b = await api('POST', '/agency/applications/' + a.id + '/confirm', body);
        render(b, main);
        const done = decision === 'confirm' ? '已确认认定结果' : '已不予确认，认定结果无效' +
          (b.qualification ? '，待遇资格已取消' : '');
        announce(done);
        main.querySelector('#confirm-outcome').focus();
      } catch (e) { showError(form, e); }
    });
  });
  return form;
}

// Only the agency of the person's region decides (sql/fn/74_confirm.sql
// confirm_application: the qualification is that region's, R-CER-13), or
// an admin; the agency of the certifying hospital's region may read the
// archive (S4 三) but not decide.
function mayDecide(a) {
  const me = session.me;
  return me.role === 'admin' || (me.scope && me.scope.region === a.person_region.code);
}

function render(a, main) {
  const person = a.applicant.name + '（' + a.applicant.id_number + '）';
  clear(main).append(h('h1', { text: '申请档案 · 编号 ' + a.id }),
    rows([
      ['参保人', person], ['参保地', a.person_region.name], ['病种', a.disease.name],
      ['认定方式', REVIEW_MODE[a.review_mode] || a.review_mode],
      ['认定医院', a.certifying_institution ? a.certifying_institution.name : null],
      ['申请状态', statusBadge(a.status)], ['不予认定理由', a.decision_reason],
      ['待遇资格', a.qualification ? (a.qualification.status === 'active' ? '享受中' : '已取消') +
        '（' + fmtDate(a.qualification.valid_from) + ' 至 ' + fmtDate(a.qualification.valid_to) + '）' : null],
    ]),
    h('p', { class: 'card' + (a.confirmation === 'overturned' ? ' warn' : ''), id: 'confirm-outcome', tabindex: '-1' },
      '经办机构确认：', h('strong', { text: a.confirmation ? CONFIRMATION[a.confirmation] : '不需确认（专家网上认定）' }),
      a.confirmed_at ? '（' + fmtTime(a.confirmed_at) + '）' : '',
      a.confirmation_reason ? '。理由：' + a.confirmation_reason : ''));
  if (a.certification) main.append(certificationSection(a.certification));
  if (a.panel) main.append(panelSection(a.panel));
  if (a.publicity) main.append(publicitySection(a.publicity));
  main.append(trailSection(a.trail), materialLinks(a.materials));
  main.append(h('h2', { text: '材料图片' }), materialsSection(a),
    h('h2', { text: '办理进度' }),
    h('ol', { class: 'timeline', id: 'timeline' }, a.timeline.map((e) =>
      h('li', {}, h('time', { datetime: e.at, text: fmtTime(e.at) }), h('span', { text: e.text })))));
  if (a.confirmation === 'pending') {
    main.append(mayDecide(a) ? decisionForm(a, main)
      : h('p', { class: 'card info', id: 'confirm-elsewhere',
        text: '由参保地（' + a.person_region.name + '）医保经办机构确认' }));
  }
  main.append(h('p', {}, h('a', { href: '#/agency/confirm', text: '返回待确认' }), ' · ',
    h('a', { href: '#/agency/applications', text: '返回申请查询' })));
}

// #/agency/applications/{id}: the archive and the decision.
export async function archive(id, main) {
  render(await api('GET', '/agency/applications/' + encodeURIComponent(id)), main);
}
