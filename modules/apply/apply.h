/*
 * apply.h -- what the apply module's handler files share: the handlers
 * the route table in apply.c names, and a few answers every one of them
 * gives.  The database is reached through apply_db.h only.
 */
#ifndef APPLY_H
#define APPLY_H

#include "apply_db.h"

struct mt_req;

/* filing.c */
int  h_create(struct mt_req *req);
/* drafts.c */
int  h_list(struct mt_req *req);
int  h_get(struct mt_req *req);
int  h_patch(struct mt_req *req);
int  h_withdraw(struct mt_req *req);
/* hospital.c */
int  h_hospital_file(struct mt_req *req);
/* materials.c */
int  h_upload(struct mt_req *req);
int  h_material_delete(struct mt_req *req);
int  h_material_file(struct mt_req *req);
void apply_sweep_files(void);
/* submit.c */
int  h_submit(struct mt_req *req);
/* objection.c */
int  h_objection(struct mt_req *req);
/* reads.c */
int  h_reads(struct mt_req *req);

/*
 * Create the application d (d->review_mode is filled here after the
 * disease and institution checks; the agent from the request's "agent"
 * unless d->agent is set) and answer 201 with its view and a Location;
 * 403, 409, 422, 503 or 500 otherwise (drafts.c).
 */
int  apply_create(struct mt_req *req, struct apply_draft *d);

/* 404 application_not_found; returns -1. */
int  apply_not_found(struct mt_req *req);
/* 409 application_not_editable; returns -1. */
int  apply_not_editable(struct mt_req *req);
/*
 * Application id is the caller's and still a draft or returned -- or,
 * when upload is set, an on-site application submitted to the caller's
 * hospital that waits for its certification (the hospital adds its
 * images, issue 11): 0, or -1 after answering 404, 409, 503 or 500.
 */
int  apply_editable_or_reply(struct mt_req *req, const struct apply_scope *sc,
         const char *id, int upload);
/*
 * Answer application id's progress view with status (200 or 201), or
 * 404 when it is not the caller's.  Returns 0, or -1 after answering an
 * error.
 */
int  apply_reply_view(struct mt_req *req, const struct apply_scope *sc,
         const char *id, int status);

#endif
