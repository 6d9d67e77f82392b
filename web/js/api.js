// api.js -- the portal's only way to the server: /api/v1 with the session
// cookie (HttpOnly, set by the sign-in answer) and, on every request that
// changes something, the X-CSRF-Token header.  The CSRF token lives in
// this module's memory only (never localStorage); after a reload it comes
// back from GET /me.

const BASE = '/api/v1';
let csrf = null;

export function setCsrf(token) { csrf = token || null; }

// The server's clock minus ours (from each answer's Date header, 1 s
// resolution): deadlines count down by the server's time, not a phone's
// wrong clock.  And when the session last talked to the server (each
// request slides its idle expiry).
let clockOffset = 0;
let lastActivity = Date.now();
export function serverNow() { return Date.now() + clockOffset; }
export function lastServerContact() { return lastActivity; }

function sawAnswer(dateHeader) {
  lastActivity = Date.now();
  const t = Date.parse(dateHeader || '');
  if (!isNaN(t)) clockOffset = t + 500 - Date.now();
}

function parse(text) {
  try { return JSON.parse(text); } catch (e) {
    throw new ApiError(502, 'bad_answer', '服务器返回的内容无法识别，请稍后再试');
  }
}

// An answer that is not 2xx, as the error envelope says it: the Chinese
// message, the field it is about (when any) and the details.
export class ApiError extends Error {
  constructor(status, code, message, field, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.details = details || null;
  }
}

const NETWORK = '网络连接失败，请检查网络后重试';

function fromEnvelope(status, text) {
  let body = null;
  try { body = JSON.parse(text); } catch (e) { body = null; }
  const err = body && body.error;
  if (err && err.message) {
    return new ApiError(status, err.code, err.message, err.field, err.details);
  }
  if (status === 503 || status === 502 || status === 504) {
    return new ApiError(status, 'service_unavailable', '服务暂时不可用，请稍后再试');
  }
  return new ApiError(status, 'unexpected', '操作未成功（错误 ' + status + '），请稍后再试');
}

// Listeners for an expired session (401 on a signed-in page).
const expiredHandlers = [];
export function onSessionExpired(fn) { expiredHandlers.push(fn); }

function headersFor(method, json) {
  const h = { Accept: 'application/json' };
  if (json) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) h['X-CSRF-Token'] = csrf;
  return h;
}

// method, path under /api/v1, optional JSON body.  Resolves with the
// parsed answer (null for 204); rejects with ApiError.
export async function api(method, path, body, opts = {}) {
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers: headersFor(method, body !== undefined),
      body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', NETWORK);
  }
  const text = await res.text();
  sawAnswer(res.headers.get('Date'));
  if (!res.ok) {
    const err = fromEnvelope(res.status, text);
    if (res.status === 401 && !opts.quiet401) expiredHandlers.forEach((f) => f(err));
    throw err;
  }
  if (res.status === 204 || text === '') return null;
  return parse(text);
}

// The items of a list the API pages with a cursor ({items, next_cursor}),
// a page at a time, fetched as the caller goes on (a search that finds
// what it looks for on the first page stops there).
export async function* pages(path) {
  const sep = path.includes('?') ? '&' : '?';
  let cursor = null;
  do {
    const r = await api('GET', path + (cursor ? sep + 'cursor=' + encodeURIComponent(cursor) : ''));
    yield r.items;
    cursor = r.next_cursor;
  } while (cursor);
}

// Every item of such a list, page after page.
export async function allPages(path) {
  const out = [];
  for await (const items of pages(path)) out.push(...items);
  return out;
}

// The designated hospitals of a region (every page of GET /institutions);
// with a disease, only those that may treat it; certifying: only those
// that may also certify it now (a disease certified in the hospital).
export async function designatedHospitals(region, disease, certifying) {
  const all = await allPages('/institutions?region=' + encodeURIComponent(region) +
    (disease ? '&disease=' + encodeURIComponent(disease) : '') +
    (certifying ? '&certifying=true' : '') + '&limit=100');
  return all.filter((i) => i.designated);
}

// The largest file the portal sends, one definition for every upload
// form (the applicant's wizard, the hospital's 现场认定): the default of
// the region policy material_max_bytes (10 MiB, sql/ref/020_policies.sql)
// that the server enforces (413 file_too_large, said beside the field).
// A bigger file is refused here, before minutes of uploading; the forms'
// labels are built from the same number.
export const MAX_UPLOAD_MB = 10;
export const MAX_UPLOAD = MAX_UPLOAD_MB * 1048576;
export const MAX_UPLOAD_LABEL = '选择文件（照片或 PDF，单个不超过 ' + MAX_UPLOAD_MB + ' MB）';

// One file upload (multipart) with progress: onProgress(fraction 0..1).
// XMLHttpRequest, because fetch reports no upload progress.
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', BASE + path);
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
    };
    xhr.onload = () => {
      sawAnswer(xhr.getResponseHeader('Date'));
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        try { resolve(xhr.responseText ? parse(xhr.responseText) : null); } catch (e) { reject(e); }
      } else {
        const err = fromEnvelope(xhr.status, xhr.responseText);
        if (xhr.status === 401) expiredHandlers.forEach((f) => f(err));
        reject(err);
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', NETWORK));
    xhr.send(form);
  });
}

export function fileUrl(materialId) {
  return BASE + '/materials/' + encodeURIComponent(materialId);
}

// A qualification's card as a QR code (SVG), for an <img>.
export function qrUrl(qualificationId) {
  return BASE + '/qualifications/' + encodeURIComponent(qualificationId) + '/card/qr.svg';
}
