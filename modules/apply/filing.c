/*
 * filing.c -- who files a new application at POST /applications: the
 * insured person for themself, or for a relative as the family agent of
 * S2's 承诺书 (R-APP-9), or agency staff at the counter (R-APP-1, channel
 * counter).  Hospital staff file at POST /hospital/applications
 * (hospital.c).  All of them end in apply_create (drafts.c).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "mt_error.h"
#include "mt_http.h"

#include "apply.h"

/*
 * The person (id_number, name) of the request's fields idf and namef,
 * as the registry has them: writes persons.id (24) and region (8).  An
 * agency finds persons of its own region only, and another region's is
 * not found like an unknown one (nothing is revealed about them).  0,
 * or -1 after answering 422 person_not_found, 503 or 500.
 */
static int
person_or_reply(struct mt_req *req, const char *idf, const char *namef,
    char *person, char *region)
{
	const struct mt_session *s = req->session;
	int rc;

	rc = apply_db_person(req, mt_req_param(req, idf),
	    mt_req_param(req, namef), person, region);
	if (rc < 0)
		return -1;
	if (rc == 0 || (s->role == MT_ROLE_AGENCY &&
	    strcmp(region, s->region) != 0))
		return mt_reply_err(req, MT_E_PERSON_NOT_FOUND, idf);
	return 0;
}

/*
 * The relative's region must hold the chosen disease and hospital: the
 * signed-in person chose them from their own region's lists, and the
 * relative may be insured in another region.  Refused, the answer names
 * the relative's region (details.region {code, name}) so the portal
 * loads that region's catalog and hospitals and asks again: the region
 * comes from the registry, never from the ID number's digits.  0, or -1
 * after answering 422 disease_not_in_catalog (disease_code) or
 * institution_not_designated (designated_institution), 503 or 500.
 */
static int
relative_fit_or_reply(struct mt_req *req, const char *region)
{
	struct apply_region_fit fit;
	json_object *details, *r;
	int rc;

	rc = apply_db_relative_fit(req, region,
	    mt_req_param(req, "disease_code"),
	    mt_req_param(req, "designated_institution"), &fit);
	if (rc < 0)
		return -1;
	if (rc == 0)       /* persons.region is a row (foreign key) */
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	if (fit.in_catalog && fit.may_serve)
		return 0;
	r = json_object_new_object();
	json_object_object_add(r, "code", json_object_new_string(region));
	json_object_object_add(r, "name", json_object_new_string(fit.name));
	details = json_object_new_object();
	json_object_object_add(details, "region", r);
	if (!fit.in_catalog)
		return mt_reply_err_details(req, MT_E_DISEASE_NOT_IN_CATALOG,
		    details, "disease_code");
	return mt_reply_err_details(req, MT_E_INSTITUTION_NOT_DESIGNATED,
	    details, "designated_institution");
}

/*
 * File for the relative of the "relative" fields as the signed-in
 * person's agent (R-APP-9): the promise given, the relative found in the
 * registry and not the caller; the agent's name, ID number and phone are
 * the caller's own.  The application is the relative's (their region,
 * their yearly limit).  Answers 201, or 422 promise_required,
 * person_not_found, agent_is_self, or what apply_create answers.
 */
static int
file_for_relative(struct mt_req *req, struct apply_draft *d,
    const char *me)
{
	struct apply_person card;
	char person[24], region[8];
	int rc;

	if (strcmp(mt_req_param(req, "relative.promise"), "true") != 0)
		return mt_reply_err(req, MT_E_PROMISE_REQUIRED,
		    "relative.promise");
	if (mt_req_param(req, "agent.name") != NULL)
		return mt_reply_err(req, MT_E_FIELD_INVALID, "agent",
		    "代办人", "：为家人申请时代办人就是您本人，无需填写");
	if (person_or_reply(req, "relative.id_number", "relative.name",
	    person, region) < 0)
		return -1;
	if (strcmp(person, me) == 0)
		return mt_reply_err(req, MT_E_AGENT_IS_SELF,
		    "relative.id_number");
	if (relative_fit_or_reply(req, region) < 0)
		return -1;
	if ((rc = apply_db_person_card(req, me, &card)) <= 0) {
		/* An ID number may have opened before the phone failed. */
		sodium_memzero(&card, sizeof(card));
		return rc == 0 ? mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL) :
		    -1;
	}
	d->person = person;
	d->region = region;
	d->event = "filed_by_agent";
	d->agent_person = me;
	d->agent.name = card.name;
	d->agent.id_number = card.id_number;
	d->agent.relation = mt_req_param(req, "relative.relation");
	d->agent.phone = card.phone;
	rc = apply_create(req, d);
	/* The caller's ID number and phone, opened: not left on the
	 * stack. */
	sodium_memzero(&card, sizeof(card));
	return rc;
}

/*
 * POST /applications.  Insured: the caller's own draft, or with
 * "relative" a relative's as the family agent (R-APP-9).  Agency: a
 * person of the agency's region filed at the counter (R-APP-1), with an
 * optional agent.  The rules are checked at once (issue 9 A6).  201 with
 * the application; 400 field_required (an agency without id_number or
 * name), field_invalid (id_number from an insured caller, agent with
 * relative, relative from an agency); 403 institution_not_authorized (never for these callers,
 * listed for the shared create); 409 application_exists; 422
 * promise_required, person_not_found, agent_is_self,
 * disease_not_in_catalog, institution_not_found,
 * institution_not_designated, designated_not_certifying,
 * already_qualified, yearly_limit_reached; 503; 500.
 */
int
h_create(struct mt_req *req)
{
	const struct mt_session *s = req->session;
	struct apply_draft d = { 0 };
	char me[24], person[24], region[8];

	if (s->role == MT_ROLE_AGENCY) {
		if (mt_req_param(req, "relative.id_number") != NULL)
			return mt_reply_err(req, MT_E_FIELD_INVALID, "relative",
			    "家人信息", "：窗口代办请直接填写申请人");
		if (mt_req_param(req, "id_number") == NULL)
			return mt_reply_err(req, MT_E_FIELD_REQUIRED,
			    "id_number", "申请人身份证号码");
		if (mt_req_param(req, "name") == NULL)
			return mt_reply_err(req, MT_E_FIELD_REQUIRED, "name",
			    "申请人姓名");
		if (person_or_reply(req, "id_number", "name", person,
		    region) < 0)
			return -1;
		d.person = person;
		d.region = region;
		d.channel = "counter";
		d.event = "filed_at_counter";
		return apply_create(req, &d);
	}
	if (mt_req_param(req, "id_number") != NULL ||
	    mt_req_param(req, "name") != NULL)
		return mt_reply_err(req, MT_E_FIELD_INVALID, "id_number",
		    "申请人身份证号码", "：为家人申请请填写 relative");
	snprintf(me, sizeof(me), "%lld", s->person_id);
	d.channel = s->via_cookie ? "web" : "mini_program";
	if (mt_req_param(req, "relative.id_number") != NULL)
		return file_for_relative(req, &d, me);
	d.person = me;
	d.region = s->region;
	return apply_create(req, &d);
}
