/*
 * libFuzzer target: coord_multipart_boundary and coord_multipart_parse
 * (SPEC §3.2.5 POST /wasm/upload). The first byte chooses the boundary:
 * below 0x80 one of a fixed set (index byte % count), the rest is the body;
 * from 0x80 the input up to the first LF is a Content-Type value given to
 * coord_multipart_boundary, and the rest is the body parsed with its
 * boundary. The body is copied into a buffer of exactly its size, so a read
 * past len is caught. Parts are checked, then written out again in CRLF
 * form and parsed again: the same parts must come back.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_buf.h"
#include "coord_mem.h"
#include "coord_multipart.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const boundaries[] = {
	"BOUNDARY", "-", "--", "a b", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "x",
	"1234567890123456789012345678901234567890123456789012345678901234567890",
};

static bool is_bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

/* Appends s as a quoted-string; returns its length in the output. */
static size_t add_quoted(struct coord_buf *b, const char *s)
{
	size_t start = b->len;
	coord_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			coord_buf_addch(b, '\\');
		coord_buf_addch(b, *s);
	}
	coord_buf_addch(b, '"');
	return b->len - start;
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Writes the parts out again (CRLF) and checks that they parse back the same. */
static void round_trip(const char *boundary, const struct coord_multipart_part *parts, size_t n)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_buf b = COORD_BUF_INIT;
	struct coord_multipart_part *again;
	size_t n2;
	const char *why;

	for (size_t i = 0; i < n; i++) {
		coord_buf_addf(&b, "--%s\r\n", boundary);
		size_t line = b.len;
		coord_buf_adds(&b, "Content-Disposition: form-data; name=");
		add_quoted(&b, parts[i].name);
		if (parts[i].filename) {
			coord_buf_adds(&b, "; filename=");
			add_quoted(&b, parts[i].filename);
		}
		if (b.len - line > COORD_MULTIPART_MAX_HEADER_LINE)
			goto out; /* escaping grew the line past the limit */
		coord_buf_adds(&b, "\r\n\r\n");
		coord_buf_add(&b, parts[i].data, parts[i].len);
		coord_buf_adds(&b, "\r\n");
	}
	coord_buf_addf(&b, "--%s--\r\n", boundary);
	char *copy = coord_xmalloc(b.len);
	memcpy(copy, b.ptr, b.len);
	enum coord_err e = coord_multipart_parse(&arena, boundary, copy, b.len, &again, &n2, &why);
	CHECK(e == COORD_OK);
	CHECK(n2 == n);
	for (size_t i = 0; i < n; i++) {
		CHECK(strcmp(again[i].name, parts[i].name) == 0);
		CHECK(same_string(again[i].filename, parts[i].filename));
		CHECK(again[i].len == parts[i].len);
		CHECK(memcmp(again[i].data, parts[i].data, parts[i].len) == 0);
	}
	free(copy);
out:
	coord_buf_release(&b);
	coord_arena_release(&arena);
}

static void check_parse(const char *boundary, const uint8_t *data, size_t size)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_multipart_part *parts;
	size_t n;
	const char *why = NULL;
	static const char crlf[] = "\r\n";
	char *body = coord_xmalloc(size);
	size_t blen = strlen(boundary);

	if (size)
		memcpy(body, data, size);
	enum coord_err e = coord_multipart_parse(&arena, boundary, body, size, &parts, &n, &why);
	if (e != COORD_OK) {
		CHECK(e == COORD_ERR_INVALID);
		CHECK(why != NULL && why[0] != '\0');
		CHECK(parts == NULL && n == 0);
		goto out;
	}
	CHECK(why == NULL);
	CHECK(parts != NULL && n >= 1 && n <= COORD_MULTIPART_MAX_PARTS);
	const char *prev_end = body;
	for (size_t i = 0; i < n; i++) {
		const struct coord_multipart_part *p = &parts[i];
		CHECK(p->name != NULL);
		CHECK(p->data >= prev_end && p->data <= body + size);
		CHECK(p->len <= (size_t)(body + size - p->data));
		/* the data ends at NL "--" boundary */
		const char *end = p->data + p->len;
		size_t left = (size_t)(body + size - end);
		size_t nl = left > 0 && end[0] == '\r' ? 2 : 1;
		CHECK(left >= nl + 2 + blen);
		CHECK(memcmp(end, crlf + 2 - nl, nl) == 0);
		CHECK(memcmp(end + nl, "--", 2) == 0 && memcmp(end + nl + 2, boundary, blen) == 0);
		prev_end = end;
		(void)strlen(p->name);
		if (p->filename)
			(void)strlen(p->filename);
		bool dup;
		const struct coord_multipart_part *f = coord_multipart_find(parts, n, p->name, &dup);
		CHECK(f != NULL && f <= p && strcmp(f->name, p->name) == 0);
		CHECK(!(f < p) || dup);
	}
	round_trip(boundary, parts, n);
out:
	free(body);
	coord_arena_release(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] < 0x80) {
		check_parse(boundaries[data[0] % (sizeof(boundaries) / sizeof(boundaries[0]))],
			    data + 1, size - 1);
		return 0;
	}
	const uint8_t *lf = memchr(data + 1, '\n', size - 1);
	size_t ct_len = lf ? (size_t)(lf - data - 1) : size - 1;
	char *ct = coord_xmemdup(data + 1, ct_len);
	char boundary[COORD_MULTIPART_MAX_BOUNDARY + 1];
	enum coord_err e = coord_multipart_boundary(ct, boundary);
	if (e == COORD_OK) {
		size_t blen = strlen(boundary);
		CHECK(blen >= 1 && blen <= COORD_MULTIPART_MAX_BOUNDARY);
		CHECK(boundary[blen - 1] != ' ');
		for (size_t i = 0; i < blen; i++)
			CHECK(is_bchar(boundary[i]));
		if (lf)
			check_parse(boundary, lf + 1, size - ct_len - 2);
	} else {
		CHECK(e == COORD_ERR_INVALID && boundary[0] == '\0');
	}
	free(ct);
	return 0;
}
