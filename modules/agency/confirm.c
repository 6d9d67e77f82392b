/*
 * confirm.c -- contract only (issue 11): answers 501 until built.
 */
#include "mt_error.h"
#include "mt_http.h"

#include "agency.h"

const struct mt_field f_application[] = { { NULL } };
const struct mt_field f_confirm[] = { { NULL } };

/* h_application: 501 not_implemented until built (issue 11 contract). */
int
h_application(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_confirm: 501 not_implemented until built (issue 11 contract). */
int
h_confirm(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

