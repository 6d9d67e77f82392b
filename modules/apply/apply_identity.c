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

/* Set key "phone" of o to full when o and full are there. */
static void
put_phone(json_object *o, const char *full)
{
	if (o != NULL && *full != '\0')
		json_object_object_add(o, "phone", json_object_new_string(full));
}

/*
 * The slow way: parse the view, set both phones, print it again.  0, or
 * -1 when the view does not parse.
 */
static int
parse_phones(char **view, const char *phone, const char *agent_phone)
{
	json_object *v, *agent = NULL;

	if ((v = json_tokener_parse(*view)) == NULL)
		return -1;
	if (!json_object_object_get_ex(v, "agent", &agent) ||
	    !json_object_is_type(agent, json_type_object))
		agent = NULL;
	put_phone(v, phone);
	put_phone(agent, agent_phone);
	free(*view);
	*view = mt_xstrdup(json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(v);
	return 0;
}

/*
 * The fast way: replace the string masked (full's mask) that is the value
 * of a "phone" key in *view by full.  A key is found as "phone" then
 * optional spaces and a colon (json's "k" : v and jsonb's "k": v alike):
 * inside a string value the quotes would be escaped, so no value a user
 * typed can pass for it.  1 replaced (*view a new string), 0 no such
 * key and value (*view as it was).
 */
static int
splice_phone(char **view, const char *full)
{
	char masked[MT_IDENTITY_VALUE_MAX + 1], *at = *view, *v, *out;
	size_t ml, fl = strlen(full);

	if (mt_identity_mask(MT_IDENTITY_PHONE, full, masked,
	    sizeof(masked)) != 0)
		return 0;
	ml = strlen(masked);
	while ((at = strstr(at, "\"phone\"")) != NULL) {
		at += 7;
		v = at + strspn(at, " ");
		if (*v++ != ':')
			continue;
		v += strspn(v, " ");
		if (*v != '"' || strncmp(v + 1, masked, ml) != 0 ||
		    v[1 + ml] != '"')
			continue;
		out = mt_xmalloc(strlen(*view) - ml + fl + 1);
		memcpy(out, *view, (size_t)(v + 1 - *view));
		memcpy(out + (v + 1 - *view), full, fl);
		strcpy(out + (v + 1 - *view) + fl, v + 1 + ml);
		free(*view);
		*view = out;
		return 1;
	}
	return 0;
}

/*
 * See apply_db.h.  The progress read is the hot path (tests/bench/run.sh
 * progress / select): the two phones are spliced into the view's text
 * where their masks stand.  Parsing and printing every view measured
 * 0.66, 0.53 against main's 0.69, 0.66 (alternate runs, 2 loaded cores);
 * the splice 0.73, 0.55, 0.77, 0.87 against 0.99, 0.76, 0.77, 0.65, no
 * cost the noise shows.  Parsed only when the two masks are the same
 * string for two different phones (which is which?  The stored view's
 * keys are in json_build_object's order until a patch prints it as
 * jsonb, agent first) or a mask is not where expected.  The same phone
 * twice (a relative who gave the agent's own number) is spliced twice.
 */
int
apply_view_phones(char **view, const struct apply_view_phones *ph)
{
	char phone[MT_IDENTITY_VALUE_MAX + 1] = "";
	char agent[MT_IDENTITY_VALUE_MAX + 1] = "";
	char m1[MT_IDENTITY_VALUE_MAX + 1], m2[MT_IDENTITY_VALUE_MAX + 1];

	if (phone_of(ph->phone, ph->phone_enc, phone, sizeof(phone)) < 0 ||
	    phone_of(ph->agent_phone, ph->agent_phone_enc, agent,
	    sizeof(agent)) < 0)
		return -1;
	if (*phone != '\0' && *agent != '\0' &&
	    mt_identity_mask(MT_IDENTITY_PHONE, phone, m1, sizeof(m1)) == 0 &&
	    mt_identity_mask(MT_IDENTITY_PHONE, agent, m2, sizeof(m2)) == 0 &&
	    strcmp(m1, m2) == 0 && strcmp(phone, agent) != 0)
		return parse_phones(view, phone, agent);
	if ((*phone != '\0' && splice_phone(view, phone) == 0) ||
	    (*agent != '\0' && splice_phone(view, agent) == 0))
		return parse_phones(view, phone, agent);
	return 0;
}
