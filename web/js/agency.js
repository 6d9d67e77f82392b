// agency.js -- the agency's supervision pages: the region's queue
// (submitted, in review, waiting for an expert, overdue against the
// working-day target).  The expert pool: experts.js.  Agency staff see
// their own region; the API scopes it.

import { api } from './api.js';
import { h, clear, busy, announce, button, fmtTime, fmtDate, statusBadge } from './ui.js';

const FILTERS = [
  ['open', '全部在办', {}],
  ['submitted', '已提交', { status: 'submitted' }],
  ['in_review', '认定中', { status: 'in_review' }],
  ['unassigned', '待分配专家', { status: 'unassigned' }],
  ['overdue', '超过办理时限', { overdue: 'true' }],
];
const PAGE = 200;   // the API's largest page

function query(params) {
  return Object.entries(params).map(([k, v]) => k + '=' + encodeURIComponent(v)).join('&');
}

let filter = 'open';

export async function agencyQueue(m, main) {
  const bar = h('div', { class: 'tabs', role: 'group', 'aria-label': '筛选' });
  const list = h('ul', { class: 'queue', id: 'queue' });
  const more = button('加载更多', null, 'btn btn-secondary', { hidden: true, id: 'queue-more' });
  clear(main).append(h('h1', { text: '申请队列' }),
    h('p', { class: 'hint', text: '本统筹区的在办申请。超过办理时限：已超过按工作日计算的预计认定日期仍无结论。' }),
    bar, list, more);

  // Counts per filter (one page each; "200+" beyond).  The page of the
  // filter shown first is also its list: not asked for twice.
  const counts = {};
  const firstPages = {};
  await Promise.all(FILTERS.map(async ([k, , p]) => {
    const r = await api('GET', '/agency/applications?' + query(Object.assign({ limit: PAGE }, p)));
    counts[k] = r.items.length + (r.next_cursor ? '+' : '');
    firstPages[k] = r;
  }));

  // Only the newest load draws: a slow answer for a filter already left
  // (or a 加载更多 of another filter) is dropped.
  let cursor = null;
  let loads = 0;
  async function load(reset) {
    const mine = ++loads;
    const p = Object.assign({ limit: PAGE }, FILTERS.find((f) => f[0] === filter)[2]);
    if (!reset && cursor) p.cursor = cursor;
    // A filter's first drawing is the page behind its count (they agree);
    // later ones ask again.
    let r = reset ? firstPages[filter] : null;
    delete firstPages[filter];
    try {
      if (!r) r = await api('GET', '/agency/applications?' + query(p));
    } catch (e) {
      if (mine === loads && e.status !== 401) announce(e.message, true);
      return;
    }
    if (mine !== loads) return;
    if (reset) clear(list);
    if (reset && !r.items.length) list.append(h('li', { class: 'card', text: '没有符合条件的申请' }));
    r.items.forEach((a) => list.append(h('li', { class: 'card' + (a.overdue ? ' overdue' : ''), 'data-app': a.id },
      h('div', { class: 'app-head' },
        h('strong', { class: 'app-disease', text: a.disease.name }),
        statusBadge(a.status),
        a.overdue ? h('span', { class: 'badge badge-overdue', text: '已超期' }) : null,
        a.stuck ? h('span', { class: 'badge badge-overdue', text: '长时间无可分配专家' }) : null),
      h('p', { text: '申请编号 ' + a.id + ' · ' + a.applicant.name + '（' + a.applicant.id_number + '）' }),
      h('p', { class: 'hint', text: '提交于 ' + fmtTime(a.submitted_at) +
        (a.expected_decision_date ? ' · 预计认定日期 ' + fmtDate(a.expected_decision_date) : '') +
        (a.unassigned_since ? ' · 自 ' + fmtTime(a.unassigned_since) + ' 起无可分配专家' : '') }))));
    cursor = r.next_cursor;
    more.hidden = !cursor;
  }
  more.addEventListener('click', () => busy(more, () => load(false)));
  // Made once; a click changes aria-pressed only (the focus stays).
  const buttons = FILTERS.map(([k, name]) => button(name + '（' + counts[k] + '）', () => {
    filter = k;
    buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(FILTERS[i][0] === filter)));
    load(true);
  }, 'tab', { 'aria-pressed': String(filter === k), id: 'filter-' + k }));
  bar.append(...buttons);
  await load(true);
}
