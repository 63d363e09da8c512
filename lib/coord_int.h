/*
 * Declarations private to lib/: the statement tables of the modules,
 * gathered by coord_statements.c. fcgi/ and bin/ never include this.
 */
#ifndef COORD_INT_H
#define COORD_INT_H

#include <stddef.h>

#include "coord_db.h"

#define COORD_SQL_TS(col) "to_char(" col ", 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define COORD_DECLARE_STMTS(module)                                  \
	extern const struct coord_stmt coord_##module##_stmts[];     \
	extern const size_t coord_##module##_nstmts

COORD_DECLARE_STMTS(auth);
COORD_DECLARE_STMTS(workers);
COORD_DECLARE_STMTS(health);
COORD_DECLARE_STMTS(pricing);
COORD_DECLARE_STMTS(queue);
COORD_DECLARE_STMTS(wasmcache);
COORD_DECLARE_STMTS(wasmmem);
COORD_DECLARE_STMTS(executions);
COORD_DECLARE_STMTS(jobs);
COORD_DECLARE_STMTS(tee);
COORD_DECLARE_STMTS(logs);
COORD_DECLARE_STMTS(stats);
COORD_DECLARE_STMTS(maint);
COORD_DECLARE_STMTS(reaper);
COORD_DECLARE_STMTS(attest);
COORD_DECLARE_STMTS(paykeys);
COORD_DECLARE_STMTS(earnings);
COORD_DECLARE_STMTS(audit);
COORD_DECLARE_STMTS(projects);
COORD_DECLARE_STMTS(storage);
COORD_DECLARE_STMTS(callbacks);
COORD_DECLARE_STMTS(billing);
COORD_DECLARE_STMTS(idem);
COORD_DECLARE_STMTS(metrics);

/* The memories of coord_db_memories (coord_db.h): key NULL forgets every row. */
void coord_auth_forget(const char *key);
void coord_auth_listening(void);
void coord_wasmmem_forget(const char *key);
void coord_wasmmem_listening(void);

/* 0..15 for a hex digit of either case, else -1 (lib/coord_parse.c). */
int coord_hex_value(unsigned char c);

#endif
