/*
 * Table-driven tests of lib/coord_parse (integers, money, booleans, UTF-8,
 * UUIDs, hex, percent-decoding, query strings), lib/coord_crypto and
 * lib/coord_buf.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coord_buf.h"
#include "coord_crypto.h"
#include "coord_mem.h"
#include "coord_parse.h"
#include "coord_paykeys.h"
#include "tap.h"
#include "banned.h"

/* A string literal and its length (embedded NULs included). */
#define S(x) x, sizeof(x) - 1
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *err_name(enum coord_err e)
{
	switch (e) {
	case COORD_OK: return "OK";
	case COORD_ERR_INVALID: return "INVALID";
	case COORD_ERR_RANGE: return "RANGE";
	default: return "other";
	}
}

/* ---- coord_parse_i64 ---- */

static const struct {
	const char *s;
	size_t len;
	int64_t min, max;
	enum coord_err want;
	int64_t value;
} i64_cases[] = {
	{ S("0"), 0, 100, COORD_OK, 0 },
	{ S("100"), 0, 100, COORD_OK, 100 },
	{ S("101"), 0, 100, COORD_ERR_RANGE, 0 },
	{ S("42"), 42, 42, COORD_OK, 42 },
	{ S("41"), 42, 42, COORD_ERR_RANGE, 0 },
	{ S("43"), 42, 42, COORD_ERR_RANGE, 0 },
	{ S("9223372036854775807"), INT64_MIN, INT64_MAX, COORD_OK, INT64_MAX },
	{ S("9223372036854775808"), INT64_MIN, INT64_MAX, COORD_ERR_RANGE, 0 },
	{ S("9999999999999999999"), INT64_MIN, INT64_MAX, COORD_ERR_RANGE, 0 },
	{ S("-9223372036854775808"), INT64_MIN, INT64_MAX, COORD_OK, INT64_MIN },
	{ S("-9223372036854775809"), INT64_MIN, INT64_MAX, COORD_ERR_RANGE, 0 },
	{ S("-9223372036854775807"), INT64_MIN, INT64_MAX, COORD_OK, -INT64_MAX },
	{ S("1000000000000000000"), 0, INT64_MAX, COORD_OK, INT64_C(1000000000000000000) },
	{ S("10000000000000000000"), 0, INT64_MAX, COORD_ERR_RANGE, 0 },
	{ S("18446744073709551615"), 0, INT64_MAX, COORD_ERR_RANGE, 0 },
	{ S("18446744073709551616"), 0, INT64_MAX, COORD_ERR_RANGE, 0 },
	{ S("99999999999999999999999999999999999999"), 0, INT64_MAX, COORD_ERR_RANGE, 0 },
	{ S("-99999999999999999999"), INT64_MIN, INT64_MAX, COORD_ERR_RANGE, 0 },
	/* syntax is checked on every byte, even after an overflow */
	{ S("99999999999999999999x"), 0, INT64_MAX, COORD_ERR_INVALID, 0 },
	{ S("-0"), INT64_MIN, INT64_MAX, COORD_OK, 0 },
	{ S("-0"), 0, 10, COORD_ERR_INVALID, 0 },
	{ S("-1"), 0, 10, COORD_ERR_INVALID, 0 },
	{ S("-5"), -10, 10, COORD_OK, -5 },
	{ S("-10"), -10, 10, COORD_OK, -10 },
	{ S("-11"), -10, 10, COORD_ERR_RANGE, 0 },
	{ S("11"), -10, 10, COORD_ERR_RANGE, 0 },
	{ S("+1"), INT64_MIN, INT64_MAX, COORD_ERR_INVALID, 0 },
	{ S("+1"), 0, 10, COORD_ERR_INVALID, 0 },
	{ S(" 1"), 0, 10, COORD_ERR_INVALID, 0 },
	{ S("1 "), 0, 10, COORD_ERR_INVALID, 0 },
	{ S("1\n"), 0, 10, COORD_ERR_INVALID, 0 },
	{ S("\t1"), 0, 10, COORD_ERR_INVALID, 0 },
	{ S(""), 0, 10, COORD_ERR_INVALID, 0 },
	{ S(""), INT64_MIN, INT64_MAX, COORD_ERR_INVALID, 0 },
	{ S("-"), INT64_MIN, INT64_MAX, COORD_ERR_INVALID, 0 },
	{ S("-"), 0, 10, COORD_ERR_INVALID, 0 },
	{ S("--1"), INT64_MIN, INT64_MAX, COORD_ERR_INVALID, 0 },
	{ S("1-"), INT64_MIN, INT64_MAX, COORD_ERR_INVALID, 0 },
	{ S("007"), 0, 10, COORD_OK, 7 },
	{ S("00"), 0, 10, COORD_OK, 0 },
	{ S("-007"), -10, 10, COORD_OK, -7 },
	/* leading zeros never count against the range: the value decides */
	{ S("0000000000000000007"), 0, 10, COORD_OK, 7 },
	{ S("00000000000000000007"), 0, 10, COORD_OK, 7 },
	{ S("000000000000000000000000009223372036854775807"), 0, INT64_MAX, COORD_OK, INT64_MAX },
	{ S("0x10"), 0, 100, COORD_ERR_INVALID, 0 },
	{ S("1e3"), 0, 10000, COORD_ERR_INVALID, 0 },
	{ S("1.0"), 0, 10, COORD_ERR_INVALID, 0 },
	{ S("1,000"), 0, 10000, COORD_ERR_INVALID, 0 },
	{ S("12a"), 0, 100, COORD_ERR_INVALID, 0 },
	{ S("a12"), 0, 100, COORD_ERR_INVALID, 0 },
	{ S("1\0" "2"), 0, 100, COORD_ERR_INVALID, 0 },
	{ S("\0"), 0, 100, COORD_ERR_INVALID, 0 },
	{ S("\xd9\xa1"), 0, 100, COORD_ERR_INVALID, 0 }, /* ARABIC-INDIC DIGIT ONE */
	{ S("\xef\xbc\x91"), 0, 100, COORD_ERR_INVALID, 0 }, /* FULLWIDTH DIGIT ONE */
	{ S("\xff"), 0, 100, COORD_ERR_INVALID, 0 },
	/* the length is respected: no reading up to a NUL */
	{ "123", 2, 0, 1000, COORD_OK, 12 },
	{ "5", 0, 0, 10, COORD_ERR_INVALID, 0 },
	{ "-5", 1, -10, 10, COORD_ERR_INVALID, 0 },
};

static void test_i64(void)
{
	for (size_t i = 0; i < N(i64_cases); i++) {
		int64_t v = INT64_C(0x5a5a5a5a);
		enum coord_err e = coord_parse_i64(i64_cases[i].s, i64_cases[i].len,
						   i64_cases[i].min, i64_cases[i].max, &v);
		bool good = e == i64_cases[i].want &&
			    (e != COORD_OK || v == i64_cases[i].value);
		ok(good, "parse_i64 #%zu \"%s\" [%lld,%lld] -> %s %lld (got %s %lld)", i,
		   show(i64_cases[i].s, i64_cases[i].len), (long long)i64_cases[i].min,
		   (long long)i64_cases[i].max, err_name(i64_cases[i].want),
		   (long long)i64_cases[i].value, err_name(e), (long long)v);
	}
}

/* ---- money ---- */

static const struct {
	const char *s;
	size_t len;
	bool valid;
	const char *canonical;
} money_cases[] = {
	{ S("0"), true, "0" },
	{ S("00"), true, "0" },
	{ S("000"), true, "0" },
	{ S("1"), true, "1" },
	{ S("007"), true, "7" },
	{ S("100"), true, "100" },
	{ S("10000"), true, "10000" },
	{ S("99999999999999999999999999999999999999"), true,
	  "99999999999999999999999999999999999999" }, /* 38 digits: 10^38 - 1 */
	{ S("00000000000000000000000000000000000001"), true, "1" }, /* 38 digits */
	{ S("00000000000000000000000000000000000000"), true, "0" },
	{ S("10000000000000000000000000000000000000"), true,
	  "10000000000000000000000000000000000000" },
	{ S("100000000000000000000000000000000000000"), false, NULL }, /* 39 digits: 10^38 */
	{ S("000000000000000000000000000000000000001"), false, NULL }, /* 39 digits */
	{ S(""), false, NULL },
	{ S("-1"), false, NULL },
	{ S("-0"), false, NULL },
	{ S("+1"), false, NULL },
	{ S(" 1"), false, NULL },
	{ S("1 "), false, NULL },
	{ S("1.0"), false, NULL },
	{ S("1e3"), false, NULL },
	{ S("0x1"), false, NULL },
	{ S("1,000"), false, NULL },
	{ S("1\0"), false, NULL },
	{ S("\0" "1"), false, NULL },
	{ S("\xd9\xa1"), false, NULL },
	{ S("abc"), false, NULL },
	{ "12x", 2, true, "12" }, /* the length is respected */
};

static void test_money(void)
{
	for (size_t i = 0; i < N(money_cases); i++) {
		bool v = coord_money_valid(money_cases[i].s, money_cases[i].len);
		ok(v == money_cases[i].valid, "money_valid #%zu \"%s\" -> %d", i,
		   show(money_cases[i].s, money_cases[i].len), money_cases[i].valid);
		if (!money_cases[i].valid || !v)
			continue;
		char out[39];
		memset(out, 'X', sizeof(out));
		size_t n = coord_money_canonical(money_cases[i].s, money_cases[i].len, out);
		ok(n == strlen(money_cases[i].canonical) &&
			   strcmp(out, money_cases[i].canonical) == 0,
		   "money_canonical #%zu \"%s\" -> \"%s\" (got \"%.39s\", %zu)", i,
		   show(money_cases[i].s, money_cases[i].len), money_cases[i].canonical, out, n);
	}
}

static const struct {
	const char *a, *b;
	int sign;
} money_cmp_cases[] = {
	{ "0", "0", 0 },
	{ "0", "00", 0 },
	{ "00", "0", 0 },
	{ "1", "01", 0 },
	{ "007", "7", 0 },
	{ "0", "1", -1 },
	{ "1", "0", 1 },
	{ "2", "10", -1 },
	{ "10", "9", 1 },
	{ "0010", "9", 1 },
	{ "123", "124", -1 },
	{ "1000", "999", 1 },
	{ "99999999999999999999999999999999999999", "10000000000000000000000000000000000000", 1 },
	{ "99999999999999999999999999999999999999", "99999999999999999999999999999999999999", 0 },
	{ "00000000000000000000000000000000000001", "1", 0 },
	{ "00000000000000000000000000000000000002", "1", 1 },
	{ "1", "99999999999999999999999999999999999999", -1 },
	{ "10000", "1000", 1 },
};

static int sign_of(int x)
{
	return x < 0 ? -1 : x > 0 ? 1 : 0;
}

static void test_money_cmp(void)
{
	for (size_t i = 0; i < N(money_cmp_cases); i++) {
		const char *a = money_cmp_cases[i].a, *b = money_cmp_cases[i].b;
		int c = coord_money_cmp(a, strlen(a), b, strlen(b));
		ok(sign_of(c) == money_cmp_cases[i].sign, "money_cmp #%zu %s vs %s -> %d (got %d)", i,
		   a, b, money_cmp_cases[i].sign, c);
	}
}

/* ---- booleans ---- */

static const struct {
	const char *s;
	enum coord_err want;
	bool value;
} bool_cases[] = {
	{ "true", COORD_OK, true },   { "TRUE", COORD_OK, true },  { "True", COORD_OK, true },
	{ "1", COORD_OK, true },      { "yes", COORD_OK, true },   { "YES", COORD_OK, true },
	{ "on", COORD_OK, true },     { "On", COORD_OK, true },    { "false", COORD_OK, false },
	{ "FALSE", COORD_OK, false }, { "fAlSe", COORD_OK, false }, { "0", COORD_OK, false },
	{ "no", COORD_OK, false },    { "No", COORD_OK, false },   { "off", COORD_OK, false },
	{ "OFF", COORD_OK, false },   { "", COORD_ERR_INVALID, false },
	{ "2", COORD_ERR_INVALID, false },     { "y", COORD_ERR_INVALID, false },
	{ "n", COORD_ERR_INVALID, false },     { "t", COORD_ERR_INVALID, false },
	{ "f", COORD_ERR_INVALID, false },     { "truee", COORD_ERR_INVALID, false },
	{ " true", COORD_ERR_INVALID, false }, { "true ", COORD_ERR_INVALID, false },
	{ "enabled", COORD_ERR_INVALID, false }, { "00", COORD_ERR_INVALID, false },
	{ "01", COORD_ERR_INVALID, false },    { "-1", COORD_ERR_INVALID, false },
	{ "o", COORD_ERR_INVALID, false },     { "nope", COORD_ERR_INVALID, false },
};

static void test_bool(void)
{
	for (size_t i = 0; i < N(bool_cases); i++) {
		bool v = !bool_cases[i].value;
		enum coord_err e = coord_parse_bool(bool_cases[i].s, &v);
		ok(e == bool_cases[i].want && (e != COORD_OK || v == bool_cases[i].value),
		   "parse_bool #%zu \"%s\" -> %s %d (got %s %d)", i, bool_cases[i].s,
		   err_name(bool_cases[i].want), bool_cases[i].value, err_name(e), v);
	}
}

/* ---- UTF-8 ---- */

static const struct {
	const char *s;
	size_t len;
	bool valid;
	size_t chars;
	const char *what;
} utf8_cases[] = {
	{ S(""), true, 0, "empty" },
	{ S("abc"), true, 3, "ASCII" },
	{ S("a\0b"), true, 3, "NUL is a valid code point" },
	{ S("\x7f"), true, 1, "DEL" },
	{ S("\xc2\x80"), true, 1, "U+0080" },
	{ S("\xc3\xa9"), true, 1, "U+00E9" },
	{ S("\xdf\xbf"), true, 1, "U+07FF" },
	{ S("\xe0\xa0\x80"), true, 1, "U+0800" },
	{ S("\xe2\x82\xac"), true, 1, "U+20AC" },
	{ S("\xed\x9f\xbf"), true, 1, "U+D7FF" },
	{ S("\xee\x80\x80"), true, 1, "U+E000" },
	{ S("\xef\xbf\xbd"), true, 1, "U+FFFD" },
	{ S("\xef\xbf\xbf"), true, 1, "U+FFFF" },
	{ S("\xf0\x90\x80\x80"), true, 1, "U+10000" },
	{ S("\xf0\x9f\x98\x80"), true, 1, "U+1F600" },
	{ S("\xf4\x8f\xbf\xbf"), true, 1, "U+10FFFF" },
	{ S("a\xe2\x82\xac\xf0\x9f\x98\x80z"), true, 4, "mixed" },
	{ S("\xc3\xa9\xc3\xa9\xc3\xa9"), true, 3, "three 2-byte" },
	{ S("\xc0\x80"), false, 0, "overlong NUL" },
	{ S("\xc0\xaf"), false, 0, "overlong '/'" },
	{ S("\xc1\xbf"), false, 0, "overlong U+007F" },
	{ S("\xe0\x80\x80"), false, 0, "overlong 3-byte NUL" },
	{ S("\xe0\x9f\xbf"), false, 0, "overlong U+07FF" },
	{ S("\xf0\x80\x80\x80"), false, 0, "overlong 4-byte NUL" },
	{ S("\xf0\x8f\xbf\xbf"), false, 0, "overlong U+FFFF" },
	{ S("\xed\xa0\x80"), false, 0, "U+D800 high surrogate" },
	{ S("\xed\xbf\xbf"), false, 0, "U+DFFF low surrogate" },
	{ S("\xed\xa0\xbd\xed\xb8\x80"), false, 0, "CESU-8 surrogate pair" },
	{ S("\xf4\x90\x80\x80"), false, 0, "U+110000" },
	{ S("\xf5\x80\x80\x80"), false, 0, "F5 lead" },
	{ S("\xf7\xbf\xbf\xbf"), false, 0, "U+1FFFFF" },
	{ S("\xf8\x88\x80\x80\x80"), false, 0, "5-byte form" },
	{ S("\xfc\x84\x80\x80\x80\x80"), false, 0, "6-byte form" },
	{ S("\xfe"), false, 0, "FE" },
	{ S("\xff"), false, 0, "FF" },
	{ S("\x80"), false, 0, "lone continuation 80" },
	{ S("\xbf"), false, 0, "lone continuation BF" },
	{ S("a\x80" "b"), false, 0, "continuation between ASCII" },
	{ S("\xc3\xa9\xa9"), false, 0, "extra continuation" },
	{ S("\xc3"), false, 0, "truncated 2-byte" },
	{ S("\xe2\x82"), false, 0, "truncated 3-byte" },
	{ S("\xf0\x9f\x98"), false, 0, "truncated 4-byte" },
	{ S("a\xc3"), false, 0, "truncated at end" },
	{ S("\xc3" "A"), false, 0, "lead then ASCII" },
	{ S("\xe2\x28\xa1"), false, 0, "bad second byte" },
	{ S("\xe2\x82\x28"), false, 0, "bad third byte" },
	{ S("\xf0\x9f\x98\x28"), false, 0, "bad fourth byte" },
	{ S("\xc3\x00"), false, 0, "lead then NUL" },
	{ "\xc3\xa9", 1, false, 0, "length cuts a sequence" },
};

static void test_utf8(void)
{
	for (size_t i = 0; i < N(utf8_cases); i++) {
		bool v = coord_utf8_valid(utf8_cases[i].s, utf8_cases[i].len);
		ok(v == utf8_cases[i].valid, "utf8_valid #%zu %s -> %d", i, utf8_cases[i].what,
		   utf8_cases[i].valid);
		if (utf8_cases[i].valid) {
			size_t c = coord_utf8_chars(utf8_cases[i].s, utf8_cases[i].len);
			ok(c == utf8_cases[i].chars, "utf8_chars #%zu %s -> %zu (got %zu)", i,
			   utf8_cases[i].what, utf8_cases[i].chars, c);
		}
	}
}

/* ---- UUIDs and hex ---- */

static const struct {
	const char *s;
	size_t len;
	bool valid;
} uuid_cases[] = {
	{ S("123e4567-e89b-12d3-a456-426614174000"), true },
	{ S("123E4567-E89B-12D3-A456-426614174000"), true },
	{ S("00000000-0000-0000-0000-000000000000"), true },
	{ S("ffffffff-FFFF-ffff-FFFF-ffffffffffff"), true },
	{ S("{123e4567-e89b-12d3-a456-426614174000}"), false },
	{ S("123e4567e89b12d3a456426614174000"), false },
	{ S("123e4567-e89b-12d3-a456-42661417400"), false },
	{ S("123e4567-e89b-12d3-a456-4266141740000"), false },
	{ S("123e4567-e89b-12d3-a456_426614174000"), false },
	{ S("123e456-7e89b-12d3-a456-426614174000"), false },
	{ S("123e4567-e89b-12d3-a4564-26614174000"), false },
	{ S("123e4567-e89b-12d3-a456-42661417400g"), false },
	{ S("123e4567-e89b-12d3-a456-42661417400 "), false },
	{ S(" 23e4567-e89b-12d3-a456-426614174000"), false },
	{ S("123e4567-e89b-12d3-a456-42661417400\0"), false },
	{ S("123e4567-e89b-12d3-a456-426614174000\n"), false },
	{ S("urn:uuid:123e4567-e89b-12d3-a456-426614174000"), false },
	{ S("+23e4567-e89b-12d3-a456-426614174000"), false },
	{ S("123e4567-e89b-12d3-a456-4266141740\xc3\xa9"), false },
	{ S(""), false },
	{ S("------------------------------------"), false },
	{ "123e4567-e89b-12d3-a456-426614174000", 35, false },
};

static void test_uuid(void)
{
	for (size_t i = 0; i < N(uuid_cases); i++)
		ok(coord_uuid_valid(uuid_cases[i].s, uuid_cases[i].len) == uuid_cases[i].valid,
		   "uuid_valid #%zu \"%s\" -> %d", i, show(uuid_cases[i].s, uuid_cases[i].len),
		   uuid_cases[i].valid);
}

static const struct {
	const char *s;
	size_t len, n;
	bool valid;
} hex_cases[] = {
	{ S("0123456789abcdef"), 16, true },
	{ S("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 64, true },
	{ S("E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 64, false },
	{ S("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"), 64, false },
	{ S("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555"), 64, false },
	{ S("ABCDEF"), 6, false },
	{ S("abcdeg"), 6, false },
	{ S("abcde "), 6, false },
	{ S("abc\0ef"), 6, false },
	{ S("ab"), 3, false },
	{ S("abcd"), 3, false },
	{ S("-abc"), 4, false },
	{ S(""), 0, true },
	{ S(""), 64, false },
};

static void test_hex(void)
{
	for (size_t i = 0; i < N(hex_cases); i++)
		ok(coord_lowerhex_valid(hex_cases[i].s, hex_cases[i].len, hex_cases[i].n) ==
			   hex_cases[i].valid,
		   "lowerhex_valid #%zu \"%s\" n=%zu -> %d", i, show(hex_cases[i].s, hex_cases[i].len), hex_cases[i].n, hex_cases[i].valid);
}

/* coord_hex_valid: the same lengths, either case */
static const struct {
	const char *s;
	size_t len, n;
	bool valid;
} anyhex_cases[] = {
	{ S("0123456789abcdefABCDEF"), 22, true },
	{ S("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"), 64, true },
	{ S("E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 64, true },
	{ S("E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"), 64, false },
	{ S("E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555"), 64, false },
	{ S("ABCDEG"), 6, false },
	{ S("abcdeG"), 6, false },
	{ S("ABC DE"), 6, false },
	{ S("AB\0CDE"), 6, false },
	{ S("0x12"), 4, false },
	{ S("+123"), 4, false },
	{ S("\xc3\xa9" "ab"), 4, false },
	{ S(""), 0, true },
	{ S(""), 64, false },
};

static void test_anyhex(void)
{
	for (size_t i = 0; i < N(anyhex_cases); i++)
		ok(coord_hex_valid(anyhex_cases[i].s, anyhex_cases[i].len, anyhex_cases[i].n) ==
			   anyhex_cases[i].valid,
		   "hex_valid #%zu \"%s\" n=%zu -> %d", i,
		   show(anyhex_cases[i].s, anyhex_cases[i].len), anyhex_cases[i].n,
		   anyhex_cases[i].valid);
	ok(!coord_hex_valid(NULL, 0, 0), "hex_valid NULL -> 0");
}

/* The grant amount rule of SPEC §3.5 (lib/coord_paykeys.c): money, and not zero. */
static const struct {
	const char *s;
	size_t len;
	const char *problem; /* NULL: grantable */
} grant_cases[] = {
	{ S("1"), NULL },
	{ S("0001"), NULL },
	{ S("5000000"), NULL },
	{ S("99999999999999999999999999999999999999"), NULL },
	{ S("0"), "Amount must be greater than 0" },
	{ S("00000000000000000000000000000000000000"), "Amount must be greater than 0" },
	{ S(""), "Invalid amount format" },
	{ S("100000000000000000000000000000000000000"), "Invalid amount format" },
	{ S("000000000000000000000000000000000000001"), "Invalid amount format" },
	{ S("-1"), "Invalid amount format" },
	{ S("+1"), "Invalid amount format" },
	{ S("1.0"), "Invalid amount format" },
	{ S("1e3"), "Invalid amount format" },
	{ S(" 1"), "Invalid amount format" },
	{ S("1\0"), "Invalid amount format" },
	{ S("0x10"), "Invalid amount format" },
};

static void test_grant_amount(void)
{
	for (size_t i = 0; i < N(grant_cases); i++) {
		const char *got = coord_paykeys_grant_amount_problem(grant_cases[i].s, grant_cases[i].len);
		const char *want = grant_cases[i].problem;
		ok(want ? got && strcmp(got, want) == 0 : got == NULL,
		   "grant_amount_problem #%zu \"%s\" -> %s (got %s)", i,
		   show(grant_cases[i].s, grant_cases[i].len), want ? want : "ok", got ? got : "ok");
	}
}

/* ---- percent-decoding ---- */

static const struct {
	const char *in;
	size_t len;
	bool plus_is_space;
	enum coord_err want;
	const char *out;
	size_t outlen;
} pct_cases[] = {
	{ S(""), false, COORD_OK, S("") },
	{ S("abc"), false, COORD_OK, S("abc") },
	{ S("%41"), false, COORD_OK, S("A") },
	{ S("%4a"), false, COORD_OK, S("J") },
	{ S("%4A"), false, COORD_OK, S("J") },
	{ S("%2F"), false, COORD_OK, S("/") },
	{ S("%2f"), false, COORD_OK, S("/") },
	{ S("a%2Fb"), false, COORD_OK, S("a/b") },
	{ S("%20"), false, COORD_OK, S(" ") },
	{ S("%25"), false, COORD_OK, S("%") },
	{ S("%2525"), false, COORD_OK, S("%25") },
	{ S("%0A"), false, COORD_OK, S("\n") },
	{ S("%7F"), false, COORD_OK, S("\x7f") },
	{ S("a+b"), false, COORD_OK, S("a+b") },
	{ S("a+b"), true, COORD_OK, S("a b") },
	{ S("+"), true, COORD_OK, S(" ") },
	{ S("++"), true, COORD_OK, S("  ") },
	{ S("%2B"), true, COORD_OK, S("+") },
	{ S("%2B"), false, COORD_OK, S("+") },
	{ S("%C3%A9"), false, COORD_OK, S("\xc3\xa9") },
	{ S("%c3%a9"), true, COORD_OK, S("\xc3\xa9") },
	{ S("%E2%82%AC"), false, COORD_OK, S("\xe2\x82\xac") },
	{ S("\xc3\xa9"), false, COORD_OK, S("\xc3\xa9") },
	{ S("%F0%9F%98%80"), false, COORD_OK, S("\xf0\x9f\x98\x80") },
	{ S("%zz"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%zz"), true, COORD_ERR_INVALID, NULL, 0 },
	{ S("%4"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%4"), true, COORD_ERR_INVALID, NULL, 0 },
	{ S("a%4"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("abc%"), true, COORD_ERR_INVALID, NULL, 0 },
	{ S("%%41"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%G1"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%1G"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%-1"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("% 1"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%+1"), true, COORD_ERR_INVALID, NULL, 0 },
	{ S("%\xc3\xa9"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%00"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%00"), true, COORD_ERR_INVALID, NULL, 0 },
	{ S("a%00b"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("a\0b"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("\0"), true, COORD_ERR_INVALID, NULL, 0 },
	{ S("%C3"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%C3x"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%FF"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%C0%80"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%C0%AF"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%ED%A0%80"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("%F4%90%80%80"), true, COORD_ERR_INVALID, NULL, 0 },
	{ S("%E2%82"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("\xff"), false, COORD_ERR_INVALID, NULL, 0 },
	{ S("a\x80"), true, COORD_ERR_INVALID, NULL, 0 },
	{ "%41%", 3, false, COORD_OK, S("A") }, /* the length is respected */
};

static void test_pct(void)
{
	for (size_t i = 0; i < N(pct_cases); i++) {
		char *out = malloc(pct_cases[i].len + 1);
		size_t outlen = 9999;
		enum coord_err e = coord_pct_decode(pct_cases[i].in, pct_cases[i].len,
						    pct_cases[i].plus_is_space, out, &outlen);
		bool good = e == pct_cases[i].want;
		if (good && e == COORD_OK)
			good = outlen == pct_cases[i].outlen &&
			       memcmp(out, pct_cases[i].out, outlen) == 0 && out[outlen] == '\0';
		ok(good, "pct_decode #%zu \"%s\" plus=%d -> %s", i, show(pct_cases[i].in, pct_cases[i].len), pct_cases[i].plus_is_space, err_name(pct_cases[i].want));
		free(out);
	}
}

/* ---- query strings ---- */

struct lookup {
	const char *name;
	const char *value; /* NULL: absent */
	size_t value_len;
};

#define NOVAL NULL, 0

static const struct {
	const char *qs;
	size_t len;
	enum coord_err want;
	size_t n;
	struct lookup get[3];
} query_cases[] = {
	{ S(""), COORD_OK, 0, { { "limit", NOVAL } } },
	{ S("limit=10"), COORD_OK, 1, { { "limit", S("10") }, { "offset", NOVAL } } },
	{ S("limit=10&offset=5"), COORD_OK, 2, { { "limit", S("10") }, { "offset", S("5") } } },
	{ S("limit=10&limit=20"), COORD_OK, 2, { { "limit", S("20") } } },
	{ S("limit=10&x=1&limit=30"), COORD_OK, 3, { { "limit", S("30") }, { "x", S("1") } } },
	{ S("limit"), COORD_OK, 1, { { "limit", S("") } } },
	{ S("limit="), COORD_OK, 1, { { "limit", S("") } } },
	{ S("limit=5&limit"), COORD_OK, 2, { { "limit", S("") } } },
	{ S("limit&limit=7"), COORD_OK, 2, { { "limit", S("7") } } },
	{ S("a=1&&b=2"), COORD_OK, 2, { { "a", S("1") }, { "b", S("2") } } },
	{ S("&&"), COORD_OK, 0, { { "", NOVAL } } },
	{ S("&"), COORD_OK, 0, { { "", NOVAL } } },
	{ S("&a=1&"), COORD_OK, 1, { { "a", S("1") } } },
	{ S("q=a+b"), COORD_OK, 1, { { "q", S("a b") } } },
	{ S("q=a%2Bb"), COORD_OK, 1, { { "q", S("a+b") } } },
	{ S("q=a%20b"), COORD_OK, 1, { { "q", S("a b") } } },
	{ S("a+b=1"), COORD_OK, 1, { { "a b", S("1") }, { "a+b", NOVAL } } },
	{ S("a%5Fb=1"), COORD_OK, 1, { { "a_b", S("1") } } },
	{ S("a=1=2"), COORD_OK, 1, { { "a", S("1=2") } } },
	{ S("a=%3D"), COORD_OK, 1, { { "a", S("=") } } },
	{ S("a=%26&b=2"), COORD_OK, 2, { { "a", S("&") }, { "b", S("2") } } },
	{ S("a=%C3%A9"), COORD_OK, 1, { { "a", S("\xc3\xa9") } } },
	{ S("a=%2F"), COORD_OK, 1, { { "a", S("/") } } },
	{ S("Limit=5"), COORD_OK, 1, { { "limit", NOVAL }, { "Limit", S("5") } } },
	{ S("=5"), COORD_OK, 1, { { "", S("5") } } },
	{ S("a=1"), COORD_OK, 1, { { "b", NOVAL }, { "a=1", NOVAL } } },
	{ S("q=%zz"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("a=1&b=%zz&c=3"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("a=1&b=2&c=%4"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("a=1&b=2&%zz=3"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("%zz"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("q=%"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("q=1%"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("a=%00"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("a%00=1"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("a=1\0"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("a=%FF"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("a=%C3"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("%C3%A9=1&x=%ED%A0%80"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("a=\xff"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("\xc0\x80=1"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
	{ S("limit=10&limit=%zz"), COORD_ERR_INVALID, 0, { { NULL, NOVAL } } },
};

static void test_query(void)
{
	for (size_t i = 0; i < N(query_cases); i++) {
		struct coord_arena arena = COORD_ARENA_INIT;
		struct coord_query q;
		enum coord_err e = coord_query_parse(&arena, query_cases[i].qs, query_cases[i].len,
						     &q);
		bool good = e == query_cases[i].want;
		if (good && e == COORD_OK) {
			good = q.n == query_cases[i].n;
			for (size_t k = 0; good && k < N(query_cases[i].get); k++) {
				const struct lookup *l = &query_cases[i].get[k];
				if (!l->name)
					break;
				const struct coord_query_param *p = coord_query_get(&q, l->name);
				if (!l->value)
					good = p == NULL;
				else
					good = p && p->value_len == l->value_len &&
					       memcmp(p->value, l->value, l->value_len) == 0 &&
					       p->value[p->value_len] == '\0';
			}
		}
		ok(good, "query_parse #%zu \"%s\" -> %s, %zu params", i, show(query_cases[i].qs, query_cases[i].len), err_name(query_cases[i].want), query_cases[i].n);
		coord_arena_release(&arena);
	}
}

/* ---- crypto ---- */

static const struct {
	const char *data;
	size_t len;
	const char *hex;
} sha_cases[] = {
	{ S(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ S("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ S("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ S("The quick brown fox jumps over the lazy dog"),
	  "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592" },
	{ S("a\0b"), "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138" },
	{ S("\xff\xfe"), "b3d510ef04275ca8e698e5b3cbb0ece3949ef9252f0cdc839e9ee347409a2209" },
};

static void test_sha256(void)
{
	for (size_t i = 0; i < N(sha_cases); i++) {
		char out[65];
		memset(out, 'X', sizeof(out));
		coord_sha256_hex(sha_cases[i].data, sha_cases[i].len, out);
		ok(strcmp(out, sha_cases[i].hex) == 0, "sha256 #%zu -> %s (got %.65s)", i,
		   sha_cases[i].hex, out);
	}
	/* FIPS 180-2 long vector: one million 'a' */
	char *million = malloc(1000000);
	memset(million, 'a', 1000000);
	char out[65];
	coord_sha256_hex(million, 1000000, out);
	ok(strcmp(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
	   "sha256 of 10^6 'a' (got %s)", out);
	free(million);
}

static const struct {
	const char *a, *b;
	size_t len;
	bool equal;
} ct_cases[] = {
	{ "", "", 0, true },
	{ "abc", "abc", 3, true },
	{ "abc", "abd", 3, false },
	{ "abc", "xbc", 3, false },
	{ "abc", "abd", 2, true },
	{ "a\0b", "a\0c", 3, false }, /* not a string comparison */
	{ "a\0b", "a\0b", 3, true },
	{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856", 64, false },
	{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 64, true },
};

static void test_ct_equal(void)
{
	for (size_t i = 0; i < N(ct_cases); i++)
		ok(coord_ct_equal(ct_cases[i].a, ct_cases[i].b, ct_cases[i].len) == ct_cases[i].equal,
		   "ct_equal #%zu len %zu -> %d", i, ct_cases[i].len, ct_cases[i].equal);
}

static void test_random_hex(void)
{
	static const size_t sizes[] = { 0, 1, 16, 32, 64 };
	for (size_t i = 0; i < N(sizes); i++) {
		size_t n = sizes[i];
		char a[130], b[130];
		memset(a, 'X', sizeof(a));
		memset(b, 'X', sizeof(b));
		enum coord_err ea = coord_random_hex(n, a);
		enum coord_err eb = coord_random_hex(n, b);
		bool good = ea == COORD_OK && eb == COORD_OK && strlen(a) == 2 * n &&
			    strlen(b) == 2 * n && coord_lowerhex_valid(a, 2 * n, 2 * n);
		/* 128 bits or more colliding would mean no randomness at all */
		if (good && n >= 16)
			good = strcmp(a, b) != 0;
		ok(good, "random_hex #%zu n=%zu -> %zu lower-case hex chars, two draws differ", i, n,
		   2 * n);
	}
}

/* ---- coord_buf ---- */

static const size_t buf_sizes[] = { 0, 1, 62, 63, 64, 65, 127, 255, 256, 257, 1000, 4096, 100000 };

static void test_buf(void)
{
	struct coord_buf e = COORD_BUF_INIT;
	ok(strcmp(coord_buf_str(&e), "") == 0 && e.len == 0 && e.ptr == NULL,
	   "buf: initialised buffer is \"\"");

	for (size_t i = 0; i < N(buf_sizes); i++) {
		size_t n = buf_sizes[i];
		char *want = malloc(n + 1);
		for (size_t k = 0; k < n; k++)
			want[k] = (char)('a' + k % 26);
		want[n] = '\0';

		/* one char at a time */
		struct coord_buf b;
		coord_buf_init(&b);
		for (size_t k = 0; k < n; k++)
			coord_buf_addch(&b, want[k]);
		ok(b.len == n && (n == 0 || (b.cap > b.len && b.ptr[b.len] == '\0')) &&
			   strcmp(coord_buf_str(&b), want) == 0,
		   "buf_addch x%zu: len, cap > len, NUL-terminated", n);
		coord_buf_release(&b);
		ok(b.ptr == NULL && b.len == 0 && b.cap == 0, "buf_release after %zu", n);

		/* addf, both below and above its 256-byte stack buffer */
		coord_buf_adds(&b, "<");
		coord_buf_addf(&b, "%s|%zu", want, n);
		char tail[32];
		size_t tlen = (size_t)snprintf(tail, sizeof(tail), "|%zu", n);
		ok(b.len == 1 + n + tlen && b.ptr[0] == '<' && memcmp(b.ptr + 1, want, n) == 0 &&
			   memcmp(b.ptr + 1 + n, tail, tlen) == 0 && b.ptr[b.len] == '\0' &&
			   b.cap > b.len,
		   "buf_addf of %zu bytes after a prefix", n);

		/* reset keeps memory; add with embedded NUL */
		size_t cap = b.cap;
		coord_buf_reset(&b);
		ok(b.len == 0 && b.cap == cap && b.ptr[0] == '\0', "buf_reset after %zu", n);
		coord_buf_add(&b, "x\0y", 3);
		coord_buf_add(&b, want, n);
		ok(b.len == 3 + n && memcmp(b.ptr, "x\0y", 3) == 0 &&
			   memcmp(b.ptr + 3, want, n) == 0 && b.ptr[b.len] == '\0',
		   "buf_add with embedded NUL, then %zu bytes", n);

		size_t dlen = 0;
		char *d = coord_buf_detach(&b, &dlen);
		ok(d && dlen == 3 + n && d[dlen] == '\0' && b.ptr == NULL && b.len == 0,
		   "buf_detach after %zu", n);
		free(d);
		free(want);
	}
	size_t dlen = 99;
	char *d = coord_buf_detach(&e, &dlen);
	ok(d && dlen == 0 && d[0] == '\0', "buf_detach of an empty buffer gives \"\"");
	free(d);
}

int main(void)
{
	test_i64();
	test_money();
	test_money_cmp();
	test_bool();
	test_utf8();
	test_uuid();
	test_hex();
	test_anyhex();
	test_grant_amount();
	test_pct();
	test_query();
	test_sha256();
	test_ct_equal();
	test_random_hex();
	test_buf();
	return tap_done();
}
