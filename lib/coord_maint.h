/*
 * The session-level advisory locks of the maintenance programs (SPEC §5.1,
 * §6.1): each program takes its fixed lock before any work; and their
 * signals: SIGTERM, SIGINT or SIGHUP lets the current transaction finish,
 * then the work stops (the program exits 75).
 */
#ifndef COORD_MAINT_H
#define COORD_MAINT_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_db.h"
#include "coord_err.h"

enum {
	COORD_LOCK_MIGRATE = 7364001,
	COORD_LOCK_WASM_EVICT = 7364002,
	COORD_LOCK_PAYMENT_KEY_CLEANUP = 7364003,
	COORD_LOCK_TEE_CLEANUP = 7364004,
	COORD_LOCK_REAP = 7364005,
	COORD_LOCK_REQUEUE = 7364006,
	COORD_LOCK_AUDIT = 7364007,
};

/* Catches SIGTERM, SIGINT and SIGHUP from now on (coord_cli_maint_db does it). */
void coord_maint_catch_signals(void);
/*
 * True once such a signal arrived. Loops of maintenance work check it
 * between transactions and stop with COORD_ERR_CONFLICT ("retry later").
 */
bool coord_maint_interrupted(void);

/* pg_try_advisory_lock(id): *got false when another session holds it. */
enum coord_err coord_maint_try_lock(struct coord_db *db, int64_t id, bool *got);
/* pg_advisory_unlock(id). */
enum coord_err coord_maint_unlock(struct coord_db *db, int64_t id);
/* Retries for up to wait_seconds; COORD_ERR_CONFLICT when still held. */
enum coord_err coord_maint_lock_wait(struct coord_db *db, int64_t id, int wait_seconds);

#endif
