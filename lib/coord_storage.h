/*
 * Project storage (SPEC §3.2.10, §3.4.4): the key/value rows of
 * storage_keys, addressed by (project_uuid, account_id, key_hash), and the
 * per-pair usage rows of storage_usage. Every write recomputes the usage
 * of the pairs it touched inside its own transaction: the pair's usage row
 * is created if missing and locked (pairs in (project_uuid, account_id)
 * order), then set by a later statement, so concurrent writes to one pair
 * recompute one after another.
 *
 * Values are opaque bytes. Rows read here are copied into the caller's
 * arena and live as long as it does.
 */
#ifndef COORD_STORAGE_H
#define COORD_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "coord_db.h"
#include "coord_err.h"
#include "coord_json.h"
#include "coord_mem.h"

/* Bounds of SPEC §3.2.10 and §3.4.4. */
#define COORD_STORAGE_ID_MAX 64          /* project_uuid, account_id, key_hash, wasm_hash */
#define COORD_STORAGE_LIST_DEFAULT 100
#define COORD_STORAGE_LIST_MAX 1000
#define COORD_STORAGE_PUBLIC_KEY_MAX 1024 /* bytes of a public key */
#define COORD_STORAGE_BATCH_MAX 50        /* distinct keys of a public batch */
#define COORD_STORAGE_WORKER_ACCOUNT "@worker"

struct coord_bytes {
	const unsigned char *ptr; /* may be NULL when len is 0 */
	size_t len;
};

struct coord_storage_addr {
	const char *project_uuid, *account_id, *key_hash;
};

struct coord_storage_row {
	bool exists;
	const char *key_hash;  /* list only */
	struct coord_bytes key, value;
	const char *wasm_hash;
	bool is_encrypted;
};

/* POST /storage/set: upsert; an existing row keeps its stored key bytes. */
enum coord_err coord_storage_set(struct coord_db *db, const struct coord_storage_addr *a,
				 const char *wasm_hash, struct coord_bytes key,
				 struct coord_bytes value, bool is_encrypted);

/* POST /storage/set-if-absent: *inserted false when the row exists (nothing changes). */
enum coord_err coord_storage_set_if_absent(struct coord_db *db, const struct coord_storage_addr *a,
					   const char *wasm_hash, struct coord_bytes key,
					   struct coord_bytes value, bool *inserted);

/*
 * POST /storage/set-if-equals: replaces key, value and wasm_hash only when
 * the stored value equals expected byte for byte. Not updated: *current is
 * the row as read after the attempt (current->exists false when there is
 * none), so a caller that lost a race sees the winner's bytes.
 */
enum coord_err coord_storage_set_if_equals(struct coord_db *db, const struct coord_storage_addr *a,
					   const char *wasm_hash, struct coord_bytes expected,
					   struct coord_bytes new_key, struct coord_bytes new_value,
					   bool *updated, struct coord_arena *arena,
					   struct coord_storage_row *current);

/* POST /storage/get; out->exists false when absent. */
enum coord_err coord_storage_get(struct coord_db *db, const struct coord_storage_addr *a,
				 struct coord_arena *arena, struct coord_storage_row *out);

/* POST /storage/get-by-version: any project; the most recently updated match. */
enum coord_err coord_storage_get_by_version(struct coord_db *db, const char *wasm_hash,
					    const char *account_id, const char *key_hash,
					    struct coord_arena *arena, struct coord_storage_row *out);

enum coord_err coord_storage_has(struct coord_db *db, const struct coord_storage_addr *a,
				 bool *exists);

/* POST /storage/delete; COORD_ERR_NOT_FOUND when there was no row. */
enum coord_err coord_storage_delete(struct coord_db *db, const struct coord_storage_addr *a);

/*
 * GET /storage/list: a page of the pair's rows by created_at, then key_hash
 * (*rows from arena, *n of them) and *total, the pair's row count, read by
 * the same statement.
 */
enum coord_err coord_storage_list(struct coord_db *db, const char *project_uuid,
				  const char *account_id, int64_t limit, int64_t offset,
				  struct coord_arena *arena, struct coord_storage_row **rows,
				  size_t *n, int64_t *total);

/* GET /storage/usage: zeros when the pair has no usage row. */
enum coord_err coord_storage_usage(struct coord_db *db, const char *project_uuid,
				   const char *account_id, int64_t *total_bytes, int64_t *key_count);

/* POST /storage/clear-all: the pair's rows; its usage row stays, zeroed. */
enum coord_err coord_storage_clear_all(struct coord_db *db, const char *project_uuid,
				       const char *account_id);

/* POST /storage/clear-version: matching rows of every project; their pairs recomputed. */
enum coord_err coord_storage_clear_version(struct coord_db *db, const char *wasm_hash,
					   const char *account_id);

/* POST /storage/clear-project: the project's rows and usage rows. */
enum coord_err coord_storage_clear_project(struct coord_db *db, const char *project_uuid);

/* ---- public reads of the @worker namespace (never an encrypted value) ---- */

enum coord_public_state { COORD_PUBLIC_ABSENT, COORD_PUBLIC_PLAIN, COORD_PUBLIC_ENCRYPTED };

/* The row (project_uuid, "@worker", key_hash); *value is set for a plaintext row. */
enum coord_err coord_storage_get_public(struct coord_db *db, const char *project_uuid,
					const char *key_hash, struct coord_arena *arena,
					enum coord_public_state *state, struct coord_bytes *value);

/* The key_hash of a public key: hex(sha256(key bytes)), lower case. */
void coord_storage_public_key_hash(const char *key, size_t len, char out[static 65]);

/* The distinct keys of a public batch, in order of first appearance. */
struct coord_storage_batch {
	size_t n;
	const char **keys; /* NUL-terminated, from arena */
	size_t *lens;
	enum coord_public_state *states; /* filled by coord_storage_get_public_batch */
	struct coord_bytes *values;
};

/*
 * Reads the "keys" member of a batch body (SPEC §3.4.4) into *out.
 * COORD_ERR_INVALID: not an array of strings; *p is the 422 problem (field
 * "keys" or "keys[i]"). COORD_ERR_RANGE: *why is the 400 invalid_request
 * message (no key, more than 50 distinct keys, a key empty or longer than
 * 1024 bytes).
 */
enum coord_err coord_storage_batch_keys(json_object *keys, struct coord_arena *arena,
					struct coord_storage_batch *out,
					struct coord_json_problem *p, const char **why);

/* Fills out->states and out->values with one statement. */
enum coord_err coord_storage_get_public_batch(struct coord_db *db, const char *project_uuid,
					      struct coord_arena *arena,
					      struct coord_storage_batch *out);

/* GET /public/projects/storage: sums over the project's usage rows. */
enum coord_err coord_storage_project_usage(struct coord_db *db, const char *project_uuid,
					   int64_t *total_bytes, int64_t *key_count);

#endif
