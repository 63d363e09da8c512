/*
 * System tasks (SPEC §3.2.11): the producers' deduplicated inserts into the
 * system_callbacks queue. Task ids come from PostgreSQL sequences and the
 * dedupe window is judged on queue_items, so a Redis restart neither
 * duplicates tasks nor reuses ids. Delivery is coord_queue_poll's.
 */
#ifndef COORD_CALLBACKS_H
#define COORD_CALLBACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_redis.h"

enum coord_task_type {
	COORD_TASK_TOP_UP,
	COORD_TASK_DELETE_PAYMENT_KEY,
	COORD_TASK_PROJECT_CLEANUP,
};

struct coord_system_task {
	enum coord_task_type type;
	const char *data_id;        /* top_up, delete_payment_key */
	const char *owner;          /* top_up, delete_payment_key */
	int64_t nonce;              /* top_up, delete_payment_key */
	const char *amount;         /* top_up: canonical money string */
	const char *encrypted_data; /* top_up */
	const char *project_id;     /* project_storage_cleanup */
	const char *project_uuid;   /* project_storage_cleanup */
};

/*
 * One transaction under the advisory lock of the task's dedupe key: a task
 * with the same key created less than 90 000 s ago → *created false and its
 * *task_id; else a new task id, the payload of SPEC §3.1.2 and a queued
 * item, pushed after the commit.
 */
enum coord_err coord_callbacks_create(struct coord_db *db, struct coord_redis *redis,
				      const struct coord_config *cfg,
				      const struct coord_system_task *t, int64_t *task_id,
				      bool *created);

#endif
