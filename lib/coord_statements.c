/* Every statement table, prepared on each connection (coord_db.c). */
#include "coord_int.h"
#include "banned.h"

#define TABLE(module) { coord_##module##_stmts, &coord_##module##_nstmts }

const struct coord_stmt_table coord_stmt_tables[] = {
	TABLE(auth),
	TABLE(workers),
	TABLE(health),
	TABLE(pricing),
	TABLE(queue),
	TABLE(wasmcache),
	TABLE(executions),
	TABLE(jobs),
	TABLE(tee),
	TABLE(logs),
	TABLE(stats),
	TABLE(maint),
	TABLE(reaper),
	TABLE(attest),
	TABLE(paykeys),
	TABLE(earnings),
	TABLE(audit),
	TABLE(projects),
};
const size_t coord_n_stmt_tables = sizeof(coord_stmt_tables) / sizeof(coord_stmt_tables[0]);
