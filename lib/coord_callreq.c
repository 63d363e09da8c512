#include <string.h>

#include "coord_callreq.h"
#include "coord_crypto.h"
#include "coord_parse.h"
#include "banned.h"

enum coord_err coord_callreq_payment_key(const char *v, size_t len, struct coord_paykey_header *out)
{
	const char *end = v + len;
	const char *c1 = memchr(v, ':', len);
	if (!c1)
		return COORD_ERR_INVALID;
	const char *c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
	if (!c2)
		return COORD_ERR_INVALID;
	size_t olen = (size_t)(c1 - v);
	if (olen == 0 || olen >= sizeof(out->owner) || memchr(v, '\0', olen) ||
	    !coord_utf8_valid(v, olen) ||
	    coord_utf8_chars(v, olen) > 64)
		return COORD_ERR_INVALID;
	const char *n = c1 + 1;
	size_t nlen = (size_t)(c2 - n);
	if (nlen == 0 || nlen > 10)
		return COORD_ERR_INVALID;
	for (size_t i = 0; i < nlen; i++)
		if (n[i] < '0' || n[i] > '9')
			return COORD_ERR_INVALID;
	int64_t nonce;
	if (coord_parse_i64(n, nlen, 0, 4294967295LL, &nonce) != COORD_OK)
		return COORD_ERR_INVALID;
	const char *secret = c2 + 1;
	size_t slen = (size_t)(end - secret);
	if (!coord_hex_valid(secret, slen, 64))
		return COORD_ERR_INVALID;
	char lower[64];
	for (size_t i = 0; i < 64; i++)
		lower[i] = (char)(secret[i] >= 'A' && secret[i] <= 'F' ? secret[i] + 32 : secret[i]);
	memcpy(out->owner, v, olen);
	out->owner[olen] = '\0';
	out->nonce = nonce;
	coord_sha256_hex(lower, 64, out->secret_hash);
	memset(lower, 0, sizeof(lower));
	return COORD_OK;
}

enum coord_err coord_callreq_money(const char *v, size_t len, char out[static 39])
{
	if (!coord_money_valid(v, len))
		return COORD_ERR_INVALID;
	coord_money_canonical(v, len, out);
	return COORD_OK;
}

bool coord_callreq_money_add(const char *a, const char *b, char out[static 40])
{
	size_t la = strlen(a), lb = strlen(b);
	char rev[41];
	size_t n = 0;
	int carry = 0;
	if (la > 38 || lb > 38)
		return false;
	for (size_t i = 0; i < la || i < lb || carry; i++) {
		int d = carry;
		if (i < la)
			d += a[la - 1 - i] - '0';
		if (i < lb)
			d += b[lb - 1 - i] - '0';
		rev[n++] = (char)('0' + d % 10);
		carry = d / 10;
	}
	while (n > 1 && rev[n - 1] == '0')
		n--;
	if (n > 38)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
	return true;
}

static bool base58_char(char c)
{
	return (c >= '1' && c <= '9') || (c >= 'A' && c <= 'H') || (c >= 'J' && c <= 'N') ||
	       (c >= 'P' && c <= 'Z') || (c >= 'a' && c <= 'k') || (c >= 'm' && c <= 'z');
}

bool coord_callreq_wallet_id(const char *v, size_t len)
{
	static const char *const schemes[] = { "ed25519:", "secp256k1:" };
	for (size_t s = 0; s < 2; s++) {
		size_t pl = strlen(schemes[s]);
		if (len <= pl || memcmp(v, schemes[s], pl) != 0)
			continue;
		if (len - pl > 128)
			return false;
		for (size_t i = pl; i < len; i++)
			if (!base58_char(v[i]))
				return false;
		return true;
	}
	return false;
}

enum coord_err coord_callreq_idem_key(const char *v, size_t len, char out[static 256])
{
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v++;
		len -= 2;
	}
	if (len == 0 || len > 255)
		return COORD_ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return COORD_ERR_INVALID;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	return COORD_OK;
}
