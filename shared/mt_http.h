/*
 * mt_http.h -- the request a handler sees, the replies it can give, and
 * the module interface (route table, field table, statement table).
 *
 * The host does, in this order, before any handler runs:
 *   404 unknown path -> 405 method -> 413 body too large -> 401/403
 *   session and role (and the CSRF token for cookie sessions) -> 415 media
 *   type -> 400 malformed JSON / invalid UTF-8 / malformed multipart ->
 *   400 unknown or repeated fields -> 400 fields that fail their
 *   validator.
 * A handler therefore starts with valid, typed input.
 */
#ifndef MT_HTTP_H
#define MT_HTTP_H

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stddef.h>

#include "mt_multipart.h"
#include "mt_util.h"

#define MT_API_PREFIX   "/api/v1"
#define MT_MAX_PARAMS   16
#define MT_MAX_PARTS    8
#define MT_MAX_BODY_DEFAULT (64 * 1024)

enum mt_role {
	MT_ROLE_INSURED = 1 << 0,
	MT_ROLE_HOSPITAL = 1 << 1,
	MT_ROLE_EXPERT = 1 << 2,
	MT_ROLE_AGENCY = 1 << 3,
	MT_ROLE_ADMIN = 1 << 4,
};
#define MT_ROLE_PUBLIC  0u
#define MT_ROLE_STAFF   (MT_ROLE_HOSPITAL | MT_ROLE_EXPERT | MT_ROLE_AGENCY | \
                         MT_ROLE_ADMIN)
#define MT_ROLE_ANY     (MT_ROLE_INSURED | MT_ROLE_STAFF)

/* Role name <-> bit; mt_role_bit returns 0 for an unknown name. */
unsigned     mt_role_bit(const char *name);
const char  *mt_role_name(unsigned bit);

/* The signed-in caller, from the session store. */
struct mt_session {
	char        token_hash[65];
	long long   user_id;
	unsigned    role;
	long long   person_id;       /* 0 when none */
	char        region[8];       /* "" when none */
	char        institution[24]; /* "" when none */
	char        csrf[65];
	int         via_cookie;
	int         idle_seconds;    /* the session ends this long after
	                                its last request */
};

enum mt_field_src { MT_IN_PATH, MT_IN_QUERY, MT_IN_BODY, MT_IN_PART };
enum mt_field_type { MT_F_STRING, MT_F_INT, MT_F_BOOL, MT_F_FILE,
	MT_F_ARRAY, MT_F_OBJECTS };

/*
 * One input field of a route.  Strings are checked by `valid` (a pure
 * function of mt_valid.h) or, when NULL, only for UTF-8 and max_len
 * characters.  label is the Chinese name used in error messages.
 *
 * MT_IN_BODY names a JSON member, or "outer.inner" one level down; a
 * member of the body that no row names is refused (400 unknown_field),
 * so a client's typo is never silently dropped.
 * MT_IN_PART names a part of a multipart/form-data body (MT_R_MULTIPART
 * routes): a text part (MT_F_STRING; an empty one counts as absent, as a
 * browser sends an empty input) or a file part (MT_F_FILE, which must
 * carry a filename; its value is the filename, its bytes are
 * mt_req_part()).  A part no row names, or a name sent twice, is 400.
 * MT_F_ARRAY (body only): a JSON array of 1 to max_len strings, each
 * checked by `valid` (an empty array counts as absent); its value is the array's JSON text and the handler
 * reads the items with mt_req_array().
 * MT_F_OBJECTS (body only): a JSON array of 0 to max_len objects (an
 * empty array is a value, "[]"), each one's JSON text checked by `valid`
 * (a pure check of its members); read with mt_req_array() as well.
 */
/* mt_field.required: 0 optional, 1 required, or MT_REQ_GROUP: required
 * when another body field of the same "outer." group is given (all of a
 * group or none, such as an application's agent). */
#define MT_REQ_GROUP 2

struct mt_field {
	const char          *name;
	enum mt_field_src    src;
	enum mt_field_type   type;
	int                (*valid)(const char *);
	int                  required;
	size_t               max_len;
	const char          *label;
};

/* The page rows of the list endpoints' field tables: ?limit= (1-200,
 * mt_valid_page_limit from mt_valid.h) and a numeric ?cursor= (the last
 * id shown). */
#define MT_F_PAGE_LIMIT \
	{ "limit", MT_IN_QUERY, MT_F_INT, mt_valid_page_limit, 0, 3, \
	  "每页条数（1–200）" }
#define MT_F_PAGE_CURSOR \
	{ "cursor", MT_IN_QUERY, MT_F_INT, NULL, 0, 18, "分页游标" }
/* The ?cursor= of lists paged by institution code (the last code shown,
 * mt_valid_institution_code). */
#define MT_F_CODE_CURSOR \
	{ "cursor", MT_IN_QUERY, MT_F_STRING, mt_valid_institution_code, 0, \
	  20, "分页游标" }

struct mt_db;
struct mt_req;
typedef int (*mt_handler)(struct mt_req *);

/* Route flags. */
#define MT_R_IDEMPOTENT 0x1u   /* creating POST: honours Idempotency-Key */
#define MT_R_MULTIPART  0x2u   /* body is multipart/form-data, not JSON */
#define MT_R_RAW        0x4u   /* body is not JSON: the handler reads
                                  req->body and checks its Content-Type
                                  (415 itself) */

struct mt_route {
	const char             *method;
	const char             *pattern;   /* under /api/v1, {name} segments */
	mt_handler              handler;
	unsigned                roles;     /* MT_ROLE_PUBLIC: no session */
	size_t                  max_body;  /* 0: MT_MAX_BODY_DEFAULT */
	const struct mt_field  *fields;    /* ends with a {NULL} row */
	unsigned                flags;     /* MT_R_* */
};

/* What a module .so exports under the symbol name "mt_module". */
struct mt_module {
	const char             *name;
	const struct mt_route  *routes;
	size_t                  nroutes;
	const char *const      *stmts;     /* indexed by the module's enum */
	size_t                  nstmts;
	/* Optional: called once per worker after connecting; 0 or -1. */
	int                   (*worker_init)(void);
	/* 1: every route only reads, and a second of lag is acceptable: the
	 * workers connect with pg_read_conninfo (mt_db_conninfo). */
	int                     reads_replica;
};

struct mt_param {
	const char *name;
	char       *value;
};

struct mt_req {
	FCGX_Request           *fcgi;
	const char             *method;
	char                   *path;       /* decoded, without the query */
	const char             *query;      /* raw query string or "" */
	const char             *request_id;
	char                   *body;
	size_t                  body_len;
	json_object            *json;       /* parsed JSON body, or NULL */
	struct mt_session      *session;    /* NULL for public routes */
	const struct mt_route  *route;
	struct mt_param         params[MT_MAX_PARAMS];
	size_t                  nparams;
	struct mt_buf           headers;    /* extra response header lines */
	int                     status;     /* 0 until a reply was sent */
	struct mt_db           *db;
	/* The parts of a multipart body, pointing into body. */
	struct mt_part          parts[MT_MAX_PARTS];
	size_t                  nparts;
	/* Idempotency-Key handling: the key, and a copy of the reply. */
	const char             *idem_key;
	struct mt_buf           reply_body;
};

/* The value of a validated field, or NULL when absent. */
const char  *mt_req_param(const struct mt_req *req, const char *name);
/* The multipart part of a validated MT_IN_PART field, or NULL. */
const struct mt_part *mt_req_part(const struct mt_req *req, const char *name);
/* The JSON array of a validated MT_F_ARRAY or MT_F_OBJECTS field
 * (borrowed), or NULL. */
json_object *mt_req_array(const struct mt_req *req, const char *name);
/* A request header by CGI name ("HTTP_IF_NONE_MATCH"), or NULL. */
const char  *mt_req_env(const struct mt_req *req, const char *name);
/* Add a response header line ("Name: value") to the next reply. */
void         mt_req_header(struct mt_req *req, const char *fmt, ...)
                 __attribute__((format(printf, 2, 3)));

/*
 * Replies.  Each sends the whole response and returns 0; a second reply
 * on the same request is ignored.  mt_reply_json takes ownership of obj.
 */
int          mt_reply_raw(struct mt_req *req, int status, const char *ctype,
                 const char *body, size_t len);
int          mt_reply_json(struct mt_req *req, int status, json_object *obj);
/*
 * A streamed reply: mt_reply_head sends the status and headers with
 * Content-Length len (returns 0; ignored after a reply, like the
 * others), then the caller sends exactly len bytes in pieces with
 * mt_reply_body.  When it cannot (a stored file found altered halfway),
 * mt_reply_abort drops the connection to nginx before the request ends,
 * so nginx closes the client's connection short of Content-Length: the
 * client sees a failed download, never a truncated 200.
 */
int          mt_reply_head(struct mt_req *req, int status, const char *ctype,
                 size_t len);
int          mt_reply_body(struct mt_req *req, const void *p, size_t n);
void         mt_reply_abort(struct mt_req *req);
/* 200 with an ETag over body, or 304 when If-None-Match matches it. */
int          mt_reply_cached(struct mt_req *req, const char *body,
                 size_t len, const char *etag);
/*
 * 503 service_unavailable for a dependency that is down, named in the
 * message ("数据库" reads "服务暂时不可用（数据库），请稍后再试"), with
 * Retry-After: 5.  Returns -1.  Every other refusal is a row of
 * mt_error.h, answered with mt_reply_err or mt_reply_refusal.
 */
int          mt_reply_unavailable(struct mt_req *req, const char *what);

/*
 * Run one request through the checks and the route table of mod.
 * Used by the host's accept loop; also the unit under test.
 */
void         mt_http_dispatch(const struct mt_module *mod, struct mt_req *req);

#endif
