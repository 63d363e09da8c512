/*
 * What a serving process keeps of the WASM cache between requests (SPEC §3.2.5, "Download
 * accounting is deferred"), shared by its threads:
 * - the fingerprint memory: per checksum, the row's content_hash and verified stat as last read
 *   or recorded, so that a download whose file still has that stat touches no database. It is
 *   forgotten per checksum when the row is updated or deleted (a trigger notifies every serving
 *   connection: sql/009_wasm_memory.sql, coord_db.h), and a thread whose connection reopens
 *   trusts nothing remembered before (lib/coord_wasmmem.c);
 * - the download counts: per checksum, the downloads answered and the time of the newest, until
 *   a flush adds them to access_count and last_accessed_at in one statement.
 */
#ifndef COORD_WASMMEM_H
#define COORD_WASMMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "coord_db.h"
#include "coord_err.h"

/* A file's stat as the row records it (verified_size, verified_mtime_ns, verified_inode). */
struct coord_wasm_fingerprint {
	int64_t size, mtime_ns, inode;
};

struct coord_wasm_memo {
	char content_hash[65];
	struct coord_wasm_fingerprint verified;
};

/*
 * The memory of checksum, if this thread may use it, into *m. Read the thread's connection's
 * notifications first (coord_db_notifications).
 */
bool coord_wasmmem_recall(const char *checksum, struct coord_wasm_memo *m);

/*
 * Remembering what was read from the database races with forgetting: take the epoch right
 * before reading (on a ready connection), and remember with it; if anything was forgotten
 * since (a notification may concern the row just read), nothing is remembered.
 */
uint64_t coord_wasmmem_epoch(void);
void coord_wasmmem_remember(const char *checksum, const struct coord_wasm_memo *m,
			    uint64_t epoch);

/* Counts one answered download of checksum, now. */
void coord_wasmmem_count(const char *checksum);

/*
 * Adds the counted downloads to their rows in one statement (synchronous_commit off) on db,
 * which it makes ready; nothing to add: no database access. On failure the counts are kept for
 * the next flush, unless final (the process exits): then they are lost and logged.
 */
enum coord_err coord_wasmmem_flush(struct coord_db *db, bool final);

/* How often a serving process flushes: a download is counted within 250 ms (SPEC §3.2.5). */
#define COORD_WASMMEM_FLUSH_MS 100

#endif
