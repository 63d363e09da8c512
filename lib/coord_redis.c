#include <poll.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_log.h"
#include "coord_mem.h"
#include "coord_parse.h"
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

/* An open connection (a dead idle one is dropped and reopened) with TIMEOUT_MS set. */
static bool connection_for(struct coord_redis *r, int timeout_ms)
{
	if (r->ctx && !idle_connection_alive(r->ctx))
		drop(r);
	if (!r->ctx && !open_ctx(r))
		return false;
	if (timeout_ms != r->timeout_ms) {
		redisSetTimeout(r->ctx, tv_ms(timeout_ms));
		r->timeout_ms = timeout_ms;
	}
	return true;
}

/*
 * One attempt: NULL when the connection is (or just went) down, which drops
 * it; *sent tells whether the command reached a connection at all.
 */
static redisReply *attempt(struct coord_redis *r, int timeout_ms, bool *sent, const char *fmt,
			   va_list ap)
{
	*sent = false;
	if (!connection_for(r, timeout_ms))
		return NULL;
	*sent = true;
	redisReply *rep = redisvCommand(r->ctx, fmt, ap);
	if (!rep) {
		coord_log(COORD_LOG_WARN, "redis: %s", r->ctx->errstr);
		drop(r);
	}
	return rep;
}

redisReply *coord_redis_command(struct coord_redis *r, int timeout_ms, const char *fmt, ...)
{
	va_list ap, again;
	bool sent;
	va_start(ap, fmt);
	va_copy(again, ap);
	redisReply *rep = attempt(r, timeout_ms, &sent, fmt, ap);
	/* SPEC §0.4: a connection lost under a command is reopened and the command sent once more */
	if (!rep && sent)
		rep = attempt(r, timeout_ms, &sent, fmt, again);
	va_end(again);
	va_end(ap);
	return rep;
}

/*
 * One attempt at a pipeline: every command appended, then every reply read; the replies
 * but the last are freed. NULL when the connection is (or just went) down, which drops it;
 * *sent tells whether the commands reached a connection at all.
 */
static redisReply *attempt_pipeline(struct coord_redis *r, int timeout_ms, bool *sent,
				    size_t ncmds, const struct coord_redis_cmd *cmds)
{
	*sent = false;
	if (!connection_for(r, timeout_ms))
		return NULL;
	for (size_t i = 0; i < ncmds; i++)
		if (redisAppendCommandArgv(r->ctx, cmds[i].argc, cmds[i].argv, cmds[i].argvlen) !=
		    REDIS_OK)
			goto broken;
	*sent = true;
	redisReply *last = NULL;
	for (size_t i = 0; i < ncmds; i++) {
		void *rep = NULL;
		if (redisGetReply(r->ctx, &rep) != REDIS_OK || !rep) {
			if (last)
				freeReplyObject(last);
			goto broken;
		}
		if (last)
			freeReplyObject(last);
		last = rep;
	}
	return last;
broken:
	coord_log(COORD_LOG_WARN, "redis: %s", r->ctx->errstr);
	drop(r);
	return NULL;
}

redisReply *coord_redis_pipeline(struct coord_redis *r, int timeout_ms, size_t ncmds,
				 const struct coord_redis_cmd *cmds)
{
	bool sent;
	if (ncmds == 0)
		return NULL;
	redisReply *rep = attempt_pipeline(r, timeout_ms, &sent, ncmds, cmds);
	if (!rep && sent)
		rep = attempt_pipeline(r, timeout_ms, &sent, ncmds, cmds);
	return rep;
}

static bool copy_decoded(const char *s, size_t len, char *out, size_t outsize)
{
	size_t n;
	if (len >= outsize)
		return false;
	return coord_pct_decode(s, len, false, out, &n) == COORD_OK;
}

enum coord_err coord_redis_url_parse(const char *url, struct coord_redis_url *out)
{
	int64_t v;
	memset(out, 0, sizeof(*out));
	out->port = 6379;

	if (strncmp(url, "unix://", 7) == 0) {
		const char *path = url + 7;
		const char *q = strchr(path, '?');
		size_t plen = q ? (size_t)(q - path) : strlen(path);
		if (plen == 0 || path[0] != '/' || plen >= sizeof(out->path))
			return COORD_ERR_INVALID;
		memcpy(out->path, path, plen);
		out->is_unix = true;
		if (q) {
			if (strncmp(q, "?db=", 4) != 0 ||
			    coord_parse_i64(q + 4, strlen(q + 4), 0, INT32_MAX, &v) != COORD_OK)
				return COORD_ERR_INVALID;
			out->db = (int)v;
		}
		return COORD_OK;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return COORD_ERR_INVALID;
	const char *p = url + 8;
	const char *end = p + strcspn(p, "/");
	const char *at = NULL;
	for (const char *c = p; c < end; c++)
		if (*c == '@')
			at = c;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (!colon)
			return COORD_ERR_INVALID;
		if (!copy_decoded(p, (size_t)(colon - p), out->user, sizeof(out->user)) ||
		    !copy_decoded(colon + 1, (size_t)(at - colon - 1), out->password,
				  sizeof(out->password)))
			return COORD_ERR_INVALID;
		out->has_password = true;
		p = at + 1;
	}
	const char *hend;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			return COORD_ERR_INVALID;
		size_t hlen = (size_t)(rb - p - 1);
		if (hlen == 0 || hlen >= sizeof(out->host))
			return COORD_ERR_INVALID;
		memcpy(out->host, p + 1, hlen);
		unsigned char tmp[16];
		if (inet_pton(AF_INET6, out->host, tmp) != 1)
			return COORD_ERR_INVALID;
		hend = rb + 1;
	} else {
		hend = p;
		while (hend < end && *hend != ':')
			hend++;
		size_t hlen = (size_t)(hend - p);
		if (hlen == 0 || hlen >= sizeof(out->host))
			return COORD_ERR_INVALID;
		for (const char *c = p; c < hend; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_')
				return COORD_ERR_INVALID;
		memcpy(out->host, p, hlen);
	}
	if (hend < end) {
		if (*hend != ':' ||
		    coord_parse_i64(hend + 1, (size_t)(end - hend - 1), 1, 65535, &v) != COORD_OK)
			return COORD_ERR_INVALID;
		out->port = (int)v;
	}
	if (*end == '/' && end[1] != '\0') {
		if (coord_parse_i64(end + 1, strlen(end + 1), 0, INT32_MAX, &v) != COORD_OK)
			return COORD_ERR_INVALID;
		out->db = (int)v;
	}
	return COORD_OK;
}
