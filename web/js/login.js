// login.js -- sign-in pages: insured persons with phone + SMS code + ID
// number + name; experts and staff with account and password.

import { api } from './api.js';
import { h, clear, field, clearErrors, showError, formError, busy, announce } from './ui.js';
import { signedIn, onLeave } from './app.js';

export function insuredLogin(m, view) {
  const main = clear(view);
  const phone = h('input', { type: 'tel', inputmode: 'numeric', autocomplete: 'tel', maxlength: 11, required: true });
  const code = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6, required: true });
  const idn = h('input', { type: 'text', autocomplete: 'off', maxlength: 18, required: true, class: 'mono' });
  const name = h('input', { type: 'text', autocomplete: 'name', maxlength: 32, required: true });
  const send = h('button', { type: 'button', class: 'btn btn-secondary', id: 'send-code' }, '获取验证码');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-wide' }, '登录');
  const form = h('form', { class: 'card form', novalidate: true },
    formError(),
    field('手机号码', phone, 'phone', '请填写在医保登记的手机号码'),
    h('div', { class: 'send-row' }, send),
    field('短信验证码', code, 'code', '6 位数字，5 分钟内有效'),
    field('身份证号码', idn, 'id_number'),
    field('姓名', name, 'name'),
    submit);
  let timer = null;
  onLeave(() => clearInterval(timer));

  // One code a minute per phone: after a code is sent the button counts
  // down and stays disabled until it may be asked again.
  function countdown() {
    let left = 60;
    const tick = () => {
      send.disabled = left > 0;
      send.textContent = left > 0 ? left + ' 秒后可重新获取' : '重新获取验证码';
      if (left <= 0) clearInterval(timer);
      left -= 1;
    };
    tick();
    timer = setInterval(tick, 1000);
  }

  send.addEventListener('click', async () => {
    let sent = false;
    await busy(send, async () => {
      clearErrors(form);
      try {
        await api('POST', '/auth/sms-code', { phone: phone.value.trim() });
        sent = true;
      } catch (e) { showError(form, e); }
    });
    if (!sent) return;
    announce('验证码已发送，请查看手机短信');
    code.focus();
    countdown();
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      try {
        const r = await api('POST', '/auth/login', {
          phone: phone.value.trim(), code: code.value.trim(),
          id_number: idn.value.trim().toUpperCase(), name: name.value.trim(),
        });
        await signedIn(r);
      } catch (e) { showError(form, e); }
    });
  });

  main.append(h('h1', { text: '参保人登录' }),
    h('p', { class: 'lead', text: '使用医保登记的手机号码接收验证码，并填写本人身份证号码和姓名。' }),
    form,
    h('p', {}, '专家或经办人员请 ', h('a', { href: '#/staff', text: '使用账号密码登录' })));
}

export function staffLogin(m, view) {
  const main = clear(view);
  const login = h('input', { type: 'text', autocomplete: 'username', maxlength: 64, required: true });
  const pw = h('input', { type: 'password', autocomplete: 'current-password', maxlength: 128, required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-wide' }, '登录');
  const form = h('form', { class: 'card form', novalidate: true },
    formError(), field('账号', login, 'login'), field('密码', pw, 'password'), submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearErrors(form);
      try {
        const r = await api('POST', '/auth/password-login', { login: login.value.trim(), password: pw.value });
        pw.value = '';
        await signedIn(r);
      } catch (e) { showError(form, e); }
    });
  });
  main.append(h('h1', { text: '专家和工作人员登录' }), form,
    h('p', {}, '参保人请 ', h('a', { href: '#/login', text: '使用手机验证码登录' })));
}
