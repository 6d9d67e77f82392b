// authz.js -- the agency's certification authorization (issue 11; R-CER-8,
// R-CER-9, R-SUP-4): the region's hospitals (#/agency/institutions) and one
// hospital's editor (#/agency/institutions/{code}): for every disease of
// the catalog, whether the hospital may certify it, with the rule that
// admits it or the reason the rules refuse it; the hospital's own
// certification status (suspend or cancel, with a reason).  The server
// decides (PUT .../diseases is all or nothing) and its answer is drawn.

import { api, allPages } from './api.js';
import { h, clear, field, clearErrors, showError, formError, announce, busy, button, fmtTime } from './ui.js';

const LEVEL = { 1: '一级', 2: '二级', 3: '三级' };
const OWNERSHIP = { public: '公立', private: '民营' };
const CERT_STATUS = { active: '认定资格有效', suspended: '认定资格已暂停', revoked: '认定资格已取消' };
const RULE = {
  public_chronic: '公立医院认定慢性病',
  public_special: '公立医院认定特殊病',
  private_scored: '民营医院（上年度考核达标）',
  reference: '参考数据',
};
const STATUS = { none: '不授权', active: '授权（有效）', suspended: '暂停', revoked: '不授权（已取消）' };
const CATEGORY = { special: '特殊病', chronic: '慢性病' };

// One line about a hospital: level, ownership, score, the province's
// authorization.
function about(i) {
  return [LEVEL[i.level] || i.level + '级', OWNERSHIP[i.ownership] || i.ownership,
    i.score !== null && i.score !== undefined ? '上年度考核 ' + Number(i.score) + ' 分' : null,
    i.province_wide ? '省级授权（可为全省参保人认定）' : null].filter(Boolean).join(' · ');
}

function statusBadge(st) {
  return h('span', { class: 'badge badge-' + (st === 'active' ? 'approved' : 'rejected'), text: CERT_STATUS[st] || st });
}

// #/agency/institutions: the region's hospitals, each a link to its editor.
export async function agencyInstitutions(m, view) {
  const items = await allPages('/agency/institutions?limit=200');
  const list = h('ul', { class: 'queue', id: 'institutions' });
  clear(view).append(h('h1', { text: '认定机构' }),
    h('p', { class: 'hint', text: '本统筹区的定点医疗机构。点医院名称，设置它可以认定哪些病种，或暂停、取消它的认定资格。' }),
    list);
  if (!items.length) list.append(h('li', { class: 'card', text: '本统筹区还没有医疗机构' }));
  for (const i of items) {
    list.append(h('li', { class: 'card', 'data-code': i.code },
      h('div', { class: 'app-head' },
        h('a', { href: '#/agency/institutions/' + encodeURIComponent(i.code), class: 'app-disease', text: i.name }),
        statusBadge(i.certification_status)),
      h('p', { text: about(i) }),
      h('p', { class: 'hint', text: '机构编码 ' + i.code + ' · 可认定 ' + i.authorized + ' 个病种' +
        (i.scope ? ' · 限于 ' + i.scope.length + ' 个病种' : '') })));
  }
}

// The select of one disease: 不授权 / 有效 / 暂停.  A disease the rules
// refuse cannot be made active (it may still be suspended or dropped when
// it is held), and says why.
function diseaseRow(it) {
  const code = it.disease.code;
  const held = it.status === 'active' || it.status === 'suspended';
  const sel = h('select', { id: 'authz-' + code, 'data-code': code });
  const now = held ? it.status : 'none';
  for (const v of ['none', 'active', 'suspended']) {
    const blocked = (v === 'active' && !it.allowed) || (v === 'suspended' && !held);
    sel.append(h('option', { value: v, selected: v === now, disabled: blocked && v !== now, text: STATUS[v] }));
  }
  if (!it.allowed && !held) sel.disabled = true;
  const why = it.allowed
    ? '符合条件：' + (RULE[it.rule] || it.rule)
    : '不符合条件：' + (it.refusal || '');
  const hint = h('p', { class: 'hint', id: 'authz-' + code + '-why', text: why +
    (it.changed_at ? ' · ' + STATUS[it.status] + '，' + fmtTime(it.changed_at) + (it.reason ? '：' + it.reason : '') : '') });
  sel.setAttribute('aria-describedby', hint.id);
  return h('li', { class: 'field', 'data-disease': code },
    h('label', { for: sel.id, text: it.disease.name + '（' + (CATEGORY[it.disease.category] || '') +
      (it.disease.quota ? '，定额' : '') + '）' }),
    hint, sel);
}

// The hospital's status: kept, suspended or cancelled.
function statusField(current) {
  const sel = h('select', { id: 'authz-status' });
  for (const v of ['active', 'suspended', 'revoked']) {
    sel.append(h('option', { value: v, selected: v === current, text: { active: '有效', suspended: '暂停', revoked: '取消' }[v] }));
  }
  return [sel, field('医院的认定资格', sel, 'certification_status',
    '经办机构对违规的医院可暂停或取消其认定资格；暂停、取消须填写原因。')];
}

// #/agency/institutions/{code}: the editor.  Save sends every held
// disease; the answer (or the refusal, beside the list or the reason) is
// drawn.
export async function authzEditor(code, view) {
  const body = await api('GET', '/agency/institutions/' + encodeURIComponent(code) + '/diseases');
  draw(view, body);
}

function draw(view, body) {
  const inst = body.institution;
  const rows = body.items.map(diseaseRow);
  const [statusSel, statusBox] = statusField(inst.certification_status);
  const reason = h('textarea', { rows: 3, maxlength: 500 });
  const err = formError();
  const save = button('保存', null, 'btn btn-primary', { id: 'authz-save' });
  const list = h('ul', { class: 'queue', id: 'authz-list' }, rows);
  const diseases = h('div', { class: 'field', 'data-field': 'diseases' },
    h('p', { class: 'field-error', id: 'authz-diseases-err', 'aria-live': 'polite' }), list);
  const form = h('form', { id: 'authz-form', novalidate: true },
    statusBox,
    h('h2', { text: '可认定的病种' }),
    h('p', { class: 'hint', text: '按本统筹区的认定机构条件：慢性病由二级及以上公立医院、特殊病由规定级别以上公立医院、民营医院须上年度考核达标；专科医院只限其范围内的病种。不符合条件的病种不能授权，旁边写明原因。' }),
    diseases,
    field('原因', reason, 'reason', '暂停或取消病种、医院时必填，记入授权记录'),
    err, h('div', { class: 'actions' }, save));
  clear(view).append(h('p', {}, h('a', { href: '#/agency/institutions', text: '← 返回认定机构' })),
    h('h1', { text: inst.name, tabindex: '-1', id: 'authz-title' }),
    h('p', {}, statusBadge(inst.certification_status)),
    h('p', { text: about(inst) + ' · 机构编码 ' + inst.code }),
    h('p', { class: 'hint', id: 'authz-count', text: '现可认定 ' + inst.authorized + ' 个病种' }),
    form);
  const submit = (ev) => {
    ev.preventDefault();
    busy(save, async () => {
      clearErrors(form);
      const payload = {
        diseases: [...view.querySelectorAll('select[data-code]')]
          .filter((s) => s.value !== 'none').map((s) => ({ code: s.dataset.code, status: s.value })),
      };
      if (statusSel.value !== inst.certification_status) payload.certification_status = statusSel.value;
      if (reason.value.trim()) payload.reason = reason.value.trim();
      try {
        const r = await api('PUT', '/agency/institutions/' + encodeURIComponent(inst.code) + '/diseases', payload);
        draw(view, r);
        announce('已保存：' + r.institution.name + '现可认定 ' + r.institution.authorized + ' 个病种');
        view.querySelector('#authz-title').focus();
      } catch (e) {
        if (e.status !== 401) showError(form, e);
      }
    });
  };
  form.addEventListener('submit', submit);
  save.addEventListener('click', submit);
}
