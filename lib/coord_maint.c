#include <signal.h>
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

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void coord_maint_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART; /* a statement in flight completes; the loop stops after it */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

bool coord_maint_interrupted(void)
{
	return interrupted != 0;
}

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
