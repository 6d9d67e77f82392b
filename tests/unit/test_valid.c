/*
 * test_valid.c -- tables of good and bad inputs for every function of
 * mt_valid.h (kcgi regress/test-valid-*.c style).
 *
 * Every input is copied into a heap buffer of exactly its own size before
 * the call, so that a sanitizer build catches any read past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "mt_util.h"
#include "mt_valid.h"
#include "unit.h"

/* 16, 64 and 65 characters of [0-9a-f], for length limits. */
#define S16	"0123456789abcdef"
#define S64	S16 S16 S16 S16
#define S65	S64 "0"

/*
 * GB 11643-1999 ID numbers.  Check digits computed independently:
 * weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, sum mod 11 indexes
 * "10X98765432".  The bad ones carry a correct check digit unless the
 * check digit is the point of the row, so that only the named fault can
 * reject them.
 */
static const char *const id_good[] = {
	"411200195803120139",		/* demo 张建国 */
	"41120019621105016X",		/* demo 王秀兰, trailing X */
	"140100197107210154",		/* demo 李志强 */
	"140100195501300124",		/* demo 赵桂英 */
	"370800198009090131",		/* demo 刘海涛 */
	"630100196704180127",		/* demo 陈玉梅 */
	"63010019491202017X",		/* demo 马德明, trailing X */
	"532300197506270141",		/* demo 杨丽华 */
	"11010519491231002X",		/* trailing X */
	"32010219000101001X",		/* 1900-01-01, the first day */
	"440304200002290014",		/* 2000-02-29, leap (400) */
	"110101202402290024",		/* 2024-02-29, leap */
	"110105198001010016",
	NULL
};

static const char *const id_bad[] = {
	"",
	"411200195803120138",		/* check digit 8, should be 9 */
	"411200195803120130",		/* check digit 0, should be 9 */
	"41120019580312013X",		/* X where 9 is due */
	"11010519491231002x",		/* lowercase x */
	"41120019621105016x",		/* lowercase x */
	"41120019580312013",		/* 17 characters */
	"4112001958031201390",		/* 19 characters */
	"411200195803120139 ",		/* trailing space */
	" 411200195803120139",		/* leading space */
	"110105198002300015",		/* 1980-02-30 */
	"110105198013010013",		/* month 13 */
	"110105198000010014",		/* month 00 */
	"110105198001000010",		/* day 00 */
	"110105198001320014",		/* day 32 */
	"110105198004310014",		/* 1980-04-31 */
	"440304190002290018",		/* 1900-02-29, not leap (100) */
	"110105210002290012",		/* 2100-02-29, not leap (100) */
	"110105189912310015",		/* year 1899 */
	"110105220001010014",		/* year 2200 */
	"010105198001010012",		/* leading 0 */
	"41120019580312A139",		/* letter among the digits */
	"4112001958031201X9",		/* X not in the last place */
	"X11200195803120139",
	"41120019580312-139",
	"4112001958031201 9",
	"４１１２００１９５８０３１２０１３９",	/* full-width digits */
	NULL
};

static const char *const phone_good[] = {
	"13800000000",
	"19912345678",
	"13800000001",
	"14712345678",
	"15012345678",
	"16612345678",
	"17712345678",
	"18912345678",
	NULL
};

static const char *const phone_bad[] = {
	"",
	"12800000000",			/* 12... */
	"12345678901",
	"10800000000",
	"11800000000",
	"23800000000",
	"03800000000",
	"1380000000",			/* 10 digits */
	"138000000000",			/* 12 digits */
	"1380000000a",			/* letter */
	"abcdefghijk",
	"1380000000O",			/* letter O for zero */
	"+8613800000000",		/* +86 prefix */
	"+86 13800000000",
	"8613800000000",
	"138 0000 0000",		/* spaces */
	" 13800000000",
	"13800000000 ",
	"138-0000-0000",
	"１３８００００００００",		/* full-width digits */
	NULL
};

static const char *const date_good[] = {
	"2000-02-29",			/* leap: divisible by 400 */
	"2024-02-29",			/* leap: divisible by 4 */
	"2023-02-28",
	"1900-01-01",			/* first allowed day */
	"2199-12-31",			/* last allowed day */
	"2026-01-31",
	"2026-04-30",
	"2026-12-31",
	NULL
};

static const char *const date_bad[] = {
	"",
	"1900-02-29",			/* not leap: divisible by 100 */
	"2023-02-29",			/* not leap */
	"2100-02-29",
	"2024-02-30",
	"2026-04-31",
	"2026-01-32",
	"2026-01-00",
	"2026-13-01",			/* month 13 */
	"2026-00-10",			/* month 00 */
	"2026-1-01",			/* one-digit month */
	"2026-01-1",			/* one-digit day */
	"2024-02-29x",			/* trailing junk */
	"2024-02-29 ",
	" 2024-02-29",
	"2024-02-29T00:00:00",
	"1899-12-31",			/* before the range */
	"2200-01-01",			/* after the range */
	"0000-01-01",
	"2026/01/01",
	"20260101",
	"2026-0a-01",
	"abcd-ef-gh",
	"+026-01-01",
	"-026-01-01",
	"2026--1-01",
	NULL
};

static const char *const region_good[] = {
	"411200",			/* 三门峡市 */
	"532300",			/* 楚雄州 */
	"140100",			/* 太原市 */
	"370800",			/* 济宁市 */
	"630100",			/* 西宁市 */
	"110105",
	NULL
};

static const char *const region_bad[] = {
	"",
	"41120",			/* 5 digits */
	"4112000",			/* 7 digits */
	"011200",			/* leading 0 */
	"000000",
	"41120a",
	"41-200",
	" 41120",
	"411200 ",
	"４１１２００",			/* full-width digits */
	NULL
};

static const char *const disease_good[] = {
	"D001",
	"D045",
	"A0",				/* shortest: 2 */
	"AB",
	"Z9",
	"I10X",
	"D" "0123456789" "ABCDE",	/* longest: 16 */
	NULL
};

static const char *const disease_bad[] = {
	"",
	"D",				/* too short */
	"D" "0123456789" "ABCDEF",	/* 17 */
	"d001",				/* lowercase */
	"Dx01",
	"1D01",				/* leading digit */
	"D-01",
	"D.01",
	"D_01",
	"D 01",
	"D001 ",
	" D001",
	"D0\xc3\xa9",			/* D0é */
	"Ｄ001",			/* full-width D */
	NULL
};

static const char *const inst_good[] = {
	"H63010200143",
	"H14010000001",
	"H53230000006",
	"A12345",			/* shortest: 6 */
	"ABCDEF",
	"H" "0123456789" "ABCDEFGHI",	/* longest: 20 */
	NULL
};

static const char *const inst_bad[] = {
	"",
	"H1234",			/* 5 */
	"H" "0123456789" "ABCDEFGHIJ",	/* 21 */
	"h63010200143",			/* lowercase */
	"H6301020014a",
	"163010200143",			/* leading digit */
	"H63010-00143",
	"H63010200143 ",
	" H63010200143",
	"H630102_0143",
	NULL
};

static const char *const code_good[] = {
	"accept_window_seconds",
	"miss_limit",
	"a",
	"0",
	"not_in_scope_2",
	S64,				/* longest: 64 */
	NULL
};

static const char *const code_bad[] = {
	"",
	"Miss_limit",
	"miss-limit",
	"miss limit",
	"miss_limit\n",
	"病情不符",
	"a;b",
	S65,				/* 65 */
	NULL
};

static const char *const limit_good[] = {
	"1", "50", "200", "007", NULL
};

static const char *const limit_bad[] = {
	"", "0", "201", "1000", "-1", "+5", "5x", " 5", "2147483648", NULL
};

static const char *const login_good[] = {
	"admin",
	"agency-sanmenxia",
	"agency-xining",
	"hospital-qhph",
	"expert-onc-1",
	"expert-cardio-1",
	"abc",				/* shortest: 3 */
	"a.b@c_d-e",
	"user@example.org",
	S64,				/* longest: 64 */
	NULL
};

static const char *const login_bad[] = {
	"",
	"ab",				/* 2 */
	S65,				/* 65 */
	"has space",
	" admin",
	"admin\n",
	"a\tb",
	"a/b",
	"a;b",
	"a'b",
	"a\"b",
	"a+b",
	"a%b",
	"张建国",
	"admin\xff",
	NULL
};

static const char *const bool_good[] = {
	"true",
	"false",
	"1",
	"0",
	NULL
};

static const char *const bool_bad[] = {
	"",
	"TRUE",
	"True",
	"FALSE",
	"yes",
	"no",
	"on",
	"t",
	"f",
	"2",
	"-1",
	"01",
	"10",
	"true ",
	" true",
	"truex",
	NULL
};

static const char *const uint_good[] = {
	"0",
	"1",
	"42",
	"123456789012345678",		/* 18 digits */
	"999999999999999999",
	NULL
};

static const char *const uint_bad[] = {
	"",
	"1234567890123456789",		/* 19 digits */
	"9999999999999999999",
	"-1",
	"+1",
	" 1",
	"1 ",
	"1.5",
	"1e3",
	"0x1f",
	"abc",
	"12a",
	"１",				/* full-width 1 */
	NULL
};

static const char *const name_good[] = {
	"张建国",
	"王秀兰",
	"李四",
	"张",				/* one character */
	"阿依古丽·买买提",		/* U+00B7 middle dot */
	"欧阳娜娜",
	"Li Lei",
	"O'Brien",
	"José",
	"𠀀𠀁",				/* CJK extension B, 4 bytes */
	NULL
};

static const char *const name_bad[] = {
	"",				/* empty */
	"张\n三",			/* control characters */
	"张\t三",
	"张\r三",
	"\x01",
	"张\x1b[0m",
	"张\x7f",			/* DEL */
	"\xc2\x85",		
	"张\xc2\x9f三",		
	"\xff",				/* not UTF-8 */
	"\xc0\xaf",			/* overlong */
	"\xed\xa0\x80",			/* surrogate */
	"张\xe5\xbb",			/* truncated */
	"\x80",				/* lone continuation byte */
	NULL
};

/* mt_valid_line: a name's rules without its 32-character cap (an
 * agency's name or address; the field table caps the length). */
static const char *const line_good[] = {
	"三门峡市医疗保障事务中心",
	"河南省三门峡市湖滨区崤山路 12 号政务服务中心二楼 A 区 3 号窗口"
	    "（工作日 8:30-12:00, 14:30-17:30）",
	"0398-2822345",
	NULL
};

static const char *const line_bad[] = {
	"",
	"崤山路\n12 号",		/* one line only */
	"崤山路\t12 号",
	"\x7f",
	"\xc2\x85",
	"\xff",
	NULL
};

/* mt_valid_note: a note or a reason, lines allowed, not blank. */
static const char *const note_good[] = {
	"血压未达到认定标准",
	"经核实异议成立\n已电话告知",
	" 理由 ",
	NULL
};

static const char *const note_bad[] = {
	"",
	"   ",
	" \n ",
	"理由\t",
	"理由\r\n",
	"\x7f",
	NULL
};

static const char *const qstatus_good[] = {
	"active", "terminated", "expired", "revoked", NULL
};

static const char *const qstatus_bad[] = {
	"", "Active", "ended", "active ", "voluntary", NULL
};

static const char *const reason_good[] = {
	"cured", "violation", "death", "expired", "audit_failed", "other",
	NULL
};

static const char *const reason_bad[] = {
	"", "voluntary", "revoked", "Death", "audit-failed", NULL
};

static const char *const quarter_good[] = {
	"2026Q1", "2026Q3", "2026Q4", "1900Q1", "2199Q4", NULL
};

static const char *const quarter_bad[] = {
	"", "2026Q0", "2026Q5", "2026q3", "2026-Q3", "26Q3", "2026Q",
	"2026Q3 ", " 2026Q3", "2026Q34", "1899Q4", "2200Q1", "ABCDQ1",
	"２０２６Q3", NULL
};

static const char *const month_good[] = {
	"2026-01", "2026-09", "2026-12", "1900-01", "2199-12", NULL
};

static const char *const month_bad[] = {
	"", "2026-00", "2026-13", "2026-1", "2026/09", "202609", "2026-9 ",
	" 2026-09", "2026-091", "1899-12", "2200-01", "ABCD-01", "2026-0a",
	"２０２６-09", NULL
};

static const struct vtable {
	const char		 *name;
	int			(*fn)(const char *);
	const char *const	 *good;
	const char *const	 *bad;
} vtables[] = {
	{ "mt_valid_id_number", mt_valid_id_number, id_good, id_bad },
	{ "mt_valid_phone", mt_valid_phone, phone_good, phone_bad },
	{ "mt_valid_date", mt_valid_date, date_good, date_bad },
	{ "mt_valid_quarter", mt_valid_quarter, quarter_good, quarter_bad },
	{ "mt_valid_month", mt_valid_month, month_good, month_bad },
	{ "mt_valid_region", mt_valid_region, region_good, region_bad },
	{ "mt_valid_disease_code", mt_valid_disease_code,
	  disease_good, disease_bad },
	{ "mt_valid_institution_code", mt_valid_institution_code,
	  inst_good, inst_bad },
	{ "mt_valid_login", mt_valid_login, login_good, login_bad },
	{ "mt_valid_code", mt_valid_code, code_good, code_bad },
	{ "mt_valid_page_limit", mt_valid_page_limit, limit_good, limit_bad },
	{ "mt_valid_bool", mt_valid_bool, bool_good, bool_bad },
	{ "mt_valid_uint", mt_valid_uint, uint_good, uint_bad },
	{ "mt_valid_name", mt_valid_name, name_good, name_bad },
	{ "mt_valid_line", mt_valid_line, line_good, line_bad },
	{ "mt_valid_note", mt_valid_note, note_good, note_bad },
	{ "mt_valid_qualification_status", mt_valid_qualification_status,
	  qstatus_good, qstatus_bad },
	{ "mt_valid_end_reason", mt_valid_end_reason, reason_good,
	  reason_bad },
};

/*
 * Every string validator: each good input gives exactly 1, each bad
 * input exactly 0.
 */
static void
test_validators(void)
{
	const struct vtable *t;
	size_t i, j;
	char *s;
	int rc;

	for (i = 0; i < MT_ARRAY_LEN(vtables); i++) {
		t = &vtables[i];
		for (j = 0; t->good[j] != NULL; j++) {
			s = mt_xstrdup(t->good[j]);
			rc = t->fn(s);
			CHECK(rc == 1, "%s(%s) = %d, want 1 (good[%zu])",
			    t->name, unit_str(s), rc, j);
			free(s);
		}
		for (j = 0; t->bad[j] != NULL; j++) {
			s = mt_xstrdup(t->bad[j]);
			rc = t->fn(s);
			CHECK(rc == 0, "%s(%s) = %d, want 0 (bad[%zu])",
			    t->name, unit_str(s), rc, j);
			free(s);
		}
	}
}

/* Digit 17 (index 16): odd is male, even is female; every digit once. */
static const struct {
	const char	*id;
	char		 sex;
} sexes[] = {
	{ "411200195803120139", 'M' },
	{ "41120019621105016X", 'F' },
	{ "63010019491202017X", 'M' },
	{ "140100195501300124", 'F' },
	{ "110105198001010104", 'F' },	/* 0 */
	{ "110105198001010016", 'M' },	/* 1 */
	{ "110105198001010024", 'F' },	/* 2 */
	{ "110105198001010032", 'M' },	/* 3 */
	{ "110105198001010040", 'F' },	/* 4 */
	{ "110105198001010059", 'M' },	/* 5 */
	{ "110105198001010067", 'F' },	/* 6 */
	{ "110105198001010075", 'M' },	/* 7 */
	{ "110105198001010083", 'F' },	/* 8 */
	{ "110105198001010091", 'M' },	/* 9 */
};

static void
test_sex(void)
{
	size_t i;
	char *s, c;

	for (i = 0; i < MT_ARRAY_LEN(sexes); i++) {
		s = mt_xstrdup(sexes[i].id);
		CHECK(mt_valid_id_number(s) == 1,
		    "sexes[%zu]: %s is not a valid ID number", i, unit_str(s));
		c = mt_id_number_sex(s);
		CHECK(c == sexes[i].sex, "mt_id_number_sex(%s) = '%c', "
		    "want '%c'", unit_str(s), c, sexes[i].sex);
		free(s);
	}
}

/* U(s): a literal and its length, embedded NULs included. */
#define U(s)	s, sizeof(s) - 1

static const struct {
	const char	*s;
	size_t		 n;
	int		 want;
	const char	*what;
} utf8[] = {
	{ U(""), 1, "empty" },
	{ U("hello"), 1, "ASCII" },
	{ U("a\0b"), 1, "U+0000 inside n is well-formed" },
	{ U("张建国"), 1, "Chinese" },
	{ U("三门峡市医疗保障服务中心"), 1, "Chinese" },
	{ U("\xc2\x80"), 1, "U+0080, first 2-byte" },
	{ U("\xdf\xbf"), 1, "U+07FF, last 2-byte" },
	{ U("\xe0\xa0\x80"), 1, "U+0800, first 3-byte" },
	{ U("\xed\x9f\xbf"), 1, "U+D7FF, below surrogates" },
	{ U("\xee\x80\x80"), 1, "U+E000, above surrogates" },
	{ U("\xef\xbf\xbf"), 1, "U+FFFF" },
	{ U("\xf0\x90\x80\x80"), 1, "U+10000, first 4-byte" },
	{ U("\xf0\x9f\x98\x80"), 1, "U+1F600 emoji" },
	{ U("a😀b"), 1, "emoji between ASCII" },
	{ U("\xf4\x8f\xbf\xbf"), 1, "U+10FFFF, last" },
	{ "abc\xff", 3, 1, "byte after n is not read" },
	{ U("\xc0\xaf"), 0, "overlong '/' (C0 AF)" },
	{ U("\xc1\xbf"), 0, "overlong (C1 BF)" },
	{ U("\xe0\x80\xaf"), 0, "overlong 3-byte '/'" },
	{ U("\xe0\x9f\xbf"), 0, "overlong 3-byte U+07FF" },
	{ U("\xf0\x80\x80\xaf"), 0, "overlong 4-byte '/'" },
	{ U("\xf0\x8f\xbf\xbf"), 0, "overlong 4-byte U+FFFF" },
	{ U("\xed\xa0\x80"), 0, "surrogate U+D800" },
	{ U("\xed\xbf\xbf"), 0, "surrogate U+DFFF" },
	{ U("\xed\xa0\xbd\xed\xb8\x80"), 0, "CESU-8 surrogate pair" },
	{ U("\xf4\x90\x80\x80"), 0, "U+110000 > U+10FFFF" },
	{ U("\xf5\x80\x80\x80"), 0, "F5 lead" },
	{ U("\xf7\xbf\xbf\xbf"), 0, "F7 lead" },
	{ U("\xf8\x88\x80\x80\x80"), 0, "5-byte form" },
	{ U("\xfc\x84\x80\x80\x80\x80"), 0, "6-byte form" },
	{ U("\xff"), 0, "FF" },
	{ U("\xfe"), 0, "FE" },
	{ U("a\xff" "b"), 0, "FF between ASCII" },
	{ U("\x80"), 0, "lone continuation byte" },
	{ U("\xbf"), 0, "lone continuation byte" },
	{ U("a\x80" "b"), 0, "continuation byte between ASCII" },
	{ U("\xe4\xb8\xad\x80"), 0, "continuation after a full char" },
	{ U("\xc2"), 0, "truncated 2-byte" },
	{ U("\xe4"), 0, "truncated 3-byte, 1 of 3" },
	{ U("\xe4\xb8"), 0, "truncated 3-byte, 2 of 3" },
	{ U("\xf0\x9f\x98"), 0, "truncated 4-byte" },
	{ U("\xe4\xb8\xad\xe4"), 0, "truncated after a full char" },
	{ "\xe4\xb8\xad", 2, 0, "n cuts a character" },
	{ U("\xe4\x41\xad"), 0, "ASCII in place of continuation" },
	{ U("\xe4\xb8\x41"), 0, "ASCII in place of continuation" },
	{ U("\xc2\xc2\x80"), 0, "lead in place of continuation" },
	{ U("\xf0\x9f\x98\x41"), 0, "ASCII ends 4-byte" },
};

static void
test_utf8(void)
{
	size_t i;
	char *s;
	int rc;

	for (i = 0; i < MT_ARRAY_LEN(utf8); i++) {
		/* Exactly n bytes, no NUL: a read past n is a sanitizer hit. */
		s = mt_xmalloc(utf8[i].n);
		memcpy(s, utf8[i].s, utf8[i].n);
		rc = mt_valid_utf8(s, utf8[i].n);
		CHECK(rc == utf8[i].want, "mt_valid_utf8(%s, %zu) = %d, "
		    "want %d (%s)", unit_esc(s, utf8[i].n), utf8[i].n, rc,
		    utf8[i].want, utf8[i].what);
		free(s);
	}
}

/* count copies of unit, in a new string. */
static char *
repeat(const char *unit, size_t count)
{
	size_t i, n = strlen(unit);
	char *s;

	s = mt_xmalloc(n * count + 1);
	for (i = 0; i < count; i++)
		memcpy(s + i * n, unit, n);
	s[n * count] = '\0';
	return s;
}

/* mt_valid_name counts characters, not bytes: 32 is the limit. */
static const struct {
	const char	*unit;
	size_t		 count;
	int		 want;
} name_len[] = {
	{ "a", 32, 1 },
	{ "a", 33, 0 },
	{ "中", 1, 1 },
	{ "中", 32, 1 },
	{ "中", 33, 0 },
	{ "😀", 32, 1 },
	{ "😀", 33, 0 },
	{ "·", 33, 0 },
};

static void
test_name_len(void)
{
	size_t i;
	char *s;
	int rc;

	for (i = 0; i < MT_ARRAY_LEN(name_len); i++) {
		s = repeat(name_len[i].unit, name_len[i].count);
		rc = mt_valid_name(s);
		CHECK(rc == name_len[i].want, "mt_valid_name(%zu x %s) = %d, "
		    "want %d", name_len[i].count, unit_str(name_len[i].unit),
		    rc, name_len[i].want);
		free(s);
	}
}

static void
test_chars_and_sets(void)
{
	static const struct { const char *s; size_t want; } chars[] = {
		{ "", 0 }, { "abc", 3 }, { "张三", 2 }, { "a张b", 3 },
		{ "\xf0\x9f\x98\x80x", 2 },        /* 4-byte sequence, then x */
		{ "出具机构（医院）", 8 },
	};
	static const char *const set[] = { "pushed", "accepted", NULL };
	static const char *const none[] = { NULL };
	size_t i;

	for (i = 0; i < MT_ARRAY_LEN(chars); i++)
		CHECK(mt_utf8_chars(chars[i].s) == chars[i].want,
		    "mt_utf8_chars(%s) = %zu", unit_str(chars[i].s),
		    mt_utf8_chars(chars[i].s));
	CHECK(mt_valid_one_of("pushed", set), "one_of first");
	CHECK(mt_valid_one_of("accepted", set), "one_of last");
	CHECK(!mt_valid_one_of("Pushed", set), "one_of is case-sensitive");
	CHECK(!mt_valid_one_of("push", set), "one_of: no prefix match");
	CHECK(!mt_valid_one_of("", set), "one_of: empty");
	CHECK(!mt_valid_one_of("pushed", none), "one_of: empty set");
}

static const struct {
	const char	*pat;
	const char	*path;
	int		 want;
	size_t		 ncaps;
	const char	*cap[2];
} paths[] = {
	{ "/diseases", "/diseases", 1, 0, { NULL, NULL } },
	{ "/diseases", "/diseases/", 0, 0, { NULL, NULL } },
	{ "/diseases/", "/diseases", 0, 0, { NULL, NULL } },
	{ "/diseases", "/disease", 0, 0, { NULL, NULL } },
	{ "/diseases", "/diseasesx", 0, 0, { NULL, NULL } },
	{ "/diseases", "/Diseases", 0, 0, { NULL, NULL } },
	{ "/diseases", "", 0, 0, { NULL, NULL } },
	{ "", "", 1, 0, { NULL, NULL } },
	{ "", "/", 0, 0, { NULL, NULL } },
	{ "/diseases/{code}", "/diseases/D001", 1, 1, { "D001", NULL } },
	{ "/diseases/{code}", "/diseases/x", 1, 1, { "x", NULL } },
	{ "/diseases/{code}", "/diseases/中文", 1, 1, { "中文", NULL } },
	{ "/diseases/{code}", "/diseases/", 0, 0, { NULL, NULL } },
	{ "/diseases/{code}", "/diseases", 0, 0, { NULL, NULL } },
	{ "/diseases/{code}", "/diseases//", 0, 0, { NULL, NULL } },
	{ "/diseases/{code}", "/diseases/D001/", 0, 0, { NULL, NULL } },
	{ "/diseases/{code}", "/diseases/D001/x", 0, 0, { NULL, NULL } },
	{ "/diseases/{code}", "/institutions/D001", 0, 0, { NULL, NULL } },
	{ "/{x}", "/", 0, 0, { NULL, NULL } },
	{ "/{x}", "/a", 1, 1, { "a", NULL } },
	{ "/expert/tasks/{aid}/accept", "/expert/tasks/42/accept",
	  1, 1, { "42", NULL } },
	{ "/expert/tasks/{aid}/accept", "/expert/tasks/12345678/accept",
	  1, 1, { "12345678", NULL } },
	{ "/expert/tasks/{aid}/accept", "/expert/tasks/42/reject",
	  0, 0, { NULL, NULL } },
	{ "/expert/tasks/{aid}/accept", "/expert/tasks//accept",
	  0, 0, { NULL, NULL } },
	{ "/expert/tasks/{aid}/accept", "/expert/tasks/42",
	  0, 0, { NULL, NULL } },
	{ "/expert/tasks/{aid}/accept", "/expert/tasks/42/accept/",
	  0, 0, { NULL, NULL } },
	{ "/regions/{region}/diseases/{code}",
	  "/regions/411200/diseases/D001", 1, 2, { "411200", "D001" } },
	{ "/regions/{region}/diseases/{code}",
	  "/regions/1/diseases/ABCDEFGHIJ", 1, 2, { "1", "ABCDEFGHIJ" } },
	{ "/regions/{region}/diseases/{code}",
	  "/regions/411200/diseases/", 0, 0, { NULL, NULL } },
	{ "/regions/{region}/diseases/{code}",
	  "/regions//diseases/D001", 0, 0, { NULL, NULL } },
	{ "/regions/{region}/diseases/{code}",
	  "/regions/411200/diseases/D001/x", 0, 0, { NULL, NULL } },
	{ "/regions/{region}/diseases/{code}",
	  "/regions/411200/D001", 0, 0, { NULL, NULL } },
	{ "/a/{x}/{y}", "/a/1/2", 1, 2, { "1", "2" } },
	{ "/a/{x}/{y}", "/a/1/", 0, 0, { NULL, NULL } },
	{ "/a/{x}/{y}", "/a/1", 0, 0, { NULL, NULL } },
};

static void
test_path_match(void)
{
	struct mt_span caps[4];
	size_t i, k, ncaps, n;
	char *pat, *path;
	int rc;

	for (i = 0; i < MT_ARRAY_LEN(paths); i++) {
		pat = mt_xstrdup(paths[i].pat);
		path = mt_xstrdup(paths[i].path);
		memset(caps, 0, sizeof(caps));
		ncaps = 99;
		rc = mt_path_match(pat, path, caps, MT_ARRAY_LEN(caps), &ncaps);
		if (!CHECK(rc == paths[i].want, "mt_path_match(%s, %s) = %d, "
		    "want %d", unit_str(pat), unit_str(path), rc,
		    paths[i].want) || rc == 0)
			goto next;
		if (!CHECK(ncaps == paths[i].ncaps, "mt_path_match(%s, %s): "
		    "ncaps %zu, want %zu", unit_str(pat), unit_str(path),
		    ncaps, paths[i].ncaps))
			goto next;
		for (k = 0; k < ncaps; k++) {
			n = strlen(paths[i].cap[k]);
			CHECK(caps[k].p >= path &&
			    caps[k].p + caps[k].n <= path + strlen(path),
			    "mt_path_match(%s, %s): cap %zu points outside "
			    "the path", unit_str(pat), unit_str(path), k);
			CHECK(caps[k].n == n &&
			    memcmp(caps[k].p, paths[i].cap[k], n) == 0,
			    "mt_path_match(%s, %s): cap %zu = %s (%zu), "
			    "want %s (%zu)", unit_str(pat), unit_str(path), k,
			    unit_esc(caps[k].p, caps[k].n), caps[k].n,
			    unit_str(paths[i].cap[k]), n);
		}
next:
		free(pat);
		free(path);
	}
}

static const struct {
	const char	*in;
	size_t		 n;
	int		 plus;
	long		 want;
	const char	*out;
} urls[] = {
	{ U(""), 0, 0, "" },
	{ U("abc"), 0, 3, "abc" },
	{ U("%41"), 0, 1, "A" },
	{ U("a%41b"), 0, 3, "aAb" },
	{ U("%4a%4A"), 0, 2, "JJ" },
	{ U("%e4%b8%ad"), 0, 3, "中" },
	{ U("%E4%B8%AD"), 0, 3, "中" },
	{ U("%e5%bc%a0%e5%bb%ba%e5%9b%bd"), 0, 9, "张建国" },
	{ U("%20"), 0, 1, " " },
	{ U("a+b"), 1, 3, "a b" },
	{ U("a+b"), 0, 3, "a+b" },
	{ U("++"), 1, 2, "  " },
	{ U("%2B"), 1, 1, "+" },
	{ U("%2b"), 0, 1, "+" },
	{ U("100%25"), 0, 4, "100%" },
	{ U("%2541"), 0, 3, "%41" },
	{ U("%2F"), 0, 1, "/" },
	{ U("%ff"), 0, 1, "\xff" },
	{ "%41xyz", 3, 0, 1, "A" },
	{ U("%zz"), 0, -1, NULL },
	{ U("%4g"), 0, -1, NULL },
	{ U("%g4"), 0, -1, NULL },
	{ U("%-1"), 0, -1, NULL },
	{ U("% 41"), 0, -1, NULL },
	{ U("%4"), 0, -1, NULL },
	{ U("%"), 0, -1, NULL },
	{ U("ab%"), 0, -1, NULL },
	{ U("ab%4"), 0, -1, NULL },
	{ "%41", 2, 0, -1, NULL },
	{ U("%00"), 0, -1, NULL },
	{ U("a%00b"), 0, -1, NULL },
	{ U("a\0b"), 0, -1, NULL },
};

static void
test_url_decode(void)
{
	size_t i, n;
	char *in, *out;
	long rc;

	for (i = 0; i < MT_ARRAY_LEN(urls); i++) {
		n = urls[i].n;
		in = mt_xmalloc(n);
		memcpy(in, urls[i].in, n);
		out = mt_xmalloc(n + 1);
		rc = mt_url_decode(in, n, out, urls[i].plus);
		if (CHECK(rc == urls[i].want, "mt_url_decode(%s, %zu, %d) = "
		    "%ld, want %ld", unit_esc(in, n), n, urls[i].plus, rc,
		    urls[i].want) && rc >= 0)
			CHECK(strlen(out) == (size_t)rc &&
			    strcmp(out, urls[i].out) == 0,
			    "mt_url_decode(%s, %zu, %d) wrote %s, want %s",
			    unit_esc(in, n), n, urls[i].plus,
			    unit_esc(out, (size_t)rc), unit_str(urls[i].out));
		free(in);
		free(out);
	}
}

static const struct mask {
	const char	*in;
	const char	*out;
} mask_id[] = {
	{ "411200195803120139", "4112**********0139" },
	{ "41120019621105016X", "4112**********016X" },
	{ "630100196704180127", "6301**********0127" },
}, mask_phone[] = {
	{ "13812345678", "138****5678" },
	{ "13800000001", "138****0001" },
	{ "19912345678", "199****5678" },
}, mask_name[] = {
	{ "张建国", "张**" },
	{ "王秀兰", "王**" },
	{ "李四", "李*" },
	{ "张", "张" },
	{ "欧阳娜娜", "欧***" },
	{ "阿依古丽·买买提", "阿*******" },
	{ "𠀀𠀁", "𠀀*" },
	{ "Li Lei", "L*****" },
	{ "", "" },
};

static const struct masker {
	const char		 *name;
	void			(*fn)(const char *, char *);
	const struct mask	 *rows;
	size_t			  nrows;
} maskers[] = {
	{ "mt_mask_id_number", mt_mask_id_number, mask_id,
	  MT_ARRAY_LEN(mask_id) },
	{ "mt_mask_phone", mt_mask_phone, mask_phone,
	  MT_ARRAY_LEN(mask_phone) },
	{ "mt_mask_name", mt_mask_name, mask_name, MT_ARRAY_LEN(mask_name) },
};

static void
test_masks(void)
{
	const struct masker *m;
	size_t i, j;
	char *in, *out;

	for (i = 0; i < MT_ARRAY_LEN(maskers); i++) {
		m = &maskers[i];
		for (j = 0; j < m->nrows; j++) {
			in = mt_xstrdup(m->rows[j].in);
			/* The documented minimum: strlen(in) + 1. */
			out = mt_xmalloc(strlen(in) + 1);
			m->fn(in, out);
			CHECK(strcmp(out, m->rows[j].out) == 0,
			    "%s(%s) = %s, want %s", m->name, unit_str(in),
			    unit_str(out), unit_str(m->rows[j].out));
			free(in);
			free(out);
		}
	}
}

int
main(void)
{
	test_validators();
	test_sex();
	test_utf8();
	test_name_len();
	test_chars_and_sets();
	test_path_match();
	test_url_decode();
	test_masks();
	return unit_done();
}
