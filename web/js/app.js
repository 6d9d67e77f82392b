// app.js -- the portal's shell: who is signed in (GET /me), the menu of
// that role, and the hash router.  Routes carry only record numbers,
// never a name, an ID number or a phone.

import { api, setCsrf, onSessionExpired } from './api.js';
import { h, clear, announce, button, loading } from './ui.js';
import { insuredLogin, staffLogin } from './login.js';
import { applyWizard, myApplications, applicationDetail } from './applicant.js';
import { expertInbox, expertTask } from './expert.js';
import { agencyQueue, agencyExperts } from './agency.js';

export const session = { me: null };

const MENUS = {
  insured: [['#/my', '我的申请'], ['#/apply', '申请门诊慢特病']],
  expert: [['#/expert', '认定任务']],
  agency: [['#/agency/queue', '申请队列'], ['#/agency/experts', '专家库']],
  admin: [['#/agency/queue', '申请队列'], ['#/agency/experts', '专家库']],
};

const HOME = { insured: '#/my', expert: '#/expert', agency: '#/agency/queue', admin: '#/agency/queue' };

// Each route: pattern, the roles allowed (null: anyone), the page.
const ROUTES = [
  [/^#\/?$/, null, home],
  [/^#\/login$/, null, insuredLogin],
  [/^#\/staff$/, null, staffLogin],
  [/^#\/apply$/, ['insured'], (m) => applyWizard(null)],
  [/^#\/apply\/(\d+)$/, ['insured'], (m) => applyWizard(m[1])],
  [/^#\/my$/, ['insured'], myApplications],
  [/^#\/app\/(\d+)$/, ['insured'], (m) => applicationDetail(m[1])],
  [/^#\/expert$/, ['expert'], expertInbox],
  [/^#\/expert\/(\d+)$/, ['expert'], (m) => expertTask(m[1])],
  [/^#\/agency\/queue$/, ['agency', 'admin'], agencyQueue],
  [/^#\/agency\/experts$/, ['agency', 'admin'], agencyExperts],
];

// Pages register a cleanup (timers) that runs when the page changes.
let cleanups = [];
export function onLeave(fn) { cleanups.push(fn); }

// Go to a page; flash is a message shown once the page is there.
let flash = null;
export function go(hash, message, isError) {
  flash = message ? [message, !!isError] : null;
  if (location.hash === hash) route();
  else location.hash = hash;
}

export function homeOf(role) { return HOME[role] || '#/'; }

export async function signedIn(answer) {
  setCsrf(answer.csrf_token);
  await loadMe();
  go(homeOf(session.me.role));
}

async function loadMe() {
  try {
    const me = await api('GET', '/me', undefined, { quiet401: true });
    session.me = me;
    setCsrf(me.csrf_token);
  } catch (e) {
    session.me = null;
    setCsrf(null);
    if (e.status !== 401) throw e;
  }
  renderHeader();
}

function renderHeader() {
  const nav = clear(document.getElementById('nav'));
  const who = clear(document.getElementById('who'));
  const me = session.me;
  if (!me) {
    nav.append(h('a', { href: '#/login', text: '参保人登录' }),
      h('a', { href: '#/staff', text: '专家和工作人员登录' }));
    return;
  }
  for (const [href, text] of MENUS[me.role] || []) {
    const a = h('a', { href, text });
    if (location.hash === href) a.setAttribute('aria-current', 'page');
    nav.append(a);
  }
  const name = me.user.display_name || me.user.login;
  const where = me.scope && me.scope.institution_name ? '（' + me.scope.institution_name + '）' : '';
  who.append(h('span', { class: 'who-name', text: name + where }),
    button('退出登录', logout, 'btn btn-secondary btn-small', { id: 'logout' }));
}

async function logout() {
  try { await api('POST', '/auth/logout'); } catch (e) { /* signed out anyway */ }
  session.me = null;
  setCsrf(null);
  renderHeader();
  go('#/', '您已安全退出');
}

function home() {
  const main = document.getElementById('main');
  const me = session.me;
  if (me) { go(homeOf(me.role)); return; }
  clear(main).append(
    h('h1', { text: '门诊慢特病网上认定' }),
    h('p', { class: 'lead', text: '参保人可在网上申请门诊慢性病、特殊病待遇认定，上传病历材料，随时查看办理进度，结果以短信通知。' }),
    h('div', { class: 'choices' },
      h('a', { class: 'choice', href: '#/login' },
        h('span', { class: 'choice-title', text: '我是参保人' }),
        h('span', { text: '手机验证码登录，申请认定、查看进度' })),
      h('a', { class: 'choice', href: '#/staff' },
        h('span', { class: 'choice-title', text: '我是认定专家或工作人员' }),
        h('span', { text: '账号密码登录，受理认定任务、监管' }))),
    h('section', { class: 'card' },
      h('h2', { text: '办理流程' }),
      h('ol', { class: 'steps' },
        h('li', { text: '登录后选择申请的病种，查看需要的材料' }),
        h('li', { text: '填写联系电话、病案号和定点医疗机构' }),
        h('li', { text: '上传病历、检查报告等材料（照片或 PDF）' }),
        h('li', { text: '阅读并勾选承诺书后提交' }),
        h('li', { text: '系统随机推送给认定专家，结果以短信通知' }))));
}

function notFound() {
  clear(document.getElementById('main')).append(
    h('h1', { text: '页面不存在' }),
    h('p', {}, h('a', { href: '#/', text: '返回首页' })));
}

async function route() {
  cleanups.forEach((f) => f());
  cleanups = [];
  announce(flash ? flash[0] : '', flash ? flash[1] : false);
  flash = null;
  const hash = location.hash || '#/';
  const main = document.getElementById('main');
  renderHeader();
  for (const [re, roles, page] of ROUTES) {
    const m = re.exec(hash);
    if (!m) continue;
    // Signed in meanwhile in another tab: the cookie is there, ask.
    if (roles && !session.me) {
      try { await loadMe(); } catch (e) { /* handled below as signed out */ }
    }
    if (roles && (!session.me || !roles.includes(session.me.role))) {
      if (!session.me) {
        go(roles.includes('insured') ? '#/login' : '#/staff', '请先登录');
      } else {
        go(homeOf(session.me.role));
      }
      return;
    }
    clear(main).append(loading());
    try {
      await page(m);
    } catch (e) {
      if (e.status === 401) return;
      clear(main).append(h('h1', { text: '出错了' }),
        h('p', { class: 'form-error', role: 'alert', text: e.message || '页面加载失败，请稍后再试' }),
        button('重试', route));
    }
    const h1 = main.querySelector('h1');
    if (h1) { h1.setAttribute('tabindex', '-1'); document.title = h1.textContent + ' - 门诊慢特病网上认定'; }
    return;
  }
  notFound();
}

onSessionExpired(() => {
  if (!session.me) return;
  session.me = null;
  setCsrf(null);
  renderHeader();
  const wasInsured = location.hash.startsWith('#/my') || location.hash.startsWith('#/app') ||
    location.hash.startsWith('#/apply');
  go(wasInsured ? '#/login' : '#/staff', '登录已过期，请重新登录', true);
});

// The skip link moves the focus; it must not change the route.
document.querySelector('.skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  document.getElementById('main').focus();
});

window.addEventListener('hashchange', () => {
  route().then(() => {
    const h1 = document.querySelector('#main h1');
    if (h1) h1.focus();
  });
});

(async function start() {
  try {
    await loadMe();
  } catch (e) {
    flash = [e.message, true];
  }
  route();
})();
