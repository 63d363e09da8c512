#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_auth.h"
#include "coord_crypto.h"
#include "coord_int.h"
#include "coord_log.h"
#include "banned.h"

#define TS COORD_SQL_TS

enum {
	AUTH_LOOKUP,
	AUTH_ADD,
	AUTH_LIST,
	AUTH_REVOKE_NAME,
	AUTH_MATCH_PREFIX,
	AUTH_REVOKE_HASH,
};

const struct coord_stmt coord_auth_stmts[] = {
	[AUTH_LOOKUP] = { "auth_lookup",
		"WITH t AS (SELECT worker_name, last_used_at FROM worker_auth_tokens "
		"           WHERE token_hash = $1 AND is_active), "
		"u AS (UPDATE worker_auth_tokens SET last_used_at = now() "
		"      WHERE token_hash = $1 AND EXISTS (SELECT 1 FROM t WHERE "
		"      t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')) "
		"SELECT worker_name FROM t" },
	[AUTH_ADD] = { "auth_add",
		"INSERT INTO worker_auth_tokens (token_hash, worker_name) VALUES ($1, $2) "
		"ON CONFLICT (token_hash) DO NOTHING" },
	[AUTH_LIST] = { "auth_list",
		"SELECT worker_name, left(token_hash, 12), is_active, " TS("created_at") ", "
		TS("last_used_at") ", " TS("last_attestation_at") " FROM worker_auth_tokens "
		"WHERE is_active OR $1 ORDER BY created_at, token_hash" },
	[AUTH_REVOKE_NAME] = { "auth_revoke_name",
		"UPDATE worker_auth_tokens SET is_active = false, revoked_at = now() "
		"WHERE worker_name = $1 AND is_active" },
	[AUTH_MATCH_PREFIX] = { "auth_match_prefix",
		"SELECT token_hash FROM worker_auth_tokens WHERE left(token_hash, length($1)) = $1 "
		"LIMIT 2" },
	[AUTH_REVOKE_HASH] = { "auth_revoke_hash",
		"UPDATE worker_auth_tokens SET is_active = false, "
		"revoked_at = coalesce(revoked_at, now()) WHERE token_hash = $1" },
};
const size_t coord_auth_nstmts = sizeof(coord_auth_stmts) / sizeof(coord_auth_stmts[0]);
#define stmts coord_auth_stmts

/*
 * Each serving thread remembers the tokens it validated: a hit costs no round trip. The
 * memory belongs to the thread's connection: a change of worker_auth_tokens notifies every
 * serving connection (sql/007_token_cache.sql), whose thread then forgets all of it
 * (coord_auth_forget, before it next authenticates: coord_db_ready and coord_db_notifications
 * read the notifications), as it does when its connection is reopened. An entry also expires
 * after a minute, after which the lookup runs again and touches last_used_at (at most once a
 * minute per token, SPEC §1.6). Unknown and revoked tokens are never remembered.
 */
#define TOKEN_CACHE_SLOTS 8
#define TOKEN_CACHE_MS 60000

struct token_cache_entry {
	char token_hash[65];
	char worker_name[129];
	int64_t checked_ms;
};

static _Thread_local struct token_cache_entry token_cache[TOKEN_CACHE_SLOTS];
static _Thread_local unsigned token_cache_next;

void coord_auth_forget(const char *key)
{
	(void)key; /* the payload names no token: forget them all */
	memset(token_cache, 0, sizeof(token_cache));
}

void coord_auth_listening(void)
{
	coord_auth_forget(NULL);
}

static const struct token_cache_entry *token_cache_find(const char *token_hash, int64_t now)
{
	for (size_t i = 0; i < TOKEN_CACHE_SLOTS; i++) {
		const struct token_cache_entry *c = &token_cache[i];
		if (c->token_hash[0] && now - c->checked_ms < TOKEN_CACHE_MS &&
		    strcmp(c->token_hash, token_hash) == 0)
			return c;
	}
	return NULL;
}

static void token_cache_store(const char *token_hash, const char *worker_name, int64_t now)
{
	struct token_cache_entry *c = NULL;
	for (size_t i = 0; i < TOKEN_CACHE_SLOTS && !c; i++)
		if (strcmp(token_cache[i].token_hash, token_hash) == 0)
			c = &token_cache[i];
	if (!c)
		c = &token_cache[token_cache_next++ % TOKEN_CACHE_SLOTS];
	if (strlen(worker_name) >= sizeof(c->worker_name)) {
		c->token_hash[0] = '\0';
		return;
	}
	snprintf(c->token_hash, sizeof(c->token_hash), "%s", token_hash);
	snprintf(c->worker_name, sizeof(c->worker_name), "%s", worker_name);
	c->checked_ms = now;
}

enum coord_err coord_auth_worker(struct coord_db *db, const char token_hash[static 65],
				 struct coord_arena *arena, const char **worker_name)
{
	int64_t now = coord_monotonic_ms();
	/* a connection being closed may have missed a revocation: ask the database */
	const struct token_cache_entry *hit =
		coord_db_notifications(db) ? token_cache_find(token_hash, now) : NULL;
	if (hit) {
		*worker_name = coord_arena_strdup(arena, hit->worker_name);
		return COORD_OK;
	}
	PGresult *res;
	const char *p[] = { token_hash };
	enum coord_err e = coord_db_exec(db, &stmts[AUTH_LOOKUP], 1, p, &res);
	if (e != COORD_OK)
		return e;
	/*
	 * A revocation committed while the lookup ran is notified to this connection, and read
	 * before the next authentication on this thread: the entry stored now is forgotten then.
	 */
	if (PQntuples(res) == 1) {
		*worker_name = coord_arena_strdup(arena, PQgetvalue(res, 0, 0));
		token_cache_store(token_hash, *worker_name, now);
	} else {
		e = COORD_ERR_NOT_FOUND;
	}
	PQclear(res);
	return e;
}

enum coord_err coord_tokens_add(struct coord_db *db, const char *name, const char *token,
				size_t token_len, char hash_out[static 65])
{
	PGresult *res;
	coord_sha256_hex(token, token_len, hash_out);
	const char *p[] = { hash_out, name };
	enum coord_err e = coord_db_exec(db, &stmts[AUTH_ADD], 2, p, &res);
	if (e != COORD_OK)
		return e;
	if (strcmp(PQcmdTuples(res), "1") != 0)
		e = COORD_ERR_CONFLICT;
	PQclear(res);
	return e;
}

static const char *opt(struct coord_arena *a, PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : coord_arena_strdup(a, PQgetvalue(res, row, col));
}

enum coord_err coord_tokens_list(struct coord_db *db, bool all, struct coord_arena *arena,
				 struct coord_token_row **rows, size_t *n)
{
	PGresult *res;
	const char *p[] = { all ? "true" : "false" };
	enum coord_err e = coord_db_exec(db, &stmts[AUTH_LIST], 1, p, &res);
	if (e != COORD_OK)
		return e;
	*n = (size_t)PQntuples(res);
	*rows = coord_arena_alloc(arena, (*n ? *n : 1) * sizeof(**rows));
	for (size_t i = 0; i < *n; i++) {
		struct coord_token_row *t = &(*rows)[i];
		int row = (int)i;
		t->worker_name = opt(arena, res, row, 0);
		snprintf(t->hash_prefix, sizeof(t->hash_prefix), "%s", PQgetvalue(res, row, 1));
		t->is_active = strcmp(PQgetvalue(res, row, 2), "t") == 0;
		t->created_at = opt(arena, res, row, 3);
		t->last_used_at = opt(arena, res, row, 4);
		t->last_attestation_at = opt(arena, res, row, 5);
	}
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_tokens_revoke_name(struct coord_db *db, const char *name, size_t *count)
{
	PGresult *res;
	const char *p[] = { name };
	enum coord_err e = coord_db_exec(db, &stmts[AUTH_REVOKE_NAME], 1, p, &res);
	if (e != COORD_OK)
		return e;
	*count = (size_t)strtoul(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return *count ? COORD_OK : COORD_ERR_NOT_FOUND;
}

enum coord_err coord_tokens_revoke_prefix(struct coord_db *db, const char *prefix)
{
	PGresult *res;
	const char *p[] = { prefix };
	enum coord_err e = coord_db_exec(db, &stmts[AUTH_MATCH_PREFIX], 1, p, &res);
	if (e != COORD_OK)
		return e;
	int rows = PQntuples(res);
	char hash[65] = "";
	if (rows == 1)
		snprintf(hash, sizeof(hash), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (rows == 0)
		return COORD_ERR_NOT_FOUND;
	if (rows > 1)
		return COORD_ERR_CONFLICT;
	const char *q[] = { hash };
	e = coord_db_exec(db, &stmts[AUTH_REVOKE_HASH], 1, q, NULL);
	return e;
}
