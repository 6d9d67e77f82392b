// app.js -- the portal's shell: who is signed in (GET /me), the menu of
// that role, the hash router, and the warning before an idle session
// ends.  Routes carry only record numbers, never a name, an ID number or
// a phone; page titles name the page, never a disease.

import { api, setCsrf, onSessionExpired, lastServerContact } from './api.js';
import { h, clear, announce, button, loading } from './ui.js';
import { insuredLogin, staffLogin } from './login.js';

// The role pages load when first needed (and in the background once the
// first page is drawn): a phone on a slow network fetches only what the
// sign-in page needs before showing it (tests/bench/portal.mjs).
const applicant = () => import('./applicant.js');
const expert = () => import('./expert.js');
const agency = () => import('./agency.js');
const benefit = () => import('./benefit.js');
const authz = () => import('./authz.js');
const catalogAdmin = () => import('./catalog-admin.js');
const panel = () => import('./panel.js');
const filing = () => import('./filing.js');
const onsite = () => import('./onsite.js');

export const session = { me: null };

const confirmPages = () => import('./confirm.js');
const reports = () => import('./reports.js');
const stats = () => import('./stats.js');
// Sanctions and the expert pool (issue 12 item 6).
const sanctions = () => import('./sanctions.js');
const experts = () => import('./experts.js');
const agencyApps = () => import('./agency-apps.js');
const objectionPages = () => import('./objection.js');
const audits = () => import('./audits.js');
const quarterlyReview = () => import('./quarterly-review.js');
const agencyObjections = () => import('./agency-objections.js');

const AGENCY_MENU = [['#/agency/queue', '申请队列'], ['#/agency/applications', '申请查询'], ['#/agency/confirm', '待确认'],
  ['#/agency/experts', '专家库'], ['#/agency/qualifications', '待遇资格'], ['#/agency/region', '经办机构信息'],
  ['#/agency/file', '窗口代办'], ['#/agency/institutions', '认定机构'], ['#/agency/reports', '认定表报送'],
  ['#/agency/sanctions', '违规处理'], ['#/agency/stats', '统计'], ['#/agency/catalog', '病种目录'], ['#/agency/calendar', '工作日历'], ['#/agency/audits', '抽查审核'], ['#/agency/reviews', '季度复核'],
  ['#/agency/objections', '复核申请']];
const MENUS = {
  insured: [['#/my', '我的申请'], ['#/benefits', '我的待遇'], ['#/apply', '申请门诊慢特病']],
  expert: [['#/expert', '认定任务'], ['#/expert/reviews', '复核病例']],
  agency: AGENCY_MENU,
  // The agency's pages an admin may open: menu() keeps those whose route
  // admits the role (a slice by position lost 待遇资格 when 申请查询 came).
  admin: AGENCY_MENU,
  hospital: [['#/hospital', '本院代办的申请'], ['#/hospital/file', '代办申报'], ['#/hospital/onsite', '现场认定'],
    ['#/hospital/panel', '专家组评审'], ['#/hospital/reports', '季度认定表'], ['#/verify', '核验凭证']],
};

const HOME = {
  insured: '#/my', expert: '#/expert', agency: '#/agency/queue', admin: '#/agency/queue',
  hospital: '#/hospital',
};

// A role's menu: the entries of MENUS whose route admits the role (one
// rule: the menu never offers a page the router refuses).
function menu(role) {
  return (MENUS[role] || []).filter(([href]) => {
    const r = ROUTES.find(([re]) => re.test(href));
    return r && (!r[1] || r[1].includes(role));
  });
}

// Each route: pattern, roles allowed (null: anyone), title, page.  A page
// is called as page(match, view) and renders into view, a container of
// its own: a slow page that answers after the person moved on writes
// into a detached container, never over the newer page.
const ROUTES = [
  [/^#\/?$/, null, '首页', home],
  [/^#\/login$/, null, '参保人登录', insuredLogin],
  [/^#\/staff$/, null, '专家和工作人员登录', staffLogin],
  [/^#\/apply$/, ['insured'], '申请门诊慢特病', async (m, v) => (await applicant()).applyWizard(null, v)],
  [/^#\/apply\/(\d+)$/, ['insured'], '申请门诊慢特病', async (m, v) => (await applicant()).applyWizard(m[1], v)],
  [/^#\/my$/, ['insured'], '我的申请', async (m, v) => (await applicant()).myApplications(m, v)],
  [/^#\/app\/(\d+)$/, ['insured', 'hospital', 'agency'], '申请进度', async (m, v) => (await applicant()).applicationDetail(m[1], v)],
  [/^#\/hospital$/, ['hospital'], '本院代办的申请', async (m, v) => (await applicant()).filedApplications(m, v)],
  [/^#\/expert$/, ['expert'], '认定任务', async (m, v) => (await expert()).expertInbox(m, v)],
  [/^#\/expert\/(\d+)$/, ['expert'], '认定任务', async (m, v) => (await expert()).expertTask(m[1], v)],
  [/^#\/agency\/queue$/, ['agency', 'admin'], '申请队列', async (m, v) => (await agency()).agencyQueue(m, v)],
  [/^#\/agency\/experts$/, ['agency', 'admin'], '专家库', async (m, v) => (await experts()).agencyExperts(m, v)],
  [/^#\/benefits$/, ['insured'], '我的待遇', async (m, v) => (await benefit()).myBenefits(m, v)],
  [/^#\/benefits\/letter$/, ['insured'], '打印告知书', async (m, v) => (await benefit()).letter(m, v)],
  [/^#\/benefits\/(\d+)\/card$/, ['insured'], '电子凭证', async (m, v) => (await benefit()).card(m[1], v)],
  [/^#\/benefits\/(\d+)\/change$/, ['insured'], '变更定点医院', async (m, v) => (await benefit()).changeHospital(m[1], v)],
  [/^#\/benefits\/(\d+)\/exit$/, ['insured'], '退出待遇', async (m, v) => (await benefit()).exitBenefit(m[1], v)],
  [/^#\/verify$/, ['hospital'], '核验凭证', async (m, v) => (await benefit()).verifyCard(m, v)],
  [/^#\/agency\/qualifications$/, ['agency', 'admin'], '待遇资格', async (m, v) => (await benefit()).agencyQualifications(m, v)],
  [/^#\/agency\/region$/, ['agency'], '经办机构信息', async (m, v) => (await benefit()).agencyRegion(m, v)],
  [/^#\/agency\/institutions$/, ['agency'], '认定机构', async (m, v) => (await authz()).agencyInstitutions(m, v)],
  [/^#\/agency\/institutions\/([A-Z][0-9A-Z]{5,19})$/, ['agency'], '认定机构', async (m, v) => (await authz()).authzEditor(m[1], v)],
  [/^#\/hospital\/panel$/, ['hospital'], '专家组评审', async (m, v) => (await panel()).panelQueue(m, v)],
  [/^#\/hospital\/panel\/(\d+)$/, ['hospital'], '专家组评审', async (m, v) => (await panel()).panelCase(m[1], v)],
  [/^#\/publicity$/, null, '认定结果公示', async (m, v) => (await panel()).publicity(m, v)],
  [/^#\/hospital\/file$/, ['hospital'], '代办申报', async (m, v) => (await filing()).hospitalFile(null, v)],
  [/^#\/hospital\/file\/(\d+)$/, ['hospital'], '代办申报', async (m, v) => (await filing()).hospitalFile(m[1], v)],
  [/^#\/agency\/file$/, ['agency'], '窗口代办', async (m, v) => (await filing()).agencyFile(null, v)],
  [/^#\/agency\/file\/(\d+)$/, ['agency'], '窗口代办', async (m, v) => (await filing()).agencyFile(m[1], v)],
  [/^#\/agency\/confirm$/, ['agency', 'admin'], '待确认', async (m, v) => (await confirmPages()).confirmQueue(m, v)],
  [/^#\/agency\/applications\/(\d+)$/, ['agency', 'admin'], '申请档案', async (m, v) => (await confirmPages()).archive(m[1], v)],
  // Every application of the region and its trail (issue 12, agency-apps.js).
  [/^#\/agency\/applications$/, ['agency', 'admin'], '申请查询', async (m, v) => (await agencyApps()).agencyApplications(m, v)],
  [/^#\/hospital\/reports$/, ['hospital'], '季度认定表', async (m, v) => (await reports()).hospitalReports(m, v)],
  [/^#\/agency\/reports$/, ['agency'], '认定表报送', async (m, v) => (await reports()).agencyReports(m, v)],
  // Sanctions (issue 12 item 6, R-SUP-4).
  [/^#\/agency\/sanctions$/, ['agency', 'admin'], '违规处理', async (m, v) => (await sanctions()).agencySanctions(m, v)],
  [/^#\/agency\/audits$/, ['agency', 'admin'], '抽查审核', async (m, v) => (await audits()).agencyAudits(m, v)],
  [/^#\/agency\/audits\/(\d+)$/, ['agency', 'admin'], '抽查报告', async (m, v) => (await audits()).auditReport(m[1], v)],
  [/^#\/hospital\/onsite$/, ['hospital'], '现场认定', async (m, v) => (await onsite()).onsiteQueue(m, v)],
  [/^#\/hospital\/onsite\/new$/, ['hospital'], '新的现场认定', async (m, v) => (await onsite()).onsiteNew(m, v)],
  [/^#\/hospital\/onsite\/(\d+)$/, ['hospital'], '现场认定档案', async (m, v) => (await onsite()).onsiteRecord(m[1], v)],
  // Statistics (issue 12, R-SUP-3): stats.js.
  [/^#\/stats$/, null, '公开数据', async (m, v) => (await stats()).publicStats(m, v)],
  [/^#\/agency\/stats$/, ['agency', 'admin'], '统计', async (m, v) => (await stats()).agencyStats(m, v)],
  // 申请复核 (R-CER-12): reached from a rejected application's progress page.
  [/^#\/app\/(\d+)\/objection$/, ['insured', 'hospital'], '申请复核', async (m, v) => (await objectionPages()).objectionPage(m[1], v)],
  // The agency's catalog and the working-day calendar (issue 12 item 7).
  [/^#\/agency\/catalog$/, ['agency', 'admin'], '病种目录', async (m, v) => (await catalogAdmin()).catalogList(m, v)],
  [/^#\/agency\/catalog\/([A-Z][A-Z0-9]{1,15})$/, ['agency', 'admin'], '病种目录', async (m, v) => (await catalogAdmin()).catalogEditor(m[1], v)],
  [/^#\/agency\/calendar$/, ['agency', 'admin'], '工作日历', async (m, v) => (await catalogAdmin()).calendarPage(null, v)],
  [/^#\/agency\/calendar\/(\d{4})$/, ['agency', 'admin'], '工作日历', async (m, v) => (await catalogAdmin()).calendarPage(m[1], v)],
  // The quarterly review, 双随机一公开 (issue 12 item 4).
  [/^#\/agency\/reviews$/, ['agency', 'admin'], '季度复核', async (m, v) => (await quarterlyReview()).agencyReviews(m, v)],
  [/^#\/agency\/reviews\/(\d+)$/, ['agency', 'admin'], '季度复核', async (m, v) => (await quarterlyReview()).agencyReview(m[1], v)],
  [/^#\/expert\/reviews$/, ['expert'], '复核病例', async (m, v) => (await quarterlyReview()).expertReviews(m, v)],
  // The region's objections (R-CER-12): agency-objections.js; an admin
  // chooses the region on it, as on 统计, 抽查审核, 病种目录.
  [/^#\/agency\/objections$/, ['agency', 'admin'], '复核申请', async (m, v) => (await agencyObjections()).agencyObjections(m, v)],
  [/^#\/reviews\/public(?:\/([1-9][0-9]{5}))?$/, null, '季度复核结果公开', async (m, v) => (await quarterlyReview()).publicReviews(m, v)],
];

// Pages register a cleanup (timers) that runs when the page changes.
let cleanups = [];
export function onLeave(fn) { cleanups.push(fn); }

// Go to a page; message is shown once the page is there.
let flash = null;
export function go(hash, message, isError) {
  flash = message ? [message, !!isError] : null;
  if (location.hash === hash) route(true);
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

// The footer of every page: the agency of the person's region (GET /me's
// region: the insured person's, the staff's institution's, the agency's
// own), with its hotline and address.  Signed out, or not set yet by the
// agency: a neutral sentence, never a hotline without a number.
export function renderFooter() {
  const foot = clear(document.getElementById('foot'));
  const r = session.me && session.me.region;
  if (!r || !r.agency_name || !r.hotline) {
    foot.append(h('p', { text: '基本医疗保险门诊慢特病认定服务 · 如有疑问，请向参保地医疗保障经办机构咨询' }));
    return;
  }
  foot.append(h('p', {}, h('strong', { text: r.agency_name }), '（' + r.name + '）'),
    h('p', {}, '服务热线：', h('a', { href: 'tel:' + r.hotline.replace(/[^\d+]/g, ''), text: r.hotline, id: 'foot-hotline' })),
    r.agency_address ? h('p', { text: '地址：' + r.agency_address }) : null);
}

function renderHeader() {
  const nav = clear(document.getElementById('nav'));
  const who = clear(document.getElementById('who'));
  const me = session.me;
  renderFooter();
  if (!me) {
    nav.append(h('a', { href: '#/login', text: '参保人登录' }),
      h('a', { href: '#/staff', text: '专家和工作人员登录' }));
    return;
  }
  for (const [href, text] of menu(me.role)) {
    const a = h('a', { href, text });
    if (location.hash === href) a.setAttribute('aria-current', 'page');
    nav.append(a);
  }
  const name = me.user.display_name || me.user.login;
  const where = me.scope && me.scope.institution_name ? '（' + me.scope.institution_name + '）' : '';
  who.append(h('span', { class: 'who-name', text: name + where }),
    button('退出登录', (ev) => logout(ev.currentTarget), 'btn btn-secondary btn-small', { id: 'logout' }));
}

// Signed out only when the server says so (204, or 401: already gone).
// Any other failure keeps the page signed in and says so: on a shared
// computer the next person must not find the session still alive.
async function logout(btn) {
  btn.disabled = true;
  try {
    await api('POST', '/auth/logout', undefined, { quiet401: true });
  } catch (e) {
    if (e.status !== 401) {
      btn.disabled = false;
      announce('退出登录未成功：' + e.message + '。请再点一次“退出登录”。', true);
      btn.focus();
      return;
    }
  }
  session.me = null;
  setCsrf(null);
  renderHeader();
  go('#/', '您已安全退出');
}

function home(m, view) {
  const me = session.me;
  if (me && HOME[me.role]) { go(HOME[me.role]); return; }
  view.append(
    h('h1', { text: '门诊慢特病网上认定' }),
    h('p', { class: 'lead', text: '参保人可在网上申请门诊慢性病、特殊病待遇认定，上传病历材料，随时查看办理进度，结果以短信通知。' }),
    me ? null : h('div', { class: 'choices' },
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
        h('li', { text: '系统随机推送给认定专家，结果以短信通知' }))),
    h('p', {}, h('a', { href: '#/publicity', id: 'home-publicity', text: '认定结果公示' })),
    h('p', {}, h('a', { href: '#/stats', id: 'home-stats', text: '公开数据：各地每月申请和办结情况' })),
    h('p', {}, h('a', { href: '#/reviews/public', id: 'home-reviews', text: '季度复核结果公开（双随机、一公开）' })));
}

function notFound(view) {
  view.append(h('h1', { text: '页面不存在' }),
    h('p', {}, h('a', { href: '#/', text: '返回首页' })));
}

let current = null;   // the view of the newest navigation

// A page that could not be drawn: the message, and a retry.
function failed(view, e) {
  clear(view).append(h('h1', { text: '出错了' }),
    h('p', { class: 'form-error', role: 'alert', text: e.message || '页面加载失败，请稍后再试' }),
    button('重试', () => route(true), 'btn', { id: 'retry' }));
}

async function route(focus) {
  cleanups.forEach((f) => f());
  cleanups = [];
  announce(flash ? flash[0] : '', flash ? flash[1] : false);
  flash = null;
  const hash = location.hash || '#/';
  const main = document.getElementById('main');
  const view = h('div', { class: 'view' });
  current = view;
  clear(main).append(view);
  renderHeader();
  const r = ROUTES.find(([re]) => re.test(hash));
  if (!r) { notFound(view); document.title = '页面不存在 - 门诊慢特病网上认定'; return; }
  const [re, roles, title, page] = r;
  // Signed in meanwhile in another tab: the cookie is there, ask.  The
  // service down is not "signed out": say so, with a retry.
  if (roles && !session.me) {
    try { await loadMe(); } catch (e) {
      if (view === current) failed(view, e);
      return;
    }
    if (view !== current) return;
  }
  if (roles && (!session.me || !roles.includes(session.me.role))) {
    if (!session.me) go(roles.includes('insured') ? '#/login' : '#/staff', '请先登录');
    else go(homeOf(session.me.role));
    return;
  }
  document.title = title + ' - 门诊慢特病网上认定';
  view.append(loading());
  try {
    await page(re.exec(hash), view);
  } catch (e) {
    if (view !== current || e.status === 401) return;
    failed(view, e);
  }
  if (view !== current) return;
  view.querySelectorAll('.loading').forEach((x) => { if (x.parentNode === view) x.remove(); });
  const h1 = view.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    if (focus) h1.focus();
  }
}

onSessionExpired(() => {
  if (!session.me) return;
  const wasInsured = session.me.role === 'insured';
  session.me = null;
  setCsrf(null);
  renderHeader();
  go(wasInsured ? '#/login' : '#/staff', '登录已过期，请重新登录', true);
});

// --- the idle warning (WCAG 2.2.1): two minutes before the session
// would end, a box offers to go on; going on asks GET /me, which pushes
// the end back.
const WARN_BEFORE_MS = 120 * 1000;
const warnBox = h('div', { class: 'idle-warning', role: 'alertdialog', 'aria-modal': 'false',
  'aria-labelledby': 'idle-text', hidden: true },
h('p', { id: 'idle-text' }),
button('继续使用', () => keepAlive(), 'btn btn-primary', { id: 'keep-alive' }));

async function keepAlive() {
  try {
    const me = await api('GET', '/me');
    session.me = me;
    warnBox.hidden = true;
    announce('已延长登录时间');
  } catch (e) { /* 401: the expiry handler takes over */ }
}

setInterval(() => {
  const me = session.me;
  if (!me || !me.expires_in) { warnBox.hidden = true; return; }
  const left = lastServerContact() + me.expires_in * 1000 - Date.now();
  if (left > WARN_BEFORE_MS) { warnBox.hidden = true; return; }
  if (left <= 0) {
    warnBox.hidden = true;
    api('GET', '/me').catch(() => { /* the expiry handler signs out */ });
    return;
  }
  const text = '您已较长时间没有操作，登录将在 ' + Math.ceil(left / 1000) + ' 秒后失效。需要继续，请点“继续使用”。';
  document.getElementById('idle-text').textContent = text;
  if (warnBox.hidden) {
    warnBox.hidden = false;
    document.getElementById('keep-alive').focus();
  }
}, 1000);

// The skip link moves the focus; it must not change the route.
document.querySelector('.skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  document.getElementById('main').focus();
});

window.addEventListener('hashchange', () => route(true));

(async function start() {
  document.body.append(warnBox);
  // A public page (home, sign-in) is drawn at once, while GET /me is on
  // its way: one round trip less before a phone shows the sign-in form.
  const r = ROUTES.find(([re]) => re.test(location.hash || '#/'));
  const isPublic = r && !r[1];
  const me = loadMe().catch((e) => { flash = [e.message, true]; });
  if (isPublic) {
    await route(false);
    // The role pages, fetched while the person types.
    [applicant, expert, agency, benefit].forEach((f) => f().catch(() => { /* fetched again when needed */ }));
    await me;
    // Already signed in (a reload): the home page leads to the role's.
    if (session.me && (location.hash || '#/').match(/^#\/?$/)) go(homeOf(session.me.role));
  } else {
    // The page's own module comes in parallel with GET /me.
    const h0 = location.hash;
    const own = /^#\/(benefits|verify|agency\/(qualifications|region))/.test(h0) ? benefit
      : h0.startsWith('#/expert') ? expert : h0.startsWith('#/agency') ? agency : applicant;
    own()
      .catch(() => { /* fetched again by the page */ });
    await me;
    route(false);
  }
})();
