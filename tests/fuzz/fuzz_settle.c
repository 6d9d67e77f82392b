/*
 * fuzz_settle.c -- libFuzzer harness for the settlement row parser of
 * mt_settle.h (a settlement file is raw client input: every line goes
 * through it): the input as one CSV line, one JSON line, a header, an
 * amount and a Content-Type.  Built and run by `make fuzz`; any crash,
 * out-of-bounds access or UB report fails the run, and so does a row
 * accepted with an unterminated or malformed field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mt_settle.h"
#include "mt_valid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() unless a row the parser accepted holds checked fields. */
static void
row_ok(const struct mt_settle_row *r)
{
	if (!mt_valid_id_number(r->id_number) ||
	    !mt_valid_disease_code(r->disease) || strlen(r->month) != 7 ||
	    r->cents < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mt_settle_row row;
	enum mt_settle_format f;
	const char *field, *msg;
	long long cents;
	char *s;

	/* Exactly the input: the parser must not read past size. */
	s = malloc(size ? size : 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	if (mt_settle_line(MT_SETTLE_CSV, s, size, &row, &field, &msg) == 0)
		row_ok(&row);
	else if (field == NULL || msg == NULL)
		abort();
	if (mt_settle_line(MT_SETTLE_NDJSON, s, size, &row, &field, &msg) == 0)
		row_ok(&row);
	else if (field == NULL || msg == NULL)
		abort();
	(void)mt_settle_header(s, size);
	if (mt_settle_amount(s, size, &cents) == 0 && cents < 0)
		abort();
	free(s);
	/* A NUL-terminated copy for the Content-Type. */
	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	(void)mt_settle_format(s, &f);
	free(s);
	return 0;
}
