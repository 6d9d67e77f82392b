// quarterly-review.js -- the quarterly review, 双随机一公开 (复核; R-SUP-2,
// S2 三: each quarter experts drawn at random from the pool review cases
// drawn at random, and the results are published):
//   agency  #/agency/reviews        the reviews with their counts, and
//                                   抽取 an ended quarter now
//           #/agency/reviews/N      one review: reviewers (named), every
//                                   case with its result and note
//   expert  #/expert/reviews        the cases given to me (blind), 同意 /
//                                   不同意 (a reason is required)
//   anyone  #/reviews/public        the published counts of a region
// The API: POST|GET /agency/reviews, GET /agency/reviews/{id},
// GET /expert/reviews, POST /expert/reviews/{id}/result, GET /reviews/public.

import { api, fileUrl } from './api.js';
import { h, clear, field, formError, showError, clearErrors, announce, busy, button, fmtTime, fmtDate, cnToday } from './ui.js';

// "2026Q3" -> "2026年第3季度".
function quarterText(q) {
  return q.slice(0, 4) + '年第' + Number(q.slice(5)) + '季度';
}

// The quarters that have ended, the last one first (eight of them).
function endedQuarters() {
  const d = cnToday();
  let y = Number(d.slice(0, 4));
  let n = Math.floor((Number(d.slice(5, 7)) - 1) / 3) + 1;
  const qs = [];
  for (let i = 0; i < 8; i++) {
    n -= 1;
    if (n === 0) { n = 4; y -= 1; }
    qs.push(y + 'Q' + n);
  }
  return qs;
}

const DECISION = { approved: '认定通过', rejected: '不予认定' };
const RESULT = { agree: '✔ 同意原结论', disagree: '✖ 不同意原结论' };

// The counts as a table (screen readers read it as one).
function countsTable(c, id) {
  const rows = [['该季度办结的申请', c.population], ['随机抽取的病例', c.cases_drawn],
    ['已复核', c.reviewed], ['同意原结论', c.agree], ['不同意原结论', c.disagree],
    ['待复核', c.pending], ['随机抽取的专家', c.reviewers]];
  return h('table', { class: 'report-table', id },
    h('caption', { text: '复核情况统计' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: '项目' }), h('th', { scope: 'col', text: '数量' }))),
    h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('th', { scope: 'row', text: k }), h('td', { text: String(v) })))));
}

// ------------------------------------------------ agency: 季度复核

function reviewItem(r) {
  const c = r.counts;
  return h('li', { class: 'card', 'data-review': r.id },
    h('div', { class: 'app-head' },
      h('a', { href: '#/agency/reviews/' + r.id, class: 'app-disease', text: quarterText(r.quarter) + '复核' }),
      h('span', { class: 'tag', text: r.drawn_by === 'schedule' ? '按抽取日自动抽取' : '经办机构抽取' })),
    h('p', { text: '抽取时间：' + fmtTime(r.drawn_at) }),
    h('p', { text: '抽取病例 ' + c.cases_drawn + ' 例，已复核 ' + c.reviewed + ' 例（同意 ' + c.agree + '，不同意 ' + c.disagree + '），待复核 ' + c.pending + ' 例；专家 ' + c.reviewers + ' 名。' }));
}

export async function agencyReviews(m, main) {
  const sel = h('select', {}, endedQuarters().map((q) => h('option', { value: q, text: quarterText(q) })));
  const go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'review-draw' }, '随机抽取');
  const form = h('form', { class: 'card form', novalidate: true, 'aria-labelledby': 'draw-title' },
    h('h2', { id: 'draw-title', text: '提前抽取一个季度' }),
    h('p', { class: 'hint', text: '到了抽取日系统会自动抽取；需要提前时在此抽取。每个季度只能抽取一次。' }),
    formError(), field('季度', sel, 'quarter'), h('div', { class: 'actions' }, go));
  const list = h('div', { id: 'reviews' });
  clear(main).append(h('h1', { text: '季度复核' }),
    h('p', { class: 'lead', text: '按“双随机，一公开”原则，每季度从专家库随机抽取专家，对上季度办结的申请随机抽取病例复核。' }),
    list, form);

  async function show() {
    let r;
    try { r = await api('GET', '/agency/reviews'); } catch (e) {
      if (e.status !== 401) showError(form, e);
      return;
    }
    const s = r.schedule;
    // No schedule (an admin: no region of one) leaves nothing, not "null".
    clear(list).append(...[
      s ? h('p', { id: 'reviews-schedule', text: s.day > 0
        ? '抽取日：每季度第一个月的 ' + s.day + ' 日；抽取专家 ' + s.reviewers + ' 名，病例比例 ' + s.rate_percent + '%（至少 1 例）。'
        : '本统筹区尚未设定抽取日（政策 quarterly_review_day 为 0），需要时请在下方抽取。' }) : null,
      r.items.length ? h('ul', { class: 'queue', id: 'reviews-list' }, r.items.map(reviewItem))
        : h('p', { class: 'card', id: 'reviews-empty', text: '还没有季度复核。' })].filter(Boolean));
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(go, async () => {
      clearErrors(form);
      try {
        const r = await api('POST', '/agency/reviews', { quarter: sel.value });
        announce('已抽取' + quarterText(r.quarter) + '的复核专家和病例。');
        location.hash = '#/agency/reviews/' + r.id;
      } catch (e) {
        if (e.status !== 401) showError(form, e);
      }
    });
  });
  await show();
}

function caseRow(c) {
  const cells = [String(c.seq), String(c.application_id), c.disease.name, DECISION[c.decision] || c.decision,
    c.reviewer ? c.reviewer.name : '未分配（抽中的专家都认定过此申请）',
    c.result ? RESULT[c.result] : '待复核', c.note || ''];
  const cols = ['序号', '申请编号', '病种', '原结论', '复核专家', '复核结论', '意见'];
  return h('tr', { 'data-case': c.id }, cells.map((t, k) => k === 1
    ? h('td', { 'data-label': cols[k] }, h('a', { href: '#/agency/applications/' + c.application_id, text: t }))
    : h('td', { 'data-label': cols[k], text: t })));
}

export async function agencyReview(id, main) {
  let r;
  try { r = await api('GET', '/agency/reviews/' + encodeURIComponent(id)); } catch (e) {
    if (e.status === 401) return;
    clear(main).append(h('h1', { text: '季度复核' }), h('p', { class: 'card', role: 'alert', text: e.message }),
      h('a', { href: '#/agency/reviews', text: '返回季度复核' }));
    return;
  }
  const cols = ['序号', '申请编号', '病种', '原结论', '复核专家', '复核结论', '意见'];
  clear(main).append(h('h1', { text: quarterText(r.quarter) + '复核' }),
    h('p', { text: '统计期间：' + fmtDate(r.from) + ' 至 ' + fmtDate(r.to) + '；抽取时间：' + fmtTime(r.drawn_at) + '。' }),
    h('p', { class: 'hint', text: '专家不同意时原结论不变：请打开该申请的档案核查，确属不符合条件的可在“待遇资格”中终止其待遇。' }),
    countsTable(r.counts, 'review-counts'),
    h('h2', { text: '抽中的专家（按抽取顺序）' }),
    h('ol', { id: 'review-reviewers' }, r.reviewers.map((x) => h('li', { text: x.name }))),
    h('h2', { text: '抽中的病例（按抽取顺序）' }),
    r.cases.length
      ? h('table', { class: 'report-table', id: 'review-cases' },
        h('caption', { text: '病例与复核结论' }),
        h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
        h('tbody', {}, r.cases.map(caseRow)))
      : h('p', { class: 'card', text: '该季度没有办结的申请，没有抽取病例。' }),
    h('p', {}, h('a', { href: '#/agency/reviews', text: '返回季度复核' })));
}

// ------------------------------------------------ expert: 复核病例

function caseCard(c) {
  const note = h('textarea', { rows: 3, maxlength: 2000 });
  const err = formError();
  const agree = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'agree' }, '同意原结论');
  const disagree = h('button', { type: 'button', class: 'btn btn-secondary', 'data-action': 'disagree' }, '不同意');
  const result = h('p', { class: 'review-result', tabindex: '-1', text: c.result ? '我的结论：' + RESULT[c.result] + (c.note ? '。意见：' + c.note : '') : '' });
  const form = h('form', { class: 'form', novalidate: true, hidden: !!c.result, 'aria-label': '复核结论' }, err,
    field('复核意见（不同意时必须填写理由）', note, 'note'), h('div', { class: 'actions' }, agree, disagree));
  const send = (btn, verdict) => busy(btn, async () => {
    clearErrors(form);
    if (verdict === 'disagree' && !note.value.trim()) {
      showError(form, { message: '不同意时请写明理由', field: 'note' });
      return;
    }
    try {
      const r = await api('POST', '/expert/reviews/' + c.id + '/result',
        note.value.trim() ? { result: verdict, note: note.value.trim() } : { result: verdict });
      form.hidden = true;
      result.textContent = '我的结论：' + RESULT[r.result] + (r.note ? '。意见：' + r.note : '');
      announce('复核结论已提交。');
      result.focus();
    } catch (e) {
      if (e.status !== 401) showError(form, e);
    }
  });
  agree.addEventListener('click', () => send(agree, 'agree'));
  disagree.addEventListener('click', () => send(disagree, 'disagree'));
  const a = c.application;
  return h('li', { class: 'card', 'data-case': c.id },
    h('div', { class: 'app-head' }, h('strong', { class: 'app-disease', text: c.disease.name }),
      h('span', { class: 'tag', text: quarterText(c.quarter) })),
    h('p', { text: '申请人：' + (a.sex === 'F' ? '女' : a.sex === 'M' ? '男' : a.sex) + '，' + a.age_band + ' 岁' }),
    h('p', { text: '原结论：' + (DECISION[c.decision] || c.decision) + '（' + fmtTime(c.decided_at) + '）' }),
    c.materials.length ? h('ul', { class: 'materials' }, c.materials.map((x) => h('li', {},
      h('a', { href: fileUrl(x.id), target: '_blank', rel: 'noopener', text: x.name + (x.issued_on ? '（' + fmtDate(x.issued_on) + '）' : '') })))) : null,
    result, form);
}

export async function expertReviews(m, main) {
  const list = h('div', { id: 'review-cases' });
  clear(main).append(h('h1', { text: '复核病例' }),
    h('p', { class: 'lead', text: '您被随机抽中参加季度复核。请查看材料，对原认定结论给出同意或不同意的意见。' }), list);
  let r;
  try { r = await api('GET', '/expert/reviews'); } catch (e) {
    if (e.status !== 401) list.append(h('p', { class: 'card', role: 'alert', text: e.message }));
    return;
  }
  list.append(r.items.length ? h('ul', { class: 'task-list' }, r.items.map(caseCard))
    : h('p', { class: 'card', id: 'review-none', text: '目前没有分配给您的复核病例。' }));
}

// ------------------------------------------------ public: 复核结果公开

export async function publicReviews(m, main) {
  const region = h('input', { type: 'text', inputmode: 'numeric', maxlength: 6, autocomplete: 'off', value: m[1] || '' });
  const go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'public-show' }, '查询');
  const form = h('form', { class: 'card form', novalidate: true, role: 'search', 'aria-label': '选择统筹区' },
    formError(), field('统筹区代码（6 位数字，如太原市 140100）', region, 'region'), h('div', { class: 'actions' }, go));
  const box = h('div', { id: 'public-review' });
  clear(main).append(h('h1', { text: '季度复核结果公开' }),
    h('p', { class: 'lead', text: '医保经办机构每季度随机抽取专家，对随机抽取的认定病例进行复核。这里公开复核的统计数，不含任何个人信息。' }),
    form, box);

  async function show(quarter, moved) {
    clearErrors(form);
    if (!/^[1-9][0-9]{5}$/.test(region.value.trim())) {
      showError(form, { message: '请填写 6 位数字的统筹区代码', field: 'region' });
      return;
    }
    let r;
    try {
      r = await api('GET', '/reviews/public?region=' + encodeURIComponent(region.value.trim()) +
        (quarter ? '&quarter=' + encodeURIComponent(quarter) : ''));
    } catch (e) {
      clear(box);
      showError(form, e);
      return;
    }
    const pick = h('select', {}, r.quarters.map((q) => h('option', { value: q, text: quarterText(q) })));
    pick.value = r.quarter;
    pick.addEventListener('change', () => show(pick.value, true));
    const title = h('h2', { id: 'public-title', tabindex: '-1', text: r.region.name + ' ' + quarterText(r.quarter) + '复核' });
    clear(box).append(h('section', { class: 'card', 'aria-labelledby': 'public-title' }, title,
      field('其他季度', pick, 'quarter'),
      h('p', { text: '统计期间：' + fmtDate(r.from) + ' 至 ' + fmtDate(r.to) + '；抽取日期：' + fmtDate(r.drawn_on) + '；病例抽取比例 ' + r.rate_percent + '%。' }),
      countsTable(r.counts, 'public-counts')));
    if (moved) title.focus();
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(go, () => show(null, true)); });
  if (region.value) await show(null, false);
}
