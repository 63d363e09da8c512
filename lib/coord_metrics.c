#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_clientip.h"
#include "coord_http.h"
#include "coord_int.h"
#include "coord_keystore.h"
#include "coord_log.h"
#include "coord_mem.h"
#include "coord_metrics.h"
#include "coord_parse.h"
#include "banned.h"

/* ---- families ---- */

#define FAM_REQUESTS "coordinator_http_requests_total"
#define FAM_DURATION "coordinator_http_request_duration_seconds"
#define FAM_DOWNLOADS "coordinator_wasm_downloads_total"
#define FAM_JOBS_COMPLETED "coordinator_jobs_completed_total"
#define FAM_REAPER "coordinator_reaper_actions_total"
#define FAM_RATE_LIMITED "coordinator_rate_limited_total"

struct family {
	const char *name, *type, *help;
};

/* The counter families in the order of the scrape. */
static const struct family counter_families[] = {
	{ FAM_REQUESTS, "counter", "HTTP requests answered, by program, route pattern and status." },
	{ FAM_DURATION, "histogram", "Time from the start of a request to its reply being ready, "
				     "by program and route pattern." },
	{ FAM_DOWNLOADS, "counter", "WASM downloads answered." },
	{ FAM_JOBS_COMPLETED, "counter", "Job completions reported by workers, by job type and outcome." },
	{ FAM_REAPER, "counter", "Rows changed by coord-reap, by action." },
	{ FAM_RATE_LIMITED, "counter", "Requests refused by a rate limit, by class." },
};
#define N_COUNTER_FAMILIES (sizeof(counter_families) / sizeof(counter_families[0]))

/* Upper bounds of the duration buckets (SPEC §3.4.7), in tenths of a millisecond. */
static const int64_t bucket_tenth_ms[] = { 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
					    25000, 50000, 100000, 300000, 600000, 3000000 };
static const char *const bucket_le[] = { "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
					  "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60",
					  "300" };
#define N_BUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

/* The label values that exist before anything was counted: their series start at 0. */
static const char *const job_types[] = { "compile", "execute" };
static const char *const outcomes[] = { "success", "failure" };
static const char *const reaper_actions[] = { "items_requeued", "items_closed", "items_dead",
					      "jobs_requeued", "jobs_failed", "items_deleted" };
static const char *const rl_classes[] = { "secrets", "api", "public_storage", "key" };

/* ---- text format ---- */

void coord_metrics_label(struct coord_buf *b, const char *name, const char *value)
{
	coord_buf_addf(b, "%s=\"", name);
	for (const char *c = value; *c; c++) {
		if (*c == '\\')
			coord_buf_adds(b, "\\\\");
		else if (*c == '"')
			coord_buf_adds(b, "\\\"");
		else if (*c == '\n')
			coord_buf_adds(b, "\\n");
		else
			coord_buf_addch(b, *c);
	}
	coord_buf_addch(b, '"');
}

/* family + suffix + {labels[, extra]}: the name of a field of the hash. */
static void field_name(struct coord_buf *b, const char *family, const char *suffix,
		       const char *labels, const char *extra_name, const char *extra_value)
{
	coord_buf_reset(b);
	coord_buf_adds(b, family);
	coord_buf_adds(b, suffix);
	if (!*labels && !extra_name)
		return;
	coord_buf_addch(b, '{');
	coord_buf_adds(b, labels);
	if (extra_name) {
		if (*labels)
			coord_buf_addch(b, ',');
		coord_metrics_label(b, extra_name, extra_value);
	}
	coord_buf_addch(b, '}');
}

/* ---- the counts of this process ---- */

struct counter {
	char *field;  /* NULL: an empty slot */
	int64_t n;    /* a count, or for a _sum milliseconds */
	bool ms_sum;  /* sent with HINCRBYFLOAT, as seconds */
};

/* Open addressing (linear probing, power-of-two size, at most half full). */
struct counters {
	struct counter *slots;
	size_t cap, used;
};

static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counters counts; /* under counts_lock */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void counters_put(struct counters *t, const char *field, int64_t n, bool ms_sum,
			 char *owned);

static void counters_grow(struct counters *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct counters bigger = { coord_xcalloc(cap, sizeof(struct counter)), cap, 0 };
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].field)
			counters_put(&bigger, t->slots[i].field, t->slots[i].n, t->slots[i].ms_sum,
				     t->slots[i].field);
	free(t->slots);
	*t = bigger;
}

/*
 * Adds n to field. owned: field itself, allocated, which the table then owns (kept when the
 * field is new, freed otherwise); NULL: field is copied when it is new.
 */
static void counters_put(struct counters *t, const char *field, int64_t n, bool ms_sum,
			 char *owned)
{
	if (2 * (t->used + 1) > t->cap)
		counters_grow(t);
	size_t i = fnv1a(field) & (t->cap - 1);
	while (t->slots[i].field && strcmp(t->slots[i].field, field) != 0)
		i = (i + 1) & (t->cap - 1);
	struct counter *c = &t->slots[i];
	if (c->field) {
		free(owned);
	} else {
		c->field = owned ? owned : coord_xstrdup(field);
		c->ms_sum = ms_sum;
		t->used++;
	}
	c->n += n;
}

static void counters_release(struct counters *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].field);
	free(t->slots);
	*t = (struct counters){ 0 };
}

/* Counts n for the field held by b (under the lock). */
static void count_locked(struct coord_buf *b, int64_t n, bool ms_sum)
{
	counters_put(&counts, coord_buf_str(b), n, ms_sum, NULL);
}

static void count_one(const char *family, const char *l1, const char *v1, const char *l2,
		      const char *v2, int64_t n)
{
	struct coord_buf labels = COORD_BUF_INIT, f = COORD_BUF_INIT;
	if (l1)
		coord_metrics_label(&labels, l1, v1);
	field_name(&f, family, "", coord_buf_str(&labels), l2, v2);
	pthread_mutex_lock(&counts_lock);
	count_locked(&f, n, false);
	pthread_mutex_unlock(&counts_lock);
	coord_buf_release(&labels);
	coord_buf_release(&f);
}

void coord_metrics_request(const char *program, const char *route, int status,
			   int64_t duration_ms)
{
	struct coord_buf labels = COORD_BUF_INIT, f[4];
	char st[16];
	size_t b = 0;

	if (duration_ms < 0)
		duration_ms = 0;
	while (b < N_BUCKETS && duration_ms * 10 > bucket_tenth_ms[b])
		b++;
	snprintf(st, sizeof(st), "%d", status);
	coord_buf_grow(&labels, 128);
	coord_metrics_label(&labels, "program", program);
	coord_buf_addch(&labels, ',');
	coord_metrics_label(&labels, "route", route ? route : "unmatched");
	const char *l = coord_buf_str(&labels);
	for (size_t i = 0; i < 4; i++) {
		coord_buf_init(&f[i]);
		coord_buf_grow(&f[i], 256); /* one allocation each */
	}
	field_name(&f[0], FAM_REQUESTS, "", l, "status", st);
	field_name(&f[1], FAM_DURATION, "_count", l, NULL, NULL);
	field_name(&f[2], FAM_DURATION, "_sum", l, NULL, NULL);
	if (b < N_BUCKETS) /* above the last bound: only the +Inf bucket, which is the _count */
		field_name(&f[3], FAM_DURATION, "_bucket", l, "le", bucket_le[b]);

	pthread_mutex_lock(&counts_lock);
	count_locked(&f[0], 1, false);
	count_locked(&f[1], 1, false);
	count_locked(&f[2], duration_ms, true);
	if (b < N_BUCKETS)
		count_locked(&f[3], 1, false);
	pthread_mutex_unlock(&counts_lock);

	for (size_t i = 0; i < 4; i++)
		coord_buf_release(&f[i]);
	coord_buf_release(&labels);
}

void coord_metrics_wasm_download(void)
{
	count_one(FAM_DOWNLOADS, NULL, NULL, NULL, NULL, 1);
}

void coord_metrics_job_completed(const char *job_type, bool success)
{
	count_one(FAM_JOBS_COMPLETED, "job_type", job_type, "outcome",
		  success ? "success" : "failure", 1);
}

void coord_metrics_rate_limited(const char *cls)
{
	count_one(FAM_RATE_LIMITED, "class", cls, NULL, NULL, 1);
}

void coord_metrics_reaper_action(const char *action, int64_t n)
{
	if (n > 0)
		count_one(FAM_REAPER, "action", action, NULL, NULL, n);
}

/* ---- the flush ---- */

/*
 * Flushes run on one thread at a time (the background thread, the CGI request's, or a bin/
 * program's main). While Redis cannot take them they are tried less and less often, down
 * to every 16 s, so that a Redis that does not answer holds the background thread (which
 * also flushes the WASM download counts) as little as possible.
 */
#define FLUSH_BACKOFF_MAX_MS 16000
static int64_t flush_backoff_ms; /* 0: the last flush worked */
static int64_t flush_retry_at;   /* coord_monotonic_ms() */

enum coord_err coord_metrics_flush(struct coord_redis *redis, bool final)
{
	struct counters taken;
	if (!final && flush_backoff_ms && coord_monotonic_ms() < flush_retry_at)
		return COORD_ERR_UNAVAILABLE;
	pthread_mutex_lock(&counts_lock);
	taken = counts;
	counts = (struct counters){ 0 };
	pthread_mutex_unlock(&counts_lock);
	if (taken.used == 0) {
		free(taken.slots);
		return COORD_OK;
	}

	/* MULTI, one HINCRBY or HINCRBYFLOAT per field, EXEC: all of it or nothing */
	size_t ncmds = taken.used + 2, k = 0;
	struct coord_redis_cmd *cmds = coord_xcalloc(ncmds, sizeof(*cmds));
	const char **argv = coord_xcalloc(4 * ncmds, sizeof(*argv));
	size_t *argvlen = coord_xcalloc(4 * ncmds, sizeof(*argvlen));
	char (*values)[32] = coord_xcalloc(taken.used, sizeof(*values));
	static const char *const multi = "MULTI", *const exec = "EXEC";

	argv[0] = multi;
	argvlen[0] = strlen(multi);
	cmds[k++] = (struct coord_redis_cmd){ 1, &argv[0], &argvlen[0] };
	for (size_t i = 0, v = 0; i < taken.cap; i++) {
		const struct counter *c = &taken.slots[i];
		if (!c->field)
			continue;
		if (c->ms_sum)
			snprintf(values[v], sizeof(values[v]), "%lld.%03lld", (long long)(c->n / 1000),
				 (long long)(c->n % 1000));
		else
			snprintf(values[v], sizeof(values[v]), "%lld", (long long)c->n);
		const char **a = &argv[4 * k];
		size_t *al = &argvlen[4 * k];
		a[0] = c->ms_sum ? "HINCRBYFLOAT" : "HINCRBY";
		a[1] = COORD_METRICS_KEY;
		a[2] = c->field;
		a[3] = values[v++];
		for (size_t j = 0; j < 4; j++)
			al[j] = strlen(a[j]);
		cmds[k++] = (struct coord_redis_cmd){ 4, a, al };
	}
	argv[4 * k] = exec;
	argvlen[4 * k] = strlen(exec);
	cmds[k] = (struct coord_redis_cmd){ 1, &argv[4 * k], &argvlen[4 * k] };
	k++;

	redisReply *rep = coord_redis_pipeline(redis, 2000, k, cmds);
	bool applied = rep && rep->type == REDIS_REPLY_ARRAY;
	if (applied) {
		size_t refused = 0;
		for (size_t i = 0; i < rep->elements; i++)
			if (rep->element[i]->type == REDIS_REPLY_ERROR)
				refused++;
		if (refused)
			coord_log(COORD_LOG_WARN, "metrics: Redis refused %zu of %zu counter(s) of %s",
				  refused, rep->elements, COORD_METRICS_KEY);
	} else if (rep) {
		coord_log(COORD_LOG_WARN, "metrics: unexpected answer from Redis%s%s",
			  rep->type == REDIS_REPLY_ERROR ? ": " : "",
			  rep->type == REDIS_REPLY_ERROR ? rep->str : "");
	}
	if (rep)
		freeReplyObject(rep);

	enum coord_err e = applied ? COORD_OK : COORD_ERR_UNAVAILABLE;
	if (applied) {
		flush_backoff_ms = 0;
		counters_release(&taken);
	} else if (final) {
		coord_log(COORD_LOG_WARN, "metrics: %zu counter(s) lost: Redis cannot be reached",
			  taken.used);
		counters_release(&taken);
	} else {
		if (!flush_backoff_ms)
			coord_log(COORD_LOG_WARN, "metrics: counters not flushed; kept for the next flush");
		pthread_mutex_lock(&counts_lock);
		for (size_t i = 0; i < taken.cap; i++)
			if (taken.slots[i].field)
				counters_put(&counts, taken.slots[i].field, taken.slots[i].n,
					     taken.slots[i].ms_sum, taken.slots[i].field);
		pthread_mutex_unlock(&counts_lock);
		free(taken.slots); /* the fields now belong to counts, or were freed */
		flush_backoff_ms = flush_backoff_ms ? flush_backoff_ms * 2 : COORD_METRICS_FLUSH_MS;
		if (flush_backoff_ms > FLUSH_BACKOFF_MAX_MS)
			flush_backoff_ms = FLUSH_BACKOFF_MAX_MS;
		flush_retry_at = coord_monotonic_ms() + flush_backoff_ms;
	}
	free(values);
	free(argvlen);
	free(argv);
	free(cmds);
	return e;
}

void coord_metrics_background(struct coord_bg *bg, bool final)
{
	coord_metrics_flush(bg->redis, final);
}

/* ---- access ---- */

bool coord_metrics_access_allowed(const struct coord_config *cfg, const char *access,
				  const char *client_ip)
{
	unsigned char a[16];
	int family;
	if (access && strcmp(access, "any") == 0)
		return true;
	if (!client_ip)
		return false;
	if (inet_pton(AF_INET, client_ip, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, client_ip, a) == 1)
		family = AF_INET6;
	else
		return false;
	if (family == AF_INET && a[0] == 127)
		return true;
	if (family == AF_INET6) {
		static const unsigned char loop6[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
		if (memcmp(a, loop6, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127))
			return true;
	}
	for (size_t i = 0; i < cfg->n_trusted_proxies; i++)
		if (coord_cidr_contains(&cfg->trusted_proxies[i], family, a))
			return true;
	return false;
}

/* ---- rendering the counters ---- */

struct pair {
	const char *field, *value;
};

static int pair_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pair *)a)->field, ((const struct pair *)b)->field);
}

/* A decimal number as Redis writes it back: -?digits[.digits][e[+-]digits]. */
static bool is_number(const char *s)
{
	const char *p = s;
	if (*p == '-')
		p++;
	const char *d = p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == d)
		return false;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		d = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return false;
	}
	return *p == '\0';
}

/*
 * The labels of a field of family+suffix (the text inside the braces, "" when none), or
 * NULL when the field is not one of that family's or does not look like a sample name.
 */
static const char *labels_of(const char *field, const char *family, const char *suffix,
			     size_t *len)
{
	size_t fl = strlen(family), sl = strlen(suffix);
	if (strncmp(field, family, fl) != 0 || strncmp(field + fl, suffix, sl) != 0)
		return NULL;
	const char *rest = field + fl + sl;
	if (strchr(rest, '\n'))
		return NULL;
	if (*rest == '\0') {
		*len = 0;
		return rest;
	}
	size_t n = strlen(rest);
	if (rest[0] != '{' || n < 2 || rest[n - 1] != '}')
		return NULL;
	*len = n - 2;
	return rest + 1;
}

static const struct pair *find_pair(const struct pair *pairs, size_t n, const char *field)
{
	struct pair key = { field, NULL };
	return bsearch(&key, pairs, n, sizeof(*pairs), pair_cmp);
}

static void render_histogram(struct coord_buf *out, const struct family *fam,
			     const struct pair *pairs, size_t n)
{
	struct coord_buf name = COORD_BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *l = labels_of(pairs[i].field, fam->name, "_count", &len);
		int64_t count, v;
		if (!l || coord_parse_i64(pairs[i].value, strlen(pairs[i].value), 0, INT64_MAX,
					  &count) != COORD_OK)
			continue;
		char *labels = coord_xmemdup(l, len);
		int64_t cumulative = 0;
		for (size_t b = 0; b <= N_BUCKETS; b++) {
			const char *le = b < N_BUCKETS ? bucket_le[b] : "+Inf";
			field_name(&name, fam->name, "_bucket", labels, "le", le);
			if (b < N_BUCKETS) {
				const struct pair *p = find_pair(pairs, n, coord_buf_str(&name));
				if (p && coord_parse_i64(p->value, strlen(p->value), 0, INT64_MAX, &v) ==
					     COORD_OK && v <= INT64_MAX - cumulative)
					cumulative += v;
			} else {
				cumulative = count; /* +Inf: every request */
			}
			coord_buf_addf(out, "%s %lld\n", coord_buf_str(&name), (long long)cumulative);
		}
		field_name(&name, fam->name, "_sum", labels, NULL, NULL);
		const struct pair *sum = find_pair(pairs, n, coord_buf_str(&name));
		coord_buf_addf(out, "%s %s\n", coord_buf_str(&name),
			       sum && is_number(sum->value) ? sum->value : "0");
		coord_buf_addf(out, "%s %lld\n", pairs[i].field, (long long)count);
		free(labels);
	}
	coord_buf_release(&name);
}

void coord_metrics_render_counters(struct coord_buf *out, size_t n, const char *const *fields,
				   const char *const *values)
{
	struct pair *pairs = coord_xcalloc(n ? n : 1, sizeof(*pairs));
	for (size_t i = 0; i < n; i++)
		pairs[i] = (struct pair){ fields[i], values[i] };
	qsort(pairs, n, sizeof(*pairs), pair_cmp);

	for (size_t f = 0; f < N_COUNTER_FAMILIES; f++) {
		const struct family *fam = &counter_families[f];
		coord_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name,
			       fam->type);
		if (strcmp(fam->type, "histogram") == 0) {
			render_histogram(out, fam, pairs, n);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			size_t len;
			if (labels_of(pairs[i].field, fam->name, "", &len) && is_number(pairs[i].value))
				coord_buf_addf(out, "%s %s\n", pairs[i].field, pairs[i].value);
		}
	}
	free(pairs);
}

/* ---- the scrape ---- */

enum { METRICS_GAUGES };

const struct coord_stmt coord_metrics_stmts[] = {
	/* rows (kind, a, b, value); $1 the keystore's own worker_status row, not a worker */
	[METRICS_GAUGES] = { "metrics_gauges",
		"SELECT 'queue', queue, state, count(*)::text FROM queue_items "
		"WHERE state IN ('queued', 'leased', 'claimed') GROUP BY queue, state "
		"UNION ALL SELECT 'jobs', job_type, status, count(*)::text FROM jobs "
		"WHERE status IN ('pending', 'in_progress') GROUP BY job_type, status "
		"UNION ALL SELECT 'workers', status, '', count(*)::text FROM worker_status "
		"WHERE worker_id <> $1 GROUP BY status "
		"UNION ALL SELECT 'age', q.queue, '', greatest(coalesce(round(extract(epoch FROM now() - "
		"(SELECT i.created_at FROM queue_items i WHERE i.queue = q.queue AND i.state = 'queued' "
		"ORDER BY i.item_id LIMIT 1)), 3), 0), 0)::text "
		"FROM unnest(ARRAY['compile', 'execute', 'system_callbacks']) AS q(queue) "
		"UNION ALL SELECT 'https_pending', '', '', count(*)::text FROM https_calls "
		"WHERE status = 'pending' "
		"UNION ALL SELECT 'wasm', '', '', coalesce(sum(file_size), 0)::text FROM wasm_cache "
		"UNION ALL SELECT 'wasm_files', '', '', count(*)::text FROM wasm_cache" },
};
const size_t coord_metrics_nstmts = sizeof(coord_metrics_stmts) / sizeof(coord_metrics_stmts[0]);

static const char *const queues[] = { "compile", "execute", "system_callbacks" };
static const char *const open_states[] = { "queued", "leased", "claimed" };
static const char *const job_statuses[] = { "pending", "in_progress" };
static const char *const worker_statuses[] = { "online", "busy", "offline", "stale" };
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The value of the gauge row (kind, a, b), "0" when there is none. */
static const char *gauge_value(const PGresult *res, const char *kind, const char *a,
			       const char *b)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 0), kind) == 0 && strcmp(PQgetvalue(res, i, 1), a) == 0 &&
		    strcmp(PQgetvalue(res, i, 2), b) == 0 && is_number(PQgetvalue(res, i, 3)))
			return PQgetvalue(res, i, 3);
	return "0";
}

static void gauge_head(struct coord_buf *out, const char *name, const char *help)
{
	coord_buf_addf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void gauge_sample(struct coord_buf *out, const char *name, const char *l1, const char *v1,
			 const char *l2, const char *v2, const char *value)
{
	struct coord_buf labels = COORD_BUF_INIT, f = COORD_BUF_INIT;
	if (l1)
		coord_metrics_label(&labels, l1, v1);
	field_name(&f, name, "", coord_buf_str(&labels), l2, v2);
	coord_buf_addf(out, "%s %s\n", coord_buf_str(&f), value);
	coord_buf_release(&labels);
	coord_buf_release(&f);
}

static void render_gauges(struct coord_buf *out, const PGresult *res)
{
	gauge_head(out, "coordinator_queue_items", "Open queue items, by queue and state.");
	for (size_t q = 0; q < COUNT(queues); q++)
		for (size_t s = 0; s < COUNT(open_states); s++)
			gauge_sample(out, "coordinator_queue_items", "queue", queues[q], "state",
				     open_states[s], gauge_value(res, "queue", queues[q], open_states[s]));
	gauge_head(out, "coordinator_jobs", "Jobs not finished yet, by job type and status.");
	for (size_t t = 0; t < COUNT(job_types); t++)
		for (size_t s = 0; s < COUNT(job_statuses); s++)
			gauge_sample(out, "coordinator_jobs", "job_type", job_types[t], "status",
				     job_statuses[s], gauge_value(res, "jobs", job_types[t], job_statuses[s]));
	gauge_head(out, "coordinator_workers", "Workers known to the coordinator, by status.");
	for (size_t s = 0; s < COUNT(worker_statuses); s++)
		gauge_sample(out, "coordinator_workers", "status", worker_statuses[s], NULL, NULL,
			     gauge_value(res, "workers", worker_statuses[s], ""));
	gauge_head(out, "coordinator_oldest_queued_item_age_seconds",
		   "Age of the oldest queued item, by queue (0 when none is queued).");
	for (size_t q = 0; q < COUNT(queues); q++)
		gauge_sample(out, "coordinator_oldest_queued_item_age_seconds", "queue", queues[q],
			     NULL, NULL, gauge_value(res, "age", queues[q], ""));
	gauge_head(out, "coordinator_https_calls_pending", "HTTPS calls not settled yet.");
	gauge_sample(out, "coordinator_https_calls_pending", NULL, NULL, NULL, NULL,
		     gauge_value(res, "https_pending", "", ""));
	gauge_head(out, "coordinator_wasm_cache_bytes", "Bytes of the WASM cache's files.");
	gauge_sample(out, "coordinator_wasm_cache_bytes", NULL, NULL, NULL, NULL,
		     gauge_value(res, "wasm", "", ""));
	gauge_head(out, "coordinator_wasm_cache_files", "Files in the WASM cache.");
	gauge_sample(out, "coordinator_wasm_cache_files", NULL, NULL, NULL, NULL,
		     gauge_value(res, "wasm_files", "", ""));
}

/* Fields every scrape shows, at 0 until something was counted. */
static void add_default(struct coord_buf *names, const char *family, const char *l1,
			const char *v1, const char *l2, const char *v2)
{
	struct coord_buf labels = COORD_BUF_INIT, f = COORD_BUF_INIT;
	if (l1)
		coord_metrics_label(&labels, l1, v1);
	field_name(&f, family, "", coord_buf_str(&labels), l2, v2);
	coord_buf_add(names, f.ptr, f.len + 1); /* NUL-separated */
	coord_buf_release(&labels);
	coord_buf_release(&f);
}

static void render_counters_from(struct coord_buf *out, const redisReply *hash)
{
	struct coord_buf defaults = COORD_BUF_INIT;
	add_default(&defaults, FAM_DOWNLOADS, NULL, NULL, NULL, NULL);
	for (size_t t = 0; t < COUNT(job_types); t++)
		for (size_t o = 0; o < COUNT(outcomes); o++)
			add_default(&defaults, FAM_JOBS_COMPLETED, "job_type", job_types[t], "outcome",
				    outcomes[o]);
	for (size_t a = 0; a < COUNT(reaper_actions); a++)
		add_default(&defaults, FAM_REAPER, "action", reaper_actions[a], NULL, NULL);
	for (size_t c = 0; c < COUNT(rl_classes); c++)
		add_default(&defaults, FAM_RATE_LIMITED, "class", rl_classes[c], NULL, NULL);

	size_t nhash = hash->elements / 2, ndefaults = 0, n = 0;
	for (size_t off = 0; off < defaults.len; off += strlen(defaults.ptr + off) + 1)
		ndefaults++;
	const char **fields = coord_xcalloc(nhash + ndefaults + 1, sizeof(*fields));
	const char **values = coord_xcalloc(nhash + ndefaults + 1, sizeof(*values));
	for (size_t i = 0; i < nhash; i++) {
		const redisReply *f = hash->element[2 * i], *v = hash->element[2 * i + 1];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    strlen(f->str) != f->len || strlen(v->str) != v->len)
			continue;
		fields[n] = f->str;
		values[n++] = v->str;
	}
	size_t from_hash = n;
	for (size_t off = 0; off < defaults.len; off += strlen(defaults.ptr + off) + 1) {
		bool seen = false;
		for (size_t i = 0; i < from_hash && !seen; i++)
			seen = strcmp(fields[i], defaults.ptr + off) == 0;
		if (!seen) {
			fields[n] = defaults.ptr + off;
			values[n++] = "0";
		}
	}
	coord_metrics_render_counters(out, n, fields, values);
	free(fields);
	free(values);
	coord_buf_release(&defaults);
}

enum coord_err coord_metrics_scrape(struct coord_db *db, struct coord_redis *redis,
				    const struct coord_config *cfg, struct coord_buf *out)
{
	char keystore_id[96];
	PGresult *res = NULL;
	enum coord_err e;

	coord_keystore_worker_id(cfg, keystore_id);
	const char *p[] = { keystore_id };
	if ((e = coord_db_begin_snapshot(db)) != COORD_OK)
		return e;
	if ((e = coord_db_exec(db, &coord_metrics_stmts[METRICS_GAUGES], 1, p, &res)) != COORD_OK ||
	    (e = coord_db_commit(db)) != COORD_OK) {
		PQclear(res);
		coord_db_rollback(db);
		return e;
	}
	render_gauges(out, res);
	PQclear(res);

	redisReply *hash = coord_redis_command(redis, 2000, "HGETALL %s", COORD_METRICS_KEY);
	bool up = hash && hash->type == REDIS_REPLY_ARRAY;
	if (up)
		render_counters_from(out, hash);
	else
		coord_log(COORD_LOG_WARN, "metrics: %s unreadable; counters left out of the scrape",
			  COORD_METRICS_KEY);
	if (hash)
		freeReplyObject(hash);
	gauge_head(out, "coordinator_metrics_redis_up",
		   "1 when the counters could be read from Redis, else 0 (counters left out).");
	gauge_sample(out, "coordinator_metrics_redis_up", NULL, NULL, NULL, NULL, up ? "1" : "0");
	return COORD_OK;
}
