#include <stdio.h>
#include <stdlib.h>

#include "coord_int.h"
#include "coord_logs.h"
#include "coord_rows.h"
#include "banned.h"

enum { LOGS_INSERT, LOGS_OF_JOB };

const struct coord_stmt coord_logs_stmts[] = {
	[LOGS_INSERT] = { "logs_insert",
		"INSERT INTO system_hidden_logs (request_id, job_id, log_type, stderr, stdout, exit_code, "
		"execution_error, token_hash) VALUES ($1, $2::bigint, $3, $4, $5, $6::int, $7, $8) "
		"RETURNING id" },
	[LOGS_OF_JOB] = { "logs_of_job",
		"SELECT id, request_id, job_id, log_type, stderr, stdout, exit_code, execution_error, "
		COORD_SQL_TS("created_at") " FROM system_hidden_logs WHERE job_id = $1 "
		"ORDER BY created_at DESC, id DESC" },
};
const size_t coord_logs_nstmts = sizeof(coord_logs_stmts) / sizeof(coord_logs_stmts[0]);

enum coord_err coord_logs_insert(struct coord_db *db, const struct coord_system_log *l,
				 int64_t *id)
{
	char rid[24], job[24], code[24];
	PGresult *res;
	snprintf(rid, sizeof(rid), "%lld", (long long)l->request_id);
	snprintf(job, sizeof(job), "%lld", (long long)l->job_id);
	snprintf(code, sizeof(code), "%lld", (long long)l->exit_code);
	const char *p[] = { rid, l->has_job_id ? job : NULL, l->log_type, l->stderr_text,
			    l->stdout_text, l->has_exit_code ? code : NULL, l->execution_error,
			    l->token_hash };
	enum coord_err e = coord_db_exec(db, &coord_logs_stmts[LOGS_INSERT], 8, p, &res);
	if (e != COORD_OK)
		return e;
	*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_logs_of_job(struct coord_db *db, int64_t job_id, json_object **logs)
{
	static const struct coord_col cols[] = {
		{ "id", COORD_COL_INT, false }, { "request_id", COORD_COL_INT, false }, { "job_id", COORD_COL_INT, false },
		{ "log_type", COORD_COL_STR, false }, { "stderr", COORD_COL_STR, false }, { "stdout", COORD_COL_STR, false },
		{ "exit_code", COORD_COL_INT, false }, { "execution_error", COORD_COL_STR, false },
		{ "created_at", COORD_COL_STR, false },
	};
	char job[24];
	PGresult *res;
	snprintf(job, sizeof(job), "%lld", (long long)job_id);
	const char *p[] = { job };
	enum coord_err e = coord_db_exec(db, &coord_logs_stmts[LOGS_OF_JOB], 1, p, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 0)
		e = COORD_ERR_NOT_FOUND;
	else
		*logs = coord_rows_json(res, cols, sizeof(cols) / sizeof(cols[0]));
	PQclear(res);
	return e;
}
