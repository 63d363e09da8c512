#include <pthread.h>
#include <string.h>

#include "coord_crypto.h"
#include "coord_log.h"
#include "coord_metrics.h"
#include "coord_ratelimit.h"
#include "banned.h"

/*
 * INCR, and on the window's first request EXPIRE 60; returns {count, pttl}.
 * A key left without a TTL (written by hand) gets one too, so that it can
 * never lock a client out for good.
 */
static const char script[] =
	"local c = redis.call('INCR', KEYS[1]) "
	"local t = redis.call('PTTL', KEYS[1]) "
	"if c == 1 or t < 0 then redis.call('EXPIRE', KEYS[1], 60) t = 60000 end "
	"return {c, t}";

static char script_sha[41];
static pthread_once_t script_sha_once = PTHREAD_ONCE_INIT;

static void compute_script_sha(void)
{
	coord_sha1_hex(script, strlen(script), script_sha);
}

static const char *const class_names[] = {
	[COORD_RL_SECRETS] = "secrets",
	[COORD_RL_API] = "api",
	[COORD_RL_PUBLIC_STORAGE] = "public_storage",
	[COORD_RL_KEY] = "key",
};

const char *coord_ratelimit_class_name(enum coord_rl_class cls)
{
	return class_names[cls];
}

static int64_t class_limit(const struct coord_config *cfg, enum coord_rl_class cls)
{
	switch (cls) {
	case COORD_RL_SECRETS: return cfg->rate_limit_secrets_per_minute;
	case COORD_RL_API: return cfg->rate_limit_api_per_minute;
	case COORD_RL_PUBLIC_STORAGE: return cfg->rate_limit_public_storage_per_minute;
	case COORD_RL_KEY: return cfg->payment_key_rate_limit_per_minute;
	}
	return 0;
}

static bool is_noscript(const redisReply *rep)
{
	return rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0;
}

/* The script's {count, pttl}; false for any other answer. */
static bool read_counts(const redisReply *rep, int64_t *count, int64_t *pttl)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER ||
	    rep->element[1]->type != REDIS_REPLY_INTEGER)
		return false;
	*count = rep->element[0]->integer;
	*pttl = rep->element[1]->integer;
	return true;
}

void coord_ratelimit_hit(struct coord_redis *redis, const struct coord_config *cfg,
			 enum coord_rl_class cls, const char *subject, struct coord_rl_result *out)
{
	char key[256];
	int64_t count, pttl;
	memset(out, 0, sizeof(*out));
	pthread_once(&script_sha_once, compute_script_sha);
	if (cls == COORD_RL_KEY)
		snprintf(key, sizeof(key), "pk_rate:%s", subject);
	else
		snprintf(key, sizeof(key), "rl:%s:%s", class_names[cls], subject);

	redisReply *rep = coord_redis_command(redis, 2000, "EVALSHA %s 1 %s", script_sha, key);
	if (rep && is_noscript(rep)) {
		/* a restarted Redis has an empty script cache: load it, then try once more */
		freeReplyObject(rep);
		rep = coord_redis_command(redis, 2000, "SCRIPT LOAD %s", script);
		if (rep) {
			freeReplyObject(rep);
			rep = coord_redis_command(redis, 2000, "EVALSHA %s 1 %s", script_sha, key);
		}
	}
	if (!rep) {
		coord_log(COORD_LOG_WARN, "ratelimit: Redis unreachable; %s not counted",
			  class_names[cls]);
		return;
	}
	if (!read_counts(rep, &count, &pttl)) {
		coord_log(COORD_LOG_WARN, "ratelimit: unexpected answer from Redis%s%s",
			  rep->type == REDIS_REPLY_ERROR ? ": " : "",
			  rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		freeReplyObject(rep);
		return;
	}
	freeReplyObject(rep);
	out->counted = true;
	out->limit = class_limit(cfg, cls);
	out->admitted = count <= out->limit;
	if (!out->admitted)
		coord_metrics_rate_limited(class_names[cls]);
	out->remaining = count < out->limit ? out->limit - count : 0;
	out->reset_seconds = pttl > 0 ? (pttl + 999) / 1000 : 0;
}
