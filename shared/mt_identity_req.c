/*
 * mt_identity_req.c -- mt_identity's calls for a request handler: no
 * keys is a dependency down, 503 (see mt_identity.h).  Apart from
 * mt_identity.c, which knows nothing of requests.
 */
#include "mt_http.h"
#include "mt_identity.h"

/* See mt_identity.h. */
int
mt_identity_hmac_or_reply(struct mt_req *req, enum mt_identity_col col,
    const char *value, char out[MT_IDENTITY_HMAC_LEN + 1])
{
	if (mt_identity_hmac(col, value, out) == 0)
		return 0;
	return mt_reply_unavailable(req, "密钥");
}

/* See mt_identity.h. */
int
mt_identity_cols_or_reply(struct mt_req *req, enum mt_identity_col col,
    const char *value, struct mt_identity_cols *c)
{
	if (mt_identity_cols(col, value, c) == 0)
		return 0;
	mt_identity_cols_free(c);
	return mt_reply_unavailable(req, "密钥");
}

/* See mt_identity.h. */
int
mt_identity_seal_or_reply(struct mt_req *req, enum mt_identity_col col,
    const char *value, char **sealed)
{
	*sealed = NULL;
	if (value == NULL || (*sealed = mt_identity_seal(col, value)) != NULL)
		return 0;
	return mt_reply_unavailable(req, "密钥");
}
