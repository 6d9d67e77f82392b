// agency-apps.js -- the agency's 申请查询 (issue 12 item 8): every
// application of the region, open and decided, by status, found by its
// number (or the person's whole ID number or phone), a page at a time;
// and the trail of one application (R-SUP-7, S0 四(二)) that the archive
// page (confirm.js) shows: who was drawn from how many, who accepted,
// refused, missed, decided and when, each draw's pool and seed in a
// block to open, and the materials as links.  The API scopes everything
// to the agency's region (another region's number finds nothing).

import { api, fileUrl } from './api.js';
import { h, clear, field, busy, announce, button, fmtTime, fmtDate, statusBadge, formError, clearErrors, showError } from './ui.js';

const PAGE = 50;
const SCOPES = [
  ['open', '在办（已提交、认定中）'], ['decided', '已办结（通过、未通过）'], ['any', '全部'],
  ['unassigned', '待分配专家'], ['returned', '退回补充材料'], ['approved', '已通过'], ['rejected', '未通过'],
  ['withdrawn', '已撤回'],
];
// The objection filter (GET /agency/applications?objection=, R-CER-12).
const OBJECTIONS = [
  ['', '不限'], ['open', '有未结复核申请'], ['decided', '复核已作出结论'], ['withdrawn', '复核已撤回'], ['any', '有过复核申请'],
];
const ROLE = { insured: '参保人', hospital: '医院', expert: '专家', agency: '医保经办机构', admin: '管理员', system: '系统' };
const KIND = {
  draw: '随机抽取', pushed: '推送', accepted: '受理', refused: '拒绝受理', expired: '超时未受理',
  cancelled: '取消', decided: '作出意见',
};

function item(a) {
  return h('li', { class: 'card', 'data-app': a.id },
    h('div', { class: 'app-head' },
      h('strong', { class: 'app-disease', text: a.disease.name }), statusBadge(a.status),
      a.overdue && ['submitted', 'in_review', 'unassigned'].includes(a.status)
        ? h('span', { class: 'badge badge-overdue', text: '已超期' }) : null),
    h('p', { text: '申请编号 ' + a.id + ' · ' + a.applicant.name + '（' + a.applicant.id_number + '）' }),
    h('p', { class: 'hint', text: a.submitted_at ? '提交于 ' + fmtTime(a.submitted_at) : '尚未提交' }),
    h('p', {}, h('a', { class: 'btn btn-secondary', href: '#/agency/applications/' + a.id,
      text: '查看轨迹与材料', 'aria-label': '查看轨迹与材料（申请编号 ' + a.id + '）' })));
}

// #/agency/applications: the search form (number, status), the list and
// 加载更多.  The server's 400 (a number it cannot take) shows beside the
// box; a failed load is announced and the list kept.
export async function agencyApplications(m, main) {
  const q = h('input', { type: 'search', inputmode: 'numeric', maxlength: 18, autocomplete: 'off', id: 'apps-q' });
  const scope = h('select', { id: 'apps-status' }, SCOPES.map(([v, t]) => h('option', { value: v, text: t })));
  const objection = h('select', { id: 'apps-objection' }, OBJECTIONS.map(([v, t]) => h('option', { value: v, text: t })));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'apps-search' }, '查询');
  const form = h('form', { class: 'form card', novalidate: true, role: 'search', id: 'apps-form' }, formError(),
    field('申请编号', q, 'q', '也可输入参保人完整的身份证号码或手机号码；按编号查找时不论状态'),
    field('申请状态', scope, 'status'),
    field('复核申请', objection, 'objection', '按复核申请筛选时不论申请状态（除非另选状态）'), submit);
  const summary = h('p', { id: 'apps-summary', 'aria-live': 'polite' });
  const list = h('ul', { class: 'queue', id: 'apps-list' });
  const more = button('加载更多', null, 'btn btn-secondary', { hidden: true, id: 'apps-more' });
  clear(main).append(h('h1', { text: '申请查询' }),
    h('p', { class: 'hint', text: '本统筹区的全部申请，包括在办和已办结的。点“查看轨迹与材料”可看到专家抽取、受理、意见的全过程。' }),
    form, summary, list, more);
  let cursor = null;
  let shown = 0;
  let loads = 0;
  // The search of the last 查询: 加载更多 pages through it even when the
  // box or the select changed since.
  let last = null;
  async function load(reset) {
    const mine = ++loads;
    if (reset) {
      last = { text: q.value.trim().toUpperCase(), status: scope.value, objection: objection.value };
    }
    const p = new URLSearchParams({ limit: String(PAGE) });
    const text = last.text;
    if (text) p.set('q', text);
    if (last.objection) p.set('objection', last.objection);
    if ((!text && !last.objection) || last.status !== 'open') p.set('status', last.status);
    if (!reset && cursor) p.set('cursor', cursor);
    let r;
    try {
      r = await api('GET', '/agency/applications?' + p.toString());
    } catch (e) {
      if (mine !== loads) return;
      if (['q', 'status', 'objection'].includes(e.field)) showError(form, e);
      else if (e.status !== 401) announce(e.message, true);
      return;
    }
    if (mine !== loads) return;
    if (reset) { clear(list); shown = 0; }
    r.items.forEach((a) => list.append(item(a)));
    shown += r.items.length;
    cursor = r.next_cursor;
    more.hidden = !cursor;
    summary.textContent = shown ? '已列出 ' + shown + ' 份申请' + (cursor ? '，还有更多' : '')
      : (text ? '没有找到编号为 ' + text + ' 的申请（只能查到本统筹区的申请）' : '没有符合条件的申请');
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const text = q.value.trim().toUpperCase();
    if (text && !/^([0-9]{1,18}|[0-9]{17}X)$/.test(text)) {
      showError(form, { field: 'q', message: '请输入数字的申请编号，或完整的身份证号码、手机号码' });
      return;
    }
    busy(submit, () => load(true));
  });
  more.addEventListener('click', () => busy(more, () => load(false)));
  await load(true);
}

function actorText(a) {
  const who = ROLE[a.role] || a.role;
  if (!a.name) return who;
  return who + ' ' + a.name + (a.institution ? '（' + a.institution.name + '）' : '');
}

// A draw's record, to recompute by hand (docs/draws.md): the rule, the
// seed, the sorted pool with each expert, the chosen in draw order.
function drawDetails(d) {
  const seed = h('code', { text: d.seed });
  seed.style.overflowWrap = 'anywhere';
  // "monospace" twice: a lone generic monospace shrinks to 13/16 (the
  // 18 px minimum of old eyes).
  seed.style.fontFamily = 'monospace, monospace';
  return h('details', { class: 'token', 'data-draw': d.draw },
    h('summary', { text: '候选名单与随机种子（可复算）' }),
    h('p', { text: '抽取编号 ' + d.draw + ' · 规则 ' + d.rule + ' · 抽取 ' + d.k + ' 名' }),
    h('p', {}, '随机种子：', seed),
    h('p', { text: '候选专家（按编号从小到大，共 ' + d.pool_size + ' 名）：' }),
    h('ul', { class: 'plain' }, d.pool.map((e, i) => h('li', {
      text: '位置 ' + i + ' · 编号 ' + e.id + ' · ' + e.name + (e.hospital ? '（' + e.hospital.name + '）' : ''),
    }))),
    h('p', { text: '抽中：' + d.chosen.map((e) => e.name + '（编号 ' + e.id + '）').join('、') }),
    h('p', { class: 'hint', text: '复算方法：随机种子后接 8 字节的块号（0、1、2……）做 SHA-256，得到的字节每 4 个读作一个数（高位在前）；' +
      '要在 m 个中取一个时，丢掉不小于 2³² − (2³² mod m) 的数，其余取除以 m 的余数；对按编号排好的候选名单，' +
      '第 j 次（从 0 起）在位置 j 到末尾之间取一个与位置 j 交换，取前 ' + d.k + ' 个。' +
      '系统文档 docs/draws.md 有算例；mtcertctl draw verify 可逐一复算。' }));
}

// The whole trail as a timeline: each step with its time, who, what
// (the stage named where it has one); a draw with its block.
export function trailSection(trail) {
  return h('section', { class: 'card', id: 'trail', 'aria-labelledby': 'trail-h' },
    h('h2', { id: 'trail-h', text: '办理轨迹（' + trail.length + ' 步）' }),
    h('p', { class: 'hint', text: '按时间先后列出每一次随机抽取、每位专家的推送、受理、拒绝、超时和意见，以及申请的其他每一步。' }),
    h('ol', { class: 'timeline', id: 'trail-list' }, trail.map((t) => h('li', { 'data-kind': t.kind },
      h('time', { datetime: t.at, text: fmtTime(t.at) }),
      h('span', { text: (t.stage ? '第 ' + t.stage + ' 阶段 · ' : '') + (KIND[t.kind] ? KIND[t.kind] + ' · ' : '') +
        actorText(t.actor) + '：' + t.text }),
      t.kind === 'draw' && t.data.pool ? drawDetails(t.data) : null))));
}

// The materials as links (each opens the file; the opening is logged).
export function materialLinks(materials) {
  return h('section', { class: 'card', id: 'material-links', 'aria-labelledby': 'ml-h' },
    h('h2', { id: 'ml-h', text: '申请材料（' + materials.length + ' 份）' }),
    materials.length ? h('ul', { class: 'plain' }, materials.map((x) => h('li', {},
      h('a', { href: fileUrl(x.id), target: '_blank', rel: 'noopener', text: x.name + '（在新窗口打开）' }),
      x.issued_on ? ' · 出具日期 ' + fmtDate(x.issued_on) : '',
      x.uploaded_at ? ' · 上传于 ' + fmtTime(x.uploaded_at) : '')))
      : h('p', { text: '没有材料' }));
}
