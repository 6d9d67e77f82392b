// reports.js -- the quarterly certification table (季度认定表; R-SUP-2,
// S4: within 10 working days after each quarter the hospital sends the
// agency the table of what it certified):
//   hospital staff  #/hospital/reports  choose a quarter, the table, 下载CSV,
//                                       打印 (one A4-wide table), 报送
//   agency          #/agency/reports    each certifying hospital of the
//                                       region: 已报送 / 逾期未报送 / 未到期
// The API: GET|POST /hospital/reports/quarterly, GET /agency/reports/quarterly.

import { api } from './api.js';
import { h, clear, field, formError, showError, clearErrors, announce, busy, button, fmtTime, fmtDate, cnToday } from './ui.js';

// The quarter of a YYYY-MM-DD day, "2026Q3".
function quarterOf(day) {
  return day.slice(0, 4) + 'Q' + (Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1);
}

// The quarter before q.
function previous(q) {
  const y = Number(q.slice(0, 4));
  const n = Number(q.slice(5));
  return n === 1 ? (y - 1) + 'Q4' : y + 'Q' + (n - 1);
}

// "2026Q3" -> "2026年第3季度（7月—9月）".
function quarterText(q) {
  const n = Number(q.slice(5));
  return q.slice(0, 4) + '年第' + n + '季度（' + (n * 3 - 2) + '月—' + (n * 3) + '月）';
}

// A select of the current quarter and the eight before it; the last one
// that has ended is chosen (the one whose table is due).
function quarterSelect() {
  const now = quarterOf(cnToday());
  const qs = [now];
  for (let i = 0; i < 8; i++) qs.push(previous(qs[qs.length - 1]));
  const sel = h('select', {}, qs.map((q) => h('option', {
    value: q, text: quarterText(q) + (q === now ? '（本季度，尚未结束）' : ''),
  })));
  sel.value = previous(now);
  return sel;
}

// The quarter form: a select and a button; onChoose(quarter) on submit.
function quarterForm(id, label, onChoose) {
  const sel = quarterSelect();
  const go = h('button', { type: 'submit', class: 'btn btn-primary', id: id + '-show' }, label);
  const form = h('form', { class: 'card filters no-print', novalidate: true, role: 'search', 'aria-label': '选择季度' },
    field('季度', sel, 'quarter'), h('div', { class: 'actions' }, go));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(go, () => onChoose(sel.value, true)); });
  return { form, sel };
}

const INSURANCE = { employee: '职工医保', resident: '城乡居民医保' };
const MODE = { onsite: '现场认定', panel: '专家组评审' };
const CONCLUSION = { approve: '通过', reject: '不通过' };

// The table itself: one row per certification, a caption naming the
// hospital and the quarter (printed as the table's title).
function reportTable(r) {
  const cols = ['序号', '认定时间', '姓名', '身份证号', '险种', '病种', '认定方式', '结论', '认定医师'];
  return h('table', { class: 'report-table', id: 'report-table' },
    h('caption', { text: r.institution.name + ' ' + quarterText(r.quarter) + '门诊慢特病认定表' }),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, r.items.map((x, i) => {
      const cells = [String(i + 1), fmtTime(x.certified_at), x.name, x.id_number,
        INSURANCE[x.insurance] || x.insurance, x.disease.name, MODE[x.mode] || x.mode,
        CONCLUSION[x.conclusion] || x.conclusion, x.physician_name || ''];
      return h('tr', {}, cells.map((c, k) => h('td', { 'data-label': cols[k], text: c })));
    })));
}

// Where the table stands: sent (when, how many rows), or when it is due.
function sentText(r) {
  if (r.submitted) {
    return '已于 ' + fmtTime(r.submitted.at) + ' 报送医保经办机构，共 ' + r.submitted.row_count + ' 条。';
  }
  if (!r.ended) return '本季度尚未结束，结束后才能报送；报送截止日期：' + fmtDate(r.due_on) + '。';
  return '尚未报送。请在 ' + fmtDate(r.due_on) + ' 前报送医保经办机构。';
}

// ------------------------------------------------ hospital: 季度认定表

export async function hospitalReports(m, main) {
  const box = h('div', { id: 'report' });
  const { form } = quarterForm('report', '查看', (q, moved) => show(q, moved));
  clear(main).append(h('h1', { class: 'no-print', text: '季度认定表' }),
    h('p', { class: 'hint no-print', text: '本院每季度的门诊慢特病认定记录。季度结束后，请在截止日期前下载或打印核对，并报送医保经办机构。' }),
    form, box);

  let shows = 0;
  async function show(q, moved) {
    const mine = ++shows;
    let r;
    try { r = await api('GET', '/hospital/reports/quarterly?quarter=' + encodeURIComponent(q)); } catch (e) {
      if (mine === shows && e.status !== 401) showError(form, e);
      return;
    }
    if (mine !== shows) return;
    clearErrors(form);
    const title = h('h2', { id: 'report-title', tabindex: '-1', class: 'no-print', text: quarterText(r.quarter) });
    const status = h('p', { id: 'report-sent', class: r.submitted ? 'report-sent' : '', text: sentText(r) });
    const err = formError();
    const actions = h('div', { class: 'actions no-print' },
      h('a', { class: 'btn btn-secondary', id: 'report-csv', download: '',
        href: '/api/v1/hospital/reports/quarterly?format=csv&quarter=' + encodeURIComponent(r.quarter), text: '下载CSV' }),
      button('打印', () => window.print(), 'btn btn-secondary', { id: 'report-print' }),
      r.ended && !r.submitted ? button('报送医保经办机构', (ev) => send(ev.currentTarget, r, status, err), 'btn btn-primary', { id: 'report-send' }) : null);
    clear(box).append(h('section', { class: 'card report', 'aria-labelledby': 'report-title' },
      title,
      h('p', { class: 'no-print', text: '统计期间：' + fmtDate(r.from) + ' 至 ' + fmtDate(r.to) + '；共 ' + r.items.length + ' 条认定记录。' }),
      status, err, actions,
      r.items.length ? reportTable(r) : h('p', { id: 'report-empty', text: '本季度本院没有认定记录。' })));
    if (moved) title.focus();
  }

  async function send(btn, r, status, err) {
    await busy(btn, async () => {
      err.hidden = true;
      try {
        const s = await api('POST', '/hospital/reports/quarterly', { quarter: r.quarter });
        r.submitted = { at: s.submitted_at, row_count: s.row_count, sha256: s.sha256 };
        status.textContent = sentText(r);
        status.className = 'report-sent';
        btn.remove();
        announce('已报送' + quarterText(r.quarter) + '的认定表，共 ' + s.row_count + ' 条。');
        status.setAttribute('tabindex', '-1');
        status.focus();
      } catch (e) {
        if (e.status !== 401) showError(err.parentNode, e);
      }
    });
  }

  await show(previous(quarterOf(cnToday())), false);
}

// ------------------------------------------------ agency: 认定表报送

// Each state in words and a sign, so colour is never the only cue.
const STATE = {
  submitted: ['✔ 已报送', 'badge-report-submitted'],
  late: ['✖ 逾期未报送', 'badge-report-late'],
  pending: ['… 未到截止日期', 'badge-report-pending'],
};

function hospitalItem(x) {
  const [text, cls] = STATE[x.state] || [x.state, ''];
  return h('li', { class: 'card report-item report-' + x.state, 'data-code': x.institution.code },
    h('div', { class: 'app-head' },
      h('strong', { class: 'app-disease', text: x.institution.name }),
      h('span', { class: 'badge ' + cls, text })),
    x.state === 'submitted'
      ? h('p', { text: '报送时间：' + fmtTime(x.submitted_at) + (x.submitted_late ? '（晚于截止日期）' : '') + '；认定记录 ' + x.row_count + ' 条' })
      : null);
}

export async function agencyReports(m, main) {
  const box = h('div', { id: 'reports' });
  const { form } = quarterForm('reports', '查询', (q, moved) => show(q, moved));
  clear(main).append(h('h1', { text: '认定表报送' }),
    h('p', { class: 'hint', text: '本统筹区各认定医院报送季度认定表的情况。医院应在每季度结束后规定的工作日内报送。' }),
    form, box);

  let shows = 0;
  async function show(q, moved) {
    const mine = ++shows;
    let r;
    try { r = await api('GET', '/agency/reports/quarterly?quarter=' + encodeURIComponent(q)); } catch (e) {
      if (mine === shows && e.status !== 401) showError(form, e);
      return;
    }
    if (mine !== shows) return;
    clearErrors(form);
    const n = (s) => r.items.filter((x) => x.state === s).length;
    const title = h('h2', { id: 'reports-title', tabindex: '-1', text: quarterText(r.quarter) });
    clear(box).append(title,
      h('p', { id: 'reports-due', text: '报送截止日期：' + fmtDate(r.due_on) + (r.ended ? '' : '（本季度尚未结束）') }),
      h('p', { id: 'reports-count', text: '已报送 ' + n('submitted') + ' 家，逾期未报送 ' + n('late') + ' 家，未到截止日期 ' + n('pending') + ' 家。' }),
      r.items.length
        ? h('ul', { class: 'queue', id: 'reports-list' }, r.items.map(hospitalItem))
        : h('p', { text: '本统筹区没有认定医院。' }));
    if (moved) title.focus();
  }

  await show(previous(quarterOf(cnToday())), false);
}
