#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "coord_log.h"
#include "coord_mem.h"
#include "coord_redis.h"
#include "banned.h"

struct coord_redis {
	const struct coord_redis_url *url;
	redisContext *ctx;
	int timeout_ms; /* currently set on ctx */
};

struct coord_redis *coord_redis_new(const struct coord_redis_url *url)
{
	struct coord_redis *r = coord_xcalloc(1, sizeof(*r));
	r->url = url;
	return r;
}

static void drop(struct coord_redis *r)
{
	if (r->ctx)
		redisFree(r->ctx);
	r->ctx = NULL;
}

void coord_redis_free(struct coord_redis *r)
{
	if (!r)
		return;
	drop(r);
	free(r);
}

static struct timeval tv_ms(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	return tv;
}

static bool reply_ok(redisReply *rep)
{
	bool ok = rep && rep->type != REDIS_REPLY_ERROR;
	if (rep)
		freeReplyObject(rep);
	return ok;
}

static bool open_ctx(struct coord_redis *r)
{
	const struct coord_redis_url *u = r->url;
	struct timeval tv = tv_ms(2000);
	r->ctx = u->is_unix ? redisConnectUnixWithTimeout(u->path, tv)
			    : redisConnectWithTimeout(u->host, u->port, tv);
	if (!r->ctx || r->ctx->err) {
		coord_log(COORD_LOG_WARN, "redis: connect: %s",
			  r->ctx ? r->ctx->errstr : "out of memory");
		drop(r);
		return false;
	}
	r->timeout_ms = 5000;
	redisSetTimeout(r->ctx, tv_ms(r->timeout_ms));
	if (u->has_password) {
		redisReply *rep = u->user[0]
			? redisCommand(r->ctx, "AUTH %s %s", u->user, u->password)
			: redisCommand(r->ctx, "AUTH %s", u->password);
		if (!reply_ok(rep)) {
			coord_log(COORD_LOG_WARN, "redis: AUTH failed");
			drop(r);
			return false;
		}
	}
	if (u->db) {
		char db[16];
		snprintf(db, sizeof(db), "%d", u->db);
		if (!reply_ok(redisCommand(r->ctx, "SELECT %s", db))) {
			coord_log(COORD_LOG_WARN, "redis: SELECT %s failed", db);
			drop(r);
			return false;
		}
	}
	return true;
}

/*
 * Between commands the server sends nothing: a readable socket means it
 * closed the connection (a restart), so reconnect instead of failing.
 */
static bool idle_connection_alive(redisContext *ctx)
{
	struct pollfd p = { ctx->fd, POLLIN, 0 };
	return poll(&p, 1, 0) == 0;
}

redisReply *coord_redis_command(struct coord_redis *r, int timeout_ms, const char *fmt, ...)
{
	va_list ap;
	if (r->ctx && !idle_connection_alive(r->ctx))
		drop(r);
	if (!r->ctx && !open_ctx(r))
		return NULL;
	if (timeout_ms != r->timeout_ms) {
		redisSetTimeout(r->ctx, tv_ms(timeout_ms));
		r->timeout_ms = timeout_ms;
	}
	va_start(ap, fmt);
	redisReply *rep = redisvCommand(r->ctx, fmt, ap);
	va_end(ap);
	if (!rep) {
		coord_log(COORD_LOG_WARN, "redis: %s", r->ctx->errstr);
		drop(r);
	}
	return rep;
}
