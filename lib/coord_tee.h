/* TEE sessions (SPEC §1.6). Challenges and registration come with the TEE issue. */
#ifndef COORD_TEE_H
#define COORD_TEE_H

#include <stdbool.h>

#include "coord_db.h"
#include "coord_err.h"

/*
 * True iff header is a UUID naming an active, unexpired session of
 * token_hash. A missing or malformed header is simply "no session".
 */
enum coord_err coord_tee_session_valid(struct coord_db *db, const char *header,
				       const char *token_hash, bool *valid);

#endif
