/* worker_status rows (SPEC §3.2.6, §3.5). */
#ifndef COORD_WORKERS_H
#define COORD_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_db.h"
#include "coord_err.h"

struct coord_heartbeat {
	const char *worker_id, *worker_name, *status, *token_hash;
	bool has_current_task, has_block_height, has_last_poll;
	int64_t current_task_id, block_height, last_poll_at; /* last_poll_at: unix seconds */
};

/* Upserts the worker_status row (SPEC §3.2.6); never touches job leases. */
enum coord_err coord_workers_heartbeat(struct coord_db *db, const struct coord_heartbeat *h);
/* Counts a finished task; no row is not an error. */
enum coord_err coord_workers_task_completion(struct coord_db *db, const char *worker_id,
					     bool success);
/* max(event_monitor_block_height); *has is false when no row has one. */
enum coord_err coord_workers_block_cursor(struct coord_db *db, bool *has, int64_t *height);
/* Deletes the worker_status row; COORD_ERR_NOT_FOUND when there is none. */
enum coord_err coord_workers_delete(struct coord_db *db, const char *worker_id);

#endif
