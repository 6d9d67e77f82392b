/*
 * benefit.h -- what the benefit module's handler files share: the
 * handlers the route table in benefit.c names.  The database is reached
 * through benefit_db.h only.
 */
#ifndef BENEFIT_H
#define BENEFIT_H

#include "benefit_db.h"

struct mt_req;

/* benefit.c: the qualifications, the letter, hospital change, exit. */
int  h_list(struct mt_req *req);
int  h_letter(struct mt_req *req);
int  h_change_institution(struct mt_req *req);
int  h_terminate(struct mt_req *req);
/* card.c: the e-card and its QR code. */
int  h_card(struct mt_req *req);
int  h_card_qr(struct mt_req *req);

#endif
