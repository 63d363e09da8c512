/*
 * Rate limits (SPEC §1.9): a fixed 60-second window per class and subject,
 * counted in Redis by one Lua script (EVALSHA) shared by every process.
 * Owns the keys rl:<class>:<ip> and pk_rate:<owner>:<nonce>.
 */
#ifndef COORD_RATELIMIT_H
#define COORD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_config.h"
#include "coord_redis.h"

enum coord_rl_class { COORD_RL_SECRETS, COORD_RL_API, COORD_RL_PUBLIC_STORAGE, COORD_RL_KEY };

/* "secrets", "api", "public_storage", "key": the class in headers and logs. */
const char *coord_ratelimit_class_name(enum coord_rl_class cls);

struct coord_rl_result {
	bool counted;          /* false: Redis unreachable or refusing; nothing below is set */
	bool admitted;         /* count <= limit */
	int64_t limit;         /* the class's requests per minute */
	int64_t remaining;     /* max(limit - count, 0) */
	int64_t reset_seconds; /* ceil(pttl / 1000): when the window ends */
};

/*
 * Counts one request of cls for subject (the client IP, or "owner:nonce"
 * for COORD_RL_KEY). A NOSCRIPT answer loads the script and retries once.
 */
void coord_ratelimit_hit(struct coord_redis *redis, const struct coord_config *cfg,
			 enum coord_rl_class cls, const char *subject, struct coord_rl_result *out);

#endif
