#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coord_billing.h"
#include "coord_executions.h"
#include "coord_idem.h"
#include "coord_int.h"
#include "coord_jobs.h"
#include "coord_json.h"
#include "coord_log.h"
#include "coord_parse.h"
#include "coord_pricing.h"
#include "banned.h"

enum {
	B_FINISH_WORKER,
	B_FINISH_OTHER,
	B_CALL_EXISTS,
	B_BALANCE_SETTLE,
	B_USAGE,
	B_EARNINGS,
	B_HISTORY,
	B_ITEMS_FINISHED,
	B_PENDING_JOBS,
	B_BALANCE_ENSURE,
	B_BALANCE_LOCK,
	B_RESERVE,
	B_IDS,
	B_CALL_INSERT,
	B_REQUEST_INSERT,
	B_RESULT,
	B_STUCK_CALLS,
	B_STALE_KEYS,
	B_OLD_IDEM,
	B_REBUILD,
};

/* the columns both finishing statements return, in this order */
#define FINISHED_COLS "c.owner, c.nonce, c.reserved_amount, c.compute_cost, c.attached_deposit, " \
	"c.refund_usd, c.project_id, c.request_id, c.error_message, c.status"
enum { F_OWNER, F_NONCE, F_RESERVED, F_COMPUTE, F_DEPOSIT, F_REFUND, F_PROJECT, F_REQUEST,
       F_ERROR, F_STATUS, F_CHARGED, F_DEVELOPER };

const struct coord_stmt coord_billing_stmts[] = {
	/* step 1 and 4 for a worker completion: cost, compute charge and refund by PostgreSQL */
	[B_FINISH_WORKER] = { "billing_finish_worker",
		"UPDATE https_calls c SET status = $2, completed_at = now(), "
		"reservation_released_at = now(), error_message = $3, output_data = $4, "
		"instructions = $5::bigint, time_ms = $6::bigint, actual_cost = x.cost, "
		"compute_cost = least(x.cost, c.compute_limit), "
		"refund_usd = least(coalesce($7::numeric, 0), c.attached_deposit), job_id = $8::bigint "
		"FROM (SELECT $9::numeric + floor($5::numeric / 1000000) * $10::numeric "
		"  + floor($6::numeric / 1000) * $11::numeric AS cost) x "
		"WHERE c.call_id = $1::uuid AND c.status = 'pending' RETURNING " FINISHED_COLS ", "
		"CASE WHEN c.status = 'completed' THEN c.compute_cost + c.attached_deposit - c.refund_usd "
		"  ELSE c.compute_cost END, "
		"CASE WHEN c.status = 'completed' THEN c.attached_deposit - c.refund_usd ELSE 0 END" },
	/* step 1 for every other outcome: released, nothing charged */
	[B_FINISH_OTHER] = { "billing_finish_other",
		"UPDATE https_calls c SET status = 'failed', completed_at = now(), "
		"reservation_released_at = now(), error_message = $2 "
		"WHERE c.call_id = $1::uuid AND c.status = 'pending' RETURNING " FINISHED_COLS ", 0, 0" },
	[B_CALL_EXISTS] = { "billing_call_exists",
		"SELECT 1 FROM https_calls WHERE call_id = $1::uuid" },
	/* step 3; the CHECK (reserved >= 0) aborts the transaction on a ledger error */
	[B_BALANCE_SETTLE] = { "billing_balance_settle",
		"UPDATE payment_key_balances SET reserved = reserved - $3::numeric, "
		"spent = spent + $4::numeric, "
		"last_used_at = CASE WHEN $5::bool THEN now() ELSE last_used_at END "
		"WHERE owner = $1 AND nonce = $2::bigint RETURNING 1" },
	[B_USAGE] = { "billing_usage",
		"INSERT INTO payment_key_usage (owner, nonce, call_id, job_id, project_id, compute_cost, "
		"attached_deposit, refund_usd, charged, status, error_message) VALUES ($1, $2::bigint, "
		"$3::uuid, $4::bigint, $5, $6::numeric, $7::numeric, $8::numeric, $9::numeric, $10, $11)" },
	[B_EARNINGS] = { "billing_earnings",
		"INSERT INTO project_owner_earnings (project_owner, balance, total_earned, updated_at) "
		"VALUES (split_part($1, '/', 1), $2::numeric, $2::numeric, now()) "
		"ON CONFLICT (project_owner) DO UPDATE SET "
		"balance = project_owner_earnings.balance + EXCLUDED.balance, "
		"total_earned = project_owner_earnings.total_earned + EXCLUDED.total_earned, "
		"updated_at = now()" },
	[B_HISTORY] = { "billing_history",
		"INSERT INTO earnings_history (project_owner, project_id, attached_usd, refund_usd, amount, "
		"source, caller, request_id, call_id, payment_key_owner, payment_key_nonce) VALUES "
		"(split_part($1, '/', 1), $1, $2::numeric, $3::numeric, $4::numeric, 'https', $5, "
		"$6::bigint, $7::uuid, $5, $8::bigint)" },
	[B_ITEMS_FINISHED] = { "billing_items_finished",
		"UPDATE queue_items SET state = 'done', close_reason = 'call_finished', closed_at = now(), "
		"lease_id = NULL, leased_to = NULL, leased_at = NULL, lease_expires_at = NULL, "
		"updated_at = now() WHERE call_id = $1::uuid AND state IN ('queued', 'leased')" },
	[B_PENDING_JOBS] = { "billing_pending_jobs",
		"SELECT job_id FROM jobs WHERE request_id = $1::bigint AND data_id = $2 "
		"AND status = 'pending' ORDER BY job_id" },
	[B_BALANCE_ENSURE] = { "billing_balance_ensure",
		"INSERT INTO payment_key_balances (owner, nonce) VALUES ($1, $2::bigint) "
		"ON CONFLICT DO NOTHING" },
	[B_BALANCE_LOCK] = { "billing_balance_lock",
		"SELECT greatest(k.initial_balance - b.spent - b.reserved, 0), "
		"k.initial_balance - b.spent - b.reserved >= $3::numeric "
		"FROM payment_key_balances b JOIN payment_keys k ON k.owner = b.owner AND k.nonce = b.nonce "
		"WHERE b.owner = $1 AND b.nonce = $2::bigint AND k.deleted_at IS NULL FOR UPDATE OF b" },
	[B_RESERVE] = { "billing_reserve",
		"UPDATE payment_key_balances SET reserved = reserved + $3::numeric, "
		"last_reserved_at = now() WHERE owner = $1 AND nonce = $2::bigint" },
	[B_IDS] = { "billing_ids",
		"SELECT nextval('https_request_id_seq'), gen_random_uuid()" },
	[B_CALL_INSERT] = { "billing_call_insert",
		"INSERT INTO https_calls (call_id, owner, nonce, project_id, project_uuid, request_id, "
		"status, is_async, input_data, compute_limit, attached_deposit, reserved_amount, "
		"wallet_id, version_key) VALUES ($1::uuid, $2, $3::bigint, $4, $5, $6::bigint, 'pending', "
		"$7::bool, $8, $9::numeric, $10::numeric, $11::numeric, $12, $13)" },
	[B_REQUEST_INSERT] = { "billing_request_insert",
		"INSERT INTO execution_requests (request_id, data_id, input_data, max_instructions, "
		"max_memory_mb, max_execution_seconds, secrets_profile, secrets_account_id, "
		"response_format, context_sender_id, user_account_id, attached_usd, project_uuid, "
		"project_id, is_https_call, call_id, payment_key_owner, payment_key_nonce, usd_payment, "
		"compute_limit_usd, attached_deposit_usd, version_key, wallet_id) VALUES ($1::bigint, "
		"$2::text, $3, $4::bigint, $5::bigint, $6::bigint, $7, $8, 'Json', $9, $9, $10::numeric, "
		"$11, $12, true, $2::text::uuid, $9, $13::bigint, $10::numeric, $14::numeric, $10::numeric, $15, $16)" },
	[B_RESULT] = { "billing_result",
		"SELECT status, output_data, error_message, compute_cost, instructions, time_ms, owner, "
		"nonce FROM https_calls WHERE call_id = $1::uuid" },
	[B_STUCK_CALLS] = { "billing_stuck_calls",
		"SELECT call_id FROM https_calls WHERE status = 'pending' "
		"AND created_at < now() - make_interval(secs => $1::int) AND call_id > $2::uuid "
		"ORDER BY call_id LIMIT 500" },
	/* never-funded, never-used keys, with their idle balance rows, 500 at a time */
	[B_STALE_KEYS] = { "billing_stale_keys",
		"WITH k AS (SELECT p.owner, p.nonce FROM payment_keys p WHERE p.initial_balance = 0 "
		"AND NOT p.is_grant AND p.funded_at IS NULL "
		"AND p.created_at < now() - make_interval(secs => $1::int) "
		"AND NOT EXISTS (SELECT 1 FROM payment_key_topups t WHERE t.owner = p.owner AND t.nonce = p.nonce) "
		"AND NOT EXISTS (SELECT 1 FROM payment_key_grants g WHERE g.owner = p.owner AND g.nonce = p.nonce) "
		"AND NOT EXISTS (SELECT 1 FROM https_calls c WHERE c.owner = p.owner AND c.nonce = p.nonce) "
		"AND NOT EXISTS (SELECT 1 FROM payment_key_balances b WHERE b.owner = p.owner "
		"  AND b.nonce = p.nonce AND NOT (b.spent = 0 AND b.reserved = 0 AND b.last_used_at IS NULL)) "
		"LIMIT 500 FOR UPDATE OF p SKIP LOCKED), "
		"b AS (DELETE FROM payment_key_balances b USING k WHERE b.owner = k.owner AND b.nonce = k.nonce) "
		"DELETE FROM payment_keys p USING k WHERE p.owner = k.owner AND p.nonce = k.nonce RETURNING 1" },
	[B_OLD_IDEM] = { "billing_old_idem",
		"DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys "
		"WHERE created_at < now() - make_interval(secs => $1::int) LIMIT 500) RETURNING 1" },
	/* SPEC §3.1.2 rebuild of an HTTPS item from its stored request */
	[B_REBUILD] = { "billing_rebuild",
		"SELECT data_id, project_id, version_key, coalesce(project_uuid, ''), "
		"coalesce(max_instructions, 1000000000), coalesce(max_memory_mb, 128), "
		"coalesce(max_execution_seconds, 60), coalesce(input_data, ''), payment_key_owner, "
		"call_id, coalesce(compute_limit_usd, 0), coalesce(attached_deposit_usd, 0), "
		"coalesce(payment_key_nonce, 0), wallet_id, secrets_profile, secrets_account_id "
		"FROM execution_requests WHERE request_id = $1::bigint AND is_https_call "
		"AND call_id IS NOT NULL AND payment_key_owner IS NOT NULL AND project_id IS NOT NULL" },
};
const size_t coord_billing_nstmts = sizeof(coord_billing_stmts) / sizeof(coord_billing_stmts[0]);

static enum coord_err run(struct coord_db *db, int which, int n, const char *const *p,
			  PGresult **out)
{
	return coord_db_exec(db, &coord_billing_stmts[which], n, p, out);
}

static const char *val(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

#define I64TXT(buf, v) (snprintf(buf, sizeof(buf), "%lld", (long long)(v)), buf)

/* ---- settlement ---- */

static const char *outcome_error(const struct coord_config *cfg,
				 const struct coord_settlement *s, char *buf, size_t n)
{
	if (s->error)
		return s->error;
	switch (s->outcome) {
	case COORD_OUTCOME_WORKER:
		return NULL;
	case COORD_OUTCOME_COMPILE_FAILED:
		return "Compilation failed";
	case COORD_OUTCOME_TIMEOUT:
		return "Timeout";
	case COORD_OUTCOME_EXPIRED:
		snprintf(buf, n, "Timeout: no result within %lld s",
			 (long long)(cfg->https_call_timeout_seconds + 60));
		return buf;
	case COORD_OUTCOME_UNDELIVERED:
		return "not processed: delivery attempts exhausted";
	case COORD_OUTCOME_WORKER_LOST:
		return "worker lost";
	}
	return NULL;
}

/* A money member of the pricing object ("0" if it is somehow absent). */
static const char *pricing_money(json_object *pricing, const char *key)
{
	json_object *v;
	if (pricing && json_object_object_get_ex(pricing, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "0";
}

enum coord_err coord_billing_settle_in_tx(struct coord_db *db, const struct coord_config *cfg,
					  const char *call_id, const struct coord_settlement *s,
					  struct coord_pushes *pushes, bool *finalized)
{
	char errbuf[96], instr[24], time_ms[24], job_id[24], nonce[24], rid[24];
	PGresult *res = NULL, *jobs = NULL;
	json_object *pricing = NULL;
	enum coord_err e;
	bool worker = s->outcome == COORD_OUTCOME_WORKER;
	const char *error = outcome_error(cfg, s, errbuf, sizeof(errbuf));

	*finalized = false;
	/* 1. the transition out of pending, and 4. what the call stores */
	if (worker) {
		if ((e = coord_pricing_current(db, &pricing)) != COORD_OK)
			goto out;
		const char *p[] = {
			call_id, s->success ? "completed" : "failed", error, s->output_json,
			I64TXT(instr, s->instructions), I64TXT(time_ms, s->time_ms), s->refund_usd,
			s->has_job_id ? I64TXT(job_id, s->job_id) : NULL,
			pricing_money(pricing, "base_fee_usd"),
			pricing_money(pricing, "per_instruction_fee_usd"),
			pricing_money(pricing, "per_sec_fee_usd"),
		};
		e = run(db, B_FINISH_WORKER, 11, p, &res);
	} else {
		const char *p[] = { call_id, error };
		e = run(db, B_FINISH_OTHER, 2, p, &res);
	}
	if (e != COORD_OK)
		goto out;
	if (PQntuples(res) == 0) {
		PQclear(res);
		const char *p[] = { call_id };
		if ((e = run(db, B_CALL_EXISTS, 1, p, &res)) != COORD_OK)
			goto out;
		e = PQntuples(res) == 1 ? COORD_OK : COORD_ERR_NOT_FOUND;
		goto out;
	}
	const char *owner = PQgetvalue(res, 0, F_OWNER);
	snprintf(nonce, sizeof(nonce), "%s", PQgetvalue(res, 0, F_NONCE));
	const char *charged = PQgetvalue(res, 0, F_CHARGED);
	const char *developer = PQgetvalue(res, 0, F_DEVELOPER);
	const char *status = PQgetvalue(res, 0, F_STATUS);
	snprintf(rid, sizeof(rid), "%s", PQgetisnull(res, 0, F_REQUEST) ? "" : PQgetvalue(res, 0, F_REQUEST));

	/* 3. the balance: the reservation released, the charge spent */
	const char *pb[] = { owner, nonce, PQgetvalue(res, 0, F_RESERVED), charged,
			     worker ? "true" : "false" };
	PGresult *bal = NULL;
	if ((e = run(db, B_BALANCE_SETTLE, 5, pb, &bal)) != COORD_OK)
		goto out;
	bool had_balance = PQntuples(bal) == 1;
	PQclear(bal);
	if (!had_balance) {
		coord_log(COORD_LOG_ERROR, "billing: call %s has no balance row for %s:%s", call_id,
			  owner, nonce);
		e = COORD_ERR_INTERNAL;
		goto out;
	}

	/* 4. the usage row of a worker completion */
	if (worker) {
		const char *pu[] = {
			owner, nonce, call_id, s->has_job_id ? job_id : NULL,
			PQgetvalue(res, 0, F_PROJECT), PQgetvalue(res, 0, F_COMPUTE),
			PQgetvalue(res, 0, F_DEPOSIT), PQgetvalue(res, 0, F_REFUND), charged, status,
			val(res, 0, F_ERROR),
		};
		if ((e = run(db, B_USAGE, 11, pu, NULL)) != COORD_OK)
			goto out;
	}

	/* 5. the developer's share */
	if (strcmp(developer, "0") != 0) {
		const char *pe[] = { PQgetvalue(res, 0, F_PROJECT), developer };
		if ((e = run(db, B_EARNINGS, 2, pe, NULL)) != COORD_OK)
			goto out;
		const char *ph[] = { PQgetvalue(res, 0, F_PROJECT), PQgetvalue(res, 0, F_DEPOSIT),
				     PQgetvalue(res, 0, F_REFUND), developer, owner, rid[0] ? rid : NULL,
				     call_id, nonce };
		if ((e = run(db, B_HISTORY, 8, ph, NULL)) != COORD_OK)
			goto out;
	}

	/* 6. the call's items, then its pending jobs */
	const char *pi[] = { call_id };
	if ((e = run(db, B_ITEMS_FINISHED, 1, pi, NULL)) != COORD_OK)
		goto out;
	if (rid[0]) {
		static const struct coord_job_failure finished = { false, true, "done", "call_finished" };
		char jerr[1200];
		const char *cerr = val(res, 0, F_ERROR);
		if (cerr)
			snprintf(jerr, sizeof(jerr), "call finished: %s (%s)", status, cerr);
		else
			snprintf(jerr, sizeof(jerr), "call finished: %s", status);
		const char *pj[] = { rid, call_id };
		if ((e = run(db, B_PENDING_JOBS, 2, pj, &jobs)) != COORD_OK)
			goto out;
		for (int i = 0; i < PQntuples(jobs); i++) {
			e = coord_jobs_fail_in_tx(db, cfg, coord_db_i64(jobs, i, 0), jerr, &finished, pushes);
			if (e == COORD_ERR_CONFLICT)
				e = COORD_OK; /* not pending any more */
			if (e != COORD_OK)
				goto out;
		}
	}
	snprintf(pushes->call_done, sizeof(pushes->call_done), "%s", call_id);
	*finalized = true;
	e = COORD_OK;
out:
	PQclear(res);
	PQclear(jobs);
	json_object_put(pricing);
	return e;
}

static enum coord_err settle_tx(struct coord_db *db, const struct coord_config *cfg,
				const char *call_id, const struct coord_settlement *s,
				struct coord_pushes *pushes, bool *finalized)
{
	memset(pushes, 0, sizeof(*pushes));
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	e = coord_billing_settle_in_tx(db, cfg, call_id, s, pushes, finalized);
	if (e == COORD_OK)
		e = coord_db_commit(db);
	if (e != COORD_OK) {
		coord_db_rollback(db);
		*finalized = false;
	}
	return e;
}

enum coord_err coord_billing_settle(struct coord_db *db, struct coord_redis *redis,
				    const struct coord_config *cfg, const char *call_id,
				    const struct coord_settlement *s, bool *finalized)
{
	struct coord_pushes pushes;
	enum coord_err e;
	int attempts = 0;
	/* a settlement racing the reaper's for one call may deadlock: it runs again */
	do
		e = settle_tx(db, cfg, call_id, s, &pushes, finalized);
	while (coord_db_retry(db, e, &attempts));
	if (e == COORD_OK)
		coord_queue_push(db, redis, cfg, &pushes);
	return e;
}

void coord_billing_wake(struct coord_redis *redis, const char *call_id)
{
	redisReply *rep = coord_redis_command(redis, 2000, "LPUSH call_done:%s 1", call_id);
	if (rep) {
		freeReplyObject(rep);
		rep = coord_redis_command(redis, 2000, "EXPIRE call_done:%s 600", call_id);
	}
	if (rep)
		freeReplyObject(rep);
}

/* ---- the call's creation (SPEC §3.3.1 step 12) ---- */

static json_object *https_payload(const struct coord_call_new *c, int64_t request_id,
				  const char *call_id)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "request_id", json_object_new_int64(request_id));
	json_object_object_add(o, "data_id", json_object_new_string(call_id));
	json_object_object_add(o, "project_id", json_object_new_string(c->project_id));
	json_object_object_add(o, "version_key",
			       c->version_key ? json_object_new_string(c->version_key) : NULL);
	json_object_object_add(o, "project_uuid", json_object_new_string(c->project_uuid));
	json_object_object_add(o, "resource_limits",
			       coord_resource_limits_json(c->max_instructions, c->max_memory_mb,
							  c->max_execution_seconds));
	json_object_object_add(o, "input_data", json_object_new_string(c->input_json));
	json_object_object_add(o, "response_format", json_object_new_string("Json"));
	json_object *ctx = json_object_new_object();
	json_object_object_add(ctx, "sender_id", json_object_new_string(c->owner));
	json_object_object_add(o, "context", ctx);
	json_object_object_add(o, "user_account_id", json_object_new_string(c->owner));
	json_object_object_add(o, "is_https_call", json_object_new_boolean(1));
	json_object_object_add(o, "call_id", json_object_new_string(call_id));
	json_object_object_add(o, "compute_limit_usd", json_object_new_string(c->compute_limit));
	json_object_object_add(o, "attached_deposit_usd", json_object_new_string(c->deposit));
	json_object_object_add(o, "payment_key_owner", json_object_new_string(c->owner));
	json_object_object_add(o, "payment_key_nonce", json_object_new_int64(c->nonce));
	json_object_object_add(o, "usd_payment", json_object_new_string(c->deposit));
	json_object_object_add(o, "wallet_id",
			       c->wallet_id ? json_object_new_string(c->wallet_id) : NULL);
	if (c->secrets_profile && c->secrets_account_id) {
		json_object *sr = json_object_new_object();
		json_object_object_add(sr, "profile", json_object_new_string(c->secrets_profile));
		json_object_object_add(sr, "account_id", json_object_new_string(c->secrets_account_id));
		json_object_object_add(o, "secrets_ref", sr);
	}
	return o;
}

enum coord_err coord_billing_rebuild_payload(struct coord_db *db, int64_t request_id,
					     json_object **payload)
{
	char rid[24];
	PGresult *res;
	*payload = NULL;
	const char *p[] = { I64TXT(rid, request_id) };
	enum coord_err e = run(db, B_REBUILD, 1, p, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 1) {
		char cl[40], dep[40];
		coord_money_canonical(PQgetvalue(res, 0, 10), (size_t)PQgetlength(res, 0, 10), cl);
		coord_money_canonical(PQgetvalue(res, 0, 11), (size_t)PQgetlength(res, 0, 11), dep);
		struct coord_call_new c = {
			.project_id = PQgetvalue(res, 0, 1),
			.version_key = val(res, 0, 2),
			.project_uuid = PQgetvalue(res, 0, 3),
			.max_instructions = coord_db_i64(res, 0, 4),
			.max_memory_mb = coord_db_i64(res, 0, 5),
			.max_execution_seconds = coord_db_i64(res, 0, 6),
			.input_json = PQgetvalue(res, 0, 7),
			.owner = PQgetvalue(res, 0, 8),
			.compute_limit = cl,
			.deposit = dep,
			.nonce = coord_db_i64(res, 0, 12),
			.wallet_id = val(res, 0, 13),
			.secrets_profile = val(res, 0, 14),
			.secrets_account_id = val(res, 0, 15),
		};
		*payload = https_payload(&c, request_id, PQgetvalue(res, 0, 9));
	}
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_billing_call_create(struct coord_db *db, struct coord_redis *redis,
					 const struct coord_config *cfg,
					 const struct coord_call_new *c,
					 char call_id[static COORD_CALL_ID_LEN + 1],
					 bool *insufficient, char available[static 40])
{
	char nonce[24], rid[24], mi[24], mm[24], ms[24];
	struct coord_pushes pushes = { 0 };
	PGresult *res = NULL;
	json_object *payload = NULL;

	*insufficient = false;
	call_id[0] = available[0] = '\0';
	I64TXT(nonce, c->nonce);
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	const char *pk[] = { c->owner, nonce, c->reserve };
	if ((e = run(db, B_BALANCE_ENSURE, 2, pk, NULL)) != COORD_OK)
		goto out;
	if ((e = run(db, B_BALANCE_LOCK, 3, pk, &res)) != COORD_OK)
		goto out;
	if (PQntuples(res) == 0) {
		e = COORD_ERR_NOT_FOUND;
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		snprintf(available, 40, "%s", PQgetvalue(res, 0, 0));
		*insufficient = true;
		goto out; /* e is COORD_OK: rolled back below */
	}
	PQclear(res);
	res = NULL;
	if ((e = run(db, B_RESERVE, 3, pk, NULL)) != COORD_OK)
		goto out;
	if ((e = run(db, B_IDS, 0, NULL, &res)) != COORD_OK)
		goto out;
	int64_t request_id = coord_db_i64(res, 0, 0);
	snprintf(call_id, COORD_CALL_ID_LEN + 1, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	res = NULL;
	I64TXT(rid, request_id);
	const char *pc[] = { call_id, c->owner, nonce, c->project_id, c->project_uuid, rid,
			     c->is_async ? "true" : "false", c->input_json, c->compute_limit,
			     c->deposit, c->reserve, c->wallet_id, c->version_key };
	if ((e = run(db, B_CALL_INSERT, 13, pc, NULL)) != COORD_OK)
		goto out;
	const char *pr[] = { rid, call_id, c->input_json, I64TXT(mi, c->max_instructions),
			     I64TXT(mm, c->max_memory_mb), I64TXT(ms, c->max_execution_seconds),
			     c->secrets_profile, c->secrets_account_id, c->owner, c->deposit,
			     c->project_uuid, c->project_id, nonce, c->compute_limit, c->version_key,
			     c->wallet_id };
	if ((e = run(db, B_REQUEST_INSERT, 16, pr, NULL)) != COORD_OK)
		goto out;
	payload = https_payload(c, request_id, call_id);
	int64_t item_id;
	e = coord_queue_insert(db, COORD_Q_EXECUTE, coord_json_text(payload, NULL), request_id,
			       call_id, &item_id, &pushes);
	if (e != COORD_OK)
		goto out;
	if (c->idem_key && (e = coord_idem_attach(db, c->owner, c->nonce, c->idem_key, call_id)) != COORD_OK)
		goto out;
	if ((e = coord_db_commit(db)) != COORD_OK)
		goto out;
	coord_queue_push(db, redis, cfg, &pushes);
out:
	if (e != COORD_OK || *insufficient) {
		coord_db_rollback(db);
		if (e != COORD_OK)
			call_id[0] = '\0';
	}
	PQclear(res);
	json_object_put(payload);
	return e;
}

/* ---- reading a call ---- */

enum coord_err coord_billing_call_result(struct coord_db *db, const char *call_id,
					 const char *owner, int64_t nonce, json_object **out,
					 bool *pending)
{
	PGresult *res = NULL;
	const char *p[] = { call_id };
	*out = NULL;
	*pending = false;
	enum coord_err e = run(db, B_RESULT, 1, p, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 0 ||
	    (owner && (strcmp(PQgetvalue(res, 0, 6), owner) != 0 || coord_db_i64(res, 0, 7) != nonce))) {
		PQclear(res);
		return COORD_ERR_NOT_FOUND;
	}
	json_object *o = json_object_new_object();
	const char *status = PQgetvalue(res, 0, 0);
	char lower[COORD_CALL_ID_LEN + 1];
	size_t i;
	for (i = 0; call_id[i] && i < COORD_CALL_ID_LEN; i++)
		lower[i] = (char)(call_id[i] >= 'A' && call_id[i] <= 'F' ? call_id[i] + 32 : call_id[i]);
	lower[i] = '\0';
	json_object_object_add(o, "call_id", json_object_new_string(lower));
	json_object_object_add(o, "status", json_object_new_string(status));
	*pending = strcmp(status, "pending") == 0;
	if (!*pending) {
		if (!PQgetisnull(res, 0, 1)) {
			struct coord_json_problem prob;
			json_object *output = coord_json_parse(PQgetvalue(res, 0, 1),
							       (size_t)PQgetlength(res, 0, 1), &prob);
			if (output)
				json_object_object_add(o, "output", output);
		}
		if (!PQgetisnull(res, 0, 2))
			json_object_object_add(o, "error", json_object_new_string(PQgetvalue(res, 0, 2)));
		if (!PQgetisnull(res, 0, 3))
			json_object_object_add(o, "compute_cost", coord_json_money(PQgetvalue(res, 0, 3)));
		if (!PQgetisnull(res, 0, 4))
			json_object_object_add(o, "instructions", json_object_new_int64(coord_db_i64(res, 0, 4)));
		if (!PQgetisnull(res, 0, 5))
			json_object_object_add(o, "time_ms", json_object_new_int64(coord_db_i64(res, 0, 5)));
	}
	PQclear(res);
	*out = o;
	return COORD_OK;
}

enum coord_err coord_billing_call_wait(struct coord_db *db, struct coord_redis *redis,
				       const char *call_id, int64_t deadline_ms,
				       bool (*stop)(void), json_object **out, bool *pending)
{
	enum coord_err e;
	*out = NULL;
	for (;;) {
		json_object *o = NULL;
		if ((e = coord_billing_call_result(db, call_id, NULL, 0, &o, pending)) != COORD_OK)
			return e;
		if (!*pending) {
			*out = o;
			return COORD_OK;
		}
		json_object_put(o);
		int64_t remaining = deadline_ms - coord_monotonic_ms();
		if (remaining <= 0 || stop())
			return COORD_OK;
		int64_t slice = remaining < 1000 ? remaining : 1000;
		char secs[16];
		snprintf(secs, sizeof(secs), "%lld.%03lld", (long long)(slice / 1000),
			 (long long)(slice % 1000));
		redisReply *rep = coord_redis_command(redis, (int)slice + 2000, "BRPOP call_done:%s %s",
						      call_id, secs);
		if (rep) {
			freeReplyObject(rep);
		} else {
			/* Redis unreachable: look again in 100 ms */
			int64_t nap = remaining < 100 ? remaining : 100;
			struct timespec ts = { 0, (long)nap * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
}

/* ---- payment-key-cleanup ---- */

enum coord_err coord_billing_cleanup(struct coord_db *db, struct coord_redis *redis,
				     const struct coord_config *cfg, bool (*stop)(void),
				     struct coord_cleanup_counts *n)
{
	char secs[24], after[COORD_CALL_ID_LEN + 1] = "00000000-0000-0000-0000-000000000000";
	PGresult *res = NULL;
	enum coord_err e;
	static const struct coord_settlement expiry = { .outcome = COORD_OUTCOME_EXPIRED };

	memset(n, 0, sizeof(*n));
	/* 1. stuck calls, one per transaction */
	I64TXT(secs, cfg->https_call_timeout_seconds + 60);
	for (;;) {
		const char *p[] = { secs, after };
		if ((e = run(db, B_STUCK_CALLS, 2, p, &res)) != COORD_OK)
			return e;
		int rows = PQntuples(res);
		for (int i = 0; i < rows; i++) {
			if (stop()) {
				PQclear(res);
				return COORD_ERR_IO;
			}
			snprintf(after, sizeof(after), "%s", PQgetvalue(res, i, 0));
			bool finalized;
			if ((e = coord_billing_settle(db, redis, cfg, after, &expiry, &finalized)) != COORD_OK &&
			    e != COORD_ERR_NOT_FOUND) {
				PQclear(res);
				return e;
			}
			if (finalized)
				n->calls_expired++;
		}
		PQclear(res);
		if (rows < 500)
			break;
	}
	/* 2. stale keys and 3. old idempotency records, 500 rows a statement */
	I64TXT(secs, cfg->payment_key_stale_seconds);
	for (int which = B_STALE_KEYS; which <= B_OLD_IDEM; which++) {
		if (which == B_OLD_IDEM)
			I64TXT(secs, cfg->idempotency_ttl_seconds);
		for (;;) {
			if (stop())
				return COORD_ERR_IO;
			const char *p[] = { secs };
			if ((e = run(db, which, 1, p, &res)) != COORD_OK)
				return e;
			int rows = PQntuples(res);
			PQclear(res);
			if (which == B_STALE_KEYS)
				n->keys_deleted += rows;
			else
				n->idem_deleted += rows;
			if (rows < 500)
				break;
		}
	}
	return COORD_OK;
}
