/*
 * panel.c -- hospital panels and the public notice (R-CER-10, S2 二(二)).
 * Contract only: answers 501 until built.
 */
#include "mt_error.h"
#include "mt_http.h"

#include "hospital.h"

const struct mt_field f_panel_cases[] = { { NULL } };
const struct mt_field f_panel_experts[] = { { NULL } };
const struct mt_field f_panel_decide[] = { { NULL } };
const struct mt_field f_publicity[] = { { NULL } };
const struct mt_field f_publicity_object[] = { { NULL } };

/* h_panel_cases: 501 not_implemented until built (issue 11 contract). */
int
h_panel_cases(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_panel_experts: 501 not_implemented until built (issue 11 contract). */
int
h_panel_experts(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_panel_decide: 501 not_implemented until built (issue 11 contract). */
int
h_panel_decide(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_publicity: 501 not_implemented until built (issue 11 contract). */
int
h_publicity(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* h_publicity_object: 501 not_implemented until built (issue 11 contract). */
int
h_publicity_object(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}
