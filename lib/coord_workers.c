#include <stdio.h>
#include <string.h>

#include "coord_int.h"
#include "coord_parse.h"
#include "coord_workers.h"
#include "banned.h"

enum { WORKERS_BLOCK_CURSOR, WORKERS_DELETE, WORKERS_HEARTBEAT, WORKERS_TASK_COMPLETION };

const struct coord_stmt coord_workers_stmts[] = {
	[WORKERS_BLOCK_CURSOR] = { "workers_block_cursor",
		"SELECT max(event_monitor_block_height) FROM worker_status" },
	[WORKERS_DELETE] = { "workers_delete", "DELETE FROM worker_status WHERE worker_id = $1" },
	[WORKERS_HEARTBEAT] = { "workers_heartbeat",
		"INSERT INTO worker_status (worker_id, worker_name, status, current_task_id, token_hash, "
		"last_heartbeat_at, updated_at, last_poll_at, event_monitor_block_height, "
		"event_monitor_updated_at) VALUES ($1, $2, $3, $4::bigint, $5, now(), now(), "
		"to_timestamp($6::bigint), $7::bigint, CASE WHEN $7::bigint IS NOT NULL THEN now() END) "
		"ON CONFLICT (worker_id) DO UPDATE SET worker_name = EXCLUDED.worker_name, "
		"status = EXCLUDED.status, current_task_id = EXCLUDED.current_task_id, "
		"token_hash = EXCLUDED.token_hash, last_heartbeat_at = now(), updated_at = now(), "
		"last_poll_at = coalesce(EXCLUDED.last_poll_at, worker_status.last_poll_at), "
		"event_monitor_block_height = coalesce(EXCLUDED.event_monitor_block_height, "
		"  worker_status.event_monitor_block_height), "
		"event_monitor_updated_at = CASE WHEN EXCLUDED.event_monitor_block_height IS NOT NULL "
		"  THEN now() ELSE worker_status.event_monitor_updated_at END" },
	[WORKERS_TASK_COMPLETION] = { "workers_task_completion",
		"UPDATE worker_status SET "
		"total_tasks_completed = total_tasks_completed + CASE WHEN $2::bool THEN 1 ELSE 0 END, "
		"last_task_completed_at = CASE WHEN $2::bool THEN now() ELSE last_task_completed_at END, "
		"total_tasks_failed = total_tasks_failed + CASE WHEN $2::bool THEN 0 ELSE 1 END, "
		"status = 'online', current_task_id = NULL, updated_at = now() WHERE worker_id = $1" },
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

enum coord_err coord_workers_heartbeat(struct coord_db *db, const struct coord_heartbeat *h)
{
	char task[24], height[24], poll[24];
	snprintf(task, sizeof(task), "%lld", (long long)h->current_task_id);
	snprintf(height, sizeof(height), "%lld", (long long)h->block_height);
	snprintf(poll, sizeof(poll), "%lld", (long long)h->last_poll_at);
	const char *p[] = { h->worker_id, h->worker_name, h->status,
			    h->has_current_task ? task : NULL, h->token_hash,
			    h->has_last_poll ? poll : NULL, h->has_block_height ? height : NULL };
	enum coord_err e = coord_db_exec(db, &coord_workers_stmts[WORKERS_HEARTBEAT], 7, p, NULL);
	return e;
}

enum coord_err coord_workers_task_completion(struct coord_db *db, const char *worker_id,
					     bool success)
{
	const char *p[] = { worker_id, success ? "true" : "false" };
	enum coord_err e = coord_db_exec(db, &coord_workers_stmts[WORKERS_TASK_COMPLETION], 2, p, NULL);
	return e;
}
