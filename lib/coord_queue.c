#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coord_int.h"
#include "coord_json.h"
#include "coord_log.h"
#include "coord_parse.h"
#include "coord_billing.h"
#include "coord_queue.h"
#include "banned.h"

enum {
	QUEUE_INSERT,
	QUEUE_UNPUSHED,
	QUEUE_LEASE_ID,
	QUEUE_LEASE_NEXT,
	QUEUE_INSERT_LEASED,
	QUEUE_INSERT_TASK,
	QUEUE_DELIVER_ID,
	QUEUE_DELIVER_NEXT,
	QUEUE_INSERT_DELIVERED,
};

/* A system task handed out is closed at once: delivered at most once (SPEC §3.1.1). */
#define DELIVERED "state = 'done', close_reason = 'delivered', attempts = 1, closed_at = now(), " \
		  "updated_at = now()"


const struct coord_stmt coord_queue_stmts[] = {
	[QUEUE_INSERT] = { "queue_insert",
		/* an HTTPS request's items carry its call id (SPEC §3.1, §4.4 step 6) */
		"INSERT INTO queue_items (queue, payload, request_id, data_id, call_id, state, pushed_at) "
		"VALUES ($1, $2, $3::bigint, $4, (SELECT er.call_id FROM execution_requests er "
		"WHERE er.request_id = $3::bigint AND er.data_id = $4), 'queued', now()) RETURNING item_id" },
	[QUEUE_UNPUSHED] = { "queue_unpushed",
		"UPDATE queue_items SET pushed_at = NULL WHERE item_id = $1 AND state = 'queued'" },
	[QUEUE_LEASE_ID] = { "queue_lease_id",
		"UPDATE queue_items SET state = 'leased', attempts = attempts + 1, "
		"lease_id = gen_random_uuid(), leased_to = $2, leased_at = now(), "
		"lease_expires_at = now() + make_interval(secs => $3::int), updated_at = now() "
		"WHERE item_id = $1 AND state = 'queued' AND queue = $4 RETURNING payload" },
	/* step 4: an item whose wake-up was lost or never pushed */
	[QUEUE_LEASE_NEXT] = { "queue_lease_next",
		"WITH c AS (SELECT item_id FROM queue_items WHERE queue = ANY($1::text[]) "
		"  AND state = 'queued' AND (pushed_at IS NULL OR pushed_at < now() - interval '30 seconds') "
		"  ORDER BY array_position($1::text[], queue), item_id LIMIT 1 FOR UPDATE SKIP LOCKED) "
		"UPDATE queue_items q SET state = 'leased', attempts = q.attempts + 1, "
		"lease_id = gen_random_uuid(), leased_to = $2, leased_at = now(), "
		"lease_expires_at = now() + make_interval(secs => $3::int), updated_at = now() "
		"FROM c WHERE q.item_id = c.item_id RETURNING q.payload" },
	[QUEUE_INSERT_LEASED] = { "queue_insert_leased",
		"INSERT INTO queue_items (queue, payload, request_id, data_id, state, attempts, "
		"lease_id, leased_to, leased_at, lease_expires_at) VALUES ($1, $2, $3::bigint, $4, "
		"'leased', 1, gen_random_uuid(), $5, now(), now() + make_interval(secs => $6::int))" },
	[QUEUE_INSERT_TASK] = { "queue_insert_task",
		"INSERT INTO queue_items (queue, payload, task_type, task_id, dedupe_key, state, pushed_at) "
		"VALUES ('system_callbacks', $1, $2, $3::bigint, $4, 'queued', now()) RETURNING item_id" },
	[QUEUE_DELIVER_ID] = { "queue_deliver_id",
		"UPDATE queue_items SET " DELIVERED ", leased_to = $2 "
		"WHERE item_id = $1 AND state = 'queued' AND queue = 'system_callbacks' RETURNING payload" },
	[QUEUE_DELIVER_NEXT] = { "queue_deliver_next",
		"WITH c AS (SELECT item_id FROM queue_items WHERE queue = 'system_callbacks' "
		"  AND state = 'queued' AND (pushed_at IS NULL OR pushed_at < now() - interval '30 seconds') "
		"  ORDER BY item_id LIMIT 1 FOR UPDATE SKIP LOCKED) "
		"UPDATE queue_items q SET " DELIVERED ", leased_to = $1 "
		"FROM c WHERE q.item_id = c.item_id RETURNING q.payload" },
	/* a JSON task pushed by the previous coordinator: recorded as delivered */
	[QUEUE_INSERT_DELIVERED] = { "queue_insert_delivered",
		"INSERT INTO queue_items (queue, payload, task_type, state, attempts, leased_to, "
		"close_reason, closed_at) VALUES ('system_callbacks', $1, $2, 'done', 1, $3, 'delivered', "
		"now())" },
};
const size_t coord_queue_nstmts = sizeof(coord_queue_stmts) / sizeof(coord_queue_stmts[0]);

const char *coord_queue_name(enum coord_queue q)
{
	static const char *const names[] = { "compile", "execute", "system_callbacks" };
	return names[q];
}

const char *coord_queue_list(const struct coord_config *cfg, enum coord_queue q)
{
	if (q == COORD_Q_COMPILE)
		return cfg->redis_queue_compile;
	if (q == COORD_Q_EXECUTE)
		return cfg->redis_queue_execute;
	return "system_callbacks_queue";
}

/* The item id an INSERT … RETURNING item_id gave, recorded for the push after commit. */
static enum coord_err record_push(const PGresult *res, enum coord_queue q, int64_t *item_id,
				  struct coord_pushes *pushes)
{
	const char *v = PQgetvalue(res, 0, 0);
	if (coord_parse_i64(v, strlen(v), 1, INT64_MAX, item_id) != COORD_OK)
		return COORD_ERR_INTERNAL;
	if (pushes->n < (int)(sizeof(pushes->ids) / sizeof(pushes->ids[0]))) {
		pushes->ids[pushes->n].q = q;
		pushes->ids[pushes->n].item_id = *item_id;
		pushes->ids[pushes->n].front = false;
		pushes->n++;
	}
	return COORD_OK;
}

enum coord_err coord_queue_insert(struct coord_db *db, enum coord_queue q, const char *payload,
				  int64_t request_id, const char *data_id, int64_t *item_id,
				  struct coord_pushes *pushes)
{
	char rid[24];
	PGresult *res;
	snprintf(rid, sizeof(rid), "%lld", (long long)request_id);
	const char *p[] = { coord_queue_name(q), payload, request_id < 0 ? NULL : rid, data_id };
	enum coord_err e = coord_db_exec(db, &coord_queue_stmts[QUEUE_INSERT], 4, p, &res);
	if (e != COORD_OK)
		return e;
	e = record_push(res, q, item_id, pushes);
	PQclear(res);
	return e;
}

enum coord_err coord_queue_insert_task(struct coord_db *db, const char *payload,
				       const char *task_type, int64_t task_id,
				       const char *dedupe_key, int64_t *item_id,
				       struct coord_pushes *pushes)
{
	char tid[24];
	PGresult *res;
	snprintf(tid, sizeof(tid), "%lld", (long long)task_id);
	const char *p[] = { payload, task_type, tid, dedupe_key };
	enum coord_err e = coord_db_exec(db, &coord_queue_stmts[QUEUE_INSERT_TASK], 4, p, &res);
	if (e != COORD_OK)
		return e;
	e = record_push(res, COORD_Q_SYSTEM, item_id, pushes);
	PQclear(res);
	return e;
}

void coord_queue_push(struct coord_db *db, struct coord_redis *redis,
		      const struct coord_config *cfg, const struct coord_pushes *pushes)
{
	for (int i = 0; i < pushes->n; i++) {
		char id[24];
		snprintf(id, sizeof(id), "%lld", (long long)pushes->ids[i].item_id);
		const char *list = coord_queue_list(cfg, pushes->ids[i].q);
		redisReply *rep = pushes->ids[i].front
			? coord_redis_command(redis, 2000, "RPUSH %s %s", list, id)
			: coord_redis_command(redis, 2000, "LPUSH %s %s", list, id);
		bool ok = rep && rep->type == REDIS_REPLY_INTEGER;
		if (rep)
			freeReplyObject(rep);
		if (ok)
			continue;
		coord_log(COORD_LOG_WARN, "queue: push of item %s to %s failed; polls will find it", id,
			  list);
		const char *p[] = { id };
		coord_db_exec(db, &coord_queue_stmts[QUEUE_UNPUSHED], 1, p, NULL);
	}
	if (pushes->call_done[0])
		coord_billing_wake(redis, pushes->call_done);
}

enum coord_err coord_queue_commit(struct coord_db *db, struct coord_redis *redis,
				  const struct coord_config *cfg, const struct coord_pushes *pushes)
{
	enum coord_err e = coord_db_commit(db);
	if (e == COORD_OK)
		coord_queue_push(db, redis, cfg, pushes);
	return e;
}

/* ---- poll ---- */

struct poll_ctx {
	struct coord_db *db;
	const struct coord_config *cfg;
	const char *token_hash;
	char lease_secs[16];
	bool deliver; /* system callbacks: delivered, not leased */
	struct coord_buf *payload;
};

/* Runs a statement that hands out at most one item; *got when it returned its payload. */
static enum coord_err hand_out(struct poll_ctx *c, int st, int n, const char *const *p, bool *got)
{
	PGresult *res;
	enum coord_err e = coord_db_exec(c->db, &coord_queue_stmts[st], n, p, &res);
	if (e != COORD_OK)
		return e;
	*got = PQntuples(res) == 1;
	if (*got)
		coord_buf_add(c->payload, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	return COORD_OK;
}

/* Leases (delivers) item id of queue q; true when it was still queued (payload filled). */
static enum coord_err lease_id(struct poll_ctx *c, enum coord_queue q, const char *id, bool *got)
{
	if (c->deliver) {
		const char *p[] = { id, c->token_hash };
		return hand_out(c, QUEUE_DELIVER_ID, 2, p, got);
	}
	const char *p[] = { id, c->token_hash, c->lease_secs, coord_queue_name(q) };
	return hand_out(c, QUEUE_LEASE_ID, 4, p, got);
}

/* A system task pushed into the list as JSON (the previous coordinator's form, SPEC §3.1 step 3). */
static enum coord_err deliver_json(struct poll_ctx *c, const char *text, size_t len, bool *got)
{
	struct coord_json_problem prob;
	json_object *o = coord_json_parse(text, len, &prob), *type;
	*got = false;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "task_type", &type) ||
	    !json_object_is_type(type, json_type_string)) {
		coord_log(COORD_LOG_WARN, "queue: discarded a malformed JSON task from system_callbacks");
		json_object_put(o);
		return COORD_OK;
	}
	const char *p[] = { text, json_object_get_string(type), c->token_hash };
	enum coord_err e = coord_db_exec(c->db, &coord_queue_stmts[QUEUE_INSERT_DELIVERED], 3, p,
					 NULL);
	json_object_put(o);
	if (e != COORD_OK)
		return e;
	coord_buf_add(c->payload, text, len);
	*got = true;
	return COORD_OK;
}

/* A JSON task pushed into a work list by an outside producer (SPEC §3.1 step 3). */
static enum coord_err lease_json(struct poll_ctx *c, enum coord_queue q, const char *text,
				 size_t len, bool *got)
{
	struct coord_json_problem prob;
	json_object *o = coord_json_parse(text, len, &prob), *rid, *did;
	*got = false;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "request_id", &rid) ||
	    !json_object_is_type(rid, json_type_int) || json_object_get_int64(rid) < 0 ||
	    !json_object_object_get_ex(o, "data_id", &did) ||
	    !json_object_is_type(did, json_type_string)) {
		coord_log(COORD_LOG_WARN, "queue: discarded a malformed JSON task from %s",
			  coord_queue_name(q));
		json_object_put(o);
		return COORD_OK;
	}
	char r[24];
	snprintf(r, sizeof(r), "%lld", (long long)json_object_get_int64(rid));
	PGresult *res;
	const char *p[] = { coord_queue_name(q), text, r, json_object_get_string(did),
			    c->token_hash, c->lease_secs };
	enum coord_err e = coord_db_exec(c->db, &coord_queue_stmts[QUEUE_INSERT_LEASED], 6, p, &res);
	json_object_put(o);
	if (e != COORD_OK)
		return e;
	PQclear(res);
	coord_buf_add(c->payload, text, len);
	*got = true;
	return COORD_OK;
}

/* Handles one popped value; *got when it became this poll's item. */
static enum coord_err handle_value(struct poll_ctx *c, enum coord_queue q, const char *v,
				   size_t len, bool *got)
{
	int64_t id;
	*got = false;
	if (len && v[0] == '{')
		return c->deliver ? deliver_json(c, v, len, got) : lease_json(c, q, v, len, got);
	if (coord_parse_i64(v, len, 1, INT64_MAX, &id) != COORD_OK) {
		coord_log(COORD_LOG_WARN, "queue: discarded a malformed value from %s", coord_queue_name(q));
		return COORD_OK;
	}
	char idtext[24];
	snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
	return lease_id(c, q, idtext, got);
}

static enum coord_err lease_next(struct poll_ctx *c, const enum coord_queue *queues, int nq,
				 bool *got)
{
	char arr[64];
	size_t o = 0;
	if (c->deliver) {
		const char *p[] = { c->token_hash };
		return hand_out(c, QUEUE_DELIVER_NEXT, 1, p, got);
	}
	arr[o++] = '{';
	for (int i = 0; i < nq; i++) {
		int w = snprintf(arr + o, sizeof(arr) - o, "%s%s", i ? "," : "", coord_queue_name(queues[i]));
		o += (size_t)w;
	}
	snprintf(arr + o, sizeof(arr) - o, "}");
	const char *p[] = { arr, c->token_hash, c->lease_secs };
	return hand_out(c, QUEUE_LEASE_NEXT, 3, p, got);
}

static int queue_of_list(const struct coord_config *cfg, const enum coord_queue *queues, int nq,
			 const char *list)
{
	for (int i = 0; i < nq; i++)
		if (strcmp(coord_queue_list(cfg, queues[i]), list) == 0)
			return i;
	return -1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

enum coord_err coord_queue_poll(struct coord_db *db, struct coord_redis *redis,
				const struct coord_config *cfg, const enum coord_queue *queues,
				int nq, int timeout_s, const char *token_hash, bool (*stop)(void),
				struct coord_buf *payload)
{
	struct poll_ctx c = { db, cfg, token_hash, "", queues[0] == COORD_Q_SYSTEM, payload };
	int64_t deadline = coord_monotonic_ms() + (int64_t)timeout_s * 1000;
	bool got = false, redis_down = false;
	enum coord_err e;

	snprintf(c.lease_secs, sizeof(c.lease_secs), "%lld", (long long)cfg->poll_lease_seconds);
	coord_buf_reset(payload);

	if (timeout_s == 0) {
		int i = 0;
		while (i < nq) {
			redisReply *rep = coord_redis_command(redis, 2000, "RPOP %s",
							      coord_queue_list(cfg, queues[i]));
			if (!rep) {
				redis_down = true;
				break;
			}
			if (rep->type != REDIS_REPLY_STRING) {
				freeReplyObject(rep);
				i++;
				continue;
			}
			e = handle_value(&c, queues[i], rep->str, rep->len, &got);
			freeReplyObject(rep);
			if (e != COORD_OK || got)
				return e;
			i = 0; /* after a stale value start again with the first list */
		}
	} else {
		for (;;) {
			int64_t remaining = deadline - coord_monotonic_ms();
			if (remaining <= 0 || stop())
				break;
			int slice = remaining >= 5000 ? 5 : (int)((remaining + 999) / 1000);
			char secs[8];
			snprintf(secs, sizeof(secs), "%d", slice);
			redisReply *rep = nq == 1
				? coord_redis_command(redis, slice * 1000 + 2000, "BRPOP %s %s",
						      coord_queue_list(cfg, queues[0]), secs)
				: coord_redis_command(redis, slice * 1000 + 2000, "BRPOP %s %s %s",
						      coord_queue_list(cfg, queues[0]),
						      coord_queue_list(cfg, queues[1]), secs);
			if (!rep) {
				redis_down = true;
				break;
			}
			if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
			    rep->element[0]->type == REDIS_REPLY_STRING &&
			    rep->element[1]->type == REDIS_REPLY_STRING) {
				int qi = queue_of_list(cfg, queues, nq, rep->element[0]->str);
				e = qi < 0 ? COORD_OK
					   : handle_value(&c, queues[qi], rep->element[1]->str,
							  rep->element[1]->len, &got);
				freeReplyObject(rep);
				if (e != COORD_OK || got)
					return e;
				continue;
			}
			if (rep->type == REDIS_REPLY_ERROR) {
				coord_log(COORD_LOG_WARN, "redis: BRPOP: %s", rep->str);
				freeReplyObject(rep);
				redis_down = true;
				break;
			}
			freeReplyObject(rep); /* nil: the slice ended */
		}
	}

	/* step 4; while Redis is unreachable, every second until the deadline */
	for (;;) {
		e = lease_next(&c, queues, nq, &got);
		if (e != COORD_OK || got || !redis_down)
			return e;
		if (coord_monotonic_ms() + 1000 > deadline || stop())
			return COORD_OK;
		sleep_ms(1000);
	}
}
