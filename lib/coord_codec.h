/*
 * Binary-to-text codecs with strict decoders: base58 (ed25519 keys and
 * signatures, SPEC §3.2.7), base64 (TDX quotes, SPEC §3.4.6) and hex. A
 * decoder accepts exactly the text its encoder writes (hex: either case),
 * so a decoded value re-encodes to the same text. Nothing allocates; the
 * caller owns every buffer. On an error *outlen is not set and out holds
 * nothing useful. Hex encoding is coord_hex_encode (coord_crypto.h).
 */
#ifndef COORD_CODEC_H
#define COORD_CODEC_H

#include <stddef.h>

#include "coord_err.h"

/* The longest base58 text coord_base58_decode reads. */
#define COORD_BASE58_MAX_TEXT 256

/*
 * Bitcoin-alphabet base58
 * (123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz), as NEAR
 * uses for ed25519 keys. Decodes text (len bytes) into out (capacity
 * outcap); leading '1's are leading zero bytes. COORD_ERR_INVALID for an
 * empty input, a character outside the alphabet, or a result that does
 * not fit outcap. *outlen gets the decoded length. Bounded work: refuse
 * inputs longer than 256 characters (COORD_BASE58_MAX_TEXT; also
 * COORD_ERR_INVALID).
 */
enum coord_err coord_base58_decode(const char *text, size_t len, unsigned char *out,
				   size_t outcap, size_t *outlen);
/* Encodes n bytes; out must hold coord_base58_encoded_max(n) bytes (incl. NUL). */
size_t coord_base58_encoded_max(size_t n);
/* Quadratic in n: meant for keys and signatures. n == 0 writes "". */
void coord_base58_encode(const unsigned char *in, size_t n, char *out);

/*
 * RFC 4648 §4 base64, strict: alphabet A-Z a-z 0-9 + /, length a multiple
 * of 4, '=' padding only at the end (0, 1 or 2), non-zero pad bits
 * refused, no whitespace. out must hold len/4*3 bytes. The empty text
 * decodes to zero bytes. COORD_ERR_INVALID for anything else.
 */
enum coord_err coord_base64_decode(const char *text, size_t len, unsigned char *out,
				   size_t *outlen);
size_t coord_base64_encoded_len(size_t n); /* including the NUL */
/* out must hold coord_base64_encoded_len(n) bytes; NUL-terminated, with padding. */
void coord_base64_encode(const unsigned char *in, size_t n, char *out);

/* Hex of exactly 2n characters, either case, into n bytes; else COORD_ERR_INVALID. */
enum coord_err coord_hex_decode(const char *text, size_t len, unsigned char *out, size_t n);

#endif
