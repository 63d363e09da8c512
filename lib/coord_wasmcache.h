/* The WASM cache (SPEC §3.2.5): what the queue needs of it so far. */
#ifndef COORD_WASMCACHE_H
#define COORD_WASMCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"

/* ^[0-9a-f]{64}$ */
bool coord_wasm_checksum_valid(const char *checksum);

/*
 * The cache key of a code source: SHA-256 of "<repo>:<commit>:<build_target>"
 * for GitHub, the lower-cased hash for WasmUrl (hash may be NULL then).
 */
void coord_wasm_checksum_github(const char *repo, const char *commit, const char *build_target,
				char out[static 65]);
void coord_wasm_checksum_url(const char *hash, char out[static 65]);

/*
 * wasm_ok: the row and <dir>/<checksum>.wasm both exist. A row whose file
 * is missing is deleted under the checksum's cache lock (held until the
 * caller's transaction ends; without one, until the statement ends).
 */
enum coord_err coord_wasm_ok(struct coord_db *db, const struct coord_config *cfg,
			     const char *checksum, bool *ok);

/* ---- routes of SPEC §3.2.5 and §3.4.3 ---- */

struct coord_wasm_upload {
	const char *checksum; /* validated by the caller */
	const char *repo_url, *commit_hash, *build_target;
	const char *data;
	size_t len;
};

/*
 * Writes the bytes to a temporary file, fsyncs it, renames it onto
 * <checksum>.wasm under the checksum's cache lock, fsyncs the directory
 * and upserts the row in the same transaction. COORD_ERR_IO on a file
 * system failure (nothing is left behind).
 */
enum coord_err coord_wasm_upload(struct coord_db *db, const struct coord_config *cfg,
				 const struct coord_wasm_upload *u);

/*
 * Checks a download: row and file present and intact (re-hashing when the stat fingerprint
 * changed; a corrupted file and its row are deleted) and counts it (coord_wasmmem_count).
 * When the process remembers the row (coord_wasmmem.h) and the file's stat still matches it,
 * that costs one stat and no round trip. On COORD_OK path (PATH_MAX bytes) and *size describe
 * the file to send; COORD_ERR_NOT_FOUND otherwise.
 */
enum coord_err coord_wasm_download(struct coord_db *db, const struct coord_config *cfg,
				   const char *checksum, char *path, size_t pathlen,
				   int64_t *size);

/* {"exists":bool,"created_at":ts|null}; does not touch last_accessed_at. */
enum coord_err coord_wasm_exists(struct coord_db *db, const struct coord_config *cfg,
				 const char *checksum, json_object **out);

/* GET /public/wasm/info: the newest row of the triple whose file exists. */
enum coord_err coord_wasm_info(struct coord_db *db, const struct coord_config *cfg,
			       const char *repo_url, const char *commit_hash,
			       const char *build_target, json_object **out);

/* Total size of the cache rows; *over when above the configured cap. */
enum coord_err coord_wasm_over_cap(struct coord_db *db, int64_t cap, bool *over);

struct coord_evict_counts {
	long rows_without_file, orphans, temp_files, evicted, corrupt, verified;
	int64_t freed_bytes;
};

/*
 * One pass of wasm-cache-evict (SPEC §6.2) under advisory lock 7364002,
 * taken by the caller. cap 0: no cap. dry_run: report only (to report).
 */
enum coord_err coord_wasm_evict(struct coord_db *db, const struct coord_config *cfg, int64_t cap,
				bool verify, bool dry_run, FILE *report,
				struct coord_evict_counts *counts);

#endif
