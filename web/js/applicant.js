// applicant.js -- the insured person's pages: the "申请门诊慢特病" wizard
// (disease, details, materials, review and promise), "我的申请" and one
// application's progress.  The wizard also serves whoever files for a
// person (issue 11): a family member for a relative (为家人申请, R-APP-9),
// hospital staff (代办申报, R-APP-7) and the agency's counter (窗口代办,
// R-APP-1); filing.js opens it for staff.

import {
  api, upload, fileUrl, designatedHospitals, MAX_UPLOAD, MAX_UPLOAD_MB, MAX_UPLOAD_LABEL,
} from './api.js';
import {
  h, clear, field, clearErrors, showError, formError, busy, announce, button,
  fmtTime, fmtDate, statusBadge, REVIEW_MODE, bytes, STATUS, QUAL_STATUS, cnToday,
} from './ui.js';
import { session, go, onLeave } from './app.js';
import { objectionBox } from './objection.js';
import { returnedNotice } from './returns.js';
import { readsSection } from './reads.js';

// The promise of the application form (承诺书, S2 附件 5), ticked before
// submitting (R-APP-9 promise_required).
const PROMISE = '本人承诺：以上信息及提供的申请资料均真实有效，且在申请及使用过程中无虚假行为，' +
  '否则，本人愿意承担相关经济和法律责任。';

// The family agent's promise (S2 附件 5: the same form carries the
// agent's name, ID number and relation, and both sign it).
const AGENT_PROMISE = '本人作为代办人承诺：受申请人委托代为申请，以上信息及提供的申请资料均真实有效，' +
  '且在申请及使用过程中无虚假行为，否则，本人愿意承担相关经济和法律责任。';
const RELATIONS = ['子女', '配偶', '父母', '祖父母', '孙子女', '兄弟姐妹', '其他'];

const STEPS = ['选择病种', '填写信息', '上传材料', '确认提交'];
// The wizard step where each API field is filled in.
const FIELD_STEP = {
  disease_code: 1, phone: 2, medical_record_no: 2, designated_institution: 2,
  'agent.name': 2, 'agent.id_number': 2, 'agent.relation': 2, 'agent.phone': 2,
  id_number: 2, name: 2, agent: 2,
  'relative.id_number': 2, 'relative.name': 2, 'relative.relation': 2, 'relative.promise': 2,
  kind: 3, issued_on: 3, issuer: 3, file: 3, promise: 4,
};
const ACCEPT = 'image/jpeg,image/png,application/pdf';
// Until a decision (API.md): an expert's task is cancelled with it.
const WITHDRAWABLE = ['draft', 'submitted', 'returned', 'in_review'];

// The region whose catalog and hospitals the wizard offers (st.region):
// the signed-in person's (or the staff's) for a new draft; a draft's own
// (st.app.region) when it is continued -- a relative's may be another.
function ownRegion() { return session.me.scope.region; }

async function catalog(region) {
  const r = await api('GET', '/diseases?region=' + encodeURIComponent(region));
  return r.items;
}

// Filing for a relative insured in another region (R-APP-9): the wizard
// cannot know her region (the first digits of an ID number say where it
// was issued, not where she is insured), so it offers its own region's
// lists; POST /applications refuses a disease or hospital that does not
// fit her region with details.region {code, name} from the registry.
// Then the wizard takes that region's catalog and hospitals and asks
// again (the disease kept when her catalog has it), the reason said
// beside the field of the step it goes back to.  true when it did, false
// when the answer is not that.
async function relativeRegion(st, e, req, show) {
  const r = e.details && e.details.region;
  if (!r || !req.relative || r.code === st.region) return false;
  st.region = r.code;
  st.regionName = r.name;
  st.diseases = await catalog(r.code);
  st.hospitals = null;
  const d = st.diseases.find((x) => x.code === req.disease_code);
  if (!d) {
    st.disease = null;
    show(1, { field: 'disease_code', message: '您的家人在' + r.name + '参保，该病种不在' + r.name +
      '的门诊慢特病目录中，请重新选择病种' });
    return true;
  }
  st.disease = d;
  show(2, { field: 'designated_institution', message: '您的家人在' + r.name + '参保，请选择' + r.name + '的定点医疗机构' });
  return true;
}


// ---------------------------------------------------------------- wizard

// opts (filing.js): mode 'hospital' or 'counter' when staff file for a
// person, title, base (the page's hash before the draft's id), intro
// (elements shown under the title).  Without: the insured person's own.
export async function applyWizard(id, main, opts) {
  const o = Object.assign({ mode: 'own', title: '申请门诊慢特病', base: '#/apply' }, opts || {});
  const st = { step: 1, app: null, disease: null, diseases: null, hospitals: null, o, region: ownRegion() };
  if (id) {
    st.app = await api('GET', '/applications/' + id);
    if (!['draft', 'returned'].includes(st.app.status)) { go('#/app/' + id); return; }
    st.region = st.app.region;
    st.diseases = await catalog(st.region);
    st.disease = st.diseases.find((d) => d.code === st.app.disease.code) || null;
    st.step = 3;
  } else {
    st.diseases = await catalog(st.region);
  }
  const body = h('div', { id: 'wizard-body' });
  const stepper = h('ol', { class: 'stepper', 'aria-label': '申请步骤' });
  clear(main).append(h('h1', { text: o.title }), ...(o.intro || []), stepper, body);

  // Show a step; with err, the error lands beside its field on that step
  // (or in the step's error box) instead of the focus going to the title.
  let shown = 0;
  function show(step, err) {
    const mine = ++shown;
    st.step = step;
    clear(stepper);
    STEPS.forEach((name, i) => {
      const li = h('li', { class: i + 1 === step ? 'current' : (i + 1 < step ? 'done' : '') },
        h('span', { class: 'step-no', text: String(i + 1) }), name);
      if (i + 1 === step) li.setAttribute('aria-current', 'step');
      stepper.append(li);
    });
    clear(body);
    const page = [stepDisease, stepDetails, stepMaterials, stepReview][step - 1];
    return Promise.resolve(page(st, body, show)).then(() => {
      if (mine !== shown) return;
      const h2 = body.querySelector('h2');
      if (h2) h2.setAttribute('tabindex', '-1');
      if (err) showError(body, err);
      else if (h2) h2.focus();
    }).catch((e) => { if (mine === shown) showError(body, e); });
  }
  show(st.step);
}

function diseaseKind(d) {
  return d.instant ? h('span', { class: 'tag tag-instant', text: '即时认定' })
    : h('span', { class: 'tag', text: '常规认定' });
}

// Quota or not (S2: 定额 / 非定额) and who certifies the disease (the
// catalog's certified_by, where the server gives it; else the mode).
function diseaseHow(d) {
  const who = d.certified_by && d.certified_by.text;
  return [h('span', { class: 'tag', text: d.quota ? '定额病种' : '非定额病种' }),
    h('span', { class: 'disease-mode', text: REVIEW_MODE[d.review_mode] || '' }),
    who ? h('span', { class: 'disease-mode', text: '由谁认定：' + who }) : null];
}

function stepDisease(st, body, show) {
  const search = h('input', { type: 'search', autocomplete: 'off', placeholder: '例如：高血压、糖尿病' });
  const list = h('div', { class: 'disease-list', role: 'radiogroup', 'aria-label': '病种' });
  const count = h('p', { class: 'hint', 'aria-live': 'polite' });
  const next = button('下一步：填写信息', () => {
    if (!st.disease) { showError(body, { message: '请先选择申请的病种', field: 'disease_code' }); return; }
    show(2);
  }, 'btn btn-primary btn-wide', { id: 'to-details' });

  function render() {
    const q = search.value.trim();
    const items = st.diseases.filter((d) => !q || d.name.includes(q) || d.code === q.toUpperCase());
    clear(list);
    count.textContent = q ? '找到 ' + items.length + ' 个病种' : '共 ' + items.length + ' 个病种';
    for (const d of items) {
      const radio = h('input', { type: 'radio', name: 'disease', value: d.code, id: 'dz-' + d.code });
      radio.checked = st.disease && st.disease.code === d.code;
      radio.addEventListener('change', () => { st.disease = d; clearErrors(body); });
      const needs = d.required_materials.filter((m) => m.required).map((m) => m.name);
      list.append(h('label', { class: 'disease', for: 'dz-' + d.code },
        radio,
        h('span', { class: 'disease-body' },
          h('span', { class: 'disease-name', text: d.name }), ' ', diseaseKind(d), ...diseaseHow(d),
          h('span', { class: 'disease-needs', text: '需要材料：' + (needs.join('；') || '无') }))));
    }
  }
  search.addEventListener('input', render);
  render();
  body.append(h('h2', { text: '第一步：选择申请的病种' }),
    field('按名称查找病种', search, 'search'),
    count,
    h('div', { class: 'field', 'data-field': 'disease_code' }, list,
      h('p', { class: 'field-error', 'aria-live': 'polite' })),
    h('div', { class: 'actions' }, next));
}

// Who the application is for, on a new draft: staff name the person
// (ID number and name, checked against the registry); an insured person
// files for themself or, as the family agent, for a relative (R-APP-9).
// Returns { box, fill(req) }: fill adds the fields to the request, or
// returns an error to show.
function whoFor(st) {
  const idn = () => h('input', { type: 'text', maxlength: 18, autocomplete: 'off', class: 'mono', spellcheck: 'false' });
  if (st.o.mode !== 'own') {
    const p = { id_number: idn(), name: h('input', { type: 'text', maxlength: 32, autocomplete: 'off' }) };
    const box = h('fieldset', { class: 'person' }, h('legend', { text: '申请人（参保人）' }),
      field('申请人身份证号码', p.id_number, 'id_number', '18 位，最后一位可能是 X'),
      field('申请人姓名', p.name, 'name', '须与参保登记一致'));
    return { box, agentAllowed: () => true, fill(req) {
      req.id_number = p.id_number.value.trim().toUpperCase();
      req.name = p.name.value.trim();
      if (!req.id_number) return { field: 'id_number', message: '请填写申请人身份证号码' };
      if (!req.name) return { field: 'name', message: '请填写申请人姓名' };
      return null;
    } };
  }
  const self = h('input', { type: 'radio', name: 'for-whom', id: 'for-self', value: 'self', checked: true });
  const family = h('input', { type: 'radio', name: 'for-whom', id: 'for-family', value: 'family' });
  const r = {
    id_number: idn(), name: h('input', { type: 'text', maxlength: 32, autocomplete: 'off' }),
    relation: h('select', {}, h('option', { value: '', text: '请选择' }), RELATIONS.map((x) => h('option', { value: x, text: x }))),
    promise: h('input', { type: 'checkbox', id: 'relative-promise' }),
  };
  const famBox = h('fieldset', { class: 'relative', hidden: true, id: 'relative-box' },
    h('legend', { text: '家人的信息' }),
    field('家人的身份证号码', r.id_number, 'relative.id_number', '18 位，最后一位可能是 X'),
    field('家人的姓名', r.name, 'relative.name', '须与家人的参保登记一致'),
    field('您是家人的', r.relation, 'relative.relation'),
    h('div', { class: 'card promise-box', 'data-field': 'relative.promise' },
      h('h3', { text: '代办承诺书' }),
      h('p', { class: 'promise-text', text: AGENT_PROMISE }),
      h('div', { class: 'check' }, r.promise, h('label', { for: 'relative-promise', text: '我已阅读并同意以上承诺' })),
      h('p', { class: 'field-error', 'aria-live': 'polite' })),
    h('p', { class: 'hint', text: '提交后，申请属于您的家人；您用自己的账号查看进度、补交材料。认定结果短信发到下面填写的联系电话，可以填您自己的手机号。' }));
  const box = h('fieldset', { class: 'for-whom' }, h('legend', { text: '为谁申请' }),
    h('div', { class: 'check' }, self, h('label', { for: 'for-self', text: '为本人申请' })),
    h('div', { class: 'check' }, family, h('label', { for: 'for-family', text: '为家人申请（我是代办人）' })),
    famBox);
  const isFamily = () => family.checked;
  return { box, isFamily, famBox, agentAllowed: () => !isFamily(), onChange(fn) {
    for (const x of [self, family]) x.addEventListener('change', () => { famBox.hidden = !isFamily(); fn(); });
  }, fill(req) {
    if (!isFamily()) return null;
    req.relative = {
      id_number: r.id_number.value.trim().toUpperCase(), name: r.name.value.trim(),
      relation: r.relation.value, promise: r.promise.checked,
    };
    if (!req.relative.id_number) return { field: 'relative.id_number', message: '请填写家人的身份证号码' };
    if (!req.relative.name) return { field: 'relative.name', message: '请填写家人的姓名' };
    if (!req.relative.relation) return { field: 'relative.relation', message: '请选择您与家人的关系' };
    if (!req.relative.promise) return { field: 'relative.promise', message: '请阅读并勾选代办承诺书' };
    return null;
  } };
}

// Filed by a family member for a relative (R-APP-9): its first event.
function familyFiled(a) {
  return a.timeline.length > 0 && a.timeline[0].type === 'filed_by_agent';
}

function stepDetails(st, body, show) {
  return (async () => {
    // Only hospitals that fit the disease (R-CER-8, catalog ?disease=);
    // certified in a hospital (onsite, panel): only those that may
    // certify it now (certifying=true).
    const dcode = st.disease ? st.disease.code : st.app.disease.code;
    if (!st.hospitals || st.hospitals.disease !== dcode) {
      const inHospital = !!st.disease && ['onsite', 'panel'].includes(st.disease.review_mode);
      st.hospitals = { disease: dcode, items: await designatedHospitals(st.region, dcode, inHospital) };
    }
    const a = st.app;
    // The relative's fields live as long as the wizard (kept when the
    // step is drawn again for her region).
    const who = a ? null : (st.who = st.who || whoFor(st));
    const kept = st.kept || {};
    const phone = h('input', { type: 'tel', inputmode: 'numeric', maxlength: 11, autocomplete: 'tel', value: a ? a.phone : kept.phone || '' });
    const mrn = h('input', { type: 'text', maxlength: 64, autocomplete: 'off', value: a ? a.medical_record_no || '' : kept.mrn || '' });
    const hosp = h('select', {}, h('option', { value: '', text: '请选择定点医疗机构' }),
      st.hospitals.items.map((i) => h('option', { value: i.code, text: i.name })));
    if (a) hosp.value = a.designated_institution.code;
    else if (st.o.mode === 'hospital' && session.me.scope.institution) hosp.value = session.me.scope.institution;
    const hasAgent = h('input', { type: 'checkbox', id: 'has-agent' });
    const ag = {
      name: h('input', { type: 'text', maxlength: 32, autocomplete: 'off' }),
      id_number: h('input', { type: 'text', maxlength: 18, autocomplete: 'off', class: 'mono' }),
      relation: h('input', { type: 'text', maxlength: 16, autocomplete: 'off', placeholder: '例如：子女、配偶' }),
      phone: h('input', { type: 'tel', inputmode: 'numeric', maxlength: 11, autocomplete: 'off' }),
    };
    const agentBox = h('fieldset', { class: 'agent', hidden: true },
      h('legend', { text: '代办人信息' }),
      field('代办人姓名', ag.name, 'agent.name'),
      field('代办人身份证号码', ag.id_number, 'agent.id_number', '出于保护，已保存的号码只显示部分数字，修改时请重新填写完整号码'),
      field('与申请人关系', ag.relation, 'agent.relation'),
      field('代办人手机号码', ag.phone, 'agent.phone'));
    if (a && a.agent) {
      hasAgent.checked = true;
      agentBox.hidden = false;
      ag.name.value = a.agent.name || '';
      ag.relation.value = a.agent.relation || '';
      ag.phone.value = a.agent.phone || '';
    }
    hasAgent.addEventListener('change', () => { agentBox.hidden = !hasAgent.checked; });
    const agentRow = h('div', { class: 'check' }, hasAgent, h('label', { for: 'has-agent', text: '由家属或他人代办' }));
    // Filed by a family member: the agent is that member, not changed here.
    if (a && familyFiled(a)) { agentRow.hidden = true; agentBox.hidden = true; hasAgent.checked = false; }
    if (who && who.onChange) {
      agentRow.hidden = !who.agentAllowed();
      who.onChange(() => {
        agentRow.hidden = !who.agentAllowed();
        if (agentRow.hidden) { hasAgent.checked = false; agentBox.hidden = true; }
        // Back to filing for oneself after her region was taken: one's
        // own region's lists again, from the disease.
        if (!who.isFamily() && st.region !== ownRegion() && agentRow.isConnected) {
          st.region = ownRegion();
          st.kept = { phone: phone.value, mrn: mrn.value };
          catalog(st.region).then((list) => {
            st.diseases = list;
            st.disease = null;
            st.hospitals = null;
            show(1);
          }).catch((e) => showError(form, e));
        }
      });
    }
    const save = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', id: 'save-details' }, '保存，下一步：上传材料');
    const form = h('form', { class: 'form', novalidate: true },
      formError(),
      h('p', {}, '申请病种：', h('strong', { text: st.disease ? st.disease.name : a.disease.name })),
      who ? who.box : null,
      field('联系电话（接收认定结果短信）', phone, 'phone'),
      field('病案号', mrn, 'medical_record_no', '住院病历或门诊病历上的病案号'),
      field(st.region !== ownRegion() && st.regionName ? '定点医疗机构（家人参保地：' + st.regionName + '）' : '定点医疗机构（本统筹区）',
        hosp, 'designated_institution', '只列出能诊疗这个病种的医院；认定通过后在这家医院享受门诊慢特病待遇'),
      agentRow,
      agentBox,
      h('div', { class: 'actions' },
        a ? null : button('上一步', () => show(1), 'btn btn-secondary'),
        save));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(save, async () => {
        clearErrors(form);
        const req = {
          phone: phone.value.trim(),
          medical_record_no: mrn.value.trim(),
          designated_institution: hosp.value,
        };
        const whoErr = who ? who.fill(req) : null;
        if (whoErr) { showError(form, whoErr); return; }
        if (!req.designated_institution) {
          showError(form, { field: 'designated_institution', message: '请选择定点医疗机构' });
          return;
        }
        if (hasAgent.checked) {
          req.agent = {
            name: ag.name.value.trim(), id_number: ag.id_number.value.trim().toUpperCase(),
            relation: ag.relation.value.trim(), phone: ag.phone.value.trim(),
          };
          // The saved agent's number is shown masked, so it is not sent
          // back: unchanged, the agent is left as saved; changed, the full
          // number is needed again.
          if (a && a.agent && !req.agent.id_number) {
            const same = ['name', 'relation', 'phone'].every((k) => req.agent[k] === (a.agent[k] || ''));
            if (!same) {
              showError(form, { field: 'agent.id_number', message: '修改代办人信息时，请重新填写代办人完整的身份证号码' });
              return;
            }
            delete req.agent;
          }
        } else if (a && a.agent && !familyFiled(a)) {
          req.agent = null;   // no agent any more
        }
        try {
          if (a) {
            st.app = await api('PATCH', '/applications/' + a.id, req);
          } else {
            req.disease_code = st.disease.code;
            st.app = await api('POST', st.o.mode === 'hospital' ? '/hospital/applications' : '/applications', req);
            // The draft exists now: a reload comes back to it.
            history.replaceState(null, '', st.o.base + '/' + st.app.id);
          }
          show(3);
        } catch (e) {
          if (!a) st.kept = { phone: phone.value, mrn: mrn.value };
          if (!a && await relativeRegion(st, e, req, show)) return;
          if (e.code === 'application_exists') {
            e.field = null;
          }
          showError(form, e);
        }
      });
    });
    body.append(h('h2', { text: '第二步：填写申请信息' }), form);
  })();
}

// A material's age limit in words: 730 -> "近 2 年", 90 -> "近 3 个月".
function period(days) {
  if (days % 365 === 0) return '近 ' + days / 365 + ' 年';
  if (days % 30 === 0) return '近 ' + days / 30 + ' 个月';
  return '近 ' + days + ' 天';
}

// The materials the disease asks for, each marked uploaded or missing.
function checklist(st) {
  const missing = new Set(st.app.missing_materials.map((m) => m.kind));
  const kinds = st.disease ? st.disease.required_materials
    : st.app.missing_materials.map((m) => Object.assign({ required: true }, m));
  const items = kinds.map((k) => {
    const have = st.app.materials.filter((m) => m.kind === k.kind).length;
    const isMissing = missing.has(k.kind);
    return h('li', { class: isMissing ? 'todo' : (have ? 'ok' : 'optional'), 'data-kind': k.kind },
      h('span', { class: 'mark', 'aria-hidden': 'true', text: isMissing ? '!' : (have ? '✓' : '○') }),
      h('span', {},
        h('strong', { text: k.name }),
        h('span', { class: 'sr-only', text: isMissing ? '（还未上传）' : (have ? '（已上传）' : '（选交）') }),
        k.required ? null : h('span', { class: 'tag', text: '选交' }),
        k.max_age_days ? h('span', { class: 'hint', text: '须为' + period(k.max_age_days) + '内出具的材料' }) : null,
        k.note && k.note !== k.name ? h('span', { class: 'hint', text: k.note }) : null));
  });
  return h('ul', { class: 'checklist', id: 'checklist' }, items);
}

function missingSummary(st) {
  const n = st.app.missing_materials.length;
  return h('p', { class: n ? 'missing' : 'complete', id: 'missing-summary', 'aria-live': 'polite' },
    n ? '还缺 ' + n + ' 项材料：' + st.app.missing_materials.map((m) => m.name).join('、')
      : '必需的材料已经齐全');
}

export function materialList(st, onChange) {
  const editable = ['draft', 'returned'].includes(st.app.status);
  if (!st.app.materials.length) return h('p', { class: 'hint', text: '还没有上传材料' });
  return h('ul', { class: 'files', id: 'uploaded' }, st.app.materials.map((m) =>
    h('li', {},
      m.media_type === 'application/pdf' ? h('img', { src: 'img/pdf.svg', alt: 'PDF 文件', class: 'thumb' })
        : h('img', { src: fileUrl(m.id), alt: m.name + '（图片）', class: 'thumb', loading: 'lazy' }),
      h('span', { class: 'file-meta' },
        h('strong', { text: m.name }),
        h('span', { text: '出具日期 ' + fmtDate(m.issued_on) + (m.issuer ? '，' + m.issuer : '') }),
        h('span', { class: 'hint', text: bytes(m.size) })),
      h('span', { class: 'file-actions' },
        h('a', { href: fileUrl(m.id), target: '_blank', rel: 'noopener', text: '查看' }),
        editable && onChange ? button('删除', async (ev) => {
          await busy(ev.currentTarget, async () => {
            try {
              await api('DELETE', '/applications/' + st.app.id + '/materials/' + m.id);
              announce('已删除：' + m.name);
              await onChange();
              const hd = document.getElementById('uploaded-title');
              if (hd) hd.focus();
            } catch (e) { announce(e.message, true); }
          });
        }, 'btn btn-secondary btn-small', { 'aria-label': '删除 ' + m.name }) : null))));
}

// A hospital filing's pre-check (R-APP-7) in plain words.
function precheckBox(a) {
  const p = a.precheck;
  if (!p) return null;
  const miss = p.missing_materials || [];
  return h('div', { class: 'card info', id: 'precheck' },
    h('h3', { text: '预检结果' }),
    h('p', { text: p.refusal ? '不符合申请条件，提交时会被拒绝：请核对病种、定点医院和本年度的申请次数。'
      : '申请条件检查通过（病种、定点医院、本院认定资格、本年度申请次数）。' }),
    h('p', { text: miss.length ? '填报时还缺 ' + miss.length + ' 项材料：' + miss.map((m) => m.name).join('、') + '。请在下面上传。'
      : '填报时必需的材料已经齐全。' }));
}

// The form that uploads one material of application st.app (R-APP-3),
// offering kinds, with the preview and the progress; after each upload
// reload() brings st.app up to date.  The wizard's step 3 and the
// objection page (objection.js) use it.
export function uploadForm(st, kinds, reload) {
  const kind = h('select', {}, kinds.map((k) => h('option', { value: k.kind, text: k.name })));
  // Preselect the first still-missing kind.
  if (st.app.missing_materials.length) kind.value = st.app.missing_materials[0].kind;
  const issued = h('input', { type: 'date', max: cnToday() });
  const issuer = h('input', { type: 'text', maxlength: 64, placeholder: '例如：某某医院', required: true });
  const file = h('input', { type: 'file', accept: ACCEPT });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const progress = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': '上传进度' });
  const pct = h('span', { class: 'hint' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary', id: 'upload' }, '上传这份材料');
  const form = h('form', { class: 'form card', novalidate: true },
    formError(),
    h('h3', { text: '上传一份材料' }),
    field('材料类别', kind, 'kind'),
    field('出具日期', issued, 'issued_on', '病历、报告上的日期'),
    field('出具机构', issuer, 'issuer', '出具病历或报告的医院'),
    field(MAX_UPLOAD_LABEL, file, 'file'),
    preview,
    h('div', { class: 'progress-row' }, progress, pct),
    send);
  let objectUrl = null;
  onLeave(() => { if (objectUrl) URL.revokeObjectURL(objectUrl); });

  file.addEventListener('change', () => {
    clear(preview);
    if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
    const f = file.files[0];
    if (!f) return;
    if (f.type === 'application/pdf') {
      preview.append(h('img', { src: 'img/pdf.svg', alt: 'PDF 文件', class: 'thumb' }));
    } else if (f.type.startsWith('image/')) {
      objectUrl = URL.createObjectURL(f);
      preview.append(h('img', { src: objectUrl, alt: '所选图片的预览', class: 'thumb thumb-large' }));
    }
    preview.append(h('span', { text: f.name + '（' + bytes(f.size) + '）' }));
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(send, async () => {
      clearErrors(form);
      const f = file.files[0];
      if (!f) { showError(form, { field: 'file', message: '请选择要上传的文件' }); return; }
      if (f.size > MAX_UPLOAD) {
        showError(form, { field: 'file', message: '文件过大（' + bytes(f.size) + '），单个文件不能超过 ' + MAX_UPLOAD_MB + ' MB；请压缩或分页拍照后再上传' });
        return;
      }
      if (!issued.value) { showError(form, { field: 'issued_on', message: '请填写出具日期' }); return; }
      if (!issuer.value.trim()) { showError(form, { field: 'issuer', message: '请填写出具机构' }); return; }
      const fd = new FormData();
      fd.append('kind', kind.value);
      fd.append('issued_on', issued.value);
      if (issuer.value.trim()) fd.append('issuer', issuer.value.trim());
      fd.append('file', f, f.name);
      progress.hidden = false;
      progress.value = 0;
      try {
        await upload('/applications/' + st.app.id + '/materials', fd, (x) => {
          progress.value = Math.round(x * 100);
          pct.textContent = '已上传 ' + Math.round(x * 100) + '%';
        });
        announce('上传成功');
        file.value = '';
        clear(preview);
        await reload();
        if (st.app.missing_materials.length) kind.value = st.app.missing_materials[0].kind;
      } catch (e) {
        showError(form, e);
      } finally {
        progress.hidden = true;
        pct.textContent = '';
      }
    });
  });
  return form;
}

function stepMaterials(st, body, show) {
  const kinds = (st.disease ? st.disease.required_materials : st.app.missing_materials).slice();
  // The filing hospital's own electronic records (R-APP-7): any disease.
  if (st.o.mode === 'hospital') kinds.push({ kind: 'hospital_record', name: '本院电子病历' });
  const listBox = h('div', {});
  const checkBox = h('div', {});
  // One live region for the missing list, kept while the step is shown:
  // a screen reader hears it shrink.
  const summary = missingSummary(st);
  const checkList = h('div', {});
  checkBox.append(summary, checkList);
  function refresh() {
    const fresh = missingSummary(st);
    summary.className = fresh.className;
    summary.textContent = fresh.textContent;
    clear(checkList).append(checklist(st));
    clear(listBox).append(materialList(st, reload));
  }
  async function reload() {
    st.app = await api('GET', '/applications/' + st.app.id);
    refresh();
  }
  const form = uploadForm(st, kinds, reload);

  refresh();
  body.append(h('h2', { text: '第三步：上传材料' }),
    precheckBox(st.app),
    h('p', { text: '请按清单上传，每份材料可以拍照或上传 PDF；一份材料有多页时可以分多次上传。' }),
    checkBox, form,
    h('h3', { text: '已上传的材料', id: 'uploaded-title', tabindex: '-1' }), listBox,
    h('div', { class: 'actions' },
      button('上一步', () => show(2), 'btn btn-secondary'),
      button('下一步：确认提交', () => show(4), 'btn btn-primary', { id: 'to-review' })));
}

function summaryList(a) {
  const row = (k, v) => [h('dt', { text: k }), h('dd', { text: v || '—' })];
  return h('dl', { class: 'summary' },
    row('申请病种', a.disease.name),
    row('认定方式', REVIEW_MODE[a.review_mode]),
    row('申请人', a.applicant.name + '（' + a.applicant.id_number + '）'),
    row('联系电话', a.phone),
    row('病案号', a.medical_record_no),
    row('定点医疗机构', a.designated_institution.name),
    a.agent ? row('代办人', a.agent.name + '（' + a.agent.relation + '，' + a.agent.phone + '）') : null);
}

function stepReview(st, body, show) {
  const a = st.app;
  const agree = h('input', { type: 'checkbox', id: 'promise' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', id: 'submit-app', disabled: true }, '提交申请');
  const why = h('p', { class: 'hint', id: 'submit-why', 'aria-live': 'polite' });
  const missing = a.missing_materials.length > 0;
  function update() {
    submit.disabled = missing || !agree.checked;
    why.textContent = missing ? '材料还没有齐全，补齐后才能提交'
      : (agree.checked ? '' : '请阅读并勾选承诺书');
  }
  agree.addEventListener('change', update);
  const form = h('form', { class: 'form', novalidate: true },
    formError(),
    h('div', { class: 'card promise-box', 'data-field': 'promise' },
      h('h3', { text: '承诺书' }),
      h('p', { class: 'promise-text', text: PROMISE }),
      h('div', { class: 'check' }, agree, h('label', { for: 'promise', text: '我已阅读并同意以上承诺' })),
      h('p', { class: 'field-error', 'aria-live': 'polite' })),
    why,
    h('div', { class: 'actions' }, button('上一步', () => show(3), 'btn btn-secondary'), submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    busy(submit, async () => {
      clearErrors(form);
      try {
        await api('POST', '/applications/' + a.id + '/submit', { promise: agree.checked });
        go('#/app/' + a.id, '申请已提交，认定结果将以短信通知');
      } catch (e) {
        if (e.status === 0 || e.status >= 500) { showError(form, e); return; }
        // Refused: show the step where it can be put right, with the
        // message beside the field it names, on fresh data.
        try { st.app = await api('GET', '/applications/' + a.id); } catch (x) { /* keep what we have */ }
        const step = FIELD_STEP[e.field] ||
          (['materials_missing', 'material_too_old'].includes(e.code) ? 3 : 4);
        await show(step, e);
      }
    });
  });
  update();
  body.append(h('h2', { text: '第四步：确认并提交' }),
    summaryList(a),
    missing ? h('div', { class: 'card warn' }, missingSummary(st),
      button('去上传材料', () => show(3), 'btn btn-secondary')) : null,
    h('h3', { text: '材料' }), materialList(st, null),
    form);
  update();
}

// ---------------------------------------------------------- my applications

// The list of applications the caller may see (own, or filed by the
// caller's hospital): title, what an empty list says, and for hospital
// staff the applicant (masked ID number).
async function applicationList(main, head, empty, withApplicant) {
  const r = await api('GET', '/applications?limit=50');
  clear(main).append(...head);
  if (!r.items.length) {
    main.append(h('p', { class: 'card', text: empty }));
    return;
  }
  main.append(h('ul', { class: 'app-list' }, r.items.map((a) => h('li', { class: 'card' },
    h('div', { class: 'app-head' }, h('strong', { class: 'app-disease', text: a.disease.name }), statusBadge(shownStatus(a))),
    withApplicant ? h('p', { text: a.applicant.name + '（' + a.applicant.id_number + '）' }) : null,
    a.filed_for ? h('p', { class: 'filed-for', text: '为家人代办：' + a.applicant.name + (a.agent_relation ? '（您是其' + a.agent_relation + '）' : '') }) : null,
    h('p', { class: 'hint', text: '申请编号 ' + a.id + ' · ' +
      (a.submitted_at ? '提交于 ' + fmtTime(a.submitted_at) : '创建于 ' + fmtTime(a.created_at)) }),
    h('a', { href: '#/app/' + a.id, class: 'btn btn-secondary',
      text: a.status === 'draft' ? '查看或继续填写' : '查看进度' })))));
}

export function myApplications(m, main) {
  return applicationList(main, [h('div', { class: 'title-row' },
    h('h1', { text: '我的申请' }),
    h('a', { class: 'btn btn-primary', href: '#/apply', text: '申请门诊慢特病' }))],
  '您还没有申请。点击“申请门诊慢特病”开始。', false);
}

// Nobody eligible to review it yet: say so, not "专家认定中".
function shownStatus(a) {
  return a.waiting_for_expert ? 'unassigned' : a.status;
}

// ---------------------------------------------------------- one application

export async function applicationDetail(id, main) {
  const a = await api('GET', '/applications/' + id);
  clear(main).append(h('h1', { text: a.disease.name }),
    h('p', { class: 'status-line' }, '当前状态：', statusBadge(shownStatus(a))));
  if (a.waiting_for_expert) {
    main.append(h('p', { class: 'card info', id: 'waiting' }, a.waiting_for_expert.text +
      '（自 ' + fmtTime(a.waiting_for_expert.since) + ' 起）'));
  }
  // During an objection the date is its deadline (sql/fn/80_objection.sql).
  if (a.expected_decision_date) {
    const objecting = a.objection?.filed?.state === 'open';
    main.append(h('p', { class: 'card info', id: 'expected' }, '预计在 ',
      h('strong', { text: fmtDate(a.expected_decision_date) }),
      objecting ? ' 前作出复核结论，结果将以短信通知。' : ' 前作出认定结论，结果将以短信通知。'));
  }
  const returned = returnedNotice(a);   // what to add, by when (returns.js)
  if (returned) main.append(returned);
  const role = session.me.role;
  const own = role === 'insured';
  // Where a draft is finished: the wizard of whoever filed it.
  const wizard = { insured: '#/apply/', hospital: '#/hospital/file/', agency: '#/agency/file/' }[role];
  if (a.status === 'approved' && a.qualification) {
    const q = a.qualification;
    main.append(h('section', { class: 'card success', id: 'qualification' },
      h('h2', { text: '认定已通过：门诊慢特病待遇资格' }),
      h('dl', { class: 'summary' },
        h('dt', { text: '病种' }), h('dd', { text: a.disease.name }),
        h('dt', { text: '定点医疗机构' }), h('dd', { text: q.designated_institution.name }),
        h('dt', { text: '待遇有效期' }), h('dd', { text: fmtDate(q.valid_from) + ' 至 ' + fmtDate(q.valid_to) }),
        h('dt', { text: '资格状态' }), h('dd', { text: QUAL_STATUS[q.status] || q.status })),
      h('p', { class: 'hint', text: '请在定点医疗机构就医，按规定享受门诊慢特病待遇。' }),
      own ? h('p', {}, h('a', { href: '#/benefits', text: '查看我的待遇、电子凭证和告知书' })) : null));
  }
  if (a.status === 'rejected') {
    main.append(h('section', { class: 'card warn' },
      h('h2', { text: '认定未通过' }),
      h('p', { text: '原因：' + (a.decision_reason || '见短信通知') })));
  }
  // 申请复核 (R-CER-12): the window's last day and the button, or the
  // objection filed (objection.js).
  const objection = objectionBox(a);
  if (objection) main.append(objection);
  if (wizard && ['draft', 'returned'].includes(a.status)) {
    main.append(h('div', { class: 'card' },
      a.missing_materials.length ? h('p', { class: 'missing', text: '还缺 ' + a.missing_materials.length + ' 项材料：' +
        a.missing_materials.map((m) => m.name).join('、') }) : h('p', { text: '材料已齐全，确认后即可提交。' }),
      h('a', { class: 'btn btn-primary', href: wizard + a.id, text: '继续填写并提交' })));
  }
  main.append(h('h2', { text: '办理进度' }),
    h('ol', { class: 'timeline', id: 'timeline' }, a.timeline.map((e) =>
      h('li', {}, h('time', { datetime: e.at, text: fmtTime(e.at) }), h('span', { text: e.text })))));
  // Who read the person's file (reads.js, PIPL art. 45).
  if (own) main.append(readsSection(a.id));
  main.append(h('h2', { text: '申请信息' }), summaryList(a),
    h('h2', { text: '材料' }), materialList({ app: a }, null));
  if (WITHDRAWABLE.includes(a.status)) main.append(withdrawBox(a));
  main.append(h('p', {}, own ? h('a', { href: '#/my', text: '返回我的申请' })
    : role === 'agency' ? h('a', { href: '#/agency/file', text: '返回窗口代办' })
      : h('a', { href: '#/hospital', text: '返回本院代办的申请' })));
}

// ------------------------------------------------- hospital: what it filed

// Hospital staff see the applications their hospital filed for people
// (filed through the hospital API; R-APP-1), with each one's progress.
export function filedApplications(m, main) {
  return applicationList(main, [h('h1', { text: '本院代办的申请' }),
    h('p', { class: 'hint', text: '本院医保办为参保人代为申报的申请及其办理进度。' })],
  '本院还没有代办的申请。', true);
}

// While an objection is re-decided, withdrawing withdraws the objection:
// the first decision (不予认定) stands (sql/fn/80_objection.sql).
function withdrawBox(a) {
  const objecting = a.objection?.filed?.state === 'open';
  const confirmBox = h('div', { class: 'card warn', hidden: true, role: 'group', 'aria-labelledby': 'wd-title' },
    h('p', { id: 'wd-title', text: objecting
      ? '确定撤回复核申请吗？撤回后维持原认定结论（不予认定），且不能再次申请复核。'
      : '确定撤回这份申请吗？撤回后如需认定，要重新申请。' }));
  const err = formError();
  const open = button(objecting ? '撤回复核申请' : '撤回申请', () => { confirmBox.hidden = false; yes.focus(); }, 'btn btn-danger', { id: 'withdraw' });
  const yes = button('确认撤回', () => busy(yes, async () => {
    try {
      await api('POST', '/applications/' + a.id + '/withdraw');
      go('#/app/' + a.id, objecting ? '复核申请已撤回' : '申请已撤回');
    } catch (e) { err.textContent = e.message; err.hidden = false; }
  }), 'btn btn-danger', { id: 'withdraw-confirm' });
  const no = button('不撤回', () => { confirmBox.hidden = true; open.focus(); }, 'btn btn-secondary');
  confirmBox.append(err, h('div', { class: 'actions' }, yes, no));
  return h('section', { class: 'withdraw' }, open, confirmBox);
}

export { STATUS };
