/*
 * mt_error.h -- every refusal the API gives, in one table (kcgi's
 * khttps[]): its HTTP status, its snake_case code and its Chinese text.
 *
 * C answers with mt_reply_err(req, MT_E_X, field, args...); SQL functions
 * refuse with {"error": "<code>", "field": …, "args": […]} and C answers
 * those with mt_reply_refusal.  A message may hold "%s" placeholders,
 * filled in order by the string arguments (a field's label, a policy
 * number already formatted); a missing argument leaves nothing.
 * nginx's own errors (nginx/) are rows too; tests/api/test_errors.py
 * holds this table, nginx/ and docs/openapi.yaml against each other.
 *
 * Adding a refusal is adding a row: an enum value here and its row in
 * mt_error.c (designated initializers, so the order cannot slip; a gap
 * or a repeated code fails mt_error_check, which `mtcertctl errors`
 * runs for tests/api/test_errors.py).
 */
#ifndef MT_ERROR_H
#define MT_ERROR_H

#include <json-c/json.h>

struct mt_req;

enum mt_err {
	/* The request itself (shared/mt_http.c, nginx). */
	MT_E_NOT_FOUND,
	MT_E_METHOD_NOT_ALLOWED,
	MT_E_BODY_TOO_LARGE,
	MT_E_BAD_CONTENT_LENGTH,
	MT_E_INCOMPLETE_BODY,
	MT_E_UNSUPPORTED_MEDIA_TYPE,
	MT_E_INVALID_UTF8,
	MT_E_MALFORMED_JSON,
	MT_E_MALFORMED_MULTIPART,
	MT_E_UNKNOWN_FIELD,
	MT_E_DUPLICATE_FIELD,
	MT_E_FIELD_REQUIRED,
	MT_E_FIELD_INVALID,
	MT_E_UNAUTHENTICATED,
	MT_E_CSRF_FAILED,
	MT_E_FORBIDDEN,
	MT_E_REQUEST_IN_PROGRESS,
	MT_E_IDEMPOTENCY_KEY_REUSED,
	MT_E_RATE_LIMITED,
	MT_E_RANGE_NOT_SATISFIABLE,
	MT_E_INTERNAL_ERROR,
	MT_E_NOT_IMPLEMENTED,
	MT_E_SERVICE_UNAVAILABLE,
	/* Sign-in (modules/auth). */
	MT_E_SMS_TOO_FREQUENT,
	MT_E_SMS_DAILY_LIMIT,
	MT_E_LOGIN_FAILED,
	MT_E_ACCOUNT_LOCKED,
	/* Catalog and regions. */
	MT_E_REGION_NOT_FOUND,
	MT_E_DISEASE_NOT_FOUND,
	/* Applications (modules/apply, sql/fn/20_applications.sql). */
	MT_E_APPLICATION_NOT_FOUND,
	MT_E_APPLICATION_EXISTS,
	MT_E_APPLICATION_NOT_EDITABLE,
	MT_E_APPLICATION_NOT_SUBMITTABLE,
	MT_E_APPLICATION_NOT_WITHDRAWABLE,
	MT_E_DISEASE_NOT_IN_CATALOG,
	MT_E_INSTITUTION_NOT_FOUND,
	MT_E_INSTITUTION_NOT_DESIGNATED,
	MT_E_ALREADY_QUALIFIED,
	MT_E_YEARLY_LIMIT_REACHED,
	MT_E_PERSON_NOT_FOUND,
	MT_E_PROMISE_REQUIRED,
	MT_E_MATERIALS_MISSING,
	MT_E_MATERIAL_TOO_OLD,
	MT_E_MATERIAL_KIND_NOT_NEEDED,
	MT_E_MATERIAL_NOT_FOUND,
	MT_E_FILE_EMPTY,
	MT_E_FILE_TOO_LARGE,
	MT_E_APPLICATION_FILES_TOO_LARGE,
	MT_E_FILE_TYPE_NOT_ALLOWED,
	MT_E_FILE_DAMAGED,
	/* Expert tasks (modules/review, sql/fn/30_review.sql). */
	MT_E_TASK_NOT_FOUND,
	MT_E_TASK_NOT_ACCEPTED,
	MT_E_TASK_ALREADY_ACCEPTED,
	MT_E_TASK_ALREADY_DECIDED,
	MT_E_TASK_UNAVAILABLE,
	MT_E_REASON_CODE_NOT_FOUND,
	/* Agency: experts and policy (modules/agency, sql/fn/40_experts.sql,
	 * sql/fn/10_util.sql). */
	MT_E_EXPERT_NOT_FOUND,
	MT_E_LOGIN_TAKEN,
	MT_E_INSTITUTION_NOT_CERTIFYING,
	MT_E_TITLE_BELOW_MINIMUM,
	MT_E_SPECIALTY_UNKNOWN,
	MT_E_POLICY_KEY_UNKNOWN,
	MT_E_POLICY_VALUE_INVALID,
	/* Benefits (modules/benefit, sql/fn/50_benefit.sql). */
	MT_E_QUALIFICATION_NOT_FOUND,
	MT_E_QUALIFICATION_NOT_ACTIVE,
	MT_E_CHANGE_LIMIT_REACHED,
	MT_E_INSTITUTION_UNCHANGED,
	MT_E_GUARDIAN_REQUIRED,
	/* Settlements (modules/agency/settlements.c, shared/mt_settle.c). */
	MT_E_SETTLEMENTS_INVALID,
	/* A well-formed date outside what the rule allows (ended_on). */
	MT_E_DATE_OUT_OF_RANGE,
	/* Hospitals certify (modules/hospital, sql/fn/65..76, issue 11). */
	MT_E_INSTITUTION_NOT_AUTHORIZED,
	MT_E_DESIGNATED_NOT_CERTIFYING,
	MT_E_AUTHORIZATION_RULE_FAILED,
	MT_E_INSTITUTION_UNKNOWN,
	MT_E_CERTIFICATION_NOT_FOUND,
	MT_E_NOT_AWAITING_CERTIFICATION,
	MT_E_NOT_AWAITING_CONFIRMATION,
	MT_E_OVERTURN_NOT_ALLOWED,
	MT_E_PANEL_TOO_SMALL,
	MT_E_PANEL_MEMBER_INVALID,
	MT_E_PUBLICITY_NOT_FOUND,
	MT_E_PUBLICITY_CLOSED,
	MT_E_QUARTER_NOT_ENDED,
	MT_E_REPORT_ALREADY_SUBMITTED,
	MT_E_AGENT_IS_SELF,
	/* Sanctions (issue 12 item 6). */
	MT_E_SANCTION_SUBJECT_NOT_FOUND,
	MT_E_SANCTION_KIND_INVALID,
	MT_E_PHYSICIAN_SUSPENDED,
	MT_E_EXPERT_SANCTIONED,
	/* Objections and hospitals' appeals (modules/apply/objection.c). */
	MT_E_APPLICATION_NOT_REJECTED,
	MT_E_OBJECTION_WINDOW_CLOSED,
	MT_E_OBJECTION_ALREADY_FILED,
	/* The agency's catalog and calendar (issue 12 item 7). */
	MT_E_MATERIAL_KIND_UNKNOWN,
	MT_E_REVIEW_MODE_NO_HOSPITAL,
	MT_E_CALENDAR_DAY_OUTSIDE_YEAR,
	MT_E_CALENDAR_DAY_POINTLESS,
	/* Audits (issue 12, R-SUP-1). */
	MT_E_AUDIT_RATE_TOO_LOW,
	MT_E_AUDIT_POPULATION_EMPTY,
	MT_E_AUDIT_NOT_FOUND,
	MT_E_AUDIT_ITEM_NOT_FOUND,
	MT_E_AUDIT_ITEM_DECIDED,
	/* The quarterly review (issue 12 item 4). */
	MT_E_REVIEW_QUARTER_OPEN,
	MT_E_REVIEW_ALREADY_DRAWN,
	MT_E_REVIEW_NO_EXPERTS,
	MT_E_REVIEW_NOT_FOUND,
	MT_E_REVIEW_CASE_NOT_FOUND,
	MT_E_REVIEW_RESULT_GIVEN,
	MT_E_RETURN_ALREADY_USED,
	MT_E_RETURN_NOT_IN_OBJECTION,
	MT_E_INSTITUTION_SANCTIONED,
	MT_E_MATERIAL_FILE_SHREDDED,
	MT_E_MATERIAL_FILE_UNREADABLE,
	MT_E__MAX
};

struct mt_error {
	enum mt_err      id;
	int              status;
	const char      *code;
	const char      *message;   /* Chinese; "%s" placeholders */
};

/* The table, indexed by enum mt_err. */
extern const struct mt_error mt_errors[MT_E__MAX];

/* The row of a code (a refusal from SQL), or NULL when none has it. */
const struct mt_error *mt_error_find(const char *code);

/*
 * Write the row's message with args[0..] (NULL-terminated) in place of
 * its "%s" placeholders into buf (always terminated, cut at a UTF-8
 * boundary when too small).  Returns buf.
 */
char        *mt_error_text(const struct mt_error *e, const char *const *args,
                 char *buf, size_t size);

/* 0 when the enum and the table agree row by row, else -1 (logged). */
int          mt_error_check(void);

/*
 * Answer a refusal in the envelope {"error":{"code","message","field"?,
 * "details"?}}.  fa[0] is the field (or NULL), fa[1..] the message's
 * arguments up to a NULL.  Takes ownership of details (may be NULL).
 * Returns -1, so a handler can `return mt_reply_err(...)`.
 */
int          mt_reply_err_args(struct mt_req *req, enum mt_err e,
                 json_object *details, const char *const *fa);
#define mt_reply_err(req, e, ...) \
	mt_reply_err_args((req), (e), NULL, \
	    (const char *const []){ __VA_ARGS__, NULL })
#define mt_reply_err_details(req, e, details, ...) \
	mt_reply_err_args((req), (e), (details), \
	    (const char *const []){ __VA_ARGS__, NULL })

/*
 * Answer a refusal an SQL function returned: {"error": code, "field"?,
 * "args"?: [strings], "details"?: {...}} (borrowed).  A code no row has
 * is a bug: logged and answered 500.  Returns -1.
 */
int          mt_reply_refusal(struct mt_req *req, json_object *refusal);

/*
 * The row of such a refusal, with its text (args filled in) written
 * into buf as mt_reply_refusal answers it; NULL (and "") when no row has
 * its code.  For the tools that print a refusal (mtcertctl).
 */
const struct mt_error *mt_refusal_text(json_object *refusal, char *buf,
                 size_t size);

#endif
