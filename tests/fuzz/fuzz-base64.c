/*
 * libFuzzer target: the strict base64 of TDX quotes (SPEC §3.4.6),
 * coord_base64_decode on arbitrary bytes against a reference written
 * from RFC 4648 §4; what decodes re-encodes to the same text, and
 * encoding the input bytes and decoding them gives them back.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_codec.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNSET ((size_t)0x5a5a)

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	CHECK(p != NULL);
	return p;
}

/*
 * Reference: a multiple of 4 long, 0-2 trailing '=', every other byte
 * in the alphabet, and the bits the padding leaves over zero.
 */
static bool ref_valid(const char *s, size_t len, size_t *nbytes)
{
	if (len % 4 != 0)
		return false;
	size_t pad = 0;
	while (pad < len && s[len - 1 - pad] == '=')
		pad++;
	if (pad > 2)
		return false;
	for (size_t i = 0; i < len - pad; i++)
		if (!memchr(alphabet, s[i], sizeof(alphabet) - 1))
			return false;
	if (pad > 0) {
		const char *last = memchr(alphabet, s[len - 1 - pad], sizeof(alphabet) - 1);
		unsigned v = (unsigned)(last - alphabet);
		if (v & (pad == 1 ? 0x03u : 0x0fu))
			return false;
	}
	*nbytes = len / 4 * 3 - pad;
	return true;
}

static void check_decode(const char *s, size_t size)
{
	/* exactly the documented room, so ASan sees any overrun */
	unsigned char *out = xmalloc(size / 4 * 3);
	size_t outlen = UNSET, want = 0;
	enum coord_err e = coord_base64_decode(s, size, out, &outlen);
	bool valid = ref_valid(s, size, &want);
	CHECK((e == COORD_OK) == valid);
	CHECK(e == COORD_OK || e == COORD_ERR_INVALID);
	if (valid) {
		CHECK(outlen == want);
		char *text = xmalloc(coord_base64_encoded_len(outlen));
		coord_base64_encode(out, outlen, text);
		CHECK(strlen(text) == size && memcmp(text, s, size) == 0);
		free(text);
	} else {
		CHECK(outlen == UNSET);
	}
	free(out);
}

static void check_encode(const unsigned char *in, size_t n)
{
	size_t tlen = coord_base64_encoded_len(n);
	char *text = xmalloc(tlen);
	coord_base64_encode(in, n, text);
	CHECK(strlen(text) + 1 == tlen);
	unsigned char *out = xmalloc((tlen - 1) / 4 * 3);
	size_t outlen = UNSET;
	CHECK(coord_base64_decode(text, tlen - 1, out, &outlen) == COORD_OK);
	CHECK(outlen == n && memcmp(out, in, n) == 0);
	free(out);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decode((const char *)data, size);
	check_encode(data, size);
	return 0;
}
