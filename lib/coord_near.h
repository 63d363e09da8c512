/* NEAR JSON-RPC view calls (SPEC §4.2). No call is made when NEAR is off. */
#ifndef COORD_NEAR_H
#define COORD_NEAR_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
