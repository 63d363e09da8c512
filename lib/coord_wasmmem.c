#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coord_buf.h"
#include "coord_int.h"
#include "coord_log.h"
#include "coord_mem.h"
#include "coord_wasmmem.h"
#include "banned.h"

enum {
	WASMMEM_FLUSH,
};

const struct coord_stmt coord_wasmmem_stmts[] = {
	/* $1 checksums, $2 counts, $3 newest download (unix microseconds); advisory data, not
	 * worth waiting for the WAL */
	[WASMMEM_FLUSH] = { "wasmmem_flush",
		"WITH s AS (SELECT set_config('synchronous_commit', 'off', true)) "
		"UPDATE wasm_cache w SET access_count = w.access_count + d.n, "
		"last_accessed_at = greatest(w.last_accessed_at, "
		"timestamptz 'epoch' + d.at_us * interval '1 microsecond') "
		"FROM s, unnest($1::char(64)[], $2::bigint[], $3::bigint[]) AS d(checksum, n, at_us) "
		"WHERE w.checksum = d.checksum" },
};
const size_t coord_wasmmem_nstmts = sizeof(coord_wasmmem_stmts) / sizeof(coord_wasmmem_stmts[0]);

/* Checksums are SHA-256 digests in hex: their first 16 digits spread well enough. */
static uint64_t checksum_hash(const char *checksum)
{
	uint64_t h = 0;
	for (size_t i = 0; i < 16 && checksum[i]; i++)
		h = h << 4 | (uint64_t)(coord_hex_value((unsigned char)checksum[i]) & 0xf);
	return h;
}

/* ---- the fingerprint memory ---- */

/*
 * Direct-mapped: a checksum has one slot, and a colliding one takes it over (the loser is
 * read from the database again at its next download). 4096 slots of ~180 bytes.
 *
 * One clock orders what matters, under memo_lock: a read of a row takes a tick before the
 * statement is sent (coord_wasmmem_epoch), a forget and a thread's connection starting to
 * LISTEN take one each. A remembered row is
 * - stored only if nothing was forgotten since its read began: a notification handled
 *   meanwhile, by any thread, may concern it (forgotten_tick < read_tick);
 * - used by a thread only if the thread's connection has listened since before the read
 *   began (listen_tick < read_tick): every change the read did not see was then notified to
 *   that connection, whose notifications the thread reads before using the memory. A thread
 *   whose connection was reopened (a PostgreSQL restart) thus trusts nothing read before.
 */
#define MEMO_SLOTS 4096

struct memo_slot {
	char checksum[65]; /* "" when empty */
	uint64_t read_tick;
	struct coord_wasm_memo memo;
};

static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct memo_slot memo_slots[MEMO_SLOTS];
static uint64_t memo_clock, forgotten_tick;
/* this thread's connection: none yet, trust nothing */
static _Thread_local uint64_t listen_tick = UINT64_MAX;

static struct memo_slot *memo_slot_of(const char *checksum)
{
	return &memo_slots[checksum_hash(checksum) % MEMO_SLOTS];
}

bool coord_wasmmem_recall(const char *checksum, struct coord_wasm_memo *m)
{
	pthread_mutex_lock(&memo_lock);
	const struct memo_slot *s = memo_slot_of(checksum);
	bool hit = strcmp(s->checksum, checksum) == 0 && listen_tick < s->read_tick;
	if (hit)
		*m = s->memo;
	pthread_mutex_unlock(&memo_lock);
	return hit;
}

uint64_t coord_wasmmem_epoch(void)
{
	pthread_mutex_lock(&memo_lock);
	uint64_t tick = ++memo_clock;
	pthread_mutex_unlock(&memo_lock);
	return tick;
}

void coord_wasmmem_remember(const char *checksum, const struct coord_wasm_memo *m,
			    uint64_t epoch)
{
	pthread_mutex_lock(&memo_lock);
	if (forgotten_tick < epoch) {
		struct memo_slot *s = memo_slot_of(checksum);
		snprintf(s->checksum, sizeof(s->checksum), "%s", checksum);
		s->read_tick = epoch;
		s->memo = *m;
	}
	pthread_mutex_unlock(&memo_lock);
}

void coord_wasmmem_forget(const char *key)
{
	pthread_mutex_lock(&memo_lock);
	forgotten_tick = ++memo_clock;
	if (!key) {
		for (size_t i = 0; i < MEMO_SLOTS; i++)
			memo_slots[i].checksum[0] = '\0';
	} else {
		struct memo_slot *s = memo_slot_of(key);
		if (strcmp(s->checksum, key) == 0)
			s->checksum[0] = '\0';
	}
	pthread_mutex_unlock(&memo_lock);
}

void coord_wasmmem_listening(void)
{
	pthread_mutex_lock(&memo_lock);
	listen_tick = ++memo_clock;
	pthread_mutex_unlock(&memo_lock);
}

/* ---- the download counts ---- */

struct count {
	char checksum[65]; /* "" when empty */
	int64_t n;
	int64_t newest_us;
};

/* An open-addressing table (linear probing, power-of-two size, at most half full). */
struct counts {
	struct count *slots;
	size_t cap, used;
};

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counts counts; /* under count_lock */

static void counts_add(struct counts *t, const char *checksum, int64_t n, int64_t at_us);

static void counts_grow(struct counts *t)
{
	struct counts bigger = { coord_xcalloc(t->cap ? t->cap * 2 : 64, sizeof(struct count)),
				 t->cap ? t->cap * 2 : 64, 0 };
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].checksum[0])
			counts_add(&bigger, t->slots[i].checksum, t->slots[i].n, t->slots[i].newest_us);
	free(t->slots);
	*t = bigger;
}

static void counts_add(struct counts *t, const char *checksum, int64_t n, int64_t at_us)
{
	if (2 * (t->used + 1) > t->cap)
		counts_grow(t);
	size_t i = checksum_hash(checksum) & (t->cap - 1);
	while (t->slots[i].checksum[0] && strcmp(t->slots[i].checksum, checksum) != 0)
		i = (i + 1) & (t->cap - 1);
	struct count *c = &t->slots[i];
	if (!c->checksum[0]) {
		snprintf(c->checksum, sizeof(c->checksum), "%s", checksum);
		t->used++;
	}
	c->n += n;
	if (at_us > c->newest_us)
		c->newest_us = at_us;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void coord_wasmmem_count(const char *checksum)
{
	int64_t at = now_us();
	pthread_mutex_lock(&count_lock);
	counts_add(&counts, checksum, 1, at);
	pthread_mutex_unlock(&count_lock);
}

/* Puts counts taken for a flush that failed back, added to those counted since. */
static void counts_restore(struct counts *taken)
{
	pthread_mutex_lock(&count_lock);
	for (size_t i = 0; i < taken->cap; i++)
		if (taken->slots[i].checksum[0])
			counts_add(&counts, taken->slots[i].checksum, taken->slots[i].n,
				   taken->slots[i].newest_us);
	pthread_mutex_unlock(&count_lock);
}

/*
 * Flushes run on one thread at a time (the background thread, or the CGI request's). While
 * the database cannot be reached they are retried less and less often, up to once a second.
 */
#define FLUSH_RETRY_MAX_MS 1000
static int flush_retry_ms;     /* 0: the last flush worked */
static int64_t flush_retry_at; /* coord_monotonic_ms() */

enum coord_err coord_wasmmem_flush(struct coord_db *db, bool final)
{
	struct counts taken;
	if (!final && flush_retry_ms && coord_monotonic_ms() < flush_retry_at)
		return COORD_ERR_UNAVAILABLE;
	pthread_mutex_lock(&count_lock);
	taken = counts;
	counts = (struct counts){ 0 };
	pthread_mutex_unlock(&count_lock);
	if (taken.used == 0) {
		free(taken.slots);
		return COORD_OK;
	}

	/* three array literals: checksums are hex, counts and times decimal */
	struct coord_buf ids = COORD_BUF_INIT, ns = COORD_BUF_INIT, ats = COORD_BUF_INIT;
	int64_t downloads = 0;
	const char *sep = "{";
	for (size_t i = 0; i < taken.cap; i++) {
		const struct count *c = &taken.slots[i];
		if (!c->checksum[0])
			continue;
		coord_buf_addf(&ids, "%s%s", sep, c->checksum);
		coord_buf_addf(&ns, "%s%lld", sep, (long long)c->n);
		coord_buf_addf(&ats, "%s%lld", sep, (long long)c->newest_us);
		downloads += c->n;
		sep = ",";
	}
	coord_buf_addf(&ids, "}");
	coord_buf_addf(&ns, "}");
	coord_buf_addf(&ats, "}");

	const char *p[] = { ids.ptr, ns.ptr, ats.ptr };
	enum coord_err e = coord_db_ready(db);
	if (e == COORD_OK)
		e = coord_db_exec(db, &coord_wasmmem_stmts[WASMMEM_FLUSH], 3, p, NULL);
	if (e != COORD_OK) {
		if (final) {
			coord_log(COORD_LOG_ERROR, "wasm: %lld download(s) of %zu checksum(s) not "
				  "counted: the database cannot be reached", (long long)downloads, taken.used);
		} else {
			if (!flush_retry_ms)
				coord_log(COORD_LOG_WARN, "wasm: download counts not flushed; kept "
					  "for the next flush");
			counts_restore(&taken);
			flush_retry_ms = flush_retry_ms ? flush_retry_ms * 2 : COORD_WASMMEM_FLUSH_MS;
			if (flush_retry_ms > FLUSH_RETRY_MAX_MS)
				flush_retry_ms = FLUSH_RETRY_MAX_MS;
			flush_retry_at = coord_monotonic_ms() + flush_retry_ms;
		}
	} else {
		flush_retry_ms = 0;
	}
	coord_buf_release(&ids);
	coord_buf_release(&ns);
	coord_buf_release(&ats);
	free(taken.slots);
	return e;
}
