/* NEAR JSON-RPC view calls (SPEC §4.2). No call is made when NEAR is off. */
#ifndef COORD_NEAR_H
#define COORD_NEAR_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "coord_config.h"
#include "coord_err.h"

/*
 * The final block height (`block`, finality final), with a timeout of
 * timeout_seconds. COORD_ERR_UNAVAILABLE when NEAR_RPC_URL=off,
 * COORD_ERR_UPSTREAM on any failure or an invalid answer.
 */
enum coord_err coord_near_chain_tip(const struct coord_config *cfg, long timeout_seconds,
				    int64_t *height);

/*
 * view_access_key (finality optimistic) of account for public_key
 * ("ed25519:<base58>"), one attempt: *present tells whether the key is an
 * access key. COORD_ERR_UNAVAILABLE when NEAR is off, COORD_ERR_UPSTREAM
 * when the call failed or the answer says neither.
 */
enum coord_err coord_near_access_key(const struct coord_config *cfg, const char *account,
				     const char *public_key, bool *present);

/*
 * A view call (call_function, finality final) of method on OFFCHAINVM_CONTRACT_ID with
 * args_json (NULL: no args, args_base64 ""), one attempt of NEAR_RPC_TIMEOUT_SECONDS.
 * On COORD_OK *result is the parsed JSON of result.result's bytes (caller json_object_put()s;
 * NULL for a JSON null). COORD_ERR_UNAVAILABLE when NEAR_RPC_URL=off,
 * COORD_ERR_UPSTREAM on a transport failure, an "error" member, or an invalid answer.
 */
enum coord_err coord_near_view(const struct coord_config *cfg, const char *method,
			       const char *args_json, json_object **result);

#endif
