/*
 * apply_db.h -- the apply module's typed database functions (issue 9 B2;
 * kcgi-framework's db.c): every statement of the module lives in
 * apply_db.c, and handlers call these instead of filling parameters or
 * reading columns.  No libpq type crosses this interface.
 *
 * Convention (`_or_reply`): a function returns -1 after it has answered
 * the request itself (503 database down, 500 a bug, or a refusal an SQL
 * function returned, through mt_reply_refusal); otherwise 0 or, where it
 * says so, 1 found / 0 not found, leaving the answer to the handler.
 *
 * Scope: every read and write carries the caller's scope, so another
 * person's application or file is simply not found: insured persons see
 * their own and those they filed for a relative, hospital staff what their institution filed, agency staff
 * their region, admins all (experts: files of their accepted tasks).
 */
#ifndef APPLY_DB_H
#define APPLY_DB_H

#include <stddef.h>

#include <json-c/json.h>

#include "mt_files.h"
#include "mt_identity.h"

struct mt_req;

/* The caller's scope, from the session (apply_scope_of). */
struct apply_scope {
	const char  *role;
	char         person[24];
	const char  *institution;
	const char  *region;
	char         user[24];
};

/* The agent acting for the applicant (R-APP-9): all four or none. */
struct apply_agent {
	const char  *name;
	const char  *id_number;
	const char  *relation;
	const char  *phone;
};

/* A new application (POST /applications, POST /hospital/applications). */
struct apply_draft {
	const char        *person;       /* persons.id */
	const char        *region;       /* the person's region */
	const char        *channel;      /* web, mini_program, hospital,
	                                  * counter */
	const char        *event;        /* the first event's type: NULL
	                                  * created, filed_by_hospital,
	                                  * filed_by_agent, filed_at_counter */
	const char        *disease;
	const char        *review_mode;  /* from apply_db_disease */
	const char        *phone;
	const char        *record_no;    /* medical_record_no */
	const char        *institution;  /* designated_institution */
	const char        *filing;       /* filing institution, or NULL */
	struct apply_agent agent;        /* name NULL: none */
	const char        *agent_person; /* persons.id of a family agent
	                                  * filing for a relative, or NULL */
};

/* A person as the registry has them. */
struct apply_person {
	char         id_number[19];
	char         name[260];      /* 64 characters of UTF-8 */
	char         phone[12];
};

/* A change to a draft (PATCH): NULL members stay as they are. */
struct apply_patch {
	const char        *phone;
	const char        *record_no;
	const char        *institution;
	int                set_agent;    /* replace the agent by agent
	                                  * (all NULL: remove it) */
	struct apply_agent agent;
};

/* A material kind's name: material_kinds.name is up to 64 characters,
 * up to 4 bytes each in UTF-8, and its NUL (a 64-byte buffer cut
 * 凝血因子活性测定等报告（FVIII/IX、VWFAg、APTT、抑制物筛查）, 80 bytes, in
 * the middle of a character: PostgreSQL refused the event, a 500). */
#define APPLY_KIND_NAME_MAX (64 * 4 + 1)

/* What an upload is checked against (STMT_MATERIAL_RULES). */
struct apply_material_rules {
	int          needed;         /* the disease needs this kind */
	char         kind_name[APPLY_KIND_NAME_MAX];
	long long    max_age_days;   /* of the kind, else the policy's */
	long long    max_file_bytes;
	long long    max_app_bytes;
	long long    used_bytes;     /* by the application's materials */
	long long    age_days;       /* today - issued_on */
};

/* A stored file to record as a material. */
struct apply_material {
	const char  *kind;
	const char  *kind_name;
	const char  *issued_on;
	const char  *issuer;
	const char  *sha256;
	const char  *media_type;
	size_t       size;
	const struct mt_files_sealed *sealed;   /* its file and key */
};

/* A material's file as the caller may read it. */
struct apply_file {
	char         sha256[65];    /* of its content; its name when plain */
	char         media_type[32];
	long long    size;
	int          shredded;      /* its key destroyed (retention over) */
	int          sealed;        /* 1: file is where it is and its key;
	                             * 0: plain, of before issue 15 */
	struct mt_files_sealed file;
};

void apply_scope_of(const struct mt_req *req, struct apply_scope *sc);

/*
 * An application's contact phone and its agent's ID number and phone as
 * they are written (044_identity_rest.sql; apply_identity.c): sealed,
 * with their masks.  Each enc NULL when the value is not given.
 */
struct apply_sealed {
	struct mt_identity_cols phone;
	struct mt_identity_cols agent_id;
	struct mt_identity_cols agent_phone;
};
/* Seal phone and agent's (either may be NULL) into s.  0, or -1 after
 * answering 503 (no keys).  Release with apply_sealed_free, always. */
int  apply_sealed_or_reply(struct mt_req *req, const char *phone,
         const struct apply_agent *agent, struct apply_sealed *s);
void apply_sealed_free(struct apply_sealed *s);
/* c's mask, or NULL when c holds no value (a statement parameter). */
const char *apply_sealed_masked(const struct mt_identity_cols *c);
/* The phones of an application as its row has them: plain (a row not
 * sealed yet) or sealed; NULL when not set. */
struct apply_view_phones {
	const char  *phone;
	const char  *phone_enc;
	const char  *agent_phone;
	const char  *agent_phone_enc;
};
/*
 * Put the full contact and agent phones of ph into the progress view
 * *view (replaced by a new malloc'd string; the stored view holds their
 * masks).  0, or -1 when the view does not parse or a seal does not
 * open (*view unchanged).
 */
int  apply_view_phones(char **view, const struct apply_view_phones *ph);

/* The person of (id_number, name): writes persons.id (24) and region (8).
 * 1 found, 0 none, -1 after answering. */
int  apply_db_person(struct mt_req *req, const char *id_number,
         const char *name, char *person, char *region);
/* Person id's identity (R-APP-9: the family agent), its ID number and
 * phone opened (shared/mt_identity.h).  1 found, 0 none, -1 after
 * answering (503 also when they do not open). */
int  apply_db_person_card(struct mt_req *req, const char *person,
         struct apply_person *c);
/* Whether a relative's region fits the choice (R-APP-9). */
struct apply_region_fit {
	char             name[128];      /* the region's name */
	int              in_catalog;     /* the disease is in its catalog */
	int              may_serve;      /* institution_may_serve there */
};
/* The fit of disease and hospital inst (either may be NULL: no fit) in
 * region's catalog.  1 with *fit, 0 no such region, -1 after
 * answering. */
int  apply_db_relative_fit(struct mt_req *req, const char *region,
         const char *disease, const char *inst, struct apply_region_fit *fit);
/* The review mode (16) of disease in region's catalog.  1 in the
 * catalog, 0 not, -1 after answering. */
int  apply_db_disease(struct mt_req *req, const char *disease,
         const char *region, char *mode);
/* 1 when the institution exists, 0 not, -1 after answering. */
int  apply_db_institution(struct mt_req *req, const char *code);

/*
 * Create the application d and its first event; a hospital filing also
 * records its pre-check.  One transaction with the submission rules
 * (submission_refusal), so a refused draft leaves nothing.  Writes the
 * id (24).  0, or -1 after answering 409 application_exists, a rule's
 * 422 refusal, 503 or 500.
 */
int  apply_db_create(struct mt_req *req, const struct apply_scope *sc,
         const struct apply_draft *d, char *id);

/* The status (16) of application id in the caller's scope.  1 found,
 * 0 not, -1 after answering. */
int  apply_db_status(struct mt_req *req, const struct apply_scope *sc,
         const char *id, char *status);
/* The progress view of application id (JSON text, the caller frees it);
 * a read by staff or by a family agent is written to access_log.  1 found, 0 not, -1 after
 * answering. */
int  apply_db_view(struct mt_req *req, const struct apply_scope *sc,
         const char *id, char **view);
/* Answer the page of the caller's applications after cursor (may be
 * NULL), of status (may be NULL), limit long.  0, or -1 after
 * answering 503/500. */
int  apply_db_reply_list(struct mt_req *req, const struct apply_scope *sc,
         const char *cursor, const char *status, int limit);

/* Write patch pt of application id (draft or returned); a new hospital is
 * checked as submit would (designated in the region) in the same
 * transaction.  1 written, 0 not editable, -1 after answering 422, 503 or
 * 500. */
int  apply_db_patch(struct mt_req *req, const struct apply_scope *sc,
         const char *id, const struct apply_patch *pt);
/* Withdraw application id (withdraw_application) within scope sc (the
 * statement alone touches only the caller's own); *w gets its result
 * {"id","region","cancelled":[…]} (the caller puts it).  1 withdrawn, 0
 * decided or withdrawn already (or not in sc), -1 after answering. */
int  apply_db_withdraw(struct mt_req *req, const struct apply_scope *sc,
         const char *id, json_object **w);
/* Submit application id (submit_application); *ok gets {"id","status",
 * "submitted_at","expected_decision_date"} (the caller puts it).  0, or
 * -1 after answering a refusal (404, 409, 422), 503 or 500. */
int  apply_db_submit(struct mt_req *req, const struct apply_scope *sc,
         const char *id, json_object **ok);

/* The rules of a material of kind issued on issued for application id,
 * uploaded by the caller of scope sc (the hospital's own records are a
 * hospital's only).  1 found, 0 the application is gone, -1 after
 * answering. */
int  apply_db_material_rules(struct mt_req *req,
         const struct apply_scope *sc, const char *id, const char *kind,
         const char *issued, struct apply_material_rules *r);
/* Record material m of application id (draft or returned) and its event;
 * *json gets the material (JSON text, the caller frees it).  1 added, 0
 * not editable, -1 after answering. */
int  apply_db_material_add(struct mt_req *req, const struct apply_scope *sc,
         const char *id, const struct apply_material *m, char **json);
/* Delete material mid of application id (draft or returned).  1
 * deleted, 0 not found, -1 after answering. */
int  apply_db_material_delete(struct mt_req *req,
         const struct apply_scope *sc, const char *id, const char *mid);
/* Material mid's sealed file into s, without a check of who asks (the
 * caller has read it with apply_db_material_file).  1 found sealed, 0
 * not, -1 after answering 503/500. */
int  apply_db_material_sealed(struct mt_req *req, const char *mid,
         struct mt_files_sealed *s);
/* The file of material mid in the caller's scope; the read is written to
 * access_log.  1 found, 0 not, -1 after answering. */
int  apply_db_material_file(struct mt_req *req,
         const struct apply_scope *sc, const char *mid,
         struct apply_file *f);

/*
 * File an objection to rejected application id (file_objection: the
 * applicant, or staff of the hospital that filed it -- an appeal) with
 * reason; *ok gets the objection (the caller puts it).  0, or -1 after
 * answering 404, 409 application_not_rejected or application_exists, 422
 * objection_window_closed or objection_already_filed, 503 or 500.
 */
int  apply_db_objection(struct mt_req *req, const struct apply_scope *sc,
         const char *id, const char *reason, json_object **ok);

/* Answer the page of the logged reads of application id and its
 * materials after cursor (may be NULL), limit long, when the insured
 * caller of sc is its person or their family agent: 1 answered, 0 not
 * theirs (nothing answered), -1 after answering 503/500. */
int  apply_db_reply_reads(struct mt_req *req, const struct apply_scope *sc,
         const char *id, const char *cursor, int limit);

/* The module's statements, for struct mt_module (their enum is private
 * to apply_db.c, which asserts the count). */
#define APPLY_NSTMTS 23
extern const char *const apply_stmts[APPLY_NSTMTS];

#endif
