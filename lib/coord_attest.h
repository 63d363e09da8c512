/* TDX attestations of tasks (SPEC §3.4.6). */
#ifndef COORD_ATTEST_H
#define COORD_ATTEST_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "coord_db.h"
#include "coord_err.h"

#define COORD_QUOTE_MIN_BYTES 568

/* A validated attestation; NULL strings are absent. */
struct coord_attestation {
	int64_t task_id;
	const char *task_type;
	const char *tdx_quote_b64;            /* strict base64, decoded length >= 568 */
	char worker_measurement[97];          /* hex of quote bytes 520..567 */
	bool has_request_id, has_block_height, has_nonce, has_timestamp;
	int64_t request_id, block_height, payment_key_nonce, timestamp;
	const char *caller_account_id, *transaction_hash, *call_id, *payment_key_owner, *repo_url,
		*commit_hash, *build_target, *wasm_hash, *input_hash, *output_hash, *project_id,
		*secrets_ref, *attached_usd;
	const char *token_hash;
};

/* Inserts the row, then records the token's last attestation (failure only logged). */
enum coord_err coord_attest_insert(struct coord_db *db, const struct coord_attestation *a);
/* The newest row of task_id; COORD_ERR_NOT_FOUND when none. */
enum coord_err coord_attest_get(struct coord_db *db, int64_t task_id, json_object **out);

#endif
