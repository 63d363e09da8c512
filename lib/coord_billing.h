/*
 * HTTPS calls and their money (SPEC §3.3, §4.4): the reservation made by
 * POST /call together with the call, its request and its queue item in one
 * transaction, and the ONE settlement function F(call, outcome) every path
 * that finalises a call goes through (worker completion, compile failure,
 * synchronous timeout, stuck-call expiry, delivery or lease exhaustion).
 * Owns the Redis key call_done:<call_id> (wake-up of a synchronous waiter).
 * Money crosses this interface as canonical decimal strings only; every
 * sum, min and comparison is done by PostgreSQL on NUMERIC.
 */
#ifndef COORD_BILLING_H
#define COORD_BILLING_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_queue.h"
#include "coord_redis.h"

#define COORD_CALL_ID_LEN 36

/* The outcome rows of SPEC §4.4 step 2. */
enum coord_call_outcome {
	COORD_OUTCOME_WORKER,         /* /https-calls/complete: success decides the row */
	COORD_OUTCOME_COMPILE_FAILED, /* error: the compile error text */
	COORD_OUTCOME_TIMEOUT,        /* the synchronous deadline: "Timeout" */
	COORD_OUTCOME_EXPIRED,        /* stuck-call expiry: "Timeout: no result within <n> s" */
	COORD_OUTCOME_UNDELIVERED,    /* "not processed: delivery attempts exhausted" */
	COORD_OUTCOME_WORKER_LOST     /* "worker lost" */
};

struct coord_settlement {
	enum coord_call_outcome outcome;
	const char *error; /* worker's error, compile error; NULL: the outcome's own text */
	/* COORD_OUTCOME_WORKER only */
	bool success;
	const char *output_json; /* compact JSON text of output, or NULL */
	int64_t instructions, time_ms;
	const char *refund_usd; /* canonical money or NULL */
	bool has_job_id;
	int64_t job_id;
};

/*
 * F(call, outcome) inside the caller's transaction (steps 1-6 of SPEC
 * §4.4). *finalized false: the call is no longer pending (nothing changed).
 * COORD_ERR_NOT_FOUND: no such call. On success with *finalized the
 * call id is recorded in pushes->call_done for the wake-up (step 7) that
 * coord_queue_push sends after the commit.
 */
enum coord_err coord_billing_settle_in_tx(struct coord_db *db, const struct coord_config *cfg,
					  const char *call_id, const struct coord_settlement *s,
					  struct coord_pushes *pushes, bool *finalized);

/* F in its own transaction (run again after a deadlock), with the wake-up after the commit. */
enum coord_err coord_billing_settle(struct coord_db *db, struct coord_redis *redis,
				    const struct coord_config *cfg, const char *call_id,
				    const struct coord_settlement *s, bool *finalized);

/* Step 7: LPUSH call_done:<id> 1, EXPIRE 600; a Redis failure is ignored. */
void coord_billing_wake(struct coord_redis *redis, const char *call_id);

/* What POST /call creates (SPEC §3.3.1 step 12); all validated by the caller. */
struct coord_call_new {
	const char *owner;
	int64_t nonce;
	const char *project_id, *project_uuid, *version_key, *wallet_id; /* last two may be NULL */
	const char *compute_limit, *deposit, *reserve; /* canonical money; reserve = the sum */
	const char *input_json;                        /* compact JSON text of input */
	bool is_async;
	int64_t max_instructions, max_memory_mb, max_execution_seconds;
	const char *secrets_profile, *secrets_account_id; /* both or neither */
	const char *idem_key; /* the in-flight Idempotency-Key record to attach, or NULL */
};

/*
 * Reserves and creates the call in one transaction, then pushes its item.
 * call_id gets the new id. *insufficient (with available, canonical money)
 * when the balance is short: nothing was written. COORD_ERR_NOT_FOUND: the
 * key is no longer live. COORD_ERR_RANGE: a sum reached 10^38.
 */
enum coord_err coord_billing_call_create(struct coord_db *db, struct coord_redis *redis,
					 const struct coord_config *cfg,
					 const struct coord_call_new *c,
					 char call_id[static COORD_CALL_ID_LEN + 1],
					 bool *insufficient, char available[static 40]);

/*
 * The HTTPS item of a stored HTTPS request (SPEC §3.1.2 "Rebuild": limits
 * default to 1 000 000 000 instructions, 128 MB, 60 s), in a new *payload
 * (caller puts it); NULL when request_id is no complete HTTPS request.
 */
enum coord_err coord_billing_rebuild_payload(struct coord_db *db, int64_t request_id,
					     json_object **payload);

/*
 * The result shape of SPEC §3.3.2 in a new *out (caller puts it); *pending
 * tells whether the call is still pending. owner NULL: any key's call.
 * COORD_ERR_NOT_FOUND: unknown, or a call of another (owner, nonce).
 */
enum coord_err coord_billing_call_result(struct coord_db *db, const char *call_id,
					 const char *owner, int64_t nonce, json_object **out,
					 bool *pending);

/*
 * Waits (BRPOP call_done:<id> in slices of at most 1 s, every 100 ms while
 * Redis is unreachable) until the call is terminal or deadline_ms (a
 * coord_monotonic_ms() instant) passes or stop() says so. *pending false:
 * *out holds the result shape; otherwise *out is NULL.
 */
enum coord_err coord_billing_call_wait(struct coord_db *db, struct coord_redis *redis,
				       const char *call_id, int64_t deadline_ms,
				       bool (*stop)(void), json_object **out, bool *pending);

/* ---- payment-key-cleanup (SPEC §6.2) ---- */

struct coord_cleanup_counts {
	long calls_expired, keys_deleted, idem_deleted;
};

/*
 * (1) F(call, expiry) for every call pending more than
 * HTTPS_CALL_TIMEOUT_SECONDS + 60 s, one per transaction; (2) stale
 * never-funded keys; (3) old Idempotency-Key records. stop() is polled
 * between transactions (COORD_ERR_IO when it stopped the run).
 */
enum coord_err coord_billing_cleanup(struct coord_db *db, struct coord_redis *redis,
				     const struct coord_config *cfg, bool (*stop)(void),
				     struct coord_cleanup_counts *n);

#endif
