/*
 * Payment keys and their balances: the synchronisation routes of the
 * event monitor (SPEC §3.2.11), the balance and usage views (§3.3.3,
 * §3.4.5) and grants (§3.5, §6.2 grant-payment-key). Money crosses this
 * interface as decimal strings only; every sum and comparison is done by
 * PostgreSQL, and a sum that would reach 10^38 rolls its transaction back
 * with COORD_ERR_RANGE (§1.4).
 */
#ifndef COORD_PAYKEYS_H
#define COORD_PAYKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "coord_db.h"
#include "coord_err.h"

#define COORD_PAYKEY_OWNER_MAX 64 /* characters */
#define COORD_PAYKEY_NONCE_MAX 4294967295LL
#define COORD_PAYKEY_NOTE_MAX 1024 /* characters */

/* What /payment-keys/init and /topup/complete write; validated by the caller. */
struct coord_paykey_sync {
	const char *owner;
	int64_t nonce;
	const char *key_hash;         /* 64 hex digits of either case; stored lower-case */
	const char *project_ids_json; /* a JSON array of strings (empty: every project) */
	const char *max_per_call;     /* money or NULL; zero is stored as NULL (no limit) */
};

/* INSERT with initial_balance 0 unless (owner, nonce) exists, live or deleted. */
enum coord_err coord_paykeys_init(struct coord_db *db, const struct coord_paykey_sync *k,
				  bool *created);

/*
 * /topup/complete in one transaction. amount NULL: "set" mode
 * (initial_balance = new_initial_balance). Otherwise "add" mode: a new key
 * gets new_initial_balance, an existing one initial_balance + amount, unless
 * the same (owner, nonce, new_initial_balance, amount) was already recorded:
 * then *repeat is set and nothing changes. COORD_ERR_RANGE: overflow.
 */
enum coord_err coord_paykeys_topup(struct coord_db *db, const struct coord_paykey_sync *k,
				   const char *new_initial_balance, const char *amount,
				   bool *repeat);

/* Soft-deletes a live key; *deleted false when there was none. */
enum coord_err coord_paykeys_delete(struct coord_db *db, const char *owner, int64_t nonce,
				    bool *deleted);

/*
 * The balance object of SPEC §3.3.3 (secret_hash given) or §3.4.5, in a new
 * *out (caller puts it): owner, nonce, initial_balance, spent, reserved,
 * available, last_used_at[, is_grant]. With secret_hash (hex sha256 of the
 * key's secret) the key is verified in the same statement: only a live key
 * whose hash matches is reported, else COORD_ERR_NOT_FOUND. Without: a
 * missing key reports zeros and null, a deleted key its stored amounts with
 * available "0".
 */
enum coord_err coord_paykeys_balance(struct coord_db *db, const char *owner, int64_t nonce,
				     const char *secret_hash, json_object **out);

/* The usage page of SPEC §3.4.5 ({"usage":[...],"total","offset","limit"}). */
enum coord_err coord_paykeys_usage(struct coord_db *db, const char *owner, int64_t nonce,
				   int64_t limit, int64_t offset, json_object **out);

/* ---- verification of the api group (SPEC §1.6, §3.3.1) ---- */

struct coord_paykey_auth {
	bool is_grant;
	bool project_allowed;   /* project_ids empty or holding the project (true without one) */
	bool over_max_per_call; /* max_per_call set and amount above it (false without amount) */
	char max_per_call[40];  /* "" when not set */
};

/*
 * The live key (owner, nonce) whose key_hash equals secret_hash (compared in
 * constant time); COORD_ERR_NOT_FOUND when there is none or it differs.
 * project_id and amount (canonical money) may be NULL.
 */
enum coord_err coord_paykeys_verify(struct coord_db *db, const char *owner, int64_t nonce,
				    const char *secret_hash, const char *project_id,
				    const char *amount, struct coord_paykey_auth *out);

/* ---- grants (SPEC §3.5, §6.2) ---- */

/*
 * NULL when amount (len bytes) may be granted, else why not, in the words
 * of SPEC §3.5: not a money string, or zero.
 */
const char *coord_paykeys_grant_amount_problem(const char *amount, size_t len);

struct coord_paykey_grant {
	const char *owner;
	int64_t nonce;
	const char *amount; /* money > 0 (coord_paykeys_grant_amount_problem) */
	const char *note;   /* NULL: none */
	bool from_cli;      /* recorded source: 'cli', else 'api' */
	bool dry_run;       /* run every statement, then roll back */
};

/*
 * Grants in one transaction; *out (new, caller puts it) is the answer of
 * POST /admin/grant-payment-key: owner, nonce, initial_balance (the new
 * total), is_grant. COORD_ERR_NOT_FOUND: no live key; COORD_ERR_CONFLICT:
 * the key has a user-funded balance; COORD_ERR_RANGE: overflow.
 */
enum coord_err coord_paykeys_grant(struct coord_db *db, const struct coord_paykey_grant *g,
				   json_object **out);

/* The live grant keys, newest first (GET /admin/grant-keys). */
enum coord_err coord_paykeys_grant_keys(struct coord_db *db, json_object **out);

/* Soft-deletes a live grant key; COORD_ERR_NOT_FOUND when it is not one. */
enum coord_err coord_paykeys_grant_delete(struct coord_db *db, const char *owner, int64_t nonce);

#endif
