/*
 * Work queues (SPEC §3.1): queue_items in PostgreSQL is the source of
 * truth; Redis lists of item ids are the fast path. Enqueue inserts inside
 * the producer's transaction and pushes after its commit; polls lease
 * items; claims bind them to jobs; completions close them.
 */
#ifndef COORD_QUEUE_H
#define COORD_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_buf.h"
#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_redis.h"

enum coord_queue { COORD_Q_COMPILE, COORD_Q_EXECUTE, COORD_Q_SYSTEM };

const char *coord_queue_name(enum coord_queue q); /* "compile", "execute", "system_callbacks" */
const char *coord_queue_list(const struct coord_config *cfg, enum coord_queue q); /* Redis key */

/* Ids enqueued by a transaction, pushed to Redis after its commit. */
struct coord_pushes {
	int n;
	struct {
		enum coord_queue q;
		int64_t item_id;
		bool front; /* RPUSH (re-delivery) rather than LPUSH */
	} ids[4];
	char call_done[40]; /* an HTTPS call the transaction settled: its wake-up (SPEC §4.4 step 7) */
};

/*
 * Inside the caller's transaction: inserts a queued item and records the
 * id in *pushes. request_id < 0 stores NULL.
 */
enum coord_err coord_queue_insert(struct coord_db *db, enum coord_queue q, const char *payload,
				  int64_t request_id, const char *data_id, int64_t *item_id,
				  struct coord_pushes *pushes);
/*
 * Inside the caller's transaction: inserts a queued system task (queue
 * system_callbacks) with its task_type, task_id and dedupe_key, and records
 * the id in *pushes.
 */
enum coord_err coord_queue_insert_task(struct coord_db *db, const char *payload,
				       const char *task_type, int64_t task_id,
				       const char *dedupe_key, int64_t *item_id,
				       struct coord_pushes *pushes);
/*
 * After the commit: pushes every recorded id; a failed push sets the
 * item's pushed_at to NULL (best effort) so polls find it (step 4). Then
 * wakes the synchronous waiter of pushes->call_done, if set.
 */
void coord_queue_push(struct coord_db *db, struct coord_redis *redis,
		      const struct coord_config *cfg, const struct coord_pushes *pushes);
/* A producer's end (SPEC §3.1 "Enqueue"): commits its transaction, then pushes. */
enum coord_err coord_queue_commit(struct coord_db *db, struct coord_redis *redis,
				  const struct coord_config *cfg, const struct coord_pushes *pushes);

/*
 * The leasing procedure of SPEC §3.1 for a poll over queues[0..nq) in
 * priority order, waiting up to timeout_s. On COORD_OK *payload holds the
 * leased item's payload, or is empty (len 0) when nothing arrived.
 * queues {COORD_Q_SYSTEM} (alone) delivers instead of leasing: the item goes
 * straight from queued to done/delivered, at most once.
 * stop() is polled between waits so a shutting-down process answers early.
 */
enum coord_err coord_queue_poll(struct coord_db *db, struct coord_redis *redis,
				const struct coord_config *cfg, const enum coord_queue *queues,
				int nq, int timeout_s, const char *token_hash, bool (*stop)(void),
				struct coord_buf *payload);

#endif
