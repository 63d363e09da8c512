/* Advisory worker locks in Redis (SPEC §3.2.8). */
#ifndef COORD_LOCKS_H
#define COORD_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coord_err.h"
#include "coord_redis.h"

#define COORD_LOCK_KEY_MAX 512

/* SET lock:<key> <worker_id> NX EX ttl; *acquired false when Redis is unreachable. */
void coord_locks_acquire(struct coord_redis *redis, const char *key, size_t key_len,
			 const char *worker_id, int64_t ttl_seconds, bool *acquired);
/* DEL lock:<key>; COORD_ERR_UNAVAILABLE when Redis is unreachable. */
enum coord_err coord_locks_release(struct coord_redis *redis, const char *key, size_t key_len);

#endif
