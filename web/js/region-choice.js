// region-choice.js -- the region an admin looks at on the agency's pages
// that need exactly one (统计, 抽查审核, 病种目录, 复核申请): the API
// answers an admin without ?region= (or a body's region) 400
// field_required, and an agency's own region always wins (the API's
// scope: the agency never sends one, another region is a 404).  The
// choice is kept for the tab (sessionStorage) so every such page opens
// on it; the regions are those of the public figures (GET /stats/public:
// every region, no personal data).

import { api } from './api.js';
import { h, clear, field, formError, showError, busy, cnToday } from './ui.js';
import { session, go } from './app.js';

const KEY = 'mtcert.agency.region';

function isAdmin() {
  return session.me?.role === 'admin';
}

// The admin's chosen region, or null (an agency: its own, never sent).
export function chosenRegion() {
  return isAdmin() ? sessionStorage.getItem(KEY) : null;
}

// path with &region= (or ?region=) when an admin has chosen one.
export function withRegion(path) {
  const r = chosenRegion();
  if (!r) return path;
  return path + (path.includes('?') ? '&' : '?') + 'region=' + encodeURIComponent(r);
}

// A request body with the admin's region in it (an agency's unchanged).
export function regionBody(body) {
  const r = chosenRegion();
  return r ? { ...body, region: r } : body;
}

// The chooser: a select of every region and 切换; a choice redraws the
// page.  A failed load of the regions is shown in the form.
async function chooser() {
  const sel = h('select', { id: 'region-choice-select' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'region-choice-go' }, '查看该统筹区');
  const form = h('form', { class: 'card filters no-print', novalidate: true, role: 'search', id: 'region-choice',
    'aria-label': '选择统筹区' }, formError(),
    field('统筹区（管理员）', sel, 'region', '管理员查看哪个统筹区；经办机构只看本统筹区'),
    h('div', { class: 'actions' }, submit));
  const now = sessionStorage.getItem(KEY);
  try {
    const r = await api('GET', '/stats/public?month=' + cnToday().slice(0, 7));
    if (!now) sel.append(h('option', { value: '', text: '请选择' }));
    r.regions.forEach((x) => sel.append(h('option', { value: x.code, selected: x.code === now,
      text: x.name + '（' + x.code + '）' })));
  } catch (e) {
    if (e.status !== 401) showError(form, e);
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      if (!sel.value) { showError(form, { field: 'region', message: '请选择统筹区' }); return; }
      sessionStorage.setItem(KEY, sel.value);
      go(location.hash, '已切换到统筹区 ' + sel.selectedOptions[0].text);
    });
  });
  return form;
}

// For a page titled title that needs one region: { el, stop }.  An
// agency: no chooser, go on.  An admin: the chooser to put under the
// title; without a choice yet the page is the title, the chooser and a
// hint (stop: the page draws nothing else).
export async function regionGate(main, title) {
  if (!isAdmin()) return { el: null, stop: false };
  const el = await chooser();
  if (chosenRegion()) return { el, stop: false };
  clear(main).append(h('h1', { text: title }), el,
    h('p', { class: 'hint', id: 'region-needed', text: '这一页按统筹区查看。请先选择要查看的统筹区。' }));
  return { el, stop: true };
}
