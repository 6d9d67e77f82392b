// panel.js -- hospital panels and the public notice (R-CER-10, S2 二(二)):
// the hospital's 专家组评审 (the queue; a case with the members chosen
// from the hospital's experts, each one's opinion and the conclusion;
// after an approval the notice dates) and the public 认定结果公示 page (no
// sign-in: the open notices by region, names masked as the API gives
// them, and an objection form).

import { api, allPages } from './api.js';
import { viewer } from './expert.js';
import {
  h, clear, field, clearErrors, showError, formError, busy, announce, button, fmtTime, fmtDate, statusBadge,
} from './ui.js';

const TABS = [['waiting', '待评审'], ['publicity', '公示中'], ['done', '已完成']];
const CONCLUSION = { approve: '通过', reject: '不通过' };
const PUB_STATE = {
  open: '公示中', ended: '公示期满无异议', objected: '收到异议，已转医保经办机构核实', withdrawn: '申请已撤回',
};

function period(p) {
  return fmtDate(p.starts_on) + ' 至 ' + fmtDate(p.ends_on);
}

let tab = 'waiting';

// #/hospital/panel: the hospital's panel cases by state.
export async function panelQueue(m, main) {
  const title = h('h1', { text: '专家组评审' });
  const list = h('div', { id: 'panel-cases' });
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': '评审分类' });
  clear(main).append(title,
    h('p', { class: 'hint', text: '定额病种由本院临床专家组集体评审；评审通过后在院内公示 5 个工作日，期满无异议的，自次月 1 日起享受待遇。' }),
    tabs, list);
  const buttons = TABS.map(([k, name]) => button(name, () => {
    tab = k;
    buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(TABS[i][0] === tab)));
    load();
  }, 'tab', { 'aria-pressed': String(tab === k), id: 'tab-' + k }));
  tabs.append(...buttons);
  let loads = 0;
  async function load() {
    const mine = ++loads;
    let items;
    try {
      items = await allPages('/hospital/panel-cases?state=' + tab + '&limit=100');
    } catch (e) {
      if (mine !== loads || e.status === 401) return;
      clear(list).append(h('p', { class: 'form-error', role: 'alert', text: e.message }),
        button('重试', () => load(), 'btn btn-secondary'));
      return;
    }
    if (mine !== loads) return;
    clear(list);
    if (!items.length) {
      list.append(h('p', { class: 'card', text: tab === 'waiting' ? '暂无待评审的申请' : '暂无申请' }));
      return;
    }
    list.append(h('ul', { class: 'task-list' }, items.map(caseCard)));
  }
  await load();
}

function caseCard(c) {
  return h('li', { class: 'card', 'data-case': c.application_id },
    h('div', { class: 'app-head' },
      h('strong', { class: 'app-disease', text: c.disease.name }), statusBadge(c.status)),
    h('p', { text: '申请人：' + c.person.name + '（' + c.person.id_number + '）' }),
    h('p', { class: 'hint', text: '申请编号 ' + c.application_id + '，提交于 ' + fmtTime(c.submitted_at) }),
    c.conclusion ? h('p', { text: '专家组结论：' + CONCLUSION[c.conclusion] }) : null,
    c.publicity ? h('p', { text: '公示期：' + period(c.publicity) + '（' + PUB_STATE[c.publicity.state] + '）' }) : null,
    c.status === 'submitted'
      ? h('a', { class: 'btn btn-primary', href: '#/hospital/panel/' + c.application_id, text: '组织评审' })
      : null);
}

function memberRow(e) {
  const pick = h('input', { type: 'checkbox', id: 'm-' + e.id, 'data-expert': e.id });
  const opinion = h('select', { id: 'o-' + e.id, 'aria-label': e.name + ' 的意见', disabled: true },
    h('option', { value: 'approve', text: '同意认定' }), h('option', { value: 'reject', text: '不同意' }));
  const note = h('input', { type: 'text', id: 'n-' + e.id, maxlength: 1000, 'aria-label': e.name + ' 的说明（可不填）', disabled: true });
  pick.addEventListener('change', () => { opinion.disabled = !pick.checked; note.disabled = !pick.checked; });
  const row = h('li', { class: 'card member' },
    h('div', { class: 'check' }, pick,
      h('label', { for: pick.id, text: e.name + '（' + e.title + '，' + e.specialties.join('、') + '）' })),
    h('div', { class: 'field' }, h('label', { for: opinion.id, text: '意见' }), opinion),
    h('div', { class: 'field' }, h('label', { for: note.id, text: '说明（可不填）' }), note));
  row.member = () => (pick.checked ? Object.assign({ expert_id: e.id, opinion: opinion.value },
    note.value.trim() ? { note: note.value.trim() } : {}) : null);
  return row;
}

// The application's materials, each an image with zoom or a PDF in a
// frame (the expert's viewer): what the panel reviews before deciding.
function materialsSection(c) {
  return h('section', { id: 'panel-materials' },
    h('h2', { text: '申请材料' }),
    c.materials.length ? h('div', { class: 'viewers' }, c.materials.map((x) => viewer(x)))
      : h('p', { class: 'card', text: '这份申请没有材料。' }));
}

// #/hospital/panel/{id}: the case with its materials
// (GET /hospital/panel-cases/{id}: the panel's hospital reads it whoever
// filed it); the panel decides one that waits.
export async function panelCase(id, main) {
  const [c, pool] = await Promise.all([api('GET', '/hospital/panel-cases/' + encodeURIComponent(id)),
    // The case's region's minimum title and size (a province-wide
    // hospital's case of another region follows that region's rules).
    api('GET', '/hospital/panel-experts?application_id=' + encodeURIComponent(id))]);
  const info = h('section', { class: 'card info' },
    h('h2', { text: c.disease.name }),
    h('p', { text: '申请人：' + c.person.name + '（' + c.person.id_number + '）' }),
    h('p', { class: 'hint', text: '申请编号 ' + c.application_id + '，提交于 ' + fmtTime(c.submitted_at) }),
    c.conclusion ? h('p', { text: '专家组结论：' + CONCLUSION[c.conclusion] }) : null,
    c.publicity ? h('p', { text: '公示期：' + period(c.publicity) + '（' + PUB_STATE[c.publicity.state] + '）' }) : null);
  if (c.status !== 'submitted') {
    clear(main).append(h('h1', { text: '专家组评审' }), info,
      h('p', { class: 'card', text: '该申请不在待评审名单中（已评审或已撤回）。' }),
      materialsSection(c),
      h('p', {}, h('a', { href: '#/hospital/panel', text: '返回评审名单' })));
    return;
  }
  const rows = pool.items.map(memberRow);
  const conclusion = h('select', { id: 'conclusion' },
    h('option', { value: 'approve', text: '通过（进入院内公示）' }), h('option', { value: 'reject', text: '不通过（不予认定）' }));
  const opinion = h('textarea', { rows: 3, maxlength: 2000 });
  const reason = h('textarea', { rows: 3, maxlength: 1000 });
  const reasonField = field('不予认定的理由（将以短信告知申请人）', reason, 'reason');
  reasonField.hidden = true;
  conclusion.addEventListener('change', () => { reasonField.hidden = conclusion.value !== 'reject'; });
  const err = formError();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'panel-submit' }, '提交评审结论');
  const form = h('form', { class: 'form', novalidate: true }, err,
    h('fieldset', { 'data-field': 'members' },
      h('legend', { text: '专家组成员（至少 ' + pool.min_size + ' 人，职称' + pool.min_title + '及以上）' }),
      pool.items.length ? h('ul', { class: 'task-list' }, rows)
        : h('p', { text: '本院暂无符合条件的专家，请联系医保经办机构登记。' }),
      h('p', { class: 'field-error', 'aria-live': 'polite' })),
    field('专家组结论', conclusion, 'conclusion', '结论须与多数成员的意见一致'),
    field('专家组意见（可不填）', opinion, 'opinion'),
    reasonField,
    h('div', { class: 'actions' }, submit));
  const out = h('div', { id: 'panel-result' });
  clear(main).append(h('h1', { text: '专家组评审' }), info, materialsSection(c),
    h('h2', { text: '评审结论' }), form, out);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    busy(submit, () => decide(c, form, rows, { conclusion, opinion, reason }, out));
  });
}

async function decide(c, form, rows, f, out) {
  const members = rows.map((r) => r.member()).filter(Boolean);
  const body = { application_id: c.application_id, members, conclusion: f.conclusion.value };
  if (f.opinion.value.trim()) body.opinion = f.opinion.value.trim();
  if (f.conclusion.value === 'reject' && f.reason.value.trim()) body.reason = f.reason.value.trim();
  if (!members.length) {
    showError(form, { message: '请勾选参加评审的专家并填写各自的意见', field: 'members' });
    const first = form.querySelector('input[type=checkbox]');
    if (first) first.focus();
    return;
  }
  let r;
  try {
    r = await api('POST', '/hospital/panel-decisions', body);
  } catch (e) {
    if (e.status === 401) return;
    if (e.field === 'members') {
      form.querySelector('[data-field="members"] .field-error').textContent = e.message;
      form.querySelector('input[type=checkbox]').focus();
      return;
    }
    showError(form, e);
    return;
  }
  form.remove();
  const done = h('section', { class: 'card success', tabindex: '-1' },
    h('h2', { text: r.conclusion === 'approve' ? '评审通过，已进入院内公示' : '评审不通过，已告知申请人' }),
    r.publicity ? h('p', { id: 'publicity-period', text: '公示期：' + period(r.publicity) + '。期满无异议的，自次月 1 日起享受待遇。' }) : null,
    h('p', { text: '结果已报医保经办机构确认。' }),
    h('p', {}, h('a', { href: '#/hospital/panel', text: '返回评审名单' })));
  clear(out).append(done);
  done.focus();
  announce('评审结论已提交');
}

// #/publicity: the public notices (no sign-in), by region.
export async function publicity(m, main) {
  const items = await allPages('/hospital/publicity?limit=200');
  const regions = new Map(items.map((x) => [x.region.code, x.region.name]));
  const pick = h('select', { id: 'pub-region' }, h('option', { value: '', text: '全部统筹区' }),
    [...regions].map(([code, name]) => h('option', { value: code, text: name })));
  const list = h('div', { id: 'publicity-list' });
  clear(main).append(h('h1', { text: '认定结果公示' }),
    h('p', { class: 'lead', text: '以下人员经认定医院专家组评审，拟认定为门诊慢特病（定额病种），现予公示。对公示有异议的，请在公示期内提出。' }),
    field('选择统筹区', pick, 'region'), list);
  const draw = () => {
    const shown = items.filter((x) => !pick.value || x.region.code === pick.value);
    clear(list);
    if (!shown.length) { list.append(h('p', { class: 'card', text: '目前没有正在公示的名单。' })); return; }
    list.append(h('ul', { class: 'task-list' }, shown.map(noticeCard)));
  };
  pick.addEventListener('change', draw);
  draw();
}

function noticeCard(x) {
  const reason = h('textarea', { rows: 3, maxlength: 1000 });
  const contact = h('input', { type: 'text', maxlength: 64, autocomplete: 'tel' });
  const err = formError();
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, '提交异议');
  const form = h('form', { class: 'form', hidden: true, novalidate: true }, err,
    field('异议理由', reason, 'reason', '请写明您了解的情况'),
    field('联系电话（可不填，便于经办机构向您核实）', contact, 'contact'),
    h('div', { class: 'actions' }, send,
      button('取消', () => { form.hidden = true; open.focus(); }, 'btn btn-secondary')));
  const open = button('提出异议', () => { form.hidden = false; reason.focus(); }, 'btn btn-secondary', { 'data-action': 'object' });
  const li = h('li', { class: 'card', 'data-notice': x.id },
    h('div', { class: 'app-head' }, h('strong', { text: x.name }), h('span', { class: 'tag', text: x.region.name })),
    h('p', { text: '病种：' + x.disease.name }),
    h('p', { text: '认定医院：' + x.institution.name }),
    h('p', { text: '公示期：' + period(x) }),
    open, form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!reason.value.trim()) {
      showError(form, { message: '请填写异议理由', field: 'reason' });
      return;
    }
    busy(send, async () => {
      // One line (the API's reason is a line of text): lines joined.
      const body = { reason: reason.value.trim().replace(/\s*\n\s*/g, ' ') };
      if (contact.value.trim()) body.contact = contact.value.trim();
      try {
        const r = await api('POST', '/hospital/publicity/' + x.id + '/objection', body);
        const ok = h('p', { class: 'card success', tabindex: '-1', role: 'status',
          text: '您的异议已收到（编号 ' + r.id + '，' + fmtTime(r.received_at) + '），医保经办机构将进行核实。' });
        form.replaceWith(ok);
        open.remove();
        ok.focus();
      } catch (e) {
        showError(form, e.status === 429
          ? { message: '提交过于频繁，请过一分钟后再试。' }
          : e);
      }
    });
  });
  return li;
}
