/* Every statement table, prepared on each connection, and every memory of rows (coord_db.c). */
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
	TABLE(wasmmem),
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
	TABLE(storage),
	TABLE(callbacks),
	TABLE(billing),
	TABLE(idem),
	TABLE(metrics),
};
const size_t coord_n_stmt_tables = sizeof(coord_stmt_tables) / sizeof(coord_stmt_tables[0]);

const struct coord_db_memory coord_db_memories[] = {
	{ "worker_auth_tokens", coord_auth_forget, coord_auth_listening },
	{ "wasm_cache", coord_wasmmem_forget, coord_wasmmem_listening },
};
const size_t coord_n_db_memories = sizeof(coord_db_memories) / sizeof(coord_db_memories[0]);
