/*
 * The maintenance of the work queues (SPEC §3.1 reaper, §6.2 coord-reap
 * and coord-requeue). Each row is handled in its own short transaction.
 */
#ifndef COORD_REAPER_H
#define COORD_REAPER_H

#include <stdbool.h>
#include <stdio.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_queue.h"
#include "coord_redis.h"

struct coord_reap_counts {
	long items_requeued, items_closed, items_dead, jobs_requeued, jobs_failed, items_deleted;
};

/*
 * A (expired item leases), B (expired job leases), C (retention). With
 * dry_run every transaction is rolled back and report (if not NULL) gets
 * one line per change that would happen. Without dry_run the changes made are counted in
 * coord_reaper_actions_total (coord_metrics: flush them before the program exits).
 */
enum coord_err coord_reap(struct coord_db *db, struct coord_redis *redis,
			  const struct coord_config *cfg, bool dry_run, FILE *report,
			  struct coord_reap_counts *counts);

/*
 * Rebuilds the Redis list of q from its queued items: pushes the missing
 * ids, or with reset replaces the whole list in one MULTI/EXEC. Ids are
 * pushed in descending item_id order so the oldest is served first, and
 * their pushed_at set in batches of at most 500. COORD_ERR_UPSTREAM when
 * Redis cannot be reached, COORD_ERR_UNAVAILABLE when PostgreSQL is lost.
 */
enum coord_err coord_requeue(struct coord_db *db, struct coord_redis *redis,
			     const struct coord_config *cfg, enum coord_queue q, bool reset,
			     bool dry_run, FILE *report, long *pushed);

#endif
