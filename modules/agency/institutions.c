/*
 * institutions.c -- contract only (issue 11): answers 501 until built.
 */
#include "mt_error.h"
#include "mt_http.h"

#include "agency.h"

const struct mt_field f_institutions[] = { { NULL } };
const struct mt_field f_authorizations[] = { { NULL } };
const struct mt_field f_authorize[] = { { NULL } };

/* h_institutions: 501 not_implemented until built (issue 11 contract). */
int
h_institutions(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_authorizations: 501 not_implemented until built (issue 11 contract). */
int
h_authorizations(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_authorize: 501 not_implemented until built (issue 11 contract). */
int
h_authorize(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

