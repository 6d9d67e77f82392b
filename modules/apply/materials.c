/*
 * materials.c -- the files of an application (R-APP-3): upload one
 * (sealed: encrypted at rest, shared/mt_files.h), delete one, and read
 * one (decrypted here, a chunk at a time), plus the sweep of what killed
 * uploads left in the file store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mt_config.h"
#include "mt_error.h"
#include "mt_files.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_util.h"

#include "apply.h"

/* A ".tmp-*" file of the store older than this is a killed upload's
 * (a live one is written in well under a second: 12 MiB at most). */
#define SWEEP_AGE   3600
/* A worker sweeps at start, then again on an upload once this long has
 * passed since its last sweep. */
#define SWEEP_EVERY 600

/* See apply.h: remove what killed uploads left (issue 9 A9). */
void
apply_sweep_files(void)
{
	static time_t last;
	time_t now = time(NULL);
	int n;

	if (last != 0 && now - last < SWEEP_EVERY)
		return;
	last = now;
	n = mt_files_sweep(mt_cfg.files_dir, SWEEP_AGE);
	if (n > 0)
		mt_log_info("file store: removed %d leftover temporary "
		    "file(s)", n);
	else if (n < 0)
		mt_log_warn("file store: cannot sweep %s: %s",
		    mt_cfg.files_dir, strerror(errno));
}

/*
 * Check the file against the disease and the region's policy: the kind
 * is needed, the date within its limit, the size within both limits.
 * Writes the kind's name (APPLY_KIND_NAME_MAX bytes).  0, or -1 after
 * answering 400, 422, 413, 404 (the application is gone) or 503/500.
 */
static int
upload_rules_or_reply(struct mt_req *req, const struct apply_scope *sc,
    const char *id, const char *kind, const char *issued, size_t size,
    char *kind_name)
{
	struct apply_material_rules r;
	char arg[32];
	int rc;

	if ((rc = apply_db_material_rules(req, sc, id, kind, issued, &r)) < 0)
		return -1;
	if (rc == 0)    /* The application went away since it was found. */
		return apply_not_found(req);
	if (!r.needed)
		return mt_reply_err(req, MT_E_MATERIAL_KIND_NOT_NEEDED, "kind");
	snprintf(kind_name, APPLY_KIND_NAME_MAX, "%s", r.kind_name);
	if (r.age_days < 0)
		return mt_reply_err(req, MT_E_FIELD_INVALID, "issued_on",
		    "出具日期", "：不能晚于今天");
	if (r.age_days > r.max_age_days) {
		snprintf(arg, sizeof(arg), "（%lld 天）", r.max_age_days);
		return mt_reply_err(req, MT_E_MATERIAL_TOO_OLD, "issued_on",
		    arg);
	}
	if ((long long)size > r.max_file_bytes) {
		snprintf(arg, sizeof(arg), "%.1f",
		    r.max_file_bytes / 1048576.0);
		return mt_reply_err(req, MT_E_FILE_TOO_LARGE, "file", arg);
	}
	if (r.used_bytes + (long long)size > r.max_app_bytes) {
		snprintf(arg, sizeof(arg), "%.1f", r.max_app_bytes / 1048576.0);
		return mt_reply_err(req, MT_E_APPLICATION_FILES_TOO_LARGE,
		    "file", arg);
	}
	return 0;
}

/* The file part is not empty, of an allowed type and whole; writes its
 * media type.  0, or -1 after answering 400 or 415. */
static int
file_ok_or_reply(struct mt_req *req, const struct mt_part *file,
    const char **media)
{
	if (file->len == 0)
		return mt_reply_err(req, MT_E_FILE_EMPTY, "file");
	if ((*media = mt_files_sniff(file->data, file->len)) == NULL)
		return mt_reply_err(req, MT_E_FILE_TYPE_NOT_ALLOWED, "file");
	if (!mt_files_complete(*media, file->data, file->len))
		return mt_reply_err(req, MT_E_FILE_DAMAGED, "file");
	return 0;
}

/* The SHA-256 of the file part's content, 64 hex digits + NUL. */
static void
content_sha(const struct mt_part *file, char *sha)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)file->data, file->len);
	mt_hex(h, sizeof(h), sha);
}

/* Remove sealed file blob from the store (an upload not recorded). */
static void
unlink_sealed(const char *blob)
{
	char rel[80], path[4200];

	mt_files_relpath(blob, rel, sizeof(rel));
	snprintf(path, sizeof(path), "%s/%s", mt_cfg.files_dir, rel);
	unlink(path);
}

/*
 * POST /applications/{id}/materials: one file and its kind, date and
 * issuer (checked by the field table, parts included).  201 with the
 * material; 400 file_empty, file_damaged, field_invalid (a date after
 * today); 404 application_not_found; 409 application_not_editable; 413
 * file_too_large, application_files_too_large; 415
 * file_type_not_allowed; 422 material_kind_not_needed, material_too_old;
 * 503 (also the file store); 500.
 */
int
h_upload(struct mt_req *req)
{
	const char *id = mt_req_param(req, "id");
	const struct mt_part *file = mt_req_part(req, "file");
	struct apply_material m = { 0 };
	struct mt_files_sealed sealed;
	char kind_name[APPLY_KIND_NAME_MAX], sha[65], *json;
	struct apply_scope sc;
	int rc;

	apply_scope_of(req, &sc);
	m.kind = mt_req_param(req, "kind");
	m.issued_on = mt_req_param(req, "issued_on");
	m.issuer = mt_req_param(req, "issuer");
	m.size = file->len;
	if (apply_editable_or_reply(req, &sc, id, 1) < 0 ||
	    file_ok_or_reply(req, file, &m.media_type) < 0 ||
	    upload_rules_or_reply(req, &sc, id, m.kind, m.issued_on, m.size,
	    kind_name) < 0)
		return -1;
	apply_sweep_files();
	if (mt_files_seal(mt_cfg.files_dir, file->data, file->len,
	    &sealed) != 0) {
		mt_log_error("rid=%s file store: %s", req->request_id,
		    errno == ENOKEY ? "no master key (files_keys_dir)" :
		    strerror(errno));
		return mt_reply_unavailable(req, "文件存储");
	}
	content_sha(file, sha);
	m.sha256 = sha;
	m.kind_name = kind_name;
	m.sealed = &sealed;
	if ((rc = apply_db_material_add(req, &sc, id, &m, &json)) <= 0) {
		/* Not recorded: its file goes (without its key, noise).  But
		 * after a 503 PostgreSQL may have committed the row all the
		 * same (the answer lost, or past the client's deadline), so
		 * the file stays; if the row is not there, it is noise whose
		 * key died with this request.  XXX: no sweep removes those
		 * orphans yet. */
		if (rc < 0 && req->status == 503)
			mt_log_warn("rid=%s file store: %s kept, its row "
			    "unknown", req->request_id, sealed.blob);
		else
			unlink_sealed(sealed.blob);
		return rc == 0 ? apply_not_editable(req) : -1;
	}
	mt_reply_raw(req, 201, "application/json; charset=utf-8", json,
	    strlen(json));
	free(json);
	return 0;
}

/*
 * DELETE /applications/{id}/materials/{mid}: draft or returned only.
 * 204; 404 application_not_found, material_not_found; 409
 * application_not_editable; 503; 500.
 */
int
h_material_delete(struct mt_req *req)
{
	const char *id = mt_req_param(req, "id");
	struct apply_scope sc;
	int rc;

	apply_scope_of(req, &sc);
	if (apply_editable_or_reply(req, &sc, id, 0) < 0)
		return -1;
	rc = apply_db_material_delete(req, &sc, id, mt_req_param(req, "mid"));
	if (rc <= 0)
		return rc == 0 ? mt_reply_err(req, MT_E_MATERIAL_NOT_FOUND,
		    "mid") : -1;
	return mt_reply_raw(req, 204, NULL, NULL, 0);
}

/* The headers of a material's file: its name, never cached. */
static void
file_headers(struct mt_req *req, const char *mid, const struct apply_file *f)
{
	mt_req_header(req, "Content-Disposition: inline; "
	    "filename=\"material-%s.%s\"", mid, mt_files_ext(f->media_type));
	mt_req_header(req, "Cache-Control: private, no-store");
}

/* A stored file that fails its check: logged as an error (the operator
 * restores the file or the master key from the backups), 503. */
static int
unreadable(struct mt_req *req, const char *mid, const char *why)
{
	mt_log_error("rid=%s material %s: its file cannot be read: %s",
	    req->request_id, mid, why);
	return mt_reply_err(req, MT_E_MATERIAL_FILE_UNREADABLE, "mid");
}

/* What unreadable() logs for each mt_files_err (EIO: strerror). */
static const char *const why[] = { "", "", "key does not unwrap (master "
    "key missing or wrong)", "altered or cut short" };

/*
 * Material mid's sealed file did not open (rc, an mt_files_err).  Gone
 * with its row now keyless: shredded since the row was read (the
 * retention job unlinks after it commits), 410 material_file_shredded;
 * else 503 material_file_unreadable, logged.  Returns -1 or 0 as
 * mt_reply_err.
 */
static int
open_failed(struct mt_req *req, const char *mid, int rc)
{
	struct mt_files_sealed now;
	int saved = errno, found;

	if (rc == MT_FILES_EIO && saved == ENOENT) {
		if ((found = apply_db_material_sealed(req, mid, &now)) < 0)
			return -1;
		if (found == 0)
			return mt_reply_err(req, MT_E_MATERIAL_FILE_SHREDDED,
			    "mid");
	}
	return unreadable(req, mid, rc == MT_FILES_EIO ? strerror(saved) :
	    why[-rc]);
}

/*
 * Send sealed file f, decrypted a chunk at a time (64 KiB: never the
 * whole file in memory).  The first chunk is checked before the headers
 * go, so a wrong or missing key, an altered header or first chunk is a
 * 503 envelope; a later chunk found altered drops the connection (the
 * client sees a failed download, never a short 200).  Returns 0 or -1.
 */
static int
send_sealed(struct mt_req *req, const char *mid, const struct apply_file *f)
{
	struct mt_files_reader *r = NULL;
	unsigned char *buf = mt_xmalloc(MT_FILES_CHUNK);
	long long sent = 0;
	ssize_t n;
	int rc;

	if ((rc = mt_files_open(mt_cfg.files_dir, &f->file, &r)) != 0) {
		rc = open_failed(req, mid, rc);
		goto out;
	}
	if ((n = mt_files_read(r, buf)) < 0) {
		rc = unreadable(req, mid, why[-MT_FILES_EBAD]);
		goto out;
	}
	file_headers(req, mid, f);
	mt_reply_head(req, 200, f->media_type, (size_t)f->size);
	for (rc = 0; n > 0; n = mt_files_read(r, buf)) {
		if (mt_reply_body(req, buf, (size_t)n) != 0)
			goto out;	/* the client left: nothing to tell */
		sent += n;
	}
	if (n < 0 || sent != f->size) {
		mt_log_error("rid=%s material %s: its file is altered past "
		    "byte %lld: connection dropped", req->request_id, mid, sent);
		mt_reply_abort(req);
		rc = -1;
	}
out:
	mt_files_close(r);
	free(buf);
	return rc;
}

/*
 * Send plain file fd (stored before issue 15, not yet sealed by
 * `mtcertctl files encrypt`) in chunks; closes fd.  A read error halfway
 * drops the connection.  Returns 0 or -1.
 */
static int
send_plain(struct mt_req *req, const char *mid, const struct apply_file *f,
    int fd)
{
	char *buf = mt_xmalloc(MT_FILES_CHUNK);
	long long sent = 0;
	ssize_t n;

	file_headers(req, mid, f);
	mt_reply_head(req, 200, f->media_type, (size_t)f->size);
	while (sent < f->size && (n = read(fd, buf, MT_FILES_CHUNK)) > 0 &&
	    mt_reply_body(req, buf, (size_t)n) == 0)
		sent += n;
	close(fd);
	free(buf);
	if (sent == f->size)
		return 0;
	mt_log_error("rid=%s material %s: plain file short at byte %lld: "
	    "connection dropped", req->request_id, mid, sent);
	mt_reply_abort(req);
	return -1;
}

/*
 * A plain file of before issue 15: opened by its sha256.  Gone means
 * `mtcertctl files encrypt` sealed it since the row was read: the row is
 * read again and the sealed file sent.  Returns 0 or -1 after answering.
 */
static int
send_stored_plain(struct mt_req *req, const char *mid, struct apply_file *f)
{
	char rel[80], path[4200];
	int fd, rc;

	mt_files_relpath(f->sha256, rel, sizeof(rel));
	snprintf(path, sizeof(path), "%s/%s", mt_cfg.files_dir, rel);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0)
		return send_plain(req, mid, f, fd);
	if (errno != ENOENT)
		return unreadable(req, mid, strerror(errno));
	if ((rc = apply_db_material_sealed(req, mid, &f->file)) < 0)
		return -1;
	if (rc == 0)
		return unreadable(req, mid, "plain file missing");
	return send_sealed(req, mid, f);
}

/*
 * GET /materials/{mid}: the file, decrypted and sent by the worker in
 * chunks (issue 15: nginx cannot serve what is encrypted at rest); the
 * read is logged.  200; 404 material_not_found; 410
 * material_file_shredded (its retention ended, the record stays); 503
 * material_file_unreadable (altered, or its key does not unwrap), 503;
 * 500.
 */
int
h_material_file(struct mt_req *req)
{
	const char *mid = mt_req_param(req, "mid");
	struct apply_scope sc;
	struct apply_file f;
	int rc;

	apply_scope_of(req, &sc);
	if ((rc = apply_db_material_file(req, &sc, mid, &f)) <= 0)
		return rc == 0 ? mt_reply_err(req, MT_E_MATERIAL_NOT_FOUND,
		    "mid") : -1;
	if (f.shredded)
		return mt_reply_err(req, MT_E_MATERIAL_FILE_SHREDDED, "mid");
	return f.sealed ? send_sealed(req, mid, &f) :
	    send_stored_plain(req, mid, &f);
}
