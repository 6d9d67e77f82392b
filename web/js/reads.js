// reads.js -- 谁查阅了我的材料 on the person's progress page (issue 15,
// PIPL art. 45): each logged read of the application and its materials,
// newest first, a page at a time (GET /applications/{id}/reads): when,
// who by role, their hospital or agency.  An expert shows as 认定专家
// alone: the review is blind, the server sends no name or institution.

import { api } from './api.js';
import { h, button, busy, fmtTime } from './ui.js';

const ROLE = {
  hospital: '医疗机构', agency: '医保经办机构', expert: '认定专家',
  insured: '家属代办人', admin: '系统管理员',
};
const OBJECT = { application: '申请', material: '材料', certification: '认定表' };
const ACTION = { read: '查看', download: '下载', export: '导出' };

// Who read, in words: 本人, or the role and the hospital or agency.
function reader(r) {
  if (r.self) return '本人';
  const inst = r.institution;
  if (!inst) return ROLE[r.role] || r.role;
  return ROLE[r.role] + '：' + inst.name + (r.role === 'agency' ? '医疗保障部门' : '');
}

function row(r) {
  return h('li', { 'data-role': r.role },
    h('time', { datetime: r.at, text: fmtTime(r.at) }),
    h('span', { class: 'reader', text: reader(r) }),
    h('span', { text: (ACTION[r.action] || r.action) + '了' +
      (OBJECT[r.object_type] || r.object_type) + (r.object_type === 'material' ? '（编号 ' + r.object_id + '）' : '') }));
}

// The section for application id: its first page now, 加载更多 for the rest.
export function readsSection(id) {
  const list = h('ol', { class: 'timeline', id: 'reads' });
  const empty = h('p', { class: 'hint', id: 'reads-empty', hidden: true, text: '还没有人查阅过您的申请和材料。' });
  const more = button('加载更多', null, 'btn btn-secondary', { hidden: true, id: 'reads-more' });
  let cursor = null;
  async function load() {
    const r = await api('GET', '/applications/' + id + '/reads?limit=20' +
      (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    list.append(...r.items.map(row));
    cursor = r.next_cursor;
    more.hidden = !cursor;
    empty.hidden = list.childElementCount > 0;
  }
  more.onclick = () => busy(more, load);
  load().catch(() => { empty.hidden = false; empty.textContent = '查阅记录暂时无法显示，请稍后再试。'; });
  return h('section', { id: 'reads-section' },
    h('h2', { text: '谁查阅了我的材料' }),
    h('p', { class: 'hint', text: '医院、医保经办机构和认定专家每次查看或下载您的申请和材料都有记录。认定专家不显示姓名和单位（盲审）。' }),
    list, empty, more);
}
