#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_codec.h"
#include "coord_db.h"
#include "coord_log.h"
#include "coord_mem.h"
#include "coord_parse.h"
#include "coord_schema_version.h"
#include "banned.h"

struct coord_db {
	char *conninfo;
	bool check_schema;
	PGconn *conn;
	bool prepared;
	bool idle_read;   /* reading what the server sent between statements */
	bool server_left; /* it sent a message then: it is closing the connection */
	bool in_tx;          /* between coord_db_begin and its commit or rollback */
	int tx_statements;   /* statements run in that transaction so far */
	const char *tx_begin; /* the BEGIN that opened it, sent again by a retry */
	char sqlstate[6];
	int64_t ms;
};

/* Bootstrap statements: run unprepared, before the schema check passes. */
static const char sql_has_migrations[] =
	"SELECT to_regclass('public.schema_migrations') IS NOT NULL";
static const char sql_schema_version[] =
	"SELECT coalesce(max(version), 0) FROM schema_migrations";

struct coord_db *coord_db_new(const char *conninfo, bool check_schema)
{
	struct coord_db *db = coord_xcalloc(1, sizeof(*db));
	db->conninfo = coord_xstrdup(conninfo);
	db->check_schema = check_schema;
	return db;
}

void coord_db_free(struct coord_db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

static void drop(struct coord_db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	db->prepared = false;
}

static void log_pg_error(const char *what, const char *msg)
{
	char line[512];
	snprintf(line, sizeof(line), "%s", msg ? msg : "");
	line[strcspn(line, "\n")] = '\0';
	coord_log(COORD_LOG_WARN, "postgresql: %s: %s", what, line);
}

/*
 * Server notices (e.g. "already exists, skipping") are not our diagnostics. Between
 * statements a server says nothing but notifications, unless it is about to close the
 * connection ("FATAL: terminating connection due to administrator command", or a warning
 * when another backend crashed): libpq hands that message to this function and keeps the
 * connection's status OK until it reads the end of the stream, maybe at the next request.
 */
static void on_notice(void *arg, const char *message)
{
	struct coord_db *db = arg;
	if (db->idle_read)
		db->server_left = true;
	coord_log(COORD_LOG_DEBUG, "postgresql notice: %s", message);
}

/* Reads what the server sent between statements; false when the connection is gone. */
static bool read_idle(struct coord_db *db)
{
	db->idle_read = true;
	/* PQconsumeInput only reads; PQisBusy parses what was read (notices reach on_notice) */
	bool ok = PQconsumeInput(db->conn) && !PQisBusy(db->conn) && !db->server_left &&
		  PQstatus(db->conn) == CONNECTION_OK;
	db->idle_read = false;
	return ok;
}

/* Clears the result of one step of a connection's setup; false (logged) if it failed. */
static bool setup_step_ok(PGresult *r, const char *what)
{
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		log_pg_error(what, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

static enum coord_err connect_db(struct coord_db *db)
{
	/* connect_timeout first: a value in the connection string overrides it */
	const char *keys[] = { "connect_timeout", "dbname", "fallback_application_name", NULL };
	const char *vals[] = { "5", db->conninfo, "coordinator", NULL };

	drop(db);
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		log_pg_error("connect", db->conn ? PQerrorMessage(db->conn) : "out of memory");
		drop(db);
		return COORD_ERR_UNAVAILABLE;
	}
	db->server_left = false;
	PQsetNoticeProcessor(db->conn, on_notice, db);
	if (!setup_step_ok(PQexec(db->conn, "SET TIME ZONE 'UTC'"), "set time zone")) {
		drop(db);
		return COORD_ERR_UNAVAILABLE;
	}
	return COORD_OK;
}

static enum coord_err scalar(struct coord_db *db, const char *sql, char *out, size_t size)
{
	PGresult *r = PQexecParams(db->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	enum coord_err status = COORD_ERR_UNAVAILABLE;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
		status = COORD_OK;
	} else if (PQstatus(db->conn) == CONNECTION_OK) {
		log_pg_error("schema check", PQresultErrorMessage(r));
		status = COORD_ERR_INTERNAL;
	}
	PQclear(r);
	return status;
}

/* A setup step failed: the connection is dropped, to be opened and set up again. */
static enum coord_err setup_failed(struct coord_db *db)
{
	bool down = PQstatus(db->conn) != CONNECTION_OK;
	drop(db);
	return down ? COORD_ERR_UNAVAILABLE : COORD_ERR_INTERNAL;
}

/* Calls the forget function of the memory of table (len bytes) with key. */
static void forget(const char *table, size_t len, const char *key)
{
	for (size_t i = 0; i < coord_n_db_memories; i++) {
		const struct coord_db_memory *m = &coord_db_memories[i];
		if (strlen(m->table) == len && memcmp(m->table, table, len) == 0)
			m->forget(key);
	}
}

static void dispatch_notifications(struct coord_db *db)
{
	PGnotify *n;
	while ((n = PQnotifies(db->conn)) != NULL) {
		if (strcmp(n->relname, COORD_DB_CACHE_CHANNEL) == 0) {
			const char *colon = strchr(n->extra, ':');
			size_t len = colon ? (size_t)(colon - n->extra) : strlen(n->extra);
			forget(n->extra, len, colon ? colon + 1 : NULL);
		}
		PQfreemem(n);
	}
}

/* Reads the result of one step of a pipeline and the NULL that ends it; false (logged) if it
 * failed or the connection went away. */
static bool pipeline_step_ok(PGconn *conn, const char *what)
{
	PGresult *r = PQgetResult(conn);
	if (!r) {
		log_pg_error(what, PQerrorMessage(conn));
		return false;
	}
	return setup_step_ok(r, what) && PQgetResult(conn) == NULL;
}

/*
 * Prepares every statement of every table and listens on the cache channel in one pipeline:
 * one round trip and one transaction for the lot, not one of each per statement (a new
 * session's setup, 60-80 ms on the 2-core test machine, is 12-16 ms shorter this way). Any
 * failure leaves the connection to be dropped; the first failing statement is logged.
 */
static bool prepare_and_listen(PGconn *conn)
{
	bool ok = PQenterPipelineMode(conn);
	for (size_t t = 0; ok && t < coord_n_stmt_tables; t++) {
		const struct coord_stmt_table *tab = &coord_stmt_tables[t];
		for (size_t i = 0; ok && i < *tab->n; i++)
			ok = PQsendPrepare(conn, tab->stmts[i].name, tab->stmts[i].sql, 0, NULL);
	}
	ok = ok && PQsendQueryParams(conn, "LISTEN " COORD_DB_CACHE_CHANNEL, 0, NULL, NULL, NULL,
				     NULL, 0) &&
	     PQpipelineSync(conn);
	if (!ok) {
		log_pg_error("prepare", PQerrorMessage(conn));
		return false;
	}
	/* read in order up to the first failure, the one logged (the steps after it are aborted) */
	for (size_t t = 0; ok && t < coord_n_stmt_tables; t++) {
		const struct coord_stmt_table *tab = &coord_stmt_tables[t];
		for (size_t i = 0; ok && i < *tab->n; i++)
			ok = pipeline_step_ok(conn, tab->stmts[i].name);
	}
	if (!ok || !pipeline_step_ok(conn, "listen"))
		return false;
	PGresult *sync = PQgetResult(conn);
	ok = PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
	PQclear(sync);
	return ok && PQexitPipelineMode(conn);
}

static enum coord_err check_and_prepare(struct coord_db *db)
{
	char v[32];
	enum coord_err e = scalar(db, sql_has_migrations, v, sizeof(v));
	if (e != COORD_OK)
		return e;
	long version = 0;
	if (strcmp(v, "t") == 0) {
		e = scalar(db, sql_schema_version, v, sizeof(v));
		if (e != COORD_OK)
			return e;
		version = strtol(v, NULL, 10);
	}
	if (version < COORD_SCHEMA_VERSION)
		return COORD_ERR_SCHEMA;
	if (!prepare_and_listen(db->conn))
		return setup_failed(db);
	db->prepared = true;
	/* what changed while this connection did not listen was not notified to it */
	for (size_t i = 0; i < coord_n_db_memories; i++)
		coord_db_memories[i].listening();
	return COORD_OK;
}

enum coord_err coord_db_ready(struct coord_db *db)
{
	int64_t t0 = coord_monotonic_ms();
	enum coord_err e = COORD_OK;
	/* a server that went away said so or closed the socket: noticed without blocking */
	if (!db->conn || !read_idle(db))
		e = connect_db(db);
	if (e == COORD_OK && db->check_schema && !db->prepared) {
		e = check_and_prepare(db);
		if (e == COORD_ERR_UNAVAILABLE)
			drop(db);
	}
	if (e == COORD_OK && db->prepared)
		dispatch_notifications(db); /* PQconsumeInput has read them above */
	db->ms += coord_monotonic_ms() - t0;
	return e;
}

bool coord_db_notifications(struct coord_db *db)
{
	if (!db->conn || !db->prepared || !read_idle(db))
		return false;
	dispatch_notifications(db);
	return true;
}

static enum coord_err exec_once(struct coord_db *db, const struct coord_stmt *st, int nparams,
				const char *const *params, const int *lengths, PGresult **res)
{
	int64_t t0 = coord_monotonic_ms();
	int formats[COORD_DB_MAX_PARAMS];
	PGresult *r;
	if (res)
		*res = NULL;
	db->sqlstate[0] = '\0';
	if (!db->conn)
		return COORD_ERR_UNAVAILABLE;
	if (lengths) {
		if (nparams > COORD_DB_MAX_PARAMS) {
			log_pg_error(st->name, "too many binary parameters");
			return COORD_ERR_INTERNAL;
		}
		for (int i = 0; i < nparams; i++)
			formats[i] = lengths[i] >= 0;
	}
	const int *fmt = lengths ? formats : NULL;
	if (db->prepared)
		r = PQexecPrepared(db->conn, st->name, nparams, params, lengths, fmt, 0);
	else
		r = PQexecParams(db->conn, st->sql, nparams, NULL, params, lengths, fmt, 0);
	db->ms += coord_monotonic_ms() - t0;
	ExecStatusType s = PQresultStatus(r);
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return COORD_OK;
	}
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_pg_error(st->name, PQerrorMessage(db->conn));
		PQclear(r);
		drop(db);
		return COORD_ERR_UNAVAILABLE;
	}
	/* 23xxx integrity violations and 40001/40P01 are answers, not bugs */
	bool conflict = strncmp(db->sqlstate, "23", 2) == 0 || coord_db_transient(db);
	/* 22003: a sum that does not fit its NUMERIC(38,0) column (SPEC §1.4) */
	bool overflow = strcmp(db->sqlstate, "22003") == 0;
	if (!conflict && !overflow)
		log_pg_error(st->name, PQresultErrorMessage(r));
	PQclear(r);
	return conflict ? COORD_ERR_CONFLICT : overflow ? COORD_ERR_RANGE : COORD_ERR_INTERNAL;
}

static enum coord_err simple(struct coord_db *db, const char *sql)
{
	if (!db->conn)
		return COORD_ERR_UNAVAILABLE;
	int64_t t0 = coord_monotonic_ms();
	PGresult *r = PQexec(db->conn, sql);
	db->ms += coord_monotonic_ms() - t0;
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
		log_pg_error(sql, PQresultErrorMessage(r));
	}
	PQclear(r);
	if (ok)
		return COORD_OK;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		drop(db);
		return COORD_ERR_UNAVAILABLE;
	}
	return coord_db_transient(db) ? COORD_ERR_CONFLICT : COORD_ERR_INTERNAL;
}

/*
 * SPEC §0.4: a connection lost under a statement outside a transaction, or
 * under the first statement of one, is reopened (the transaction begun
 * again) and the statement sent once more. Later statements of a
 * transaction are never retried.
 */
enum coord_err coord_db_exec_len(struct coord_db *db, const struct coord_stmt *st, int nparams,
				 const char *const *params, const int *lengths, PGresult **res)
{
	bool retryable = db->conn && (!db->in_tx || db->tx_statements == 0);
	enum coord_err e = exec_once(db, st, nparams, params, lengths, res);
	if (e == COORD_ERR_UNAVAILABLE && retryable && coord_db_ready(db) == COORD_OK &&
	    (!db->in_tx || simple(db, db->tx_begin) == COORD_OK))
		e = exec_once(db, st, nparams, params, lengths, res);
	if (e == COORD_OK && db->in_tx)
		db->tx_statements++;
	return e;
}

enum coord_err coord_db_exec(struct coord_db *db, const struct coord_stmt *st, int nparams,
			     const char *const *params, PGresult **res)
{
	return coord_db_exec_len(db, st, nparams, params, NULL, res);
}

int64_t coord_db_i64(const PGresult *res, int row, int col)
{
	int64_t v = 0;
	const char *s = PQgetvalue(res, row, col);
	if (coord_parse_i64(s, strlen(s), INT64_MIN, INT64_MAX, &v) != COORD_OK)
		return 0;
	return v;
}

unsigned char *coord_db_bytea(const PGresult *res, int row, int col, struct coord_arena *arena,
			      size_t *len)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	const char *v = PQgetvalue(res, row, col);
	size_t n = (size_t)PQgetlength(res, row, col);
	if (n >= 2 && v[0] == '\\' && v[1] == 'x' && n % 2 == 0) {
		unsigned char *out = coord_arena_alloc(arena, (n - 2) / 2 + 1);
		if (coord_hex_decode(v + 2, n - 2, out, (n - 2) / 2) != COORD_OK)
			return NULL;
		*len = (n - 2) / 2;
		out[*len] = '\0';
		return out;
	}
	/* bytea_output = escape */
	size_t got;
	unsigned char *tmp = PQunescapeBytea((const unsigned char *)v, &got);
	if (!tmp)
		return NULL;
	unsigned char *out = coord_arena_alloc(arena, got + 1);
	memcpy(out, tmp, got);
	out[got] = '\0';
	PQfreemem(tmp);
	*len = got;
	return out;
}

static enum coord_err begin(struct coord_db *db, const char *sql)
{
	bool retryable = db->conn != NULL;
	enum coord_err e = simple(db, sql);
	if (e == COORD_ERR_UNAVAILABLE && retryable && coord_db_ready(db) == COORD_OK)
		e = simple(db, sql); /* SPEC §0.4: BEGIN runs outside a transaction */
	db->in_tx = e == COORD_OK;
	db->tx_statements = 0;
	db->tx_begin = sql;
	return e;
}

enum coord_err coord_db_begin(struct coord_db *db)
{
	return begin(db, "BEGIN");
}

enum coord_err coord_db_begin_snapshot(struct coord_db *db)
{
	return begin(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

enum coord_err coord_db_commit(struct coord_db *db)
{
	db->in_tx = false;
	return simple(db, "COMMIT");
}

void coord_db_rollback(struct coord_db *db)
{
	db->in_tx = false;
	if (db->conn && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		simple(db, "ROLLBACK");
}

const char *coord_db_sqlstate(const struct coord_db *db)
{
	return db->sqlstate;
}

bool coord_db_transient(const struct coord_db *db)
{
	return strcmp(db->sqlstate, "40P01") == 0 || strcmp(db->sqlstate, "40001") == 0;
}

bool coord_db_retry(struct coord_db *db, enum coord_err e, int *attempts)
{
	if (e != COORD_ERR_CONFLICT || !coord_db_transient(db))
		return false;
	const char *what = strcmp(db->sqlstate, "40P01") == 0 ? "deadlock" : "serialization failure";
	coord_db_rollback(db);
	if (++*attempts >= COORD_DB_TX_ATTEMPTS) {
		coord_log(COORD_LOG_ERROR, "database: transaction ended by a %s %d times; given up",
			  what, *attempts);
		return false;
	}
	coord_log(COORD_LOG_INFO, "database: transaction ended by a %s; run again", what);
	db->sqlstate[0] = '\0';
	return true;
}

int64_t coord_db_take_ms(struct coord_db *db)
{
	int64_t ms = db->ms;
	db->ms = 0;
	return ms;
}

enum coord_err coord_db_exec_script(struct coord_db *db, const char *sql, char *err, size_t errlen)
{
	if (!db->conn)
		return COORD_ERR_UNAVAILABLE;
	PGresult *r = PQexec(db->conn, sql);
	ExecStatusType s = PQresultStatus(r);
	bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
	if (!ok) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
	}
	PQclear(r);
	if (ok)
		return COORD_OK;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		drop(db);
		return COORD_ERR_UNAVAILABLE;
	}
	return COORD_ERR_INVALID;
}
