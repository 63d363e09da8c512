#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "coord_buf.h"
#include "coord_crypto.h"
#include "coord_int.h"
#include "coord_parse.h"
#include "coord_wasmcache.h"
#include "banned.h"

enum { WASM_ROW_EXISTS, WASM_LOCK, WASM_DELETE_ROW };

const struct coord_stmt coord_wasmcache_stmts[] = {
	[WASM_ROW_EXISTS] = { "wasm_row_exists", "SELECT 1 FROM wasm_cache WHERE checksum = $1" },
	[WASM_LOCK] = { "wasm_lock",
		"SELECT pg_advisory_xact_lock(hashtextextended('wasm:' || $1, 0))" },
	[WASM_DELETE_ROW] = { "wasm_delete_row", "DELETE FROM wasm_cache WHERE checksum = $1" },
};
const size_t coord_wasmcache_nstmts =
	sizeof(coord_wasmcache_stmts) / sizeof(coord_wasmcache_stmts[0]);

bool coord_wasm_checksum_valid(const char *checksum)
{
	return coord_lowerhex_valid(checksum, strlen(checksum), 64);
}

void coord_wasm_checksum_github(const char *repo, const char *commit, const char *build_target,
				char out[static 65])
{
	struct coord_buf b = COORD_BUF_INIT;
	coord_buf_addf(&b, "%s:%s:%s", repo, commit, build_target);
	coord_sha256_hex(b.ptr, b.len, out);
	coord_buf_release(&b);
}

void coord_wasm_checksum_url(const char *hash, char out[static 65])
{
	size_t i = 0;
	for (; hash && hash[i] && i < 64; i++)
		out[i] = (char)tolower((unsigned char)hash[i]);
	out[i] = '\0';
}

static bool file_exists(const struct coord_config *cfg, const char *checksum)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s.wasm", cfg->wasm_cache_dir, checksum);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static enum coord_err run(struct coord_db *db, int which, const char *checksum, int *rows)
{
	PGresult *res;
	const char *p[] = { checksum };
	enum coord_err e = coord_db_exec(db, &coord_wasmcache_stmts[which], 1, p, &res);
	if (e != COORD_OK)
		return e;
	if (rows)
		*rows = PQntuples(res);
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_wasm_ok(struct coord_db *db, const struct coord_config *cfg,
			     const char *checksum, bool *ok)
{
	int rows = 0;
	*ok = false;
	if (!coord_wasm_checksum_valid(checksum))
		return COORD_OK;
	enum coord_err e = run(db, WASM_ROW_EXISTS, checksum, &rows);
	if (e != COORD_OK || rows == 0)
		return e;
	if (file_exists(cfg, checksum)) {
		*ok = true;
		return COORD_OK;
	}
	/* a row without file: delete it under the cache lock, after looking again */
	e = run(db, WASM_LOCK, checksum, NULL);
	if (e != COORD_OK)
		return e;
	if (file_exists(cfg, checksum)) {
		*ok = true;
		return COORD_OK;
	}
	return run(db, WASM_DELETE_ROW, checksum, NULL);
}
