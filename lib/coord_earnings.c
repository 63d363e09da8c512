#include <stdio.h>
#include <stdlib.h>

#include "coord_earnings.h"
#include "coord_int.h"
#include "coord_rows.h"
#include "banned.h"

enum { EARN_OWNER, EARN_HISTORY, EARN_HISTORY_COUNT };

const struct coord_stmt coord_earnings_stmts[] = {
	/* always one row */
	[EARN_OWNER] = { "earnings_owner",
		"SELECT q.owner, coalesce(e.balance, 0)::text, coalesce(e.total_earned, 0)::text, "
		COORD_SQL_TS("e.updated_at") " FROM (SELECT $1::text AS owner) q "
		"LEFT JOIN project_owner_earnings e ON e.project_owner = q.owner" },
	[EARN_HISTORY] = { "earnings_history",
		"SELECT id, project_id, attached_usd::text, refund_usd::text, amount::text, source, "
		"tx_hash, caller, request_id, call_id, payment_key_owner, payment_key_nonce, "
		COORD_SQL_TS("created_at") " FROM earnings_history "
		"WHERE project_owner = $1 AND ($2::text IS NULL OR source = $2) "
		"ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4" },
	[EARN_HISTORY_COUNT] = { "earnings_history_count",
		"SELECT count(*) FROM earnings_history "
		"WHERE project_owner = $1 AND ($2::text IS NULL OR source = $2)" },
};
const size_t coord_earnings_nstmts = sizeof(coord_earnings_stmts) / sizeof(coord_earnings_stmts[0]);

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

enum coord_err coord_earnings_owner(struct coord_db *db, const char *owner, json_object **out)
{
	static const struct coord_col cols[] = {
		{ "project_owner", COORD_COL_STR, false },
		{ "balance", COORD_COL_MONEY, false },
		{ "total_earned", COORD_COL_MONEY, false },
		{ "updated_at", COORD_COL_STR, false },
	};
	PGresult *res;
	const char *p[] = { owner };
	*out = NULL;
	enum coord_err e = coord_db_exec(db, &coord_earnings_stmts[EARN_OWNER], 1, p, &res);
	if (e != COORD_OK)
		return e;
	*out = coord_row_json(res, 0, cols, NCOLS(cols));
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_earnings_history(struct coord_db *db, const char *owner, const char *source,
				      int64_t limit, int64_t offset, json_object **out)
{
	static const struct coord_col cols[] = {
		{ "id", COORD_COL_INT, false },
		{ "project_id", COORD_COL_STR, false },
		{ "attached_usd", COORD_COL_MONEY, false },
		{ "refund_usd", COORD_COL_MONEY, false },
		{ "amount", COORD_COL_MONEY, false },
		{ "source", COORD_COL_STR, false },
		{ "tx_hash", COORD_COL_STR, true },
		{ "caller", COORD_COL_STR, true },
		{ "request_id", COORD_COL_INT, true },
		{ "call_id", COORD_COL_STR, true },
		{ "payment_key_owner", COORD_COL_STR, true },
		{ "payment_key_nonce", COORD_COL_INT, true },
		{ "created_at", COORD_COL_STR, false },
	};
	char l[24], o[24];
	PGresult *rows = NULL, *count = NULL;
	snprintf(l, sizeof(l), "%lld", (long long)limit);
	snprintf(o, sizeof(o), "%lld", (long long)offset);
	const char *p[] = { owner, source, l, o };
	*out = NULL;
	enum coord_err e = coord_db_exec(db, &coord_earnings_stmts[EARN_HISTORY], 4, p, &rows);
	if (e == COORD_OK)
		e = coord_db_exec(db, &coord_earnings_stmts[EARN_HISTORY_COUNT], 2, p, &count);
	if (e == COORD_OK) {
		*out = json_object_new_object();
		json_object_object_add(*out, "project_owner", json_object_new_string(owner));
		json_object_object_add(*out, "earnings", coord_rows_json(rows, cols, NCOLS(cols)));
		json_object_object_add(*out, "total_count",
				       json_object_new_int64(strtoll(PQgetvalue(count, 0, 0), NULL, 10)));
	}
	PQclear(rows);
	PQclear(count);
	return e;
}
