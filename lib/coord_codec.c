#include <stdbool.h>
#include <string.h>

#include "coord_codec.h"
#include "coord_int.h"
#include "banned.h"

static const char base58_alphabet[] =
	"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..57, or -1 outside the alphabet (NUL included). */
static int base58_value(unsigned char c)
{
	const char *p = memchr(base58_alphabet, c, sizeof(base58_alphabet) - 1);
	return p ? (int)(p - base58_alphabet) : -1;
}

enum coord_err coord_base58_decode(const char *text, size_t len, unsigned char *out, size_t outcap,
				   size_t *outlen)
{
	/* Each base58 digit adds less than one byte, so len bytes always hold the number. */
	unsigned char num[COORD_BASE58_MAX_TEXT];
	size_t used = 0; /* significant bytes, at the end of num */
	size_t zeros = 0;

	if (!text || len == 0 || len > COORD_BASE58_MAX_TEXT)
		return COORD_ERR_INVALID;
	while (zeros < len && text[zeros] == '1')
		zeros++;
	for (size_t i = zeros; i < len; i++) {
		int digit = base58_value((unsigned char)text[i]);
		if (digit < 0)
			return COORD_ERR_INVALID;
		unsigned carry = (unsigned)digit;
		size_t j;
		for (j = 0; j < used || carry; j++) {
			size_t k = sizeof(num) - 1 - j;
			carry += 58u * (j < used ? num[k] : 0u);
			num[k] = (unsigned char)(carry & 0xff);
			carry >>= 8;
		}
		used = j;
	}
	if (zeros + used > outcap)
		return COORD_ERR_INVALID;
	memset(out, 0, zeros);
	if (used)
		memcpy(out + zeros, num + sizeof(num) - used, used);
	*outlen = zeros + used;
	return COORD_OK;
}

/*
 * A number of m bytes has at most ceil(m * log 256 / log 58) < 1.37 m
 * base58 digits; ceil(1.38 n), one spare and the NUL bound it for any mix
 * of leading zeros. Never overflows for an object's size (< SIZE_MAX / 2).
 */
size_t coord_base58_encoded_max(size_t n)
{
	return n / 100 * 138 + (n % 100 * 138 + 99) / 100 + 2;
}

void coord_base58_encode(const unsigned char *in, size_t n, char *out)
{
	size_t zeros = 0;
	while (zeros < n && in[zeros] == 0)
		zeros++;
	/*
	 * The base58 digits (values 0..57) are built in out itself, at the
	 * end of the room after the leading '1's, then moved forward and
	 * mapped to the alphabet.
	 */
	unsigned char *digits = (unsigned char *)out + zeros;
	size_t room = coord_base58_encoded_max(n) - 1 - zeros;
	size_t used = 0;
	for (size_t i = zeros; i < n; i++) {
		unsigned carry = in[i];
		size_t j;
		for (j = 0; j < used || carry; j++) {
			size_t k = room - 1 - j;
			carry += 256u * (j < used ? digits[k] : 0u);
			digits[k] = (unsigned char)(carry % 58);
			carry /= 58;
		}
		used = j;
	}
	memset(out, '1', zeros);
	for (size_t j = 0; j < used; j++)
		out[zeros + j] = base58_alphabet[digits[room - used + j]];
	out[zeros + used] = '\0';
}

/* 0..63, or -1 outside the alphabet ('=' included). */
static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

enum coord_err coord_base64_decode(const char *text, size_t len, unsigned char *out, size_t *outlen)
{
	size_t o = 0;

	if (len % 4 != 0 || (len && !text))
		return COORD_ERR_INVALID;
	for (size_t i = 0; i < len; i += 4) {
		const unsigned char *q = (const unsigned char *)text + i;
		bool last = i + 4 == len;
		int a = base64_value(q[0]), b = base64_value(q[1]);
		if (a < 0 || b < 0)
			return COORD_ERR_INVALID;
		if (last && q[2] == '=') {
			/* "xx==": one byte; the 4 low bits of b are padding */
			if (q[3] != '=' || (b & 0x0f))
				return COORD_ERR_INVALID;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			break;
		}
		int c = base64_value(q[2]);
		if (c < 0)
			return COORD_ERR_INVALID;
		if (last && q[3] == '=') {
			/* "xxx=": two bytes; the 2 low bits of c are padding */
			if (c & 0x03)
				return COORD_ERR_INVALID;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			out[o++] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
			break;
		}
		int d = base64_value(q[3]);
		if (d < 0)
			return COORD_ERR_INVALID;
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		out[o++] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
		out[o++] = (unsigned char)((c & 0x03) << 6 | d);
	}
	*outlen = o;
	return COORD_OK;
}

/* Never overflows for an object's size (< SIZE_MAX / 2). */
size_t coord_base64_encoded_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? 4 : 0) + 1;
}

void coord_base64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; n - i >= 3; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = base64_alphabet[v >> 18];
		out[o++] = base64_alphabet[v >> 12 & 0x3f];
		out[o++] = base64_alphabet[v >> 6 & 0x3f];
		out[o++] = base64_alphabet[v & 0x3f];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = base64_alphabet[v >> 18];
		out[o++] = base64_alphabet[v >> 12 & 0x3f];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = base64_alphabet[v >> 18];
		out[o++] = base64_alphabet[v >> 12 & 0x3f];
		out[o++] = base64_alphabet[v >> 6 & 0x3f];
		out[o++] = '=';
	}
	out[o] = '\0';
}

enum coord_err coord_hex_decode(const char *text, size_t len, unsigned char *out, size_t n)
{
	/* len / 2 rather than n * 2, which could wrap */
	if (len % 2 != 0 || len / 2 != n || (len && !text))
		return COORD_ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		int hi = coord_hex_value((unsigned char)text[2 * i]);
		int lo = coord_hex_value((unsigned char)text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return COORD_ERR_INVALID;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return COORD_OK;
}
