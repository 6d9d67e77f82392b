/*
 * hospital.h -- what the hospital module's handler files share: the
 * handlers and field tables the route table in hospital.c names.  The
 * database is reached through hospital_db.h only.
 */
#ifndef HOSPITAL_H
#define HOSPITAL_H

#include "hospital_db.h"
#include "mt_http.h"


struct mt_req;

/* onsite.c: on-site certification and its archive (R-CER-8, R-SUP-6). */
/* The signed-in hospital staff caller as the statements want it (user id
 * as text, institution borrowed from the session); onsite.c and
 * panel.c. */
void hospital_staff_of(const struct mt_req *req, struct hospital_staff *st);
int  h_certifications(struct mt_req *req);
int  h_certify(struct mt_req *req);
int  h_certification(struct mt_req *req);
extern const struct mt_field f_certifications[];
extern const struct mt_field f_certify[];
extern const struct mt_field f_certification[];

/* panel.c: hospital panels and the public notice (R-CER-10). */
int  h_panel_cases(struct mt_req *req);
int  h_panel_case(struct mt_req *req);
int  h_panel_experts(struct mt_req *req);
int  h_panel_decide(struct mt_req *req);
int  h_publicity(struct mt_req *req);
int  h_publicity_object(struct mt_req *req);
extern const struct mt_field f_panel_cases[];
extern const struct mt_field f_panel_case[];
extern const struct mt_field f_panel_experts[];
extern const struct mt_field f_panel_decide[];
extern const struct mt_field f_publicity[];
extern const struct mt_field f_publicity_object[];

/* reports.c: the quarterly certification table (R-SUP-2, S4). */
int  h_quarterly(struct mt_req *req);
int  h_quarterly_submit(struct mt_req *req);
extern const struct mt_field f_quarterly[];
extern const struct mt_field f_quarterly_submit[];

#endif
