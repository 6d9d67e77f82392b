// catalog-admin.js -- the agency's catalog and the working-day calendar
// (issue 12 item 7; R-SUP-5, R-CER-6): #/agency/catalog lists every
// disease of the region's catalog with what applies there,
// #/agency/catalog/{code} edits one (the region's own settings only; the
// national entry stays), #/agency/calendar[/{year}] shows and edits a
// year's holidays and adjusted work days.  The server checks everything;
// its refusal is shown beside the field it names.

import { api } from './api.js';
import { regionGate, withRegion, regionBody } from './region-choice.js';
import { h, clear, field, clearErrors, showError, formError, announce, busy, button, fmtTime, REVIEW_MODE } from './ui.js';

const CATEGORY = { special: '特殊病', chronic: '慢性病' };
const NEED = { none: '不需要', required: '必须提供', optional: '视情况提供' };

function modeText(m) { return REVIEW_MODE[m] || m; }

// One line of what applies in the region, with 本地调整 where the region
// changed it.
function summary(e) {
  const own = (k) => (e.overrides[k] ? '（本地调整）' : '');
  return '认定方式：' + modeText(e.review_mode) + own('review_mode') +
    ' · 有效期 ' + e.validity_months + ' 个月' + own('validity_months') +
    ' · 材料 ' + e.materials.length + ' 项' + own('materials');
}

// #/agency/catalog: the region's diseases, each a link to its editor.
export async function catalogList(m, view) {
  const gate = await regionGate(view, '病种目录');
  if (gate.stop) return;
  const c = await api('GET', withRegion('/agency/diseases'));
  const list = h('ul', { class: 'queue', id: 'catalog' });
  clear(view).append(h('h1', { text: '病种目录' }), gate.el,
    h('p', { class: 'hint', text: c.name + '的门诊慢特病目录共 ' + c.in_catalog +
      ' 个病种。点病种名称，可以调整本统筹区的认定方式、有效期和所需材料，或把病种移出、列入目录。全国（省级）目录不会改变。' }),
    list);
  for (const e of c.items) {
    list.append(h('li', { class: 'card', 'data-code': e.code },
      h('div', { class: 'app-head' },
        h('a', { href: '#/agency/catalog/' + encodeURIComponent(e.code), class: 'app-disease', text: e.name }),
        h('span', { class: 'badge badge-' + (e.in_catalog ? 'approved' : 'rejected'),
          text: e.in_catalog ? '在目录中' : '不在目录中' })),
      h('p', { text: (CATEGORY[e.category] || '') + (e.quota ? '，定额' : '') + ' · 编码 ' + e.code }),
      e.in_catalog ? h('p', { class: 'hint', text: summary(e) }) : null));
  }
}

// The select and note of one kind of material.
function materialRow(k, have) {
  const sel = h('select', { id: 'mat-' + k.kind, 'data-kind': k.kind });
  const now = have ? (have.required ? 'required' : 'optional') : 'none';
  for (const v of ['none', 'required', 'optional']) {
    sel.append(h('option', { value: v, selected: v === now, text: NEED[v] }));
  }
  const note = h('input', { type: 'text', id: 'mat-' + k.kind + '-note', maxlength: 256,
    'data-note': k.kind, value: have ? have.note : '' });
  return h('li', { class: 'card' },
    h('div', { class: 'field' }, h('label', { for: sel.id, text: k.name }), sel),
    h('div', { class: 'field' }, h('label', { for: note.id, text: k.name + '：说明（可不填）' }), note));
}

// The materials list of the form, in the order of the page.
function materialsOf(view, entry) {
  const age = Object.fromEntries(entry.materials.map((x) => [x.kind, x.max_age_days]));
  return [...view.querySelectorAll('select[data-kind]')].filter((s) => s.value !== 'none').map((s) => {
    const k = s.dataset.kind;
    const m = { kind: k, required: s.value === 'required' };
    const note = view.querySelector('[data-note="' + k + '"]').value.trim();
    if (note) m.note = note;
    if (age[k]) m.max_age_days = age[k];
    return m;
  });
}

// #/agency/catalog/{code}: one disease's editor.
export async function catalogEditor(code, view) {
  const gate = await regionGate(view, '病种目录');
  if (gate.stop) return;
  const c = await api('GET', withRegion('/agency/diseases'));
  const e = c.items.find((x) => x.code === code);
  if (!e) {
    clear(view).append(h('h1', { text: '病种目录' }), h('p', { role: 'alert', text: '没有这个病种：' + code }),
      h('p', {}, h('a', { href: '#/agency/catalog', text: '← 返回病种目录' })));
    return;
  }
  drawEditor(view, c, e);
}

function drawEditor(view, c, e) {
  const listed = h('select', { id: 'cat-in' },
    h('option', { value: 'true', selected: e.in_catalog, text: '列入本统筹区目录' }),
    h('option', { value: 'false', selected: !e.in_catalog, text: '不列入（移出目录）' }));
  const mode = h('select', { id: 'cat-mode' });
  for (const v of ['national', 'single', 'double', 'onsite', 'panel']) {
    mode.append(h('option', { value: v, selected: e.overrides.review_mode ? v === e.review_mode : v === 'national',
      text: v === 'national' ? '与全国目录相同（' + modeText(e.national.review_mode) + '）' : modeText(v) }));
  }
  // Text with a numeric keypad: the portal's inputs are styled by type.
  const months = h('input', { type: 'text', id: 'cat-months', inputmode: 'numeric', maxlength: 3,
    value: e.overrides.validity_months ? e.validity_months : '' });
  const have = Object.fromEntries(e.materials.map((x) => [x.kind, x]));
  const mats = h('ul', { class: 'queue', id: 'cat-materials' }, c.kinds.map((k) => materialRow(k, have[k.kind])));
  const err = formError();
  const save = button('保存', null, 'btn btn-primary', { id: 'cat-save' });
  const reset = button('全部恢复为全国目录', null, 'btn', { id: 'cat-reset' });
  const form = h('form', { id: 'cat-form', novalidate: true },
    field('是否列入目录', listed, 'in_catalog', '移出目录后，本统筹区的参保人不能再申请这个病种；已有的待遇不受影响。'),
    field('认定方式', mode, 'review_mode', '改为医院现场认定或专家组认定，须已有医院可以认定这个病种。已经提交的申请仍按提交时的方式办理。'),
    field('有效期（月）', months, 'validity_months', '1 到 120 个月；不填为与全国目录相同（' + e.national.validity_months + ' 个月）。'),
    h('div', { class: 'field', 'data-field': 'materials' },
      h('h2', { text: '所需材料' }),
      h('p', { class: 'hint', text: '每种材料选择“必须提供”“视情况提供”或“不需要”。保存后，这里就是本统筹区的完整材料清单。' }),
      h('p', { class: 'field-error', id: 'cat-materials-err', 'aria-live': 'polite' }), mats),
    err, h('div', { class: 'actions' }, save, reset));
  clear(view).append(h('p', {}, h('a', { href: '#/agency/catalog', text: '← 返回病种目录' })),
    h('h1', { text: e.name, tabindex: '-1', id: 'cat-title' }),
    h('p', { id: 'cat-summary', text: e.in_catalog ? summary(e) : '不在本统筹区目录中' }),
    h('p', { class: 'hint', text: '现在有 ' + e.certifying_hospitals + ' 家医院可以为本统筹区参保人认定这个病种' +
      (e.changed_at ? ' · 最近修改：' + fmtTime(e.changed_at) : '') }),
    form);
  const send = (payload, done) => busy(save, async () => {
    clearErrors(form);
    try {
      const r = await api('PUT', '/agency/diseases/' + encodeURIComponent(e.code), regionBody(payload));
      const i = c.items.findIndex((x) => x.code === r.code);
      c.items[i] = r;
      drawEditor(view, c, r);
      announce(done);
      view.querySelector('#cat-title').focus();
    } catch (x) {
      if (x.status !== 401) showError(form, x);
    }
  });
  const submit = (ev) => {
    ev.preventDefault();
    if (listed.value === 'false') {
      send({ in_catalog: false }, '已保存：' + e.name + '已移出本统筹区目录');
      return;
    }
    // The national list chosen again is no list of the region's own.
    const key = (l) => JSON.stringify(l.map((x) => [x.kind, x.required, x.note || '']).sort());
    const materials = materialsOf(view, e);
    send({ in_catalog: true, review_mode: mode.value,
      validity_months: months.value.trim() === '' ? 0 : (/^\d{1,3}$/.test(months.value.trim()) ? Number(months.value) : -1),
      materials: key(materials) === key(e.national.materials) ? [] : materials }, '已保存：' + e.name);
  };
  form.addEventListener('submit', submit);
  save.addEventListener('click', submit);
  reset.addEventListener('click', () => send({ reset: true }, '已恢复为全国目录：' + e.name));
}

const KIND = { holiday: '放假（工作日休息）', workday: '调休上班（周末上班）' };
const WEEKDAY = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];

function weekday(day) {
  const d = new Date(day + 'T00:00:00Z');
  return isNaN(d) ? '' : WEEKDAY[d.getUTCDay()];
}

// One day of the year's list: date, kind, note, remove.
function dayRow(d, n) {
  const date = h('input', { type: 'date', id: 'day-' + n, value: d.day, 'data-day': '' });
  const kind = h('select', { id: 'day-' + n + '-kind' });
  for (const v of ['holiday', 'workday']) kind.append(h('option', { value: v, selected: v === d.kind, text: KIND[v] }));
  const note = h('input', { type: 'text', id: 'day-' + n + '-note', maxlength: 64, value: d.note || '' });
  const li = h('li', { class: 'card', 'data-row': '' },
    h('div', { class: 'field' }, h('label', { for: date.id, text: '日期' + (d.day ? '（' + weekday(d.day) + '）' : '') }), date),
    h('div', { class: 'field' }, h('label', { for: kind.id, text: '类型' }), kind),
    h('div', { class: 'field' }, h('label', { for: note.id, text: '说明，如“国庆节”' }), note));
  li.append(button('删除这一天', () => { li.remove(); announce('已删除一天，保存后生效'); }, 'btn'));
  return li;
}

// #/agency/calendar and #/agency/calendar/{year}.
export async function calendarPage(year, view) {
  const y = Number(year) || Number(new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 4));
  drawCalendar(view, await api('GET', '/agency/calendar/' + y));
}

function drawCalendar(view, cal) {
  let n = 0;
  const list = h('ul', { class: 'queue', id: 'cal-days' }, cal.days.map((d) => dayRow(d, n++)));
  const err = formError();
  const save = button('保存', null, 'btn btn-primary', { id: 'cal-save' });
  const add = button('添加一天', () => {
    const row = dayRow({ day: '', kind: 'holiday', note: '' }, n++);
    list.append(row);
    row.querySelector('input').focus();
  }, 'btn', { id: 'cal-add' });
  const form = h('form', { id: 'cal-form', novalidate: true },
    h('div', { class: 'field', 'data-field': 'days' },
      h('p', { class: 'field-error', id: 'cal-days-err', 'aria-live': 'polite' }), list),
    err, h('div', { class: 'actions' }, add, save));
  const changes = h('ul', { id: 'cal-changes' }, cal.changes.map((c) => h('li', {
    text: fmtTime(c.at) + ' · ' + c.user + (c.region ? '（统筹区 ' + c.region + '）' : '（管理员）') +
      ' · 重新计算了 ' + c.recomputed + ' 个预计办结日期' })));
  clear(view).append(h('h1', { text: cal.year + ' 年工作日历', tabindex: '-1', id: 'cal-title' }),
    h('p', {},
      h('a', { href: '#/agency/calendar/' + (cal.year - 1), text: '← ' + (cal.year - 1) + ' 年' }), '　',
      h('a', { href: '#/agency/calendar/' + (cal.year + 1), text: (cal.year + 1) + ' 年 →' })),
    h('p', { id: 'cal-count', text: '全年 ' + cal.working_days + ' 个工作日。' }),
    h('p', { class: 'hint', text: '按国务院办公厅的放假安排，只填写放假的工作日和调休上班的周末；其余日子周一至周五上班。日历全国通用，保存后所有在办申请的预计办结日期随之重新计算。' }),
    form,
    h('h2', { text: '最近的修改' }),
    cal.changes.length ? changes : h('p', { text: '还没有修改过。' }));
  const submit = (ev) => {
    ev.preventDefault();
    busy(save, async () => {
      clearErrors(form);
      const days = [...list.querySelectorAll('[data-row]')].map((li) => {
        const [date, note] = li.querySelectorAll('input');
        const d = { day: date.value, kind: li.querySelector('select').value };
        if (note.value.trim()) d.note = note.value.trim();
        return d;
      });
      try {
        const r = await api('PUT', '/agency/calendar/' + cal.year, { days });
        drawCalendar(view, r);
        announce('已保存 ' + r.year + ' 年工作日历，重新计算了 ' + (r.changes[0] ? r.changes[0].recomputed : 0) + ' 个预计办结日期');
        view.querySelector('#cal-title').focus();
      } catch (x) {
        if (x.status !== 401) showError(form, x);
      }
    });
  };
  form.addEventListener('submit', submit);
  save.addEventListener('click', submit);
}
