/*
 * card.c -- the e-card (R-BEN-2): GET /qualifications/{id}/card and its
 * QR code.  The token is signed by shared/mt_card.c.
 */
#include "mt_error.h"
#include "mt_http.h"

#include "benefit.h"

/* GET /qualifications/{id}/card: 501 until built. */
int
h_card(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* GET /qualifications/{id}/card/qr.svg: 501 until built. */
int
h_card_qr(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}
