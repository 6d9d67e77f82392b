// objection.js -- 申请复核 (R-CER-12; S3 第九条: within 10 days of the
// result): on a rejected application's progress page, the last day and
// a 申请复核 button; the page #/app/{id}/objection with the reason and,
// once filed, the uploads of new materials (the wizard's upload form,
// applicant.js uploadForm).  The hospital that filed an application
// appeals the same way (S2 二(二)/三).  The result of an objection is
// final: the server says so when asked twice.

import { api } from './api.js';
import {
  h, clear, field, clearErrors, showError, formError, busy, announce, fmtDate, cnToday,
} from './ui.js';
import { session } from './app.js';
import { uploadForm, materialList } from './applicant.js';

const STATE = {
  open: '复核中：由未参与原认定的专家重新认定',
  upheld: '复核结论：予以认定',
  dismissed: '复核结论：维持不予认定（复核结果为最终结果）',
  withdrawn: '复核申请已撤回，维持原认定结论（不能再次申请复核）',
};

// Who may object: the insured person (or their family agent) and the
// filing hospital's staff; the server decides the rest.
function mayFile() {
  return ['insured', 'hospital'].includes(session.me.role);
}

// The objection part of application a's progress page (a.objection of
// the view), or null: the filed objection's state and target day, or
// the button while the window is open, or the window's end.
export function objectionBox(a) {
  const o = a.objection;
  if (!o) return null;
  if (o.filed) {
    return h('section', { class: 'card info', id: 'objection' },
      h('h2', { text: '复核申请' }),
      h('p', { text: STATE[o.filed.state] || o.filed.state }),
      o.filed.state === 'open' ? h('p', {}, '预计在 ', h('strong', { text: fmtDate(o.filed.deadline) }),
        ' 前作出复核结论，结果将以短信通知。') : null,
      o.filed.state === 'open' && mayFile()
        ? h('p', {}, h('a', { href: '#/app/' + a.id + '/objection', text: '补充复核材料' })) : null);
  }
  if (!o.last_day) return null;
  if (cnToday() > o.last_day) {
    return h('p', { class: 'card', id: 'objection' },
      '申请复核的期限已过（最后一天是 ' + fmtDate(o.last_day) + '）。如有问题请联系当地医保经办机构。');
  }
  return h('section', { class: 'card', id: 'objection' },
    h('h2', { text: '对结果有异议？' }),
    h('p', {}, '可以申请复核，由未参与原认定的专家重新认定。最后一天：',
      h('strong', { text: fmtDate(o.last_day) }), '。'),
    mayFile() ? h('a', { class: 'btn btn-primary', href: '#/app/' + a.id + '/objection', id: 'object',
      text: '申请复核' }) : null);
}

// The uploads of an open objection: the form and what is uploaded.
async function materialsPart(a, box) {
  const cat = await api('GET', '/diseases?region=' + encodeURIComponent(a.region));
  const d = cat.items.find((x) => x.code === a.disease.code);
  const kinds = d ? d.required_materials.slice() : [];
  if (session.me.role === 'hospital') kinds.push({ kind: 'hospital_record', name: '本院电子病历' });
  const st = { app: a };
  const list = h('div', {});
  async function reload() {
    st.app = await api('GET', '/applications/' + a.id);
    clear(list).append(materialList(st, null));
  }
  clear(list).append(materialList(st, null));
  clear(box).append(h('h2', { text: '补充材料', id: 'objection-materials', tabindex: '-1' }),
    h('p', { text: '可以上传新的病历、检查报告等材料，复核专家会一并查看。原有材料不能删除。' }),
    uploadForm(st, kinds, reload),
    h('h3', { text: '已上传的材料' }), list);
}

// #/app/{id}/objection: the reason, then the uploads.
export async function objectionPage(id, main) {
  const a = await api('GET', '/applications/' + id);
  const back = h('p', {}, h('a', { href: '#/app/' + id, text: '返回申请进度' }));
  const box = h('div', {});
  clear(main).append(h('h1', { text: '申请复核：' + a.disease.name }), box, back);
  const o = a.objection;
  if (o && o.filed && o.filed.state === 'open') {
    box.append(h('p', { class: 'card info', text: '复核申请已受理。' }));
    const more = h('div', {});
    box.append(more);
    await materialsPart(a, more);
    return;
  }
  if (!o || !o.last_day || cnToday() > o.last_day) {
    box.append(h('p', { class: 'card warn', id: 'objection-closed',
      text: o && o.filed ? '该申请已申请过复核，复核结果为最终结果。'
        : '这份申请现在不能申请复核：只有未通过的申请，在收到结果之日起的规定期限内才能申请复核。' }));
    return;
  }
  const reason = h('textarea', { rows: 5, maxlength: 1000 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', id: 'objection-submit' },
    '提交复核申请');
  const form = h('form', { class: 'form card', novalidate: true, id: 'objection-form' },
    formError(),
    h('p', {}, '不予认定的原因：', h('strong', { text: a.decision_reason || '见短信通知' })),
    h('p', {}, '最后一天：', h('strong', { text: fmtDate(o.last_day) }),
      '。复核由未参与原认定的专家重新认定，多数专家的意见为复核结论，复核结果为最终结果。'),
    field('复核理由', reason, 'reason', '写明您认为结果不对的理由，最多 1000 字；提交后可以补充上传材料'),
    submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      if (!reason.value.trim()) { showError(form, { field: 'reason', message: '请填写复核理由' }); return; }
      try {
        await api('POST', '/applications/' + id + '/objection', { reason: reason.value.trim() });
      } catch (e) {
        showError(form, e);
        return;
      }
      announce('复核申请已受理，请补充上传材料（如有）');
      // Filed: the page again with the uploads; a failure to load it is
      // said (the objection stands), never an unhandled rejection.
      try { await objectionPage(id, main); } catch (e) {
        if (e.status !== 401) announce(e.message + '（复核申请已受理，请刷新页面后上传材料）', true);
        return;
      }
      const t = document.getElementById('objection-materials');
      if (t) t.focus();
    });
  });
  box.append(form);
}
