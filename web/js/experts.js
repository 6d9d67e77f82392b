// experts.js -- 专家库, the agency's expert pool (R-CER-1, R-CER-4):
// each expert with status, the reason, consecutive misses; suspend with a
// reason, reinstate; add an expert (hospital, title, specialties, phone,
// account and initial password).  The API scopes it to the agency's
// region; admins see every region and add none here (they name a region
// through the API).

import { api, allPages } from './api.js';
import { h, clear, busy, announce, button, field, formError, clearErrors, showError, fmtTime } from './ui.js';
import { session } from './app.js';

const EXPERT_STATUS = { active: '在库', disqualified: '已取消资格', suspended: '暂停' };
const TITLES = ['初级', '中级', '副高', '正高'];

// The suspend form of one expert: a reason, then 确认暂停.
function suspendForm(x, done) {
  const reason = h('input', { type: 'text', maxlength: 500 });
  const ok = h('button', { type: 'submit', class: 'btn btn-primary btn-small', 'data-action': 'suspend-confirm' }, '确认暂停');
  const form = h('form', { class: 'form', novalidate: true },
    formError(), field('暂停原因', reason, 'reason', '暂停后不再向该专家推送认定任务，恢复资格后重新参与抽取。'), ok);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(ok, async () => {
      clearErrors(form);
      if (!reason.value.trim()) {
        showError(form, { field: 'reason', message: '请填写暂停原因' });
        return;
      }
      try {
        done(await api('POST', '/agency/experts/' + x.id + '/suspend', { reason: reason.value.trim() }));
        announce('已暂停 ' + x.login + ' 的专家资格');
      } catch (err) { showError(form, err); }
    });
  });
  return form;
}

function expertItem(e) {
  const li = h('li', { class: 'card', 'data-expert': e.id });
  const render = (x) => {
    const head = h('strong', { text: x.login, tabindex: '-1' });
    clear(li).append(
      h('div', { class: 'app-head' }, head,
        h('span', { class: 'badge badge-expert-' + x.status, text: EXPERT_STATUS[x.status] || x.status })),
      h('p', { text: x.institution.name + ' · ' + x.title + ' · ' + x.specialties.join('、') }),
      x.status_reason ? h('p', { class: 'status-reason', text: '原因：' + x.status_reason }) : null,
      h('p', { class: 'hint' }, '连续未受理 ', h('strong', { class: 'misses', text: String(x.consecutive_misses) }),
        ' 次 · 状态变更于 ' + fmtTime(x.status_changed_at)));
    const after = (y) => { render(y); li.querySelector('strong').focus(); };
    const actions = h('div', { class: 'actions' });
    if (x.status !== 'active') {
      const b = button('恢复资格', () => busy(b, async () => {
        try {
          after(await api('POST', '/agency/experts/' + x.id + '/reinstate'));
          announce('已恢复 ' + x.login + ' 的专家资格');
        } catch (err) { announce(err.message, true); }
      }), 'btn btn-primary btn-small', { 'data-action': 'reinstate' });
      actions.append(b);
    } else {
      const b = button('暂停资格', () => {
        const f = suspendForm(x, after);
        actions.replaceWith(f);
        f.querySelector('input').focus();
      }, 'btn btn-secondary btn-small', { 'data-action': 'suspend' });
      actions.append(b);
    }
    li.append(actions);
  };
  render(e);
  return li;
}

// The add form: the region's certifying hospitals, the specialties of its
// catalog.  A new expert is put first in the list.
async function addForm(list) {
  const region = session.me.scope && session.me.scope.region;
  const [hospitals, diseases] = await Promise.all([
    allPages('/agency/institutions?certifying=true'),
    api('GET', '/diseases?region=' + encodeURIComponent(region)).then((r) => r.items)]);
  const specs = [...new Set(diseases.map((d) => d.specialty))].sort();
  const inst = h('select', {}, h('option', { value: '', text: '请选择医院' }),
    hospitals.map((i) => h('option', { value: i.code, text: i.name })));
  const title = h('select', {}, TITLES.map((t) => h('option', { value: t, text: t })));
  title.value = '副高';
  const boxes = specs.map((s) => h('input', { type: 'checkbox', value: s, id: 'spec-' + specs.indexOf(s) }));
  const specField = h('fieldset', { class: 'checks', 'data-field': 'specialties' },
    h('legend', { text: '专业类别（可多选）' }),
    ...boxes.map((b) => h('label', { for: b.id, class: 'check' }, b, ' ' + b.value)),
    h('p', { class: 'field-error', 'aria-live': 'polite' }));
  const phone = h('input', { type: 'tel', maxlength: 11, inputmode: 'numeric' });
  const login = h('input', { type: 'text', maxlength: 64, autocomplete: 'off' });
  const pw = h('input', { type: 'password', maxlength: 128, autocomplete: 'new-password' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'expert-add' }, '加入专家库');
  const form = h('form', { class: 'form card', novalidate: true, id: 'expert-form', 'aria-label': '新增专家' },
    h('h2', { text: '新增专家' }), formError(),
    field('所在医院', inst, 'institution', '只能是本统筹区的认定机构'),
    field('职称', title, 'title'), specField,
    field('手机号码（接收任务短信，可不填）', phone, 'phone'),
    field('登录账号', login, 'login', '字母、数字、点、下划线或连字符，3–64 位'),
    field('初始密码', pw, 'password', '至少 8 位，请专家首次登录后修改'), save);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(save, async () => {
      clearErrors(form);
      const body = { institution: inst.value, title: title.value, login: login.value.trim(), password: pw.value,
        specialties: boxes.filter((b) => b.checked).map((b) => b.value) };
      if (phone.value.trim()) body.phone = phone.value.trim();
      try {
        const e = await api('POST', '/agency/experts', body);
        const li = expertItem(e);
        list.querySelectorAll('.empty').forEach((x) => x.remove());
        list.prepend(li);
        form.reset();
        title.value = '副高';
        announce('已加入专家库：' + e.login);
        li.querySelector('strong').focus();
      } catch (err) {
        showError(form, err);
        if (err.field === 'specialties' && boxes[0]) boxes[0].focus();
      }
    });
  });
  return form;
}

// The pool comes a page at a time (GET /agency/experts pages with a
// cursor); 加载更多 appends the next page while there is one.
export async function agencyExperts(m, main) {
  const r = await api('GET', '/agency/experts');
  const list = h('ul', { class: 'expert-list', id: 'experts' });
  let cursor = r.next_cursor;
  const more = button('加载更多', () => busy(more, async () => {
    try {
      const n = await api('GET', '/agency/experts?cursor=' + encodeURIComponent(cursor));
      for (const e of n.items) list.append(expertItem(e));
      cursor = n.next_cursor;
      more.hidden = !cursor;
    } catch (err) { announce(err.message, true); }
  }), 'btn btn-secondary', { hidden: !cursor, id: 'experts-more' });
  const own = session.me.role === 'agency';
  clear(main).append(h('h1', { text: '专家库' }),
    h('p', { class: 'hint', text: '连续未在时限内受理达到规定次数的专家自动取消资格，可在核实后恢复；也可以写明原因暂停某位专家。' }),
    list, more, own ? await addForm(list) : null);
  if (!r.items.length) list.append(h('li', { class: 'card empty', text: '本统筹区还没有认定专家' }));
  for (const e of r.items) list.append(expertItem(e));
}
