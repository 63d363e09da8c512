/*
 * Jobs (SPEC §3.2.3, §3.2.4): a claim turns a leased item into a job by
 * the decision table C1-X3; a completion closes the job exactly once.
 */
#ifndef COORD_JOBS_H
#define COORD_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_executions.h"
#include "coord_queue.h"
#include "coord_redis.h"

/* ---- the claim decision table, a pure function ---- */

enum coord_job_status {
	COORD_JOB_ABSENT,
	COORD_JOB_PENDING,
	COORD_JOB_IN_PROGRESS,
	COORD_JOB_COMPLETED,
	COORD_JOB_FAILED /* any failure status */
};

struct coord_claim_job {
	enum coord_job_status status;
	bool has_compile_error;
};

struct coord_claim_input {
	bool can_compile, can_execute;
	bool compile_only, force_rebuild, has_compile_result;
	bool wasm_ok;
	struct coord_claim_job cj, ej; /* compile and execute job of (request_id, data_id) */
};

enum coord_claim_action {
	COORD_CLAIM_NONE,
	COORD_CLAIM_INSERT_COMPILE,
	COORD_CLAIM_TAKE_COMPILE,
	COORD_CLAIM_INSERT_EXECUTE,
	COORD_CLAIM_TAKE_EXECUTE
};

enum coord_item_fate {
	COORD_FATE_CLAIMED,
	COORD_FATE_SUPERSEDED,
	COORD_FATE_MOVE_COMPILE,
	COORD_FATE_MOVE_EXECUTE
};

struct coord_claim_decision {
	const char *row; /* "C1" … "X3" */
	enum coord_claim_action action;
	enum coord_item_fate fate;
	bool reset_compile_job; /* E2: a completed compile job goes back to pending */
};

void coord_claim_decide(const struct coord_claim_input *in, struct coord_claim_decision *out);

/* ---- claim ---- */

struct coord_claim {
	int64_t request_id;
	const char *data_id;
	const char *worker_id;
	struct coord_code_source cs; /* checksum as received */
	const char *user_account_id, *transaction_hash, *near_payment_yocto;
	bool can_compile, can_execute;
	bool compile_only, force_rebuild, has_compile_result;
	const char *project_uuid, *project_id;
	const char *token_hash;
};

/* Runs the claim; *result receives {"jobs":[…],"pricing":{…}} (caller puts). */
enum coord_err coord_jobs_claim(struct coord_db *db, struct coord_redis *redis,
				const struct coord_config *cfg, const struct coord_claim *c,
				json_object **result);

/* ---- complete ---- */

struct coord_completion {
	int64_t job_id;
	bool success;
	int64_t time_ms;
	const char *error;
	int64_t instructions;
	const char *wasm_checksum;
	const char *actual_cost_yocto, *compile_cost_yocto; /* canonical money or NULL */
	const char *error_category;                          /* "failed" by default */
	const char *compile_result;
	const char *refund_usd; /* canonical money or NULL */
};

/* COORD_ERR_NOT_FOUND: unknown job; COORD_ERR_CONFLICT: already terminal. */
enum coord_err coord_jobs_complete(struct coord_db *db, struct coord_redis *redis,
				   const struct coord_config *cfg,
				   const struct coord_completion *c);

/* How the reaper fails a job (SPEC §3.1 A.2, B.0, B.1). */
struct coord_job_failure {
	bool expired_lease_only; /* only an in_progress job whose lease has passed */
	bool pending_only;       /* only a pending job */
	const char *item_state;  /* its claimed items become item_state/item_reason */
	const char *item_reason;
};

/*
 * Inside the caller's transaction: fails the job exactly as a completion
 * with success=false, error_category=failed, time_ms=0 would, the items
 * closed as how says; ids to push after the commit are added to pushes.
 * COORD_ERR_CONFLICT when the job is not in the state how requires.
 */
enum coord_err coord_jobs_fail_in_tx(struct coord_db *db, const struct coord_config *cfg,
				     int64_t job_id, const char *error,
				     const struct coord_job_failure *how, struct coord_pushes *pushes);

/*
 * Inside the caller's transaction: the reaper's step B for one job whose
 * lease has passed (SPEC §3.1): fail it (B.0, B.1) or put it back to
 * pending with its item queued again (B.2). *outcome names what happened.
 * COORD_ERR_CONFLICT when the job no longer qualifies (a claim or a
 * completion committed first).
 */
enum coord_err coord_jobs_reap_in_tx(struct coord_db *db, const struct coord_config *cfg,
				     int64_t job_id, int64_t max_attempts,
				     struct coord_pushes *pushes, const char **outcome);

#endif
