// ui.js -- small DOM helpers.  Every text reaches the page through
// textContent (never innerHTML), so nothing a user typed can run.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
export function nextId(prefix) { uid += 1; return (prefix || 'f') + '-' + uid; }

// A labelled form field.  name is the API's field name (the error
// envelope's "field"), so an error lands beside the right input.
export function field(label, input, name, hint) {
  const id = input.id || nextId('in');
  input.id = id;
  if (name && !input.name) input.name = name;
  const err = h('p', { class: 'field-error', id: id + '-err', 'aria-live': 'polite' });
  const hintEl = hint ? h('p', { class: 'hint', id: id + '-hint', text: hint }) : null;
  input.setAttribute('aria-describedby', (hintEl ? id + '-hint ' : '') + id + '-err');
  return h('div', { class: 'field', 'data-field': name || '' },
    h('label', { for: id, text: label }), hintEl, input, err);
}

// Clear every error message in a form (or any container).
export function clearErrors(root) {
  root.querySelectorAll('.field-error').forEach((p) => { p.textContent = ''; });
  root.querySelectorAll('[aria-invalid]').forEach((i) => i.removeAttribute('aria-invalid'));
  root.querySelectorAll('.form-error').forEach((p) => { p.textContent = ''; p.hidden = true; });
}

// Show an ApiError: beside the field it names when the form has it,
// otherwise in the form's own error box.  The field gets the focus.
export function showError(root, err) {
  const msg = err && err.message ? err.message : '操作未成功，请稍后再试';
  const name = err && err.field;
  const box = name ? root.querySelector('[data-field="' + CSS.escape(name) + '"]') : null;
  if (box) {
    const p = box.querySelector('.field-error');
    p.textContent = msg;
    const input = box.querySelector('input, select, textarea');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
    return;
  }
  const fe = root.querySelector('.form-error');
  if (fe) {
    fe.textContent = msg;
    fe.hidden = false;
    fe.focus();
  } else {
    announce(msg, true);
  }
}

export function formError() {
  return h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
}

// The page-wide live region (polite) for short confirmations.  It is
// always in the page (an empty one takes no room), so a screen reader
// hears each new text.  The text is set at once, never later: a message
// appearing after a delay would push the page down under a finger about
// to tap.  A repeated text differs by an invisible mark, so it is heard
// again.
export function announce(msg, isError) {
  const el = document.getElementById('status');
  el.className = isError ? 'status status-error' : 'status';
  el.textContent = msg && msg === el.textContent ? msg + '\u200b' : (msg || '');
}

// When the person last pressed a key or touched the page: background
// refreshes stop after a while without it, so an unattended session
// still ends at its idle timeout.
let lastInput = Date.now();
['keydown', 'pointerdown'].forEach((t) => document.addEventListener(t, () => { lastInput = Date.now(); }, true));
export function idleFor() { return Date.now() - lastInput; }

export function button(text, onclick, cls, attrs) {
  return h('button', Object.assign({ type: 'button', class: cls || 'btn', onclick }, attrs || {}), text);
}

// Disable a button while an async action runs (no double submits).
export async function busy(btn, fn) {
  const was = btn.disabled;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try { return await fn(); } finally {
    btn.disabled = was;
    btn.removeAttribute('aria-busy');
  }
}

const DT = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: 'long', day: 'numeric',
  hour: '2-digit', minute: '2-digit', hour12: false,
});

export function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d) ? s : DT.format(d);
}

// Today in China as YYYY-MM-DD (what a date input takes), whatever the
// device's time zone.
export function cnToday() {
  return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
}

// "2026-12-09" -> "2026年12月9日" (a date without a time).
export function fmtDate(s) {
  if (!s) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  return m ? Number(m[1]) + '年' + Number(m[2]) + '月' + Number(m[3]) + '日' : s;
}

export const STATUS = {
  draft: '草稿（未提交）',
  submitted: '已提交，等待专家认定',
  in_review: '专家认定中',
  returned: '退回补充材料',
  approved: '已通过',
  rejected: '未通过',
  withdrawn: '已撤回',
  unassigned: '待分配专家',
};

export function statusBadge(status) {
  return h('span', { class: 'badge badge-' + status, text: STATUS[status] || status });
}

// A qualification's status in words (the benefit after the decision).
export const QUAL_STATUS = {
  active: '享受中', terminated: '已终止', expired: '已到期', revoked: '已取消',
};

export function qualBadge(status) {
  return h('span', { class: 'badge badge-q-' + status, text: QUAL_STATUS[status] || status });
}

export const REVIEW_MODE = {
  single: '即时认定（一位专家认定）',
  double: '常规认定（初审 + 复审）',
  onsite: '医院现场认定',
  panel: '专家组集体认定',
};

export function bytes(n) {
  if (n >= 1048576) return (n / 1048576).toFixed(1) + ' MB';
  if (n >= 1024) return Math.round(n / 1024) + ' KB';
  return n + ' 字节';
}

export function loading() {
  return h('p', { class: 'loading', role: 'status', text: '正在加载…' });
}
