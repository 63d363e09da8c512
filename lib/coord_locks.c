#include <stdio.h>

#include "coord_locks.h"
#include "coord_log.h"
#include "banned.h"

void coord_locks_acquire(struct coord_redis *redis, const char *key, size_t key_len,
			 const char *worker_id, int64_t ttl_seconds, bool *acquired)
{
	char ttl[24];
	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_seconds);
	redisReply *rep = coord_redis_command(redis, 2000, "SET lock:%b %s NX EX %s", key, key_len,
					      worker_id, ttl);
	*acquired = rep && rep->type == REDIS_REPLY_STATUS;
	if (!rep)
		coord_log(COORD_LOG_WARN, "locks: Redis unreachable; lock not acquired");
	else if (rep->type == REDIS_REPLY_ERROR)
		coord_log(COORD_LOG_WARN, "locks: SET: %s", rep->str);
	if (rep)
		freeReplyObject(rep);
}

enum coord_err coord_locks_release(struct coord_redis *redis, const char *key, size_t key_len)
{
	redisReply *rep = coord_redis_command(redis, 2000, "DEL lock:%b", key, key_len);
	if (!rep)
		return COORD_ERR_UNAVAILABLE;
	enum coord_err e = rep->type == REDIS_REPLY_INTEGER ? COORD_OK : COORD_ERR_INTERNAL;
	freeReplyObject(rep);
	return e;
}
