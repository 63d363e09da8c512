/*
 * Table-driven tests of lib/coord_json: strict parsing (SPEC §1.3: 400
 * for syntax, 422 with details.field for out-of-range integers and
 * U+0000), field validation against a declared table, and the output
 * form of SPEC §1.1.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "coord_json.h"
#include "tap.h"
#include "banned.h"

#define S(x) x, sizeof(x) - 1
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *str_or(const char *s)
{
	return s ? s : "(null)";
}

/* ---- coord_json_parse ---- */

static const struct {
	const char *body;
	size_t len;
	int status; /* 0: parsed */
	const char *field; /* 422 only */
	const char *reason;
} parse_cases[] = {
	/* accepted */
	{ S("{}"), 0, NULL, NULL },
	{ S("{\"a\":1}"), 0, NULL, NULL },
	{ S(" \t\r\n{ \"a\" : [ 1 , 2.5 , -3e2 , true , false , null , \"x\" ] }\n"), 0, NULL,
	  NULL },
	{ S("[]"), 0, NULL, NULL },
	{ S("[1,[2,[3]]]"), 0, NULL, NULL },
	{ S("\"str\""), 0, NULL, NULL },
	{ S("123"), 0, NULL, NULL },
	{ S("0"), 0, NULL, NULL },
	{ S("-0"), 0, NULL, NULL },
	{ S("true"), 0, NULL, NULL },
	{ S("1.5e-3"), 0, NULL, NULL },
	{ S("{\"a\":0.0,\"b\":-0.5,\"c\":1E+2,\"d\":1e-2}"), 0, NULL, NULL },
	{ S("{\"a\":1e400}"), 0, NULL, NULL },
	{ S("{\"a\":18446744073709551616.0}"), 0, NULL, NULL }, /* not an integer literal */
	{ S("{\"a\":\"\\u00e9\\n\\\"\\\\\\/\\b\\f\\r\\t\"}"), 0, NULL, NULL },
	{ S("{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\"}"), 0, NULL, NULL },
	{ S("{\"\\u0041\":1}"), 0, NULL, NULL },
	{ S("{\"a\":\"\x7f\"}"), 0, NULL, NULL },
	{ S("{\"a\":18446744073709551615}"), 0, NULL, NULL },
	{ S("{\"a\":9223372036854775808}"), 0, NULL, NULL },
	{ S("{\"a\":-9223372036854775808}"), 0, NULL, NULL },
	{ S("{\"a\":\"\\u0001\"}"), 0, NULL, NULL },
	{ S("{\"a\":1,\"a\":2}"), 0, NULL, NULL },
	{ S("{\"a\":\"\\\\u0000\"}"), 0, NULL, NULL }, /* an escaped backslash, then text */
	/* 400: syntax */
	{ S(""), 400, NULL, NULL },
	{ S(" "), 400, NULL, NULL },
	{ S("NaN"), 400, NULL, NULL },
	{ S("{\"a\":NaN}"), 400, NULL, NULL },
	{ S("{\"a\":nan}"), 400, NULL, NULL },
	{ S("{\"a\":Infinity}"), 400, NULL, NULL },
	{ S("{\"a\":-Infinity}"), 400, NULL, NULL },
	{ S("{\"a\":infinity}"), 400, NULL, NULL },
	{ S("[Infinity]"), 400, NULL, NULL },
	{ S("-Infinity"), 400, NULL, NULL },
	{ S("{\"a\":\"x\ty\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"x\ny\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\x01\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\x1f\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"x\0y\"}"), 400, NULL, NULL },
	{ S("{\"a\x01\":1}"), 400, NULL, NULL },
	{ S("{\"a\":1}x"), 400, NULL, NULL },
	{ S("{\"a\":1}}"), 400, NULL, NULL },
	{ S("{\"a\":1} {}"), 400, NULL, NULL },
	{ S("{\"a\":1}\0"), 400, NULL, NULL },
	{ S("{} ,"), 400, NULL, NULL },
	{ S("{\"a\":\"\xff\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\xc0\x80\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\xed\xa0\x80\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\xc3\"}"), 400, NULL, NULL },
	{ S("{\"\xfe\":1}"), 400, NULL, NULL },
	{ S("{\"a\":1}\xff"), 400, NULL, NULL },
	{ S("\xef\xbb\xbf{}"), 400, NULL, NULL }, /* BOM */
	{ S("{\"a\":\"abc"), 400, NULL, NULL },
	{ S("{\"a\":\"abc\\\"}"), 400, NULL, NULL },
	{ S("\""), 400, NULL, NULL },
	{ S("{\"a"), 400, NULL, NULL },
	{ S("{\"a\":\"\\x\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\\'\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\\u12\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\\u12g4\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\\U0041\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\\"), 400, NULL, NULL },
	{ S("{\"a\":\"\\u00"), 400, NULL, NULL },
	{ S("{\"a\":01}"), 400, NULL, NULL },
	{ S("{\"a\":-01}"), 400, NULL, NULL },
	{ S("{\"a\":00}"), 400, NULL, NULL },
	{ S("007"), 400, NULL, NULL },
	{ S("{\"a\":1.}"), 400, NULL, NULL },
	{ S("1."), 400, NULL, NULL },
	{ S("{\"a\":.5}"), 400, NULL, NULL },
	{ S("{\"a\":1e}"), 400, NULL, NULL },
	{ S("{\"a\":1e+}"), 400, NULL, NULL },
	{ S("{\"a\":+1}"), 400, NULL, NULL },
	{ S("{\"a\":-}"), 400, NULL, NULL },
	{ S("-"), 400, NULL, NULL },
	{ S("{\"a\":0x10}"), 400, NULL, NULL },
	{ S("{\"a\":1_000}"), 400, NULL, NULL },
	{ S("{a:1}"), 400, NULL, NULL },
	{ S("{'a':1}"), 400, NULL, NULL },
	{ S("{\"a\":'x'}"), 400, NULL, NULL },
	{ S("{\"a\":1,}"), 400, NULL, NULL },
	{ S("[1,]"), 400, NULL, NULL },
	{ S("[,1]"), 400, NULL, NULL },
	{ S("[1 2]"), 400, NULL, NULL },
	{ S("{\"a\" 1}"), 400, NULL, NULL },
	{ S("{\"a\"::1}"), 400, NULL, NULL },
	{ S("{\"a\":1 \"b\":2}"), 400, NULL, NULL },
	{ S("{\"a\":tru}"), 400, NULL, NULL },
	{ S("{\"a\":True}"), 400, NULL, NULL },
	{ S("{\"a\":nul}"), 400, NULL, NULL },
	{ S("{\"a\":undefined}"), 400, NULL, NULL },
	{ S("/* c */{}"), 400, NULL, NULL },
	{ S("{}// c"), 400, NULL, NULL },
	{ S("{\"a\":1"), 400, NULL, NULL },
	{ S("[1"), 400, NULL, NULL },
	{ S("{"), 400, NULL, NULL },
	{ S("}"), 400, NULL, NULL },
	{ S("{\x0c}"), 400, NULL, NULL }, /* form feed is not JSON whitespace */
	{ S("{\x0b}"), 400, NULL, NULL },
	{ S("{\xc2\xa0}"), 400, NULL, NULL }, /* NO-BREAK SPACE */
	{ S("\0"), 400, NULL, NULL },
	/* 422: integer literal out of -2^63..2^64-1, U+0000 in a string */
	{ S("{\"a\":{\"b\":[0,1,18446744073709551616]}}"), 422, "a.b[2]", "range" },
	{ S("{\"a\":-9223372036854775809}"), 422, "a", "range" },
	{ S("{\"a\":99999999999999999999999}"), 422, "a", "range" },
	{ S("{\"a\":-99999999999999999999999}"), 422, "a", "range" },
	{ S("{\"x\":1,\"resource_limits\":{\"max_instructions\":18446744073709551616}}"), 422,
	  "resource_limits.max_instructions", "range" },
	{ S("{\"keys\":[0,1,2,18446744073709551616]}"), 422, "keys[3]", "range" },
	{ S("{\"k\":[[1],[2,18446744073709551616]]}"), 422, "k[1][1]", "range" },
	{ S("[0,[0,0,{\"z\":-18446744073709551615}]]"), 422, "[1][2].z", "range" },
	{ S("18446744073709551616"), 422, "", "range" },
	{ S("{\"a\":[1,{\"b\":\"x\\u0000y\"}]}"), 422, "a[1].b", "format" },
	{ S("{\"a\":{\"b\":{\"c\":\"\\u0000\"}}}"), 422, "a.b.c", "format" },
	{ S("[\"ok\",\"\\u0000\"]"), 422, "[1]", "format" },
	{ S("\"\\u0000\""), 422, "", "format" },
	{ S("{\"\\u0000\":1}"), 422, "", "format" }, /* a member name is a string too */
	{ S("{\"a\":\"\\\\\\u0000\"}"), 422, "a", "format" }, /* backslash, then U+0000 */
	{ S("{\"code_source\":{\"type\":\"a\\u0000\"}}"), 422, "code_source.type", "format" },
	{ S("{\"\\u0041\":{\"b\":18446744073709551616}}"), 422, "A.b", "range" },
	/* the first 422 is reported */
	{ S("{\"a\":18446744073709551616,\"b\":\"\\u0000\"}"), 422, "a", "range" },
	{ S("{\"a\":\"\\u0000\",\"b\":18446744073709551616}"), 422, "a", "format" },
	/* a 400 anywhere wins over an earlier 422 */
	{ S("{\"a\":18446744073709551616,\"b\":NaN}"), 400, NULL, NULL },
	{ S("{\"a\":\"\\u0000\",\"b\":1.}"), 400, NULL, NULL },
	{ S("{\"a\":18446744073709551616} x"), 400, NULL, NULL },
	{ S("{\"a\":18446744073709551616"), 400, NULL, NULL },
	{ S("{\"a\":\"\\u0000\",\"b\":\"\xff\"}"), 400, NULL, NULL },
	{ S("{\"a\":\"\\u0000\",\"b\":\"\t\"}"), 400, NULL, NULL },
	{ S("[18446744073709551616,\"\\q\"]"), 400, NULL, NULL },
	/* the root must be an object: null is "no value" and refused here */
	{ S("null"), 422, NULL, NULL },
	{ S(" null "), 422, NULL, NULL },
};

static void test_parse(void)
{
	for (size_t i = 0; i < N(parse_cases); i++) {
		struct coord_json_problem p;
		memset(&p, 0x5a, sizeof(p));
		json_object *root = coord_json_parse(parse_cases[i].body, parse_cases[i].len, &p);
		bool good;
		if (parse_cases[i].status == 0) {
			good = root != NULL;
		} else {
			good = root == NULL && p.status == parse_cases[i].status;
			if (good && parse_cases[i].field)
				good = p.reason && strcmp(p.reason, parse_cases[i].reason) == 0 &&
				       strcmp(p.field, parse_cases[i].field) == 0;
			if (good)
				good = p.message != NULL;
		}
		ok(good, "json_parse #%zu %s -> %d%s%s%s%s (got %d%s%s%s%s)", i,
		   show(parse_cases[i].body, parse_cases[i].len), parse_cases[i].status,
		   parse_cases[i].field ? " field=" : "",
		   parse_cases[i].field ? parse_cases[i].field : "",
		   parse_cases[i].reason ? " reason=" : "",
		   parse_cases[i].reason ? parse_cases[i].reason : "", root ? 0 : p.status,
		   root ? "" : " field=", root ? "" : show(p.field, strnlen(p.field, sizeof(p.field))),
		   root ? "" : " reason=", root ? "" : (p.status == 422 ? str_or(p.reason) : "-"));
		json_object_put(root);
	}
}

/* Nesting: 64 levels are accepted, 65 refused (400). */
static const struct {
	int depth;
	int kind; /* 0 arrays, 1 objects, 2 alternating */
	int status;
} depth_cases[] = {
	{ 1, 0, 0 },    { 32, 0, 0 },   { 33, 0, 0 },   { 63, 0, 0 },  { 64, 0, 0 },
	{ 65, 0, 400 }, { 66, 0, 400 }, { 1000, 0, 400 }, { 64, 1, 0 }, { 65, 1, 400 },
	{ 64, 2, 0 },   { 65, 2, 400 }, { 100000, 1, 400 },
};

static char *nested(int depth, int kind, size_t *len)
{
	size_t cap = (size_t)depth * 8 + 8, o = 0;
	char *s = malloc(cap);
	for (int d = 0; d < depth; d++) {
		bool obj = kind == 1 || (kind == 2 && d % 2);
		o += (size_t)snprintf(s + o, cap - o, "%s", obj ? "{\"k\":" : "[");
	}
	s[o++] = '1';
	for (int d = depth - 1; d >= 0; d--) {
		bool obj = kind == 1 || (kind == 2 && d % 2);
		s[o++] = obj ? '}' : ']';
	}
	s[o] = '\0';
	*len = o;
	return s;
}

static void test_depth(void)
{
	for (size_t i = 0; i < N(depth_cases); i++) {
		size_t len;
		char *body = nested(depth_cases[i].depth, depth_cases[i].kind, &len);
		struct coord_json_problem p;
		json_object *root = coord_json_parse(body, len, &p);
		bool good = depth_cases[i].status == 0 ? root != NULL
						       : root == NULL && p.status == 400;
		ok(good, "json_parse depth %d (%s) -> %d (got %d)", depth_cases[i].depth,
		   depth_cases[i].kind == 0 ? "arrays" : depth_cases[i].kind == 1 ? "objects" : "mixed",
		   depth_cases[i].status, root ? 0 : p.status);
		json_object_put(root);
		free(body);
	}
}

/* ---- coord_json_fields ---- */

static const char *const colors[] = { "red", "green", NULL };

enum { F_NAME, F_COUNT, F_BIG, F_U64, F_FLAG, F_OBJ, F_ARR, F_ID, F_COLOR, F_AMOUNT, F_BYTES,
       NFIELDS };

static const struct coord_field fields[NFIELDS] = {
	[F_NAME] = { "name", COORD_FT_STRING, true, 1, 10, NULL },
	[F_COUNT] = { "count", COORD_FT_INT, true, 0, 100, NULL },
	[F_BIG] = { "big", COORD_FT_INT, false, INT64_MIN, INT64_MAX, NULL },
	[F_U64] = { "u64", COORD_FT_INT, false, 0, INT64_MAX, NULL },
	[F_FLAG] = { "flag", COORD_FT_BOOL, false, 0, 0, NULL },
	[F_OBJ] = { "obj", COORD_FT_OBJECT, false, 0, 0, NULL },
	[F_ARR] = { "arr", COORD_FT_ARRAY, false, 0, 0, NULL },
	[F_ID] = { "id", COORD_FT_UUID, false, 0, 0, NULL },
	[F_COLOR] = { "color", COORD_FT_STRING, false, 0, 0, colors },
	[F_AMOUNT] = { "amount", COORD_FT_MONEY, false, 0, 0, NULL },
	[F_BYTES] = { "bytes", COORD_FT_BYTES, false, 0, 0, NULL },
};

/* What a passing case must have read: one field's value. */
struct expect {
	int field; /* -1: nothing to check */
	bool present;
	const char *s; /* strings */
	int64_t i;     /* ints */
	bool b;        /* booleans */
};

#define NOCHECK { -1, false, NULL, 0, false }
#define BASE "\"name\":\"bob\",\"count\":5"

static const struct {
	const char *body;
	const char *prefix;
	bool valid;
	const char *field;
	const char *reason;
	struct expect e;
} field_cases[] = {
	{ "{" BASE "}", "", true, NULL, NULL, { F_NAME, true, "bob", 0, false } },
	{ "{" BASE "}", "", true, NULL, NULL, { F_COUNT, true, NULL, 5, false } },
	{ "{" BASE "}", "", true, NULL, NULL, { F_FLAG, false, NULL, 0, false } },
	{ "{" BASE "}", "", true, NULL, NULL, { F_BIG, false, NULL, 0, false } },
	/* required: missing or null */
	{ "{\"count\":5}", "", false, "name", "missing", NOCHECK },
	{ "{\"name\":null,\"count\":5}", "", false, "name", "missing", NOCHECK },
	{ "{\"name\":\"bob\"}", "", false, "count", "missing", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":null}", "", false, "count", "missing", NOCHECK },
	{ "{}", "", false, "name", "missing", NOCHECK },
	{ "{\"Name\":\"bob\",\"count\":5}", "", false, "name", "missing", NOCHECK },
	{ "{\"count\":\"x\"}", "", false, "name", "missing", NOCHECK }, /* declaration order */
	{ "{\"count\":5}", "resource_limits", false, "resource_limits.name", "missing",
	  NOCHECK },
	{ "{\"name\":\"bob\",\"count\":1000}", "a.b", false, "a.b.count", "range", NOCHECK },
	/* optional: null is absent */
	{ "{" BASE ",\"flag\":null}", "", true, NULL, NULL, { F_FLAG, false, NULL, 0, false } },
	{ "{" BASE ",\"id\":null}", "", true, NULL, NULL, { F_ID, false, NULL, 0, false } },
	/* wrong types */
	{ "{\"name\":1,\"count\":5}", "", false, "name", "type", NOCHECK },
	{ "{\"name\":[\"a\"],\"count\":5}", "", false, "name", "type", NOCHECK },
	{ "{\"name\":true,\"count\":5}", "", false, "name", "type", NOCHECK },
	{ "{\"name\":{},\"count\":5}", "", false, "name", "type", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":\"5\"}", "", false, "count", "type", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":5.0}", "", false, "count", "type", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":1.0}", "", false, "count", "type", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":1e2}", "", false, "count", "type", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":5e0}", "", false, "count", "type", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":1E1}", "", false, "count", "type", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":true}", "", false, "count", "type", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":[5]}", "", false, "count", "type", NOCHECK },
	{ "{" BASE ",\"flag\":\"true\"}", "", false, "flag", "type", NOCHECK },
	{ "{" BASE ",\"flag\":1}", "", false, "flag", "type", NOCHECK },
	{ "{" BASE ",\"flag\":0}", "", false, "flag", "type", NOCHECK },
	{ "{" BASE ",\"obj\":[]}", "", false, "obj", "type", NOCHECK },
	{ "{" BASE ",\"obj\":\"{}\"}", "", false, "obj", "type", NOCHECK },
	{ "{" BASE ",\"arr\":{}}", "", false, "arr", "type", NOCHECK },
	{ "{" BASE ",\"arr\":\"[]\"}", "", false, "arr", "type", NOCHECK },
	{ "{" BASE ",\"id\":5}", "", false, "id", "type", NOCHECK },
	{ "{" BASE ",\"color\":1}", "", false, "color", "type", NOCHECK },
	/* integer bounds */
	{ "{\"name\":\"bob\",\"count\":0}", "", true, NULL, NULL, { F_COUNT, true, NULL, 0, false } },
	{ "{\"name\":\"bob\",\"count\":-0}", "", true, NULL, NULL, { F_COUNT, true, NULL, 0, false } },
	{ "{\"name\":\"bob\",\"count\":100}", "", true, NULL, NULL,
	  { F_COUNT, true, NULL, 100, false } },
	{ "{\"name\":\"bob\",\"count\":-1}", "", false, "count", "range", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":101}", "", false, "count", "range", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":9223372036854775807}", "", false, "count", "range", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":18446744073709551615}", "", false, "count", "range", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":-9223372036854775808}", "", false, "count", "range", NOCHECK },
	{ "{" BASE ",\"big\":9223372036854775807}", "", true, NULL, NULL,
	  { F_BIG, true, NULL, INT64_MAX, false } },
	{ "{" BASE ",\"big\":-9223372036854775808}", "", true, NULL, NULL,
	  { F_BIG, true, NULL, INT64_MIN, false } },
	{ "{" BASE ",\"big\":9223372036854775808}", "", false, "big", "range", NOCHECK },
	{ "{" BASE ",\"big\":18446744073709551615}", "", false, "big", "range", NOCHECK },
	{ "{" BASE ",\"u64\":9223372036854775807}", "", true, NULL, NULL,
	  { F_U64, true, NULL, INT64_MAX, false } },
	{ "{" BASE ",\"u64\":9223372036854775808}", "", false, "u64", "range", NOCHECK },
	{ "{" BASE ",\"u64\":-1}", "", false, "u64", "range", NOCHECK },
	{ "{" BASE ",\"u64\":0}", "", true, NULL, NULL, { F_U64, true, NULL, 0, false } },
	/* string lengths in characters */
	{ "{\"name\":\"\",\"count\":5}", "", false, "name", "range", NOCHECK },
	{ "{\"name\":\"a\",\"count\":5}", "", true, NULL, NULL, { F_NAME, true, "a", 0, false } },
	{ "{\"name\":\"abcdefghij\",\"count\":5}", "", true, NULL, NULL,
	  { F_NAME, true, "abcdefghij", 0, false } },
	{ "{\"name\":\"abcdefghijk\",\"count\":5}", "", false, "name", "range", NOCHECK },
	{ "{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\","
	  "\"count\":5}", "", true, NULL, NULL,
	  { F_NAME, true, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    0, false } },
	{ "{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	  "\xc3\xa9\",\"count\":5}", "", false, "name", "range", NOCHECK },
	{ "{\"name\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\","
	  "\"count\":5}", "", true, NULL, NULL, NOCHECK },
	{ "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\","
	  "\"count\":5}", "", true, NULL, NULL, NOCHECK },
	{ "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
	  "\\u00e9\",\"count\":5}", "", false, "name", "range", NOCHECK },
	/* enums */
	{ "{" BASE ",\"color\":\"red\"}", "", true, NULL, NULL, { F_COLOR, true, "red", 0, false } },
	{ "{" BASE ",\"color\":\"green\"}", "", true, NULL, NULL,
	  { F_COLOR, true, "green", 0, false } },
	{ "{" BASE ",\"color\":\"blue\"}", "", false, "color", "enum", NOCHECK },
	{ "{" BASE ",\"color\":\"Red\"}", "", false, "color", "enum", NOCHECK },
	{ "{" BASE ",\"color\":\"re\"}", "", false, "color", "enum", NOCHECK },
	{ "{" BASE ",\"color\":\"redx\"}", "", false, "color", "enum", NOCHECK },
	{ "{" BASE ",\"color\":\"red \"}", "", false, "color", "enum", NOCHECK },
	{ "{" BASE ",\"color\":\"\"}", "", false, "color", "enum", NOCHECK },
	/* UUIDs */
	{ "{" BASE ",\"id\":\"123e4567-e89b-12d3-a456-426614174000\"}", "", true, NULL, NULL,
	  { F_ID, true, "123e4567-e89b-12d3-a456-426614174000", 0, false } },
	{ "{" BASE ",\"id\":\"123E4567-E89B-12D3-A456-426614174000\"}", "", true, NULL, NULL,
	  NOCHECK },
	{ "{" BASE ",\"id\":\"not-a-uuid\"}", "", false, "id", "format", NOCHECK },
	{ "{" BASE ",\"id\":\"{123e4567-e89b-12d3-a456-426614174000}\"}", "", false, "id",
	  "format", NOCHECK },
	{ "{" BASE ",\"id\":\"123e4567e89b12d3a456426614174000\"}", "", false, "id", "format",
	  NOCHECK },
	{ "{" BASE ",\"id\":\"\"}", "", false, "id", "format", NOCHECK },
	/* money strings (SPEC §1.4): never numbers, leading zeros accepted */
	{ "{" BASE ",\"amount\":\"0\"}", "", true, NULL, NULL, { F_AMOUNT, true, "0", 0, false } },
	{ "{" BASE ",\"amount\":\"007\"}", "", true, NULL, NULL,
	  { F_AMOUNT, true, "007", 0, false } },
	{ "{" BASE ",\"amount\":\"99999999999999999999999999999999999999\"}", "", true, NULL, NULL,
	  { F_AMOUNT, true, "99999999999999999999999999999999999999", 0, false } },
	{ "{" BASE ",\"amount\":\"100000000000000000000000000000000000000\"}", "", false, "amount",
	  "format", NOCHECK },
	{ "{" BASE ",\"amount\":\"\"}", "", false, "amount", "format", NOCHECK },
	{ "{" BASE ",\"amount\":\"-1\"}", "", false, "amount", "format", NOCHECK },
	{ "{" BASE ",\"amount\":\"1.5\"}", "", false, "amount", "format", NOCHECK },
	{ "{" BASE ",\"amount\":\" 1\"}", "", false, "amount", "format", NOCHECK },
	{ "{" BASE ",\"amount\":\"1e3\"}", "", false, "amount", "format", NOCHECK },
	{ "{" BASE ",\"amount\":\"\uff11\"}", "", false, "amount", "format", NOCHECK },
	{ "{" BASE ",\"amount\":1000}", "", false, "amount", "type", NOCHECK },
	{ "{" BASE ",\"amount\":null}", "", true, NULL, NULL, { F_AMOUNT, false, NULL, 0, false } },
	/* booleans, containers */
	{ "{" BASE ",\"flag\":true}", "", true, NULL, NULL, { F_FLAG, true, NULL, 0, true } },
	{ "{" BASE ",\"flag\":false}", "", true, NULL, NULL, { F_FLAG, true, NULL, 0, false } },
	{ "{" BASE ",\"obj\":{}}", "", true, NULL, NULL, { F_OBJ, true, NULL, 0, false } },
	{ "{" BASE ",\"arr\":[]}", "", true, NULL, NULL, { F_ARR, true, NULL, 0, false } },
	/* byte arrays (SPEC §1.3): integers 0-255; e.i is the length, e.s the bytes */
	{ "{" BASE ",\"bytes\":[]}", "", true, NULL, NULL, { F_BYTES, true, "", 0, false } },
	{ "{" BASE ",\"bytes\":[0,1,255]}", "", true, NULL, NULL,
	  { F_BYTES, true, "\x00\x01\xff", 3, false } },
	{ "{" BASE ",\"bytes\":[ 104 , 105 ]}", "", true, NULL, NULL,
	  { F_BYTES, true, "hi", 2, false } },
	{ "{" BASE ",\"bytes\":[-0]}", "", true, NULL, NULL, { F_BYTES, true, "\x00", 1, false } },
	{ "{" BASE ",\"bytes\":null}", "", true, NULL, NULL, { F_BYTES, false, NULL, 0, false } },
	{ "{" BASE ",\"bytes\":[256]}", "", false, "bytes[0]", "range", NOCHECK },
	{ "{" BASE ",\"bytes\":[1,2,-1]}", "", false, "bytes[2]", "range", NOCHECK },
	{ "{" BASE ",\"bytes\":[1,18446744073709551615]}", "", false, "bytes[1]", "range",
	  NOCHECK },
	{ "{" BASE ",\"bytes\":[1,\"2\"]}", "", false, "bytes[1]", "type", NOCHECK },
	{ "{" BASE ",\"bytes\":[1.0]}", "", false, "bytes[0]", "type", NOCHECK },
	{ "{" BASE ",\"bytes\":[true]}", "", false, "bytes[0]", "type", NOCHECK },
	{ "{" BASE ",\"bytes\":[null]}", "", false, "bytes[0]", "type", NOCHECK },
	{ "{" BASE ",\"bytes\":[[1]]}", "", false, "bytes[0]", "type", NOCHECK },
	{ "{" BASE ",\"bytes\":\"AAE=\"}", "", false, "bytes", "type", NOCHECK },
	{ "{" BASE ",\"bytes\":{}}", "", false, "bytes", "type", NOCHECK },
	{ "{" BASE ",\"bytes\":[7,300]}", "v", false, "v.bytes[1]", "range", NOCHECK },
	/* unknown members ignored; duplicates: the last wins */
	{ "{" BASE ",\"zzz\":[1,2,{}],\"extra\":\"x\"}", "", true, NULL, NULL,
	  { F_COUNT, true, NULL, 5, false } },
	{ "{\"name\":\"bob\",\"count\":1,\"count\":7}", "", true, NULL, NULL,
	  { F_COUNT, true, NULL, 7, false } },
	{ "{\"name\":\"bob\",\"count\":\"x\",\"count\":7}", "", true, NULL, NULL,
	  { F_COUNT, true, NULL, 7, false } },
	{ "{\"name\":\"bob\",\"count\":7,\"count\":\"x\"}", "", false, "count", "type", NOCHECK },
	{ "{\"name\":\"bob\",\"count\":7,\"count\":null}", "", false, "count", "missing", NOCHECK },
	{ "{\"name\":\"a\",\"name\":\"bob\",\"count\":7}", "", true, NULL, NULL,
	  { F_NAME, true, "bob", 0, false } },
	/* the root is not an object */
	{ "[1]", "", false, "", "type", NOCHECK },
	{ "\"str\"", "", false, "", "type", NOCHECK },
	{ "5", "", false, "", "type", NOCHECK },
	{ "[]", "meta", false, "meta", "type", NOCHECK },
};

static void test_fields(void)
{
	for (size_t i = 0; i < N(field_cases); i++) {
		const char *body = field_cases[i].body;
		struct coord_json_problem p;
		json_object *root = coord_json_parse(body, strlen(body), &p);
		if (!root) {
			ok(false, "json_fields #%zu %s: parse failed (%d %s)", i, body, p.status,
			   str_or(p.message));
			continue;
		}
		struct coord_value values[NFIELDS];
		memset(values, 0x5a, sizeof(values));
		memset(&p, 0x5a, sizeof(p));
		bool v = coord_json_fields(root, field_cases[i].prefix, fields, NFIELDS, values, &p);
		bool good = v == field_cases[i].valid;
		if (good && !v)
			good = p.status == 422 && p.reason &&
			       strcmp(p.reason, field_cases[i].reason) == 0 &&
			       strcmp(p.field, field_cases[i].field) == 0 && p.message;
		const struct expect *e = &field_cases[i].e;
		if (good && v && e->field >= 0) {
			const struct coord_value *cv = &values[e->field];
			good = cv->present == e->present;
			if (good && e->present) {
				switch (fields[e->field].type) {
				case COORD_FT_STRING:
				case COORD_FT_UUID:
				case COORD_FT_MONEY:
					good = cv->s && cv->len == strlen(e->s) &&
					       memcmp(cv->s, e->s, cv->len) == 0 && cv->s[cv->len] == '\0';
					break;
				case COORD_FT_INT:
					good = cv->i == e->i;
					break;
				case COORD_FT_BOOL:
					good = cv->b == e->b;
					break;
				case COORD_FT_OBJECT:
				case COORD_FT_ARRAY:
					good = cv->obj != NULL;
					break;
				case COORD_FT_BYTES: {
					unsigned char copy[16];
					good = cv->len == (size_t)e->i && cv->len <= sizeof(copy);
					if (good) {
						coord_json_bytes_copy(cv->obj, copy);
						good = memcmp(copy, e->s, cv->len) == 0;
					}
					break;
				}
				}
			}
		}
		ok(good, "json_fields #%zu %s prefix=\"%s\" -> %s%s%s%s%s (got %s %s %s)", i,
		   show(body, strlen(body)), field_cases[i].prefix,
		   field_cases[i].valid ? "valid" : "422", field_cases[i].field ? " field=" : "",
		   field_cases[i].field ? field_cases[i].field : "",
		   field_cases[i].reason ? " reason=" : "",
		   field_cases[i].reason ? field_cases[i].reason : "", v ? "valid" : "422",
		   v ? "" : show(p.field, strnlen(p.field, sizeof(p.field))),
		   v ? "" : str_or(p.reason));
		json_object_put(root);
	}
}

/* ---- coord_json_strings: arrays of bounded strings (project_ids) ---- */

static const struct {
	const char *body;
	size_t max_items;
	int64_t min, max;
	bool valid;
	const char *field, *reason;
} strings_cases[] = {
	{ "[]", 3, 1, 4, true, NULL, NULL },
	{ "[\"a\",\"bcde\"]", 3, 1, 4, true, NULL, NULL },
	{ "[\"a\",\"b\",\"c\"]", 3, 1, 4, true, NULL, NULL },
	{ "[\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"]", 3, 1, 4, true, NULL, NULL },
	{ "[\"\",\"x\"]", 3, 0, 4, true, NULL, NULL },
	{ "[\"a\",\"b\",\"c\",\"d\"]", 3, 1, 4, false, "ids", "range" },
	{ "[\"a\",\"\"]", 3, 1, 4, false, "ids[1]", "range" },
	{ "[\"abcde\"]", 3, 1, 4, false, "ids[0]", "range" },
	{ "[\"a\",1]", 3, 1, 4, false, "ids[1]", "type" },
	{ "[\"a\",null]", 3, 1, 4, false, "ids[1]", "type" },
	{ "[[\"a\"]]", 3, 1, 4, false, "ids[0]", "type" },
	{ "\"a\"", 3, 1, 4, false, "ids", "type" },
	{ "{\"0\":\"a\"}", 3, 1, 4, false, "ids", "type" },
};

static void test_strings(void)
{
	for (size_t i = 0; i < N(strings_cases); i++) {
		const char *body = strings_cases[i].body;
		struct coord_json_problem p;
		json_object *root = coord_json_parse(body, strlen(body), &p);
		memset(&p, 0x5a, sizeof(p));
		bool v = root && coord_json_strings(root, "ids", strings_cases[i].max_items,
						    strings_cases[i].min, strings_cases[i].max, &p);
		bool good = root && v == strings_cases[i].valid;
		if (good && !v)
			good = p.status == 422 && strcmp(p.field, strings_cases[i].field) == 0 &&
			       strcmp(p.reason, strings_cases[i].reason) == 0;
		ok(good, "json_strings #%zu %s -> %s %s", i, show(body, strlen(body)),
		   strings_cases[i].valid ? "valid" : strings_cases[i].field,
		   strings_cases[i].valid ? "" : strings_cases[i].reason);
		json_object_put(root);
	}
}

/* ---- coord_json_text ---- */

static const struct {
	const char *in;
	const char *out;
} text_cases[] = {
	{ "{\"a\":\"x/y\"}", "{\"a\":\"x/y\"}" },
	{ "{\"a\":\"\\/\"}", "{\"a\":\"/\"}" },
	{ "{\"url\":\"https://h/p?q=1\"}", "{\"url\":\"https://h/p?q=1\"}" },
	{ "{\"a\":\"\\u0001\\u001F\"}", "{\"a\":\"\\u0001\\u001f\"}" },
	{ "{\"a\":\"\\u001b[0m\"}", "{\"a\":\"\\u001b[0m\"}" },
	{ "{\"a\":\"\\u000B\"}", "{\"a\":\"\\u000b\"}" },
	{ "{\"a\":\"\\b\\f\\n\\r\\t\"}", "{\"a\":\"\\b\\f\\n\\r\\t\"}" },
	{ "{\"a\":\"\\\"\\\\\"}", "{\"a\":\"\\\"\\\\\"}" },
	{ "{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\"}", "{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\"}" },
	{ "{\"a\":\"\\u00e9\"}", "{\"a\":\"\xc3\xa9\"}" },
	{ "{\"a\":\"\\u0041\"}", "{\"a\":\"A\"}" },
	{ "{\"a\":\"\\u007f\"}", "{\"a\":\"\x7f\"}" },
	{ "{ \"a\" : 1 , \"b\" : [ 1 , 2 ] , \"c\" : { } , \"d\" : null }",
	  "{\"a\":1,\"b\":[1,2],\"c\":{},\"d\":null}" },
	{ "{\"big\":18446744073709551615,\"neg\":-9223372036854775808}",
	  "{\"big\":18446744073709551615,\"neg\":-9223372036854775808}" },
	{ "[true,false]", "[true,false]" },
};

static void test_text(void)
{
	for (size_t i = 0; i < N(text_cases); i++) {
		struct coord_json_problem p;
		json_object *root = coord_json_parse(text_cases[i].in, strlen(text_cases[i].in), &p);
		size_t len = 0;
		const char *t = root ? coord_json_text(root, &len) : "";
		ok(root && len == strlen(text_cases[i].out) && strcmp(t, text_cases[i].out) == 0,
		   "json_text #%zu %s -> %s (got %s)", i,
		   show(text_cases[i].in, strlen(text_cases[i].in)),
		   show(text_cases[i].out, strlen(text_cases[i].out)), show(t, strlen(t)));
		json_object_put(root);
	}

	/* objects built in C */
	json_object *o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string("a/b\x01\x1f\"\\"));
	json_object_object_add(o, "money", coord_json_money("007"));
	json_object_object_add(o, "zero", coord_json_money("000"));
	size_t len = 0;
	const char *t = coord_json_text(o, &len);
	const char *want = "{\"path\":\"a/b\\u0001\\u001f\\\"\\\\\",\"money\":\"7\",\"zero\":\"0\"}";
	ok(strcmp(t, want) == 0 && len == strlen(want), "json_text of a built object -> %s (got %s)",
	   want, t);
	json_object_put(o);
}

/* ---- coord_json_byte_array: written straight into the text ---- */

static void test_byte_array(void)
{
	unsigned char all[256];
	char want[4096];
	size_t o = 0, len;
	want[o++] = '[';
	for (int i = 0; i < 256; i++) {
		all[i] = (unsigned char)i;
		o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%d", i ? "," : "", i);
	}
	want[o++] = ']';
	want[o] = '\0';
	json_object *a = coord_json_byte_array(all, 256);
	const char *t = coord_json_text(a, &len);
	ok(len == o && strcmp(t, want) == 0, "byte_array: all 256 values in order");
	json_object_put(a);

	json_object *root = json_object_new_object();
	json_object_object_add(root, "e", coord_json_byte_array(NULL, 0));
	json_object_object_add(root, "v", coord_json_byte_array((const unsigned char *)"\x00\x7f\x80", 3));
	t = coord_json_text(root, &len);
	ok(strcmp(t, "{\"e\":[],\"v\":[0,127,128]}") == 0, "byte_array: empty and inside an object (%s)",
	   t);
	json_object_put(root);

	/* a long value crosses the serialiser's chunks; parsing it back gives the same bytes */
	size_t n = 100000;
	unsigned char *big = malloc(n), *back = malloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 7 + i / 256);
	a = coord_json_byte_array(big, n);
	t = coord_json_text(a, &len);
	struct coord_json_problem p;
	json_object *parsed = coord_json_parse(t, len, &p);
	bool same = parsed && json_object_array_length(parsed) == n;
	if (same) {
		coord_json_bytes_copy(parsed, back);
		same = memcmp(big, back, n) == 0;
	}
	ok(same, "byte_array: 100000 bytes round-trip through the text");
	json_object_put(parsed);
	json_object_put(a);
	free(big);
	free(back);
}

int main(void)
{
	test_parse();
	test_depth();
	test_fields();
	test_text();
	test_byte_array();
	test_strings();
	return tap_done();
}
