/* worker_status rows (SPEC §3.2.6, §3.5). */
#ifndef COORD_WORKERS_H
#define COORD_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_db.h"
#include "coord_err.h"

/* max(event_monitor_block_height); *has is false when no row has one. */
enum coord_err coord_workers_block_cursor(struct coord_db *db, bool *has, int64_t *height);
/* Deletes the worker_status row; COORD_ERR_NOT_FOUND when there is none. */
enum coord_err coord_workers_delete(struct coord_db *db, const char *worker_id);

#endif
