/* The TEE keystore service (SPEC §3.6, §3.4.7, §3.4.1). */
#ifndef COORD_KEYSTORE_H
#define COORD_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "coord_buf.h"
#include "coord_config.h"
#include "coord_err.h"

/* worker_status id of the keystore row: "<network>-keystore" (SPEC §3.4.1). */
void coord_keystore_worker_id(const struct coord_config *cfg, char out[static 96]);

struct coord_keystore_answer {
	long status;
	struct coord_buf body; /* the caller releases it */
};

/*
 * One call of <KEYSTORE_BASE_URL><path>: POST of body (len bytes,
 * Content-Type: application/json) or, with body NULL, GET; at most
 * timeout_ms in all. bearer: "Authorization: Bearer <KEYSTORE_AUTH_TOKEN>"
 * when that is set (never any Authorization header otherwise).
 * COORD_ERR_NOT_FOUND: KEYSTORE_BASE_URL unset, nothing sent.
 * COORD_ERR_UPSTREAM: no answer (err says why: connection failure, timeout,
 * answer too large; never a token). Any HTTP status is COORD_OK.
 */
enum coord_err coord_keystore_call(const struct coord_config *cfg, const char *path,
				   const char *body, size_t len, bool bearer, long timeout_ms,
				   struct coord_keystore_answer *out, char *err, size_t errlen);

/*
 * GET <KEYSTORE_BASE_URL>/health with a 5 s timeout. COORD_ERR_NOT_FOUND
 * when the keystore is not configured; COORD_ERR_UPSTREAM (err filled)
 * on failure or a non-2xx answer.
 */
enum coord_err coord_keystore_health(const struct coord_config *cfg, char *err, size_t errlen);

#endif
