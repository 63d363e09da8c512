/* Hashing, constant-time comparison and randomness (OpenSSL). */
#ifndef COORD_CRYPTO_H
#define COORD_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "coord_err.h"

/* out receives 64 lower-case hex characters and a NUL. */
void coord_sha256_hex(const void *data, size_t len, char out[static 65]);
/* SHA-1 as Redis names scripts (EVALSHA): 40 lower-case hex characters and a NUL. */
void coord_sha1_hex(const void *data, size_t len, char out[static 41]);
/* Constant-time equality of two buffers of the same length. */
bool coord_ct_equal(const void *a, const void *b, size_t len);
/* n random bytes from the OpenSSL CSPRNG, as 2n lower-case hex characters + NUL. */
enum coord_err coord_random_hex(size_t n, char *out);
/* SHA-256 of a file's bytes; COORD_ERR_IO (errno set) when it cannot be read. */
enum coord_err coord_sha256_file(const char *path, char out[static 65]);
/* ed25519 signature check of msg with a raw 32-byte public key (OpenSSL). */
bool coord_ed25519_verify(const unsigned char pub[static 32], const unsigned char *msg,
			  size_t len, const unsigned char sig[static 64]);
void coord_hex_encode(const unsigned char *in, size_t n, char *out); /* 2n chars + NUL */

#endif
