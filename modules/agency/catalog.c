/*
 * catalog.c -- the agency's catalog and the working-day calendar
 * (issue 12 item 7; R-SUP-5, R-CER-6):
 *
 *   GET /agency/diseases?region=    every disease with what applies in
 *                                   the region, the national entry and
 *                                   the region's own overrides
 *   PUT /agency/diseases/{code}     {review_mode?, validity_months?,
 *                                   materials?, in_catalog?, reset?,
 *                                   region?}: the region's overrides only
 *   GET /agency/calendar/{year}     the year's holidays and adjusted work
 *                                   days, the last changes
 *   PUT /agency/calendar/{year}     {days: [{day, kind, note?}]}: the
 *                                   year's exceptions replaced, every
 *                                   open application's expected date
 *                                   counted again
 *
 * The rules and the writing are SQL functions
 * (sql/fn/94_catalog_admin.sql: set_catalog_entry, set_calendar_year),
 * each change logged with its user (catalog_changes, calendar_changes).
 * The calendar is national (the State Council's schedule): agency staff
 * of any region and admins may replace a year, the change names who and
 * for which region.
 */
#include <stdlib.h>
#include <string.h>

#include "agency.h"
#include "agency_db.h"
#include "mt_auth.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_valid.h"

/* "agency" or "admin": who acted, for the logs. */
static const char *
actor_role(const struct mt_req *req)
{
	return req->session->role == MT_ROLE_ADMIN ? "admin" : "agency";
}

/*
 * GET /agency/diseases?region=: the region's catalog for the agency.
 * 200 (no-store); 400 field_required (an admin names no region); 404
 * region_not_found; 503.
 */
int
h_catalog(struct mt_req *req)
{
	const char *region;

	if (agency_one_region_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_catalog(req, region);
}

/*
 * PUT /agency/diseases/{code}: the region's overrides of one disease
 * through set_catalog_entry.  200 with the entry; 400 field_invalid
 * (a kind twice, changes with in_catalog false) or field_required (an
 * admin names no region); 404 disease_not_found or region_not_found; 422
 * material_kind_unknown or review_mode_no_hospital; 503.
 */
int
h_catalog_set(struct mt_req *req)
{
	struct agency_catalog_set c;

	if (agency_one_region_or_reply(req, &c.region) < 0)
		return -1;
	c.code = mt_req_param(req, "code");
	c.body = json_object_to_json_string(req->json);
	c.actor = req->session->user_id;
	c.role = actor_role(req);
	return agency_db_set_catalog(req, &c);
}

/*
 * GET /agency/calendar/{year}: the year's exceptions (any role of the
 * agency's: the calendar is national).  200 (no-store); 503.
 */
int
h_calendar(struct mt_req *req)
{
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_calendar(req, mt_req_param(req, "year"));
}

/*
 * PUT /agency/calendar/{year}: replace the year's exceptions through
 * set_calendar_year, the expected dates recomputed in the same
 * transaction.  200 with the year; 400 field_invalid (a day twice); 422
 * calendar_day_outside_year or calendar_day_pointless; 503.
 */
int
h_calendar_set(struct mt_req *req)
{
	struct agency_calendar_set c;

	c.year = mt_req_param(req, "year");
	c.days = mt_req_param(req, "days");
	c.actor = req->session->user_id;
	c.role = actor_role(req);
	c.region = req->session->role == MT_ROLE_ADMIN ? NULL :
	    req->session->region;
	return agency_db_set_calendar(req, &c);
}

static int
valid_review_mode(const char *s)
{
	static const char *const m[] = { "single", "double", "onsite",
	    "panel", "national", NULL };

	return mt_valid_one_of(s, m);
}

/* 0 (back to the national value) or 1-120 months. */
static int
valid_validity(const char *s)
{
	return mt_valid_uint(s) && strlen(s) <= 3 && atoi(s) <= 120;
}

static int
valid_year(const char *s)
{
	return mt_valid_uint(s) && strlen(s) == 4 && atoi(s) >= 2000 &&
	    atoi(s) <= 2100;
}

/* A material kind's code as material_kinds' CHECK has it. */
static int
valid_kind(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 40 && s[0] >= 'a' && s[0] <= 'z' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* 1 when member k of o is absent or of type t (and passes ok). */
static int
optional(json_object *o, const char *k, json_type t, int (*ok)(json_object *))
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		return 1;
	return json_object_is_type(v, t) && (ok == NULL || ok(v));
}

static int
ok_age(json_object *v)
{
	return json_object_get_int64(v) >= 1 &&
	    json_object_get_int64(v) <= 3650;
}

static int
ok_note(json_object *v)
{
	return mt_valid_line(json_object_get_string(v)) &&
	    json_object_get_string_len(v) <= 256 * 3;
}

/*
 * One entry of PUT's materials, as JSON text: {"kind": a code,
 * "required"?: bool, "max_age_days"?: 1-3650, "note"?: a line}, no
 * other member.
 */
static int
valid_material(const char *s)
{
	json_object *o = json_tokener_parse(s), *kind;
	int n = 1, ok;

	ok = o != NULL && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "kind", &kind) &&
	    json_object_is_type(kind, json_type_string) &&
	    valid_kind(json_object_get_string(kind));
	if (ok) {
		n += json_object_object_get_ex(o, "required", NULL) +
		    json_object_object_get_ex(o, "max_age_days", NULL) +
		    json_object_object_get_ex(o, "note", NULL);
		ok = json_object_object_length(o) == n &&
		    optional(o, "required", json_type_boolean, NULL) &&
		    optional(o, "max_age_days", json_type_int, ok_age) &&
		    optional(o, "note", json_type_string, ok_note);
	}
	json_object_put(o);
	return ok;
}

/* One entry of the calendar PUT's days: {"day": a date, "kind":
 * "holiday" | "workday", "note"?: a line of up to 64 characters}. */
static int
valid_day(const char *s)
{
	static const char *const kinds[] = { "holiday", "workday", NULL };
	json_object *o = json_tokener_parse(s), *day, *kind, *note = NULL;
	int ok;

	ok = o != NULL && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "day", &day) &&
	    json_object_object_get_ex(o, "kind", &kind) &&
	    json_object_object_length(o) == 2 +
	    json_object_object_get_ex(o, "note", &note) &&
	    json_object_is_type(day, json_type_string) &&
	    json_object_is_type(kind, json_type_string) &&
	    mt_valid_date(json_object_get_string(day)) &&
	    mt_valid_one_of(json_object_get_string(kind), kinds) &&
	    (note == NULL || (json_object_is_type(note, json_type_string) &&
	    json_object_get_string_len(note) <= 64 * 3 &&
	    (json_object_get_string_len(note) == 0 ||
	    mt_valid_line(json_object_get_string(note)))));
	json_object_put(o);
	return ok;
}

const struct mt_field f_catalog[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

const struct mt_field f_catalog_set[] = {
	{ "code", MT_IN_PATH, MT_F_STRING, mt_valid_disease_code, 1, 16,
	  "病种编码" },
	{ "region", MT_IN_BODY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "review_mode", MT_IN_BODY, MT_F_STRING, valid_review_mode, 0, 8,
	  "认定方式（single、double、onsite、panel，national 为恢复全国目录）" },
	{ "validity_months", MT_IN_BODY, MT_F_INT, valid_validity, 0, 3,
	  "有效期（1–120 个月，0 为恢复全国目录）" },
	{ "materials", MT_IN_BODY, MT_F_OBJECTS, valid_material, 0, 30,
	  "材料清单（每项有材料种类 kind，可选 required、max_age_days 1–3650、"
	  "note）" },
	{ "in_catalog", MT_IN_BODY, MT_F_BOOL, NULL, 0, 5, "是否列入目录" },
	{ "reset", MT_IN_BODY, MT_F_BOOL, NULL, 0, 5, "恢复全国目录" },
	{ NULL },
};

const struct mt_field f_calendar[] = {
	{ "year", MT_IN_PATH, MT_F_INT, valid_year, 1, 4,
	  "年份（2000–2100）" },
	{ NULL },
};

const struct mt_field f_calendar_set[] = {
	{ "year", MT_IN_PATH, MT_F_INT, valid_year, 1, 4,
	  "年份（2000–2100）" },
	{ "days", MT_IN_BODY, MT_F_OBJECTS, valid_day, 1, 400,
	  "日期清单（每项有日期 day、类型 kind：holiday 放假或 workday 调休上班，"
	  "可选说明 note）" },
	{ NULL },
};
