/*
 * PostgreSQL, one connection per thread (SPEC §0.4). Every statement is a
 * row of a statement table (struct coord_stmt) owned by a domain module;
 * all tables listed in coord_statements.c are prepared when a connection
 * opens, once its schema version check has passed, and run with
 * PQexecPrepared. After a connection failure the next coord_db_ready()
 * reconnects and prepares everything again.
 */
#ifndef COORD_DB_H
#define COORD_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "coord_err.h"

struct coord_stmt {
	const char *name; /* unique across all tables: "<module>_<what>" */
	const char *sql;
};

struct coord_stmt_table {
	const struct coord_stmt *stmts;
	const size_t *n;
};

/* Every domain module's table (lib/coord_statements.c). */
extern const struct coord_stmt_table coord_stmt_tables[];
extern const size_t coord_n_stmt_tables;

struct coord_db;

/*
 * check_schema: compare max(schema_migrations.version) with the version
 * this binary was built for and prepare the statement tables; false is for
 * coord-migrate only, which runs statements unprepared.
 */
struct coord_db *coord_db_new(const char *conninfo, bool check_schema);
void coord_db_free(struct coord_db *db);

/*
 * Connects if needed (once per call), checks the schema and prepares.
 * COORD_ERR_UNAVAILABLE: unreachable; COORD_ERR_SCHEMA: schema outdated.
 */
enum coord_err coord_db_ready(struct coord_db *db);

/*
 * Runs a statement with text parameters (NULL = SQL NULL). On COORD_OK
 * *res holds the result (caller PQclear()s it); res NULL discards it. COORD_ERR_UNAVAILABLE
 * when the connection broke (it is reopened by the next coord_db_ready),
 * COORD_ERR_CONFLICT on a unique or check violation or a serialization
 * failure (see coord_db_sqlstate), COORD_ERR_RANGE on a numeric overflow
 * (22003: a money sum reaching 10^38, SPEC §1.4), COORD_ERR_INTERNAL
 * otherwise (logged).
 */
enum coord_err coord_db_exec(struct coord_db *db, const struct coord_stmt *st, int nparams,
			     const char *const *params, PGresult **res);
/*
 * Same, with binary parameters: lengths[i] >= 0 sends parameter i in binary
 * format with that many bytes (BYTEA: the raw bytes; the statement gives
 * its type, e.g. $5::bytea), lengths[i] < 0 sends it as text. NULL
 * lengths: every parameter is text.
 */
#define COORD_DB_MAX_PARAMS 32
enum coord_err coord_db_exec_len(struct coord_db *db, const struct coord_stmt *st, int nparams,
				 const char *const *params, const int *lengths, PGresult **res);

/*
 * Rows a serving program keeps in memory (worker tokens, lib/coord_auth.c; WASM fingerprints,
 * lib/coord_wasmmem.c) are forgotten when they change: triggers (sql/007_token_cache.sql,
 * sql/009_wasm_memory.sql) send NOTIFY on COORD_DB_CACHE_CHANNEL with the payload "<table>"
 * (forget every row of it) or "<table>:<key>" (forget one), and every connection LISTENs once
 * prepared. Each kind of memory is a row of coord_db_memories[] (lib/coord_statements.c):
 * - forget(key) is called for each notification of its table, key NULL for every row;
 * - listening() is called each time a connection has been (re)opened and LISTENs again: what
 *   changed before was not notified to it, so its thread must not trust what was remembered
 *   before.
 * Both run on the thread that owns the connection, which may not be the only thread using
 * the memory: a memory shared by the threads of a process takes its own lock.
 */
#define COORD_DB_CACHE_CHANNEL "coord_cache_invalidate"
struct coord_db_memory {
	const char *table;
	void (*forget)(const char *key);
	void (*listening)(void);
};
extern const struct coord_db_memory coord_db_memories[];
extern const size_t coord_n_db_memories;

/*
 * Hands the notifications the server has already sent to the forget functions, without
 * blocking (coord_db_ready does it too). Call it before using remembered rows; false when
 * the connection is not listening (closed, or being closed by the server): then remembered
 * rows may be stale, and the next coord_db_ready reconnects.
 */
bool coord_db_notifications(struct coord_db *db);

/* An integer column of a text-format result; 0 for NULL (or a value that is not one). */
int64_t coord_db_i64(const PGresult *res, int row, int col);

/*
 * The value of a BYTEA column of a text-format result, decoded into arena
 * (NUL-terminated for convenience); *len gets its length. NULL when the
 * value is SQL NULL or undecodable.
 */
struct coord_arena;
unsigned char *coord_db_bytea(const PGresult *res, int row, int col, struct coord_arena *arena,
			      size_t *len);

/* Transactions on the thread's connection. */
enum coord_err coord_db_begin(struct coord_db *db);
/* BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY: one snapshot until the commit. */
enum coord_err coord_db_begin_snapshot(struct coord_db *db);
enum coord_err coord_db_commit(struct coord_db *db);
void coord_db_rollback(struct coord_db *db);

/* SQLSTATE of the last failed statement ("" if none). */
const char *coord_db_sqlstate(const struct coord_db *db);
/*
 * Whether the last statement failed with a deadlock (40P01) or a
 * serialization failure (40001): PostgreSQL rolled its transaction back,
 * and the whole transaction may be run again from its BEGIN.
 */
bool coord_db_transient(const struct coord_db *db);
/*
 * Whether a transaction that ended with e is to be run again: e is the
 * COORD_ERR_CONFLICT of a deadlock or serialization failure and fewer than
 * COORD_DB_TX_ATTEMPTS runs were made (*attempts counts them, start at 0).
 * Rolls back and logs an info line (an error line when it gives up). Usage:
 *	int attempts = 0;
 *	do e = one_transaction(db, ...); while (coord_db_retry(db, e, &attempts));
 */
#define COORD_DB_TX_ATTEMPTS 3
bool coord_db_retry(struct coord_db *db, enum coord_err e, int *attempts);
/* Milliseconds spent in the database since the last call (request logs). */
int64_t coord_db_take_ms(struct coord_db *db);
/* Runs a whole script (migrations) in the simple protocol. */
enum coord_err coord_db_exec_script(struct coord_db *db, const char *sql, char *err, size_t errlen);

#endif
