#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coord_int.h"
#include "coord_maint.h"
#include "banned.h"

const struct coord_stmt coord_maint_stmts[] = {
	{ "maint_try_lock", "SELECT pg_try_advisory_lock($1::bigint)" },
	{ "maint_unlock", "SELECT pg_advisory_unlock($1::bigint)" },
};
const size_t coord_maint_nstmts = sizeof(coord_maint_stmts) / sizeof(coord_maint_stmts[0]);

enum coord_err coord_maint_try_lock(struct coord_db *db, int64_t id, bool *got)
{
	char text[24];
	PGresult *res;
	snprintf(text, sizeof(text), "%lld", (long long)id);
	const char *p[] = { text };
	enum coord_err e = coord_db_exec(db, &coord_maint_stmts[0], 1, p, &res);
	if (e != COORD_OK)
		return e;
	*got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_maint_lock_wait(struct coord_db *db, int64_t id, int wait_seconds)
{
	for (int tries = 0; tries <= wait_seconds * 4; tries++) {
		bool got;
		enum coord_err e = coord_maint_try_lock(db, id, &got);
		if (e != COORD_OK || got)
			return e;
		struct timespec ts = { 0, 250 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return COORD_ERR_CONFLICT;
}

enum coord_err coord_maint_unlock(struct coord_db *db, int64_t id)
{
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)id);
	const char *p[] = { text };
	return coord_db_exec(db, &coord_maint_stmts[1], 1, p, NULL);
}
