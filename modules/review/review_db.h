/*
 * review_db.h -- the review module's typed database functions (issue 9
 * B2; kcgi-framework's db.c): the handlers in review.c call these and
 * never see a statement, a parameter position or a column.
 *
 * Convention (_or_reply): each returns 0, or answers the request itself
 * -- 503 database down, 500 a bug, or the engine's refusal (404/409/422,
 * a row of shared/mt_error.c) -- and returns -1.
 */
#ifndef REVIEW_DB_H
#define REVIEW_DB_H

#include <json-c/json.h>

struct mt_req;

/* The statements, prepared per connection (struct mt_module.stmts). */
enum review_stmt {
	REVIEW_STMT_TASKS,
	REVIEW_STMT_ACCEPT,
	REVIEW_STMT_REFUSE,
	REVIEW_STMT_DECIDE,
	REVIEW_STMT_REASON,
	/* The returned state (issue 12, R-APP-8). */
	REVIEW_STMT_RETURN,
	/* The quarterly review (checks.c). */
	REVIEW_STMT_CASES,
	REVIEW_STMT_RESULT,
	REVIEW_STMT__MAX
};
extern const char *const review_db_stmts[REVIEW_STMT__MAX];

/* One of the caller's tasks: the assignment and the expert. */
struct review_task {
	const char      *aid;           /* validated integer text */
	long long        expert;        /* the session's user id */
};

/* An expert's decision on an accepted task (R-CER-5, R-CER-11). */
struct review_decision {
	const char      *verdict;       /* "approve" or "reject" */
	const char      *opinion;       /* "" when none */
	const char      *reason_code;   /* NULL when none */
};

/* Answer a page of the expert's task list for state (NULL: pushed and
 * accepted): at most limit tasks older than cursor (NULL: from the
 * newest), next_cursor set when more follow. */
int     review_db_reply_tasks(struct mt_req *req, long long expert,
            const char *state, const char *cursor, int limit);
/*
 * The engine's operations (sql/fn/30_review.sql).  On success *out is
 * the engine's JSON result (the caller puts it): accept {assignment,
 * application, stage, region}; refuse {assignment, application, region,
 * disqualified}; decide {..., final}.
 */
int     review_db_accept(struct mt_req *req, const struct review_task *t,
            json_object **out);
int     review_db_refuse(struct mt_req *req, const struct review_task *t,
            const char *reason, json_object **out);
int     review_db_decide(struct mt_req *req, const struct review_task *t,
            const struct review_decision *d, json_object **out);
/*
 * Return the accepted task's application for the missing kinds (missing:
 * the validated JSON array text of kind codes) with the opinion
 * (sql/fn/82_return.sql return_assignment).  *out {assignment,
 * application, stage, region, final, resubmit_by}; refusals 404/409/422.
 */
int     review_db_return(struct mt_req *req, const struct review_task *t,
            const char *missing, const char *opinion, json_object **out);
/* 0 when code is an active rejection reason (R-CER-11), else 422
 * reason_code_not_found (field reason_code) or 503, and -1. */
int     review_db_reason_known(struct mt_req *req, const char *code);

/* The quarterly review (sql/fn/88_quarterly_review.sql). */
/* 200 with {items} of expert's review cases in state (pending, done;
 * NULL: both), blind (review_case_json). */
int     review_db_reply_cases(struct mt_req *req, long long expert,
            const char *state);
/* Give expert's result (agree, disagree) with note (NULL: none) on case
 * id and answer 200 with the case; 404 review_case_not_found, 409
 * review_result_given, 400 field_required (disagree without a note). */
int     review_db_give_result(struct mt_req *req, const char *id,
            long long expert, const char *result, const char *note);

#endif
