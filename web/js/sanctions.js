// sanctions.js -- 违规处理, the agency's sanctions (R-SUP-4, S2 五): the
// region's list (by subject type and state) and the form that records
// one, per subject type, with what it will do said before it is sent.
// The effect happens on the server in the same step (sql/fn/
// 92_sanctions.sql); the API scopes everything to the agency's region.

import { api } from './api.js';
import { h, clear, busy, announce, button, field, formError, clearErrors, showError, fmtTime, fmtDate } from './ui.js';
import { session } from './app.js';

// Subject types: the label of `subject`, and their kinds with the effect
// in plain words.
const TYPES = {
  person: { name: '参保人', subject: '参保人身份证号', kinds: {
    stop_benefit: '停止享受待遇：该参保人在本统筹区的所有门诊慢特病待遇立即终止（原因：违规），本人收到短信。此项不会自动恢复。',
    recover_funds: '追回医保基金：记录应追回的金额，本人收到短信。待遇资格不变。',
  } },
  physician: { name: '医师', subject: '医师姓名', kinds: {
    suspend_prescription: '暂停医保处方权：期间该医院以此医师署名的现场认定表一律不予受理。一般 6 个月，情节严重的 5 年；到期自动恢复。',
  } },
  expert: { name: '评审专家', subject: '专家编号（专家库中的编号）', kinds: {
    disqualify_expert: '取消评审专家资格：立即不再抽取该专家。填写结束日期或月数为暂停，到期自动恢复；不填为永久取消。',
  } },
  institution: { name: '医疗机构', subject: '医疗机构编码', kinds: {
    suspend_certification: '暂停认定资格：该医院立即不能再做门诊慢特病认定，参保人也不能再选它认定。有期限的到期自动恢复。',
    revoke_certification: '取消认定资格：该医院不再是认定机构。此项不会自动恢复。',
  } },
};
const KIND_NAME = {
  stop_benefit: '停止享受待遇', recover_funds: '追回医保基金', suspend_prescription: '暂停医保处方权',
  disqualify_expert: '取消评审专家资格', suspend_certification: '暂停认定资格', revoke_certification: '取消认定资格',
};
const PERMANENT = ['stop_benefit', 'recover_funds', 'revoke_certification'];

function subjectText(s) {
  const x = s.subject || {};
  if (s.subject_type === 'person') return '参保人 ' + x.name + '（' + x.id_number + '）';
  if (s.subject_type === 'expert') return '专家 ' + x.login + '（编号 ' + x.id + '）';
  if (s.subject_type === 'institution') return '医疗机构 ' + x.name;
  return '医师 ' + x.name + (s.institution ? '（' + s.institution.name + '）' : '');
}

function sanctionItem(s) {
  const until = s.valid_to ? fmtDate(s.valid_from) + ' 至 ' + fmtDate(s.valid_to) : fmtDate(s.valid_from) + ' 起，长期';
  return h('li', { class: 'card', 'data-sanction': s.id },
    h('div', { class: 'app-head' }, h('strong', { text: s.kind_text }),
      h('span', { class: 'badge badge-sanction-' + s.state, text: s.state === 'active' ? '执行中' : '已到期结束' })),
    h('p', { text: subjectText(s) }),
    s.amount !== null ? h('p', { text: '追回金额：' + Number(s.amount).toFixed(2) + ' 元' }) : null,
    h('p', { text: '期限：' + until }),
    h('p', { class: 'hint', text: '原因：' + s.reason + ' · 记录于 ' + fmtTime(s.recorded_at) }));
}

// The record form.  Fields that do not belong to the chosen type or kind
// are hidden and not sent.
async function recordForm(onDone) {
  const region = session.me.scope && session.me.scope.region;
  const hospitals = (await api('GET', '/agency/institutions?limit=200')).items;
  const type = h('select', {}, Object.entries(TYPES).map(([v, t]) => h('option', { value: v, text: t.name })));
  const kind = h('select', {});
  const effect = h('p', { class: 'effect card', id: 'sanction-effect', 'aria-live': 'polite' });
  const subject = h('input', { type: 'text', maxlength: 64, autocomplete: 'off' });
  const subjectLabel = h('span');
  const inst = h('select', {}, h('option', { value: '', text: '请选择医院' }),
    hospitals.map((i) => h('option', { value: i.code, text: i.name })));
  const license = h('input', { type: 'text', maxlength: 30, autocomplete: 'off' });
  const severe = h('input', { type: 'checkbox', id: 'sanction-severe' });
  const amount = h('input', { type: 'text', inputmode: 'decimal', maxlength: 12 });
  const until = h('input', { type: 'date' });
  const reason = h('textarea', { rows: 3, maxlength: 2000 });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'sanction-save' }, '记录并执行');
  const subjectField = field('对象', subject, 'subject');
  subjectField.querySelector('label').replaceChildren(subjectLabel);
  const parts = {
    institution: field('医师所在医院', inst, 'institution'),
    license_no: field('医师执业证号（可不填）', license, 'license_no'),
    severe: h('div', { class: 'check', 'data-field': 'severe' }, severe,
      h('label', { for: severe.id, text: '情节严重（暂停 5 年）' })),
    amount: field('追回金额（元）', amount, 'amount', '例如 1280.50'),
    valid_to: field('最后一天（不填：按规定期限或长期）', until, 'valid_to'),
  };
  const show = () => {
    const t = TYPES[type.value];
    if (!t.kinds[kind.value]) kind.replaceChildren(...Object.keys(t.kinds).map((k) => h('option', { value: k, text: KIND_NAME[k] })));
    subjectLabel.textContent = t.subject;
    effect.textContent = '将会：' + t.kinds[kind.value];
    parts.institution.hidden = parts.license_no.hidden = parts.severe.hidden = type.value !== 'physician';
    parts.amount.hidden = kind.value !== 'recover_funds';
    parts.valid_to.hidden = PERMANENT.includes(kind.value);
  };
  type.addEventListener('change', show);
  kind.addEventListener('change', show);
  const form = h('form', { class: 'form card', novalidate: true, id: 'sanction-form', 'aria-label': '记录违规处理' },
    h('h2', { text: '记录违规处理' }), formError(),
    field('处理对象类别', type, 'subject_type'), field('处理方式', kind, 'kind'), effect,
    subjectField, parts.institution, parts.license_no, parts.severe, parts.amount, parts.valid_to,
    field('处理原因', reason, 'reason', '写明违规事实和依据，会记入档案'), save);
  show();
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(save, async () => {
      clearErrors(form);
      const body = { subject_type: type.value, kind: kind.value, subject: subject.value.trim(), reason: reason.value.trim() };
      if (!parts.institution.hidden && inst.value) body.institution = inst.value;
      if (!parts.license_no.hidden && license.value.trim()) body.license_no = license.value.trim();
      if (!parts.severe.hidden && severe.checked) body.severe = true;
      if (!parts.amount.hidden && amount.value.trim()) body.amount = amount.value.trim();
      if (!parts.valid_to.hidden && until.value) body.valid_to = until.value;
      for (const [k, label] of [['subject', subjectLabel.textContent], ['reason', '处理原因']]) {
        if (!body[k]) { showError(form, { field: k, message: '请填写' + label }); return; }
      }
      try {
        const s = await api('POST', '/agency/sanctions', body);
        form.reset();
        show();
        announce('已记录并执行：' + s.kind_text + '，' + subjectText(s));
        onDone(s);
      } catch (err) { showError(form, err); }
    });
  });
  return region ? form : null;
}

export async function agencySanctions(m, main) {
  const list = h('ul', { class: 'sanction-list', id: 'sanctions' });
  const stype = h('select', {}, h('option', { value: '', text: '全部对象' }),
    Object.entries(TYPES).map(([v, t]) => h('option', { value: v, text: t.name })));
  const state = h('select', {}, h('option', { value: '', text: '全部' }),
    h('option', { value: 'active', text: '执行中' }), h('option', { value: 'ended', text: '已到期结束' }));
  let cursor = null;
  const more = button('加载更多', () => busy(more, () => load(false)), 'btn btn-secondary', { hidden: true, id: 'sanctions-more' });
  async function load(first) {
    const q = [stype.value && 'subject_type=' + stype.value, state.value && 'state=' + state.value,
      !first && cursor && 'cursor=' + encodeURIComponent(cursor)].filter(Boolean).join('&');
    try {
      const r = await api('GET', '/agency/sanctions' + (q ? '?' + q : ''));
      if (first) clear(list);
      for (const s of r.items) list.append(sanctionItem(s));
      if (first && !r.items.length) list.append(h('li', { class: 'card', text: '没有符合条件的违规处理记录' }));
      cursor = r.next_cursor;
      more.hidden = !cursor;
    } catch (err) { announce(err.message, true); }
  }
  const find = h('button', { type: 'submit', class: 'btn btn-primary', id: 'sanctions-search' }, '查询');
  const filters = h('form', { class: 'card filters', novalidate: true, role: 'search', 'aria-label': '筛选违规处理' },
    field('对象类别', stype, 'subject_type'), field('状态', state, 'state'), h('div', { class: 'actions' }, find));
  filters.addEventListener('submit', (ev) => { ev.preventDefault(); busy(find, () => load(true)); });
  const form = await recordForm(() => load(true));
  clear(main).append(h('h1', { text: '违规处理' }),
    h('p', { class: 'hint', text: '对违规的参保人、医师、评审专家和医疗机构的处理（停止待遇、追回基金、暂停处方权、取消专家资格、暂停或取消认定资格）。记录后立即生效，有期限的到期自动恢复。' }),
    // An admin (no region) records none here: the list only.
    form || h('p', { class: 'card info', id: 'sanction-no-form', text: '违规处理由统筹区医保经办机构记录；这里列出全部记录。' }),
    h('h2', { text: '处理记录' }), filters, list, more);
  await load(true);
}
