/*
 * Worker bearer tokens (SPEC §1.6) and their management by
 * coord-worker-token (SPEC §6.2). Only SHA-256 hashes are stored.
 */
#ifndef COORD_AUTH_H
#define COORD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "coord_db.h"
#include "coord_err.h"
#include "coord_mem.h"

/*
 * Looks up an active token by its hash; touches last_used_at at most once
 * a minute. *worker_name is allocated from arena. COORD_ERR_NOT_FOUND for
 * unknown or inactive tokens.
 */
enum coord_err coord_auth_worker(struct coord_db *db, const char token_hash[static 65],
				 struct coord_arena *arena, const char **worker_name);

/* Stores the hash of token under name; COORD_ERR_CONFLICT if present. */
enum coord_err coord_tokens_add(struct coord_db *db, const char *name, const char *token,
				size_t token_len, char hash_out[static 65]);

struct coord_token_row {
	const char *worker_name;
	char hash_prefix[13];
	bool is_active;
	const char *created_at;   /* RFC 3339 */
	const char *last_used_at; /* NULL if never */
	const char *last_attestation_at;
};

/* Lists tokens (active only unless all), into rows allocated from arena. */
enum coord_err coord_tokens_list(struct coord_db *db, bool all, struct coord_arena *arena,
				 struct coord_token_row **rows, size_t *n);

/* Revokes every active token named name; COORD_ERR_NOT_FOUND if none. */
enum coord_err coord_tokens_revoke_name(struct coord_db *db, const char *name, size_t *count);
/*
 * Revokes the one token whose hash starts with prefix (8..64 lower-case
 * hex); COORD_ERR_NOT_FOUND (no match) or COORD_ERR_CONFLICT (ambiguous).
 */
enum coord_err coord_tokens_revoke_prefix(struct coord_db *db, const char *prefix);

#endif
