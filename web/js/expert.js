// expert.js -- the certification expert's pages: the inbox of pushed
// tasks with a live countdown to each accept deadline, accept / refuse,
// and an accepted task's materials with the decision form.  The applicant
// is shown blind (sex, age band, region), as the API gives it.

import { api, fileUrl, serverNow, pages } from './api.js';
import {
  h, clear, field, clearErrors, showError, formError, busy, announce, button, fmtTime, fmtDate, idleFor,
} from './ui.js';
import { go, onLeave } from './app.js';
import { returnChoice, verdictName } from './returns.js';

const URGENT_MS = 2 * 3600 * 1000;   // red under 2 hours (issue 5)
const SEX = { M: '男', F: '女' };
const TABS = [['pushed', '待受理'], ['accepted', '已受理'], ['decided', '已完成']];

// The reason codes an expert may give with a rejection: reference data
// the server checks (422 reason_code_not_found otherwise), so the list
// comes from it (cacheable: ETag, max-age 60).
async function rejectionReasons() {
  return (await api('GET', '/rejection-reasons')).items;
}

function stageName(t) {
  // An objection panel's seat (stages 4 ...: sql/fn/80_objection.sql).
  if (t.stage >= 4) return '复核';
  if (t.review_mode === 'single') return '即时认定';
  return t.stage === 1 ? '初审' : (t.stage === 2 ? '复审' : '第三位专家认定');
}

function blind(t) {
  return (SEX[t.application.sex] || '') + '，' + t.application.age_band + ' 岁';
}

export function remaining(ms) {
  if (ms <= 0) return '已超过受理时限';
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return '剩余 ' + (hh ? hh + ' 小时 ' : '') + mm + ' 分 ' + ss + ' 秒';
}

let tab = 'pushed';

export async function expertInbox(m, main) {
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': '任务分类' });
  const list = h('div', { id: 'tasks' });
  const title = h('h1', { text: '认定任务' });
  clear(main).append(title,
    h('p', { class: 'hint', text: '推送给您的任务须在时限内受理，超时将转给其他专家并记为一次未受理。' }),
    tabs, list);
  const countdowns = [];
  const timer = setInterval(() => {
    const now = serverNow();
    let expired = false;
    for (const c of countdowns) {
      const left = c.deadline - now;
      c.el.textContent = remaining(left);
      c.el.classList.toggle('urgent', left < URGENT_MS);
      if (left <= 0 && !c.done) { c.done = true; expired = true; c.accept.disabled = true; }
    }
    if (expired) announce('有任务已超过受理时限', true);
  }, 1000);
  // New pushes appear without a reload: every 30 s while the page is
  // visible and someone uses it (an unattended page stops asking, so the
  // session still ends at its idle timeout), never while a refusal is
  // being typed, and never moving the focus.
  const poll = setInterval(() => {
    if (document.visibilityState !== 'visible' || idleFor() > 5 * 60 * 1000) return;
    if (list.querySelector('form:not([hidden])') || list.contains(document.activeElement)) return;
    load(false);
  }, 30000);
  onLeave(() => { clearInterval(timer); clearInterval(poll); });

  // The tab buttons are made once; a click only changes aria-pressed, so
  // the keyboard focus stays on the button.
  const buttons = TABS.map(([k, name]) => button(name, () => {
    tab = k;
    buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(TABS[i][0] === tab)));
    load(true);
  }, 'tab', { 'aria-pressed': String(tab === k), id: 'tab-' + k }));
  tabs.append(...buttons);

  // Only the newest load draws the list: a slow answer for a tab the
  // expert already left is dropped.
  let loads = 0;
  async function load(announceErrors) {
    const mine = ++loads;
    const want = tab;
    let r;
    try {
      r = await api('GET', '/expert/tasks?state=' + want);
    } catch (e) {
      if (mine !== loads || e.status === 401) return;
      if (announceErrors !== false) {
        clear(list).append(h('p', { class: 'form-error', role: 'alert', text: e.message }),
          button('重试', () => load(true), 'btn btn-secondary'));
      }
      return;
    }
    if (mine !== loads) return;
    countdowns.length = 0;
    clear(list);
    if (!r.items.length) {
      list.append(h('p', { class: 'card', text: want === 'pushed' ? '暂无待受理的任务' : '暂无任务' }));
      return;
    }
    list.append(h('ul', { class: 'task-list' }, r.items.map((t) => taskCard(t, countdowns, async () => {
      await load(true);
      title.focus();
    }))));
  }
  await load(true);
}

function taskCard(t, countdowns, reload) {
  const li = h('li', { class: 'card task', 'data-task': t.id },
    h('div', { class: 'app-head' },
      h('strong', { class: 'app-disease', text: t.disease.name }),
      h('span', { class: 'tag', text: stageName(t) })),
    h('p', { text: '申请人：' + blind(t) + '；专科：' + t.disease.specialty }),
    h('p', { class: 'hint', text: '材料 ' + t.materials.length + ' 份：' + t.materials.map((m) => m.name).join('、') }));
  if (t.state === 'pushed') {
    const deadline = new Date(t.accept_deadline).getTime();
    const cd = h('p', { class: 'countdown', role: 'timer', 'aria-live': 'off' }, remaining(deadline - serverNow()));
    if (deadline - serverNow() < URGENT_MS) cd.classList.add('urgent');
    const accept = button('受理', () => busy(accept, async () => {
      try {
        await api('POST', '/expert/tasks/' + t.id + '/accept');
        go('#/expert/' + t.id, '已受理，请查看材料并作出认定意见');
      } catch (e) { announce(e.message, true); await reload(); }
    }), 'btn btn-primary', { 'data-action': 'accept' });
    const reason = h('textarea', { rows: 3, maxlength: 500 });
    const err = formError();
    const refuseForm = h('form', { class: 'form', hidden: true, novalidate: true },
      err, field('拒绝受理的理由', reason, 'reason', '例如：与申请人存在利害关系、本人不擅长该病种'),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-danger', 'data-action': 'refuse-confirm' }, '确认拒绝'),
        button('取消', () => { refuseForm.hidden = true; refuse.focus(); }, 'btn btn-secondary')));
    const refuse = button('拒绝受理', () => { refuseForm.hidden = false; reason.focus(); }, 'btn btn-secondary', { 'data-action': 'refuse' });
    refuseForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      clearErrors(refuseForm);
      if (!reason.value.trim()) { showError(refuseForm, { field: 'reason', message: '请填写拒绝受理的理由' }); return; }
      busy(refuseForm.querySelector('[type=submit]'), async () => {
        try {
          await api('POST', '/expert/tasks/' + t.id + '/refuse', { reason: reason.value.trim() });
          announce('已拒绝受理，任务将推送给其他专家');
          await reload();
        } catch (e) { showError(refuseForm, e); }
      });
    });
    countdowns.push({ deadline, el: cd, accept });
    li.append(h('p', { class: 'hint', text: '受理截止：' + fmtTime(t.accept_deadline) }), cd,
      h('div', { class: 'actions' }, accept, refuse), refuseForm);
  } else if (t.state === 'accepted') {
    li.append(h('div', { class: 'actions' },
      h('a', { class: 'btn btn-primary', href: '#/expert/' + t.id, text: '查看材料并认定' })));
  } else {
    li.append(h('p', { text: '您的意见：' + verdictName(t.decision) }));
  }
  return li;
}

async function findTask(aid) {
  // Each list pages with a cursor (newest first): page on until found.
  for (const state of ['accepted', 'decided', 'pushed']) {
    for await (const items of pages('/expert/tasks?state=' + state)) {
      const t = items.find((x) => String(x.id) === String(aid));
      if (t) return t;
    }
  }
  return null;
}

export async function expertTask(aid, main) {
  const [t, reasons] = await Promise.all([findTask(aid), rejectionReasons()]);
  if (!t) {
    clear(main).append(h('h1', { text: '任务不存在' }),
      h('p', { text: '任务不存在、已超时转给其他专家，或不是您的任务。' }),
      h('a', { href: '#/expert', text: '返回任务列表' }));
    return;
  }
  clear(main).append(h('h1', { text: t.disease.name + '（' + stageName(t) + '）' }),
    h('p', { text: '申请人：' + blind(t) + '；专科：' + t.disease.specialty }));
  if (t.state === 'pushed') {
    main.append(h('p', { class: 'card warn', text: '请先在任务列表中受理，受理后才能查看材料。' }),
      h('a', { href: '#/expert', text: '返回任务列表' }));
    return;
  }
  main.append(h('h2', { text: '申请材料' }),
    h('div', { class: 'viewers' }, t.materials.map((m) => viewer(m))));
  if (t.state === 'accepted') main.append(decisionForm(t, reasons));
  else main.append(h('p', { class: 'card', text: '您已作出认定意见：' + verdictName(t.decision) }));
  main.append(h('p', {}, h('a', { href: '#/expert', text: '返回任务列表' })));
}

// One material: an image with zoom, or a PDF inline in a frame (also the
// agency's archive, confirm.js, and the hospital panel's case, panel.js,
// whose materials carry no issued_on).
export function viewer(m) {
  const title = m.name + (m.issued_on ? '（出具日期 ' + fmtDate(m.issued_on) + '）' : '');
  const box = h('section', { class: 'viewer card', 'data-material': m.id },
    h('h3', { text: title }));
  if (m.media_type === 'application/pdf') {
    box.append(h('iframe', { src: fileUrl(m.id), title: title + ' PDF', class: 'pdf-frame' }),
      h('a', { href: fileUrl(m.id), target: '_blank', rel: 'noopener', text: '在新窗口打开 PDF' }));
    return box;
  }
  let zoom = 1;
  const img = h('img', { src: fileUrl(m.id), alt: title, class: 'zoomable' });
  const level = h('span', { class: 'zoom-level', 'aria-live': 'polite', text: '100%' });
  const set = (z) => {
    zoom = Math.min(4, Math.max(0.5, z));
    img.style.width = (zoom * 100) + '%';
    level.textContent = Math.round(zoom * 100) + '%';
  };
  box.append(
    h('div', { class: 'zoom-bar' },
      button('放大', () => set(zoom + 0.5), 'btn btn-secondary btn-small', { 'data-action': 'zoom-in' }),
      button('缩小', () => set(zoom - 0.5), 'btn btn-secondary btn-small', { 'data-action': 'zoom-out' }),
      button('原始大小', () => set(1), 'btn btn-secondary btn-small'), level),
    h('div', { class: 'zoom-frame', tabindex: '0', role: 'region', 'aria-label': title + '（可滚动查看）' }, img));
  return box;
}

function decisionForm(t, reasons) {
  const approve = h('input', { type: 'radio', name: 'decision', value: 'approve', id: 'd-approve' });
  const reject = h('input', { type: 'radio', name: 'decision', value: 'reject', id: 'd-reject' });
  const code = h('select', {}, h('option', { value: '', text: '请选择原因' }),
    reasons.map((r) => h('option', { value: r.code, text: r.name })));
  const opinion = h('textarea', { rows: 5, maxlength: 2000 });
  const codeBox = field('不予认定原因', code, 'reason_code');
  codeBox.hidden = true;
  const ret = returnChoice(t);   // 退回补充材料 (issue 12, returns.js)
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', id: 'decide' }, '提交认定意见');
  const form = h('form', { class: 'form card', novalidate: true },
    formError(),
    h('h2', { text: '认定意见' }),
    h('fieldset', { 'data-field': 'decision', class: 'field' },
      h('legend', { text: '认定结论' }),
      h('div', { class: 'check' }, approve, h('label', { for: 'd-approve', text: '予以认定' })),
      h('div', { class: 'check' }, reject, h('label', { for: 'd-reject', text: '不予认定' })),
      ret.choice,
      h('p', { class: 'field-error', 'aria-live': 'polite' })),
    codeBox, ret.box,
    field('认定意见', opinion, 'opinion', '不予认定或退回补充时必须写明理由或缺少什么，申请人将看到'),
    submit);
  const toggle = () => { codeBox.hidden = !reject.checked; ret.box.hidden = !ret.radio.checked; };
  [approve, reject, ret.radio].forEach((r) => r.addEventListener('change', toggle));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      const verdict = [approve, reject, ret.radio].find((r) => r.checked)?.value || '';
      if (!verdict) { showError(form, { field: 'decision', message: '请选择认定结论' }); return; }
      if (verdict === 'reject' && !code.value) { showError(form, { field: 'reason_code', message: '请选择不予认定原因' }); return; }
      if (verdict === 'return' && !ret.missing().length) { showError(form, { field: 'missing', message: '请勾选需补充的材料' }); return; }
      const req = { decision: verdict, opinion: opinion.value.trim() };
      if (verdict === 'reject') req.reason_code = code.value;
      if (verdict === 'return') req.missing = ret.missing();
      try {
        await api('POST', '/expert/tasks/' + t.id + '/decision', req);
        tab = 'decided';
        go('#/expert', '认定意见已提交');
      } catch (e) { showError(form, e); }
    });
  });
  return form;
}
