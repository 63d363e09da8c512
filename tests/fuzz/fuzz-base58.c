/*
 * libFuzzer target: the two text forms of ed25519 keys and signatures
 * (SPEC §3.2.7), coord_base58_decode and coord_hex_decode, on arbitrary
 * bytes. A decode succeeds exactly for a text of the alphabet, and what
 * it gives re-encodes to that text; encoding the input bytes and
 * decoding them gives them back.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coord_codec.h"
#include "coord_crypto.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNSET ((size_t)0x5a5a)
/* Encoding is quadratic; longer inputs only exercise the decoders. */
#define ENCODE_MAX 512

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static bool in_alphabet(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!memchr(alphabet, s[i], sizeof(alphabet) - 1))
			return false;
	return true;
}

static size_t leading(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;
	size_t i = 0;
	while (i < n && b[i] == c)
		i++;
	return i;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	CHECK(p != NULL);
	return p;
}

static void check_decode(const char *s, size_t size, unsigned cap_seed)
{
	unsigned char out[COORD_BASE58_MAX_TEXT];
	size_t outlen = UNSET;
	enum coord_err e = coord_base58_decode(s, size, out, sizeof(out), &outlen);
	bool valid = size >= 1 && size <= COORD_BASE58_MAX_TEXT && in_alphabet(s, size);
	CHECK((e == COORD_OK) == valid);
	CHECK(e == COORD_OK || e == COORD_ERR_INVALID);
	if (!valid) {
		CHECK(outlen == UNSET);
		return;
	}
	CHECK(outlen <= size);
	size_t zeros = leading(s, size, '1');
	CHECK(leading(out, outlen, 0) == zeros);

	char *text = xmalloc(coord_base58_encoded_max(outlen));
	coord_base58_encode(out, outlen, text);
	CHECK(strlen(text) == size && memcmp(text, s, size) == 0);
	free(text);

	/* a smaller capacity: refused exactly when the result does not fit */
	size_t cap = cap_seed % (outlen + 2);
	unsigned char *small = xmalloc(cap);
	size_t smalllen = UNSET;
	e = coord_base58_decode(s, size, small, cap, &smalllen);
	CHECK((e == COORD_OK) == (outlen <= cap));
	if (e == COORD_OK)
		CHECK(smalllen == outlen && memcmp(small, out, outlen) == 0);
	else
		CHECK(smalllen == UNSET);
	free(small);
}

static void check_encode(const unsigned char *in, size_t n)
{
	size_t max = coord_base58_encoded_max(n);
	char *text = xmalloc(max);
	coord_base58_encode(in, n, text);
	size_t tlen = strlen(text);
	CHECK(tlen < max);
	CHECK(in_alphabet(text, tlen));
	CHECK(leading(text, tlen, '1') == leading(in, n, 0));
	CHECK((tlen == 0) == (n == 0));
	if (n > 0 && tlen <= COORD_BASE58_MAX_TEXT) {
		unsigned char *out = xmalloc(n);
		size_t outlen = UNSET;
		CHECK(coord_base58_decode(text, tlen, out, n, &outlen) == COORD_OK);
		CHECK(outlen == n && memcmp(out, in, n) == 0);
		free(out);
	}
	free(text);
}

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!memchr("0123456789abcdefABCDEF", s[i], 22))
			return false;
	return true;
}

static void check_hex(const char *s, size_t size)
{
	size_t n = size / 2;
	unsigned char *out = xmalloc(n);
	enum coord_err e = coord_hex_decode(s, size, out, n);
	CHECK((e == COORD_OK) == (size % 2 == 0 && all_hex(s, size)));
	if (e == COORD_OK) {
		char *text = xmalloc(2 * n + 1);
		coord_hex_encode(out, n, text);
		CHECK(strlen(text) == size && strncasecmp(text, s, size) == 0);
		free(text);
	}
	/* a length that does not match n is refused */
	if (n > 0)
		CHECK(coord_hex_decode(s, size, out, n - 1) == COORD_ERR_INVALID);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	unsigned cap_seed = size ? data[size - 1] : 0;

	check_decode(s, size, cap_seed);
	if (size <= ENCODE_MAX)
		check_encode(data, size);
	check_hex(s, size);
	return 0;
}
