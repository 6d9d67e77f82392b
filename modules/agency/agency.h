/*
 * agency.h -- what the agency module's handler files share: the handlers
 * the route table in agency.c names and the caller's region scope.  The
 * database is reached through agency_db.h only.
 */
#ifndef AGENCY_H
#define AGENCY_H

struct mt_req;

/* qualifications.c */
int  h_qualifications(struct mt_req *req);
int  h_qualification_end(struct mt_req *req);
int  h_region(struct mt_req *req);
int  h_region_set(struct mt_req *req);
int  h_feed(struct mt_req *req);

/* Hospitals certify (issue 11). */
#include "mt_http.h"
/* institutions.c: certification authorization (R-CER-8, R-CER-9). */
int  h_institutions(struct mt_req *req);
int  h_authorizations(struct mt_req *req);
int  h_authorize(struct mt_req *req);
extern const struct mt_field f_institutions[];
extern const struct mt_field f_authorizations[];
extern const struct mt_field f_authorize[];
/* confirm.c: one application and its archive, the confirmation
 * (R-CER-11, R-SUP-6). */
int  h_application(struct mt_req *req);
int  h_confirm(struct mt_req *req);
extern const struct mt_field f_application[];
extern const struct mt_field f_confirm[];
/* reports.c: the quarterly tables sent and late (R-SUP-2, S4). */
int  h_quarterly_status(struct mt_req *req);
extern const struct mt_field f_quarterly_status[];
/* reviews.c: the quarterly review (R-SUP-2, S2 三). */
int  h_review_draw(struct mt_req *req);
int  h_reviews(struct mt_req *req);
int  h_review(struct mt_req *req);
extern const struct mt_field f_review_draw[];
extern const struct mt_field f_reviews[];
extern const struct mt_field f_review[];
/* audits.c: audit samples (issue 12, R-SUP-1). */
int  h_audit_new(struct mt_req *req);
int  h_audits(struct mt_req *req);
int  h_audit(struct mt_req *req);
int  h_audit_result(struct mt_req *req);
extern const struct mt_field f_audit_new[];
extern const struct mt_field f_audits[];
extern const struct mt_field f_audit[];
extern const struct mt_field f_audit_result[];
/* catalog.c: the region's catalog, the working-day calendar (R-SUP-5,
 * R-CER-6). */
int  h_catalog(struct mt_req *req);
int  h_catalog_set(struct mt_req *req);
int  h_calendar(struct mt_req *req);
int  h_calendar_set(struct mt_req *req);
extern const struct mt_field f_catalog[];
extern const struct mt_field f_catalog_set[];
extern const struct mt_field f_calendar[];
extern const struct mt_field f_calendar_set[];
/* sanctions.c: sanctions with their effect (issue 12, R-SUP-4, S2 五). */
int  h_sanction_add(struct mt_req *req);
int  h_sanctions(struct mt_req *req);
extern const struct mt_field f_sanction_add[];
extern const struct mt_field f_sanctions[];
/* stats.c: the experts' workload and the turnaround (R-SUP-3). */
int  h_stats_experts(struct mt_req *req);
int  h_stats_turnaround(struct mt_req *req);
extern const struct mt_field f_stats_experts[];
extern const struct mt_field f_stats_turnaround[];
/* objections.c: the list of objections (R-CER-12, S3 第九条). */
int  h_objections(struct mt_req *req);
extern const struct mt_field f_objections[];
/* The states an objection filter names: open, decided, withdrawn, any
 * (1 when s is one). */
int  agency_valid_objection_state(const char *s);

/*
 * The region the caller may see: an agency's own, an admin's choice of
 * ?region= or body "region" (NULL: all).  Returns 0, or -1 after
 * answering 404 region_not_found (an agency naming another region).
 */
int  agency_region_scope_or_reply(struct mt_req *req, const char **region);
/*
 * Exactly one region: an agency's own, the one an admin names.  Returns
 * 0, or -1 after answering 404, or 400 field_required (an admin named
 * none).
 */
int  agency_one_region_or_reply(struct mt_req *req, const char **region);

#endif
