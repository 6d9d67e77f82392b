/*
 * apply_identity.c -- an application's phones and its agent's ID number
 * as PostgreSQL keeps them (issue 15 item 2; 044_identity_rest.sql):
 * sealed with their masks on the way in (apply_sealed_or_reply), and the
 * full phones put back into the progress view on the way out
 * (apply_view_phones), since the stored view holds only their masks.
 * No libpq here: apply_db.c passes the columns' text.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mt_http.h"
#include "mt_identity.h"
#include "mt_log.h"
#include "mt_util.h"

#include "apply_db.h"

/*
 * One value's columns into c when value is given (else c stays empty:
 * enc NULL).  0, or -1 after answering 503 (no keys).
 */
static int
seal_one(struct mt_req *req, enum mt_identity_col col, const char *value,
    struct mt_identity_cols *c)
{
	memset(c, 0, sizeof(*c));
	if (value == NULL)
		return 0;
	return mt_identity_cols_or_reply(req, col, value, c);
}

/* See apply_db.h. */
int
apply_sealed_or_reply(struct mt_req *req, const char *phone,
    const struct apply_agent *agent, struct apply_sealed *s)
{
	memset(s, 0, sizeof(*s));
	if (seal_one(req, MT_IDENTITY_PHONE, phone, &s->phone) < 0 ||
	    seal_one(req, MT_IDENTITY_ID_NUMBER, agent->id_number,
	    &s->agent_id) < 0 ||
	    seal_one(req, MT_IDENTITY_PHONE, agent->phone,
	    &s->agent_phone) < 0) {
		apply_sealed_free(s);
		return -1;
	}
	return 0;
}

/* See apply_db.h. */
void
apply_sealed_free(struct apply_sealed *s)
{
	mt_identity_cols_free(&s->phone);
	mt_identity_cols_free(&s->agent_id);
	mt_identity_cols_free(&s->agent_phone);
}

/* See apply_db.h. */
const char *
apply_sealed_masked(const struct mt_identity_cols *c)
{
	return c->enc != NULL ? c->masked : NULL;
}

/*
 * The full phone of a plain column (a row not sealed yet) or of its seal
 * into out[size]: 1 when there is one, 0 when neither is set, -1 when
 * the seal does not open (logged).
 */
static int
phone_of(const char *plain, const char *enc, char *out, size_t size)
{
	if (plain != NULL) {
		if (strlen(plain) >= size)
			return -1;
		memcpy(out, plain, strlen(plain) + 1);
		return 1;
	}
	if (enc == NULL)
		return 0;
	if (mt_identity_open(MT_IDENTITY_PHONE, enc, out, size) == 0)
		return 1;
	mt_log_error("apply: an application's sealed phone does not open "
	    "(identity keys?)");
	return -1;
}

/* Set key of o to phone when there is one (-1: it does not open). */
static int
put_phone(json_object *o, const char *plain, const char *enc)
{
	char ph[MT_IDENTITY_VALUE_MAX + 1];
	int rc;

	if (o == NULL || (rc = phone_of(plain, enc, ph, sizeof(ph))) == 0)
		return 0;
	if (rc < 0)
		return -1;
	json_object_object_add(o, "phone", json_object_new_string(ph));
	return 0;
}

/* See apply_db.h. */
int
apply_view_phones(char **view, const struct apply_view_phones *ph)
{
	json_object *v, *agent = NULL;
	int rc = -1;

	if ((v = json_tokener_parse(*view)) == NULL)
		return -1;
	if (!json_object_object_get_ex(v, "agent", &agent) ||
	    !json_object_is_type(agent, json_type_object))
		agent = NULL;
	if (put_phone(v, ph->phone, ph->phone_enc) < 0 ||
	    put_phone(agent, ph->agent_phone, ph->agent_phone_enc) < 0)
		goto out;
	free(*view);
	*view = mt_xstrdup(json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = 0;
out:
	json_object_put(v);
	return rc;
}
