#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_crypto.h"
#include "coord_int.h"
#include "coord_parse.h"
#include "coord_tee.h"
#include "banned.h"

enum {
	TEE_SESSION_VALID,
	TEE_CHALLENGE_NEW,
	TEE_CHALLENGE_TAKE,
	TEE_SESSIONS_DEACTIVATE,
	TEE_SESSION_INSERT,
	TEE_CLEAN_CHALLENGES,
	TEE_EXPIRE_SESSIONS,
	TEE_CLEAN_SESSIONS,
	TEE_COUNT_CLEANUP,
};

const struct coord_stmt coord_tee_stmts[] = {
	[TEE_SESSION_VALID] = { "tee_session_valid",
		"SELECT 1 FROM worker_tee_sessions WHERE session_id = $1::uuid AND is_active "
		"AND expires_at > now() AND token_hash = $2" },
	[TEE_CHALLENGE_NEW] = { "tee_challenge_new",
		"INSERT INTO tee_challenges (challenge, token_hash) VALUES ($1, $2)" },
	[TEE_CHALLENGE_TAKE] = { "tee_challenge_take",
		"DELETE FROM tee_challenges WHERE challenge = $1 AND token_hash = $2 "
		"RETURNING created_at < now() - interval '60 seconds'" },
	[TEE_SESSIONS_DEACTIVATE] = { "tee_sessions_deactivate",
		"UPDATE worker_tee_sessions SET is_active = false "
		"WHERE token_hash = $1 AND worker_public_key = $2 AND is_active" },
	[TEE_SESSION_INSERT] = { "tee_session_insert",
		"INSERT INTO worker_tee_sessions (token_hash, worker_public_key, expires_at) "
		"VALUES ($1, $2, now() + make_interval(secs => $3::int)) "
		"RETURNING session_id, " COORD_SQL_TS("expires_at") },
	[TEE_CLEAN_CHALLENGES] = { "tee_clean_challenges",
		"DELETE FROM tee_challenges WHERE challenge IN (SELECT challenge FROM tee_challenges "
		"WHERE created_at < now() - interval '1 hour' LIMIT 500)" },
	[TEE_EXPIRE_SESSIONS] = { "tee_expire_sessions",
		"UPDATE worker_tee_sessions SET is_active = false WHERE session_id IN (SELECT session_id "
		"FROM worker_tee_sessions WHERE is_active AND expires_at < now() LIMIT 500)" },
	[TEE_CLEAN_SESSIONS] = { "tee_clean_sessions",
		"DELETE FROM worker_tee_sessions WHERE session_id IN (SELECT session_id "
		"FROM worker_tee_sessions WHERE NOT is_active AND expires_at < now() - interval '7 days' "
		"LIMIT 500)" },
	[TEE_COUNT_CLEANUP] = { "tee_count_cleanup",
		"SELECT (SELECT count(*) FROM tee_challenges WHERE created_at < now() - interval '1 hour'), "
		"(SELECT count(*) FROM worker_tee_sessions WHERE is_active AND expires_at < now()), "
		"(SELECT count(*) FROM worker_tee_sessions WHERE (NOT is_active OR expires_at < now()) "
		"  AND expires_at < now() - interval '7 days')" },
};
const size_t coord_tee_nstmts = sizeof(coord_tee_stmts) / sizeof(coord_tee_stmts[0]);

enum coord_err coord_tee_session_valid(struct coord_db *db, const char *header,
				       const char *token_hash, bool *valid)
{
	PGresult *res;
	*valid = false;
	if (!header || !coord_uuid_valid(header, strlen(header)))
		return COORD_OK;
	const char *p[] = { header, token_hash };
	enum coord_err e = coord_db_exec(db, &coord_tee_stmts[TEE_SESSION_VALID], 2, p, &res);
	if (e != COORD_OK)
		return e;
	*valid = PQntuples(res) == 1;
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_tee_challenge_new(struct coord_db *db, const char *token_hash,
				       char out[static 65])
{
	enum coord_err e = coord_random_hex(32, out);
	if (e != COORD_OK)
		return e;
	const char *p[] = { out, token_hash };
	return coord_db_exec(db, &coord_tee_stmts[TEE_CHALLENGE_NEW], 2, p, NULL);
}

enum coord_err coord_tee_challenge_take(struct coord_db *db, const char *challenge,
					const char *token_hash, bool *expired)
{
	PGresult *res;
	const char *p[] = { challenge, token_hash };
	enum coord_err e = coord_db_exec(db, &coord_tee_stmts[TEE_CHALLENGE_TAKE], 2, p, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 0)
		e = COORD_ERR_NOT_FOUND;
	else
		*expired = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return e;
}

enum coord_err coord_tee_session_open(struct coord_db *db, const char *token_hash,
				      const char *public_key, int64_t ttl,
				      char session_id[static 37], char expires_at[static 32])
{
	char secs[24];
	PGresult *res = NULL;
	snprintf(secs, sizeof(secs), "%lld", (long long)ttl);
	const char *pd[] = { token_hash, public_key };
	const char *pi[] = { token_hash, public_key, secs };
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	if ((e = coord_db_exec(db, &coord_tee_stmts[TEE_SESSIONS_DEACTIVATE], 2, pd, NULL)) == COORD_OK &&
	    (e = coord_db_exec(db, &coord_tee_stmts[TEE_SESSION_INSERT], 3, pi, &res)) == COORD_OK) {
		snprintf(session_id, 37, "%s", PQgetvalue(res, 0, 0));
		snprintf(expires_at, 32, "%s", PQgetvalue(res, 0, 1));
		PQclear(res);
		e = coord_db_commit(db);
	}
	if (e != COORD_OK)
		coord_db_rollback(db);
	return e;
}

/* Runs a batch statement until it changes no row; adds the rows changed. */
static enum coord_err drain(struct coord_db *db, int which, long *count)
{
	for (;;) {
		PGresult *res;
		enum coord_err e = coord_db_exec(db, &coord_tee_stmts[which], 0, NULL, &res);
		if (e != COORD_OK)
			return e;
		long n = strtol(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		*count += n;
		if (n == 0)
			return COORD_OK;
	}
}

enum coord_err coord_tee_cleanup(struct coord_db *db, bool dry_run,
				 struct coord_tee_cleanup_counts *n)
{
	memset(n, 0, sizeof(*n));
	if (dry_run) {
		PGresult *res;
		enum coord_err e = coord_db_exec(db, &coord_tee_stmts[TEE_COUNT_CLEANUP], 0, NULL, &res);
		if (e != COORD_OK)
			return e;
		n->challenges_deleted = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		n->sessions_expired = strtol(PQgetvalue(res, 0, 1), NULL, 10);
		n->sessions_deleted = strtol(PQgetvalue(res, 0, 2), NULL, 10);
		PQclear(res);
		return COORD_OK;
	}
	enum coord_err e = drain(db, TEE_CLEAN_CHALLENGES, &n->challenges_deleted);
	if (e == COORD_OK)
		e = drain(db, TEE_EXPIRE_SESSIONS, &n->sessions_expired);
	if (e == COORD_OK)
		e = drain(db, TEE_CLEAN_SESSIONS, &n->sessions_deleted);
	return e;
}
