#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "coord_crypto.h"
#include "banned.h"

void coord_hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void coord_sha256_hex(const void *data, size_t len, char out[static 65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	coord_hex_encode(md, 32, out);
}

bool coord_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

enum coord_err coord_random_hex(size_t n, char *out)
{
	unsigned char bytes[64];
	if (n > sizeof(bytes) || RAND_bytes(bytes, (int)n) != 1)
		return COORD_ERR_INTERNAL;
	coord_hex_encode(bytes, n, out);
	return COORD_OK;
}
