/* The TEE keystore service (SPEC §3.6, §3.4.1). */
#ifndef COORD_KEYSTORE_H
#define COORD_KEYSTORE_H

#include <stddef.h>

#include "coord_config.h"
#include "coord_err.h"

/* worker_status id of the keystore row: "<network>-keystore" (SPEC §3.4.1). */
void coord_keystore_worker_id(const struct coord_config *cfg, char out[static 96]);

/*
 * GET <KEYSTORE_BASE_URL>/health with a 5 s timeout. COORD_ERR_NOT_FOUND
 * when the keystore is not configured; COORD_ERR_UPSTREAM (err filled)
 * on failure or a non-2xx answer.
 */
enum coord_err coord_keystore_health(const struct coord_config *cfg, char *err, size_t errlen);

#endif
