/*
 * Idempotency of POST /call (SPEC §4.6): records in idempotency_keys,
 * scoped by (owner, nonce, key), that hold the first request's
 * fingerprint and, once it is answered, its stored response.
 */
#ifndef COORD_IDEM_H
#define COORD_IDEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_mem.h"

/*
 * hex(sha256) of "POST\n<path>\n<compute limit>\n<deposit>\n<wallet id or empty>\n<body>"
 * (limit and deposit canonical).
 */
void coord_idem_fingerprint(const char *path, const char *compute_limit, const char *deposit,
			    const char *wallet_id, const char *body, size_t body_len,
			    char out[static 65]);

enum coord_idem_state {
	COORD_IDEM_PROCEED,   /* a new in-flight record: the request goes on */
	COORD_IDEM_REPLAY,    /* a stored response: status, content_type, body */
	COORD_IDEM_REUSED,    /* another fingerprint: 422 idempotency_key_reused */
	COORD_IDEM_IN_FLIGHT, /* still being processed: 409 idempotency_key_in_flight */
	COORD_IDEM_ORPHAN     /* in flight too long, with a call: rebuild from call_id */
};

struct coord_idem_hit {
	enum coord_idem_state state;
	int status;
	const char *content_type, *body; /* from the arena */
	size_t body_len;
	char call_id[40];
};

/*
 * INSERT ... ON CONFLICT DO NOTHING, then the existing record's verdict.
 * A record in flight for more than HTTPS_CALL_TIMEOUT_SECONDS + 60 s without
 * a call is replaced (PROCEED).
 */
enum coord_err coord_idem_begin(struct coord_db *db, const struct coord_config *cfg,
				const char *owner, int64_t nonce, const char *key,
				const char *fingerprint, struct coord_arena *arena,
				struct coord_idem_hit *hit);

/* Inside the call's transaction: the record now names its call. */
enum coord_err coord_idem_attach(struct coord_db *db, const char *owner, int64_t nonce,
				 const char *key, const char *call_id);

/* Stores the response for replay (state done). */
enum coord_err coord_idem_store(struct coord_db *db, const char *owner, int64_t nonce,
				const char *key, int status, const char *content_type,
				const char *body, size_t len);

/* Deletes the in-flight record of a request that created no call. */
enum coord_err coord_idem_forget(struct coord_db *db, const char *owner, int64_t nonce,
				 const char *key);

#endif
