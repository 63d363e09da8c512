#include <stdlib.h>
#include <string.h>

#include "coord_billing.h"
#include "coord_int.h"
#include "coord_jobs.h"
#include "coord_log.h"
#include "coord_maint.h"
#include "coord_mem.h"
#include "coord_metrics.h"
#include "coord_reaper.h"
#include "banned.h"

#define BATCH "500"

enum {
	REAP_EXPIRED_ITEMS,
	REAP_ITEM_LOCK,
	REAP_ITEM_CLOSE,
	REAP_ITEM_REQUEUE,
	REAP_EXPIRED_JOBS,
	REAP_RETENTION,
	REAP_RETENTION_AFTER,
	REQUEUE_QUEUED,
	REQUEUE_PUSHED,
};

#define STILL_EXPIRED "state = 'leased' AND lease_expires_at < now()"
#define RETAINED_NO_MORE "state IN ('done', 'dead') AND closed_at < now() - interval '7 days'"
#define LEASE_CLEARED "lease_id = NULL, leased_to = NULL, leased_at = NULL, lease_expires_at = NULL"

const struct coord_stmt coord_reaper_stmts[] = {
	[REAP_EXPIRED_ITEMS] = { "reap_expired_items",
		"SELECT item_id FROM queue_items WHERE " STILL_EXPIRED " AND item_id > $1 "
		"ORDER BY item_id LIMIT " BATCH },
	/* the item, the state of its call, and the job of its queue's type */
	[REAP_ITEM_LOCK] = { "reap_item_lock",
		"SELECT q.queue, q.call_id IS NOT NULL, coalesce(c.status, ''), q.attempts, "
		"j.job_id, j.status, q.call_id FROM queue_items q "
		"LEFT JOIN https_calls c ON c.call_id = q.call_id "
		"LEFT JOIN jobs j ON j.request_id = q.request_id AND j.data_id = q.data_id "
		"  AND j.job_type = CASE q.queue WHEN 'compile' THEN 'compile' ELSE 'execute' END "
		"WHERE q.item_id = $1 AND q.state = 'leased' AND q.lease_expires_at < now() "
		"FOR UPDATE OF q SKIP LOCKED" },
	[REAP_ITEM_CLOSE] = { "reap_item_close",
		"UPDATE queue_items SET state = $2, close_reason = $3, closed_at = now(), "
		LEASE_CLEARED ", updated_at = now() WHERE item_id = $1 AND " STILL_EXPIRED },
	[REAP_ITEM_REQUEUE] = { "reap_item_requeue",
		"UPDATE queue_items SET state = 'queued', " LEASE_CLEARED ", pushed_at = now(), "
		"updated_at = now() WHERE item_id = $1 AND " STILL_EXPIRED },
	[REAP_EXPIRED_JOBS] = { "reap_expired_jobs",
		"SELECT job_id FROM jobs WHERE status = 'in_progress' AND lease_expires_at < now() "
		"AND job_id > $1 ORDER BY job_id LIMIT " BATCH },
	[REAP_RETENTION] = { "reap_retention",
		"DELETE FROM queue_items WHERE item_id IN (SELECT item_id FROM queue_items "
		"WHERE " RETAINED_NO_MORE " LIMIT " BATCH ")" },
	/* what C would delete, for -n */
	[REAP_RETENTION_AFTER] = { "reap_retention_after",
		"SELECT item_id FROM queue_items WHERE " RETAINED_NO_MORE " AND item_id > $1 "
		"ORDER BY item_id LIMIT " BATCH },
	[REQUEUE_QUEUED] = { "requeue_queued",
		"SELECT item_id FROM queue_items WHERE queue = $1 AND state = 'queued' "
		"ORDER BY item_id DESC" },
	[REQUEUE_PUSHED] = { "requeue_pushed",
		"UPDATE queue_items SET pushed_at = now() WHERE item_id = ANY($1::bigint[]) "
		"AND state = 'queued'" },
};
const size_t coord_reaper_nstmts = sizeof(coord_reaper_stmts) / sizeof(coord_reaper_stmts[0]);

static enum coord_err run(struct coord_db *db, int which, int n, const char *const *p,
			  PGresult **out)
{
	return coord_db_exec(db, &coord_reaper_stmts[which], n, p, out);
}

/* Ends one row's transaction: commit and push, or roll back (dry run). */
static enum coord_err finish(struct coord_db *db, struct coord_redis *redis,
			     const struct coord_config *cfg, bool dry_run,
			     const struct coord_pushes *pushes)
{
	if (dry_run) {
		coord_db_rollback(db);
		return COORD_OK;
	}
	enum coord_err e = coord_db_commit(db);
	if (e == COORD_OK)
		coord_queue_push(db, redis, cfg, pushes);
	return e;
}

static void say(FILE *report, const char *what, const char *id, const char *outcome)
{
	if (report)
		fprintf(report, "%s %s: %s\n", what, id, outcome);
}

/* A: one item whose poll lease has passed. */
static enum coord_err reap_item(struct coord_db *db, struct coord_redis *redis,
				const struct coord_config *cfg, const char *item, bool dry_run,
				FILE *report, struct coord_reap_counts *n)
{
	static const struct coord_job_failure unclaimed = { false, true, "dead", "max_attempts" };
	struct coord_pushes pushes = { 0 };
	PGresult *res = NULL;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	const char *p[] = { item };
	if ((e = run(db, REAP_ITEM_LOCK, 1, p, &res)) != COORD_OK)
		goto out;
	if (PQntuples(res) == 0) { /* claimed, completed or locked meanwhile */
		coord_db_rollback(db);
		goto out;
	}
	enum coord_queue q = strcmp(PQgetvalue(res, 0, 0), "compile") == 0 ? COORD_Q_COMPILE
									     : COORD_Q_EXECUTE;
	bool has_call = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	bool call_over = has_call && strcmp(PQgetvalue(res, 0, 2), "pending") != 0;
	long attempts = strtol(PQgetvalue(res, 0, 3), NULL, 10);
	bool has_job = !PQgetisnull(res, 0, 4);
	int64_t job_id = has_job ? strtoll(PQgetvalue(res, 0, 4), NULL, 10) : 0;
	bool job_pending = has_job && strcmp(PQgetvalue(res, 0, 5), "pending") == 0;

	/* what the report says and counts once the transaction committed */
	const char *outcome;
	long *count, *jobs_failed = NULL;
	if (call_over || (!has_call && has_job && !job_pending)) { /* A.1 */
		outcome = call_over ? "call_finished" : "superseded";
		count = &n->items_closed;
		const char *c[] = { item, "done", outcome };
		e = run(db, REAP_ITEM_CLOSE, 3, c, NULL);
	} else if (attempts >= cfg->job_max_attempts) { /* A.2 */
		outcome = "dead (max_attempts)";
		count = &n->items_dead;
		const char *c[] = { item, "dead", "max_attempts" };
		e = run(db, REAP_ITEM_CLOSE, 3, c, NULL);
		if (e == COORD_OK && has_call) {
			/* the call is finalised; that fails its pending jobs too (SPEC §4.4 step 6) */
			static const struct coord_settlement undelivered = {
				.outcome = COORD_OUTCOME_UNDELIVERED };
			bool finalized;
			e = coord_billing_settle_in_tx(db, cfg, PQgetvalue(res, 0, 6), &undelivered,
						       &pushes, &finalized);
			if (e == COORD_ERR_NOT_FOUND)
				e = COORD_OK;
		} else if (e == COORD_OK && job_pending) {
			e = coord_jobs_fail_in_tx(db, cfg, job_id, "not claimed: delivery attempts exhausted",
						  &unclaimed, &pushes);
			jobs_failed = &n->jobs_failed;
		}
		if (e == COORD_ERR_CONFLICT && !coord_db_transient(db)) {
			/* a claim took the job over meanwhile: it wins */
			coord_db_rollback(db);
			e = COORD_OK;
			goto out;
		}
	} else { /* A.3 */
		outcome = "requeued";
		count = &n->items_requeued;
		e = run(db, REAP_ITEM_REQUEUE, 1, p, NULL);
		pushes.ids[0].q = q;
		pushes.ids[0].item_id = strtoll(item, NULL, 10);
		pushes.ids[0].front = true;
		pushes.n = 1;
	}
	if (e == COORD_OK)
		e = finish(db, redis, cfg, dry_run, &pushes);
	if (e == COORD_OK) {
		say(report, "item", item, outcome);
		++*count;
		if (jobs_failed)
			++*jobs_failed;
	}
out:
	if (e != COORD_OK)
		coord_db_rollback(db);
	PQclear(res);
	return e;
}

/* B: one job whose lease has passed. */
static enum coord_err reap_job(struct coord_db *db, struct coord_redis *redis,
			       const struct coord_config *cfg, const char *job, bool dry_run,
			       FILE *report, struct coord_reap_counts *n)
{
	struct coord_pushes pushes = { 0 };
	const char *outcome;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	e = coord_jobs_reap_in_tx(db, cfg, strtoll(job, NULL, 10), cfg->job_max_attempts, &pushes,
				  &outcome);
	if (e == COORD_ERR_CONFLICT && !coord_db_transient(db)) { /* claimed or locked meanwhile */
		coord_db_rollback(db);
		return COORD_OK;
	}
	if (e == COORD_OK)
		e = finish(db, redis, cfg, dry_run, &pushes);
	if (e != COORD_OK) {
		coord_db_rollback(db);
		return e;
	}
	say(report, "job", job, outcome);
	if (strcmp(outcome, "requeued") == 0)
		n->jobs_requeued++;
	else
		n->jobs_failed++;
	return COORD_OK;
}

/* C under -n: an item that the retention would delete. */
static enum coord_err report_retention(struct coord_db *db, struct coord_redis *redis,
				       const struct coord_config *cfg, const char *item,
				       bool dry_run, FILE *report, struct coord_reap_counts *n)
{
	(void)db;
	(void)redis;
	(void)cfg;
	(void)dry_run;
	say(report, "item", item, "deleted (closed more than 7 days ago)");
	n->items_deleted++;
	return COORD_OK;
}

/* Walks the candidates of a selection in batches, handling each row. */
static enum coord_err each_candidate(struct coord_db *db, int select,
				     enum coord_err (*handle)(struct coord_db *, struct coord_redis *,
							      const struct coord_config *, const char *,
							      bool, FILE *, struct coord_reap_counts *),
				     struct coord_redis *redis, const struct coord_config *cfg,
				     bool dry_run, FILE *report, struct coord_reap_counts *n)
{
	char after[24] = "0";
	for (;;) {
		PGresult *res;
		const char *p[] = { after };
		enum coord_err e = run(db, select, 1, p, &res);
		if (e != COORD_OK)
			return e;
		int rows = PQntuples(res);
		for (int i = 0; i < rows && e == COORD_OK; i++) {
			if (coord_maint_interrupted()) {
				e = COORD_ERR_CONFLICT;
				break;
			}
			/* a row racing a worker's completion may deadlock: it runs again */
			int attempts = 0;
			do
				e = handle(db, redis, cfg, PQgetvalue(res, i, 0), dry_run, report, n);
			while (coord_db_retry(db, e, &attempts));
		}
		if (rows)
			snprintf(after, sizeof(after), "%s", PQgetvalue(res, rows - 1, 0));
		PQclear(res);
		if (e != COORD_OK || rows == 0)
			return e;
	}
}

static enum coord_err reap(struct coord_db *db, struct coord_redis *redis,
			   const struct coord_config *cfg, bool dry_run, FILE *report,
			   struct coord_reap_counts *n)
{
	enum coord_err e = each_candidate(db, REAP_EXPIRED_ITEMS, reap_item, redis, cfg, dry_run,
					  report, n);
	if (e == COORD_OK)
		e = each_candidate(db, REAP_EXPIRED_JOBS, reap_job, redis, cfg, dry_run, report, n);
	if (e != COORD_OK)
		return e;
	if (dry_run)
		return each_candidate(db, REAP_RETENTION_AFTER, report_retention, redis, cfg, dry_run,
				      report, n);
	for (;;) { /* C */
		PGresult *res;
		if (coord_maint_interrupted())
			return COORD_ERR_CONFLICT;
		if ((e = run(db, REAP_RETENTION, 0, NULL, &res)) != COORD_OK)
			return e;
		long deleted = strtol(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		n->items_deleted += deleted;
		if (deleted == 0)
			return COORD_OK;
	}
}

enum coord_err coord_reap(struct coord_db *db, struct coord_redis *redis,
			  const struct coord_config *cfg, bool dry_run, FILE *report,
			  struct coord_reap_counts *n)
{
	memset(n, 0, sizeof(*n));
	enum coord_err e = reap(db, redis, cfg, dry_run, report, n);
	if (!dry_run) { /* what committed, also when a later row failed */
		coord_metrics_reaper_action("items_requeued", n->items_requeued);
		coord_metrics_reaper_action("items_closed", n->items_closed);
		coord_metrics_reaper_action("items_dead", n->items_dead);
		coord_metrics_reaper_action("jobs_requeued", n->jobs_requeued);
		coord_metrics_reaper_action("jobs_failed", n->jobs_failed);
		coord_metrics_reaper_action("items_deleted", n->items_deleted);
	}
	return e;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* pushed_at = now() on the pushed ids, in statements of at most 500 (SPEC §6.1) */
static enum coord_err mark_pushed(struct coord_db *db, char **ids, long n)
{
	enum coord_err e = COORD_OK;
	for (long from = 0; from < n && e == COORD_OK; from += 500) {
		struct coord_buf arr = COORD_BUF_INIT;
		coord_buf_addch(&arr, '{');
		for (long i = from; i < n && i < from + 500; i++)
			coord_buf_addf(&arr, "%s%s", i > from ? "," : "", ids[i]);
		coord_buf_addch(&arr, '}');
		const char *u[] = { arr.ptr };
		e = run(db, REQUEUE_PUSHED, 1, u, NULL);
		coord_buf_release(&arr);
	}
	return e;
}

enum coord_err coord_requeue(struct coord_db *db, struct coord_redis *redis,
			     const struct coord_config *cfg, enum coord_queue q, bool reset,
			     bool dry_run, FILE *report, long *pushed)
{
	const char *list = coord_queue_list(cfg, q);
	PGresult *res = NULL;
	redisReply *present = NULL, *rep = NULL;
	char **ids = NULL;
	int64_t *listed = NULL;
	size_t nlisted = 0;
	enum coord_err e;

	*pushed = 0;
	if (!reset) {
		present = coord_redis_command(redis, 10000, "LRANGE %s 0 -1", list);
		if (!present)
			return COORD_ERR_UPSTREAM;
		if (present->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(present);
			return COORD_ERR_INTERNAL;
		}
	}
	if (present) { /* the ids already listed, sorted for lookups */
		listed = coord_xcalloc(present->elements ? present->elements : 1, sizeof(*listed));
		for (size_t k = 0; k < present->elements; k++)
			if (present->element[k]->type == REDIS_REPLY_STRING)
				listed[nlisted++] = strtoll(present->element[k]->str, NULL, 10);
		qsort(listed, nlisted, sizeof(*listed), cmp_i64);
	}
	const char *p[] = { coord_queue_name(q) };
	if ((e = run(db, REQUEUE_QUEUED, 1, p, &res)) != COORD_OK)
		goto out;
	ids = coord_xcalloc(PQntuples(res) ? (size_t)PQntuples(res) : 1, sizeof(*ids));
	if (reset && !dry_run) {
		rep = coord_redis_command(redis, 10000, "MULTI");
		if (!rep) {
			e = COORD_ERR_UPSTREAM;
			goto out;
		}
		freeReplyObject(rep);
		rep = coord_redis_command(redis, 10000, "DEL %s", list);
		if (rep)
			freeReplyObject(rep);
	}
	for (int i = 0; i < PQntuples(res); i++) {
		char *id = PQgetvalue(res, i, 0);
		int64_t v = strtoll(id, NULL, 10);
		if (listed && bsearch(&v, listed, nlisted, sizeof(*listed), cmp_i64))
			continue;
		if (report)
			fprintf(report, "push %s %s\n", list, id);
		ids[(*pushed)++] = id;
		if (dry_run)
			continue;
		rep = coord_redis_command(redis, 10000, "RPUSH %s %s", list, id);
		if (!rep) {
			e = COORD_ERR_UPSTREAM;
			goto out;
		}
		freeReplyObject(rep);
	}
	if (reset && !dry_run) {
		rep = coord_redis_command(redis, 10000, "EXEC");
		bool ok = rep && rep->type == REDIS_REPLY_ARRAY;
		if (rep)
			freeReplyObject(rep);
		if (!ok) {
			e = rep ? COORD_ERR_INTERNAL : COORD_ERR_UPSTREAM;
			goto out;
		}
	}
	if (!dry_run)
		e = mark_pushed(db, ids, *pushed);
out:
	if (present)
		freeReplyObject(present);
	PQclear(res);
	free(listed);
	free(ids);
	return e;
}
