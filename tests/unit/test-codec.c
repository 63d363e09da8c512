/*
 * Table-driven tests of lib/coord_codec: base58 (SPEC §3.2.7 keys and
 * signatures), strict base64 (SPEC §3.4.6 quotes) and hex, then round
 * trips of pseudo-random bytes checked against independent references
 * (a schoolbook base58 division, OpenSSL's EVP_EncodeBlock).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "coord_codec.h"
#include "tap.h"
#include "banned.h"

/* A string literal and its length (embedded NULs included). */
#define S(x) x, sizeof(x) - 1
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Marks bytes a decoder must not touch and an *outlen it must not set. */
#define CANARY 0xa5
#define UNSET ((size_t)0x5a5a)

static const char *err_name(enum coord_err e)
{
	switch (e) {
	case COORD_OK: return "OK";
	case COORD_ERR_INVALID: return "INVALID";
	case COORD_ERR_RANGE: return "RANGE";
	default: return "other";
	}
}

static bool all_are(const unsigned char *p, size_t n, unsigned char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* Deterministic xorshift64, so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* n random bytes; kind 1 starts with zero bytes, kind 2 is all 0xff, kind 3 all zero. */
static void fill(unsigned char *p, size_t n, int kind)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rng();
	if (kind == 1)
		memset(p, 0, n < 3 ? n : rng() % 4);
	else if (kind == 2)
		memset(p, 0xff, n);
	else if (kind == 3)
		memset(p, 0, n);
}

/* ---- base58 ---- */

/* An ed25519 public key (openssl genpkey) and its signature over bytes 00..1f. */
#define PUBKEY                                                             \
	"\x67\x0d\x53\x16\x08\x7a\x57\x85\xab\x9c\xcb\x84\x8f\xcf\xd8\x38" \
	"\xe5\x28\x87\xde\xbf\xbe\x95\xd5\xc5\x40\x21\x9d\x77\xd8\x21\x24"
#define PUBKEY58 "7wGn5Qr8mPUeH5NDQBWhFrEoTU6WNYXTpB3h7G38t9CX"
#define SIG                                                                \
	"\xf6\xde\xee\x37\xbc\x07\x98\xe2\x82\xbb\x08\x23\x8f\x00\xfa\x72" \
	"\x87\x4b\x97\x6b\x53\x60\x65\xa2\x26\x8f\xd8\x29\x66\x73\xab\x7a" \
	"\x93\xda\x12\x4e\x49\x67\x0b\x2e\x2f\xde\xc4\x9f\x1c\x5a\xbb\x35" \
	"\xd0\x42\xc0\xf7\xf3\x71\xc6\xe4\xb5\xdb\xf4\xe4\x26\x2a\xa2\x0a"
#define SIG58 \
	"5wGpoWAoQrnvfMh3aeEhmSkSCZZkuAJNKgvSuRrJXY86bgJYc82ZdZDcbCSbKL6KN8xGYK7zuy7Yx6PTiiCayrb3"

static const struct {
	const char *text;
	size_t len;
	size_t outcap;
	enum coord_err want;
	const char *bytes; /* the decoded bytes, when want is COORD_OK */
	size_t nbytes;
	const char *what;
} b58_cases[] = {
	{ S(""), 64, COORD_ERR_INVALID, S(""), "empty" },
	{ S("1"), 64, COORD_OK, S("\x00"), "one leading zero" },
	{ S("11"), 64, COORD_OK, S("\x00\x00"), "two leading zeros" },
	{ S("112"), 64, COORD_OK, S("\x00\x00\x01"), "zeros then a value" },
	{ S("2"), 64, COORD_OK, S("\x01"), "one" },
	{ S("z"), 64, COORD_OK, S("\x39"), "57" },
	{ S("21"), 64, COORD_OK, S("\x3a"), "58: a '1' after a digit is a digit" },
	{ S("5Q"), 64, COORD_OK, S("\xff"), "255" },
	{ S("LUv"), 64, COORD_OK, S("\xff\xff"), "65535" },
	{ S("2NEpo7TZRRrLZSi2U"), 64, COORD_OK, S("Hello World!"), "Hello World!" },
	{ S("11111111111111111111111111111111"), 32, COORD_OK,
	  S("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
	  "32 zero bytes" },
	{ S(PUBKEY58), 32, COORD_OK, S(PUBKEY), "ed25519 public key" },
	{ S(SIG58), 64, COORD_OK, S(SIG), "ed25519 signature" },
	/* output overflow */
	{ S("1"), 0, COORD_ERR_INVALID, S(""), "no room" },
	{ S("11"), 1, COORD_ERR_INVALID, S(""), "zeros overflow" },
	{ S("2NEpo7TZRRrLZSi2U"), 11, COORD_ERR_INVALID, S(""), "one byte short" },
	{ S("2NEpo7TZRRrLZSi2U"), 12, COORD_OK, S("Hello World!"), "exact fit" },
	{ S(PUBKEY58), 31, COORD_ERR_INVALID, S(""), "public key into 31 bytes" },
	{ S(SIG58), 32, COORD_ERR_INVALID, S(""), "signature into a key buffer" },
	{ S("1" PUBKEY58), 32, COORD_ERR_INVALID, S(""), "leading '1' makes 33 bytes" },
	/* outside the alphabet */
	{ S("0"), 64, COORD_ERR_INVALID, S(""), "0" },
	{ S("O"), 64, COORD_ERR_INVALID, S(""), "O" },
	{ S("I"), 64, COORD_ERR_INVALID, S(""), "I" },
	{ S("l"), 64, COORD_ERR_INVALID, S(""), "l" },
	{ S("2NEpo7TZRR0LZSi2U"), 64, COORD_ERR_INVALID, S(""), "0 inside" },
	{ S("+"), 64, COORD_ERR_INVALID, S(""), "+" },
	{ S("/"), 64, COORD_ERR_INVALID, S(""), "/" },
	{ S("2NE+o7"), 64, COORD_ERR_INVALID, S(""), "+ inside" },
	{ S("2NE/o7"), 64, COORD_ERR_INVALID, S(""), "/ inside" },
	{ S(" 2NEpo7TZRRrLZSi2U"), 64, COORD_ERR_INVALID, S(""), "leading space" },
	{ S("2NEpo7TZRRrLZSi2U "), 64, COORD_ERR_INVALID, S(""), "trailing space" },
	{ S("2NEpo7TZRRrLZSi2U\n"), 64, COORD_ERR_INVALID, S(""), "trailing newline" },
	{ S("2NEpo7TZ\tRRrLZSi2U"), 64, COORD_ERR_INVALID, S(""), "tab inside" },
	{ S("2NEpo7TZRRrLZSi2U\r\n"), 64, COORD_ERR_INVALID, S(""), "CRLF" },
	{ S(" "), 64, COORD_ERR_INVALID, S(""), "only a space" },
	{ S("1 "), 64, COORD_ERR_INVALID, S(""), "space after zeros" },
	{ S("2\0"), 64, COORD_ERR_INVALID, S(""), "embedded NUL" },
	{ S("\0"), 64, COORD_ERR_INVALID, S(""), "only NUL" },
	{ S("2\xc3\xa9"), 64, COORD_ERR_INVALID, S(""), "non-ASCII" },
	{ S("2\xb2"), 64, COORD_ERR_INVALID, S(""), "high byte" },
	{ S("-"), 64, COORD_ERR_INVALID, S(""), "-" },
	{ S("_"), 64, COORD_ERR_INVALID, S(""), "_" },
	{ S("="), 64, COORD_ERR_INVALID, S(""), "=" },
	{ S("ed25519:" PUBKEY58), 64, COORD_ERR_INVALID, S(""), "scheme prefix is the caller's" },
};

static void test_base58_cases(void)
{
	for (size_t i = 0; i < N(b58_cases); i++) {
		unsigned char out[80];
		size_t outlen = UNSET;
		memset(out, CANARY, sizeof(out));
		enum coord_err e = coord_base58_decode(b58_cases[i].text, b58_cases[i].len, out,
						       b58_cases[i].outcap, &outlen);
		bool good = e == b58_cases[i].want;
		if (good && e == COORD_OK)
			good = outlen == b58_cases[i].nbytes &&
			       memcmp(out, b58_cases[i].bytes, outlen) == 0;
		if (good && e != COORD_OK)
			good = outlen == UNSET;
		/* never past outcap, whatever the result */
		if (good)
			good = all_are(out + b58_cases[i].outcap, sizeof(out) - b58_cases[i].outcap,
				       CANARY);
		ok(good, "base58_decode #%zu %s \"%s\" cap %zu -> %s (got %s)", i, b58_cases[i].what,
		   show(b58_cases[i].text, b58_cases[i].len), b58_cases[i].outcap,
		   err_name(b58_cases[i].want), err_name(e));

		if (b58_cases[i].want != COORD_OK)
			continue;
		char text[100];
		size_t max = coord_base58_encoded_max(b58_cases[i].nbytes);
		ok(max <= sizeof(text), "base58_encoded_max(%zu) = %zu", b58_cases[i].nbytes, max);
		coord_base58_encode((const unsigned char *)b58_cases[i].bytes, b58_cases[i].nbytes,
				    text);
		ok(strlen(text) == b58_cases[i].len &&
			   memcmp(text, b58_cases[i].text, b58_cases[i].len) == 0,
		   "base58_encode #%zu %s -> \"%s\" (got \"%s\")", i, b58_cases[i].what,
		   b58_cases[i].text, text);
	}

	char text[8];
	coord_base58_encode((const unsigned char *)"", 0, text);
	ok(text[0] == '\0', "base58_encode of no bytes is the empty text");

	unsigned char out[8];
	size_t outlen = UNSET;
	enum coord_err e = coord_base58_decode(NULL, 5, out, sizeof(out), &outlen);
	ok(e == COORD_ERR_INVALID && outlen == UNSET, "base58_decode of NULL (got %s)", err_name(e));
}

static void test_base58_bounds(void)
{
	char text[COORD_BASE58_MAX_TEXT + 2];
	unsigned char out[COORD_BASE58_MAX_TEXT + 2];
	size_t outlen;
	enum coord_err e;

	memset(text, '1', sizeof(text));
	outlen = UNSET;
	e = coord_base58_decode(text, COORD_BASE58_MAX_TEXT, out, sizeof(out), &outlen);
	ok(e == COORD_OK && outlen == COORD_BASE58_MAX_TEXT && all_are(out, outlen, 0),
	   "256 '1's -> 256 zero bytes (got %s %zu)", err_name(e), outlen);
	outlen = UNSET;
	e = coord_base58_decode(text, COORD_BASE58_MAX_TEXT + 1, out, sizeof(out), &outlen);
	ok(e == COORD_ERR_INVALID && outlen == UNSET, "257 '1's refused (got %s)", err_name(e));

	/* the largest 256-digit value, 58^256 - 1, needs 188 bytes */
	memset(text, 'z', sizeof(text));
	outlen = UNSET;
	e = coord_base58_decode(text, COORD_BASE58_MAX_TEXT, out, sizeof(out), &outlen);
	ok(e == COORD_OK && outlen == 188, "256 'z's -> 188 bytes (got %s %zu)", err_name(e),
	   outlen);
	outlen = UNSET;
	e = coord_base58_decode(text, COORD_BASE58_MAX_TEXT, out, 188, &outlen);
	ok(e == COORD_OK && outlen == 188, "256 'z's fit exactly 188 bytes (got %s)", err_name(e));
	outlen = UNSET;
	memset(out, CANARY, sizeof(out));
	e = coord_base58_decode(text, COORD_BASE58_MAX_TEXT, out, 187, &outlen);
	ok(e == COORD_ERR_INVALID && outlen == UNSET && all_are(out, sizeof(out), CANARY),
	   "256 'z's into 187 bytes refused, nothing written (got %s)", err_name(e));
	e = coord_base58_decode(text, COORD_BASE58_MAX_TEXT + 1, out, sizeof(out), &outlen);
	ok(e == COORD_ERR_INVALID, "257 'z's refused (got %s)", err_name(e));
	e = coord_base58_decode(text, 100000, out, sizeof(out), &outlen);
	ok(e == COORD_ERR_INVALID, "a length of 100000 refused before reading (got %s)",
	   err_name(e));

	/* 187 bytes of 0xff encode to exactly 256 characters, 188 to 257 */
	unsigned char ff[188];
	char enc[400];
	memset(ff, 0xff, sizeof(ff));
	ok(coord_base58_encoded_max(sizeof(ff)) <= sizeof(enc), "encoded_max(188) fits the buffer");
	coord_base58_encode(ff, 187, enc);
	ok(strlen(enc) == 256, "187 x ff -> 256 characters (got %zu)", strlen(enc));
	e = coord_base58_decode(enc, strlen(enc), out, sizeof(out), &outlen);
	ok(e == COORD_OK && outlen == 187 && memcmp(out, ff, 187) == 0,
	   "... and decodes back (got %s)", err_name(e));
	coord_base58_encode(ff, 188, enc);
	ok(strlen(enc) == 257, "188 x ff -> 257 characters (got %zu)", strlen(enc));

	static const struct {
		size_t n, max;
	} maxes[] = { { 0, 2 }, { 1, 4 }, { 32, 47 }, { 64, 91 }, { 100, 140 }, { 188, 262 } };
	for (size_t i = 0; i < N(maxes); i++)
		ok(coord_base58_encoded_max(maxes[i].n) == maxes[i].max,
		   "base58_encoded_max(%zu) = %zu (got %zu)", maxes[i].n, maxes[i].max,
		   coord_base58_encoded_max(maxes[i].n));
}

/* Reference encoder by repeated division of the whole number by 58. */
static void ref_base58_encode(const unsigned char *in, size_t n, char *out)
{
	static const char alphabet[] =
		"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	unsigned char *num = malloc(n ? n : 1);
	char *rev = malloc(2 * n + 1);
	size_t zeros = 0, nd = 0;
	if (!num || !rev)
		abort();
	memcpy(num, in, n);
	while (zeros < n && in[zeros] == 0)
		zeros++;
	for (;;) {
		bool nonzero = false;
		unsigned rem = 0;
		for (size_t i = zeros; i < n; i++) {
			unsigned cur = rem * 256 + num[i];
			num[i] = (unsigned char)(cur / 58);
			rem = cur % 58;
			nonzero |= num[i] != 0;
		}
		bool was_zero = !nonzero && rem == 0;
		if (was_zero)
			break;
		rev[nd++] = alphabet[rem];
		if (!nonzero)
			break;
	}
	size_t o = 0;
	for (size_t i = 0; i < zeros; i++)
		out[o++] = '1';
	while (nd)
		out[o++] = rev[--nd];
	out[o] = '\0';
	free(rev);
	free(num);
}

static void test_base58_round_trips(void)
{
	int trials = 0, bad = 0;
	size_t first_bad = 0;
	for (size_t n = 0; n <= 200; n++) {
		for (int kind = 0; kind < 4; kind++) {
			unsigned char in[200], out[COORD_BASE58_MAX_TEXT];
			size_t max = coord_base58_encoded_max(n), outlen = UNSET;
			/* exactly the documented size, so ASan sees any overrun */
			char *text = malloc(max);
			char *ref = malloc(2 * n + 2);
			if (!text || !ref)
				abort();
			fill(in, n, kind);
			coord_base58_encode(in, n, text);
			ref_base58_encode(in, n, ref);
			size_t tlen = strlen(text);
			bool good = tlen < max && strcmp(text, ref) == 0;
			if (good && n > 0 && tlen <= COORD_BASE58_MAX_TEXT) {
				enum coord_err e = coord_base58_decode(text, tlen, out, n, &outlen);
				good = e == COORD_OK && outlen == n && memcmp(out, in, n) == 0;
				if (good)
					good = coord_base58_decode(text, tlen, out, n - 1, &outlen) ==
					       COORD_ERR_INVALID;
			}
			trials++;
			if (!good && bad++ == 0)
				first_bad = n;
			free(ref);
			free(text);
		}
	}
	ok(bad == 0, "base58 round trips against the reference: %d buffers of 0..200 bytes, %d bad "
		     "(first at %zu bytes)", trials, bad, first_bad);
}

/* ---- base64 ---- */

static const struct {
	const char *text;
	size_t len;
	enum coord_err want;
	const char *bytes;
	size_t nbytes;
	const char *what;
} b64_cases[] = {
	/* RFC 4648 §10 */
	{ S(""), COORD_OK, S(""), "RFC: empty" },
	{ S("Zg=="), COORD_OK, S("f"), "RFC: f" },
	{ S("Zm8="), COORD_OK, S("fo"), "RFC: fo" },
	{ S("Zm9v"), COORD_OK, S("foo"), "RFC: foo" },
	{ S("Zm9vYg=="), COORD_OK, S("foob"), "RFC: foob" },
	{ S("Zm9vYmE="), COORD_OK, S("fooba"), "RFC: fooba" },
	{ S("Zm9vYmFy"), COORD_OK, S("foobar"), "RFC: foobar" },
	{ S("AAAA"), COORD_OK, S("\0\0\0"), "zero bytes" },
	{ S("AA=="), COORD_OK, S("\0"), "one zero byte" },
	{ S("/+/+"), COORD_OK, S("\xff\xef\xfe"), "+ and /" },
	{ S("////"), COORD_OK, S("\xff\xff\xff"), "all ones" },
	{ S("AAECAwQFBgcICQ=="), COORD_OK, S("\0\1\2\3\4\5\6\7\10\11"), "0..9" },
	/* pad bits */
	{ S("Zh=="), COORD_ERR_INVALID, S(""), "non-zero pad bits, one byte" },
	{ S("Zv=="), COORD_ERR_INVALID, S(""), "pad bits 1111" },
	{ S("Zm9="), COORD_ERR_INVALID, S(""), "non-zero pad bits, two bytes" },
	{ S("Zm/="), COORD_ERR_INVALID, S(""), "pad bits 11" },
	{ S("Zm9vYh=="), COORD_ERR_INVALID, S(""), "pad bits in a later quantum" },
	/* padding in the wrong place or the wrong amount */
	{ S("Zg"), COORD_ERR_INVALID, S(""), "unpadded f" },
	{ S("Zm8"), COORD_ERR_INVALID, S(""), "unpadded fo" },
	{ S("Zm9vYg"), COORD_ERR_INVALID, S(""), "unpadded foob" },
	{ S("Zg="), COORD_ERR_INVALID, S(""), "one '=' short" },
	{ S("Zg==="), COORD_ERR_INVALID, S(""), "three '='" },
	{ S("Z==="), COORD_ERR_INVALID, S(""), "'=' in the second place" },
	{ S("===="), COORD_ERR_INVALID, S(""), "only padding" },
	{ S("=Zg="), COORD_ERR_INVALID, S(""), "'=' first" },
	{ S("Z=g="), COORD_ERR_INVALID, S(""), "'=' second" },
	{ S("Zg=A"), COORD_ERR_INVALID, S(""), "'=' then a character" },
	{ S("Zm=v"), COORD_ERR_INVALID, S(""), "'=' inside a quantum" },
	{ S("Zg==Zg=="), COORD_ERR_INVALID, S(""), "'=' in the middle" },
	{ S("Zm8=Zm9v"), COORD_ERR_INVALID, S(""), "one '=' in the middle" },
	{ S("Zg==AAAA"), COORD_ERR_INVALID, S(""), "padded quantum, then more" },
	{ S("Zm9vYmFy===="), COORD_ERR_INVALID, S(""), "a quantum of padding" },
	{ S("A"), COORD_ERR_INVALID, S(""), "length 1" },
	{ S("Zm9vY"), COORD_ERR_INVALID, S(""), "length 5, no padding" },
	{ S("Zm9vYmE"), COORD_ERR_INVALID, S(""), "length 7" },
	/* whitespace */
	{ S(" Zm9v"), COORD_ERR_INVALID, S(""), "leading space" },
	{ S("Zm9v "), COORD_ERR_INVALID, S(""), "trailing space" },
	{ S("Zm9v\n"), COORD_ERR_INVALID, S(""), "trailing newline" },
	{ S("Zm9v\r\n"), COORD_ERR_INVALID, S(""), "trailing CRLF (length 6)" },
	{ S("Zm9vYm\r\n"), COORD_ERR_INVALID, S(""), "CRLF, length a multiple of 4" },
	{ S("Zm9v\nYmFy"), COORD_ERR_INVALID, S(""), "line break between quanta" },
	{ S("Zm 9vYmF"), COORD_ERR_INVALID, S(""), "space inside, length 8" },
	{ S("Zm9\tYmFy"), COORD_ERR_INVALID, S(""), "tab inside" },
	{ S("    "), COORD_ERR_INVALID, S(""), "four spaces" },
	{ S("Zg= "), COORD_ERR_INVALID, S(""), "space for the last '='" },
	/* other alphabets and bytes */
	{ S("-_-_"), COORD_ERR_INVALID, S(""), "URL-safe - and _" },
	{ S("Zm-v"), COORD_ERR_INVALID, S(""), "URL-safe -" },
	{ S("Zm_v"), COORD_ERR_INVALID, S(""), "URL-safe _" },
	{ S("Zm9\0"), COORD_ERR_INVALID, S(""), "embedded NUL" },
	{ S("Zm\0v"), COORD_ERR_INVALID, S(""), "NUL inside" },
	{ S("Zm9\xff"), COORD_ERR_INVALID, S(""), "high byte" },
	{ S("Zm\xc3\xa9"), COORD_ERR_INVALID, S(""), "non-ASCII" },
	{ S("Zm.v"), COORD_ERR_INVALID, S(""), "." },
	{ S("Zm9v*"), COORD_ERR_INVALID, S(""), "*" },
};

static void test_base64_cases(void)
{
	for (size_t i = 0; i < N(b64_cases); i++) {
		unsigned char out[32];
		size_t outlen = UNSET;
		size_t room = b64_cases[i].len / 4 * 3;
		memset(out, CANARY, sizeof(out));
		enum coord_err e = coord_base64_decode(b64_cases[i].text, b64_cases[i].len, out,
						       &outlen);
		bool good = e == b64_cases[i].want;
		if (good && e == COORD_OK)
			good = outlen == b64_cases[i].nbytes &&
			       memcmp(out, b64_cases[i].bytes, outlen) == 0;
		if (good && e != COORD_OK)
			good = outlen == UNSET;
		if (good)
			good = all_are(out + room, sizeof(out) - room, CANARY);
		ok(good, "base64_decode #%zu %s \"%s\" -> %s (got %s)", i, b64_cases[i].what,
		   show(b64_cases[i].text, b64_cases[i].len), err_name(b64_cases[i].want),
		   err_name(e));

		if (b64_cases[i].want != COORD_OK)
			continue;
		char text[40];
		size_t need = coord_base64_encoded_len(b64_cases[i].nbytes);
		coord_base64_encode((const unsigned char *)b64_cases[i].bytes, b64_cases[i].nbytes,
				    text);
		ok(need == b64_cases[i].len + 1 && strlen(text) == b64_cases[i].len &&
			   memcmp(text, b64_cases[i].text, b64_cases[i].len) == 0,
		   "base64_encode #%zu %s -> \"%s\" (got \"%s\", encoded_len %zu)", i,
		   b64_cases[i].what, b64_cases[i].text, text, need);
	}

	unsigned char out[8];
	size_t outlen = UNSET;
	enum coord_err e = coord_base64_decode(NULL, 4, out, &outlen);
	ok(e == COORD_ERR_INVALID && outlen == UNSET, "base64_decode of NULL, length 4 (got %s)",
	   err_name(e));
	e = coord_base64_decode(NULL, 0, out, &outlen);
	ok(e == COORD_OK && outlen == 0, "base64_decode of NULL, length 0 (got %s)", err_name(e));

	static const struct {
		size_t n, len;
	} lens[] = { { 0, 1 }, { 1, 5 }, { 2, 5 }, { 3, 5 }, { 4, 9 }, { 568, 761 } };
	for (size_t i = 0; i < N(lens); i++)
		ok(coord_base64_encoded_len(lens[i].n) == lens[i].len,
		   "base64_encoded_len(%zu) = %zu (got %zu)", lens[i].n, lens[i].len,
		   coord_base64_encoded_len(lens[i].n));
}

static void test_base64_round_trips(void)
{
	int trials = 0, bad = 0;
	size_t first_bad = 0;
	for (size_t n = 0; n <= 1100; n++) {
		int kinds = n <= 64 || n % 97 == 0 ? 4 : 1;
		for (int kind = 0; kind < kinds; kind++) {
			unsigned char *in = malloc(n ? n : 1);
			size_t tlen = coord_base64_encoded_len(n);
			char *text = malloc(tlen);
			unsigned char *ref = malloc(tlen);
			if (!in || !text || !ref)
				abort();
			fill(in, n, kind);
			coord_base64_encode(in, n, text);
			int rlen = EVP_EncodeBlock(ref, in, (int)n);
			bool good = strlen(text) + 1 == tlen && (size_t)rlen + 1 == tlen &&
				    memcmp(text, ref, tlen) == 0;
			/* exactly len/4*3 bytes of room, so ASan sees any overrun */
			size_t room = (tlen - 1) / 4 * 3;
			unsigned char *out = malloc(room ? room : 1);
			size_t outlen = UNSET;
			if (!out)
				abort();
			if (good)
				good = coord_base64_decode(text, tlen - 1, out, &outlen) == COORD_OK &&
				       outlen == n && memcmp(out, in, n) == 0;
			/* one changed character or a dropped one is refused or decodes differently */
			if (good && n > 0) {
				size_t at = (size_t)(rng() % (tlen - 1));
				char saved = text[at];
				text[at] = ' ';
				good = coord_base64_decode(text, tlen - 1, out, &outlen) ==
				       COORD_ERR_INVALID;
				text[at] = saved;
				good = good && coord_base64_decode(text, tlen - 2, out, &outlen) ==
						       COORD_ERR_INVALID;
			}
			trials++;
			if (!good && bad++ == 0)
				first_bad = n;
			free(out);
			free(ref);
			free(text);
			free(in);
		}
	}
	ok(bad == 0, "base64 round trips against EVP_EncodeBlock: %d buffers of 0..1100 bytes, "
		     "%d bad (first at %zu bytes)", trials, bad, first_bad);

	/* every one-byte and two-byte value with every pad-bit pattern */
	int accepted = 0, wrong = 0;
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (int a = 0; a < 64; a++) {
		for (int b = 0; b < 64; b++) {
			char q[4] = { alphabet[a], alphabet[b], '=', '=' };
			unsigned char out[3];
			size_t outlen;
			enum coord_err e = coord_base64_decode(q, 4, out, &outlen);
			if (e == COORD_OK) {
				accepted++;
				if (outlen != 1 || out[0] != (unsigned char)(a << 2 | b >> 4))
					wrong++;
			}
			if ((e == COORD_OK) != ((b & 0x0f) == 0))
				wrong++;
		}
	}
	ok(accepted == 256 && wrong == 0,
	   "\"xy==\": exactly the 256 forms with zero pad bits decode (got %d, %d wrong)", accepted,
	   wrong);
}

/* ---- hex ---- */

static const struct {
	const char *text;
	size_t len;
	size_t n;
	enum coord_err want;
	const char *bytes;
	const char *what;
} hex_cases[] = {
	{ S(""), 0, COORD_OK, "", "empty into 0 bytes" },
	{ S("00"), 1, COORD_OK, "\x00", "zero" },
	{ S("00ff7f80"), 4, COORD_OK, "\x00\xff\x7f\x80", "lower case" },
	{ S("00FF7F80"), 4, COORD_OK, "\x00\xff\x7f\x80", "upper case" },
	{ S("aBcDeF"), 3, COORD_OK, "\xab\xcd\xef", "mixed case" },
	{ S("0123456789abcdefABCDEF"), 11, COORD_OK, "\x01\x23\x45\x67\x89\xab\xcd\xef\xab\xcd\xef",
	  "every digit" },
	{ S(""), 1, COORD_ERR_INVALID, "", "empty into 1 byte" },
	{ S("0"), 0, COORD_ERR_INVALID, "", "odd length 1, n 0" },
	{ S("0"), 1, COORD_ERR_INVALID, "", "odd length 1, n 1" },
	{ S("000"), 1, COORD_ERR_INVALID, "", "odd length 3" },
	{ S("0000"), 1, COORD_ERR_INVALID, "", "too long for n" },
	{ S("0000"), 3, COORD_ERR_INVALID, "", "too short for n" },
	{ S("0g"), 1, COORD_ERR_INVALID, "", "g" },
	{ S("G0"), 1, COORD_ERR_INVALID, "", "G" },
	{ S("0x00"), 2, COORD_ERR_INVALID, "", "0x prefix" },
	{ S(" 0"), 1, COORD_ERR_INVALID, "", "leading space" },
	{ S("0 "), 1, COORD_ERR_INVALID, "", "trailing space" },
	{ S("00\n"), 1, COORD_ERR_INVALID, "", "trailing newline" },
	{ S("+1"), 1, COORD_ERR_INVALID, "", "sign" },
	{ S("-1"), 1, COORD_ERR_INVALID, "", "minus" },
	{ S("0\0"), 1, COORD_ERR_INVALID, "", "embedded NUL" },
	{ S("\xc3\xa9"), 1, COORD_ERR_INVALID, "", "non-ASCII" },
	{ S("0:"), 1, COORD_ERR_INVALID, "", "':' after '9'" },
	{ S("0@"), 1, COORD_ERR_INVALID, "", "'@' before 'A'" },
	{ S("0`"), 1, COORD_ERR_INVALID, "", "'`' before 'a'" },
	{ S("ffff"), SIZE_MAX / 2 + 3, COORD_ERR_INVALID, "", "2n wraps around to 4" },
};

static void test_hex(void)
{
	for (size_t i = 0; i < N(hex_cases); i++) {
		unsigned char out[16];
		memset(out, CANARY, sizeof(out));
		/* a refused n never reaches out, so a small buffer is safe */
		enum coord_err e = coord_hex_decode(hex_cases[i].text, hex_cases[i].len, out,
						    hex_cases[i].n);
		bool good = e == hex_cases[i].want;
		if (good && e == COORD_OK)
			good = memcmp(out, hex_cases[i].bytes, hex_cases[i].n) == 0 &&
			       all_are(out + hex_cases[i].n, sizeof(out) - hex_cases[i].n, CANARY);
		ok(good, "hex_decode #%zu %s \"%s\" n %zu -> %s (got %s)", i, hex_cases[i].what,
		   show(hex_cases[i].text, hex_cases[i].len), hex_cases[i].n,
		   err_name(hex_cases[i].want), err_name(e));
	}

	unsigned char key[32];
	enum coord_err e = coord_hex_decode(NULL, 2, key, 1);
	ok(e == COORD_ERR_INVALID, "hex_decode of NULL, length 2 (got %s)", err_name(e));
	e = coord_hex_decode(NULL, 0, key, 0);
	ok(e == COORD_OK, "hex_decode of NULL, length 0 into 0 bytes (got %s)", err_name(e));
	e = coord_hex_decode(
		S("670d5316087a5785ab9ccb848fcfd838e52887debfbe95d5c540219d77d82124"), key, 32);
	ok(e == COORD_OK && memcmp(key, PUBKEY, 32) == 0,
	   "64 hex characters -> the same public key as its base58 form (got %s)", err_name(e));
}

int main(void)
{
	test_base58_cases();
	test_base58_bounds();
	test_base58_round_trips();
	test_base64_cases();
	test_base64_round_trips();
	test_hex();
	return tap_done();
}
