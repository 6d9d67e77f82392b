/*
 * onsite.c -- on-site certification (R-CER-8, S1 现场确认备案, S4 医疗鉴定)
 * and its archive (R-SUP-6).  Contract only: answers 501 until built.
 */
#include "mt_error.h"
#include "mt_http.h"

#include "hospital.h"

const struct mt_field f_certifications[] = { { NULL } };
const struct mt_field f_certify[] = { { NULL } };
const struct mt_field f_certification[] = { { NULL } };

/* h_certifications: 501 not_implemented until built (issue 11 contract). */
int
h_certifications(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_certify: 501 not_implemented until built (issue 11 contract). */
int
h_certify(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_certification: 501 not_implemented until built (issue 11 contract). */
int
h_certification(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}
