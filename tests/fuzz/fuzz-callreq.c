/*
 * libFuzzer target: the api group's header parsers (lib/coord_callreq.c):
 * X-Payment-Key, money headers and their sum, X-Wallet-Id, Idempotency-Key.
 * Each is checked against the rules of SPEC §1.6, §3.3.1 and §4.6.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "coord_callreq.h"
#include "coord_parse.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_payment_key(const char *s, size_t len)
{
	struct coord_paykey_header k;
	if (coord_callreq_payment_key(s, len, &k) != COORD_OK)
		return;
	size_t olen = strlen(k.owner);
	CHECK(olen >= 1 && olen < len && memcmp(k.owner, s, olen) == 0 && s[olen] == ':');
	CHECK(memchr(k.owner, ':', olen) == NULL);
	CHECK(coord_utf8_valid(k.owner, olen) && coord_utf8_chars(k.owner, olen) <= 64);
	CHECK(k.nonce >= 0 && k.nonce <= 4294967295LL);
	CHECK(strlen(k.secret_hash) == 64 && coord_lowerhex_valid(k.secret_hash, 64, 64));
	/* the rest after the nonce is exactly the 64 hex digits */
	const char *c2 = memchr(s + olen + 1, ':', len - olen - 1);
	CHECK(c2 && (size_t)(s + len - c2 - 1) == 64 && coord_hex_valid(c2 + 1, 64, 64));
}

static void check_money(const char *s, size_t len)
{
	char out[39], sum[40];
	if (coord_callreq_money(s, len, out) != COORD_OK) {
		CHECK(!coord_money_valid(s, len));
		return;
	}
	CHECK(coord_money_valid(out, strlen(out)));
	CHECK(coord_money_cmp(out, strlen(out), s, len) == 0);
	/* x + 0 = x; x + x is 2x or refused only when it has 38 digits */
	CHECK(coord_callreq_money_add(out, "0", sum) && strcmp(sum, out) == 0);
	if (coord_callreq_money_add(out, out, sum))
		CHECK(coord_money_valid(sum, strlen(sum)) && coord_money_cmp(sum, strlen(sum), out, strlen(out)) >= 0);
	else
		CHECK(strlen(out) == 38);
}

static void check_wallet(const char *s, size_t len)
{
	if (!coord_callreq_wallet_id(s, len))
		return;
	size_t pl = len > 8 && memcmp(s, "ed25519:", 8) == 0 ? 8 : 10;
	CHECK(pl == 8 || (len > 10 && memcmp(s, "secp256k1:", 10) == 0));
	CHECK(len - pl >= 1 && len - pl <= 128);
	for (size_t i = pl; i < len; i++)
		CHECK(s[i] != '0' && s[i] != 'O' && s[i] != 'I' && s[i] != 'l' &&
		      ((s[i] >= '1' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
		       (s[i] >= 'a' && s[i] <= 'z')));
}

static void check_idem(const char *s, size_t len)
{
	char out[256];
	if (coord_callreq_idem_key(s, len, out) != COORD_OK)
		return;
	size_t n = strlen(out);
	CHECK(n >= 1 && n <= 255 && (n == len || n + 2 == len));
	for (size_t i = 0; i < n; i++)
		CHECK(out[i] >= 0x21 && out[i] <= 0x7e && out[i] != '"' && out[i] != '\\');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	check_payment_key(s, size);
	check_money(s, size);
	check_wallet(s, size);
	check_idem(s, size);
	return 0;
}
