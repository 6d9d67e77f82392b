// benefit.js -- the benefit after the decision (issue 10): the insured
// person's 我的待遇, 电子凭证, 打印告知书, 变更定点医院 and 退出待遇; hospital
// staff's 核验凭证; the agency's 待遇资格 list with its terminate form and
// the region's contact (the footer of every page).  Every qualification
// comes in the one shape of qualification_json (sql/fn/50_benefit.sql).

import { api, allPages, designatedHospitals, qrUrl } from './api.js';
import {
  h, clear, field, clearErrors, showError, formError, busy, announce, button,
  fmtDate, qualBadge, QUAL_STATUS, cnToday,
} from './ui.js';
import { session, go, renderFooter } from './app.js';

// The exit reasons the agency may give (R-BEN-5, S3 第十九条); a voluntary
// exit is the person's own page.
const AGENCY_REASONS = [
  ['cured', '已治愈'], ['violation', '违规享受待遇'], ['death', '参保人死亡'],
  ['expired', '待遇期满未接续'], ['audit_failed', '抽审未通过'], ['other', '其他原因'],
];

// What a card that does not verify means, when the server gave no text.
const VERIFY_REASON = {
  malformed: '凭证编码不完整或格式不正确',
  unknown_key: '凭证不是由本系统签发的（签发密钥未知）',
  bad_signature: '凭证内容与签名不符，可能被篡改',
  not_found: '系统中没有这项待遇资格',
  ended: '该待遇资格已终止',
  not_yet_valid: '待遇尚未开始',
  superseded: '定点医院已变更，这是旧的凭证',
};

// A query string of the parameters that have a value.
function query(params) {
  return Object.entries(params).filter(([, v]) => v).map(([k, v]) => k + '=' + encodeURIComponent(v)).join('&');
}

function validity(q) { return fmtDate(q.valid_from) + ' 至 ' + fmtDate(q.valid_to); }

function holder(x) { return x.name + '（' + x.id_number + '）'; }

// An active benefit whose first day is still to come (a quota disease
// starts the 1st of next month, S0 三(一)).
function notBegun(q) { return q.status === 'active' && q.valid_from > cnToday(); }

function notBegunText(q) { return '尚未开始，自 ' + fmtDate(q.valid_from) + ' 起享受'; }

// The status badge; an active benefit not yet begun says so.
function badge(q) {
  if (!notBegun(q)) return qualBadge(q.status);
  return h('span', { class: 'badge badge-q-pending', text: '尚未开始' });
}

// Rows of a definition list; a null value leaves its row out (also the
// agency's archive, confirm.js).
export function rows(list) {
  return h('dl', { class: 'summary' }, list.filter((r) => r && r[1] !== null && r[1] !== undefined && r[1] !== '')
    .map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
}

// The facts of one qualification, in words.
function facts(q, withHolder) {
  const ended = q.status !== 'active';
  return rows([
    withHolder ? ['参保人', holder(q.holder)] : null,
    ['定点医疗机构', q.designated_institution.name],
    ['待遇有效期', validity(q)],
    ended || notBegun(q) ? null : ['剩余天数', '还有 ' + q.days_left + ' 天'],
    notBegun(q) ? ['待遇开始', notBegunText(q)] : null,
    q.renewed_count ? ['接续', '已自动接续 ' + q.renewed_count + ' 次'] : null,
    ended ? ['终止日期', fmtDate(q.ended_on)] : null,
    ended ? ['终止原因', q.end_reason_text] : null,
    ended ? ['说明', q.end_note] : null,
  ]);
}

// Every qualification of the signed-in person (every page of the list).
function ownQualifications() {
  return allPages('/qualifications?limit=100');
}

// One of the person's own qualifications; 未找到 otherwise.
async function ownQualification(id) {
  const q = (await ownQualifications()).find((x) => String(x.id) === String(id));
  if (!q) throw Object.assign(new Error('未找到该待遇资格'), { status: 404 });
  return q;
}

// An ended qualification offers nothing more to do: say so.
function notActive(main, title, q) {
  clear(main).append(h('h1', { text: title }),
    h('p', { class: 'card warn', id: 'not-active', text: '“' + q.disease.name + '”的待遇资格' +
      (QUAL_STATUS[q.status] || q.status) + '，不能再办理此项业务。' }),
    h('p', {}, h('a', { href: '#/benefits', text: '返回我的待遇' })));
}

// ------------------------------------------------------------- 我的待遇

export async function myBenefits(m, main) {
  const items = await ownQualifications();
  const anyActive = items.some((q) => q.status === 'active');
  clear(main).append(h('div', { class: 'title-row' },
    h('h1', { text: '我的待遇' }),
    anyActive ? h('a', { class: 'btn btn-secondary', href: '#/benefits/letter', id: 'to-letter', text: '打印告知书' }) : null));
  if (!items.length) {
    main.append(h('p', { class: 'card', text: '您还没有门诊慢特病待遇资格。认定通过后，待遇会显示在这里。' }));
    return;
  }
  main.append(h('p', { class: 'hint', text: '请在定点医疗机构就医，出示电子凭证或告知书享受门诊慢特病待遇。待遇到期前会以短信告知是否自动接续。' }),
    h('ul', { class: 'app-list', id: 'benefits' }, items.map((q) => h('li', { class: 'card', 'data-q': q.id },
      h('div', { class: 'app-head' }, h('h2', { class: 'app-disease', id: 'q-' + q.id, text: q.disease.name }), badge(q)),
      facts(q, false),
      q.status === 'active' ? h('div', { class: 'actions' },
        [['card', '电子凭证', 'btn btn-primary'], ['change', '变更定点医院', 'btn btn-secondary'], ['exit', '退出待遇', 'btn btn-secondary']]
          .map(([to, text, cls]) => h('a', { class: cls, href: '#/benefits/' + q.id + '/' + to, text, 'aria-describedby': 'q-' + q.id }))) : null))));
}

// ------------------------------------------------------------- 电子凭证

export async function card(id, main) {
  const c = await api('GET', '/qualifications/' + id + '/card');
  clear(main).append(h('h1', { text: '电子凭证' }),
    h('section', { class: 'card ecard', id: 'ecard', 'aria-labelledby': 'ecard-title' },
      h('h2', { id: 'ecard-title', text: c.disease.name }),
      rows([
        ['参保人', c.holder.name],
        ['证件号码', h('span', { class: 'mono', text: c.holder.id_number })],
        ['病种', c.disease.name],
        ['定点医疗机构', c.designated_institution.name],
        ['待遇有效期', validity(c)],
        ['状态', badge(c)],
        notBegun(c) ? ['待遇开始', notBegunText(c) + '，自这一天起可以使用本凭证就医'] : null,
      ]),
      h('figure', { class: 'qr' },
        h('img', { src: c.qr_svg, alt: '电子凭证二维码（' + c.disease.name + '）', id: 'qr', width: 320, height: 320 }),
        h('figcaption', { text: '请把手机屏幕亮度调高，将二维码对准医院的扫码设备。' })),
      h('details', { class: 'token' },
        h('summary', { text: '二维码扫不出来时：查看凭证编码' }),
        h('p', { class: 'hint', text: '医院工作人员可在“核验凭证”中输入这段编码。' }),
        h('p', { class: 'mono token-text', id: 'token', text: c.token }))),
    h('p', {}, h('a', { href: '#/benefits', text: '返回我的待遇' })));
}

// ------------------------------------------------------------ 打印告知书

// The notification letter (门诊慢特病待遇告知书, S1 附件, S0 附件, R-BEN-2):
// every disease the person holds now, with its hospital, validity and QR,
// the region's rules and its agency.  Printed on one A4 page (the print
// stylesheet in portal.css drops everything but .letter; denser above 3
// diseases, so that 6 with long hospital names still fit one page).
export async function letter(m, main) {
  const L = await api('GET', '/qualifications/letter');
  const r = L.region;
  clear(main).append(h('div', { class: 'actions no-print' },
    L.qualifications.length ? button('打印告知书', () => window.print(), 'btn btn-primary', { id: 'print' }) : null,
    h('a', { class: 'btn btn-secondary', href: '#/benefits', text: '返回我的待遇' })));
  // Above 3 diseases the print is denser (smaller QR, tighter rows) so
  // up to 6 fit one A4 page; more flow on with the table's head repeated.
  const doc = h('article', { class: 'letter' + (L.qualifications.length > 3 ? ' letter-many' : ''), id: 'letter' },
    h('h1', { text: '门诊慢特病待遇告知书' }),
    h('p', { class: 'letter-to' }, '参保人 ', h('strong', { text: L.person.name }),
      '（证件号码 ', h('span', { class: 'mono', text: L.person.id_number }), '）：'));
  main.append(doc);
  if (!L.qualifications.length) {
    doc.append(h('p', { id: 'letter-none', text: '您目前没有正在享受的门诊慢特病待遇。认定通过后可以在这里打印告知书。' }));
    return;
  }
  doc.append(h('p', { text: '经本人申请、医疗保障经办机构组织认定，您申报的下列病种符合门诊慢特病待遇办理条件，' +
      '在有效期内可到定点医疗机构享受门诊慢特病待遇。截至 ' + fmtDate(L.issued_on) + '，您享受待遇的病种共 ' +
      L.qualifications.length + ' 个：' }),
  h('table', { class: 'letter-table' },
    h('thead', {}, h('tr', {}, ['病种', '定点医疗机构', '待遇有效期', '电子凭证'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, L.qualifications.map((q) => h('tr', { 'data-q': q.id },
      h('td', { text: q.disease.name, 'data-label': '病种' }),
      h('td', { text: q.designated_institution.name, 'data-label': '定点医疗机构' }),
      h('td', { class: 'letter-valid', 'data-label': '待遇有效期' },
        h('span', { text: fmtDate(q.valid_from) }), ' ', h('span', { text: '至 ' + fmtDate(q.valid_to) })),
      h('td', { 'data-label': '电子凭证' }, h('img', { class: 'letter-qr', src: qrUrl(q.id), alt: q.disease.name + '的电子凭证二维码', width: 96, height: 96 })))))),
  h('h2', { text: '办理须知' }),
  h('ol', { class: 'letter-rules', id: 'letter-rules' }, L.rules.map((x) => h('li', {},
    h('strong', { text: x.title + '：' }), x.text))),
  h('div', { class: 'letter-end' },
  h('h2', { text: '经办机构' }),
  r.agency_name
    ? h('p', { class: 'letter-agency' }, r.agency_name + '（' + r.name + '）',
      r.hotline ? ' · 服务热线 ' + r.hotline : '', r.agency_address ? ' · 地址 ' + r.agency_address : '')
    : h('p', { class: 'letter-agency', text: '如有疑问，请向' + r.name + '医疗保障经办机构咨询。' }),
  h('p', { class: 'letter-date', text: '告知日期：' + fmtDate(L.issued_on) })));
}

// ---------------------------------------------------------- 变更定点医院

// The designated hospitals of the region that may treat the disease,
// other than the current one (every page of the list).
async function otherHospitals(q) {
  return (await designatedHospitals(q.region, q.disease.code))
    .filter((i) => i.code !== q.designated_institution.code);
}

// R-BEN-3: at most the region's limit a calendar year; how many are left
// is shown before anything is sent.
export async function changeHospital(id, main) {
  const q = await ownQualification(id);
  if (q.status !== 'active') { notActive(main, '变更定点医院', q); return; }
  const hospitals = q.changes_left > 0 ? await otherHospitals(q) : [];
  drawChange(main, q, hospitals);
}

// The page, after a change (changed) with what became of the old QR
// codes: a card or a printed letter verifies as superseded.
function drawChange(main, q, hospitals, changed) {
  clear(main).append(h('h1', { text: '变更定点医院', tabindex: '-1' }),
    changed ? h('section', { class: 'card success', id: 'change-done' },
      h('p', { text: '定点医院已变更为 ' + q.designated_institution.name + '。' }),
      h('p', { text: '原来的电子凭证和已打印的告知书上的二维码已经作废，医院核验时会显示“定点医院已变更，这是旧的凭证”。' +
        '电子凭证已自动更新；如需纸质告知书，请重新打印。' }),
      h('p', {}, h('a', { href: '#/benefits/letter', id: 'change-letter', text: '打印告知书' }))) : null,
    rows([['病种', q.disease.name], ['当前定点医院', h('strong', { id: 'current-hospital', text: q.designated_institution.name })]]));
  if (q.changes_left <= 0) {
    main.append(h('p', { class: 'card warn', id: 'changes-left', text: '本年度变更定点医院的次数已经用完，明年 1 月 1 日起可以再变更。' +
      '请继续在 ' + q.designated_institution.name + ' 就医。' }),
    h('p', {}, h('a', { href: '#/benefits', text: '返回我的待遇' })));
    return;
  }
  if (!hospitals.length) {
    main.append(h('p', { class: 'card info', id: 'changes-left', text: '本年度还可变更 ' + q.changes_left + ' 次，' +
      '但本统筹区暂时没有其他可以诊治该病种的定点医疗机构。' }),
    h('p', {}, h('a', { href: '#/benefits', text: '返回我的待遇' })));
    return;
  }
  const sel = h('select', {}, h('option', { value: '', text: '请选择新的定点医院' }),
    hospitals.map((i) => h('option', { value: i.code, text: i.name })));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'change-submit' }, '确认变更');
  const form = h('form', { class: 'form card', novalidate: true },
    formError(),
    field('新的定点医院', sel, 'institution', '只列出本统筹区可以诊治该病种的定点医疗机构'),
    h('p', { class: 'hint', text: '变更后，从今天起到新的医院就医，原来的电子凭证和已打印的告知书上的二维码作废，请出示新的电子凭证或重新打印告知书。变更会以短信通知您。' }),
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn btn-secondary', href: '#/benefits', text: '不变更，返回' })));
  main.append(h('p', { class: 'card info', id: 'changes-left' }, '本年度还可变更 ',
    h('strong', { text: String(q.changes_left) }), ' 次'), form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      if (!sel.value) { showError(form, { field: 'institution', message: '请选择新的定点医院' }); return; }
      try {
        const nq = await api('POST', '/qualifications/' + q.id + '/designated-institution', { institution: sel.value });
        drawChange(main, nq, nq.changes_left > 0 ? await otherHospitals(nq) : [], true);
        announce('定点医院已变更为 ' + nq.designated_institution.name + '。本年度还可变更 ' + nq.changes_left + ' 次。');
        main.querySelector('h1').focus();
      } catch (e) {
        // The limit is the whole request's refusal, not the field's.
        if (e.code === 'change_limit_reached') e.field = null;
        showError(form, e);
      }
    });
  });
}

// -------------------------------------------------------------- 退出待遇

// R-BEN-5: a voluntary exit with the signed promise; for a psychiatric
// disease the guardian signs (name and ID number).
export async function exitBenefit(id, main) {
  const q = await ownQualification(id);
  if (q.status !== 'active') { notActive(main, '退出待遇', q); return; }
  const d = await api('GET', '/diseases/' + encodeURIComponent(q.disease.code) + '?region=' + encodeURIComponent(q.region));
  const psychiatric = d.specialty === '精神';
  const gName = h('input', { type: 'text', maxlength: 32, autocomplete: 'off' });
  const gId = h('input', { type: 'text', maxlength: 18, autocomplete: 'off', class: 'mono' });
  const guardian = h('fieldset', { class: 'agent', id: 'guardian', hidden: !psychiatric },
    h('legend', { text: '监护人' }),
    h('p', { class: 'hint', text: '精神类疾病退出待遇须由监护人签署承诺。' }),
    field('监护人姓名', gName, 'guardian_name'),
    field('监护人身份证号码', gId, 'guardian_id_number'));
  const agree = h('input', { type: 'checkbox', id: 'exit-promise' });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger', id: 'exit-submit' }, '确认退出待遇');
  const form = h('form', { class: 'form', novalidate: true },
    formError(), guardian,
    h('div', { class: 'card promise-box', 'data-field': 'promise' },
      h('h2', { text: '承诺' }),
      h('div', { class: 'check' }, agree, h('label', { for: 'exit-promise',
        text: (psychiatric ? '我是参保人的监护人，代参保人' : '我') + '自愿申请退出“' + q.disease.name + '”的门诊慢特病待遇，已了解退出的后果。' })),
      h('p', { class: 'field-error', 'aria-live': 'polite' })),
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn btn-secondary', href: '#/benefits', text: '不退出，返回' })));
  clear(main).append(h('h1', { text: '退出待遇' }),
    rows([['病种', q.disease.name], ['定点医疗机构', q.designated_institution.name], ['待遇有效期', validity(q)]]),
    h('section', { class: 'card warn', id: 'exit-explain' },
      h('h2', { text: '退出前请您了解' }),
      h('ul', {},
        h('li', { text: notBegun(q)
          ? '“' + q.disease.name + '”的门诊慢特病待遇原定自 ' + fmtDate(q.valid_from) + ' 起享受；退出后，待遇将不再开始，看这个病的门诊费用不按慢特病报销。'
          : '退出后，从今天起不再享受“' + q.disease.name + '”的门诊慢特病待遇，看这个病的门诊费用不再按慢特病报销。' }),
        h('li', { text: '这个病种的电子凭证随即失效，医院扫码会显示“已终止”。' }),
        h('li', { text: '以后如果还需要这项待遇，要重新申请认定。' }),
        h('li', { text: '只退出这一个病种，您的其他病种待遇不受影响。' }))),
    form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      if (!agree.checked) { showError(form, { field: 'promise', message: '请先阅读并勾选承诺' }); return; }
      // Only what was typed: the server says what a psychiatric
      // disease still needs (guardian_required).
      const body = { promise: true };
      if (!guardian.hidden && gName.value.trim()) body.guardian_name = gName.value.trim();
      if (!guardian.hidden && gId.value.trim()) body.guardian_id_number = gId.value.trim().toUpperCase();
      try {
        const nq = await api('POST', '/qualifications/' + q.id + '/terminate', body);
        go('#/benefits', '已退出“' + nq.disease.name + '”的门诊慢特病待遇，自 ' + fmtDate(nq.ended_on) + ' 起终止。');
      } catch (e) {
        if (e.code === 'guardian_required') {
          guardian.hidden = false;
          if (!e.field) e.field = 'guardian_name';
        }
        showError(form, e);
      }
    });
  });
}

// -------------------------------------------------------------- 核验凭证

// The verdict: a valid card settles only at its designated hospital
// (R-BEN-3), so at another one the staff are told so.
function verifyResult(r, mine) {
  const out = [];
  const here = r.current && r.current.designated_institution;
  if (r.valid && mine && here && here.code !== mine) {
    out.push(h('div', { class: 'card warn verdict', id: 'verdict' },
      h('h2', { text: '凭证有效，但不是本院的定点' }),
      h('p', { id: 'verdict-reason', text: '凭证有效，但定点医院是 ' + here.name + '，不是本院，不能在本院按门诊慢特病待遇结算。' })));
  } else if (r.valid) {
    out.push(h('div', { class: 'card success verdict', id: 'verdict' },
      h('h2', { text: '凭证有效' }),
      h('p', { text: '可以按门诊慢特病待遇结算。' })));
  } else {
    out.push(h('div', { class: 'card warn verdict', id: 'verdict' },
      h('h2', { text: '凭证无效' }),
      h('p', { id: 'verdict-reason', text: r.reason_text || VERIFY_REASON[r.reason] || '凭证不能使用' })));
  }
  if (r.genuine && r.card) {
    const c = r.card;
    out.push(h('h3', { text: '凭证上的信息' }), rows([
      ['参保人', holder(c.holder)],
      ['病种', c.disease.name],
      ['定点医疗机构', c.designated_institution.name],
      ['待遇有效期', validity(c)],
    ]));
  }
  if (r.current) {
    const x = r.current;
    out.push(h('h3', { text: '系统中的当前状态' }), rows([
      ['状态', qualBadge(x.status)],
      ['当前定点医院', x.designated_institution && x.designated_institution.name],
      ['有效期至', fmtDate(x.valid_to)],
      ['终止日期', x.ended_on ? fmtDate(x.ended_on) : null],
      ['终止原因', x.end_reason_text],
    ]));
  }
  return out;
}

export function verifyCard(m, main) {
  const token = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'verify-submit' }, '核验');
  const result = h('section', { id: 'verify-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'form card', novalidate: true },
    formError(),
    field('凭证编码', token, 'token', '用扫码设备扫描参保人出示的二维码（结果自动填入），或粘贴凭证编码'),
    submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      clear(result);
      const t = token.value.trim();
      if (!t) { showError(form, { field: 'token', message: '请扫描二维码或粘贴凭证编码' }); return; }
      try {
        const r = await api('GET', '/cards/verify?token=' + encodeURIComponent(t));
        result.append(...verifyResult(r, session.me && session.me.scope && session.me.scope.institution));
        token.select();   // ready for the next scan
      } catch (e) { showError(form, e); }
    });
  });
  clear(main).append(h('h1', { text: '核验凭证' }),
    h('p', { class: 'hint', text: '核验参保人的门诊慢特病电子凭证或告知书上的二维码：凭证是否由医保部门签发、待遇是否有效、定点医院是否为本院。' }),
    form, result);
  token.focus();
}

// ------------------------------------------------------ agency: 待遇资格

function agencyItem(q) {
  const li = h('li', { class: 'card', 'data-q': q.id });
  const draw = (x) => {
    clear(li).append(
      h('div', { class: 'app-head' }, h('strong', { class: 'app-disease', text: x.disease.name, tabindex: '-1' }), qualBadge(x.status)),
      facts(x, true));
    if (x.status === 'active') {
      const open = button('终止待遇', () => { open.hidden = true; li.append(terminateForm(x, draw, open)); li.querySelector('select').focus(); },
        'btn btn-danger btn-small', { 'data-action': 'terminate',
          'aria-label': '终止待遇：' + x.holder.name + '的“' + x.disease.name + '”' });
      li.append(h('div', { class: 'actions' }, open));
    }
  };
  draw(q);
  return li;
}

function terminateForm(q, draw, open) {
  const reason = h('select', {}, h('option', { value: '', text: '请选择终止原因' }),
    AGENCY_REASONS.map(([v, t]) => h('option', { value: v, text: t })));
  const note = h('textarea', { maxlength: 500 });
  // The first day without the benefit: not after today, nor before it
  // began; a benefit not yet begun ends on its first day.
  const today = cnToday();
  const latest = q.valid_from > today ? q.valid_from : today;
  const on = h('input', { type: 'date', value: latest, min: q.valid_from, max: latest });
  const yes = h('button', { type: 'submit', class: 'btn btn-danger', 'data-action': 'terminate-confirm' }, '确认终止');
  const form = h('form', { class: 'form terminate', novalidate: true },
    formError(),
    field('终止原因', reason, 'reason'),
    field('情况说明', note, 'note', '将记入待遇档案'),
    field('终止日期', on, 'ended_on', '从这一天起不再享受待遇'),
    h('div', { class: 'actions' }, yes,
      button('取消', () => { form.remove(); open.hidden = false; open.focus(); }, 'btn btn-secondary')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(yes, async () => {
      clearErrors(form);
      if (!reason.value) { showError(form, { field: 'reason', message: '请选择终止原因' }); return; }
      try {
        const nq = await api('POST', '/agency/qualifications/' + q.id + '/terminate',
          { reason: reason.value, note: note.value.trim(), ended_on: on.value || undefined });
        draw(nq);
        announce('已终止 ' + nq.holder.name + ' 的“' + nq.disease.name + '”待遇（' + nq.end_reason_text + '）');
        document.querySelector('li[data-q="' + nq.id + '"] strong').focus();
      } catch (e) { showError(form, e); }
    });
  });
  return form;
}

export async function agencyQualifications(m, main) {
  const region = session.me.scope && session.me.scope.region;
  const [diseases, hospitals] = await Promise.all([
    api('GET', '/diseases' + (region ? '?region=' + encodeURIComponent(region) : '')).then((r) => r.items),
    region ? designatedHospitals(region) : Promise.resolve([])]);
  const status = h('select', {}, h('option', { value: '', text: '全部' }),
    Object.entries(QUAL_STATUS).map(([v, t]) => h('option', { value: v, text: t })));
  status.value = 'active';
  const disease = h('select', {}, h('option', { value: '', text: '全部病种' }),
    diseases.map((d) => h('option', { value: d.code, text: d.name })));
  const inst = h('select', {}, h('option', { value: '', text: '全部定点医院' }),
    hospitals.map((i) => h('option', { value: i.code, text: i.name })));
  const go1 = h('button', { type: 'submit', class: 'btn btn-primary', id: 'q-search' }, '查询');
  const filters = h('form', { class: 'card filters', novalidate: true, role: 'search', 'aria-label': '筛选待遇资格' },
    field('状态', status, 'status'), field('病种', disease, 'disease'),
    region ? field('定点医院', inst, 'institution') : null, h('div', { class: 'actions' }, go1));
  const count = h('p', { class: 'hint', id: 'q-count', 'aria-live': 'polite' });
  const list = h('ul', { class: 'queue', id: 'quals' });
  const more = button('加载更多', null, 'btn btn-secondary', { hidden: true, id: 'quals-more' });
  clear(main).append(h('h1', { text: '待遇资格' }),
    h('p', { class: 'hint', text: '本统筹区参保人的门诊慢特病待遇资格。经核实已治愈、违规、死亡等情形的，可在这里终止待遇。' }),
    filters, count, list, more);

  let cursor = null;
  let loads = 0;
  // The filters of the last 查询: 加载更多 pages through that search even
  // when the selects changed since.
  let last = null;
  async function load(reset) {
    const mine = ++loads;
    if (reset) last = { status: status.value, disease: disease.value, institution: inst.value, limit: 50 };
    const p = Object.assign({}, last);
    if (!reset) p.cursor = cursor;
    let r;
    try { r = await api('GET', '/agency/qualifications?' + query(p)); } catch (e) {
      if (mine === loads && e.status !== 401) announce(e.message, true);
      return;
    }
    if (mine !== loads) return;
    if (reset) clear(list);
    r.items.forEach((q) => list.append(agencyItem(q)));
    const shown = list.children.length;
    cursor = r.next_cursor;
    more.hidden = !cursor;
    count.textContent = shown ? '已显示 ' + shown + ' 条' + (cursor ? '，还有更多' : '') : '没有符合条件的待遇资格';
  }
  filters.addEventListener('submit', (ev) => { ev.preventDefault(); busy(go1, () => load(true)); });
  more.addEventListener('click', () => busy(more, () => load(false)));
  await load(true);
}

// -------------------------------------------------- agency: 经办机构信息

export async function agencyRegion(m, main) {
  const r = await api('GET', '/agency/region');
  const name = h('input', { type: 'text', maxlength: 64, value: r.agency_name || '' });
  const hotline = h('input', { type: 'tel', maxlength: 32, value: r.hotline || '' });
  const addr = h('input', { type: 'text', maxlength: 128, value: r.agency_address || '' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'region-save' }, '保存');
  const form = h('form', { class: 'form card', novalidate: true },
    formError(),
    field('经办机构名称', name, 'agency_name', '例如：某某市医疗保障事业管理中心'),
    field('服务热线', hotline, 'hotline', '例如：0371-12393'),
    field('办公地址', addr, 'agency_address'),
    save);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(save, async () => {
      clearErrors(form);
      try {
        const n = await api('PUT', '/agency/region', {
          agency_name: name.value.trim(), hotline: hotline.value.trim(), agency_address: addr.value.trim(),
        });
        if (session.me) session.me.region = Object.assign({}, session.me.region || {}, n);
        renderFooter();
        announce('已保存。本统筹区参保人在每个页面底部看到的联系方式已更新。');
      } catch (e) { showError(form, e); }
    });
  });
  clear(main).append(h('h1', { text: '经办机构信息' }),
    h('p', { class: 'hint', text: '本统筹区医保经办机构的名称、服务热线和地址，显示在参保人每个页面的底部和待遇告知书上。' }),
    form);
}
