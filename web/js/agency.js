// agency.js -- the agency's supervision pages: the region's queue
// (submitted, in review, waiting for an expert, overdue against the
// working-day target) and the expert pool (status, consecutive misses,
// reinstate).  Agency staff see their own region; the API scopes it.

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

const EXPERT_STATUS = { active: '在库', disqualified: '已取消资格', suspended: '暂停' };

function expertItem(e) {
  const li = h('li', { class: 'card', 'data-expert': e.id });
  const render = (x) => {
    clear(li).append(
      h('div', { class: 'app-head' },
        h('strong', { text: x.login, tabindex: '-1' }),
        h('span', { class: 'badge badge-expert-' + x.status, text: EXPERT_STATUS[x.status] || x.status })),
      h('p', { text: x.institution.name + ' · ' + x.title + ' · ' + x.specialties.join('、') }),
      h('p', { class: 'hint' }, '连续未受理 ', h('strong', { class: 'misses', text: String(x.consecutive_misses) }), ' 次 · 状态变更于 ' + fmtTime(x.status_changed_at)));
    if (x.status !== 'active') {
      const b = button('恢复资格', () => busy(b, async () => {
        try {
          const y = await api('POST', '/agency/experts/' + x.id + '/reinstate');
          announce('已恢复 ' + x.login + ' 的专家资格');
          render(y);
          li.querySelector('strong').focus();
        } catch (err) { announce(err.message, true); }
      }), 'btn btn-primary btn-small', { 'data-action': 'reinstate' });
      li.append(h('div', { class: 'actions' }, b));
    }
  };
  render(e);
  return li;
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
  clear(main).append(h('h1', { text: '专家库' }),
    h('p', { class: 'hint', text: '连续未在时限内受理达到规定次数的专家自动取消资格，可在核实后恢复。' }),
    list, more);
  if (!r.items.length) list.append(h('li', { class: 'card', text: '本统筹区还没有认定专家' }));
  for (const e of r.items) list.append(expertItem(e));
}
