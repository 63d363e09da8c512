/*
 * Table-driven tests of lib/coord_multipart: the boundary parameter of a
 * Content-Type, then hostile bodies. Every body is copied into a buffer of
 * exactly its length (no NUL after it), so a read past len is caught by
 * ASan or valgrind.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coord_buf.h"
#include "coord_mem.h"
#include "coord_multipart.h"
#include "tap.h"
#include "banned.h"

/* A string literal and its length (embedded NULs included). */
#define S(x) x, sizeof(x) - 1
#define N(a) (sizeof(a) / sizeof((a)[0]))

#define B "BOUNDARY"
/* 70 characters, the longest boundary, and 71 */
#define B70 "12345678901234567890123456789012345" "67890123456789012345678901234567890"
#define B71 B70 "1"
#define CD(name) "Content-Disposition: form-data; name=\"" name "\""

static const char *err_name(enum coord_err e)
{
	switch (e) {
	case COORD_OK: return "OK";
	case COORD_ERR_INVALID: return "INVALID";
	default: return "other";
	}
}

/* FNV-1a, 64 bits: a checksum of part data. */
static uint64_t fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* Parses an exact-size copy of body; the copy is returned in *copy (free it). */
static enum coord_err parse_copy(struct coord_arena *arena, const char *boundary,
				 const char *body, size_t len, char **copy,
				 struct coord_multipart_part **parts, size_t *n, const char **why)
{
	*copy = coord_xmalloc(len);
	if (len)
		memcpy(*copy, body, len);
	return coord_multipart_parse(arena, boundary, *copy, len, parts, n, why);
}

/* ---- coord_multipart_boundary ---- */

static const struct {
	const char *ct;
	enum coord_err want;
	const char *boundary;
} boundary_cases[] = {
	{ "multipart/form-data; boundary=" B, COORD_OK, B },
	{ "multipart/form-data;boundary=" B, COORD_OK, B },
	{ "multipart/form-data ; boundary=" B " ", COORD_OK, B },
	{ "\tmultipart/form-data;\t boundary=" B "\t", COORD_OK, B },
	{ "Multipart/Form-Data; Boundary=" B, COORD_OK, B },
	{ "MULTIPART/FORM-DATA; BOUNDARY=abc", COORD_OK, "abc" },
	{ "multipart/form-data; boundary=\"" B "\"", COORD_OK, B },
	{ "multipart/form-data; boundary=\"with space\"", COORD_OK, "with space" },
	{ "multipart/form-data; boundary=\"a:b/c=d?e(f)g,h\"", COORD_OK, "a:b/c=d?e(f)g,h" },
	{ "multipart/form-data; boundary=\"a\\bc\"", COORD_OK, "abc" }, /* quoted-pair */
	{ "multipart/form-data; boundary=----=_Part_0_123.456", COORD_OK, "----=_Part_0_123.456" },
	{ "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", COORD_OK,
	  "----WebKitFormBoundary7MA4YWxkTrZu0gW" },
	{ "multipart/form-data; boundary=------------------------d74496d66958873e", COORD_OK,
	  "------------------------d74496d66958873e" },
	{ "multipart/form-data; charset=utf-8; boundary=" B, COORD_OK, B },
	{ "multipart/form-data; boundary=" B "; charset=utf-8", COORD_OK, B },
	{ "multipart/form-data; charset=\"utf-8\"; boundary=\"" B "\"; x=y", COORD_OK, B },
	{ "multipart/form-data; a=\"b;boundary=no\"; boundary=yes", COORD_OK, "yes" },
	{ "multipart/form-data;; boundary=" B ";", COORD_OK, B }, /* empty parameters */
	{ "multipart/form-data; boundary=-", COORD_OK, "-" },
	{ "multipart/form-data; boundary=" B70, COORD_OK, B70 },
	{ "multipart/form-data; boundary=\"" B70 "\"", COORD_OK, B70 },
	/* bad */
	{ NULL, COORD_ERR_INVALID, "" },
	{ "", COORD_ERR_INVALID, "" },
	{ "multipart/form-data", COORD_ERR_INVALID, "" },
	{ "multipart/form-data;", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; charset=utf-8", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=\"\"", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=;", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=" B71, COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=\"" B71 "\"", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=\"ends in space \"", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=\"a\\\"b\"", COORD_ERR_INVALID, "" }, /* '"' is no bchar */
	{ "multipart/form-data; boundary=\"a\\\\b\"", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=\"a@b\"", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=a@b", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=a b", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=a\"b\"", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=\"unterminated", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=\"a\tb\"", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=\"\xc3\xa9\"", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary =" B, COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary= " B, COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=" B "; boundary=" B, COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=" B "; BOUNDARY=other", COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary", COORD_ERR_INVALID, "" },
	{ "multipart/form-data boundary=" B, COORD_ERR_INVALID, "" },
	{ "multipart/form-data; =x; boundary=" B, COORD_ERR_INVALID, "" },
	{ "multipart/form-data; charset=; boundary=" B, COORD_ERR_INVALID, "" },
	{ "multipart/form-data; boundary=" B "\r\n", COORD_ERR_INVALID, "" },
	{ "multipart/form-datax; boundary=" B, COORD_ERR_INVALID, "" },
	{ "multipart/form-dat", COORD_ERR_INVALID, "" },
	{ "multipart/mixed; boundary=" B, COORD_ERR_INVALID, "" },
	{ "multipart/; boundary=" B, COORD_ERR_INVALID, "" },
	{ "application/json", COORD_ERR_INVALID, "" },
	{ "application/json; boundary=" B, COORD_ERR_INVALID, "" },
	{ "application/x-www-form-urlencoded", COORD_ERR_INVALID, "" },
	{ "text/plain; boundary=" B, COORD_ERR_INVALID, "" },
	{ "form-data; boundary=" B, COORD_ERR_INVALID, "" },
};

static void test_boundary(void)
{
	for (size_t i = 0; i < N(boundary_cases); i++) {
		char out[COORD_MULTIPART_MAX_BOUNDARY + 1];
		memset(out, 'X', sizeof(out));
		const char *ct = boundary_cases[i].ct;
		enum coord_err e = coord_multipart_boundary(ct, out);
		ok(e == boundary_cases[i].want && strcmp(out, boundary_cases[i].boundary) == 0,
		   "boundary #%zu \"%s\" -> %s \"%s\" (got %s \"%.71s\")", i,
		   ct ? show(ct, strlen(ct)) : "(null)", err_name(boundary_cases[i].want),
		   boundary_cases[i].boundary, err_name(e), out);
	}
}

/* ---- coord_multipart_parse: literal bodies ---- */

struct want_part {
	const char *name;
	const char *filename;
	const char *data;
	size_t len;
};

static const struct {
	const char *what;
	const char *boundary;
	const char *body;
	size_t len;
	enum coord_err want;
	const char *why; /* a substring of the reason, for an error */
	size_t nparts;
	struct want_part parts[3];
} parse_cases[] = {
	{ "two parts, CRLF", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\nhello\r\n"
	    "--" B "\r\n" CD("f") "; filename=\"x.wasm\"\r\nContent-Type: application/wasm\r\n\r\n"
	    "\0asm\r\n--" B "--\r\n"),
	  COORD_OK, NULL, 2, { { "a", NULL, S("hello") }, { "f", "x.wasm", S("\0asm") } } },
	{ "close delimiter at the very end, no CRLF after it", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("x") } } },
	{ "LF-only body", B,
	  S("--" B "\n" CD("a") "\n\nhello\n--" B "\nContent-Disposition: form-data; name=b\n\n"
	    "\n--" B "--\n"),
	  COORD_OK, NULL, 2, { { "a", NULL, S("hello") }, { "b", NULL, S("") } } },
	{ "LF body: a CR before the delimiter belongs to the data", B,
	  S("--" B "\n" CD("a") "\n\nhi\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("hi\r") } } },
	{ "LF body: CRLF in headers", B,
	  S("--" B "\n" CD("a") "\r\n\r\nx\n--" B "--"),
	  COORD_ERR_INVALID, "control character", 0, { { 0 } } },
	{ "LF body: CRLF after a later delimiter", B,
	  S("--" B "\n" CD("a") "\n\nx\n--" B "\r\n" CD("b") "\n\ny\n--" B "--"),
	  COORD_ERR_INVALID, "malformed delimiter line", 0, { { 0 } } },
	{ "CRLF body: bare LF ending a header", B,
	  S("--" B "\r\n" CD("a") "\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "bare LF", 0, { { 0 } } },
	{ "CRLF body: bare LF as the empty line", B,
	  S("--" B "\r\n" CD("a") "\r\n\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "bare LF", 0, { { 0 } } },
	{ "CRLF body: LF--boundary in data is data", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\nx\n--" B "\r\ny\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("x\n--" B "\r\ny") } } },
	{ "CRLF body: only an LF close delimiter", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\nx\n--" B "--"),
	  COORD_ERR_INVALID, "no close delimiter", 0, { { 0 } } },
	{ "CR alone after the opening boundary", B,
	  S("--" B "\rX" CD("a") "\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed delimiter line", 0, { { 0 } } },
	{ "preamble and epilogue", B,
	  S("preamble --" B "\r\n--" B "X not yet\r\n--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B
	    "--\r\nepilogue\r\n--" B "\r\ngarbage without headers"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("x") } } },
	{ "LF preamble before a CRLF body", B,
	  S("line one\nline two\n--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("x") } } },
	{ "transport padding after delimiters", B,
	  S("--" B " \t \r\n" CD("a") "\r\n\r\nx\r\n--" B "\t\r\n" CD("b") "\r\n\r\ny\r\n--" B
	    "--  \r\n"),
	  COORD_OK, NULL, 2, { { "a", NULL, S("x") }, { "b", NULL, S("y") } } },
	{ "padding then text on a delimiter line", B,
	  S("--" B "  x\r\n" CD("a") "\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed delimiter line", 0, { { 0 } } },
	{ "text after a later delimiter", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B " y\r\n" CD("b") "\r\n\r\ny\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed delimiter line", 0, { { 0 } } },
	{ "boundary in data without CRLF before it", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\nab--" B "\r\n--" B "cd--" B "--\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("ab--" B "\r\n--" B "cd--" B "--") } } },
	{ "CRLF and a boundary prefix in data", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\nx\r\n--BOUNDAR\r\n--BOUNDAR--\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("x\r\n--BOUNDAR\r\n--BOUNDAR--") } } },
	{ "a longer boundary in data", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B "X\r\n--" B "-x\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("x\r\n--" B "X\r\n--" B "-x") } } },
	{ "data starting with the boundary (no CRLF of its own)", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\n--" B "\r\nmore\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("--" B "\r\nmore") } } },
	{ "dashes and CR/LF in data", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\n--\r\n---\r\r\n\n\r\n\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("--\r\n---\r\r\n\n\r\n") } } },
	{ "binary data with NULs", B,
	  S("--" B "\r\n" CD("bin") "\r\n\r\n\0\r\n\0--\0" B "\r\n\0\xff\xfe\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "bin", NULL, S("\0\r\n\0--\0" B "\r\n\0\xff\xfe") } } },
	{ "empty data", B,
	  S("--" B "\r\n" CD("e") "\r\n\r\n\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "e", NULL, S("") } } },
	{ "zero parts: the opening delimiter closes", B,
	  S("--" B "--\r\n"), COORD_ERR_INVALID, "no parts", 0, { { 0 } } },
	{ "zero parts after a preamble", B,
	  S("preamble\r\n--" B "--"), COORD_ERR_INVALID, "no parts", 0, { { 0 } } },
	{ "boundary \"-\"", "-",
	  S("---\r\n" CD("a") "\r\n\r\n--\r\n--x\r\n---\r\n" CD("b") "\r\n\r\n-\r\n-----"),
	  COORD_OK, NULL, 2, { { "a", NULL, S("--\r\n--x") }, { "b", NULL, S("-") } } },
	{ "boundary with spaces", "a b",
	  S("--a b \r\n" CD("a") "\r\n\r\nx\r\n--a bc\r\n--a b--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("x\r\n--a bc") } } },
	{ "filename with an escaped quote and backslash", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\\\"b\\\\c.wasm\"\r\n\r\n"
	    "x\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "f", "a\"b\\c.wasm", S("x") } } },
	{ "name with escapes and a semicolon", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=\"a;\\b=\\\"c\\\"\"\r\n\r\n"
	    "x\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a;b=\"c\"", NULL, S("x") } } },
	{ "UTF-8 filename, empty name", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=\"\"; "
	    "filename=\"\xc3\xa9t\xc3\xa9.wasm\"\r\n\r\nx\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "", "\xc3\xa9t\xc3\xa9.wasm", S("x") } } },
	{ "header names and parameters in any case, OWS", B,
	  S("--" B "\r\ncontent-type: text/plain\r\nCONTENT-DISPOSITION:FORM-DATA ;NAME=a ;  "
	    "FileName=b.bin  \r\nX-Empty:\r\n\r\nx\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", "b.bin", S("x") } } },
	{ "unknown and empty parameters ignored", B,
	  S("--" B "\r\nContent-Disposition: form-data;; foo=\"bar\"; name=a; "
	    "filename*=UTF-8''x.wasm;\r\n\r\nx\r\n--" B "--"),
	  COORD_OK, NULL, 1, { { "a", NULL, S("x") } } },
	/* structure */
	{ "empty body", B, S(""), COORD_ERR_INVALID, "no opening delimiter", 0, { { 0 } } },
	{ "no delimiter at all", B, S("just some text\r\n"),
	  COORD_ERR_INVALID, "no opening delimiter", 0, { { 0 } } },
	{ "another boundary", B, S("--OTHER\r\n" CD("a") "\r\n\r\nx\r\n--OTHER--"),
	  COORD_ERR_INVALID, "no opening delimiter", 0, { { 0 } } },
	{ "the boundary not at a line start", B, S("x--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "no parts", 0, { { 0 } } },
	{ "the boundary not at a line start, no close", B, S("x--" B "\r\n" CD("a") "\r\n\r\nx"),
	  COORD_ERR_INVALID, "no opening delimiter", 0, { { 0 } } },
	{ "only a longer boundary", B, S("--" B "X\r\n" CD("a") "\r\n\r\nx\r\n--" B "X--"),
	  COORD_ERR_INVALID, "no opening delimiter", 0, { { 0 } } },
	{ "body is the bare boundary", B, S("--" B),
	  COORD_ERR_INVALID, "no opening delimiter", 0, { { 0 } } },
	{ "cut after the opening boundary's CR", B, S("--" B "\r"),
	  COORD_ERR_INVALID, "truncated delimiter line", 0, { { 0 } } },
	{ "cut in padding", B, S("--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B "  "),
	  COORD_ERR_INVALID, "truncated delimiter line", 0, { { 0 } } },
	{ "cut after a delimiter line", B, S("--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B "\r\n"),
	  COORD_ERR_INVALID, "truncated part headers", 0, { { 0 } } },
	{ "cut in headers", B, S("--" B "\r\nContent-Disp"),
	  COORD_ERR_INVALID, "truncated part headers", 0, { { 0 } } },
	{ "cut before the empty line", B, S("--" B "\r\n" CD("a") "\r\n"),
	  COORD_ERR_INVALID, "truncated part headers", 0, { { 0 } } },
	{ "cut in data", B, S("--" B "\r\n" CD("a") "\r\n\r\nhel"),
	  COORD_ERR_INVALID, "no close delimiter", 0, { { 0 } } },
	{ "cut at the last boundary", B, S("--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B),
	  COORD_ERR_INVALID, "no close delimiter", 0, { { 0 } } },
	{ "cut in the close delimiter", B, S("--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B "-"),
	  COORD_ERR_INVALID, "no close delimiter", 0, { { 0 } } },
	/* headers */
	{ "no headers", B, S("--" B "\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "without Content-Disposition", 0, { { 0 } } },
	{ "no Content-Disposition", B, S("--" B "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "without Content-Disposition", 0, { { 0 } } },
	{ "Content-Disposition without name", B,
	  S("--" B "\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "without name", 0, { { 0 } } },
	{ "bare form-data", B, S("--" B "\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "without name", 0, { { 0 } } },
	{ "not form-data", B,
	  S("--" B "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "not form-data", 0, { { 0 } } },
	{ "empty Content-Disposition", B, S("--" B "\r\nContent-Disposition:\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "not form-data", 0, { { 0 } } },
	{ "form-datax", B, S("--" B "\r\nContent-Disposition: form-datax; name=a\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "not form-data", 0, { { 0 } } },
	{ "repeated Content-Disposition", B,
	  S("--" B "\r\n" CD("a") "\r\n" CD("b") "\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "repeated Content-Disposition", 0, { { 0 } } },
	{ "repeated name parameter", B,
	  S("--" B "\r\n" CD("a") "; NAME=b\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "repeated name", 0, { { 0 } } },
	{ "repeated filename parameter", B,
	  S("--" B "\r\n" CD("a") "; filename=x; filename=y\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "repeated name", 0, { { 0 } } },
	{ "unterminated quoted name", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed Content-Disposition", 0, { { 0 } } },
	{ "quoted name ending in a backslash", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=\"a\\\"\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed Content-Disposition", 0, { { 0 } } },
	{ "empty unquoted name", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=; filename=x\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed Content-Disposition", 0, { { 0 } } },
	{ "spaces around '='", B,
	  S("--" B "\r\nContent-Disposition: form-data; name = a\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed Content-Disposition", 0, { { 0 } } },
	{ "parameter without '='", B,
	  S("--" B "\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed Content-Disposition", 0, { { 0 } } },
	{ "text after a quoted value", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=\"a\"b\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed Content-Disposition", 0, { { 0 } } },
	{ "UTF-8 in an unquoted name", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=\xc3\xa9\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed Content-Disposition", 0, { { 0 } } },
	{ "space before the colon", B,
	  S("--" B "\r\nContent-Disposition : form-data; name=a\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed part header", 0, { { 0 } } },
	{ "header without colon", B, S("--" B "\r\n" CD("a") "\r\nX-Foo\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed part header", 0, { { 0 } } },
	{ "empty header name", B, S("--" B "\r\n" CD("a") "\r\n: x\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed part header", 0, { { 0 } } },
	{ "obs-fold continuation line", B,
	  S("--" B "\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "malformed part header", 0, { { 0 } } },
	{ "NUL in a header", B,
	  S("--" B "\r\n" CD("a") "\r\nX-Foo: a\0b\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "control character", 0, { { 0 } } },
	{ "NUL in a quoted name", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "control character", 0, { { 0 } } },
	{ "CR inside a header line", B,
	  S("--" B "\r\nContent-Disposition: form-data; name=\"a\rb\"\r\n\r\nx\r\n--" B "--"),
	  COORD_ERR_INVALID, "control character", 0, { { 0 } } },
	{ "second part malformed", B,
	  S("--" B "\r\n" CD("a") "\r\n\r\nx\r\n--" B "\r\nX: y\r\n\r\ny\r\n--" B "--"),
	  COORD_ERR_INVALID, "without Content-Disposition", 0, { { 0 } } },
};

static bool part_is(const struct coord_multipart_part *got, const struct want_part *want)
{
	if (!got->name || strcmp(got->name, want->name) != 0)
		return false;
	if ((got->filename == NULL) != (want->filename == NULL))
		return false;
	if (want->filename && strcmp(got->filename, want->filename) != 0)
		return false;
	return got->len == want->len && memcmp(got->data, want->data, want->len) == 0;
}

static void test_parse_table(void)
{
	for (size_t i = 0; i < N(parse_cases); i++) {
		struct coord_arena arena = COORD_ARENA_INIT;
		struct coord_multipart_part *parts = (void *)&arena;
		size_t n = 99;
		const char *why = "unset";
		char *copy;
		enum coord_err e = parse_copy(&arena, parse_cases[i].boundary, parse_cases[i].body,
					      parse_cases[i].len, &copy, &parts, &n, &why);
		bool good = e == parse_cases[i].want;
		if (good && e == COORD_OK) {
			good = why == NULL && parts != NULL && n == parse_cases[i].nparts;
			for (size_t k = 0; good && k < n; k++)
				good = part_is(&parts[k], &parse_cases[i].parts[k]) &&
				       parts[k].data >= copy &&
				       parts[k].data + parts[k].len <= copy + parse_cases[i].len;
		} else if (good) {
			good = parts == NULL && n == 0 && why &&
			       strstr(why, parse_cases[i].why) != NULL;
		}
		ok(good, "parse #%zu %s -> %s %s (got %s, %zu parts, \"%s\")", i,
		   parse_cases[i].what, err_name(parse_cases[i].want),
		   parse_cases[i].why ? parse_cases[i].why : "", err_name(e), n,
		   why ? why : "");
		free(copy);
		coord_arena_release(&arena);
	}
}

/* ---- generated bodies ---- */

/* One part, data given, CRLF. */
static void add_part(struct coord_buf *b, const char *name, const char *data, size_t len)
{
	coord_buf_adds(b, "--" B "\r\n");
	coord_buf_addf(b, "Content-Disposition: form-data; name=\"%s\"\r\n\r\n", name);
	coord_buf_add(b, data, len);
	coord_buf_adds(b, "\r\n");
}

static void close_body(struct coord_buf *b)
{
	coord_buf_adds(b, "--" B "--\r\n");
}

static enum coord_err parse_buf(struct coord_arena *arena, const struct coord_buf *b,
				struct coord_multipart_part **parts, size_t *n, const char **why)
{
	char *copy;
	enum coord_err e = parse_copy(arena, B, b->ptr, b->len, &copy, parts, n, why);
	/* the parts point into copy: callers look at names and lengths only */
	free(copy);
	return e;
}

/* Every proper prefix of a valid body, up to its close delimiter, is refused. */
static void test_every_cut(void)
{
	static const struct {
		const char *body;
		size_t len;
	} bodies[] = {
		{ S("--" B "\r\n" CD("a") "\r\n\r\nhello\r\n--" B "\r\n" CD("f")
		    "; filename=\"x\"\r\n\r\n\0\r\n--\r\n--" B "--") },
		{ S("pre\n--" B "\n" CD("a") "\n\nhello\n--" B "--") },
	};
	for (size_t i = 0; i < N(bodies); i++) {
		size_t refused = 0;
		for (size_t cut = 0; cut < bodies[i].len; cut++) {
			struct coord_arena arena = COORD_ARENA_INIT;
			struct coord_multipart_part *parts;
			size_t n;
			const char *why = NULL;
			char *copy;
			if (parse_copy(&arena, B, bodies[i].body, cut, &copy, &parts, &n, &why) ==
				    COORD_ERR_INVALID &&
			    why && parts == NULL && n == 0)
				refused++;
			free(copy);
			coord_arena_release(&arena);
		}
		ok(refused == bodies[i].len, "all %zu cuts of body %zu refused (%zu were)",
		   bodies[i].len, i, refused);
	}
}

static void test_duplicates(void)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_buf b = COORD_BUF_INIT;
	struct coord_multipart_part *parts;
	size_t n;
	const char *why;
	bool dup = true;

	add_part(&b, "checksum", S("aa"));
	add_part(&b, "repo_url", S("r"));
	add_part(&b, "checksum", S("bb"));
	close_body(&b);
	char *copy;
	enum coord_err e = parse_copy(&arena, B, b.ptr, b.len, &copy, &parts, &n, &why);
	ok(e == COORD_OK && n == 3, "repeated part names parse (%s, %zu parts)", err_name(e), n);
	if (e == COORD_OK) {
		const struct coord_multipart_part *p =
			coord_multipart_find(parts, n, "checksum", &dup);
		ok(p == &parts[0] && dup, "find: first \"checksum\", duplicate reported");
		p = coord_multipart_find(parts, n, "repo_url", &dup);
		ok(p == &parts[1] && !dup, "find: single \"repo_url\", no duplicate");
		dup = true;
		p = coord_multipart_find(parts, n, "wasm_file", &dup);
		ok(p == NULL && !dup, "find: absent part");
		p = coord_multipart_find(parts, n, "Checksum", NULL);
		ok(p == NULL, "find: names are case-sensitive, duplicate may be NULL");
	}
	free(copy);
	coord_buf_release(&b);
	coord_arena_release(&arena);
}

static void test_header_limits(void)
{
	struct coord_buf b = COORD_BUF_INIT;
	struct coord_multipart_part *parts;
	size_t n;
	const char *why;
	/* "X-Pad: " is 7 bytes */
	static const struct {
		size_t line;      /* bytes of one X-Pad line without CRLF */
		size_t lines;     /* how many */
		bool lf;          /* LF body instead of CRLF */
		enum coord_err want;
		const char *why;
	} cases[] = {
		{ 1024, 1, false, COORD_OK, NULL },
		{ 1025, 1, false, COORD_ERR_INVALID, "line too long" },
		{ 1024, 1, true, COORD_OK, NULL },
		{ 1025, 1, true, COORD_ERR_INVALID, "line too long" },
		{ 100000, 1, false, COORD_ERR_INVALID, "line too long" },
		/* the block: CD line (47+2) + k pad lines + the empty line (2) */
		{ 1000, 8, false, COORD_OK, NULL },   /* 49 + 8 * 1002 + 2 = 8067 */
		{ 1000, 9, false, COORD_ERR_INVALID, "headers too large" },
		{ 10, 700, false, COORD_ERR_INVALID, "headers too large" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct coord_arena arena = COORD_ARENA_INIT;
		const char *nl = cases[i].lf ? "\n" : "\r\n";
		coord_buf_reset(&b);
		coord_buf_addf(&b, "--" B "%sContent-Disposition: form-data; name=\"a\"%s", nl, nl);
		for (size_t k = 0; k < cases[i].lines; k++) {
			coord_buf_adds(&b, "X-Pad: ");
			for (size_t c = 7; c < cases[i].line; c++)
				coord_buf_addch(&b, 'p');
			coord_buf_adds(&b, nl);
		}
		coord_buf_addf(&b, "%sdata%s--" B "--", nl, nl);
		enum coord_err e = parse_buf(&arena, &b, &parts, &n, &why);
		ok(e == cases[i].want && (e == COORD_OK ? n == 1 : strstr(why, cases[i].why) != NULL),
		   "headers: %zu line(s) of %zu bytes%s -> %s %s (got %s \"%s\")", cases[i].lines,
		   cases[i].line, cases[i].lf ? " (LF)" : "", err_name(cases[i].want),
		   cases[i].why ? cases[i].why : "", err_name(e), why ? why : "");
		coord_arena_release(&arena);
	}

	/* exactly at the 8 KiB block limit, and one byte over */
	for (size_t extra = 0; extra < 2; extra++) {
		struct coord_arena arena = COORD_ARENA_INIT;
		const size_t cd = strlen(CD("a")) + 2;
		size_t left = COORD_MULTIPART_MAX_HEADERS - cd - 2 + extra;
		coord_buf_reset(&b);
		coord_buf_adds(&b, "--" B "\r\n" CD("a") "\r\n");
		while (left > 0) {
			size_t line = left > 1002 ? 1002 : left; /* with CRLF */
			if (left - line > 0 && left - line < 10)
				line -= 10; /* keep the last line long enough for "X-Pad:" */
			coord_buf_adds(&b, "X-Pad:");
			for (size_t c = 6; c + 2 < line; c++)
				coord_buf_addch(&b, 'p');
			coord_buf_adds(&b, "\r\n");
			left -= line;
		}
		coord_buf_adds(&b, "\r\ndata\r\n--" B "--");
		enum coord_err e = parse_buf(&arena, &b, &parts, &n, &why);
		ok(extra ? e == COORD_ERR_INVALID && strstr(why, "too large") : e == COORD_OK,
		   "header block of %zu bytes -> %s (got %s)",
		   (size_t)COORD_MULTIPART_MAX_HEADERS + extra, extra ? "INVALID" : "OK",
		   err_name(e));
		coord_arena_release(&arena);
	}
	coord_buf_release(&b);
}

static void test_many_parts(void)
{
	struct coord_buf b = COORD_BUF_INIT;
	static const size_t counts[] = { 1, COORD_MULTIPART_MAX_PARTS, COORD_MULTIPART_MAX_PARTS + 1,
					 1000 };
	for (size_t i = 0; i < N(counts); i++) {
		struct coord_arena arena = COORD_ARENA_INIT;
		struct coord_multipart_part *parts;
		size_t n;
		const char *why;
		char name[32];
		coord_buf_reset(&b);
		for (size_t k = 0; k < counts[i]; k++) {
			snprintf(name, sizeof(name), "p%zu", k);
			add_part(&b, name, name, strlen(name));
		}
		close_body(&b);
		char *copy;
		enum coord_err e = parse_copy(&arena, B, b.ptr, b.len, &copy, &parts, &n, &why);
		bool good;
		if (counts[i] <= COORD_MULTIPART_MAX_PARTS) {
			good = e == COORD_OK && n == counts[i];
			for (size_t k = 0; good && k < n; k++) {
				snprintf(name, sizeof(name), "p%zu", k);
				good = strcmp(parts[k].name, name) == 0 && parts[k].len == strlen(name) &&
				       memcmp(parts[k].data, name, parts[k].len) == 0;
			}
		} else {
			good = e == COORD_ERR_INVALID && strcmp(why, "too many parts") == 0;
		}
		ok(good, "%zu parts -> %s (got %s, %zu)", counts[i],
		   counts[i] <= COORD_MULTIPART_MAX_PARTS ? "OK" : "too many parts", err_name(e),
		   e == COORD_OK ? n : 0);
		free(copy);
		coord_arena_release(&arena);
	}
	coord_buf_release(&b);
}

static void test_big_part(void)
{
	const size_t size = 5 * 1024 * 1024;
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_buf b = COORD_BUF_INIT;
	struct coord_multipart_part *parts;
	size_t n;
	const char *why;
	char *data = coord_xmalloc(size);
	uint32_t x = 2463534242u;

	/* xorshift bytes, with CRLF "--" and the boundary sprinkled in as text */
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (char)(x & 0xff);
	}
	for (size_t i = 0; i + 64 < size; i += 65536)
		memcpy(data + i, "\r\n--" B "x--" B "\n--" B "\r\n\r\n\r\n--", 38);
	uint64_t want = fnv1a(data, size);

	add_part(&b, "checksum", S("abc"));
	coord_buf_adds(&b, "--" B "\r\n"
			   "Content-Disposition: form-data; name=\"wasm_file\"; filename=\"a.wasm\"\r\n"
			   "Content-Type: application/wasm\r\n\r\n");
	coord_buf_add(&b, data, size);
	coord_buf_adds(&b, "\r\n");
	add_part(&b, "build_target", S("wasm32-wasip1"));
	close_body(&b);

	char *copy;
	enum coord_err e = parse_copy(&arena, B, b.ptr, b.len, &copy, &parts, &n, &why);
	ok(e == COORD_OK && n == 3, "5 MiB body parses (%s, %zu parts)", err_name(e),
	   e == COORD_OK ? n : 0);
	if (e == COORD_OK && n == 3) {
		const struct coord_multipart_part *w = coord_multipart_find(parts, n, "wasm_file", NULL);
		ok(w && w->len == size && fnv1a(w->data, w->len) == want &&
			   strcmp(w->filename, "a.wasm") == 0,
		   "5 MiB part: length %zu and checksum match", w ? w->len : 0);
		ok(parts[2].len == 13 && memcmp(parts[2].data, "wasm32-wasip1", 13) == 0,
		   "the part after the 5 MiB part is intact");
	}
	free(copy);
	free(data);
	coord_buf_release(&b);
	coord_arena_release(&arena);
}

static void test_bad_boundary_arg(void)
{
	static const char *const bad[] = {
		"", " ", "ends ", "a\"b", "a\rb",
		B71,
	};
	for (size_t i = 0; i < N(bad) + 1; i++) {
		struct coord_arena arena = COORD_ARENA_INIT;
		struct coord_multipart_part *parts;
		size_t n;
		const char *why = NULL;
		const char *boundary = i < N(bad) ? bad[i] : NULL;
		enum coord_err e = coord_multipart_parse(&arena, boundary, S("--x\r\n"), &parts, &n,
							 &why);
		ok(e == COORD_ERR_INVALID && why && strcmp(why, "bad boundary") == 0,
		   "parse refuses boundary \"%s\"", boundary ? boundary : "(null)");
		coord_arena_release(&arena);
	}
	/* why may be NULL */
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_multipart_part *parts;
	size_t n;
	ok(coord_multipart_parse(&arena, B, S("nothing"), &parts, &n, NULL) == COORD_ERR_INVALID,
	   "why may be NULL");
	ok(coord_multipart_parse(&arena, B, NULL, 0, &parts, &n, NULL) == COORD_ERR_INVALID,
	   "NULL body of length 0 is refused");
	coord_arena_release(&arena);
}

int main(void)
{
	test_boundary();
	test_parse_table();
	test_every_cut();
	test_duplicates();
	test_header_limits();
	test_many_parts();
	test_big_part();
	test_bad_boundary_arg();
	return tap_done();
}
