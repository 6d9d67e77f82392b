/*
 * hospital.c -- hospital-assisted filing (R-APP-7): staff of a designated
 * hospital file an application for a person found by identity number
 * and name; it is pre-checked at once and the result kept with it.
 */
#include "mt_error.h"
#include "mt_http.h"

#include "apply.h"

/*
 * POST /hospital/applications: file for the person (id_number, name) in
 * the person's region, with the pre-check.  201 with the application
 * (its precheck filled); 403 institution_not_authorized (where
 * hospitals certify, a disease the hospital may not certify:
 * certification_refusal); 409 application_exists; 422 person_not_found,
 * disease_not_in_catalog, institution_not_found,
 * institution_not_designated, already_qualified, yearly_limit_reached;
 * 503; 500.
 */
int
h_hospital_file(struct mt_req *req)
{
	struct apply_draft d = { 0 };
	char person[24], region[8];
	int rc;

	rc = apply_db_person(req, mt_req_param(req, "id_number"),
	    mt_req_param(req, "name"), person, region);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return mt_reply_err(req, MT_E_PERSON_NOT_FOUND, "id_number");
	d.person = person;
	d.region = region;
	d.channel = "hospital";
	d.event = "filed_by_hospital";
	d.filing = req->session->institution;
	return apply_create(req, &d);
}
