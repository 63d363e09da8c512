/*
 * The request headers of the api group (SPEC §1.6, §3.3.1, §4.6), as pure
 * functions over the raw header bytes: no I/O, no allocation. The fuzz
 * target tests/fuzz/fuzz-callreq.c and tests/unit/test-callreq.c drive them.
 */
#ifndef COORD_CALLREQ_H
#define COORD_CALLREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coord_err.h"

#define COORD_PAYKEY_OWNER_BYTES 256 /* 64 characters of at most 4 bytes, plus NUL */

struct coord_paykey_header {
	char owner[COORD_PAYKEY_OWNER_BYTES];
	int64_t nonce;
	char secret_hash[65]; /* hex(sha256(lower-cased secret)) */
};

/*
 * X-Payment-Key "<owner>:<nonce>:<secret>", split at the first two ':'.
 * COORD_ERR_INVALID (400 invalid_payment_key_format): fewer than three
 * parts, owner empty, above 64 characters or not UTF-8, nonce not a decimal u32 without sign, secret not
 * exactly 64 hex characters. The secret itself is not kept.
 */
enum coord_err coord_callreq_payment_key(const char *v, size_t len, struct coord_paykey_header *out);

/* A money header (X-Compute-Limit, X-Attached-Deposit): canonical form in out, or COORD_ERR_INVALID. */
enum coord_err coord_callreq_money(const char *v, size_t len, char out[static 39]);

/* a + b of two canonical money strings into out; false when the sum reaches 10^38. */
bool coord_callreq_money_add(const char *a, const char *b, char out[static 40]);

/* X-Wallet-Id: "ed25519:" or "secp256k1:" followed by 1-128 base58 characters. */
bool coord_callreq_wallet_id(const char *v, size_t len);

/*
 * Idempotency-Key (SPEC §4.6): one pair of surrounding double quotes is
 * removed first; then 1-255 characters from 0x21-0x7E without '"' or '\'.
 * The key goes to out (NUL-terminated). COORD_ERR_INVALID otherwise.
 */
enum coord_err coord_callreq_idem_key(const char *v, size_t len, char out[static 256]);

#endif
