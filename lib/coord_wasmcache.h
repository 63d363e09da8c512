/* The WASM cache (SPEC §3.2.5): what the queue needs of it so far. */
#ifndef COORD_WASMCACHE_H
#define COORD_WASMCACHE_H

#include <stdbool.h>

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

#endif
