#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coord_buf.h"
#include "coord_crypto.h"
#include "coord_int.h"
#include "coord_log.h"
#include "coord_maint.h"
#include "coord_metrics.h"
#include "coord_parse.h"
#include "coord_wasmcache.h"
#include "coord_wasmmem.h"
#include "banned.h"

enum {
	WASM_ROW_EXISTS,
	WASM_LOCK,
	WASM_DELETE_ROW,
	WASM_ROW,
	WASM_UPSERT,
	WASM_VERIFIED,
	WASM_CREATED_AT,
	WASM_INFO,
	WASM_TOTAL,
	WASM_ROWS_AFTER,
	WASM_LRU,
	WASM_ACCESSED_AT,
};

const struct coord_stmt coord_wasmcache_stmts[] = {
	[WASM_ROW_EXISTS] = { "wasm_row_exists", "SELECT 1 FROM wasm_cache WHERE checksum = $1" },
	[WASM_LOCK] = { "wasm_lock",
		"SELECT pg_advisory_xact_lock(hashtextextended('wasm:' || $1, 0))" },
	[WASM_DELETE_ROW] = { "wasm_delete_row", "DELETE FROM wasm_cache WHERE checksum = $1" },
	[WASM_ROW] = { "wasm_row",
		"SELECT content_hash, verified_size, verified_mtime_ns, verified_inode "
		"FROM wasm_cache WHERE checksum = $1" },
	[WASM_UPSERT] = { "wasm_upsert",
		"INSERT INTO wasm_cache (checksum, repo_url, commit_hash, build_target, file_size, "
		"content_hash, verified_size, verified_mtime_ns, verified_inode) "
		"VALUES ($1, $2, $3, $4, $5, $6, $5, $7, $8) ON CONFLICT (checksum) DO UPDATE SET "
		"file_size = EXCLUDED.file_size, content_hash = EXCLUDED.content_hash, "
		"last_accessed_at = now(), verified_size = EXCLUDED.verified_size, "
		"verified_mtime_ns = EXCLUDED.verified_mtime_ns, verified_inode = EXCLUDED.verified_inode" },
	/* only while the row still has the content_hash the file was found to match */
	[WASM_VERIFIED] = { "wasm_verified",
		"UPDATE wasm_cache SET verified_size = $2, verified_mtime_ns = $3, verified_inode = $4 "
		"WHERE checksum = $1 AND content_hash = $5" },
	[WASM_CREATED_AT] = { "wasm_created_at",
		"SELECT " COORD_SQL_TS("created_at") " FROM wasm_cache WHERE checksum = $1" },
	[WASM_INFO] = { "wasm_info",
		"SELECT checksum, file_size, " COORD_SQL_TS("created_at") " FROM wasm_cache "
		"WHERE repo_url = $1 AND commit_hash = $2 AND build_target = $3 "
		"ORDER BY created_at DESC, checksum" },
	[WASM_TOTAL] = { "wasm_total", "SELECT coalesce(sum(file_size), 0) FROM wasm_cache" },
	[WASM_ROWS_AFTER] = { "wasm_rows_after",
		"SELECT checksum, content_hash FROM wasm_cache WHERE checksum > $1 "
		"ORDER BY checksum LIMIT 500" },
	[WASM_LRU] = { "wasm_lru",
		"SELECT checksum, file_size, last_accessed_at::text FROM wasm_cache "
		"WHERE $1::timestamptz IS NULL OR (last_accessed_at, checksum) > ($1, $2) "
		"ORDER BY last_accessed_at, checksum LIMIT 500" },
	[WASM_ACCESSED_AT] = { "wasm_accessed_at",
		"SELECT last_accessed_at::text FROM wasm_cache WHERE checksum = $1" },
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

/* ---- files ---- */

static void wasm_path(const struct coord_config *cfg, const char *checksum, char *out, size_t n)
{
	snprintf(out, n, "%s/%s.wasm", cfg->wasm_cache_dir, checksum);
}

static bool fingerprint_of(const char *path, struct coord_wasm_fingerprint *f)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	f->size = (int64_t)st.st_size;
	f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	f->inode = (int64_t)st.st_ino;
	return true;
}

/* *updated false: the row is gone or no longer has content_hash. */
static enum coord_err record_verified(struct coord_db *db, const char *checksum,
				      const char *content_hash,
				      const struct coord_wasm_fingerprint *f, bool *updated)
{
	char size[24], mtime[24], inode[24];
	PGresult *res;
	snprintf(size, sizeof(size), "%lld", (long long)f->size);
	snprintf(mtime, sizeof(mtime), "%lld", (long long)f->mtime_ns);
	snprintf(inode, sizeof(inode), "%lld", (long long)f->inode);
	const char *p[] = { checksum, size, mtime, inode, content_hash };
	enum coord_err e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_VERIFIED], 5, p, &res);
	if (e != COORD_OK)
		return e;
	*updated = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	return COORD_OK;
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

static bool fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

enum coord_err coord_wasm_upload(struct coord_db *db, const struct coord_config *cfg,
				 const struct coord_wasm_upload *u)
{
	char rnd[33], tmp[4096], path[4096], content_hash[65];
	char size[24], mtime[24], inode[24];
	struct coord_wasm_fingerprint f;
	enum coord_err e = coord_random_hex(16, rnd);
	if (e != COORD_OK)
		return e;
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", cfg->wasm_cache_dir, rnd);
	wasm_path(cfg, u->checksum, path, sizeof(path));

	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		coord_log(COORD_LOG_ERROR, "wasm: cannot create %s: %s", tmp, strerror(errno));
		return COORD_ERR_IO;
	}
	bool ok = write_all(fd, u->data, u->len) && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (!ok) {
		coord_log(COORD_LOG_ERROR, "wasm: cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return COORD_ERR_IO;
	}
	coord_sha256_hex(u->data, u->len, content_hash);

	bool renamed = false;
	const char *lk[] = { u->checksum };
	if ((e = coord_db_begin(db)) != COORD_OK ||
	    (e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_LOCK], 1, lk, NULL)) != COORD_OK)
		goto out;
	if (rename(tmp, path) != 0 || !fsync_dir(cfg->wasm_cache_dir) || !fingerprint_of(path, &f)) {
		coord_log(COORD_LOG_ERROR, "wasm: cannot install %s: %s", path, strerror(errno));
		e = COORD_ERR_IO;
		goto out;
	}
	renamed = true;
	snprintf(size, sizeof(size), "%lld", (long long)f.size);
	snprintf(mtime, sizeof(mtime), "%lld", (long long)f.mtime_ns);
	snprintf(inode, sizeof(inode), "%lld", (long long)f.inode);
	const char *p[] = { u->checksum, u->repo_url, u->commit_hash, u->build_target, size,
			    content_hash, mtime, inode };
	if ((e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_UPSERT], 8, p, NULL)) == COORD_OK)
		e = coord_db_commit(db);
out:
	if (e != COORD_OK) {
		coord_db_rollback(db);
		if (!renamed)
			unlink(tmp);
	}
	/* the other processes learn it from the trigger's notification; this one at once */
	if (renamed)
		coord_wasmmem_forget(u->checksum);
	return e;
}

/*
 * Under the cache lock, in its own transaction: deletes the row when the
 * file is (still) missing. *gone tells which.
 */
static enum coord_err delete_if_missing(struct coord_db *db, const struct coord_config *cfg,
					const char *checksum, bool *gone)
{
	char path[4096];
	struct coord_wasm_fingerprint f;
	const char *p[] = { checksum };
	*gone = false;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	if ((e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_LOCK], 1, p, NULL)) != COORD_OK)
		goto out;
	wasm_path(cfg, checksum, path, sizeof(path));
	if (!fingerprint_of(path, &f)) {
		*gone = true;
		e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_DELETE_ROW], 1, p, NULL);
	}
	if (e == COORD_OK)
		e = coord_db_commit(db);
out:
	if (e != COORD_OK)
		coord_db_rollback(db);
	else if (*gone)
		coord_wasmmem_forget(checksum);
	return e;
}

/*
 * The file's hash differs from the row's: under the lock, read the row and
 * hash again (a re-upload may have raced us); delete file and row only if
 * they still disagree. *corrupt tells which.
 */
static enum coord_err delete_if_corrupt(struct coord_db *db, const struct coord_config *cfg,
					const char *checksum, bool *corrupt)
{
	char path[4096], hash[65];
	struct coord_wasm_fingerprint f;
	PGresult *res = NULL;
	const char *p[] = { checksum };
	*corrupt = false;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	if ((e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_LOCK], 1, p, NULL)) != COORD_OK ||
	    (e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_ROW], 1, p, &res)) != COORD_OK)
		goto out;
	wasm_path(cfg, checksum, path, sizeof(path));
	if (PQntuples(res) == 0) {
		*corrupt = true; /* deleted meanwhile */
	} else if (!fingerprint_of(path, &f) || coord_sha256_file(path, hash) != COORD_OK) {
		*corrupt = true;
		e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_DELETE_ROW], 1, p, NULL);
	} else if (strcmp(hash, PQgetvalue(res, 0, 0)) != 0) {
		*corrupt = true;
		coord_log(COORD_LOG_WARN, "wasm: %s does not match its content hash; deleted", checksum);
		unlink(path);
		e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_DELETE_ROW], 1, p, NULL);
	} else {
		bool updated; /* under the lock: the row cannot have changed */
		e = record_verified(db, checksum, PQgetvalue(res, 0, 0), &f, &updated);
	}
	if (e == COORD_OK)
		e = coord_db_commit(db);
out:
	PQclear(res);
	if (e != COORD_OK)
		coord_db_rollback(db);
	else
		coord_wasmmem_forget(checksum); /* deleted, or its verified stat changed */
	return e;
}

/* The row's content_hash and verified stat; *found false when there is no row. */
static enum coord_err read_row(struct coord_db *db, const char *checksum,
			       struct coord_wasm_memo *m, bool *found)
{
	PGresult *res;
	const char *p[] = { checksum };
	enum coord_err e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_ROW], 1, p, &res);
	if (e != COORD_OK)
		return e;
	*found = PQntuples(res) == 1;
	if (*found) {
		snprintf(m->content_hash, sizeof(m->content_hash), "%s", PQgetvalue(res, 0, 0));
		m->verified = (struct coord_wasm_fingerprint){
			strtoll(PQgetvalue(res, 0, 1), NULL, 10),
			strtoll(PQgetvalue(res, 0, 2), NULL, 10),
			strtoll(PQgetvalue(res, 0, 3), NULL, 10),
		};
	}
	PQclear(res);
	return COORD_OK;
}

static bool same_stat(const struct coord_wasm_fingerprint *a, const struct coord_wasm_fingerprint *b)
{
	return a->size == b->size && a->mtime_ns == b->mtime_ns && a->inode == b->inode;
}

enum verdict {
	SERVE,    /* the file matches m (m->verified is its stat now) */
	GONE,     /* file and row deleted, or the row without file */
	OUTDATED, /* the row is no longer what m says (changed meanwhile) */
};

/*
 * The integrity steps of a download (SPEC §3.2.5) given the row's values m, remembered or
 * just read: a missing file deletes the row, a changed stat re-hashes the file, a mismatch
 * deletes file and row under the cache lock. *recorded: m->verified was updated.
 */
static enum coord_err check_file(struct coord_db *db, const struct coord_config *cfg,
				 const char *checksum, const char *path, struct coord_wasm_memo *m,
				 struct coord_wasm_fingerprint *f, enum verdict *v, bool *recorded)
{
	char hash[65];
	bool gone, corrupt, updated;
	enum coord_err e;
	*v = SERVE;
	*recorded = false;
	if (!fingerprint_of(path, f)) {
		if ((e = delete_if_missing(db, cfg, checksum, &gone)) != COORD_OK)
			return e;
		if (gone || !fingerprint_of(path, f)) {
			*v = GONE;
			return COORD_OK;
		}
	}
	if (same_stat(f, &m->verified))
		return COORD_OK;
	if (coord_sha256_file(path, hash) == COORD_OK && strcmp(hash, m->content_hash) == 0) {
		if ((e = record_verified(db, checksum, m->content_hash, f, &updated)) != COORD_OK)
			return e;
		m->verified = *f;
		*recorded = updated;
		*v = updated ? SERVE : OUTDATED;
		return COORD_OK;
	}
	if ((e = delete_if_corrupt(db, cfg, checksum, &corrupt)) != COORD_OK)
		return e;
	/* not corrupt: a re-upload raced us, and the file matches the row as it is now */
	*v = corrupt ? GONE : OUTDATED;
	return COORD_OK;
}

enum coord_err coord_wasm_download(struct coord_db *db, const struct coord_config *cfg,
				   const char *checksum, char *path, size_t pathlen,
				   int64_t *size)
{
	struct coord_wasm_memo m;
	struct coord_wasm_fingerprint f;
	enum verdict v = OUTDATED;
	enum coord_err e;

	wasm_path(cfg, checksum, path, pathlen);
	bool listening = coord_db_notifications(db);
	/* the second pass reads the row that the first found changed */
	for (int pass = 0; pass < 2 && v == OUTDATED; pass++) {
		uint64_t epoch = coord_wasmmem_epoch();
		bool recorded, remembered = listening && pass == 0 &&
					    coord_wasmmem_recall(checksum, &m);
		if (!remembered) {
			bool found;
			if ((e = read_row(db, checksum, &m, &found)) != COORD_OK)
				return e;
			if (!found) {
				coord_wasmmem_forget(checksum);
				return COORD_ERR_NOT_FOUND;
			}
		}
		if ((e = check_file(db, cfg, checksum, path, &m, &f, &v, &recorded)) != COORD_OK)
			return e;
		if (v == GONE)
			return COORD_ERR_NOT_FOUND;
		if (v == OUTDATED)
			coord_wasmmem_forget(checksum);
		else if (!remembered || recorded)
			coord_wasmmem_remember(checksum, &m, epoch);
	}
	/* still OUTDATED: the row changes under us; the file matched it a moment ago */
	coord_wasmmem_count(checksum);
	coord_metrics_wasm_download();
	*size = f.size;
	return COORD_OK;
}

enum coord_err coord_wasm_exists(struct coord_db *db, const struct coord_config *cfg,
				 const char *checksum, json_object **out)
{
	char path[4096], created[40] = "";
	struct coord_wasm_fingerprint f;
	PGresult *res;
	bool gone = false;
	const char *p[] = { checksum };
	enum coord_err e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_CREATED_AT], 1, p, &res);
	if (e != COORD_OK)
		return e;
	bool row = PQntuples(res) == 1;
	if (row)
		snprintf(created, sizeof(created), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	wasm_path(cfg, checksum, path, sizeof(path));
	if (row && !fingerprint_of(path, &f)) {
		if ((e = delete_if_missing(db, cfg, checksum, &gone)) != COORD_OK)
			return e;
	}
	bool exists = row && !gone;
	*out = json_object_new_object();
	json_object_object_add(*out, "exists", json_object_new_boolean(exists));
	json_object_object_add(*out, "created_at", exists ? json_object_new_string(created) : NULL);
	return COORD_OK;
}

enum coord_err coord_wasm_info(struct coord_db *db, const struct coord_config *cfg,
			       const char *repo_url, const char *commit_hash,
			       const char *build_target, json_object **out)
{
	PGresult *res;
	const char *p[] = { repo_url, commit_hash, build_target };
	enum coord_err e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_INFO], 3, p, &res);
	if (e != COORD_OK)
		return e;
	*out = json_object_new_object();
	for (int i = 0; i < PQntuples(res); i++) {
		char path[4096];
		struct coord_wasm_fingerprint f;
		bool gone;
		const char *checksum = PQgetvalue(res, i, 0);
		wasm_path(cfg, checksum, path, sizeof(path));
		if (!fingerprint_of(path, &f)) {
			if ((e = delete_if_missing(db, cfg, checksum, &gone)) != COORD_OK)
				break;
			if (gone)
				continue;
		}
		json_object_object_add(*out, "exists", json_object_new_boolean(1));
		json_object_object_add(*out, "checksum", json_object_new_string(checksum));
		json_object_object_add(*out, "file_size",
				       json_object_new_int64(strtoll(PQgetvalue(res, i, 1), NULL, 10)));
		json_object_object_add(*out, "created_at", json_object_new_string(PQgetvalue(res, i, 2)));
		break;
	}
	PQclear(res);
	if (e != COORD_OK) {
		json_object_put(*out);
		return e;
	}
	if (!json_object_object_get_ex(*out, "exists", NULL)) {
		json_object_object_add(*out, "exists", json_object_new_boolean(0));
		json_object_object_add(*out, "checksum", NULL);
		json_object_object_add(*out, "file_size", NULL);
		json_object_object_add(*out, "created_at", NULL);
	}
	return COORD_OK;
}

enum coord_err coord_wasm_over_cap(struct coord_db *db, int64_t cap, bool *over)
{
	PGresult *res;
	*over = false;
	if (cap == 0)
		return COORD_OK;
	enum coord_err e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_TOTAL], 0, NULL, &res);
	if (e != COORD_OK)
		return e;
	*over = strtoll(PQgetvalue(res, 0, 0), NULL, 10) > cap;
	PQclear(res);
	return COORD_OK;
}

/* ---- wasm-cache-evict (SPEC §6.2) ---- */

#define HOUR_NS (INT64_C(3600) * 1000000000)

static bool cache_file_name(const char *name, bool *temp)
{
	size_t n = strlen(name);
	*temp = strncmp(name, ".tmp-", 5) == 0;
	return *temp || (n == 69 && strcmp(name + 64, ".wasm") == 0 &&
			 coord_lowerhex_valid(name, 64, 64));
}

/* Step 2: orphan files and stale temporary files older than one hour. */
static enum coord_err evict_orphans(struct coord_db *db, const struct coord_config *cfg,
				    bool dry_run, FILE *report, struct coord_evict_counts *n)
{
	DIR *d = opendir(cfg->wasm_cache_dir);
	struct dirent *de;
	enum coord_err e = COORD_OK;
	int64_t now_ns = coord_now_ms() * 1000000;
	if (!d)
		return COORD_ERR_IO;
	while (e == COORD_OK && (de = readdir(d)) != NULL) {
		char path[4096], checksum[65];
		struct coord_wasm_fingerprint f;
		bool temp;
		if (!cache_file_name(de->d_name, &temp))
			continue;
		if (coord_maint_interrupted()) {
			e = COORD_ERR_CONFLICT; /* stopped by a signal: retry later */
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", cfg->wasm_cache_dir, de->d_name);
		if (!fingerprint_of(path, &f) || now_ns - f.mtime_ns < HOUR_NS)
			continue;
		if (!temp) {
			int rows = 0;
			PGresult *res;
			snprintf(checksum, sizeof(checksum), "%.64s", de->d_name);
			const char *p[] = { checksum };
			if ((e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_ROW_EXISTS], 1, p, &res)) != COORD_OK)
				break;
			rows = PQntuples(res);
			PQclear(res);
			if (rows)
				continue;
			n->orphans++;
		} else {
			n->temp_files++;
		}
		if (report)
			fprintf(report, "delete %s file %s\n", temp ? "temporary" : "orphan", de->d_name);
		if (!dry_run)
			unlink(path);
	}
	closedir(d);
	return e;
}

/*
 * Step 3: least recently used rows until the excess measured before the first one is freed,
 * in pages of 500 after the last row seen (a row accessed meanwhile stays and is passed).
 */
static enum coord_err evict_lru(struct coord_db *db, const struct coord_config *cfg, int64_t cap,
				bool dry_run, FILE *report, struct coord_evict_counts *n)
{
	PGresult *res;
	enum coord_err e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_TOTAL], 0, NULL, &res);
	if (e != COORD_OK)
		return e;
	int64_t excess = strtoll(PQgetvalue(res, 0, 0), NULL, 10) - cap;
	PQclear(res);
	if (cap == 0 || excess <= 0)
		return COORD_OK;
	char after_at[64] = "", after_sum[65] = "";
	int rows;
	do {
		const char *page[] = { after_at[0] ? after_at : NULL, after_sum };
		if ((e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_LRU], 2, page, &res)) != COORD_OK)
			return e;
		rows = PQntuples(res);
		for (int i = 0; i < rows && n->freed_bytes < excess && e == COORD_OK; i++) {
			const char *checksum = PQgetvalue(res, i, 0), *accessed = PQgetvalue(res, i, 2);
			int64_t size = strtoll(PQgetvalue(res, i, 1), NULL, 10);
			snprintf(after_at, sizeof(after_at), "%s", accessed);
			snprintf(after_sum, sizeof(after_sum), "%s", checksum);
			if (coord_maint_interrupted()) {
				e = COORD_ERR_CONFLICT; /* stopped by a signal: retry later */
				break;
			}
			if (report)
				fprintf(report, "evict %s (%lld bytes)\n", checksum, (long long)size);
			if (dry_run) {
				n->freed_bytes += size;
				n->evicted++;
				continue;
			}
			/* under the lock, only if it was not accessed meanwhile: file first, then row */
			const char *p[] = { checksum };
			PGresult *now = NULL;
			if ((e = coord_db_begin(db)) != COORD_OK ||
			    (e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_LOCK], 1, p, NULL)) != COORD_OK ||
			    (e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_ACCESSED_AT], 1, p, &now)) != COORD_OK) {
				coord_db_rollback(db);
				break;
			}
			bool unchanged = PQntuples(now) == 1 && strcmp(PQgetvalue(now, 0, 0), accessed) == 0;
			PQclear(now);
			if (unchanged) {
				char path[4096];
				wasm_path(cfg, checksum, path, sizeof(path));
				unlink(path);
				e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_DELETE_ROW], 1, p, NULL);
			}
			if (e == COORD_OK)
				e = coord_db_commit(db);
			if (e != COORD_OK) {
				coord_db_rollback(db);
				break;
			}
			if (unchanged) {
				coord_wasmmem_forget(checksum);
				n->freed_bytes += size;
				n->evicted++;
			}
		}
		PQclear(res);
	} while (e == COORD_OK && rows > 0 && n->freed_bytes < excess);
	return e;
}

/* Steps 1 and 4 walk every row: missing files, and with verify, re-hashing. */
static enum coord_err walk_rows(struct coord_db *db, const struct coord_config *cfg, bool verify,
				bool dry_run, FILE *report, struct coord_evict_counts *n)
{
	char after[65] = "";
	for (;;) {
		PGresult *res;
		const char *p[] = { after };
		enum coord_err e = coord_db_exec(db, &coord_wasmcache_stmts[WASM_ROWS_AFTER], 1, p, &res);
		if (e != COORD_OK)
			return e;
		int rows = PQntuples(res);
		for (int i = 0; i < rows && e == COORD_OK; i++) {
			const char *checksum = PQgetvalue(res, i, 0);
			char path[4096], hash[65];
			struct coord_wasm_fingerprint f;
			bool gone = false;
			if (coord_maint_interrupted()) {
				e = COORD_ERR_CONFLICT; /* stopped by a signal: retry later */
				break;
			}
			wasm_path(cfg, checksum, path, sizeof(path));
			if (!verify && !fingerprint_of(path, &f)) {
				n->rows_without_file++;
				if (report)
					fprintf(report, "delete row %s (file missing)\n", checksum);
				if (!dry_run)
					e = delete_if_missing(db, cfg, checksum, &gone);
			} else if (verify && fingerprint_of(path, &f)) {
				if (coord_sha256_file(path, hash) == COORD_OK &&
				    strcmp(hash, PQgetvalue(res, i, 1)) == 0) {
					n->verified++;
					bool updated; /* else changed meanwhile: nothing to record */
					if (!dry_run)
						e = record_verified(db, checksum, PQgetvalue(res, i, 1), &f,
								    &updated);
					continue;
				}
				n->corrupt++;
				fprintf(stderr, "wasm-cache-evict: %s does not match its content hash%s\n",
					checksum, dry_run ? "" : "; deleted");
				if (!dry_run)
					e = delete_if_corrupt(db, cfg, checksum, &gone);
			}
		}
		if (rows)
			snprintf(after, sizeof(after), "%s", PQgetvalue(res, rows - 1, 0));
		PQclear(res);
		if (e != COORD_OK || rows == 0)
			return e;
	}
}

enum coord_err coord_wasm_evict(struct coord_db *db, const struct coord_config *cfg, int64_t cap,
				bool verify, bool dry_run, FILE *report,
				struct coord_evict_counts *n)
{
	memset(n, 0, sizeof(*n));
	enum coord_err e = walk_rows(db, cfg, false, dry_run, report, n);
	if (e == COORD_OK)
		e = evict_orphans(db, cfg, dry_run, report, n);
	if (e == COORD_OK)
		e = evict_lru(db, cfg, cap, dry_run, report, n);
	if (e == COORD_OK && verify)
		e = walk_rows(db, cfg, true, dry_run, report, n);
	return e;
}
