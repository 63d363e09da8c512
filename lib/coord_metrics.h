/*
 * GET /metrics (SPEC §3.4.7). Owns the Redis hash coord:metrics and the statement of the
 * scrape-time gauges.
 *
 * Counters: every process counts in memory (one lock, no I/O on the request path) and a
 * flush adds what it counted to the hash in one MULTI/EXEC pipeline of HINCRBY and
 * HINCRBYFLOAT: a serving process flushes on its background thread at most once a second
 * and once more when it stops; a bin/ program flushes once before it exits. A field of the
 * hash is a sample name with its labels as the scrape prints them
 * (coordinator_http_requests_total{program="worker",route="/jobs/claim",status="200"}),
 * except the duration histogram's _bucket fields: each counts the requests of its own
 * bucket only (le="0.005" holds those above 0.0025 s), so that an observation touches one
 * field; the scrape adds them up into Prometheus's cumulative buckets, and its +Inf bucket
 * is the _count. Label values are route patterns and fixed words: never an id.
 */
#ifndef COORD_METRICS_H
#define COORD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coord_buf.h"
#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_redis.h"

#define COORD_METRICS_KEY "coord:metrics"
/* How often a serving process adds its counters to the hash (SPEC: at most once a second). */
#define COORD_METRICS_FLUSH_MS 1000

/* ---- counting (any thread) ---- */

/*
 * One answered request: program is the group ("worker" ...), route the matched pattern
 * ("/wasm/:checksum") or NULL ("unmatched": 404, 405, a preflight, a path that did not
 * decode), status the HTTP status, duration_ms as in the request's log line.
 */
void coord_metrics_request(const char *program, const char *route, int status,
			   int64_t duration_ms);
void coord_metrics_wasm_download(void);
/* A completion reported by a worker (POST /jobs/complete) and committed. */
void coord_metrics_job_completed(const char *job_type, bool success);
/* A request refused 429 by the limiter; cls as in the RateLimit headers ("api" ...). */
void coord_metrics_rate_limited(const char *cls);
/* n rows the reaper changed, action as in coord_reap_counts ("items_requeued" ...). */
void coord_metrics_reaper_action(const char *action, int64_t n);

/* ---- flushing ---- */

/*
 * Adds everything counted since the last flush to the hash. When Redis cannot take it the
 * counts are kept for the next flush, unless final (the process exits): then they are
 * lost, with one log line.
 */
enum coord_err coord_metrics_flush(struct coord_redis *redis, bool final);
/* For coord_serve_background(): flushes with the background thread's connection. */
struct coord_bg;
void coord_metrics_background(struct coord_bg *bg, bool final);

/* ---- the scrape ---- */

/*
 * Who may scrape: access is the request's COORD_METRICS_ACCESS parameter, set by the web
 * server's configuration (lighttpd.conf): "any" lets everybody in; anything else, absent
 * included, only a client address (SPEC §1.7) on loopback or inside TRUSTED_PROXIES.
 */
bool coord_metrics_access_allowed(const struct coord_config *cfg, const char *access,
				  const char *client_ip);

/*
 * The whole exposition (text format 0.0.4) into out: the gauges from one read-only
 * transaction on db (an error is returned, out is then incomplete), the counters from the
 * hash when Redis answers, and coordinator_metrics_redis_up.
 */
enum coord_err coord_metrics_scrape(struct coord_db *db, struct coord_redis *redis,
				    const struct coord_config *cfg, struct coord_buf *out);

/* ---- pure parts (unit tests) ---- */

/* Appends name="value" with value escaped as the text format wants (\\, \", \n). */
void coord_metrics_label(struct coord_buf *b, const char *name, const char *value);

/*
 * Renders the counter families (HELP, TYPE and samples, histogram buckets made cumulative)
 * from the hash's fields and values (n pairs, any order). A field of no known family, or a
 * value that is not a number, is left out.
 */
void coord_metrics_render_counters(struct coord_buf *out, size_t n, const char *const *fields,
				   const char *const *values);

#endif
