/*
 * apply.c -- module `apply`: the applicant's path (R-APP-1 ... R-APP-9).
 * This file wires it: the route table, the field tables, and the answers
 * every handler file shares.  The handlers live by concern:
 *
 *   filing.c     POST   /applications                create a draft: the
 *                                                    person's own, a
 *                                                    relative's, or at the
 *                                                    agency's counter
 *   drafts.c     GET    /applications                the caller's list
 *                GET    /applications/{id}           status, missing
 *                                                    materials, timeline
 *                PATCH  /applications/{id}           draft or returned only
 *                POST   /applications/{id}/withdraw  before a decision
 *   materials.c  POST   /applications/{id}/materials upload one file
 *                DELETE /applications/{id}/materials/{mid}
 *                GET    /materials/{mid}             via X-Accel-Redirect
 *   submit.c     POST   /applications/{id}/submit    {promise: true}
 *   hospital.c   POST   /hospital/applications       hospital staff file
 *                                                    for a person
 *   objection.c  POST   /applications/{id}/objection the applicant's
 *                                                    objection to a
 *                                                    rejection, or the
 *                                                    filing hospital's
 *                                                    appeal (R-CER-12)
 *   apply_db.c   every statement, behind typed functions (apply_db.h)
 *
 * Scope: every statement carries the caller's scope, so another person's
 * application or file is a 404 (apply_db.h).  Every state change writes
 * its event in the same statement or transaction; every read of a file
 * and every staff read of an application writes access_log.
 */
#include <stdlib.h>
#include <string.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_valid.h"

#include "apply.h"

/* See apply.h. */
int
apply_not_found(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_APPLICATION_NOT_FOUND, "id");
}

/* See apply.h. */
int
apply_not_editable(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_APPLICATION_NOT_EDITABLE, NULL);
}

/* See apply.h. */
int
apply_editable_or_reply(struct mt_req *req, const struct apply_scope *sc,
    const char *id, int upload)
{
	char status[16];
	int rc;

	if ((rc = apply_db_status(req, sc, id, status)) < 0)
		return -1;
	if (rc == 0)
		return apply_not_found(req);
	if (upload && strcmp(status, "certifying") == 0)
		return 0;
	/* An open objection: materials may be added (R-CER-12). */
	if (upload && strcmp(status, "objecting") == 0)
		return 0;
	if (strcmp(status, "draft") != 0 && strcmp(status, "returned") != 0)
		return apply_not_editable(req);
	return 0;
}

/* See apply.h.  A view missing right after its application was written
 * (201) is a broken invariant: logged and answered 500. */
int
apply_reply_view(struct mt_req *req, const struct apply_scope *sc,
    const char *id, int status)
{
	char *view = NULL;
	int rc;

	if ((rc = apply_db_view(req, sc, id, &view)) < 0)
		return -1;
	if (rc == 0 && status != 200) {
		mt_log_error("rid=%s apply: no view of %s to answer with",
		    req->request_id, id);
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	if (rc == 0)
		return apply_not_found(req);
	if (status == 200)
		mt_req_header(req, "Cache-Control: no-store");
	mt_reply_raw(req, status, "application/json; charset=utf-8", view,
	    strlen(view));
	free(view);
	return 0;
}

/* Per-worker start (mt_module.worker_init): sweep the file store.  0. */
static int
apply_init(void)
{
	apply_sweep_files();
	return 0;
}

/* A material kind: a snake_case code of at most 40, from a letter. */
static int
valid_kind(const char *s)
{
	return mt_valid_code(s) && strlen(s) <= 40 && s[0] >= 'a' &&
	    s[0] <= 'z';
}

/* An issuer: one line of text (length capped by the field table). */
static int
valid_issuer(const char *s)
{
	return strpbrk(s, "\r\n\t") == NULL;
}

static int
valid_limit(const char *s)
{
	long v = atol(s);

	return v >= 1 && v <= 100;
}

static int
valid_status(const char *s)
{
	static const char *const st[] = { "draft", "submitted", "returned",
	    "in_review", "approved", "rejected", "withdrawn", NULL };

	return mt_valid_one_of(s, st);
}

static int
valid_record_no(const char *s)
{
	return s[0] != '\0' && strpbrk(s, "\r\n\t") == NULL;
}

#define F_ID { "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "申请编号" }
/* The agent (R-APP-9): all four or none. */
#define F_AGENT \
	{ "agent.name", MT_IN_BODY, MT_F_STRING, mt_valid_name, \
	  MT_REQ_GROUP, 32, "代办人姓名" }, \
	{ "agent.id_number", MT_IN_BODY, MT_F_STRING, mt_valid_id_number, \
	  MT_REQ_GROUP, 18, "代办人身份证号码" }, \
	{ "agent.relation", MT_IN_BODY, MT_F_STRING, mt_valid_name, \
	  MT_REQ_GROUP, 16, "代办人与申请人关系" }, \
	{ "agent.phone", MT_IN_BODY, MT_F_STRING, mt_valid_phone, \
	  MT_REQ_GROUP, 11, "代办人手机号码" }

/* The details an application carries (required when creating, optional
 * in a patch), then its agent. */
#define F_DETAILS(req) \
	{ "phone", MT_IN_BODY, MT_F_STRING, mt_valid_phone, req, 11, \
	  "手机号码" }, \
	{ "medical_record_no", MT_IN_BODY, MT_F_STRING, valid_record_no, req, \
	  64, "病案号" }, \
	{ "designated_institution", MT_IN_BODY, MT_F_STRING, \
	  mt_valid_institution_code, req, 20, "定点医疗机构" }, \
	F_AGENT
#define F_DISEASE { "disease_code", MT_IN_BODY, MT_F_STRING, \
	  mt_valid_disease_code, 1, 16, "申请病种" }

static int
valid_relation(const char *s)
{
	static const char *const rel[] = { "配偶", "子女", "父母", "祖父母",
	    "孙子女", "兄弟姐妹", "其他", NULL };

	return mt_valid_one_of(s, rel);
}

/* Insured: own, or a relative's (R-APP-9: all four relative fields);
 * agency at the counter: the person's id_number and name (required by
 * h_create for that role). */
static const struct mt_field f_create[] = {
	F_DISEASE,
	F_DETAILS(1),
	{ "id_number", MT_IN_BODY, MT_F_STRING, mt_valid_id_number, 0, 18,
	  "申请人身份证号码" },
	{ "name", MT_IN_BODY, MT_F_STRING, mt_valid_name, 0, 32,
	  "申请人姓名" },
	{ "relative.id_number", MT_IN_BODY, MT_F_STRING, mt_valid_id_number,
	  MT_REQ_GROUP, 18, "家人身份证号码" },
	{ "relative.name", MT_IN_BODY, MT_F_STRING, mt_valid_name,
	  MT_REQ_GROUP, 32, "家人姓名" },
	{ "relative.relation", MT_IN_BODY, MT_F_STRING, valid_relation,
	  MT_REQ_GROUP, 16, "与家人的关系" },
	{ "relative.promise", MT_IN_BODY, MT_F_BOOL, NULL, MT_REQ_GROUP, 5,
	  "代办承诺" },
	{ NULL },
};

static const struct mt_field f_hospital_file[] = {
	{ "id_number", MT_IN_BODY, MT_F_STRING, mt_valid_id_number, 1, 18,
	  "申请人身份证号码" },
	{ "name", MT_IN_BODY, MT_F_STRING, mt_valid_name, 1, 32,
	  "申请人姓名" },
	F_DISEASE,
	F_DETAILS(1),
	{ NULL },
};

static const struct mt_field f_patch[] = {
	F_ID,
	F_DETAILS(0),
	{ NULL },
};

static const struct mt_field f_id[] = { F_ID, { NULL } };

static const struct mt_field f_reads[] = {
	F_ID,
	{ "limit", MT_IN_QUERY, MT_F_INT, valid_limit, 0, 3,
	  "每页条数（1–100）" },
	MT_F_PAGE_CURSOR,
	{ NULL },
};

static const struct mt_field f_list[] = {
	{ "limit", MT_IN_QUERY, MT_F_INT, valid_limit, 0, 3,
	  "每页条数（1–100）" },
	MT_F_PAGE_CURSOR,
	{ "status", MT_IN_QUERY, MT_F_STRING, valid_status, 0, 16,
	  "申请状态" },
	{ NULL },
};

/* The upload's parts (R-APP-3); the file is sniffed by the handler. */
static const struct mt_field f_upload[] = {
	F_ID,
	{ "kind", MT_IN_PART, MT_F_STRING, valid_kind, 1, 40, "材料类型" },
	{ "issued_on", MT_IN_PART, MT_F_STRING, mt_valid_date, 1, 10,
	  "出具日期（YYYY-MM-DD）" },
	{ "issuer", MT_IN_PART, MT_F_STRING, valid_issuer, 1, 128,
	  "出具机构" },
	{ "file", MT_IN_PART, MT_F_FILE, NULL, 1, 0, "要上传的文件" },
	{ NULL },
};

static const struct mt_field f_material[] = {
	F_ID,
	{ "mid", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "材料编号" },
	{ NULL },
};

static const struct mt_field f_file[] = {
	{ "mid", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "材料编号" },
	{ NULL },
};

static const struct mt_field f_objection[] = {
	F_ID,
	/* Free text, line breaks allowed: UTF-8 and the length only. */
	{ "reason", MT_IN_BODY, MT_F_STRING, NULL, 1, 1000, "复核理由" },
	{ NULL },
};

static const struct mt_field f_submit[] = {
	F_ID,
	{ "promise", MT_IN_BODY, MT_F_BOOL, NULL, 1, 5, "承诺" },
	{ NULL },
};

/* Who acts on a draft: the person (or their family agent), the filing
 * hospital, the agency's counter (R-APP-1). */
#define APPLICANT (MT_ROLE_INSURED | MT_ROLE_HOSPITAL | MT_ROLE_AGENCY)
#define READERS (MT_ROLE_INSURED | MT_ROLE_HOSPITAL | MT_ROLE_AGENCY | \
                 MT_ROLE_ADMIN)
#define UPLOAD_MAX (12 * 1024 * 1024)

static const struct mt_route routes[] = {
	{ "POST", "/applications", h_create, MT_ROLE_INSURED | MT_ROLE_AGENCY,
	  0, f_create, MT_R_IDEMPOTENT },
	{ "GET", "/applications", h_list, READERS, 0, f_list, 0 },
	{ "GET", "/applications/{id}", h_get, READERS, 0, f_id, 0 },
	{ "PATCH", "/applications/{id}", h_patch, APPLICANT, 0, f_patch, 0 },
	{ "POST", "/applications/{id}/materials", h_upload, APPLICANT,
	  UPLOAD_MAX, f_upload, MT_R_MULTIPART | MT_R_IDEMPOTENT },
	{ "DELETE", "/applications/{id}/materials/{mid}", h_material_delete,
	  APPLICANT, 0, f_material, 0 },
	{ "GET", "/materials/{mid}", h_material_file,
	  READERS | MT_ROLE_EXPERT, 0, f_file, 0 },
	{ "POST", "/applications/{id}/submit", h_submit, APPLICANT, 0,
	  f_submit, MT_R_IDEMPOTENT },
	{ "POST", "/applications/{id}/withdraw", h_withdraw, APPLICANT, 0,
	  f_id, 0 },
	{ "POST", "/hospital/applications", h_hospital_file, MT_ROLE_HOSPITAL,
	  0, f_hospital_file, MT_R_IDEMPOTENT },
	/* Objections and hospitals' appeals (objection.c, R-CER-12). */
	{ "POST", "/applications/{id}/objection", h_objection,
	  MT_ROLE_INSURED | MT_ROLE_HOSPITAL, 0, f_objection,
	  MT_R_IDEMPOTENT },
	/* Who read the person's file (reads.c, PIPL art. 45). */
	{ "GET", "/applications/{id}/reads", h_reads, MT_ROLE_INSURED, 0,
	  f_reads, 0 },
};

const struct mt_module mt_module = {
	.name = "apply",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = apply_stmts,
	.nstmts = APPLY_NSTMTS,
	.worker_init = apply_init,
};
