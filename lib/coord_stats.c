#include <stdio.h>

#include "coord_int.h"
#include "coord_keystore.h"
#include "coord_rows.h"
#include "coord_stats.h"
#include "banned.h"

enum { STATS_SUMMARY, STATS_WORKERS, STATS_JOBS, STATS_REPOS, STATS_USER };

/* the five failure categories, by the joined job's status */
#define CATEGORY_COUNTS                                                               \
	"count(*) FILTER (WHERE j.status = 'access_denied'), "                        \
	"count(*) FILTER (WHERE j.status = 'compilation_failed'), "                   \
	"count(*) FILTER (WHERE j.status = 'execution_failed'), "                     \
	"count(*) FILTER (WHERE j.status = 'insufficient_payment'), "                 \
	"count(*) FILTER (WHERE j.status = 'custom')"

const struct coord_stmt coord_stats_stmts[] = {
	[STATS_SUMMARY] = { "stats_summary",
		"SELECT count(*), count(*) FILTER (WHERE r.success), count(*) FILTER (WHERE NOT r.success), "
		CATEGORY_COUNTS ", coalesce(sum(r.instructions_used), 0), "
		"coalesce(round(avg(r.execution_time_ms)), 0)::bigint, "
		"coalesce(sum(r.near_payment_yocto), 0)::text, count(DISTINCT r.user_account_id), "
		"(SELECT count(*) FROM worker_status WHERE status IN ('online', 'busy') "
		" AND last_heartbeat_at > now() - interval '5 minutes' AND worker_id <> $1) "
		"FROM execution_results r LEFT JOIN jobs j ON j.job_id = r.job_id" },
	[STATS_WORKERS] = { "stats_workers",
		"SELECT w.worker_id, w.worker_name, w.status, w.current_task_id, "
		COORD_SQL_TS("w.last_heartbeat_at") ", "
		"(SELECT count(*) FROM execution_results r WHERE r.worker_id = w.worker_id AND r.success), "
		"(SELECT count(*) FROM execution_results r WHERE r.worker_id = w.worker_id AND NOT r.success), "
		"floor(extract(epoch FROM now() - w.created_at))::bigint "
		"FROM worker_status w WHERE w.worker_id <> $1 "
		"ORDER BY w.last_heartbeat_at DESC NULLS LAST, w.worker_id" },
	[STATS_JOBS] = { "stats_jobs",
		"SELECT r.id, r.job_id, r.request_id, r.data_id, r.worker_id, r.success, j.status, "
		"j.error_details, r.job_type, r.execution_time_ms, r.compile_time_ms, r.instructions_used, "
		"r.resolve_tx_id, r.user_account_id, r.near_payment_yocto, r.actual_cost_yocto, "
		"r.compile_cost_yocto, r.github_repo, r.github_commit, r.transaction_hash, "
		COORD_SQL_TS("r.created_at") ", r.is_https_call, r.call_id, "
		"coalesce(c.project_id, er.project_id), c.compute_cost "
		"FROM execution_results r LEFT JOIN jobs j ON j.job_id = r.job_id "
		"LEFT JOIN https_calls c ON c.call_id = r.call_id "
		"LEFT JOIN execution_requests er ON er.request_id = r.request_id "
		"WHERE ($1::text IS NULL OR r.user_account_id = $1) "
		"AND ($2::bool IS NULL OR r.is_https_call = $2) "
		"ORDER BY r.created_at DESC, r.id DESC LIMIT $3 OFFSET $4" },
	[STATS_REPOS] = { "stats_repos",
		"SELECT r.github_repo, count(*), count(*) FILTER (WHERE r.success), "
		"count(*) FILTER (WHERE NOT r.success), " CATEGORY_COUNTS ", "
		"(SELECT r2.github_commit FROM execution_results r2 WHERE r2.github_repo = r.github_repo "
		" ORDER BY r2.created_at DESC, r2.id DESC LIMIT 1) "
		"FROM execution_results r LEFT JOIN jobs j ON j.job_id = r.job_id "
		"WHERE r.github_repo IS NOT NULL GROUP BY r.github_repo "
		"ORDER BY count(*) DESC, r.github_repo LIMIT 10" },
	[STATS_USER] = { "stats_user",
		"SELECT $1::text, count(*), count(*) FILTER (WHERE success), "
		"coalesce(sum(near_payment_yocto), 0)::text, coalesce(sum(instructions_used), 0), "
		"coalesce(round(avg(execution_time_ms)), 0)::bigint "
		"FROM execution_results WHERE user_account_id = $1" },
};
const size_t coord_stats_nstmts = sizeof(coord_stats_stmts) / sizeof(coord_stats_stmts[0]);

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

enum coord_err coord_stats_summary(struct coord_db *db, const struct coord_config *cfg,
				   json_object **out)
{
	static const struct coord_col cols[] = {
		{ "total_executions", COORD_COL_INT, false },
		{ "successful_executions", COORD_COL_INT, false },
		{ "failed_executions", COORD_COL_INT, false },
		{ "access_denied_executions", COORD_COL_INT, false },
		{ "compilation_failed_executions", COORD_COL_INT, false },
		{ "execution_failed_executions", COORD_COL_INT, false },
		{ "insufficient_payment_executions", COORD_COL_INT, false },
		{ "custom_executions", COORD_COL_INT, false },
		{ "total_instructions_used", COORD_COL_INT, false },
		{ "average_execution_time_ms", COORD_COL_INT, false },
		{ "total_near_paid_yocto", COORD_COL_MONEY, false },
		{ "unique_users", COORD_COL_INT, false },
		{ "active_workers", COORD_COL_INT, false },
	};
	char ks[96];
	PGresult *res;
	coord_keystore_worker_id(cfg, ks);
	const char *p[] = { ks };
	enum coord_err e = coord_db_exec(db, &coord_stats_stmts[STATS_SUMMARY], 1, p, &res);
	if (e != COORD_OK)
		return e;
	*out = coord_row_json(res, 0, cols, NCOLS(cols));
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_stats_workers(struct coord_db *db, const struct coord_config *cfg,
				   json_object **out)
{
	static const struct coord_col cols[] = {
		{ "worker_id", COORD_COL_STR, false },        { "worker_name", COORD_COL_STR, false },
		{ "status", COORD_COL_STR, false },           { "current_task_id", COORD_COL_INT, false },
		{ "last_heartbeat_at", COORD_COL_STR, false }, { "total_tasks_completed", COORD_COL_INT, false },
		{ "total_tasks_failed", COORD_COL_INT, false }, { "uptime_seconds", COORD_COL_INT, false },
	};
	char ks[96];
	PGresult *res;
	coord_keystore_worker_id(cfg, ks);
	const char *p[] = { ks };
	enum coord_err e = coord_db_exec(db, &coord_stats_stmts[STATS_WORKERS], 1, p, &res);
	if (e != COORD_OK)
		return e;
	*out = coord_rows_json(res, cols, NCOLS(cols));
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_stats_jobs(struct coord_db *db, int64_t limit, int64_t offset,
				const char *user_account_id, enum coord_jobs_source source,
				json_object **out)
{
	static const struct coord_col cols[] = {
		{ "id", COORD_COL_INT, false },
		{ "job_id", COORD_COL_INT, false },
		{ "request_id", COORD_COL_INT, false },
		{ "data_id", COORD_COL_STR, false },
		{ "worker_id", COORD_COL_STR, false },
		{ "success", COORD_COL_BOOL, false },
		{ "status", COORD_COL_STR, false },
		{ "error_details", COORD_COL_STR, false },
		{ "job_type", COORD_COL_STR, false },
		{ "execution_time_ms", COORD_COL_INT, false },
		{ "compile_time_ms", COORD_COL_INT, false },
		{ "instructions_used", COORD_COL_INT, false },
		{ "resolve_tx_id", COORD_COL_STR, false },
		{ "user_account_id", COORD_COL_STR, false },
		{ "near_payment_yocto", COORD_COL_MONEY, false },
		{ "actual_cost_yocto", COORD_COL_MONEY, false },
		{ "compile_cost_yocto", COORD_COL_MONEY, false },
		{ "github_repo", COORD_COL_STR, false },
		{ "github_commit", COORD_COL_STR, false },
		{ "transaction_hash", COORD_COL_STR, false },
		{ "created_at", COORD_COL_STR, false },
		{ "is_https_call", COORD_COL_BOOL, false },
		{ "call_id", COORD_COL_STR, false },
		{ "project_id", COORD_COL_STR, false },
		{ "compute_cost_usd", COORD_COL_MONEY, false },
	};
	char l[24], o[24];
	PGresult *res;
	snprintf(l, sizeof(l), "%lld", (long long)limit);
	snprintf(o, sizeof(o), "%lld", (long long)offset);
	const char *src = source == COORD_SOURCE_NEAR ? "false"
			  : source == COORD_SOURCE_HTTPS ? "true" : NULL;
	const char *p[] = { user_account_id, src, l, o };
	enum coord_err e = coord_db_exec(db, &coord_stats_stmts[STATS_JOBS], 4, p, &res);
	if (e != COORD_OK)
		return e;
	*out = coord_rows_json(res, cols, NCOLS(cols));
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_stats_popular_repos(struct coord_db *db, json_object **out)
{
	static const struct coord_col cols[] = {
		{ "github_repo", COORD_COL_STR, false },
		{ "total_executions", COORD_COL_INT, false },
		{ "successful_executions", COORD_COL_INT, false },
		{ "failed_executions", COORD_COL_INT, false },
		{ "access_denied_executions", COORD_COL_INT, false },
		{ "compilation_failed_executions", COORD_COL_INT, false },
		{ "execution_failed_executions", COORD_COL_INT, false },
		{ "insufficient_payment_executions", COORD_COL_INT, false },
		{ "custom_executions", COORD_COL_INT, false },
		{ "last_commit", COORD_COL_STR, false },
	};
	PGresult *res;
	enum coord_err e = coord_db_exec(db, &coord_stats_stmts[STATS_REPOS], 0, NULL, &res);
	if (e != COORD_OK)
		return e;
	*out = coord_rows_json(res, cols, NCOLS(cols));
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_stats_user(struct coord_db *db, const char *account, json_object **out)
{
	static const struct coord_col cols[] = {
		{ "user_account_id", COORD_COL_STR, false },
		{ "total_executions", COORD_COL_INT, false },
		{ "successful_executions", COORD_COL_INT, false },
		{ "total_near_spent_yocto", COORD_COL_MONEY, false },
		{ "total_instructions_used", COORD_COL_INT, false },
		{ "average_execution_time_ms", COORD_COL_INT, false },
	};
	PGresult *res;
	const char *p[] = { account };
	enum coord_err e = coord_db_exec(db, &coord_stats_stmts[STATS_USER], 1, p, &res);
	if (e != COORD_OK)
		return e;
	*out = coord_row_json(res, 0, cols, NCOLS(cols));
	PQclear(res);
	return COORD_OK;
}
