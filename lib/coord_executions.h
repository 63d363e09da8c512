/*
 * Blockchain execution requests (SPEC §3.2.1): the execution_requests row
 * and the queue item built from POST /executions/create.
 */
#ifndef COORD_EXECUTIONS_H
#define COORD_EXECUTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_mem.h"
#include "coord_redis.h"

struct coord_code_source {
	bool github;
	const char *repo; /* GitHub */
	const char *commit;
	const char *url;  /* WasmUrl */
	const char *hash;
	const char *build_target;
	char checksum[65];
};

struct coord_exec_context {
	const char *sender_id, *contract_id, *transaction_hash, *receipt_id, *predecessor_id,
		*signer_public_key; /* NULL when unknown */
	bool has_block_height, has_block_timestamp, has_gas_burnt;
	int64_t block_height, block_timestamp, gas_burnt;
};

/* A validated create body; strings live as long as body. */
struct coord_exec_create {
	int64_t request_id;
	const char *data_id;
	struct coord_code_source cs; /* repo already normalised, checksum set */
	int64_t max_instructions, max_memory_mb, max_execution_seconds;
	const char *input_data;
	const char *secrets_profile, *secrets_account_id; /* both or neither */
	const char *response_format;
	struct coord_exec_context ctx;
	const char *user_account_id, *transaction_hash;
	const char *near_payment_yocto, *attached_usd; /* canonical money or NULL */
	bool compile_only, force_rebuild, store_on_fastfs;
	const char *project_uuid, *project_id;
	json_object *body; /* the whole body: its other members are copied verbatim */
};

/* Repository normalisation of SPEC §3.2.1, allocated from arena. */
const char *coord_repo_normalise(struct coord_arena *arena, const char *repo);

/* The resource_limits object of a queue item payload (SPEC §3.1.2; caller puts it). */
json_object *coord_resource_limits_json(int64_t max_instructions, int64_t max_memory_mb,
					int64_t max_execution_seconds);

/* The blockchain item payload of SPEC §3.1.2 (caller puts it). */
json_object *coord_execution_payload(const struct coord_exec_create *c);

/* Steps 2-7 of SPEC §3.2.1; *created false when nothing changed. */
enum coord_err coord_executions_create(struct coord_db *db, struct coord_redis *redis,
				       const struct coord_config *cfg,
				       const struct coord_exec_create *c, bool *created);

#endif
