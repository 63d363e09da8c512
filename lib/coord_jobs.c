#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_billing.h"
#include "coord_int.h"
#include "coord_jobs.h"
#include "coord_json.h"
#include "coord_log.h"
#include "coord_metrics.h"
#include "coord_parse.h"
#include "coord_pricing.h"
#include "coord_queue.h"
#include "coord_wasmcache.h"
#include "banned.h"

/* ---- statements ---- */

enum {
	J_LEASED_ITEM,
	J_REQUEST,
	J_JOBS_OF_REQUEST,
	J_INSERT,
	J_TAKE_OVER,
	J_RESET_COMPILE,
	J_ITEM_CLAIMED,
	J_ITEM_CLOSE,
	J_ITEM_MOVE,
	J_CALL_STARTED,
	J_LOCK,
	J_FINISH,
	J_ITEMS_COMPLETED,
	J_ITEMS_SUPERSEDED,
	J_REQUEST_ROW,
	J_STORE_COMPILE_RESULT,
	J_BASE_PAYLOAD,
	J_EXECUTE_JOB_EXISTS,
	J_RESULT,
	J_EARNINGS,
	J_REAP_LOCK,
	J_REAP_PENDING,
	J_REAP_REQUEUE_ITEM,
};

#define LEASE_CLEARED "lease_id = NULL, leased_to = NULL, leased_at = NULL, lease_expires_at = NULL"

const struct coord_stmt coord_jobs_stmts[] = {
	[J_LEASED_ITEM] = { "jobs_leased_item",
		"SELECT item_id FROM queue_items WHERE request_id = $1 AND data_id = $2 "
		"AND state = 'leased' AND leased_to = $3 ORDER BY item_id DESC LIMIT 1 FOR UPDATE" },
	[J_REQUEST] = { "jobs_request",
		"SELECT er.is_https_call, coalesce(c.status, ''), coalesce(er.max_execution_seconds, 60), "
		"er.call_id FROM execution_requests er LEFT JOIN https_calls c ON c.call_id = er.call_id "
		"WHERE er.request_id = $1 AND er.data_id = $2" },
	[J_JOBS_OF_REQUEST] = { "jobs_of_request",
		"SELECT job_id, job_type, status, compile_error IS NOT NULL, compile_cost_yocto, "
		"compile_error, compile_time_ms FROM jobs WHERE request_id = $1 AND data_id = $2 FOR UPDATE" },
	[J_INSERT] = { "jobs_insert",
		"INSERT INTO jobs (request_id, data_id, job_type, worker_id, status, wasm_checksum, "
		"user_account_id, near_payment_yocto, transaction_hash, github_repo, github_commit, "
		"wasm_url, wasm_content_hash, build_target, project_uuid, project_id, token_hash, lease_id, "
		"lease_expires_at, attempts, claimed_at) VALUES ($1, $2, $3, $4, 'in_progress', $5, $6, "
		"$7::numeric, $8, $9, $10, $11, $12, $13, $14, $15, $16, gen_random_uuid(), "
		"now() + make_interval(secs => $17::int), 1, now()) "
		"ON CONFLICT (request_id, data_id, job_type) DO NOTHING "
		"RETURNING job_id, floor(extract(epoch FROM created_at))::bigint" },
	[J_TAKE_OVER] = { "jobs_take_over",
		"UPDATE jobs SET status = 'in_progress', lease_id = gen_random_uuid(), "
		"lease_expires_at = now() + make_interval(secs => $2::int), attempts = attempts + 1, "
		"completed_at = NULL, error_details = NULL, compile_error = NULL, wasm_checksum = $3, "
		"worker_id = $4, token_hash = $5, project_uuid = $6, project_id = $7, claimed_at = now(), "
		"updated_at = now() WHERE job_id = $1 AND status = $8 "
		"RETURNING floor(extract(epoch FROM created_at))::bigint" },
	[J_RESET_COMPILE] = { "jobs_reset_compile",
		"UPDATE jobs SET status = 'pending', updated_at = now() "
		"WHERE job_id = $1 AND status = 'completed'" },
	[J_ITEM_CLAIMED] = { "jobs_item_claimed",
		"UPDATE queue_items SET state = 'claimed', job_id = $2, " LEASE_CLEARED ", "
		"updated_at = now() WHERE item_id = $1" },
	[J_ITEM_CLOSE] = { "jobs_item_close",
		"UPDATE queue_items SET state = 'done', close_reason = $2, closed_at = now(), "
		LEASE_CLEARED ", updated_at = now() WHERE item_id = $1" },
	[J_ITEM_MOVE] = { "jobs_item_move",
		"UPDATE queue_items SET "
		"state = CASE WHEN moves >= 3 THEN 'dead' ELSE 'queued' END, "
		"close_reason = CASE WHEN moves >= 3 THEN 'max_moves' END, "
		"closed_at = CASE WHEN moves >= 3 THEN now() END, "
		"queue = CASE WHEN moves >= 3 THEN queue ELSE $2 END, "
		"moves = CASE WHEN moves >= 3 THEN moves ELSE moves + 1 END, "
		"pushed_at = now(), " LEASE_CLEARED ", updated_at = now() WHERE item_id = $1 RETURNING state" },
	[J_CALL_STARTED] = { "jobs_call_started",
		"UPDATE https_calls SET started_at = now() WHERE call_id = $1 AND started_at IS NULL" },
	[J_LOCK] = { "jobs_lock",
		"SELECT request_id, data_id, job_type, status, coalesce(lease_expires_at < now(), false) "
		"FROM jobs WHERE job_id = $1 FOR UPDATE" },
	[J_FINISH] = { "jobs_finish",
		"UPDATE jobs SET status = $2, wasm_checksum = coalesce($3, wasm_checksum), "
		"compile_cost_yocto = coalesce($4::numeric, compile_cost_yocto), "
		"error_details = CASE WHEN $5::bool THEN NULL ELSE $6 END, "
		"compile_error = CASE WHEN $5::bool THEN NULL WHEN job_type = 'compile' "
		"  THEN coalesce($6, 'Compilation failed') ELSE compile_error END, "
		"compile_time_ms = CASE WHEN $5::bool AND job_type = 'compile' THEN $7::bigint "
		"  ELSE compile_time_ms END, "
		"completed_at = now(), updated_at = now(), lease_id = NULL, lease_expires_at = NULL "
		"WHERE job_id = $1 RETURNING compile_cost_yocto, coalesce(worker_id, ''), "
		"user_account_id, near_payment_yocto, github_repo, github_commit, transaction_hash" },
	[J_ITEMS_COMPLETED] = { "jobs_items_completed",
		"UPDATE queue_items SET state = $2, close_reason = $3, closed_at = now(), "
		"updated_at = now() WHERE job_id = $1 AND state = 'claimed'" },
	[J_ITEMS_SUPERSEDED] = { "jobs_items_superseded",
		"UPDATE queue_items SET state = 'done', close_reason = 'superseded', closed_at = now(), "
		LEASE_CLEARED ", updated_at = now() WHERE request_id = $1 AND data_id = $2 "
		"AND queue = $3 AND state IN ('queued', 'leased')" },
	[J_REQUEST_ROW] = { "jobs_request_row",
		"SELECT er.compile_only, er.is_https_call, er.call_id, er.project_id, er.attached_usd, "
		"er.transaction_hash, er.context_sender_id, "
		"(SELECT status FROM https_calls c WHERE c.call_id = er.call_id), "
		"er.code_source::text, er.input_data, er.max_instructions, er.max_memory_mb, "
		"er.max_execution_seconds, er.secrets_profile, er.secrets_account_id, er.response_format, "
		"er.context_block_height, er.context_block_timestamp, er.context_contract_id, "
		"er.context_transaction_hash, er.context_receipt_id, er.context_predecessor_id, "
		"er.context_signer_public_key, er.context_gas_burnt, er.user_account_id, "
		"er.near_payment_yocto, er.force_rebuild, er.store_on_fastfs, er.project_uuid, er.data_id "
		"FROM execution_requests er WHERE er.request_id = $1" },
	[J_STORE_COMPILE_RESULT] = { "jobs_store_compile_result",
		"UPDATE execution_requests SET compile_result = $2, updated_at = now() "
		"WHERE request_id = $1" },
	[J_BASE_PAYLOAD] = { "jobs_base_payload",
		/* the job's own item, else the newest of its request; each an index lookup, the
		 * second only run when the first finds nothing */
		"SELECT payload FROM (SELECT coalesce("
		"(SELECT payload FROM queue_items WHERE job_id = $1 ORDER BY item_id DESC LIMIT 1), "
		"(SELECT payload FROM queue_items WHERE request_id = $2 AND data_id = $3 "
		" ORDER BY item_id DESC LIMIT 1)) AS payload OFFSET 0) p WHERE payload IS NOT NULL" },
	[J_EXECUTE_JOB_EXISTS] = { "jobs_execute_job_exists",
		"SELECT 1 FROM jobs WHERE request_id = $1 AND data_id = $2 AND job_type = 'execute'" },
	[J_RESULT] = { "jobs_result",
		"INSERT INTO execution_results (job_id, request_id, data_id, job_type, worker_id, success, "
		"execution_time_ms, compile_time_ms, instructions_used, actual_cost_yocto, "
		"compile_cost_yocto, user_account_id, near_payment_yocto, github_repo, github_commit, "
		"transaction_hash, is_https_call, call_id, project_id) VALUES ($1, $2, $3, $4, $5, $6, "
		"$7::bigint, $8::bigint, $9::bigint, $10::numeric, $11::numeric, $12, $13::numeric, $14, "
		"$15, $16, $17, $18::uuid, $19)" },
	[J_EARNINGS] = { "jobs_earnings",
		"INSERT INTO earnings_history (project_owner, project_id, attached_usd, refund_usd, amount, "
		"source, tx_hash, caller, request_id) SELECT split_part($1, '/', 1), $1, a, r, a - r, "
		"'blockchain', $4, $5, $6 FROM (SELECT $2::numeric AS a, "
		"least(coalesce($3::numeric, 0), $2::numeric) AS r) x "
		"ON CONFLICT (request_id) WHERE source = 'blockchain' DO NOTHING" },
	[J_REAP_LOCK] = { "jobs_reap_lock",
		"SELECT j.job_type, j.attempts, j.request_id, j.data_id, coalesce(er.is_https_call, false), "
		"coalesce(c.status, ''), er.call_id FROM jobs j "
		"LEFT JOIN execution_requests er ON er.request_id = j.request_id "
		"LEFT JOIN https_calls c ON c.call_id = er.call_id "
		"WHERE j.job_id = $1 AND j.status = 'in_progress' AND j.lease_expires_at < now() "
		"FOR UPDATE OF j SKIP LOCKED" },
	[J_REAP_PENDING] = { "jobs_reap_pending",
		"UPDATE jobs SET status = 'pending', lease_id = NULL, lease_expires_at = NULL, "
		"updated_at = now() WHERE job_id = $1 AND status = 'in_progress' AND lease_expires_at < now()" },
	[J_REAP_REQUEUE_ITEM] = { "jobs_reap_requeue_item",
		"UPDATE queue_items SET state = 'queued', queue = $2, pushed_at = now(), updated_at = now() "
		"WHERE job_id = $1 AND state = 'claimed' RETURNING item_id" },
};
const size_t coord_jobs_nstmts = sizeof(coord_jobs_stmts) / sizeof(coord_jobs_stmts[0]);

static enum coord_err run(struct coord_db *db, int which, int n, const char *const *p,
			  PGresult **out)
{
	return coord_db_exec(db, &coord_jobs_stmts[which], n, p, out);
}

static const char *val(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static enum coord_job_status status_of(const char *s)
{
	if (strcmp(s, "pending") == 0)
		return COORD_JOB_PENDING;
	if (strcmp(s, "in_progress") == 0)
		return COORD_JOB_IN_PROGRESS;
	if (strcmp(s, "completed") == 0)
		return COORD_JOB_COMPLETED;
	return COORD_JOB_FAILED;
}

#define I64TXT(buf, v) (snprintf(buf, sizeof(buf), "%lld", (long long)(v)), buf)

/* ---- claim ---- */

struct job_row {
	char id[24];
	char status[24];
	struct coord_claim_job state;
	const char *compile_cost_yocto, *compile_error;
	bool has_time;
	int64_t compile_time_ms;
};

static void job_info(json_object *jobs, int64_t job_id, const char *type,
		     const struct coord_claim *c, const struct job_row *cj, int64_t created_at)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "job_id", json_object_new_int64(job_id));
	json_object_object_add(o, "job_type", json_object_new_string(type));
	json_object_object_add(o, "wasm_checksum", json_object_new_string(c->cs.checksum));
	json_object_object_add(o, "allowed", json_object_new_boolean(1));
	if (strcmp(type, "execute") == 0 && cj->state.status != COORD_JOB_ABSENT) {
		if (cj->compile_cost_yocto)
			json_object_object_add(o, "compile_cost_yocto",
					       coord_json_money(cj->compile_cost_yocto));
		if (cj->compile_error)
			json_object_object_add(o, "compile_error",
					       json_object_new_string(cj->compile_error));
		if (cj->has_time)
			json_object_object_add(o, "compile_time_ms",
					       json_object_new_int64(cj->compile_time_ms));
	}
	if (c->project_uuid)
		json_object_object_add(o, "project_uuid", json_object_new_string(c->project_uuid));
	if (c->project_id)
		json_object_object_add(o, "project_id", json_object_new_string(c->project_id));
	json_object_object_add(o, "created_at", json_object_new_int64(created_at));
	json_object_array_add(jobs, o);
}

static enum coord_err close_item(struct coord_db *db, const char *item, const char *reason)
{
	const char *p[] = { item, reason };
	return run(db, J_ITEM_CLOSE, 2, p, NULL);
}

static enum coord_err claim_once(struct coord_db *db, struct coord_redis *redis,
				 const struct coord_config *cfg, const struct coord_claim *c,
				 json_object **result)
{
	char rid[24], lease[24], item[24] = "";
	struct job_row cj, ej;
	struct coord_pushes pushes = { 0 };
	PGresult *res = NULL, *jobs_res = NULL;
	json_object *pricing = NULL, *jobs = json_object_new_array();
	bool https_finished = false, wasm_ok = false;
	int64_t exec_limit = 60;
	char call_id[40] = "";

	*result = NULL;
	memset(&cj, 0, sizeof(cj));
	memset(&ej, 0, sizeof(ej));
	enum coord_err e = coord_pricing_current(db, &pricing);
	if (e != COORD_OK)
		goto out;
	if ((e = coord_db_begin(db)) != COORD_OK)
		goto out;
	I64TXT(rid, c->request_id);
	const char *key[] = { rid, c->data_id, c->token_hash };
	if ((e = run(db, J_LEASED_ITEM, 3, key, &res)) != COORD_OK)
		goto out;
	if (PQntuples(res) == 1)
		snprintf(item, sizeof(item), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((e = run(db, J_REQUEST, 2, key, &res)) != COORD_OK)
		goto out;
	if (PQntuples(res) == 1) {
		bool https = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		https_finished = https && strcmp(PQgetvalue(res, 0, 1), "pending") != 0;
		exec_limit = coord_db_i64(res, 0, 2);
		if (https && !PQgetisnull(res, 0, 3))
			snprintf(call_id, sizeof(call_id), "%s", PQgetvalue(res, 0, 3));
	}
	PQclear(res);
	if (https_finished) {
		if (item[0] && (e = close_item(db, item, "call_finished")) != COORD_OK)
			goto out;
		goto commit;
	}
	if ((e = coord_wasm_ok(db, cfg, c->cs.checksum, &wasm_ok)) != COORD_OK)
		goto out;
	if ((e = run(db, J_JOBS_OF_REQUEST, 2, key, &jobs_res)) != COORD_OK)
		goto out;
	for (int i = 0; i < PQntuples(jobs_res); i++) {
		struct job_row *j = strcmp(PQgetvalue(jobs_res, i, 1), "compile") == 0 ? &cj : &ej;
		snprintf(j->id, sizeof(j->id), "%s", PQgetvalue(jobs_res, i, 0));
		snprintf(j->status, sizeof(j->status), "%s", PQgetvalue(jobs_res, i, 2));
		j->state.status = status_of(j->status);
		j->state.has_compile_error = strcmp(PQgetvalue(jobs_res, i, 3), "t") == 0;
		j->compile_cost_yocto = val(jobs_res, i, 4);
		j->compile_error = val(jobs_res, i, 5);
		j->has_time = !PQgetisnull(jobs_res, i, 6);
		j->compile_time_ms = coord_db_i64(jobs_res, i, 6);
	}

	struct coord_claim_input in = {
		c->can_compile, c->can_execute, c->compile_only, c->force_rebuild,
		c->has_compile_result, wasm_ok, cj.state, ej.state,
	};
	struct coord_claim_decision d;
	coord_claim_decide(&in, &d);

	if (d.reset_compile_job) {
		const char *p[] = { cj.id };
		if ((e = run(db, J_RESET_COMPILE, 1, p, NULL)) != COORD_OK)
			goto out;
	}
	int64_t job_id = 0, created_at = 0;
	bool got_job = false;
	const char *type = NULL;
	if (d.action != COORD_CLAIM_NONE) {
		bool compile = d.action == COORD_CLAIM_INSERT_COMPILE || d.action == COORD_CLAIM_TAKE_COMPILE;
		type = compile ? "compile" : "execute";
		json_object *mcs = NULL;
		int64_t limit = exec_limit;
		if (compile && json_object_object_get_ex(pricing, "max_compilation_seconds", &mcs))
			limit = json_object_get_int64(mcs);
		int64_t secs = limit + 60 > cfg->job_lease_seconds ? limit + 60 : cfg->job_lease_seconds;
		if (secs > INT32_MAX)
			secs = INT32_MAX;
		I64TXT(lease, secs);
		if (d.action == COORD_CLAIM_INSERT_COMPILE || d.action == COORD_CLAIM_INSERT_EXECUTE) {
			const struct coord_code_source *cs = &c->cs;
			const char *p[] = {
				rid, c->data_id, type, c->worker_id, cs->checksum, c->user_account_id,
				c->near_payment_yocto, c->transaction_hash,
				cs->github ? cs->repo : NULL, cs->github ? cs->commit : NULL,
				cs->github ? NULL : cs->url, cs->github ? NULL : cs->hash,
				cs->build_target, c->project_uuid, c->project_id, c->token_hash, lease,
			};
			if ((e = run(db, J_INSERT, 17, p, &res)) != COORD_OK)
				goto out;
			if (PQntuples(res) == 1) {
				got_job = true;
				job_id = coord_db_i64(res, 0, 0);
				created_at = coord_db_i64(res, 0, 1);
			}
			PQclear(res);
		} else {
			struct job_row *j = compile ? &cj : &ej;
			const char *p[] = { j->id, lease, c->cs.checksum, c->worker_id, c->token_hash,
					    c->project_uuid, c->project_id, j->status };
			if ((e = run(db, J_TAKE_OVER, 8, p, &res)) != COORD_OK)
				goto out;
			if (PQntuples(res) == 1) {
				got_job = true;
				job_id = strtoll(j->id, NULL, 10);
				created_at = coord_db_i64(res, 0, 0);
			}
			PQclear(res);
		}
	}

	if (got_job) {
		job_info(jobs, job_id, type, c, &cj, created_at);
		if (item[0]) {
			char jid[24];
			const char *p[] = { item, I64TXT(jid, job_id) };
			if ((e = run(db, J_ITEM_CLAIMED, 2, p, NULL)) != COORD_OK)
				goto out;
		}
		if (call_id[0] && strcmp(type, "execute") == 0) {
			const char *p[] = { call_id };
			if ((e = run(db, J_CALL_STARTED, 1, p, NULL)) != COORD_OK)
				goto out;
		}
	} else if (item[0]) {
		if (d.fate == COORD_FATE_MOVE_COMPILE || d.fate == COORD_FATE_MOVE_EXECUTE) {
			enum coord_queue q = d.fate == COORD_FATE_MOVE_COMPILE ? COORD_Q_COMPILE
									      : COORD_Q_EXECUTE;
			const char *p[] = { item, coord_queue_name(q) };
			if ((e = run(db, J_ITEM_MOVE, 2, p, &res)) != COORD_OK)
				goto out;
			if (strcmp(PQgetvalue(res, 0, 0), "queued") == 0) {
				pushes.ids[0].q = q;
				pushes.ids[0].item_id = strtoll(item, NULL, 10);
				pushes.ids[0].front = true;
				pushes.n = 1;
			}
			PQclear(res);
		} else if ((e = close_item(db, item, "superseded")) != COORD_OK) {
			goto out;
		}
	}
commit:
	if ((e = coord_db_commit(db)) != COORD_OK)
		goto out;
	coord_queue_push(db, redis, cfg, &pushes);
	*result = json_object_new_object();
	json_object_object_add(*result, "jobs", json_object_get(jobs));
	json_object_object_add(*result, "pricing", json_object_get(pricing));
out:
	if (e != COORD_OK)
		coord_db_rollback(db);
	PQclear(jobs_res);
	json_object_put(jobs);
	json_object_put(pricing);
	return e;
}

enum coord_err coord_jobs_claim(struct coord_db *db, struct coord_redis *redis,
				const struct coord_config *cfg, const struct coord_claim *c,
				json_object **result)
{
	enum coord_err e;
	int attempts = 0;
	/* a claim racing the reaper's for one item may deadlock: it runs again */
	do
		e = claim_once(db, redis, cfg, c, result);
	while (coord_db_retry(db, e, &attempts));
	return e;
}

/* ---- complete ---- */

/* The stored request as a create body, for a payload rebuild (SPEC §3.1.2). */
static json_object *rebuild_payload(PGresult *er, struct coord_arena *arena, int64_t request_id)
{
	struct coord_exec_create c;
	struct coord_json_problem p;
	json_object *cs = coord_json_parse(PQgetvalue(er, 0, 8), (size_t)PQgetlength(er, 0, 8), &p);
	json_object *v, *payload = NULL;

	memset(&c, 0, sizeof(c));
	if (!cs || !json_object_is_type(cs, json_type_object))
		goto out;
	c.request_id = request_id;
	c.data_id = coord_arena_strdup(arena, PQgetvalue(er, 0, 29));
#define CS_STR(name) (json_object_object_get_ex(cs, name, &v) && json_object_is_type(v, json_type_string) \
		      ? coord_arena_strdup(arena, json_object_get_string(v)) : NULL)
	const char *type = CS_STR("type");
	c.cs.github = type && strcmp(type, "GitHub") == 0;
	c.cs.repo = CS_STR("repo");
	c.cs.commit = CS_STR("commit");
	c.cs.url = CS_STR("url");
	c.cs.hash = CS_STR("hash");
	c.cs.build_target = CS_STR("build_target");
#undef CS_STR
	if (!c.cs.build_target || (c.cs.github ? !c.cs.repo || !c.cs.commit : !c.cs.url || !c.cs.hash))
		goto out;
	c.input_data = PQgetisnull(er, 0, 9) ? "" : coord_arena_strdup(arena, PQgetvalue(er, 0, 9));
	c.max_instructions = PQgetisnull(er, 0, 10) ? 1000000000 : coord_db_i64(er, 0, 10);
	c.max_memory_mb = PQgetisnull(er, 0, 11) ? 128 : coord_db_i64(er, 0, 11);
	c.max_execution_seconds = PQgetisnull(er, 0, 12) ? 60 : coord_db_i64(er, 0, 12);
#define S(col) (PQgetisnull(er, 0, col) ? NULL : coord_arena_strdup(arena, PQgetvalue(er, 0, col)))
	c.secrets_profile = S(13);
	c.secrets_account_id = S(14);
	if (!c.secrets_profile || !c.secrets_account_id)
		c.secrets_profile = c.secrets_account_id = NULL;
	c.response_format = S(15);
	c.ctx.sender_id = S(6);
	c.ctx.has_block_height = !PQgetisnull(er, 0, 16);
	c.ctx.block_height = coord_db_i64(er, 0, 16);
	c.ctx.has_block_timestamp = !PQgetisnull(er, 0, 17);
	c.ctx.block_timestamp = coord_db_i64(er, 0, 17);
	c.ctx.contract_id = S(18);
	c.ctx.transaction_hash = S(19);
	c.ctx.receipt_id = S(20);
	c.ctx.predecessor_id = S(21);
	c.ctx.signer_public_key = S(22);
	c.ctx.has_gas_burnt = !PQgetisnull(er, 0, 23);
	c.ctx.gas_burnt = coord_db_i64(er, 0, 23);
	c.user_account_id = S(24);
	c.near_payment_yocto = S(25);
	c.attached_usd = S(4);
	c.transaction_hash = S(5);
	c.compile_only = strcmp(PQgetvalue(er, 0, 0), "t") == 0;
	c.force_rebuild = strcmp(PQgetvalue(er, 0, 26), "t") == 0;
	c.store_on_fastfs = strcmp(PQgetvalue(er, 0, 27), "t") == 0;
	c.project_uuid = S(28);
	c.project_id = S(3);
#undef S
	c.body = json_object_new_object();
	payload = coord_execution_payload(&c);
	json_object_put(c.body);
out:
	json_object_put(cs);
	return payload;
}

/* Replaces key's value in place when present; appends it when append is true. */
static void set_member(json_object *o, const char *key, json_object *value, bool append)
{
	if (append || json_object_object_get_ex(o, key, NULL))
		json_object_object_add(o, key, value);
	else
		json_object_put(value);
}

/*
 * The body of a completion inside the caller's transaction (SPEC §3.2.4
 * steps 1-8); the reaper uses it to fail jobs (SPEC §3.1 B.1, A.2).
 */
/* *compile (when not NULL) tells the job's type once the job was read. */
static enum coord_err complete_in_tx(struct coord_db *db, const struct coord_config *cfg,
				     const struct coord_completion *c,
				     const struct coord_job_failure *how,
				     struct coord_pushes *pushes, bool *compile_out)
{
	char jid[24], rid[24], time_ms[24], instr[24];
	char data_id[512] = "", type[16] = "";
	struct coord_arena arena = COORD_ARENA_INIT;
	PGresult *res = NULL, *job = NULL, *er = NULL;
	json_object *payload = NULL;
	int64_t request_id = 0;
	enum coord_err e;

	I64TXT(jid, c->job_id);
	I64TXT(time_ms, c->time_ms);
	I64TXT(instr, c->instructions);

	/* 1. the job, locked */
	const char *pj[] = { jid };
	if ((e = run(db, J_LOCK, 1, pj, &res)) != COORD_OK)
		goto out;
	if (PQntuples(res) == 0) {
		e = COORD_ERR_NOT_FOUND;
		goto out;
	}
	request_id = coord_db_i64(res, 0, 0);
	snprintf(data_id, sizeof(data_id), "%s", PQgetvalue(res, 0, 1));
	snprintf(type, sizeof(type), "%s", PQgetvalue(res, 0, 2));
	enum coord_job_status st = status_of(PQgetvalue(res, 0, 3));
	bool expired = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	PQclear(res);
	res = NULL;
	if (st == COORD_JOB_COMPLETED || st == COORD_JOB_FAILED ||
	    (how && how->expired_lease_only && !(st == COORD_JOB_IN_PROGRESS && expired)) ||
	    (how && how->pending_only && st != COORD_JOB_PENDING)) {
		e = COORD_ERR_CONFLICT;
		goto out;
	}
	bool compile = strcmp(type, "compile") == 0;
	if (compile_out)
		*compile_out = compile;
	I64TXT(rid, request_id);

	/* 2. the job's new state */
	const char *pf[] = { jid, c->success ? "completed" : c->error_category, c->wasm_checksum,
			     c->compile_cost_yocto, c->success ? "true" : "false", c->error, time_ms };
	if ((e = run(db, J_FINISH, 7, pf, &job)) != COORD_OK)
		goto out;

	/* 3. close the items */
	const char *pc[] = { jid, how ? how->item_state : "done", how ? how->item_reason : "completed" };
	if ((e = run(db, J_ITEMS_COMPLETED, 3, pc, NULL)) != COORD_OK)
		goto out;
	const char *ps[] = { rid, data_id, compile ? "compile" : "execute" };
	if ((e = run(db, J_ITEMS_SUPERSEDED, 3, ps, NULL)) != COORD_OK)
		goto out;

	/* 4. the request */
	const char *pr[] = { rid };
	if ((e = run(db, J_REQUEST_ROW, 1, pr, &er)) != COORD_OK)
		goto out;
	bool has_er = PQntuples(er) == 1;
	bool https = has_er && strcmp(PQgetvalue(er, 0, 1), "t") == 0;
	bool call_pending = https && !PQgetisnull(er, 0, 7) && strcmp(PQgetvalue(er, 0, 7), "pending") == 0;
	bool compile_only = has_er && strcmp(PQgetvalue(er, 0, 0), "t") == 0;

	/* 5 and 6. the derived execute item */
	bool derive = false, zero_limits = false;
	if (compile && c->success) {
		derive = !(compile_only && !c->compile_result) && (!https || call_pending);
		if (derive && c->compile_result && compile_only) {
			const char *p[] = { rid, c->compile_result };
			if ((e = run(db, J_STORE_COMPILE_RESULT, 2, p, NULL)) != COORD_OK)
				goto out;
		}
	} else if (compile && !https) {
		const char *p[] = { rid, data_id };
		if ((e = run(db, J_EXECUTE_JOB_EXISTS, 2, p, &res)) != COORD_OK)
			goto out;
		derive = zero_limits = PQntuples(res) == 0;
		PQclear(res);
		res = NULL;
	} else if (compile && https && call_pending) {
		/* a failed compile finalises the HTTPS call: released, nothing charged (SPEC §4.4) */
		struct coord_settlement s = { .outcome = COORD_OUTCOME_COMPILE_FAILED,
					      .error = c->error ? c->error : "Compilation failed" };
		bool finalized;
		if ((e = coord_billing_settle_in_tx(db, cfg, PQgetvalue(er, 0, 2), &s, pushes,
						    &finalized)) != COORD_OK)
			goto out;
	}
	if (derive) {
		const char *p[] = { jid, rid, data_id };
		if ((e = run(db, J_BASE_PAYLOAD, 3, p, &res)) != COORD_OK)
			goto out;
		struct coord_json_problem prob;
		if (PQntuples(res) == 1)
			payload = coord_json_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), &prob);
		else if (has_er && !https)
			payload = rebuild_payload(er, &arena, request_id);
		PQclear(res);
		res = NULL;
		if (!payload || !json_object_is_type(payload, json_type_object)) {
			coord_log(COORD_LOG_WARN, "jobs: no payload to derive an execute item for request %s", rid);
		} else {
			if (zero_limits) {
				json_object *rl = json_object_new_object();
				json_object_object_add(rl, "max_instructions", json_object_new_int(0));
				json_object_object_add(rl, "max_memory_mb", json_object_new_int(0));
				json_object_object_add(rl, "max_execution_seconds", json_object_new_int(0));
				set_member(payload, "resource_limits", rl, true);
				set_member(payload, "input_data", json_object_new_string(""), true);
				set_member(payload, "compile_only", json_object_new_boolean(0), false);
			} else if (c->compile_result) {
				set_member(payload, "compile_result", json_object_new_string(c->compile_result), true);
			}
			set_member(payload, "force_rebuild", json_object_new_boolean(0), false);
			int64_t item_id;
			e = coord_queue_insert(db, COORD_Q_EXECUTE, coord_json_text(payload, NULL), request_id,
					       data_id, &item_id, pushes);
			if (e != COORD_OK)
				goto out;
		}
	}

	/* 7. the result row */
	const char *pres[] = {
		jid, rid, data_id, type, PQgetvalue(job, 0, 1), c->success ? "true" : "false",
		compile ? NULL : time_ms, compile ? time_ms : NULL, compile ? NULL : instr,
		c->actual_cost_yocto, val(job, 0, 0), val(job, 0, 2), val(job, 0, 3), val(job, 0, 4),
		val(job, 0, 5), val(job, 0, 6), https ? "true" : "false",
		has_er ? val(er, 0, 2) : NULL, has_er ? val(er, 0, 3) : NULL,
	};
	if ((e = run(db, J_RESULT, 19, pres, NULL)) != COORD_OK)
		goto out;

	/* 8. the developer's earnings of a paid blockchain execution */
	if (!compile && c->success && has_er && !https && !PQgetisnull(er, 0, 4) &&
	    !PQgetisnull(er, 0, 3) && strcmp(PQgetvalue(er, 0, 4), "0") != 0) {
		const char *p[] = { PQgetvalue(er, 0, 3), PQgetvalue(er, 0, 4), c->refund_usd,
				    val(er, 0, 5), val(er, 0, 6), rid };
		if ((e = run(db, J_EARNINGS, 6, p, NULL)) != COORD_OK)
			goto out;
	}

	e = COORD_OK;
out:
	PQclear(res);
	PQclear(job);
	PQclear(er);
	json_object_put(payload);
	coord_arena_release(&arena);
	return e;
}

static enum coord_err complete_tx(struct coord_db *db, const struct coord_config *cfg,
				  const struct coord_completion *c, struct coord_pushes *pushes,
				  bool *compile)
{
	memset(pushes, 0, sizeof(*pushes));
	*compile = false;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	e = complete_in_tx(db, cfg, c, NULL, pushes, compile);
	if (e == COORD_OK)
		e = coord_db_commit(db);
	if (e != COORD_OK)
		coord_db_rollback(db);
	return e;
}

enum coord_err coord_jobs_complete(struct coord_db *db, struct coord_redis *redis,
				   const struct coord_config *cfg, const struct coord_completion *c)
{
	struct coord_pushes pushes;
	bool compile;
	enum coord_err e;
	int attempts = 0;
	/* a completion racing the reaper's for one job may deadlock: it runs again */
	do
		e = complete_tx(db, cfg, c, &pushes, &compile);
	while (coord_db_retry(db, e, &attempts));
	if (e != COORD_OK)
		return e;
	coord_metrics_job_completed(compile ? "compile" : "execute", c->success);
	coord_queue_push(db, redis, cfg, &pushes);
	return COORD_OK;
}

enum coord_err coord_jobs_fail_in_tx(struct coord_db *db, const struct coord_config *cfg,
				     int64_t job_id, const char *error,
				     const struct coord_job_failure *how, struct coord_pushes *pushes)
{
	struct coord_completion c;
	memset(&c, 0, sizeof(c));
	c.job_id = job_id;
	c.success = false;
	c.time_ms = 0;
	c.error = error;
	c.error_category = "failed";
	return complete_in_tx(db, cfg, &c, how, pushes, NULL);
}

static void push_front(struct coord_pushes *pushes, enum coord_queue q, int64_t item_id)
{
	if (pushes->n < (int)(sizeof(pushes->ids) / sizeof(pushes->ids[0]))) {
		pushes->ids[pushes->n].q = q;
		pushes->ids[pushes->n].item_id = item_id;
		pushes->ids[pushes->n].front = true;
		pushes->n++;
	}
}

enum coord_err coord_jobs_reap_in_tx(struct coord_db *db, const struct coord_config *cfg,
				     int64_t job_id, int64_t max_attempts,
				     struct coord_pushes *pushes, const char **outcome)
{
	static const struct coord_job_failure call_finished = { true, false, "done", "call_finished" };
	static const struct coord_job_failure exhausted = { true, false, "dead", "max_attempts" };
	char jid[24], rid[24], error[96];
	PGresult *res = NULL, *er = NULL;
	struct coord_arena arena = COORD_ARENA_INIT;
	json_object *payload = NULL;

	*outcome = NULL;
	I64TXT(jid, job_id);
	const char *pj[] = { jid };
	enum coord_err e = run(db, J_REAP_LOCK, 1, pj, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return COORD_ERR_CONFLICT; /* claimed, completed or locked meanwhile */
	}
	bool compile = strcmp(PQgetvalue(res, 0, 0), "compile") == 0;
	int64_t attempts = coord_db_i64(res, 0, 1), request_id = coord_db_i64(res, 0, 2);
	char data_id[512];
	snprintf(data_id, sizeof(data_id), "%s", PQgetvalue(res, 0, 3));
	bool https = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	bool call_over = https && strcmp(PQgetvalue(res, 0, 5), "pending") != 0;
	char call_id[40] = "";
	if (https && !PQgetisnull(res, 0, 6))
		snprintf(call_id, sizeof(call_id), "%s", PQgetvalue(res, 0, 6));
	PQclear(res);
	res = NULL;

	if (call_over) { /* B.0 */
		*outcome = "failed (call already finished)";
		e = coord_jobs_fail_in_tx(db, cfg, job_id, "lease expired; call already finished",
					  &call_finished, pushes);
		goto out;
	}
	if (attempts >= max_attempts) { /* B.1 */
		snprintf(error, sizeof(error), "lease expired after %lld attempts", (long long)attempts);
		*outcome = "failed (attempts exhausted)";
		e = coord_jobs_fail_in_tx(db, cfg, job_id, error, &exhausted, pushes);
		if (e == COORD_OK && !compile && call_id[0]) {
			/* an HTTPS execute job: its call is released, nothing charged (SPEC §4.4) */
			static const struct coord_settlement lost = { .outcome = COORD_OUTCOME_WORKER_LOST };
			bool finalized;
			e = coord_billing_settle_in_tx(db, cfg, call_id, &lost, pushes, &finalized);
			if (e == COORD_ERR_NOT_FOUND)
				e = COORD_OK;
		}
		goto out;
	}
	/* B.2: back to pending, its item back to the queue of its type */
	enum coord_queue q = compile ? COORD_Q_COMPILE : COORD_Q_EXECUTE;
	if ((e = run(db, J_REAP_PENDING, 1, pj, NULL)) != COORD_OK)
		goto out;
	const char *pq[] = { jid, coord_queue_name(q) };
	if ((e = run(db, J_REAP_REQUEUE_ITEM, 2, pq, &res)) != COORD_OK)
		goto out;
	*outcome = "requeued";
	for (int i = 0; i < PQntuples(res); i++)
		push_front(pushes, q, coord_db_i64(res, i, 0));
	if (PQntuples(res) > 0)
		goto out;
	/* no item: rebuild one from the stored request */
	const char *pr[] = { I64TXT(rid, request_id) };
	if ((e = run(db, J_REQUEST_ROW, 1, pr, &er)) != COORD_OK)
		goto out;
	if (PQntuples(er) == 1 && strcmp(PQgetvalue(er, 0, 1), "f") == 0)
		payload = rebuild_payload(er, &arena, request_id);
	else if (PQntuples(er) == 1 &&
		 (e = coord_billing_rebuild_payload(db, request_id, &payload)) != COORD_OK)
		goto out;
	if (!payload) {
		*outcome = "failed (request unknown)";
		static const struct coord_job_failure unknown = { false, true, "dead", "max_attempts" };
		e = coord_jobs_fail_in_tx(db, cfg, job_id, "lease expired; request unknown", &unknown, pushes);
		goto out;
	}
	struct coord_pushes inserted = { 0 };
	int64_t item_id;
	e = coord_queue_insert(db, q, coord_json_text(payload, NULL), request_id, data_id, &item_id,
			       &inserted);
	if (e == COORD_OK)
		push_front(pushes, q, item_id);
out:
	PQclear(res);
	PQclear(er);
	json_object_put(payload);
	coord_arena_release(&arena);
	return e;
}
