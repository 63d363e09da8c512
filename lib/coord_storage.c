#include <stdio.h>
#include <string.h>

#include "coord_crypto.h"
#include "coord_int.h"
#include "coord_storage.h"
#include "banned.h"

enum {
	ST_SET,
	ST_SET_IF_ABSENT,
	ST_SET_IF_EQUALS,
	ST_CURRENT,
	ST_GET,
	ST_GET_BY_VERSION,
	ST_HAS,
	ST_DELETE,
	ST_LIST,
	ST_USAGE,
	ST_CLEAR_PAIR,
	ST_CLEAR_VERSION,
	ST_CLEAR_PROJECT_ROWS,
	ST_CLEAR_PROJECT_USAGE,
	ST_USAGE_ENSURE,
	ST_USAGE_LOCK,
	ST_USAGE_RECOMPUTE,
	ST_PUBLIC_GET,
	ST_PUBLIC_MANY,
	ST_PROJECT_USAGE,
};

#define PAIR "project_uuid = $1 AND account_id = $2"
#define ADDR PAIR " AND key_hash = $3"
/* a public read never fetches the bytes of an encrypted row */
#define PUBLIC_VALUE "CASE WHEN is_encrypted THEN NULL ELSE encrypted_value END, is_encrypted"

const struct coord_stmt coord_storage_stmts[] = {
	[ST_SET] = { "storage_set",
		"INSERT INTO storage_keys (project_uuid, account_id, key_hash, wasm_hash, "
		"encrypted_key, encrypted_value, is_encrypted) "
		"VALUES ($1, $2, $3, $4, $5::bytea, $6::bytea, $7::boolean) "
		"ON CONFLICT (project_uuid, account_id, key_hash) DO UPDATE SET "
		"encrypted_value = EXCLUDED.encrypted_value, wasm_hash = EXCLUDED.wasm_hash, "
		"is_encrypted = EXCLUDED.is_encrypted, updated_at = now()" },
	[ST_SET_IF_ABSENT] = { "storage_set_if_absent",
		"INSERT INTO storage_keys (project_uuid, account_id, key_hash, wasm_hash, "
		"encrypted_key, encrypted_value, is_encrypted) "
		"VALUES ($1, $2, $3, $4, $5::bytea, $6::bytea, true) "
		"ON CONFLICT (project_uuid, account_id, key_hash) DO NOTHING RETURNING 1" },
	[ST_SET_IF_EQUALS] = { "storage_set_if_equals",
		"UPDATE storage_keys SET encrypted_key = $5::bytea, encrypted_value = $6::bytea, "
		"wasm_hash = $4, updated_at = now() WHERE " ADDR " AND encrypted_value = $7::bytea "
		"RETURNING 1" },
	[ST_CURRENT] = { "storage_current",
		"SELECT encrypted_key, encrypted_value FROM storage_keys WHERE " ADDR },
	[ST_GET] = { "storage_get",
		"SELECT encrypted_key, encrypted_value, wasm_hash, is_encrypted FROM storage_keys "
		"WHERE " ADDR },
	[ST_GET_BY_VERSION] = { "storage_get_by_version",
		"SELECT encrypted_key, encrypted_value, wasm_hash, is_encrypted FROM storage_keys "
		"WHERE wasm_hash = $1 AND account_id = $2 AND key_hash = $3 "
		"ORDER BY updated_at DESC, id DESC LIMIT 1" },
	[ST_HAS] = { "storage_has", "SELECT 1 FROM storage_keys WHERE " ADDR },
	[ST_DELETE] = { "storage_delete", "DELETE FROM storage_keys WHERE " ADDR " RETURNING 1" },
	/* one statement: the page and the total come from the same snapshot */
	[ST_LIST] = { "storage_list",
		"WITH page AS (SELECT key_hash, encrypted_key, encrypted_value, wasm_hash, created_at "
		"  FROM storage_keys WHERE " PAIR " ORDER BY created_at, key_hash "
		"  LIMIT $3::bigint OFFSET $4::bigint) "
		"SELECT (SELECT count(*) FROM storage_keys WHERE " PAIR "), p.key_hash, "
		"p.encrypted_key, p.encrypted_value, p.wasm_hash "
		"FROM (VALUES (1)) one LEFT JOIN page p ON true ORDER BY p.created_at, p.key_hash" },
	[ST_USAGE] = { "storage_usage",
		"SELECT total_bytes, key_count FROM storage_usage WHERE " PAIR },
	[ST_CLEAR_PAIR] = { "storage_clear_pair", "DELETE FROM storage_keys WHERE " PAIR },
	[ST_CLEAR_VERSION] = { "storage_clear_version",
		"WITH d AS (DELETE FROM storage_keys WHERE wasm_hash = $1 AND account_id = $2 "
		"  RETURNING project_uuid, account_id) "
		"SELECT DISTINCT project_uuid, account_id FROM d ORDER BY project_uuid, account_id" },
	[ST_CLEAR_PROJECT_ROWS] = { "storage_clear_project_rows",
		"DELETE FROM storage_keys WHERE project_uuid = $1" },
	[ST_CLEAR_PROJECT_USAGE] = { "storage_clear_project_usage",
		"DELETE FROM storage_usage WHERE project_uuid = $1" },
	[ST_USAGE_ENSURE] = { "storage_usage_ensure",
		"INSERT INTO storage_usage (project_uuid, account_id) VALUES ($1, $2) "
		"ON CONFLICT (project_uuid, account_id) DO NOTHING" },
	[ST_USAGE_LOCK] = { "storage_usage_lock",
		"SELECT 1 FROM storage_usage WHERE " PAIR " FOR UPDATE" },
	/* a statement of its own, started once the lock is held: it sees every committed write */
	[ST_USAGE_RECOMPUTE] = { "storage_usage_recompute",
		"UPDATE storage_usage u SET total_bytes = s.b, key_count = s.c, updated_at = now() "
		"FROM (SELECT coalesce(sum(octet_length(encrypted_key) + octet_length(encrypted_value)), 0) "
		"  AS b, count(*) AS c FROM storage_keys WHERE " PAIR ") s "
		"WHERE u.project_uuid = $1 AND u.account_id = $2" },
	[ST_PUBLIC_GET] = { "storage_public_get",
		"SELECT " PUBLIC_VALUE " FROM storage_keys "
		"WHERE project_uuid = $1 AND account_id = '" COORD_STORAGE_WORKER_ACCOUNT "' "
		"AND key_hash = $2" },
	[ST_PUBLIC_MANY] = { "storage_public_many",
		"SELECT key_hash, " PUBLIC_VALUE " FROM storage_keys "
		"WHERE project_uuid = $1 AND account_id = '" COORD_STORAGE_WORKER_ACCOUNT "' "
		"AND key_hash = ANY($2::text[])" },
	[ST_PROJECT_USAGE] = { "storage_project_usage",
		"SELECT coalesce(sum(total_bytes), 0), coalesce(sum(key_count), 0) FROM storage_usage "
		"WHERE project_uuid = $1" },
};
const size_t coord_storage_nstmts = sizeof(coord_storage_stmts) / sizeof(coord_storage_stmts[0]);

#define TEXT (-1) /* a text parameter of coord_db_exec_len */

static const char *bytes_param(struct coord_bytes b)
{
	return b.ptr ? (const char *)b.ptr : "";
}

static bool column_bool(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}

/* A BYTEA column into arena; false when undecodable. */
static bool column_bytes(const PGresult *res, int row, int col, struct coord_arena *arena,
			 struct coord_bytes *out)
{
	size_t len = 0;
	unsigned char *p = coord_db_bytea(res, row, col, arena, &len);
	out->ptr = p;
	out->len = len;
	return p != NULL;
}

/* ---- usage ---- */

/* Creates, locks and recomputes the usage row of one pair (inside the caller's transaction). */
static enum coord_err recompute_pair(struct coord_db *db, const char *project_uuid,
				     const char *account_id)
{
	const char *p[] = { project_uuid, account_id };
	enum coord_err e = coord_db_exec(db, &coord_storage_stmts[ST_USAGE_ENSURE], 2, p, NULL);
	if (e == COORD_OK)
		e = coord_db_exec(db, &coord_storage_stmts[ST_USAGE_LOCK], 2, p, NULL);
	if (e == COORD_OK)
		e = coord_db_exec(db, &coord_storage_stmts[ST_USAGE_RECOMPUTE], 2, p, NULL);
	return e;
}

/*
 * One write: begin, the statement st (its result in *res when wanted),
 * and, when changed() says the write changed something, the pair's usage;
 * then commit. Anything that fails rolls back.
 */
static enum coord_err write_pair(struct coord_db *db, const struct coord_storage_addr *a,
				 const struct coord_stmt *st, int n, const char *const *params,
				 const int *lengths, bool *changed)
{
	PGresult *res = NULL;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	e = coord_db_exec_len(db, st, n, params, lengths, &res);
	if (e != COORD_OK)
		goto out;
	/* statements with RETURNING changed a row iff they returned one */
	*changed = PQresultStatus(res) == PGRES_COMMAND_OK || PQntuples(res) > 0;
	PQclear(res);
	if (*changed)
		e = recompute_pair(db, a->project_uuid, a->account_id);
	if (e == COORD_OK)
		e = coord_db_commit(db);
out:
	if (e != COORD_OK)
		coord_db_rollback(db);
	return e;
}

/* ---- writes ---- */

enum coord_err coord_storage_set(struct coord_db *db, const struct coord_storage_addr *a,
				 const char *wasm_hash, struct coord_bytes key,
				 struct coord_bytes value, bool is_encrypted)
{
	bool changed;
	const char *p[] = { a->project_uuid, a->account_id, a->key_hash, wasm_hash,
			    bytes_param(key), bytes_param(value), is_encrypted ? "true" : "false" };
	const int len[] = { TEXT, TEXT, TEXT, TEXT, (int)key.len, (int)value.len, TEXT };
	return write_pair(db, a, &coord_storage_stmts[ST_SET], 7, p, len, &changed);
}

enum coord_err coord_storage_set_if_absent(struct coord_db *db, const struct coord_storage_addr *a,
					   const char *wasm_hash, struct coord_bytes key,
					   struct coord_bytes value, bool *inserted)
{
	const char *p[] = { a->project_uuid, a->account_id, a->key_hash, wasm_hash,
			    bytes_param(key), bytes_param(value) };
	const int len[] = { TEXT, TEXT, TEXT, TEXT, (int)key.len, (int)value.len };
	*inserted = false;
	return write_pair(db, a, &coord_storage_stmts[ST_SET_IF_ABSENT], 6, p, len, inserted);
}

static enum coord_err read_row(struct coord_db *db, const struct coord_stmt *st,
			       const char *const *params, struct coord_arena *arena,
			       struct coord_storage_row *out)
{
	PGresult *res;
	memset(out, 0, sizeof(*out));
	out->is_encrypted = true;
	enum coord_err e = coord_db_exec(db, st, 3, params, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 1) {
		out->exists = true;
		if (!column_bytes(res, 0, 0, arena, &out->key) ||
		    !column_bytes(res, 0, 1, arena, &out->value))
			e = COORD_ERR_INTERNAL;
		if (PQnfields(res) > 2) {
			out->wasm_hash = coord_arena_strdup(arena, PQgetvalue(res, 0, 2));
			out->is_encrypted = column_bool(res, 0, 3);
		}
	}
	PQclear(res);
	return e;
}

enum coord_err coord_storage_set_if_equals(struct coord_db *db, const struct coord_storage_addr *a,
					   const char *wasm_hash, struct coord_bytes expected,
					   struct coord_bytes new_key, struct coord_bytes new_value,
					   bool *updated, struct coord_arena *arena,
					   struct coord_storage_row *current)
{
	const char *p[] = { a->project_uuid, a->account_id, a->key_hash, wasm_hash,
			    bytes_param(new_key), bytes_param(new_value), bytes_param(expected) };
	const int len[] = { TEXT, TEXT, TEXT, TEXT, (int)new_key.len, (int)new_value.len,
			    (int)expected.len };
	memset(current, 0, sizeof(*current));
	*updated = false;
	enum coord_err e = write_pair(db, a, &coord_storage_stmts[ST_SET_IF_EQUALS], 7, p, len,
				      updated);
	if (e != COORD_OK || *updated)
		return e;
	/* read after the attempt: a caller that lost a race gets the winner's bytes */
	const char *q[] = { a->project_uuid, a->account_id, a->key_hash };
	return read_row(db, &coord_storage_stmts[ST_CURRENT], q, arena, current);
}

enum coord_err coord_storage_delete(struct coord_db *db, const struct coord_storage_addr *a)
{
	bool changed = false;
	const char *p[] = { a->project_uuid, a->account_id, a->key_hash };
	enum coord_err e = write_pair(db, a, &coord_storage_stmts[ST_DELETE], 3, p, NULL, &changed);
	if (e == COORD_OK && !changed)
		return COORD_ERR_NOT_FOUND;
	return e;
}

enum coord_err coord_storage_clear_all(struct coord_db *db, const char *project_uuid,
				       const char *account_id)
{
	bool changed;
	struct coord_storage_addr a = { project_uuid, account_id, NULL };
	const char *p[] = { project_uuid, account_id };
	/* a DELETE without RETURNING always counts as a change: the usage row ends zeroed */
	return write_pair(db, &a, &coord_storage_stmts[ST_CLEAR_PAIR], 2, p, NULL, &changed);
}

enum coord_err coord_storage_clear_version(struct coord_db *db, const char *wasm_hash,
					   const char *account_id)
{
	PGresult *res = NULL;
	const char *p[] = { wasm_hash, account_id };
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	e = coord_db_exec(db, &coord_storage_stmts[ST_CLEAR_VERSION], 2, p, &res);
	if (e != COORD_OK)
		goto out;
	/* the affected pairs, already in (project_uuid, account_id) order */
	for (int i = 0; i < PQntuples(res) && e == COORD_OK; i++)
		e = recompute_pair(db, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	if (e == COORD_OK)
		e = coord_db_commit(db);
out:
	PQclear(res);
	if (e != COORD_OK)
		coord_db_rollback(db);
	return e;
}

enum coord_err coord_storage_clear_project(struct coord_db *db, const char *project_uuid)
{
	const char *p[] = { project_uuid };
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	/* rows first, then usage rows: the order of every other write */
	e = coord_db_exec(db, &coord_storage_stmts[ST_CLEAR_PROJECT_ROWS], 1, p, NULL);
	if (e == COORD_OK)
		e = coord_db_exec(db, &coord_storage_stmts[ST_CLEAR_PROJECT_USAGE], 1, p, NULL);
	if (e == COORD_OK)
		e = coord_db_commit(db);
	if (e != COORD_OK)
		coord_db_rollback(db);
	return e;
}

/* ---- reads ---- */

enum coord_err coord_storage_get(struct coord_db *db, const struct coord_storage_addr *a,
				 struct coord_arena *arena, struct coord_storage_row *out)
{
	const char *p[] = { a->project_uuid, a->account_id, a->key_hash };
	return read_row(db, &coord_storage_stmts[ST_GET], p, arena, out);
}

enum coord_err coord_storage_get_by_version(struct coord_db *db, const char *wasm_hash,
					    const char *account_id, const char *key_hash,
					    struct coord_arena *arena, struct coord_storage_row *out)
{
	const char *p[] = { wasm_hash, account_id, key_hash };
	return read_row(db, &coord_storage_stmts[ST_GET_BY_VERSION], p, arena, out);
}

enum coord_err coord_storage_has(struct coord_db *db, const struct coord_storage_addr *a,
				 bool *exists)
{
	PGresult *res;
	const char *p[] = { a->project_uuid, a->account_id, a->key_hash };
	enum coord_err e = coord_db_exec(db, &coord_storage_stmts[ST_HAS], 3, p, &res);
	if (e != COORD_OK)
		return e;
	*exists = PQntuples(res) == 1;
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_storage_list(struct coord_db *db, const char *project_uuid,
				  const char *account_id, int64_t limit, int64_t offset,
				  struct coord_arena *arena, struct coord_storage_row **rows,
				  size_t *n, int64_t *total)
{
	PGresult *res;
	char lim[24], off[24];
	snprintf(lim, sizeof(lim), "%lld", (long long)limit);
	snprintf(off, sizeof(off), "%lld", (long long)offset);
	const char *p[] = { project_uuid, account_id, lim, off };
	enum coord_err e = coord_db_exec(db, &coord_storage_stmts[ST_LIST], 4, p, &res);
	if (e != COORD_OK)
		return e;
	int nt = PQntuples(res);
	*total = nt ? coord_db_i64(res, 0, 0) : 0;
	*rows = coord_arena_alloc(arena, sizeof(**rows) * (size_t)(nt ? nt : 1));
	*n = 0;
	for (int i = 0; i < nt; i++) {
		if (PQgetisnull(res, i, 1))
			continue; /* the page is empty: only the total */
		struct coord_storage_row *row = &(*rows)[(*n)++];
		memset(row, 0, sizeof(*row));
		row->exists = true;
		row->key_hash = coord_arena_strdup(arena, PQgetvalue(res, i, 1));
		if (!column_bytes(res, i, 2, arena, &row->key) ||
		    !column_bytes(res, i, 3, arena, &row->value))
			e = COORD_ERR_INTERNAL;
		row->wasm_hash = coord_arena_strdup(arena, PQgetvalue(res, i, 4));
	}
	PQclear(res);
	return e;
}

/* Two integer columns of a one-row result; zeros without a row. */
static enum coord_err read_two(struct coord_db *db, const struct coord_stmt *st, int n,
			       const char *const *p, int64_t *a, int64_t *b)
{
	PGresult *res;
	enum coord_err e = coord_db_exec(db, st, n, p, &res);
	if (e != COORD_OK)
		return e;
	*a = PQntuples(res) ? coord_db_i64(res, 0, 0) : 0;
	*b = PQntuples(res) ? coord_db_i64(res, 0, 1) : 0;
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_storage_usage(struct coord_db *db, const char *project_uuid,
				   const char *account_id, int64_t *total_bytes, int64_t *key_count)
{
	const char *p[] = { project_uuid, account_id };
	return read_two(db, &coord_storage_stmts[ST_USAGE], 2, p, total_bytes, key_count);
}

enum coord_err coord_storage_project_usage(struct coord_db *db, const char *project_uuid,
					   int64_t *total_bytes, int64_t *key_count)
{
	const char *p[] = { project_uuid };
	return read_two(db, &coord_storage_stmts[ST_PROJECT_USAGE], 1, p, total_bytes, key_count);
}

/* ---- public reads ---- */

void coord_storage_public_key_hash(const char *key, size_t len, char out[static 65])
{
	coord_sha256_hex(key, len, out);
}

/* The state and value of a public row from columns (value, is_encrypted) at col. */
static bool public_row(const PGresult *res, int row, int col, struct coord_arena *arena,
		       enum coord_public_state *state, struct coord_bytes *value)
{
	if (column_bool(res, row, col + 1)) {
		*state = COORD_PUBLIC_ENCRYPTED;
		return true;
	}
	*state = COORD_PUBLIC_PLAIN;
	return column_bytes(res, row, col, arena, value);
}

enum coord_err coord_storage_get_public(struct coord_db *db, const char *project_uuid,
					const char *key_hash, struct coord_arena *arena,
					enum coord_public_state *state, struct coord_bytes *value)
{
	PGresult *res;
	const char *p[] = { project_uuid, key_hash };
	*state = COORD_PUBLIC_ABSENT;
	value->ptr = NULL;
	value->len = 0;
	enum coord_err e = coord_db_exec(db, &coord_storage_stmts[ST_PUBLIC_GET], 2, p, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 1 && !public_row(res, 0, 0, arena, state, value))
		e = COORD_ERR_INTERNAL;
	PQclear(res);
	return e;
}

enum coord_err coord_storage_batch_keys(json_object *keys, struct coord_arena *arena,
					struct coord_storage_batch *out,
					struct coord_json_problem *p, const char **why)
{
	memset(out, 0, sizeof(*out));
	memset(p, 0, sizeof(*p));
	*why = NULL;
	size_t n = json_object_array_length(keys);
	/* the shape (422) of every element first, then the rules of the route (400) */
	for (size_t i = 0; i < n; i++) {
		if (!json_object_is_type(json_object_array_get_idx(keys, i), json_type_string)) {
			p->status = 422;
			p->reason = "type";
			p->message = "Expected a string";
			snprintf(p->field, sizeof(p->field), "keys[%zu]", i);
			return COORD_ERR_INVALID;
		}
	}
	if (n == 0) {
		*why = "keys must hold at least one key";
		return COORD_ERR_RANGE;
	}
	out->keys = coord_arena_alloc(arena, sizeof(*out->keys) * COORD_STORAGE_BATCH_MAX);
	out->lens = coord_arena_alloc(arena, sizeof(*out->lens) * COORD_STORAGE_BATCH_MAX);
	for (size_t i = 0; i < n; i++) {
		json_object *k = json_object_array_get_idx(keys, i);
		const char *s = json_object_get_string(k);
		size_t len = (size_t)json_object_get_string_len(k);
		if (len == 0 || len > COORD_STORAGE_PUBLIC_KEY_MAX) {
			*why = "Each key must be 1 to 1024 bytes";
			return COORD_ERR_RANGE;
		}
		bool seen = false;
		for (size_t j = 0; j < out->n && !seen; j++)
			seen = out->lens[j] == len && memcmp(out->keys[j], s, len) == 0;
		if (seen)
			continue;
		if (out->n == COORD_STORAGE_BATCH_MAX) {
			*why = "At most 50 distinct keys per batch";
			return COORD_ERR_RANGE;
		}
		out->keys[out->n] = s;
		out->lens[out->n] = len;
		out->n++;
	}
	out->states = coord_arena_alloc(arena, sizeof(*out->states) * out->n);
	out->values = coord_arena_alloc(arena, sizeof(*out->values) * out->n);
	return COORD_OK;
}

enum coord_err coord_storage_get_public_batch(struct coord_db *db, const char *project_uuid,
					      struct coord_arena *arena,
					      struct coord_storage_batch *out)
{
	PGresult *res;
	/* {h1,h2,...}: hex hashes need no quoting */
	char *hashes = coord_arena_alloc(arena, out->n * 65);
	char *array = coord_arena_alloc(arena, out->n * 65 + 3);
	size_t o = 0;
	array[o++] = '{';
	for (size_t i = 0; i < out->n; i++) {
		coord_storage_public_key_hash(out->keys[i], out->lens[i], hashes + i * 65);
		if (i)
			array[o++] = ',';
		memcpy(array + o, hashes + i * 65, 64);
		o += 64;
		out->states[i] = COORD_PUBLIC_ABSENT;
		out->values[i].ptr = NULL;
		out->values[i].len = 0;
	}
	array[o++] = '}';
	array[o] = '\0';
	const char *p[] = { project_uuid, array };
	enum coord_err e = coord_db_exec(db, &coord_storage_stmts[ST_PUBLIC_MANY], 2, p, &res);
	if (e != COORD_OK)
		return e;
	for (int r = 0; r < PQntuples(res); r++) {
		const char *h = PQgetvalue(res, r, 0);
		for (size_t i = 0; i < out->n; i++) {
			if (strcmp(h, hashes + i * 65) != 0)
				continue;
			if (!public_row(res, r, 1, arena, &out->states[i], &out->values[i]))
				e = COORD_ERR_INTERNAL;
			break;
		}
	}
	PQclear(res);
	return e;
}
