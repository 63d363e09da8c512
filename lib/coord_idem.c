#include <stdio.h>
#include <string.h>

#include "coord_buf.h"
#include "coord_crypto.h"
#include "coord_idem.h"
#include "coord_int.h"
#include "banned.h"

enum { I_INSERT, I_GET, I_REPLACE, I_ATTACH, I_STORE, I_FORGET };

const struct coord_stmt coord_idem_stmts[] = {
	[I_INSERT] = { "idem_insert",
		"INSERT INTO idempotency_keys (owner, nonce, idem_key, fingerprint, state) "
		"VALUES ($1, $2::bigint, $3, $4, 'in_flight') ON CONFLICT DO NOTHING RETURNING 1" },
	[I_GET] = { "idem_get",
		"SELECT fingerprint, state, call_id, response_status, response_content_type, "
		"response_body, created_at < now() - make_interval(secs => $4::int) "
		"FROM idempotency_keys WHERE owner = $1 AND nonce = $2::bigint AND idem_key = $3" },
	/* an orphan without a call: replaced, only if it is still that orphan */
	[I_REPLACE] = { "idem_replace",
		"UPDATE idempotency_keys SET fingerprint = $4, created_at = now(), completed_at = NULL "
		"WHERE owner = $1 AND nonce = $2::bigint AND idem_key = $3 AND state = 'in_flight' "
		"AND call_id IS NULL AND created_at < now() - make_interval(secs => $5::int) RETURNING 1" },
	[I_ATTACH] = { "idem_attach",
		"UPDATE idempotency_keys SET call_id = $4::uuid "
		"WHERE owner = $1 AND nonce = $2::bigint AND idem_key = $3" },
	[I_STORE] = { "idem_store",
		"UPDATE idempotency_keys SET state = 'done', response_status = $4::int, "
		"response_content_type = $5, response_body = $6::bytea, completed_at = now() "
		"WHERE owner = $1 AND nonce = $2::bigint AND idem_key = $3" },
	[I_FORGET] = { "idem_forget",
		"DELETE FROM idempotency_keys WHERE owner = $1 AND nonce = $2::bigint "
		"AND idem_key = $3 AND state = 'in_flight'" },
};
const size_t coord_idem_nstmts = sizeof(coord_idem_stmts) / sizeof(coord_idem_stmts[0]);

void coord_idem_fingerprint(const char *path, const char *compute_limit, const char *deposit,
			    const char *wallet_id, const char *body, size_t body_len,
			    char out[static 65])
{
	struct coord_buf b;
	coord_buf_init(&b);
	coord_buf_addf(&b, "POST\n%s\n%s\n%s\n%s\n", path, compute_limit, deposit,
		       wallet_id ? wallet_id : "");
	coord_buf_add(&b, body, body_len);
	coord_sha256_hex(b.ptr ? b.ptr : "", b.len, out);
	coord_buf_release(&b);
}

enum coord_err coord_idem_begin(struct coord_db *db, const struct coord_config *cfg,
				const char *owner, int64_t nonce, const char *key,
				const char *fingerprint, struct coord_arena *arena,
				struct coord_idem_hit *hit)
{
	char n[24], age[24];
	PGresult *res = NULL;
	snprintf(n, sizeof(n), "%lld", (long long)nonce);
	snprintf(age, sizeof(age), "%lld", (long long)(cfg->https_call_timeout_seconds + 60));
	memset(hit, 0, sizeof(*hit));
	const char *p[] = { owner, n, key, fingerprint, age };
	enum coord_err e = coord_db_exec(db, &coord_idem_stmts[I_INSERT], 4, p, &res);
	if (e != COORD_OK)
		return e;
	bool inserted = PQntuples(res) == 1;
	PQclear(res);
	if (inserted) {
		hit->state = COORD_IDEM_PROCEED;
		return COORD_OK;
	}
	const char *pg[] = { owner, n, key, age };
	if ((e = coord_db_exec(db, &coord_idem_stmts[I_GET], 4, pg, &res)) != COORD_OK)
		return e;
	if (PQntuples(res) == 0) { /* deleted meanwhile: a conflict the client may retry */
		PQclear(res);
		hit->state = COORD_IDEM_IN_FLIGHT;
		return COORD_OK;
	}
	bool done = strcmp(PQgetvalue(res, 0, 1), "done") == 0;
	bool old = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	if (strcmp(PQgetvalue(res, 0, 0), fingerprint) != 0) {
		hit->state = COORD_IDEM_REUSED;
	} else if (done) {
		hit->state = COORD_IDEM_REPLAY;
		hit->status = (int)coord_db_i64(res, 0, 3);
		hit->content_type = coord_arena_strdup(arena, PQgetvalue(res, 0, 4));
		hit->body = (const char *)coord_db_bytea(res, 0, 5, arena, &hit->body_len);
		if (!hit->body) {
			hit->body = "";
			hit->body_len = 0;
		}
	} else if (!old) {
		hit->state = COORD_IDEM_IN_FLIGHT;
	} else if (!PQgetisnull(res, 0, 2)) {
		hit->state = COORD_IDEM_ORPHAN;
		snprintf(hit->call_id, sizeof(hit->call_id), "%s", PQgetvalue(res, 0, 2));
	} else {
		PQclear(res);
		if ((e = coord_db_exec(db, &coord_idem_stmts[I_REPLACE], 5, p, &res)) != COORD_OK)
			return e;
		hit->state = PQntuples(res) == 1 ? COORD_IDEM_PROCEED : COORD_IDEM_IN_FLIGHT;
	}
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_idem_attach(struct coord_db *db, const char *owner, int64_t nonce,
				 const char *key, const char *call_id)
{
	char n[24];
	snprintf(n, sizeof(n), "%lld", (long long)nonce);
	const char *p[] = { owner, n, key, call_id };
	return coord_db_exec(db, &coord_idem_stmts[I_ATTACH], 4, p, NULL);
}

enum coord_err coord_idem_store(struct coord_db *db, const char *owner, int64_t nonce,
				const char *key, int status, const char *content_type,
				const char *body, size_t len)
{
	char n[24], st[16];
	snprintf(n, sizeof(n), "%lld", (long long)nonce);
	snprintf(st, sizeof(st), "%d", status);
	const char *p[] = { owner, n, key, st, content_type, body };
	const int lengths[] = { -1, -1, -1, -1, -1, (int)len };
	return coord_db_exec_len(db, &coord_idem_stmts[I_STORE], 6, p, lengths, NULL);
}

enum coord_err coord_idem_forget(struct coord_db *db, const char *owner, int64_t nonce,
				 const char *key)
{
	char n[24];
	snprintf(n, sizeof(n), "%lld", (long long)nonce);
	const char *p[] = { owner, n, key };
	return coord_db_exec(db, &coord_idem_stmts[I_FORGET], 3, p, NULL);
}
