#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_crypto.h"
#include "coord_int.h"
#include "coord_parse.h"
#include "coord_paykeys.h"
#include "coord_rows.h"
#include "banned.h"

enum {
	PK_INIT,
	PK_TOPUP_RECORD_ADD,
	PK_TOPUP_RECORD_SET,
	PK_TOPUP_UPSERT,
	PK_DELETE,
	PK_BALANCE,
	PK_USAGE,
	PK_USAGE_COUNT,
	PK_GRANT_LOCK,
	PK_GRANT_APPLY,
	PK_GRANT_RECORD,
	PK_GRANT_KEYS,
	PK_GRANT_DELETE,
	PK_VERIFY,
};

/* A JSON array of strings ($n) as text[], in its order. */
#define PROJECT_IDS(n) \
	"ARRAY(SELECT e FROM jsonb_array_elements_text(" n "::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i)"

/* max(0, initial_balance - spent - reserved) of key k and its balance row b (NULL: none) */
#define AVAILABLE "greatest(coalesce(k.initial_balance, 0) - coalesce(b.spent, 0) " \
	"- coalesce(b.reserved, 0), 0)"

/* initial_balance after a top-up: $6 new_initial_balance, $7 amount (NULL: set mode) */
#define TOPUP_BALANCE "CASE WHEN $7::numeric IS NULL THEN $6::numeric ELSE k.initial_balance + $7::numeric END"

const struct coord_stmt coord_paykeys_stmts[] = {
	[PK_INIT] = { "paykeys_init",
		"INSERT INTO payment_keys (owner, nonce, key_hash, project_ids, max_per_call) "
		"VALUES ($1, $2, lower($3), " PROJECT_IDS("$4") ", nullif($5::numeric, 0)) "
		"ON CONFLICT (owner, nonce) DO NOTHING" },
	/* the unique index makes a concurrent repeat wait for the first, then find it */
	[PK_TOPUP_RECORD_ADD] = { "paykeys_topup_record_add",
		"INSERT INTO payment_key_topups (owner, nonce, amount, new_initial_balance, mode) "
		"VALUES ($1, $2, $3, $4, 'add') "
		"ON CONFLICT (owner, nonce, new_initial_balance, amount) WHERE mode = 'add' DO NOTHING "
		"RETURNING id" },
	[PK_TOPUP_RECORD_SET] = { "paykeys_topup_record_set",
		"INSERT INTO payment_key_topups (owner, nonce, amount, new_initial_balance, mode) "
		"VALUES ($1, $2, NULL, $3, 'set')" },
	[PK_TOPUP_UPSERT] = { "paykeys_topup_upsert",
		"INSERT INTO payment_keys AS k "
		"(owner, nonce, key_hash, project_ids, max_per_call, initial_balance, funded_at) "
		"VALUES ($1, $2, lower($3), " PROJECT_IDS("$4") ", nullif($5::numeric, 0), $6, "
		"        CASE WHEN $6::numeric > 0 THEN now() END) "
		"ON CONFLICT (owner, nonce) DO UPDATE SET initial_balance = " TOPUP_BALANCE ", "
		"key_hash = EXCLUDED.key_hash, project_ids = EXCLUDED.project_ids, "
		"max_per_call = EXCLUDED.max_per_call, deleted_at = NULL, updated_at = now(), "
		"funded_at = coalesce(k.funded_at, CASE WHEN " TOPUP_BALANCE " > 0 THEN now() END)" },
	[PK_DELETE] = { "paykeys_delete",
		"UPDATE payment_keys SET deleted_at = now(), updated_at = now() "
		"WHERE owner = $1 AND nonce = $2 AND deleted_at IS NULL" },
	/* always one row; a balance row counts only while its key exists */
	[PK_BALANCE] = { "paykeys_balance",
		"SELECT q.owner, q.nonce, coalesce(k.initial_balance, 0)::text, "
		"coalesce(b.spent, 0)::text, coalesce(b.reserved, 0)::text, "
		"CASE WHEN k.deleted_at IS NULL THEN " AVAILABLE " ELSE 0 END::text, "
		COORD_SQL_TS("b.last_used_at") ", coalesce(k.is_grant, false), "
		"k.owner IS NOT NULL AND k.deleted_at IS NULL, k.key_hash "
		"FROM (SELECT $1::text AS owner, $2::bigint AS nonce) q "
		"LEFT JOIN payment_keys k ON k.owner = q.owner AND k.nonce = q.nonce "
		"LEFT JOIN payment_key_balances b ON b.owner = k.owner AND b.nonce = k.nonce" },
	[PK_USAGE] = { "paykeys_usage",
		"SELECT id::text, call_id, job_id, project_id, compute_cost, attached_deposit, status, "
		COORD_SQL_TS("created_at") " FROM payment_key_usage WHERE owner = $1 AND nonce = $2 "
		"ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4" },
	[PK_USAGE_COUNT] = { "paykeys_usage_count",
		"SELECT count(*) FROM payment_key_usage WHERE owner = $1 AND nonce = $2" },
	[PK_GRANT_LOCK] = { "paykeys_grant_lock",
		"SELECT initial_balance > 0 AND NOT is_grant FROM payment_keys "
		"WHERE owner = $1 AND nonce = $2 AND deleted_at IS NULL FOR UPDATE" },
	[PK_GRANT_APPLY] = { "paykeys_grant_apply",
		"UPDATE payment_keys SET initial_balance = initial_balance + $3, is_grant = true, "
		"updated_at = now(), funded_at = coalesce(funded_at, now()) "
		"WHERE owner = $1 AND nonce = $2 RETURNING initial_balance::text" },
	[PK_GRANT_RECORD] = { "paykeys_grant_record",
		"INSERT INTO payment_key_grants (owner, nonce, amount, note, source, initial_balance_after) "
		"VALUES ($1, $2, $3, $4, $5, $6)" },
	[PK_GRANT_KEYS] = { "paykeys_grant_keys",
		"SELECT k.owner, k.nonce, k.initial_balance::text, coalesce(b.spent, 0)::text, "
		"coalesce(b.reserved, 0)::text, " AVAILABLE "::text, array_to_json(k.project_ids)::text, "
		"k.max_per_call::text, " COORD_SQL_TS("k.created_at") " "
		"FROM payment_keys k LEFT JOIN payment_key_balances b "
		"  ON b.owner = k.owner AND b.nonce = k.nonce "
		"WHERE k.is_grant AND k.deleted_at IS NULL "
		"ORDER BY k.created_at DESC, k.owner, k.nonce" },
	[PK_GRANT_DELETE] = { "paykeys_grant_delete",
		"UPDATE payment_keys SET deleted_at = now(), updated_at = now() "
		"WHERE owner = $1 AND nonce = $2 AND is_grant AND deleted_at IS NULL" },
	/* the live key of the api group (SPEC §1.6) and what §3.3.1 steps 8-10 ask of it */
	[PK_VERIFY] = { "paykeys_verify",
		"SELECT key_hash, is_grant, "
		"coalesce(cardinality(project_ids) = 0 OR $3 = ANY(project_ids), true), "
		"coalesce(max_per_call IS NOT NULL AND $4::numeric > max_per_call, false), max_per_call "
		"FROM payment_keys WHERE owner = $1 AND nonce = $2::bigint AND deleted_at IS NULL" },
};
const size_t coord_paykeys_nstmts = sizeof(coord_paykeys_stmts) / sizeof(coord_paykeys_stmts[0]);

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/* The first six members of every balance object (SPEC §3.3.3, §3.4.5, §3.5). */
#define BALANCE_COLS                                        \
	{ "owner", COORD_COL_STR, false },                  \
	{ "nonce", COORD_COL_INT, false },                  \
	{ "initial_balance", COORD_COL_MONEY, false },      \
	{ "spent", COORD_COL_MONEY, false },                \
	{ "reserved", COORD_COL_MONEY, false },             \
	{ "available", COORD_COL_MONEY, false }
#define I64TXT(buf, v) (snprintf(buf, sizeof(buf), "%lld", (long long)(v)), buf)

static enum coord_err run(struct coord_db *db, int which, int n, const char *const *p,
			  PGresult **res)
{
	return coord_db_exec(db, &coord_paykeys_stmts[which], n, p, res);
}

/* Rows changed by the last statement of res (which is cleared). */
static long changed(PGresult *res)
{
	long n = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

enum coord_err coord_paykeys_init(struct coord_db *db, const struct coord_paykey_sync *k,
				  bool *created)
{
	char nonce[24];
	PGresult *res;
	const char *p[] = { k->owner, I64TXT(nonce, k->nonce), k->key_hash, k->project_ids_json,
			    k->max_per_call };
	enum coord_err e = run(db, PK_INIT, 5, p, &res);
	if (e == COORD_OK)
		*created = changed(res) == 1;
	return e;
}

enum coord_err coord_paykeys_topup(struct coord_db *db, const struct coord_paykey_sync *k,
				   const char *new_initial_balance, const char *amount,
				   bool *repeat)
{
	char nonce[24];
	PGresult *res = NULL;
	I64TXT(nonce, k->nonce);
	const char *pa[] = { k->owner, nonce, amount, new_initial_balance };
	const char *ps[] = { k->owner, nonce, new_initial_balance };
	const char *pu[] = { k->owner, nonce, k->key_hash, k->project_ids_json, k->max_per_call,
			     new_initial_balance, amount };

	*repeat = false;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	if (amount) {
		if ((e = run(db, PK_TOPUP_RECORD_ADD, 4, pa, &res)) != COORD_OK)
			goto out;
		*repeat = PQntuples(res) == 0;
		PQclear(res);
		if (*repeat)
			goto out; /* rolled back below: nothing to write */
	} else if ((e = run(db, PK_TOPUP_RECORD_SET, 3, ps, NULL)) != COORD_OK) {
		goto out;
	}
	if ((e = run(db, PK_TOPUP_UPSERT, 7, pu, NULL)) == COORD_OK)
		e = coord_db_commit(db);
out:
	if (e != COORD_OK || *repeat)
		coord_db_rollback(db);
	return e;
}

enum coord_err coord_paykeys_delete(struct coord_db *db, const char *owner, int64_t nonce,
				    bool *deleted)
{
	char n[24];
	PGresult *res;
	const char *p[] = { owner, I64TXT(n, nonce) };
	enum coord_err e = run(db, PK_DELETE, 2, p, &res);
	if (e == COORD_OK)
		*deleted = changed(res) == 1;
	return e;
}

enum coord_err coord_paykeys_balance(struct coord_db *db, const char *owner, int64_t nonce,
				     const char *secret_hash, json_object **out)
{
	static const struct coord_col cols[] = {
		BALANCE_COLS,
		{ "last_used_at", COORD_COL_STR, false },
		{ "is_grant", COORD_COL_BOOL, false },
	};
	enum { LIVE = NCOLS(cols), KEY_HASH };
	char n[24];
	PGresult *res;
	const char *p[] = { owner, I64TXT(n, nonce) };
	*out = NULL;
	enum coord_err e = run(db, PK_BALANCE, 2, p, &res);
	if (e != COORD_OK)
		return e;
	if (secret_hash && (strcmp(PQgetvalue(res, 0, LIVE), "t") != 0 ||
			    PQgetlength(res, 0, KEY_HASH) != 64 ||
			    !coord_ct_equal(PQgetvalue(res, 0, KEY_HASH), secret_hash, 64)))
		e = COORD_ERR_NOT_FOUND;
	else
		*out = coord_row_json(res, 0, cols, secret_hash ? NCOLS(cols) : NCOLS(cols) - 1);
	PQclear(res);
	return e;
}

enum coord_err coord_paykeys_usage(struct coord_db *db, const char *owner, int64_t nonce,
				   int64_t limit, int64_t offset, json_object **out)
{
	static const struct coord_col cols[] = {
		{ "id", COORD_COL_STR, false },
		{ "call_id", COORD_COL_STR, false },
		{ "job_id", COORD_COL_INT, false },
		{ "project_id", COORD_COL_STR, false },
		{ "compute_cost", COORD_COL_MONEY, false },
		{ "attached_deposit", COORD_COL_MONEY, false },
		{ "status", COORD_COL_STR, false },
		{ "created_at", COORD_COL_STR, false },
	};
	char n[24], l[24], o[24];
	PGresult *rows = NULL, *count = NULL;
	const char *p[] = { owner, I64TXT(n, nonce), I64TXT(l, limit), I64TXT(o, offset) };
	*out = NULL;
	enum coord_err e = run(db, PK_USAGE, 4, p, &rows);
	if (e == COORD_OK)
		e = run(db, PK_USAGE_COUNT, 2, p, &count);
	if (e == COORD_OK) {
		*out = json_object_new_object();
		json_object_object_add(*out, "usage", coord_rows_json(rows, cols, NCOLS(cols)));
		json_object_object_add(*out, "total",
				       json_object_new_int64(strtoll(PQgetvalue(count, 0, 0), NULL, 10)));
		json_object_object_add(*out, "offset", json_object_new_int64(offset));
		json_object_object_add(*out, "limit", json_object_new_int64(limit));
	}
	PQclear(rows);
	PQclear(count);
	return e;
}

/* ---- grants ---- */

const char *coord_paykeys_grant_amount_problem(const char *amount, size_t len)
{
	char canon[39];
	if (!coord_money_valid(amount, len))
		return "Invalid amount format";
	if (coord_money_canonical(amount, len, canon) == 1 && canon[0] == '0')
		return "Amount must be greater than 0";
	return NULL;
}

enum coord_err coord_paykeys_grant(struct coord_db *db, const struct coord_paykey_grant *g,
				   json_object **out)
{
	char nonce[24], total[40];
	PGresult *res = NULL;
	I64TXT(nonce, g->nonce);
	const char *pk[] = { g->owner, nonce };
	const char *pa[] = { g->owner, nonce, g->amount };
	const char *pr[] = { g->owner, nonce, g->amount, g->note, g->from_cli ? "cli" : "api", total };

	*out = NULL;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	if ((e = run(db, PK_GRANT_LOCK, 2, pk, &res)) != COORD_OK)
		goto out;
	if (PQntuples(res) == 0)
		e = COORD_ERR_NOT_FOUND;
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		e = COORD_ERR_CONFLICT; /* a user-funded key */
	PQclear(res);
	if (e != COORD_OK || (e = run(db, PK_GRANT_APPLY, 3, pa, &res)) != COORD_OK)
		goto out;
	snprintf(total, sizeof(total), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((e = run(db, PK_GRANT_RECORD, 6, pr, NULL)) != COORD_OK)
		goto out;
	if (!g->dry_run && (e = coord_db_commit(db)) != COORD_OK)
		goto out;
	*out = json_object_new_object();
	json_object_object_add(*out, "owner", json_object_new_string(g->owner));
	json_object_object_add(*out, "nonce", json_object_new_int64(g->nonce));
	json_object_object_add(*out, "initial_balance", json_object_new_string(total));
	json_object_object_add(*out, "is_grant", json_object_new_boolean(true));
out:
	if (e != COORD_OK || g->dry_run)
		coord_db_rollback(db);
	return e;
}

enum coord_err coord_paykeys_grant_keys(struct coord_db *db, json_object **out)
{
	static const struct coord_col cols[] = {
		BALANCE_COLS,
		{ "project_ids", COORD_COL_JSON, false },
		{ "max_per_call", COORD_COL_MONEY, false },
		{ "created_at", COORD_COL_STR, false },
	};
	PGresult *res;
	*out = NULL;
	enum coord_err e = run(db, PK_GRANT_KEYS, 0, NULL, &res);
	if (e != COORD_OK)
		return e;
	*out = coord_rows_json(res, cols, NCOLS(cols));
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_paykeys_grant_delete(struct coord_db *db, const char *owner, int64_t nonce)
{
	char n[24];
	PGresult *res;
	const char *p[] = { owner, I64TXT(n, nonce) };
	enum coord_err e = run(db, PK_GRANT_DELETE, 2, p, &res);
	if (e != COORD_OK)
		return e;
	return changed(res) == 1 ? COORD_OK : COORD_ERR_NOT_FOUND;
}

enum coord_err coord_paykeys_verify(struct coord_db *db, const char *owner, int64_t nonce,
				    const char *secret_hash, const char *project_id,
				    const char *amount, struct coord_paykey_auth *out)
{
	char n[24];
	PGresult *res;
	memset(out, 0, sizeof(*out));
	snprintf(n, sizeof(n), "%lld", (long long)nonce);
	const char *p[] = { owner, n, project_id, amount };
	enum coord_err e = run(db, PK_VERIFY, 4, p, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) != 1 || PQgetlength(res, 0, 0) != 64 ||
	    !coord_ct_equal(PQgetvalue(res, 0, 0), secret_hash, 64)) {
		PQclear(res);
		return COORD_ERR_NOT_FOUND;
	}
	out->is_grant = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	out->project_allowed = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	out->over_max_per_call = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	snprintf(out->max_per_call, sizeof(out->max_per_call), "%s",
		 PQgetisnull(res, 0, 4) ? "" : PQgetvalue(res, 0, 4));
	PQclear(res);
	return COORD_OK;
}
