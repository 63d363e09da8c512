/*
 * Table-driven tests of lib/coord_callreq: the api group's header parsers
 * (X-Payment-Key, money headers and their sum, X-Wallet-Id, Idempotency-Key).
 */
#include <stdbool.h>
#include <string.h>

#include "coord_callreq.h"
#include "coord_crypto.h"
#include "tap.h"
#include "banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX64U "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"

static void payment_keys(void)
{
	static const struct {
		const char *v;
		bool ok;
		const char *owner;
		long long nonce;
	} cases[] = {
		{ "alice.near:0:" HEX64, true, "alice.near", 0 },
		{ "alice.near:4294967295:" HEX64, true, "alice.near", 4294967295LL },
		{ "alice.near:4294967296:" HEX64, false, NULL, 0 },
		{ "alice.near:007:" HEX64, true, "alice.near", 7 },
		{ "alice.near:+7:" HEX64, false, NULL, 0 },
		{ "alice.near:-1:" HEX64, false, NULL, 0 },
		{ "alice.near::" HEX64, false, NULL, 0 },
		{ "alice.near:99999999999:" HEX64, false, NULL, 0 },
		{ ":1:" HEX64, false, NULL, 0 },
		{ "alice.near:1", false, NULL, 0 },
		{ "alice.near", false, NULL, 0 },
		{ "", false, NULL, 0 },
		{ "alice.near:1:" HEX64 "0", false, NULL, 0 },
		{ "alice.near:1:" HEX64 ":", false, NULL, 0 },
		{ "alice.near:1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", false, NULL, 0 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1:" HEX64, true,
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1:" HEX64, false, NULL, 0 },
		{ "\xc3\xa9t\xc3\xa9:1:" HEX64, true, "\xc3\xa9t\xc3\xa9", 1 },
		{ "\xff:1:" HEX64, false, NULL, 0 },
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct coord_paykey_header k;
		enum coord_err e = coord_callreq_payment_key(cases[i].v, strlen(cases[i].v), &k);
		ok((e == COORD_OK) == cases[i].ok, "payment key %s: %s", show(cases[i].v, strlen(cases[i].v)),
		   cases[i].ok ? "accepted" : "refused");
		if (cases[i].ok && e == COORD_OK)
			ok(strcmp(k.owner, cases[i].owner) == 0 && k.nonce == cases[i].nonce,
			   "payment key %zu: owner and nonce", i);
	}
	/* the secret is lower-cased before hashing */
	struct coord_paykey_header a, b;
	char want[65];
	coord_sha256_hex(HEX64, 64, want);
	ok(coord_callreq_payment_key("o:1:" HEX64U, strlen("o:1:" HEX64U), &a) == COORD_OK &&
	   coord_callreq_payment_key("o:1:" HEX64, strlen("o:1:" HEX64), &b) == COORD_OK &&
	   strcmp(a.secret_hash, b.secret_hash) == 0 && strcmp(a.secret_hash, want) == 0,
	   "secret hash is sha256 of the lower-cased secret");
}

static void money(void)
{
	static const struct {
		const char *v, *canon;
	} cases[] = {
		{ "0", "0" }, { "007000", "7000" }, { "00", "0" },
		{ "99999999999999999999999999999999999999", "99999999999999999999999999999999999999" },
		{ "999999999999999999999999999999999999999", NULL }, { "", NULL }, { "-1", NULL },
		{ "1.5", NULL }, { " 1", NULL }, { "1e3", NULL }, { "+1", NULL },
	};
	for (size_t i = 0; i < N(cases); i++) {
		char out[39];
		enum coord_err e = coord_callreq_money(cases[i].v, strlen(cases[i].v), out);
		if (cases[i].canon)
			ok(e == COORD_OK && strcmp(out, cases[i].canon) == 0, "money %s -> %s", cases[i].v,
			   cases[i].canon);
		else
			ok(e == COORD_ERR_INVALID, "money %s refused", show(cases[i].v, strlen(cases[i].v)));
	}
	static const struct {
		const char *a, *b, *sum;
	} sums[] = {
		{ "0", "0", "0" }, { "1", "9", "10" }, { "999", "1", "1000" }, { "10000", "0", "10000" },
		{ "99999999999999999999999999999999999998", "1", "99999999999999999999999999999999999999" },
		{ "99999999999999999999999999999999999999", "1", NULL },
		{ "50000000000000000000000000000000000000", "50000000000000000000000000000000000000", NULL },
	};
	for (size_t i = 0; i < N(sums); i++) {
		char out[40];
		bool okay = coord_callreq_money_add(sums[i].a, sums[i].b, out);
		if (sums[i].sum)
			ok(okay && strcmp(out, sums[i].sum) == 0, "%s + %s = %s", sums[i].a, sums[i].b, sums[i].sum);
		else
			ok(!okay, "%s + %s reaches 10^38", sums[i].a, sums[i].b);
	}
}

static void wallets(void)
{
	static const struct {
		const char *v;
		bool ok;
	} cases[] = {
		{ "ed25519:abc", true }, { "secp256k1:9xQ", true }, { "ed25519:", false },
		{ "ed25519:0abc", false }, { "ed25519:Iabc", false }, { "ed25519:lO", false },
		{ "ED25519:abc", false }, { "rsa:abc", false }, { "ed25519abc", false }, { "", false },
		{ "ed25519:ab c", false },
		{ "ed25519:11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111", true },
		{ "ed25519:111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111", false },
	};
	for (size_t i = 0; i < N(cases); i++)
		ok(coord_callreq_wallet_id(cases[i].v, strlen(cases[i].v)) == cases[i].ok, "wallet %s: %s",
		   show(cases[i].v, strlen(cases[i].v)), cases[i].ok ? "accepted" : "refused");
}

static void idem_keys(void)
{
	static const struct {
		const char *v, *key;
	} cases[] = {
		{ "abc-123", "abc-123" }, { "\"abc\"", "abc" }, { "\"\"", NULL }, { "", NULL },
		{ "a b", NULL }, { "a\"b", NULL }, { "a\\b", NULL }, { "\"a\"b\"", NULL },
		{ "\"abc", NULL }, { "~!#$%&'()*+,-./:;<=>?@[]^_`{|}", "~!#$%&'()*+,-./:;<=>?@[]^_`{|}" },
		{ "caf\xc3\xa9", NULL }, { "a\tb", NULL },
	};
	for (size_t i = 0; i < N(cases); i++) {
		char out[256];
		enum coord_err e = coord_callreq_idem_key(cases[i].v, strlen(cases[i].v), out);
		if (cases[i].key)
			ok(e == COORD_OK && strcmp(out, cases[i].key) == 0, "idempotency key %s",
			   show(cases[i].v, strlen(cases[i].v)));
		else
			ok(e == COORD_ERR_INVALID, "idempotency key %s refused",
			   show(cases[i].v, strlen(cases[i].v)));
	}
	char long_key[258];
	char out[256];
	memset(long_key, 'k', 257);
	long_key[257] = '\0';
	ok(coord_callreq_idem_key(long_key, 255, out) == COORD_OK && strlen(out) == 255,
	   "255 characters accepted");
	ok(coord_callreq_idem_key(long_key, 256, out) == COORD_ERR_INVALID, "256 characters refused");
	long_key[0] = long_key[256] = '"';
	ok(coord_callreq_idem_key(long_key, 257, out) == COORD_OK && strlen(out) == 255,
	   "255 characters in quotes accepted (the quotes do not count)");
}

int main(void)
{
	payment_keys();
	money();
	wallets();
	idem_keys();
	return tap_done();
}
