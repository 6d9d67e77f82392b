/*
 * reports.c -- the hospital's quarterly certification table (R-SUP-2,
 * S4: within quarterly_report_working_days after each quarter).
 * Contract only: answers 501 until built.
 */
#include "mt_error.h"
#include "mt_http.h"

#include "hospital.h"

const struct mt_field f_quarterly[] = { { NULL } };
const struct mt_field f_quarterly_submit[] = { { NULL } };

/* h_quarterly: 501 not_implemented until built (issue 11 contract). */
int
h_quarterly(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_quarterly_submit: 501 not_implemented until built (issue 11 contract). */
int
h_quarterly_submit(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}
