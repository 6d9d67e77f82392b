// onsite.js -- hospital staff's 现场认定 (issue 11; R-CER-8, S1 现场确认备案,
// S4 医疗鉴定): the queue of on-site applications waiting for this hospital
// and those it certified; a new one (the person checked against the
// registry through POST /hospital/applications); the images with upload
// progress; the certification form (S4 认定表) and its result; the archive
// record with its images.  A page that fails to load is the router's
// error page.

import {
  api, allPages, designatedHospitals, upload, fileUrl, MAX_UPLOAD, MAX_UPLOAD_MB, MAX_UPLOAD_LABEL,
} from './api.js';
import {
  h, clear, field, clearErrors, showError, formError, busy, announce, button,
  fmtDate, fmtTime, bytes, cnToday,
} from './ui.js';
import { session, go } from './app.js';

const ACCEPT = 'image/jpeg,image/png,application/pdf';
// A page of the queue (the API's default; more with 加载更多).
const PAGE = 50;
const TITLES = ['初级', '中级', '副高', '正高'];
const CONCLUSION = { approve: '予以认定', reject: '不予认定' };
const CONFIRMATION = {
  pending: '已报医保经办机构，等待确认', confirmed: '医保经办机构已确认', overturned: '医保经办机构未予确认，认定结果无效',
};

// The status in the words of an on-site certification (ui.js's STATUS
// speaks of experts).
const STATUS = {
  draft: '待认定（本院代办）', returned: '待认定（已退回）', submitted: '待本院认定',
  in_review: '等待经办机构确认', approved: '已通过', rejected: '未通过', withdrawn: '已撤回',
};
function badge(status) { return h('span', { class: 'badge badge-' + status, text: STATUS[status] || status }); }

// A form's submit: the required inputs checked (each [input, field,
// message]: an empty one is named beside itself), then send() while the
// button is busy.
function onSubmit(form, btn, needed, send) {
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(btn, async () => {
      clearErrors(form);
      const empty = needed.find(([el]) => !el.value.trim());
      if (empty) showError(form, { field: empty[1], message: empty[2] });
      else await send();
    });
  });
}

function person(x) { return x.name + '（' + x.id_number + '）'; }

function rows(list) {
  return h('dl', { class: 'summary' }, list.filter((r) => r && r[1])
    .map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
}

// ------------------------------------------------------------ the queue

function queueItem(c, waiting) {
  return h('li', { class: 'card', 'data-app': c.application_id },
    h('div', { class: 'app-head' }, h('strong', { class: 'app-disease', text: c.disease.name }),
      badge(c.status)),
    h('p', { text: person(c.person) }),
    h('p', { class: 'hint', text: '申请编号 ' + c.application_id + ' · ' + (waiting
      ? (c.submitted_at ? '提交于 ' + fmtTime(c.submitted_at) : '本院代办，尚未认定')
      : '认定于 ' + fmtTime(c.certified_at) + '，' + CONCLUSION[c.conclusion]) }),
    h('a', { href: '#/hospital/onsite/' + c.application_id, class: 'btn btn-secondary',
      text: waiting ? '上传影像并认定' : '查看认定档案' }));
}

// One list of the queue (state waiting or done): the first page of the
// API's, then 加载更多 while it says there are more (next_cursor).
async function queueList(state, empty) {
  const path = '/hospital/certifications?state=' + state + '&limit=' + PAGE;
  const first = await api('GET', path);
  const waiting = state === 'waiting';
  if (!first.items.length) return h('p', { class: 'card', text: empty });
  const list = h('ul', { class: 'app-list', id: 'onsite-' + state }, first.items.map((c) => queueItem(c, waiting)));
  let cursor = first.next_cursor;
  const more = button('加载更多', () => busy(more, async () => {
    try {
      const r = await api('GET', path + '&cursor=' + encodeURIComponent(cursor));
      list.append(...r.items.map((c) => queueItem(c, waiting)));
      cursor = r.next_cursor;
      more.hidden = !cursor;
      if (!cursor) announce('已全部列出');
    } catch (e) { announce(e.message, true); }
  }), 'btn btn-secondary', { hidden: !cursor, id: 'onsite-more-' + state });
  return h('div', {}, list, more);
}

export async function onsiteQueue(m, main) {
  const [waiting, done] = await Promise.all([
    queueList('waiting', '没有等待本院认定的申请。'),
    queueList('done', '本院还没有认定过申请。')]);
  clear(main).append(
    h('div', { class: 'title-row' }, h('h1', { text: '现场认定' }),
      h('a', { class: 'btn btn-primary', href: '#/hospital/onsite/new', id: 'onsite-new', text: '新的现场认定' })),
    h('p', { class: 'hint', text: '本院为参保人现场认定门诊慢特病：核对身份、上传影像资料、填写认定表。' }),
    h('h2', { text: '等待本院认定' }), waiting,
    h('h2', { text: '本院已认定' }), done);
}

// ------------------------------------------------------- a new one

// The diseases this hospital may certify (its active authorization, the
// catalog's certifying_diseases) among its region's on-site diseases.
async function certifiableDiseases() {
  const { region, institution } = session.me.scope;
  const [diseases, hospitals] = await Promise.all([
    allPages('/diseases?region=' + encodeURIComponent(region) + '&limit=100'),
    allPages('/institutions?region=' + encodeURIComponent(region) + '&limit=100')]);
  const own = hospitals.find((i) => i.code === institution);
  const allowed = new Set(own && own.certification_status === 'active' ? own.certifying_diseases || [] : []);
  return diseases.filter((d) => d.review_mode === 'onsite' && allowed.has(d.code));
}

export async function onsiteNew(m, main) {
  const diseases = await certifiableDiseases();
  clear(main).append(h('h1', { text: '新的现场认定' }));
  if (!diseases.length) {
    main.append(h('p', { class: 'card warn', text: '本院目前没有可以现场认定的病种（没有认定授权或授权已暂停）。如有疑问，请联系医保经办机构。' }),
      h('p', {}, h('a', { href: '#/hospital/onsite', text: '返回现场认定' })));
    return;
  }
  const idn = h('input', { type: 'text', maxlength: 18, autocomplete: 'off', inputmode: 'text', required: true });
  const name = h('input', { type: 'text', maxlength: 32, autocomplete: 'off', required: true });
  const disease = h('select', {}, diseases.map((d) => h('option', { value: d.code, text: d.name })));
  const phone = h('input', { type: 'tel', maxlength: 11, inputmode: 'numeric', required: true });
  const record = h('input', { type: 'text', maxlength: 64, required: true });
  const hospital = h('select', {});
  const send = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', id: 'onsite-file' }, '核对身份并建档');
  const form = h('form', { class: 'form card', novalidate: true },
    formError(),
    field('身份证号码', idn, 'id_number', '18 位，最后一位可能是 X'),
    field('姓名', name, 'name', '与身份证一致'),
    field('认定病种', disease, 'disease_code', '只列出本院获得认定授权的病种'),
    field('联系电话', phone, 'phone', '认定结果以短信发到这个号码'),
    field('病案号', record, 'medical_record_no'),
    field('定点医疗机构', hospital, 'designated_institution', '参保人今后就医结算的医院'),
    send);
  async function fillHospitals() {
    const list = await designatedHospitals(session.me.scope.region, disease.value);
    clear(hospital).append(...list.map((i) => h('option', { value: i.code, text: i.name })));
    hospital.value = list.some((i) => i.code === session.me.scope.institution) ? session.me.scope.institution : '';
  }
  disease.addEventListener('change', () => fillHospitals().catch((e) => showError(form, e)));
  await fillHospitals();
  onSubmit(form, send, [[idn, 'id_number', '请填写身份证号码'], [name, 'name', '请填写姓名'],
    [phone, 'phone', '请填写联系电话'], [record, 'medical_record_no', '请填写病案号']], async () => {
    try {
      const a = await api('POST', '/hospital/applications', {
        id_number: idn.value.trim().toUpperCase(), name: name.value.trim(),
        disease_code: disease.value, phone: phone.value.trim(),
        medical_record_no: record.value.trim(), designated_institution: hospital.value,
      });
      go('#/hospital/onsite/' + a.id, '已建档，请上传影像资料并填写认定表');
    } catch (e) { showError(form, e); }
  });
  main.append(h('p', { class: 'hint', text: '身份证号码和姓名会与参保登记信息核对。' }), form,
    h('p', {}, h('a', { href: '#/hospital/onsite', text: '返回现场认定' })));
}

// ------------------------------------------------------- one record

function imageList(c) {
  if (!c.materials.length) return h('p', { class: 'hint', id: 'no-images', text: '还没有影像资料。' });
  return h('ul', { class: 'file-list', id: 'images' }, c.materials.map((x) => h('li', { class: 'file-row' },
    h('span', { class: 'file-info' }, h('strong', { text: x.name }), h('span', { class: 'hint', text: bytes(x.size) })),
    h('a', { href: fileUrl(x.id), target: '_blank', rel: 'noopener', text: '查看', 'aria-label': '查看 ' + x.name }))));
}

// The upload form (kinds of the disease), with progress; onDone reloads.
function uploadForm(c, kinds, onDone) {
  const kind = h('select', {}, kinds.map((k) => h('option', { value: k.kind, text: k.name })));
  const issued = h('input', { type: 'date', max: cnToday(), value: cnToday() });
  const file = h('input', { type: 'file', accept: ACCEPT });
  const progress = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': '上传进度' });
  const pct = h('span', { class: 'hint', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', class: 'btn btn-secondary', id: 'onsite-upload' }, '上传这份影像');
  const form = h('form', { class: 'form card', novalidate: true },
    formError(), h('h3', { text: '上传影像资料' }),
    field('资料类别', kind, 'kind'),
    field('出具日期', issued, 'issued_on'),
    field(MAX_UPLOAD_LABEL, file, 'file'),
    h('div', { class: 'progress-row' }, progress, pct), send);
  onSubmit(form, send, [[issued, 'issued_on', '请填写出具日期']], async () => {
    const f = file.files[0];
    if (!f || f.size > MAX_UPLOAD) {
      showError(form, { field: 'file', message: f ? '文件过大（' + bytes(f.size) + '），单个文件不能超过 ' + MAX_UPLOAD_MB + ' MB；请压缩后再上传' : '请选择要上传的文件' });
      return;
    }
    const fd = new FormData();
    fd.append('kind', kind.value);
    fd.append('issued_on', issued.value);
    fd.append('issuer', c.institution.name);
    fd.append('file', f, f.name);
    progress.hidden = false;
    progress.value = 0;
    try {
      await upload('/applications/' + c.application_id + '/materials', fd, (x) => {
        progress.value = Math.round(x * 100);
        pct.textContent = '已上传 ' + Math.round(x * 100) + '%';
      });
      announce('上传成功');
      await onDone();
    } catch (e) { showError(form, e); } finally { progress.hidden = true; pct.textContent = ''; }
  });
  return form;
}

// The certification form (S4 认定表).
function certifyForm(c, onDone) {
  const diagnosis = h('input', { type: 'text', maxlength: 500, required: true });
  const basis = h('textarea', { rows: 3, maxlength: 2000, required: true });
  const exams = h('textarea', { rows: 3, maxlength: 2000, required: true });
  const doctor = h('input', { type: 'text', maxlength: 32, required: true });
  const title = h('select', {}, TITLES.map((t) => h('option', { value: t, text: t })));
  title.value = '副高';
  const radios = Object.entries(CONCLUSION).map(([v, t]) => {
    const r = h('input', { type: 'radio', name: 'conclusion', value: v, id: 'conclusion-' + v });
    return h('div', { class: 'check' }, r, h('label', { for: r.id, text: t }));
  });
  const reason = h('textarea', { rows: 2, maxlength: 1000 });
  const reasonBox = field('不予认定的理由', reason, 'reason', '不予认定时必填，会以短信告知参保人');
  reasonBox.hidden = true;
  const send = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', id: 'onsite-certify' }, '提交认定结论');
  const group = h('fieldset', { class: 'field', 'data-field': 'conclusion' },
    h('legend', { text: '认定结论' }), radios, h('p', { class: 'field-error', 'aria-live': 'polite' }));
  const form = h('form', { class: 'form card', novalidate: true, id: 'certify-form' },
    formError(), h('h2', { text: '认定表' }),
    field('诊断', diagnosis, 'diagnosis'),
    field('认定依据', basis, 'basis', '符合认定标准的依据'),
    field('检查检验结果', exams, 'examinations'),
    field('认定医师姓名', doctor, 'physician_name'),
    field('认定医师职称', title, 'physician_title'),
    group, reasonBox, send);
  const chosen = () => (form.querySelector('input[name=conclusion]:checked') || {}).value;
  form.addEventListener('change', () => { reasonBox.hidden = chosen() !== 'reject'; });
  onSubmit(form, send, [[diagnosis, 'diagnosis', '请填写诊断'], [basis, 'basis', '请填写认定依据'],
    [exams, 'examinations', '请填写检查检验结果'], [doctor, 'physician_name', '请填写认定医师姓名']], async () => {
    const conclusion = chosen();
    if (!conclusion) {
      showError(form, { field: 'conclusion', message: '请选择认定结论' });
      radios[0].querySelector('input').focus();
      return;
    }
    if (conclusion === 'reject' && !reason.value.trim()) { showError(form, { field: 'reason', message: '不予认定须写明理由' }); return; }
    const body = {
      application_id: Number(c.application_id), diagnosis: diagnosis.value.trim(), basis: basis.value.trim(),
      examinations: exams.value.trim(), physician_name: doctor.value.trim(), physician_title: title.value, conclusion,
    };
    if (conclusion === 'reject') body.reason = reason.value.trim();
    try {
      await api('POST', '/hospital/certifications', body);
      await onDone(conclusion === 'approve' ? '认定已完成' : '已记录不予认定');
    } catch (e) { showError(form, e); }
  });
  return form;
}

// The outcome: the qualification's dates, or the rejection.
function outcome(c) {
  const f = c.form;
  if (f.conclusion === 'reject') {
    return h('section', { class: 'card warn', id: 'onsite-result' }, h('h2', { text: '不予认定' }),
      h('p', { text: '理由：' + f.reason }), h('p', { class: 'hint', text: '已短信告知参保人。' }));
  }
  if (!c.qualification) {
    return h('section', { class: 'card info', id: 'onsite-result' }, h('h2', { text: '予以认定，等待医保经办机构确认' }),
      h('p', { text: '本统筹区的待遇在医保经办机构确认后开始。' }));
  }
  const q = c.qualification;
  return h('section', { class: 'card success', id: 'onsite-result' }, h('h2', { text: '予以认定：已生成门诊慢特病待遇资格' }),
    rows([['享受待遇', fmtDate(q.valid_from) + ' 至 ' + fmtDate(q.valid_to)], ['待遇资格编号', String(q.id)]]),
    h('p', { class: 'hint', text: '已短信告知参保人。' }));
}

export async function onsiteRecord(id, main) {
  const c = await api('GET', '/hospital/certifications/' + id);
  const head = [h('h1', { text: '现场认定：' + c.disease.name }),
    h('p', { class: 'status-line' }, '当前状态：', badge(c.status)),
    rows([['参保人', person(c.person)], ['参保地', c.region.name], ['认定病种', c.disease.name],
      ['认定医院', c.institution.name], ['申请编号', String(c.application_id)]])];
  const back = h('p', {}, h('a', { href: '#/hospital/onsite', text: '返回现场认定' }));
  clear(main).append(...head);
  if (c.form) {
    const f = c.form;
    main.append(outcome(c),
      h('h2', { text: '认定表' }),
      rows([['诊断', f.diagnosis], ['认定依据', f.basis], ['检查检验结果', f.examinations],
        ['认定医师', f.physician_name + '（' + f.physician_title + '）'], ['认定结论', CONCLUSION[f.conclusion]],
        ['认定时间', fmtTime(c.certified_at)], ['经办机构确认', CONFIRMATION[c.confirmation] || '—']]),
      h('h2', { text: '影像资料' }), imageList(c), back);
    return;
  }
  if (!['draft', 'returned', 'submitted'].includes(c.status)) {
    main.append(h('p', { class: 'card', text: '这份申请已不在等待本院认定。' }), h('h2', { text: '影像资料' }), imageList(c), back);
    return;
  }
  const d = await api('GET', '/diseases/' + encodeURIComponent(c.disease.code) + '?region=' + encodeURIComponent(c.region.code));
  const reload = async (msg) => {
    await onsiteRecord(id, main);
    if (msg) announce(msg);
    const target = main.querySelector(msg ? '#onsite-result' : '#images-title');
    if (target) { target.setAttribute('tabindex', '-1'); target.focus(); }
  };
  main.append(h('h2', { text: '影像资料', id: 'images-title', tabindex: '-1' }),
    h('p', { class: 'hint', text: '请上传病历、检查报告等影像资料，按清单每类至少一份；认定后存入电子档案。' }),
    imageList(c), uploadForm(c, d.required_materials, () => reload()),
    certifyForm(c, reload), back);
}
