/*
 * mt_http.c -- request checks, routing and replies.  See mt_http.h.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fastcgi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mt_auth.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_idem.h"
#include "mt_log.h"
#include "mt_parse.h"
#include "mt_valid.h"

static const char *const role_names[] = {
	"insured", "hospital", "expert", "agency", "admin",
};

unsigned
mt_role_bit(const char *name)
{
	size_t i;

	for (i = 0; i < MT_ARRAY_LEN(role_names); i++)
		if (strcmp(role_names[i], name) == 0)
			return 1u << i;
	return 0;
}

const char *
mt_role_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < MT_ARRAY_LEN(role_names); i++)
		if (bit == 1u << i)
			return role_names[i];
	return "none";
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default:  return "Internal Server Error";
	}
}

const char *
mt_req_param(const struct mt_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

const char *
mt_req_env(const struct mt_req *req, const char *name)
{
	return FCGX_GetParam(name, req->fcgi->envp);
}

void
mt_req_header(struct mt_req *req, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mt_buf_puts(&req->headers, line);
	mt_buf_puts(&req->headers, "\r\n");
}

int
mt_reply_head(struct mt_req *req, int status, const char *ctype, size_t len)
{
	FCGX_Stream *out = req->fcgi->out;
	char head[512];
	int n;

	if (req->status != 0)
		return 0;
	req->status = status;
	/* snprintf, not FCGX_FPrintF: libfcgi's own printf knows no %zu. */
	if (status == 204 || status == 304)
		/* No body, and no Content-Length either (RFC 9110). */
		n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
		    "X-Request-Id: %s\r\n", status, status_text(status),
		    req->request_id);
	else
		n = snprintf(head, sizeof(head), "Status: %d %s\r\n%s%s%s"
		    "Content-Length: %zu\r\nX-Request-Id: %s\r\n", status,
		    status_text(status), ctype != NULL ? "Content-Type: " : "",
		    ctype != NULL ? ctype : "", ctype != NULL ? "\r\n" : "",
		    len, req->request_id);
	FCGX_PutStr(head, n, out);
	if (req->headers.len > 0)
		FCGX_PutStr(req->headers.data, (int)req->headers.len, out);
	FCGX_PutS("\r\n", out);
	return 0;
}

/*
 * A body piece of at least BODY_DIRECT bytes goes to nginx in FastCGI
 * STDOUT records of up to RECORD_MAX bytes, written here in one writev
 * per piece, after libfcgi's buffer is flushed so the order holds
 * (libfcgi copies a body through its 8 KiB stream buffer and writes
 * each 8 KiB as a record of its own: 1,280 writes, each waking nginx,
 * for a 10 MB file; issue 13, sixth round).  The record layout is
 * libfcgi's own (fastcgi.h); libfcgi still ends the stream and the
 * request (FCGX_Finish_r).
 */
#define BODY_DIRECT  16384
#define RECORD_MAX   65528	/* the largest multiple of 8 a record holds */
#define RECORDS_MAX  4		/* per writev: pieces of up to 256 KiB */

static int
writev_all(int fd, struct iovec *iov, int cnt)
{
	ssize_t w;

	while (cnt > 0) {
		if ((w = writev(fd, iov, cnt)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (cnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int
mt_reply_body(struct mt_req *req, const void *p, size_t n)
{
	FCGX_Request *f = req->fcgi;
	FCGI_Header head[RECORDS_MAX];
	struct iovec iov[2 * RECORDS_MAX];
	const char *c = p;
	size_t k;
	int i;

	if (n < BODY_DIRECT || f->ipcFd < 0)
		return FCGX_PutStr(p, (int)n, f->out) == (int)n ? 0 : -1;
	if (FCGX_GetError(f->out) != 0 || FCGX_FFlush(f->out) != 0)
		return -1;
	while (n > 0) {
		for (i = 0; i < RECORDS_MAX && n > 0; i++) {
			k = n < RECORD_MAX ? n : RECORD_MAX;
			memset(&head[i], 0, sizeof(head[i]));
			head[i].version = FCGI_VERSION_1;
			head[i].type = FCGI_STDOUT;
			head[i].requestIdB1 = (unsigned char)(f->requestId >> 8);
			head[i].requestIdB0 = (unsigned char)f->requestId;
			head[i].contentLengthB1 = (unsigned char)(k >> 8);
			head[i].contentLengthB0 = (unsigned char)k;
			iov[2 * i].iov_base = &head[i];
			iov[2 * i].iov_len = sizeof(head[i]);
			iov[2 * i + 1].iov_base = (void *)c;
			iov[2 * i + 1].iov_len = k;
			c += k;
			n -= k;
		}
		if (writev_all(f->ipcFd, iov, 2 * i) != 0) {
			/* A record may be cut short: libfcgi's closing
			 * records must not follow it. */
			mt_reply_abort(req);
			return -1;
		}
	}
	return 0;
}

void
mt_reply_abort(struct mt_req *req)
{
	if (req->fcgi->ipcFd >= 0)
		shutdown(req->fcgi->ipcFd, SHUT_RDWR);
}

int
mt_reply_raw(struct mt_req *req, int status, const char *ctype,
    const char *body, size_t len)
{
	if (req->status != 0)
		return 0;
	if (status == 204 || status == 304)
		len = 0;
	mt_reply_head(req, status, ctype, len);
	if (len > 0)
		mt_reply_body(req, body, len);
	if (req->idem_key != NULL && len > 0)
		mt_buf_append(&req->reply_body, body, len);
	return 0;
}

int
mt_reply_json(struct mt_req *req, int status, json_object *obj)
{
	size_t len;
	const char *s;

	s = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	mt_reply_raw(req, status, "application/json; charset=utf-8", s, len);
	json_object_put(obj);
	return 0;
}

int
mt_reply_cached(struct mt_req *req, const char *body, size_t len,
    const char *etag)
{
	const char *inm = mt_req_env(req, "HTTP_IF_NONE_MATCH");

	mt_req_header(req, "ETag: %s", etag);
	mt_req_header(req, "Cache-Control: public, max-age=60");
	if (inm != NULL && mt_parse_etag_match(inm, etag))
		return mt_reply_raw(req, 304, NULL, NULL, 0);
	return mt_reply_raw(req, 200, "application/json; charset=utf-8", body,
	    len);
}

int
mt_reply_unavailable(struct mt_req *req, const char *what)
{
	char dep[128];

	snprintf(dep, sizeof(dep), "（%s）", what);
	mt_req_header(req, "Retry-After: 5");
	return mt_reply_err(req, MT_E_SERVICE_UNAVAILABLE, NULL, dep);
}

/* Look name up in the raw query string; decoded copy or NULL.  *bad is
 * set when the value does not decode.  The caller frees the copy. */
static char *
query_value(const char *query, const char *name, int *bad)
{
	const char *v;
	size_t vn;
	char *out;

	if (!mt_parse_query(query, name, &v, &vn))
		return NULL;
	out = mt_xmalloc(vn + 1);
	if (mt_url_decode(v, vn, out, 1) < 0) {
		free(out);
		*bad = 1;
		return NULL;
	}
	return out;
}

/*
 * The body member name, or "outer.inner" one level down.  Returns 1 and
 * sets *v when present and not null, 0 when absent; an outer member that
 * is not an object counts as absent.
 */
static int
body_value(json_object *obj, const char *name, json_object **v)
{
	const char *dot = strchr(name, '.');
	json_object *outer;
	char head[64];

	if (dot != NULL) {
		snprintf(head, sizeof(head), "%.*s", (int)(dot - name), name);
		if (!json_object_object_get_ex(obj, head, &outer) ||
		    !json_object_is_type(outer, json_type_object))
			return 0;
		obj = outer;
		name = dot + 1;
	}
	if (!json_object_object_get_ex(obj, name, v) ||
	    json_object_is_type(*v, json_type_null))
		return 0;
	return 1;
}

/* The field of the route from src called name[0..n), or NULL. */
static const struct mt_field *
field_named(const struct mt_req *req, enum mt_field_src src,
    const char *name, size_t n)
{
	const struct mt_field *f;

	for (f = req->route->fields; f != NULL && f->name != NULL; f++)
		if (f->src == src && strlen(f->name) == n &&
		    memcmp(f->name, name, n) == 0)
			return f;
	return NULL;
}

/* 1 when some body field of the route is "name.<inner>". */
static int
field_outer(const struct mt_req *req, const char *name)
{
	const struct mt_field *f;
	size_t n = strlen(name);

	for (f = req->route->fields; f != NULL && f->name != NULL; f++)
		if (f->src == MT_IN_BODY && strncmp(f->name, name, n) == 0 &&
		    f->name[n] == '.')
			return 1;
	return 0;
}

/* 400 unknown_field for name[0..n) (named in the message when short and
 * readable, else "…"); returns -1. */
static int
reply_unknown(struct mt_req *req, const char *name, size_t n)
{
	char field[72];

	if (n > 64 || !mt_valid_utf8(name, n) || memchr(name, '\0', n))
		return mt_reply_err(req, MT_E_UNKNOWN_FIELD, NULL, "…");
	snprintf(field, sizeof(field), "%.*s", (int)n, name);
	return mt_reply_err(req, MT_E_UNKNOWN_FIELD, field, field);
}

/*
 * Refuse a member of the JSON body that no field of the route names,
 * one level down for "outer.inner" fields, and a group ("outer") that
 * is neither an object nor null.  Returns 0, or -1 after answering 400
 * unknown_field or field_invalid.
 */
static int
unknown_members_or_reply(struct mt_req *req)
{
	char path[160];
	int n;

	if (req->json == NULL)
		return 0;
	json_object_object_foreach(req->json, key, val) {
		if (field_named(req, MT_IN_BODY, key, strlen(key)) != NULL)
			continue;
		if (!field_outer(req, key))
			return reply_unknown(req, key, strlen(key));
		/* null: the inner fields are absent (a patch removes the
		 * group).  Any other non-object (a string, say) would drop
		 * the client's data unseen: refuse it, naming the group. */
		if (json_object_is_type(val, json_type_null))
			continue;
		if (!json_object_is_type(val, json_type_object))
			return mt_reply_err(req, MT_E_FIELD_INVALID, key, key,
			    "：应为对象或 null");
		json_object_object_foreach(val, inner, ival) {
			(void)ival;
			n = snprintf(path, sizeof(path), "%s.%s", key, inner);
			if (n < 0 || (size_t)n >= sizeof(path) ||
			    field_named(req, MT_IN_BODY, path, (size_t)n) == NULL)
				return reply_unknown(req, path,
				    n < 0 ? 0 : strlen(path));
		}
	}
	return 0;
}

/*
 * Split the multipart body of an MT_R_MULTIPART route into req->parts;
 * refuse a part that no MT_IN_PART field names, or a name sent twice
 * (a second file would otherwise be dropped unseen).  Returns 0, or -1
 * after answering 415 or 400.
 */
static int
parse_parts(struct mt_req *req)
{
	const struct mt_field *f;
	char boundary[80];
	size_t i, j;
	int n;

	if (mt_multipart_boundary(mt_req_env(req, "CONTENT_TYPE"), boundary,
	    sizeof(boundary)) != 0)
		return mt_reply_err(req, MT_E_UNSUPPORTED_MEDIA_TYPE, NULL,
		    "multipart/form-data");
	n = mt_multipart_parse(req->body != NULL ? req->body : "",
	    req->body_len, boundary, req->parts, MT_MAX_PARTS);
	if (n < 0)
		return mt_reply_err(req, MT_E_MALFORMED_MULTIPART, NULL);
	req->nparts = (size_t)n;
	for (i = 0; i < req->nparts; i++) {
		f = field_named(req, MT_IN_PART, req->parts[i].name,
		    req->parts[i].name_len);
		if (f == NULL)
			return reply_unknown(req, req->parts[i].name,
			    req->parts[i].name_len);
		for (j = 0; j < i; j++)
			if (req->parts[j].name_len == req->parts[i].name_len &&
			    memcmp(req->parts[j].name, f->name,
			    req->parts[i].name_len) == 0)
				return mt_reply_err(req, MT_E_DUPLICATE_FIELD,
				    f->name, f->label);
	}
	return 0;
}

const struct mt_part *
mt_req_part(const struct mt_req *req, const char *name)
{
	if (mt_req_param(req, name) == NULL)
		return NULL;
	return mt_multipart_find(req->parts, (int)req->nparts, name);
}

json_object *
mt_req_array(const struct mt_req *req, const char *name)
{
	json_object *v;

	if (mt_req_param(req, name) == NULL || req->json == NULL ||
	    body_value(req->json, name, &v) != 1)
		return NULL;
	return v;
}

/* The value of a multipart field as a copy, NULL when absent; *bad when
 * a text part carries a file or a NUL, or a file part no file name. */
static char *
part_value(const struct mt_req *req, const struct mt_field *f, int *bad)
{
	const struct mt_part *p;

	p = mt_multipart_find(req->parts, (int)req->nparts, f->name);
	if (p == NULL)
		return NULL;
	if (f->type == MT_F_FILE) {
		if (p->filename == NULL)
			*bad = 1;
		/* A browser's file input with no file chosen. */
		else if (p->filename_len > 0 || p->len > 0)
			return mt_xstrndup(p->filename, p->filename_len);
		return NULL;
	}
	if (p->filename != NULL || memchr(p->data, '\0', p->len) != NULL)
		*bad = 1;
	else if (p->len > 0)
		return mt_xstrndup(p->data, p->len);
	return NULL;
}

/* 1 when jv is a string without an embedded NUL (which would have it
 * checked cut short). */
static int
whole_string(json_object *jv)
{
	return json_object_is_type(jv, json_type_string) &&
	    (size_t)json_object_get_string_len(jv) ==
	    strlen(json_object_get_string(jv));
}

/*
 * 1 when jv is an array of f's items that pass f->valid: MT_F_ARRAY, 1 to
 * f->max_len strings (each checked as it is); MT_F_OBJECTS, 0 to
 * f->max_len objects (each checked as its JSON text).
 */
static int
array_ok(const struct mt_field *f, json_object *jv)
{
	int objects = f->type == MT_F_OBJECTS;
	size_t i, n;
	json_object *it;

	if (!json_object_is_type(jv, json_type_array))
		return 0;
	n = json_object_array_length(jv);
	if ((n == 0 && !objects) || (f->max_len > 0 && n > f->max_len))
		return 0;
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(jv, i);
		if (objects ? !json_object_is_type(it, json_type_object) :
		    !whole_string(it))
			return 0;
		if (f->valid != NULL && !f->valid(objects ?
		    json_object_to_json_string_ext(it, JSON_C_TO_STRING_PLAIN) :
		    json_object_get_string(it)))
			return 0;
	}
	return 1;
}

/* The value of a body field as a copy, NULL when absent; *bad when it
 * has the wrong JSON type or an embedded NUL. */
static char *
body_field_value(const struct mt_req *req, const struct mt_field *f,
    int *bad)
{
	json_object *jv;

	if (req->json == NULL || body_value(req->json, f->name, &jv) != 1)
		return NULL;
	if (f->type == MT_F_ARRAY || f->type == MT_F_OBJECTS) {
		/* An empty list of strings is no list: required fields say
		 * so.  An empty list of objects is a value ("none"). */
		if (f->type == MT_F_ARRAY &&
		    json_object_is_type(jv, json_type_array) &&
		    json_object_array_length(jv) == 0)
			return NULL;
		if (!array_ok(f, jv)) {
			*bad = 1;
			return NULL;
		}
		return mt_xstrdup(json_object_to_json_string_ext(jv,
		    JSON_C_TO_STRING_PLAIN));
	}
	if ((f->type == MT_F_STRING && !whole_string(jv)) ||
	    (f->type == MT_F_INT && !json_object_is_type(jv, json_type_int)) ||
	    (f->type == MT_F_BOOL &&
	    !json_object_is_type(jv, json_type_boolean))) {
		*bad = 1;
		return NULL;
	}
	return mt_xstrdup(json_object_get_string(jv));
}

/* 1 when another body field of f's "outer." group is given. */
static int
group_given(const struct mt_req *req, const struct mt_field *f)
{
	const char *dot = strchr(f->name, '.');
	const struct mt_field *g;
	json_object *v;

	if (dot == NULL || req->json == NULL)
		return 0;
	for (g = req->route->fields; g->name != NULL; g++)
		if (g != f && g->src == MT_IN_BODY &&
		    strncmp(g->name, f->name, (size_t)(dot - f->name) + 1) == 0 &&
		    body_value(req->json, g->name, &v) == 1)
			return 1;
	return 0;
}

/* 1 when val passes the checks of f's type and validator. */
static int
value_ok(const struct mt_field *f, const char *val)
{
	switch (f->type) {
	case MT_F_STRING:
		return mt_valid_utf8(val, strlen(val)) &&
		    (f->max_len == 0 || mt_utf8_chars(val) <= f->max_len) &&
		    (f->valid == NULL || f->valid(val));
	case MT_F_INT:
		return mt_valid_uint(val) && (f->valid == NULL || f->valid(val));
	case MT_F_BOOL:
		return mt_valid_bool(val);
	default:
		return 1;	/* files and arrays: checked on the way in */
	}
}

/*
 * Fetch and check every field of the route into req->params, after
 * refusing body members and parts that no field names.  Returns 0, or
 * -1 after answering 400 (415 for a multipart body of another type).
 */
static int
check_fields(struct mt_req *req, const struct mt_span *caps, size_t ncaps)
{
	const struct mt_field *f;
	char *val;
	size_t ci = 0;
	int bad;

	if (unknown_members_or_reply(req) < 0 ||
	    ((req->route->flags & MT_R_MULTIPART) && parse_parts(req) < 0))
		return -1;
	for (f = req->route->fields; f != NULL && f->name != NULL; f++) {
		val = NULL;
		bad = 0;
		if (f->src == MT_IN_PATH && ci < ncaps) {
			/* nginx's $document_uri is decoded already. */
			val = mt_xstrndup(caps[ci].p, caps[ci].n);
			ci++;
		} else if (f->src == MT_IN_QUERY)
			val = query_value(req->query, f->name, &bad);
		else if (f->src == MT_IN_BODY)
			val = body_field_value(req, f, &bad);
		else if (f->src == MT_IN_PART)
			val = part_value(req, f, &bad);
		if (!bad && val == NULL) {
			if (f->required != 1 && !(f->required == MT_REQ_GROUP &&
			    group_given(req, f)))
				continue;
			return mt_reply_err(req, MT_E_FIELD_REQUIRED, f->name,
			    f->label);
		}
		if (bad || !value_ok(f, val) || req->nparams == MT_MAX_PARAMS) {
			free(val);
			return mt_reply_err(req, MT_E_FIELD_INVALID, f->name,
			    f->label);
		}
		req->params[req->nparams].name = f->name;
		req->params[req->nparams].value = val;
		req->nparams++;
	}
	return 0;
}

/* Parse req->body as one JSON object; -1 after answering 400/415. */
static int
parse_body(struct mt_req *req)
{
	struct json_tokener *tok;
	json_object *obj;

	if (req->body_len == 0 ||
	    (req->route->flags & (MT_R_MULTIPART | MT_R_RAW)))
		return 0;
	if (!mt_parse_json_type(mt_req_env(req, "CONTENT_TYPE")))
		return mt_reply_err(req, MT_E_UNSUPPORTED_MEDIA_TYPE, NULL,
		    "application/json");
	if (!mt_valid_utf8(req->body, req->body_len))
		return mt_reply_err(req, MT_E_INVALID_UTF8, NULL);
	tok = json_tokener_new_ex(32);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success
	    || tok->char_offset != (int)req->body_len) {
		json_object_put(obj);
		json_tokener_free(tok);
		return mt_reply_err(req, MT_E_MALFORMED_JSON, NULL);
	}
	json_tokener_free(tok);
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return mt_reply_err(req, MT_E_MALFORMED_JSON, NULL);
	}
	req->json = obj;
	return 0;
}

/* Read exactly CONTENT_LENGTH bytes of body; -1 after answering 400. */
static int
read_body(struct mt_req *req, size_t len)
{
	int got;

	if (len == 0)
		return 0;
	req->body = mt_xmalloc(len + 1);
	got = FCGX_GetStr(req->body, (int)len, req->fcgi->in);
	if (got < 0 || (size_t)got != len)
		return mt_reply_err(req, MT_E_INCOMPLETE_BODY, NULL);
	req->body[len] = '\0';
	req->body_len = len;
	return 0;
}

/* Session and role checks; -1 after answering 401/403/503. */
static int
check_session(struct mt_req *req, struct mt_session *sess)
{
	const char *m = req->method, *tok;
	int rc;

	rc = mt_auth_lookup(req, sess);
	if (rc < 0)
		return mt_reply_unavailable(req, "会话存储");
	if (rc == 0) {
		mt_req_header(req, "WWW-Authenticate: Bearer realm=\"mtcert\"");
		return mt_reply_err(req, MT_E_UNAUTHENTICATED, NULL);
	}
	req->session = sess;
	if (sess->via_cookie && strcmp(m, "GET") != 0 &&
	    strcmp(m, "HEAD") != 0) {
		tok = mt_req_env(req, "HTTP_X_CSRF_TOKEN");
		if (tok == NULL || strcmp(tok, sess->csrf) != 0)
			return mt_reply_err(req, MT_E_CSRF_FAILED, NULL);
	}
	if ((req->route->roles & sess->role) == 0)
		return mt_reply_err(req, MT_E_FORBIDDEN, NULL);
	return 0;
}

/*
 * The route of the request's path and method, its path captures in
 * caps[*ncaps]; NULL after answering 404 (no route has the path) or 405
 * with Allow (some have it, none with this method).
 */
static const struct mt_route *
route_or_reply(const struct mt_module *mod, struct mt_req *req,
    struct mt_span *caps, size_t *ncaps)
{
	const struct mt_route *r, *found = NULL;
	const char *method = req->method, *sub;
	struct mt_buf allow = {0};
	size_t i;

	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	if (strncmp(req->path, MT_API_PREFIX, strlen(MT_API_PREFIX)) != 0 ||
	    !mt_valid_utf8(req->path, strlen(req->path))) {
		mt_reply_err(req, MT_E_NOT_FOUND, NULL);
		return NULL;
	}
	sub = req->path + strlen(MT_API_PREFIX);
	for (i = 0; i < mod->nroutes && found == NULL; i++) {
		r = &mod->routes[i];
		if (!mt_path_match(r->pattern, sub, caps, MT_MAX_PARAMS, ncaps))
			continue;
		if (strcmp(r->method, method) == 0)
			found = r;
		else
			mt_buf_printf(&allow, "%s%s", allow.len > 0 ? ", " : "",
			    r->method);
	}
	if (found == NULL && allow.len == 0)
		mt_reply_err(req, MT_E_NOT_FOUND, NULL);
	else if (found == NULL) {
		mt_req_header(req, "Allow: %s", allow.data);
		mt_reply_err(req, MT_E_METHOD_NOT_ALLOWED, NULL);
	}
	mt_buf_free(&allow);
	return found;
}

/*
 * The request's CONTENT_LENGTH into *len (0 when none).  Returns 0, or
 * -1 after answering 400 bad_content_length or 413 body_too_large (over
 * the route's max_body).
 */
static int
body_length_or_reply(struct mt_req *req, size_t *len)
{
	const char *cl = mt_req_env(req, "CONTENT_LENGTH");
	size_t max = req->route->max_body ? req->route->max_body :
	    MT_MAX_BODY_DEFAULT;
	char *end;

	*len = 0;
	if (cl != NULL && *cl != '\0') {
		*len = strtoul(cl, &end, 10);
		if (*end != '\0' || !mt_valid_uint(cl))
			return mt_reply_err(req, MT_E_BAD_CONTENT_LENGTH, NULL);
	}
	if (*len > max)
		return mt_reply_err(req, MT_E_BODY_TOO_LARGE, NULL);
	return 0;
}

/*
 * See mt_http.h: the checks in STYLE.md's order (404, 405, 400/413 body
 * length, 401/403 session, 415/400 body, 400 fields, Idempotency-Key),
 * then the handler; a handler that gave no reply is answered 500.
 */
void
mt_http_dispatch(const struct mt_module *mod, struct mt_req *req)
{
	struct mt_span caps[MT_MAX_PARAMS];
	struct mt_session sess;	/* req->session points here */
	const struct mt_route *found;
	size_t ncaps = 0, len;

	if ((found = route_or_reply(mod, req, caps, &ncaps)) == NULL)
		return;
	req->route = found;
	if (body_length_or_reply(req, &len) < 0)
		return;
	/* Who asks comes before what they sent: a caller without a session
	 * learns nothing about body validation (STYLE.md's order). */
	if (read_body(req, len) < 0)
		return;
	if (found->roles != MT_ROLE_PUBLIC && check_session(req, &sess) < 0)
		return;
	if (parse_body(req) < 0 || check_fields(req, caps, ncaps) < 0)
		return;
	if ((found->flags & MT_R_IDEMPOTENT) && req->session != NULL &&
	    !mt_idem_begin(req))
		return;
	found->handler(req);
	if (req->status == 0) {
		mt_log_error("rid=%s handler for %s %s gave no reply",
		    req->request_id, found->method, found->pattern);
		mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	if (req->idem_key != NULL)
		mt_idem_end(req);
}
