// audits.js -- the agency's audit samples (抽查审核; R-SUP-1, S0 五(二)
// 按不低于 10% 的比例抽审, S3 第二十条):
//   #/agency/audits       the region's audits and the form that draws one
//                         (dates, the rate with the region's minimum shown)
//   #/agency/audits/{id}  the report (printable: @media print hides the
//                         menu and the forms, .report-table prints as one
//                         table) and, for each item not yet decided,
//                         通过 / 不通过 with a note
// The API: POST|GET /agency/audits, GET /agency/audits/{id},
// POST /agency/audits/{id}/items/{item}/result.

import { api } from './api.js';
import { rows } from './benefit.js';
import { regionGate, withRegion, regionBody } from './region-choice.js';
import { h, clear, field, formError, showError, clearErrors, announce, busy, button, fmtTime, fmtDate, cnToday, qualBadge } from './ui.js';

const PAGE = 200;   // the API's largest page
const BY = {
  expert_review: '专家网上认定', hospital_onsite: '医院现场认定',
  hospital_panel: '医院专家组评审', other: '其他（历史资格）',
};
const RESULT = { pending: '待核查', pass: '✔ 通过', fail: '✖ 不通过' };

// The region's minimum rate (GET /agency/policy); 10 when unreadable.
async function minimumRate() {
  try {
    const p = await api('GET', withRegion('/agency/policy'));
    const x = p.policies.find((k) => k.key === 'audit_min_rate_percent');
    return x ? Number(x.value) : 10;
  } catch (e) { return 10; }
}

function countsText(a) {
  return '通过 ' + a.counts.pass + ' 条，不通过 ' + a.counts.fail + ' 条，待核查 ' + a.counts.pending + ' 条';
}

function auditItem(a) {
  return h('li', { class: 'card', 'data-audit': a.id },
    h('div', { class: 'app-head' },
      h('strong', { text: '第 ' + a.id + ' 批：' + fmtDate(a.from) + ' 至 ' + fmtDate(a.to) }),
      h('span', { class: 'badge', text: a.state === 'closed' ? '已全部核查' : '核查中' })),
    h('p', { text: '比例 ' + a.rate + '%：从 ' + a.population + ' 项待遇资格中抽取 ' + a.sample_size + ' 项；' + countsText(a) }),
    h('p', { text: '抽取时间：' + fmtTime(a.drawn_at) }),
    h('p', {}, h('a', { class: 'btn btn-secondary', href: '#/agency/audits/' + a.id,
      text: '查看抽查报告', 'aria-label': '查看抽查报告（第 ' + a.id + ' 批）' })));
}

// The form that draws a sample; on success the report opens.
function drawForm(min) {
  const today = cnToday();
  const from = h('input', { type: 'date', required: true, max: today, value: today.slice(0, 8) + '01' });
  const to = h('input', { type: 'date', required: true, max: today, value: today });
  const rate = h('input', { type: 'text', required: true, value: String(min), inputmode: 'numeric', pattern: '[0-9]*', maxlength: 3 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'audit-draw' }, '随机抽取');
  const form = h('form', { class: 'form card no-print', novalidate: true, id: 'audit-form', 'aria-labelledby': 'audit-form-title' },
    h('h2', { id: 'audit-form-title', text: '抽取新的样本' }),
    formError(),
    field('开始日期', from, 'from', '认定通过的日期从这一天起（含）'),
    field('结束日期', to, 'to', '到这一天止（含），不能晚于今天'),
    field('抽查比例（%）', rate, 'rate', '本统筹区规定不低于 ' + min + '%；至少抽取 1 项'),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      if (!from.value) { showError(form, { field: 'from', message: '请选择开始日期' }); return; }
      if (!to.value) { showError(form, { field: 'to', message: '请选择结束日期' }); return; }
      const n = Number(rate.value.trim());
      if (!/^[0-9]{1,3}$/.test(rate.value.trim()) || n < 1 || n > 100) {
        showError(form, { field: 'rate', message: '抽查比例请填写 1 到 100 的整数' });
        return;
      }
      try {
        const a = await api('POST', '/agency/audits', regionBody({ from: from.value, to: to.value, rate: n }));
        announce('已抽取 ' + a.sample_size + ' 项待遇资格');
        location.hash = '#/agency/audits/' + a.id;
      } catch (e) {
        if (e.status !== 401) showError(form, e);
      }
    });
  });
  return form;
}

// #/agency/audits: the form and the region's audits, newest first.
export async function agencyAudits(m, main) {
  const gate = await regionGate(main, '抽查审核');
  if (gate.stop) return;
  const [min, first] = await Promise.all([minimumRate(), api('GET', withRegion('/agency/audits?limit=' + PAGE))]);
  const list = h('ul', { class: 'queue', id: 'audit-list' }, first.items.map(auditItem));
  let cursor = first.next_cursor;
  const more = button('加载更多', () => busy(more, async () => {
    try {
      const r = await api('GET', withRegion('/agency/audits?limit=' + PAGE + '&cursor=' + encodeURIComponent(cursor)));
      r.items.forEach((a) => list.append(auditItem(a)));
      cursor = r.next_cursor;
      more.hidden = !cursor;
    } catch (e) { announce(e.message, true); }
  }), 'btn btn-secondary', { hidden: !cursor, id: 'audit-more' });
  clear(main).append(h('h1', { text: '抽查审核' }), gate.el,
    h('p', { class: 'hint', text: '从一段时间内认定通过的待遇资格（含定点医院现场认定、专家组评审的）中随机抽取样本核查。' +
      '每次抽取都有记录，任何人都可以复核抽取结果。核查不通过的，待遇资格随即取消，并短信告知参保人。' }),
    drawForm(min),
    h('h2', { text: '已抽取的批次' }),
    first.items.length ? list : h('p', { id: 'audit-none', text: '还没有抽查批次。' }), more);
}

// The items as one table (printed as the report).
function itemsTable(a) {
  const cols = ['序号', '姓名', '身份证号', '病种', '定点医院', '认定通过日期', '认定方式', '待遇状态', '核查结果', '说明', '核查人及时间'];
  // A heading, not a caption: a caption of the phone's stacked table
  // (display: block) is squeezed to one character a line.
  return [h('h2', { id: 'audit-table-title', text: '抽查样本（' + a.sample_size + ' 项）' }),
    h('table', { class: 'report-table', id: 'audit-table', 'aria-labelledby': 'audit-table-title' },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, a.items.map((x) => {
      const cells = [String(x.seat), x.person.name, x.person.id_number, x.disease.name, x.hospital.name,
        fmtDate(x.approved_on), (BY[x.certified_by] || x.certified_by) +
          (x.certifying_institution ? '（' + x.certifying_institution.name + '）' : ''),
        qualBadge(x.qualification_status), RESULT[x.result] || x.result, x.note || '',
        x.decided_by ? x.decided_by.login + ' ' + fmtTime(x.decided_at) : ''];
      return h('tr', { 'data-item': x.id }, cells.map((c, k) => h('td', { 'data-label': cols[k] }, c)));
    })))];
}

// 通过 / 不通过 for one pending item; the answer redraws the report.
function resultForm(a, x, main) {
  const id = 'r-' + x.id;
  const pass = h('input', { type: 'radio', name: id, value: 'pass', id: id + '-pass' });
  const fail = h('input', { type: 'radio', name: id, value: 'fail', id: id + '-fail' });
  const note = h('textarea', { rows: 3, maxlength: 1000 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, '提交第 ' + x.seat + ' 项结果');
  const form = h('form', { class: 'form card', novalidate: true, 'data-item': x.id, 'aria-labelledby': id + '-title' },
    h('h3', { id: id + '-title', text: '第 ' + x.seat + ' 项：' + x.person.name + '，' + x.disease.name }),
    formError(),
    h('fieldset', { 'data-field': 'result', class: 'field' },
      h('legend', { text: '核查结果' }),
      h('div', { class: 'check' }, pass, h('label', { for: id + '-pass', text: '通过' })),
      h('div', { class: 'check' }, fail, h('label', { for: id + '-fail', text: '不通过（取消待遇资格）' })),
      h('p', { class: 'field-error', 'aria-live': 'polite' })),
    field('说明', note, 'note', '不通过时必须写明原因，参保人将看到该说明'),
    submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      const result = pass.checked ? 'pass' : (fail.checked ? 'fail' : '');
      if (!result) { showError(form, { field: 'result', message: '请选择通过或不通过' }); return; }
      if (result === 'fail' && !note.value.trim()) {
        showError(form, { field: 'note', message: '请写明不通过的原因' });
        return;
      }
      const body = { result };
      if (note.value.trim()) body.note = note.value.trim();
      try {
        await api('POST', '/agency/audits/' + a.id + '/items/' + x.id + '/result', body);
        await auditReport(a.id, main);
        announce('第 ' + x.seat + ' 项已记录为' + (result === 'pass' ? '通过' : '不通过，待遇资格已取消'));
        main.querySelector('#audit-counts').focus();
      } catch (e) {
        if (e.status !== 401) showError(form, e);
      }
    });
  });
  return form;
}

// #/agency/audits/{id}: the report and the pending items' forms.
export async function auditReport(id, main) {
  const a = await api('GET', '/agency/audits/' + encodeURIComponent(id));
  const pending = a.items.filter((x) => x.result === 'pending');
  clear(main).append(h('h1', { text: '抽查报告 · 第 ' + a.id + ' 批' }),
    rows([
      ['认定通过日期', fmtDate(a.from) + ' 至 ' + fmtDate(a.to)], ['抽查比例', a.rate + '%'],
      ['总体', a.population + ' 项待遇资格'], ['样本', a.sample_size + ' 项'],
      ['抽取时间', fmtTime(a.drawn_at) + '（' + a.drawn_by.login + '）'],
      // The seed in groups of 8 so that it wraps on a phone.
      ['随机种子', a.draw.seed.match(/.{1,8}/g).join(' ')],
      ['复核方法', 'mtcertctl audit verify ' + a.id + '（由记录的总体和种子重新计算样本）'],
    ]),
    h('p', { class: 'card', id: 'audit-counts', tabindex: '-1', text: countsText(a) }),
    h('div', { class: 'actions no-print' }, button('打印报告', () => window.print(), 'btn btn-secondary', { id: 'audit-print' })),
    ...itemsTable(a));
  if (pending.length) {
    main.append(h('section', { class: 'no-print', 'aria-labelledby': 'audit-pending-title' },
      h('h2', { id: 'audit-pending-title', text: '记录核查结果（' + pending.length + ' 项待核查）' }),
      pending.map((x) => resultForm(a, x, main))));
  }
  main.append(h('p', { class: 'no-print' }, h('a', { href: '#/agency/audits', text: '返回抽查审核' })));
}
