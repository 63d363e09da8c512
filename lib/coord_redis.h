/*
 * Redis, one connection per thread (SPEC §0.4, §1.9). Only an I/O error
 * (hiredis returns NULL) drops the connection, which is reopened by the
 * next command; error replies and nil replies are ordinary answers that
 * the caller inspects. Format strings must be literals using %s / %b.
 */
#ifndef COORD_REDIS_H
#define COORD_REDIS_H

#include <hiredis/hiredis.h>

#include "coord_config.h"
#include "coord_err.h"

struct coord_redis;

/* REDIS_URL of SPEC §2.2: redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]. */
enum coord_err coord_redis_url_parse(const char *url, struct coord_redis_url *out);

/* url must outlive the handle. */
struct coord_redis *coord_redis_new(const struct coord_redis_url *url);
void coord_redis_free(struct coord_redis *r);

/*
 * Runs one command, connecting first if needed. A connection that breaks
 * under the command is reopened and the command sent once more (SPEC §0.4).
 * Returns the reply (freeReplyObject it) or NULL when Redis is unreachable;
 * the connection is then dropped. timeout_ms bounds the whole round trip (use more than
 * the block time of a blocking command).
 */
/* (no printf format attribute: hiredis adds %b, binary-safe pointer + length) */
redisReply *coord_redis_command(struct coord_redis *r, int timeout_ms, const char *fmt, ...);

/* One command as an argument vector (binary-safe). */
struct coord_redis_cmd {
	int argc;
	const char **argv;
	const size_t *argvlen;
};

/*
 * Sends ncmds commands in one pipeline (one write, then every reply read), reconnecting
 * and sending them all once more when the connection breaks under them (wrap them in
 * MULTI/EXEC when they must not apply twice or in part). Returns the last reply (the
 * others are freed), or NULL when Redis is unreachable.
 */
redisReply *coord_redis_pipeline(struct coord_redis *r, int timeout_ms, size_t ncmds,
				 const struct coord_redis_cmd *cmds);

#endif
