/* TEE challenges and sessions (SPEC §1.6, §3.2.7, §6.2 tee-challenge-cleanup). */
#ifndef COORD_TEE_H
#define COORD_TEE_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_db.h"
#include "coord_err.h"

/*
 * True iff header is a UUID naming an active, unexpired session of
 * token_hash. A missing or malformed header is simply "no session".
 */
enum coord_err coord_tee_session_valid(struct coord_db *db, const char *header,
				       const char *token_hash, bool *valid);

/* A new challenge of token_hash: 64 lower-case hex characters in out. */
enum coord_err coord_tee_challenge_new(struct coord_db *db, const char *token_hash,
				       char out[static 65]);
/*
 * Consumes the challenge if it was issued to token_hash; COORD_ERR_NOT_FOUND
 * when unknown, used or another token's. *expired: older than 60 s.
 */
enum coord_err coord_tee_challenge_take(struct coord_db *db, const char *challenge,
					const char *token_hash, bool *expired);
/*
 * In one transaction: deactivates the active sessions of (token_hash,
 * public_key) and opens a new one for ttl seconds. session_id receives the
 * uuid, expires_at the RFC 3339 time.
 */
enum coord_err coord_tee_session_open(struct coord_db *db, const char *token_hash,
				      const char *public_key, int64_t ttl,
				      char session_id[static 37], char expires_at[static 32]);

struct coord_tee_cleanup_counts {
	long challenges_deleted, sessions_expired, sessions_deleted;
};

/* tee-challenge-cleanup, in batches of 500 rows per transaction. */
enum coord_err coord_tee_cleanup(struct coord_db *db, bool dry_run,
				 struct coord_tee_cleanup_counts *counts);

#endif
