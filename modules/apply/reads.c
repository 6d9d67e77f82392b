/*
 * reads.c -- the person sees who read their file (issue 15; PIPL art. 45):
 * each logged read of their application and its materials (access_log,
 * written by every staff, expert and family-agent read), with when, the
 * reader's role and their hospital or agency.  An expert is shown as a
 * role alone, never a name or an institution: the review is blind.
 */
#include <stdlib.h>

#include "mt_http.h"

#include "apply.h"

/*
 * GET /applications/{id}/reads?limit=&cursor=: by the insured person
 * whose application it is (or the family agent who filed it), newest
 * first, a page of limit (default 20) after cursor.  200 {items,
 * next_cursor}; 404 application_not_found (not theirs); 503; 500.
 */
int
h_reads(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct apply_scope sc;
	int rc;

	apply_scope_of(req, &sc);
	rc = apply_db_reply_reads(req, &sc, mt_req_param(req, "id"),
	    mt_req_param(req, "cursor"), limit != NULL ? atoi(limit) : 20);
	return rc == 0 ? apply_not_found(req) : rc < 0 ? -1 : 0;
}
