#include <stdio.h>

#include "coord_attest.h"
#include "coord_int.h"
#include "coord_log.h"
#include "coord_rows.h"
#include "banned.h"

enum { ATTEST_INSERT, ATTEST_TOKEN_SEEN, ATTEST_GET };

const struct coord_stmt coord_attest_stmts[] = {
	[ATTEST_INSERT] = { "attest_insert",
		"INSERT INTO task_attestations (task_id, task_type, tdx_quote, worker_measurement, "
		"request_id, caller_account_id, transaction_hash, block_height, call_id, "
		"payment_key_owner, payment_key_nonce, repo_url, commit_hash, build_target, wasm_hash, "
		"input_hash, output_hash, project_id, secrets_ref, attached_usd, token_hash, created_at) "
		"VALUES ($1, $2, decode($3, 'base64'), $4, $5::bigint, $6, $7, $8::bigint, $9::uuid, $10, "
		"$11::bigint, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, "
		"coalesce(to_timestamp($22::bigint), now()))" },
	[ATTEST_TOKEN_SEEN] = { "attest_token_seen",
		"UPDATE worker_auth_tokens SET last_seen_rtmr3 = $2, last_attestation_at = now() "
		"WHERE token_hash = $1" },
	[ATTEST_GET] = { "attest_get",
		"SELECT id, task_id, task_type, translate(encode(tdx_quote, 'base64'), E'\\n', ''), "
		"worker_measurement, request_id, caller_account_id, transaction_hash, block_height, "
		"call_id, payment_key_owner, payment_key_nonce, repo_url, commit_hash, build_target, "
		"wasm_hash, input_hash, output_hash, project_id, secrets_ref, attached_usd, "
		"floor(extract(epoch FROM created_at))::bigint, " COORD_SQL_TS("created_at") " "
		"FROM task_attestations WHERE task_id = $1 ORDER BY id DESC LIMIT 1" },
};
const size_t coord_attest_nstmts = sizeof(coord_attest_stmts) / sizeof(coord_attest_stmts[0]);

#define I64(buf, has, v) ((has) ? (snprintf(buf, sizeof(buf), "%lld", (long long)(v)), buf) : NULL)

enum coord_err coord_attest_insert(struct coord_db *db, const struct coord_attestation *a)
{
	char task[24], rid[24], height[24], nonce[24], ts[24];
	const char *p[] = {
		I64(task, true, a->task_id), a->task_type, a->tdx_quote_b64, a->worker_measurement,
		I64(rid, a->has_request_id, a->request_id), a->caller_account_id, a->transaction_hash,
		I64(height, a->has_block_height, a->block_height), a->call_id, a->payment_key_owner,
		I64(nonce, a->has_nonce, a->payment_key_nonce), a->repo_url, a->commit_hash,
		a->build_target, a->wasm_hash, a->input_hash, a->output_hash, a->project_id,
		a->secrets_ref, a->attached_usd, a->token_hash, I64(ts, a->has_timestamp, a->timestamp),
	};
	enum coord_err e = coord_db_exec(db, &coord_attest_stmts[ATTEST_INSERT],
					 (int)(sizeof(p) / sizeof(p[0])), p, NULL);
	if (e != COORD_OK)
		return e;
	const char *q[] = { a->token_hash, a->worker_measurement };
	if (coord_db_exec(db, &coord_attest_stmts[ATTEST_TOKEN_SEEN], 2, q, NULL) != COORD_OK)
		coord_log(COORD_LOG_WARN, "attestations: cannot record the token's last attestation");
	return COORD_OK;
}

enum coord_err coord_attest_get(struct coord_db *db, int64_t task_id, json_object **out)
{
	static const struct coord_col cols[] = {
		{ "id", COORD_COL_INT, false },
		{ "task_id", COORD_COL_INT, false },
		{ "task_type", COORD_COL_STR, false },
		{ "tdx_quote", COORD_COL_STR, false },
		{ "worker_measurement", COORD_COL_STR, false },
		{ "request_id", COORD_COL_INT, true },
		{ "caller_account_id", COORD_COL_STR, true },
		{ "transaction_hash", COORD_COL_STR, true },
		{ "block_height", COORD_COL_INT, true },
		{ "call_id", COORD_COL_STR, true },
		{ "payment_key_owner", COORD_COL_STR, true },
		{ "payment_key_nonce", COORD_COL_INT, true },
		{ "repo_url", COORD_COL_STR, true },
		{ "commit_hash", COORD_COL_STR, true },
		{ "build_target", COORD_COL_STR, true },
		{ "wasm_hash", COORD_COL_STR, true },
		{ "input_hash", COORD_COL_STR, true },
		{ "output_hash", COORD_COL_STR, false },
		{ "project_id", COORD_COL_STR, true },
		{ "secrets_ref", COORD_COL_STR, true },
		{ "attached_usd", COORD_COL_STR, true },
		{ "timestamp", COORD_COL_INT, false },
		{ "created_at", COORD_COL_STR, false },
	};
	char task[24];
	PGresult *res;
	snprintf(task, sizeof(task), "%lld", (long long)task_id);
	const char *p[] = { task };
	enum coord_err e = coord_db_exec(db, &coord_attest_stmts[ATTEST_GET], 1, p, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 0)
		e = COORD_ERR_NOT_FOUND;
	else
		*out = coord_row_json(res, 0, cols, sizeof(cols) / sizeof(cols[0]));
	PQclear(res);
	return e;
}
