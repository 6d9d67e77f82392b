// returns.js -- the returned state in the portal (issue 12, R-APP-8,
// S3 第七条 一次性告知): the expert's third verdict 退回补充材料 with the
// kinds to add, and on the applicant's progress page what to add and the
// last day to resubmit.

import { api } from './api.js';
import { h, fmtDate } from './ui.js';

const VERDICT = { approve: '予以认定', reject: '不予认定', return: '退回补充材料' };

// An expert's verdict in words (a done task).
export function verdictName(d) { return VERDICT[d] || d; }

// The decision form's third choice: the radio with its label, and the
// box of the disease's material kinds as checkboxes, shown while the
// choice is made; missing() gives the ticked kinds.
export function returnChoice(t) {
  const radio = h('input', { type: 'radio', name: 'decision', value: 'return', id: 'd-return' });
  const list = h('div', { class: 'kinds' });
  const box = h('fieldset', { 'data-field': 'missing', class: 'field', hidden: true },
    h('legend', { text: '需补充的材料（可多选；每件申请只能退回一次，请一次列全）' }), list,
    h('p', { class: 'field-error', 'aria-live': 'polite' }));
  // The region's own list (an agency may override the national one).
  const region = t.application && t.application.region;
  api('GET', '/diseases/' + encodeURIComponent(t.disease.code) +
    (region ? '?region=' + encodeURIComponent(region) : '')).then((d) => {
    list.append(...d.required_materials.map((m, i) => h('div', { class: 'check' },
      h('input', { type: 'checkbox', value: m.kind, id: 'k-' + i }),
      h('label', { for: 'k-' + i, text: m.name }))));
  }).catch(() => {
    list.append(h('p', { class: 'field-error', text: '材料清单没有加载成功，请刷新页面后重试。' }));
  });
  const missing = () => [...list.querySelectorAll('input:checked')].map((c) => c.value);
  const choice = h('div', { class: 'check' }, radio,
    h('label', { for: 'd-return', text: '退回补充材料' }));
  return { radio, choice, box, missing };
}

// The applicant's notice while returned: what to add and by when (null
// otherwise).
export function returnedNotice(a) {
  if (!a.returned) return null;
  const r = a.returned;
  return h('section', { class: 'card warn', id: 'returned' },
    h('h2', { text: '材料不全，请补充后重新提交' }),
    h('p', {}, '请在 ', h('strong', { text: fmtDate(r.resubmit_by) }),
      ' 前（含当天）补齐下列材料并重新提交，逾期申请将被撤回：'),
    h('ul', { class: 'missing-kinds' }, r.kinds.map((k) => h('li', { text: k.name }))),
    h('p', { text: '认定专家的说明：' + r.note }));
}
