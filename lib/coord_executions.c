#include <stdio.h>
#include <string.h>

#include "coord_executions.h"
#include "coord_int.h"
#include "coord_json.h"
#include "coord_queue.h"
#include "coord_wasmcache.h"
#include "banned.h"

enum { EXEC_LOCK, EXEC_EXISTS, EXEC_UPSERT };

const struct coord_stmt coord_executions_stmts[] = {
	[EXEC_LOCK] = { "exec_lock",
		"SELECT pg_advisory_xact_lock(hashtextextended($1::bigint || ':' || $2, 0))" },
	[EXEC_EXISTS] = { "exec_exists",
		"SELECT EXISTS (SELECT 1 FROM jobs WHERE request_id = $1 AND data_id = $2) "
		"OR EXISTS (SELECT 1 FROM queue_items WHERE request_id = $1 AND data_id = $2 "
		"           AND state IN ('queued', 'leased', 'claimed')) "
		"OR EXISTS (SELECT 1 FROM execution_requests WHERE request_id = $1 "
		"           AND (is_https_call OR data_id <> $2))" },
	[EXEC_UPSERT] = { "exec_upsert",
		"INSERT INTO execution_requests (request_id, data_id, code_source, input_data, "
		"max_instructions, max_memory_mb, max_execution_seconds, secrets_profile, "
		"secrets_account_id, response_format, context_sender_id, context_block_height, "
		"context_block_timestamp, context_contract_id, context_transaction_hash, "
		"context_receipt_id, context_predecessor_id, context_signer_public_key, "
		"context_gas_burnt, user_account_id, near_payment_yocto, attached_usd, transaction_hash, "
		"compile_only, force_rebuild, store_on_fastfs, project_uuid, project_id) "
		"VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
		"$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28) "
		"ON CONFLICT (request_id) DO UPDATE SET data_id = EXCLUDED.data_id, "
		"code_source = EXCLUDED.code_source, input_data = EXCLUDED.input_data, "
		"max_instructions = EXCLUDED.max_instructions, max_memory_mb = EXCLUDED.max_memory_mb, "
		"max_execution_seconds = EXCLUDED.max_execution_seconds, "
		"secrets_profile = EXCLUDED.secrets_profile, secrets_account_id = EXCLUDED.secrets_account_id, "
		"response_format = EXCLUDED.response_format, context_sender_id = EXCLUDED.context_sender_id, "
		"context_block_height = EXCLUDED.context_block_height, "
		"context_block_timestamp = EXCLUDED.context_block_timestamp, "
		"context_contract_id = EXCLUDED.context_contract_id, "
		"context_transaction_hash = EXCLUDED.context_transaction_hash, "
		"context_receipt_id = EXCLUDED.context_receipt_id, "
		"context_predecessor_id = EXCLUDED.context_predecessor_id, "
		"context_signer_public_key = EXCLUDED.context_signer_public_key, "
		"context_gas_burnt = EXCLUDED.context_gas_burnt, user_account_id = EXCLUDED.user_account_id, "
		"near_payment_yocto = EXCLUDED.near_payment_yocto, "
		"attached_usd = coalesce(EXCLUDED.attached_usd, execution_requests.attached_usd), "
		"transaction_hash = EXCLUDED.transaction_hash, compile_only = EXCLUDED.compile_only, "
		"force_rebuild = EXCLUDED.force_rebuild, store_on_fastfs = EXCLUDED.store_on_fastfs, "
		"compile_result = NULL, "
		"project_uuid = coalesce(EXCLUDED.project_uuid, execution_requests.project_uuid), "
		"project_id = coalesce(EXCLUDED.project_id, execution_requests.project_id), "
		"is_https_call = false, call_id = NULL, payment_key_owner = NULL, "
		"payment_key_nonce = NULL, usd_payment = NULL, compute_limit_usd = NULL, "
		"attached_deposit_usd = NULL, version_key = NULL, wallet_id = NULL, updated_at = now()" },
};
const size_t coord_executions_nstmts =
	sizeof(coord_executions_stmts) / sizeof(coord_executions_stmts[0]);

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *coord_repo_normalise(struct coord_arena *arena, const char *repo)
{
	const char *path = NULL;
	if (starts(repo, "https://") || starts(repo, "http://"))
		return repo;
	if (starts(repo, "git@github.com:"))
		path = repo + strlen("git@github.com:");
	else if (starts(repo, "ssh://git@github.com/"))
		path = repo + strlen("ssh://git@github.com/");
	if (path) {
		size_t n = strlen(path);
		if (n >= 4 && strcmp(path + n - 4, ".git") == 0)
			n -= 4;
		return coord_arena_printf(arena, "https://github.com/%.*s", (int)n, path);
	}
	if (starts(repo, "ssh://"))
		return repo;
	if (starts(repo, "github.com/"))
		return coord_arena_printf(arena, "https://%s", repo);
	if (!strchr(repo, '/'))
		return repo;
	return coord_arena_printf(arena, "https://github.com/%s", repo);
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *code_source_json(const struct coord_code_source *cs)
{
	json_object *o = json_object_new_object();
	if (cs->github) {
		json_object_object_add(o, "type", json_object_new_string("GitHub"));
		json_object_object_add(o, "repo", json_object_new_string(cs->repo));
		json_object_object_add(o, "commit", json_object_new_string(cs->commit));
	} else {
		json_object_object_add(o, "type", json_object_new_string("WasmUrl"));
		json_object_object_add(o, "url", json_object_new_string(cs->url));
		json_object_object_add(o, "hash", json_object_new_string(cs->hash));
	}
	json_object_object_add(o, "build_target", json_object_new_string(cs->build_target));
	return o;
}

/* Keys the blockchain and HTTPS payloads define, and compile_result: never copied. */
static const char *const reserved_keys[] = {
	"request_id", "data_id", "code_source", "resource_limits", "input_data", "secrets_ref",
	"response_format", "context", "user_account_id", "near_payment_yocto", "attached_usd",
	"transaction_hash", "compile_only", "force_rebuild", "store_on_fastfs", "project_uuid",
	"project_id", "is_https_call", "compile_result", "version_key", "call_id",
	"compute_limit_usd", "attached_deposit_usd", "payment_key_owner", "payment_key_nonce",
	"usd_payment", "wallet_id", NULL,
};

static bool reserved(const char *key)
{
	for (const char *const *k = reserved_keys; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

json_object *coord_resource_limits_json(int64_t max_instructions, int64_t max_memory_mb,
					int64_t max_execution_seconds)
{
	json_object *rl = json_object_new_object();
	json_object_object_add(rl, "max_instructions", json_object_new_int64(max_instructions));
	json_object_object_add(rl, "max_memory_mb", json_object_new_int64(max_memory_mb));
	json_object_object_add(rl, "max_execution_seconds", json_object_new_int64(max_execution_seconds));
	return rl;
}

json_object *coord_execution_payload(const struct coord_exec_create *c)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "request_id", json_object_new_int64(c->request_id));
	json_object_object_add(o, "data_id", json_object_new_string(c->data_id));
	json_object_object_add(o, "code_source", code_source_json(&c->cs));

	json_object_object_add(o, "resource_limits",
			       coord_resource_limits_json(c->max_instructions, c->max_memory_mb,
							  c->max_execution_seconds));
	json_object_object_add(o, "input_data", json_object_new_string(c->input_data));
	if (c->secrets_profile) {
		json_object *s = json_object_new_object();
		json_object_object_add(s, "profile", json_object_new_string(c->secrets_profile));
		json_object_object_add(s, "account_id", json_object_new_string(c->secrets_account_id));
		json_object_object_add(o, "secrets_ref", s);
	}
	json_object_object_add(o, "response_format", json_object_new_string(c->response_format));

	const struct coord_exec_context *x = &c->ctx;
	json_object *ctx = json_object_new_object();
	json_object_object_add(ctx, "sender_id", str_or_null(x->sender_id));
	json_object_object_add(ctx, "block_height",
			       x->has_block_height ? json_object_new_int64(x->block_height) : NULL);
	json_object_object_add(ctx, "block_timestamp",
			       x->has_block_timestamp ? json_object_new_int64(x->block_timestamp) : NULL);
	json_object_object_add(ctx, "contract_id", str_or_null(x->contract_id));
	json_object_object_add(ctx, "transaction_hash", str_or_null(x->transaction_hash));
	json_object_object_add(ctx, "receipt_id", str_or_null(x->receipt_id));
	json_object_object_add(ctx, "predecessor_id", str_or_null(x->predecessor_id));
	json_object_object_add(ctx, "signer_public_key", str_or_null(x->signer_public_key));
	json_object_object_add(ctx, "gas_burnt",
			       x->has_gas_burnt ? json_object_new_int64(x->gas_burnt) : NULL);
	json_object_object_add(o, "context", ctx);

	if (c->user_account_id)
		json_object_object_add(o, "user_account_id", json_object_new_string(c->user_account_id));
	if (c->near_payment_yocto)
		json_object_object_add(o, "near_payment_yocto", json_object_new_string(c->near_payment_yocto));
	if (c->attached_usd)
		json_object_object_add(o, "attached_usd", json_object_new_string(c->attached_usd));
	if (c->transaction_hash)
		json_object_object_add(o, "transaction_hash", json_object_new_string(c->transaction_hash));
	json_object_object_add(o, "compile_only", json_object_new_boolean(c->compile_only));
	json_object_object_add(o, "force_rebuild", json_object_new_boolean(c->force_rebuild));
	json_object_object_add(o, "store_on_fastfs", json_object_new_boolean(c->store_on_fastfs));
	if (c->project_uuid)
		json_object_object_add(o, "project_uuid", json_object_new_string(c->project_uuid));
	if (c->project_id)
		json_object_object_add(o, "project_id", json_object_new_string(c->project_id));
	json_object_object_add(o, "is_https_call", json_object_new_boolean(0));

	json_object_object_foreach(c->body, key, val) {
		if (val && !reserved(key))
			json_object_object_add(o, key, json_object_get(val));
	}
	return o;
}

static enum coord_err exec1(struct coord_db *db, int which, int n, const char *const *p,
			    PGresult **out)
{
	return coord_db_exec(db, &coord_executions_stmts[which], n, p, out);
}

#define I64(buf, v) (snprintf(buf, sizeof(buf), "%lld", (long long)(v)), buf)

enum coord_err coord_executions_create(struct coord_db *db, struct coord_redis *redis,
				       const struct coord_config *cfg,
				       const struct coord_exec_create *c, bool *created)
{
	char rid[24], mi[24], mm[24], me[24], bh[24], bt[24], gb[24];
	struct coord_pushes pushes = { 0 };
	PGresult *res;
	bool wasm_ok = false;
	int64_t item_id;
	json_object *cs = NULL, *payload = NULL;

	*created = false;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	I64(rid, c->request_id);
	const char *key[] = { rid, c->data_id };
	if ((e = exec1(db, EXEC_LOCK, 2, key, NULL)) != COORD_OK)
		goto out;
	if ((e = exec1(db, EXEC_EXISTS, 2, key, &res)) != COORD_OK)
		goto out;
	bool exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (exists) {
		e = coord_db_commit(db);
		goto out;
	}
	if ((e = coord_wasm_ok(db, cfg, c->cs.checksum, &wasm_ok)) != COORD_OK)
		goto out;
	enum coord_queue q = (c->force_rebuild || c->compile_only || !wasm_ok) ? COORD_Q_COMPILE
										  : COORD_Q_EXECUTE;
	cs = code_source_json(&c->cs);
	const struct coord_exec_context *x = &c->ctx;
	const char *p[] = {
		rid, c->data_id, coord_json_text(cs, NULL), c->input_data,
		I64(mi, c->max_instructions), I64(mm, c->max_memory_mb), I64(me, c->max_execution_seconds),
		c->secrets_profile, c->secrets_account_id, c->response_format,
		x->sender_id, x->has_block_height ? I64(bh, x->block_height) : NULL,
		x->has_block_timestamp ? I64(bt, x->block_timestamp) : NULL, x->contract_id,
		x->transaction_hash, x->receipt_id, x->predecessor_id, x->signer_public_key,
		x->has_gas_burnt ? I64(gb, x->gas_burnt) : NULL, c->user_account_id,
		c->near_payment_yocto, c->attached_usd, c->transaction_hash,
		c->compile_only ? "true" : "false", c->force_rebuild ? "true" : "false",
		c->store_on_fastfs ? "true" : "false", c->project_uuid, c->project_id,
	};
	if ((e = exec1(db, EXEC_UPSERT, (int)(sizeof(p) / sizeof(p[0])), p, NULL)) != COORD_OK)
		goto out;
	payload = coord_execution_payload(c);
	e = coord_queue_insert(db, q, coord_json_text(payload, NULL), c->request_id, c->data_id,
			       &item_id, &pushes);
	if (e == COORD_OK)
		e = coord_queue_commit(db, redis, cfg, &pushes);
	*created = e == COORD_OK;
out:
	if (e != COORD_OK)
		coord_db_rollback(db);
	json_object_put(cs);
	json_object_put(payload);
	return e;
}
