#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

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

void coord_sha1_hex(const void *data, size_t len, char out[static 41])
{
	unsigned char md[20];
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha1(), NULL);
	coord_hex_encode(md, 20, out);
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

enum coord_err coord_sha256_file(const char *path, char out[static 65])
{
	unsigned char md[32], chunk[65536];
	unsigned int mdlen = 0;
	enum coord_err status = COORD_ERR_IO;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		EVP_DigestUpdate(ctx, chunk, (size_t)n);
	if (n < 0 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		goto out;
	coord_hex_encode(md, 32, out);
	status = COORD_OK;
out:
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	EVP_MD_CTX_free(ctx);
	return status;
}

bool coord_ed25519_verify(const unsigned char pub[static 32], const unsigned char *msg,
			  size_t len, const unsigned char sig[static 64])
{
	bool ok = false;
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (key && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}
