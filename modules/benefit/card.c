/*
 * card.c -- the e-card (R-BEN-2): GET /qualifications/{id}/card and its
 * QR code.  The token is signed by shared/mt_card.c with the current key
 * of var/keys/card/ (read again when `mtcertctl card rotate` changed it);
 * the QR code is drawn by libqrencode.  Both answers are the holder's
 * own only: another person's qualification is a 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "mt_card.h"
#include "mt_config.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_util.h"
#include "mt_valid.h"

#include "benefit.h"
#include "card_db.h"

#define QR_QUIET 4      /* modules of white around the code (ISO 18004) */

/* This worker's signing key. */
static struct mt_card_ring ring;

/* A string member "a" or "a.b" of o, or "" (qualification_json always
 * has them; a missing one makes a field too short to sign, never a
 * crash). */
static const char *
jstr(json_object *o, const char *a, const char *b)
{
	json_object *v;

	if (!json_object_object_get_ex(o, a, &v) ||
	    (b != NULL && !json_object_object_get_ex(v, b, &v)) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* Fill c from a qualification's JSON q and the day it is issued.  The
 * names go through mt_card_shorten (whole characters, "…" when cut);
 * codes, the masked ID number and dates are short ASCII, and anything
 * that still does not verify is refused by mt_card_sign. */
static void
card_from_json(json_object *q, const char *today, struct mt_card *c)
{
	json_object *id;
	const char *holder = jstr(q, "holder", "name");
	char *masked = mt_xmalloc(strlen(holder) + 1);

	memset(c, 0, sizeof(*c));
	if (json_object_object_get_ex(q, "id", &id))
		c->qualification = json_object_get_int64(id);
	/* Only the holder's first character: the token travels. */
	mt_mask_name(holder, masked);
	mt_card_shorten(masked, c->name);
	free(masked);
	snprintf(c->id_number, sizeof(c->id_number), "%s",
	    jstr(q, "holder", "id_number"));
	snprintf(c->disease, sizeof(c->disease), "%s",
	    jstr(q, "disease", "code"));
	mt_card_shorten(jstr(q, "disease", "name"), c->disease_name);
	snprintf(c->institution, sizeof(c->institution), "%s",
	    jstr(q, "designated_institution", "code"));
	mt_card_shorten(jstr(q, "designated_institution", "name"),
	    c->institution_name);
	snprintf(c->valid_from, sizeof(c->valid_from), "%s",
	    jstr(q, "valid_from", NULL));
	snprintf(c->valid_to, sizeof(c->valid_to), "%s",
	    jstr(q, "valid_to", NULL));
	snprintf(c->issued_on, sizeof(c->issued_on), "%s", today);
}

/*
 * The caller's qualification {id} as JSON (*q, caller puts) with its
 * signed token (*token, caller frees) and the key id.  0, or -1 after
 * answering 404 qualification_not_found (not the caller's), 503 (no
 * signing key, database down) or 500 (the card would not verify: logged
 * with why, never signed).
 */
static int
card_or_reply(struct mt_req *req, json_object **q, char **token,
    char kid[MT_CARD_KID_LEN + 1])
{
	char *dir = mt_xasprintf("%s/%s", mt_cfg.var_dir, MT_CARD_DIR);
	struct card_row row = { NULL, "" };
	struct mt_card c;
	const char *why;
	int rc;

	rc = mt_card_ring_fresh(&ring, dir, 1);
	free(dir);
	if (rc != 0) {
		mt_log_error("rid=%s no card signing key under %s/%s",
		    req->request_id, mt_cfg.var_dir, MT_CARD_DIR);
		return mt_reply_unavailable(req, "电子凭证签名密钥");
	}
	rc = card_db_get(req, mt_req_param(req, "id"),
	    req->session->person_id, &row);
	if (rc <= 0)
		return rc < 0 ? -1 :
		    mt_reply_err(req, MT_E_QUALIFICATION_NOT_FOUND, "id");
	*q = json_tokener_parse(row.json);
	free(row.json);
	if (*q == NULL)
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	card_from_json(*q, row.today, &c);
	if ((*token = mt_card_sign(mt_card_keys_find(&ring.keys, NULL),
	    &c, &why)) == NULL) {
		json_object_put(*q);
		mt_log_error("rid=%s qualification %lld: card not signed: %s",
		    req->request_id, c.qualification, why);
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	snprintf(kid, MT_CARD_KID_LEN + 1, "%s", c.kid);
	return 0;
}

/*
 * GET /qualifications/{id}/card: the caller's qualification (as every
 * list shows it) with "token" (the signed card), "key_id" and "qr_svg"
 * (the address of its QR code).  200; 404 qualification_not_found
 * (another person's, or none); 503 no signing key or database down;
 * 500 a card that would not verify (logged, never signed).  A card of
 * an ended qualification is still given: it verifies as ended.
 */
int
h_card(struct mt_req *req)
{
	json_object *q;
	char *token, *qr, kid[MT_CARD_KID_LEN + 1];

	if (card_or_reply(req, &q, &token, kid) < 0)
		return -1;
	qr = mt_xasprintf("%s/qualifications/%s/card/qr.svg", MT_API_PREFIX,
	    mt_req_param(req, "id"));
	json_object_object_add(q, "token", json_object_new_string(token));
	json_object_object_add(q, "key_id", json_object_new_string(kid));
	json_object_object_add(q, "qr_svg", json_object_new_string(qr));
	free(qr);
	free(token);
	mt_req_header(req, "Cache-Control: private, no-store");
	return mt_reply_json(req, 200, q);
}

/*
 * Draw qr as SVG into out: one path of the dark modules, row by row in
 * runs, QR_QUIET modules of white around them, a viewBox in modules so
 * it scales to any size, crispEdges so no module is blurred.
 */
static void
qr_svg(const QRcode *qr, struct mt_buf *out)
{
	int w = qr->width, side = w + 2 * QR_QUIET, x, y, run;

	mt_buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\""
	    " shape-rendering=\"crispEdges\" role=\"img\""
	    " aria-label=\"电子凭证二维码\">\n"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path d=\"",
	    side, side, side, side);
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x += run) {
			for (run = 0; x + run < w &&
			    (qr->data[y * w + x + run] & 1); run++)
				;
			if (run == 0) {
				run = 1;
				continue;
			}
			mt_buf_printf(out, "M%d %dh%dv1h-%dz", x + QR_QUIET,
			    y + QR_QUIET, run, run);
		}
	mt_buf_puts(out, "\" fill=\"#000\"/>\n</svg>\n");
}

/*
 * GET /qualifications/{id}/card/qr.svg: the QR code (error correction
 * level M) of the card's token, image/svg+xml.  200; 404
 * qualification_not_found; 503 no signing key or database down; 500
 * when the token does not fit a QR code (a bug: it is far below).
 */
int
h_card_qr(struct mt_req *req)
{
	json_object *q;
	char *token, kid[MT_CARD_KID_LEN + 1];
	struct mt_buf svg = {0};
	QRcode *qr;
	int rc;

	if (card_or_reply(req, &q, &token, kid) < 0)
		return -1;
	json_object_put(q);
	qr = QRcode_encodeString(token, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	free(token);
	if (qr == NULL) {
		mt_log_error("rid=%s QR encoding failed", req->request_id);
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	qr_svg(qr, &svg);
	QRcode_free(qr);
	mt_req_header(req, "Cache-Control: private, no-store");
	rc = mt_reply_raw(req, 200, "image/svg+xml", svg.data, svg.len);
	mt_buf_free(&svg);
	return rc;
}
