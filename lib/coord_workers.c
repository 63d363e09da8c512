#include <string.h>

#include "coord_int.h"
#include "coord_parse.h"
#include "coord_workers.h"
#include "banned.h"

enum { WORKERS_BLOCK_CURSOR, WORKERS_DELETE };

const struct coord_stmt coord_workers_stmts[] = {
	[WORKERS_BLOCK_CURSOR] = { "workers_block_cursor",
		"SELECT max(event_monitor_block_height) FROM worker_status" },
	[WORKERS_DELETE] = { "workers_delete", "DELETE FROM worker_status WHERE worker_id = $1" },
};
const size_t coord_workers_nstmts = sizeof(coord_workers_stmts) / sizeof(coord_workers_stmts[0]);

enum coord_err coord_workers_block_cursor(struct coord_db *db, bool *has, int64_t *height)
{
	PGresult *res;
	enum coord_err e = coord_db_exec(db, &coord_workers_stmts[WORKERS_BLOCK_CURSOR], 0, NULL, &res);
	if (e != COORD_OK)
		return e;
	*has = !PQgetisnull(res, 0, 0);
	if (*has) {
		const char *v = PQgetvalue(res, 0, 0);
		e = coord_parse_i64(v, strlen(v), INT64_MIN, INT64_MAX, height) == COORD_OK
			? COORD_OK : COORD_ERR_INTERNAL;
	}
	PQclear(res);
	return e;
}

enum coord_err coord_workers_delete(struct coord_db *db, const char *worker_id)
{
	PGresult *res;
	const char *p[] = { worker_id };
	enum coord_err e = coord_db_exec(db, &coord_workers_stmts[WORKERS_DELETE], 1, p, &res);
	if (e != COORD_OK)
		return e;
	if (strcmp(PQcmdTuples(res), "0") == 0)
		e = COORD_ERR_NOT_FOUND;
	PQclear(res);
	return e;
}
