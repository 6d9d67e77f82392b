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
