/* The WASM cache routes of worker.fcgi (SPEC §3.2.5). */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coord_maint.h"
#include "coord_multipart.h"
#include "coord_wasmcache.h"
#include "coord_wasmmem.h"
#include "worker.h"
#include "banned.h"

/* The :checksum segment, or false after replying 400 invalid_checksum. */
static bool checksum_param(struct coord_req *r)
{
	if (coord_wasm_checksum_valid(r->params[0]))
		return true;
	coord_reply_error(r, 400, "invalid_checksum", "checksum must be 64 lower-case hex characters");
	return false;
}

void worker_wasm_download(struct coord_req *r)
{
	char path[PATH_MAX];
	int64_t size;
	if (!checksum_param(r))
		return;
	enum coord_err e = coord_wasm_download(r->db, r->cfg, r->params[0], path, sizeof(path), &size);
	if (e == COORD_ERR_NOT_FOUND) {
		coord_reply_error(r, 404, "wasm_not_found", "WASM not cached");
		return;
	}
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	if (r->cfg->sendfile == COORD_SENDFILE_X_SENDFILE) {
		coord_reply_sendfile(r, "application/octet-stream", path);
		return;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		coord_reply_error(r, 404, "wasm_not_found", "WASM not cached");
		return;
	}
	coord_reply_file(r, 200, "application/octet-stream", fd, (int64_t)st.st_size);
	close(fd);
}

void worker_wasm_flush(struct coord_bg *bg, bool final)
{
	coord_wasmmem_flush(bg->db, final);
}

/* After an upload's reply: one eviction pass when the cache is above its cap. */
static void evict_after_upload(struct coord_req *r)
{
	bool over, got;
	struct coord_evict_counts n;
	if (coord_wasm_over_cap(r->db, r->cfg->wasm_cache_max_bytes, &over) != COORD_OK || !over ||
	    coord_maint_try_lock(r->db, COORD_LOCK_WASM_EVICT, &got) != COORD_OK || !got)
		return;
	coord_wasm_evict(r->db, r->cfg, r->cfg->wasm_cache_max_bytes, false, false, NULL, &n);
	coord_maint_unlock(r->db, COORD_LOCK_WASM_EVICT);
}

void worker_wasm_upload(struct coord_req *r)
{
	static const struct {
		const char *name;
		size_t max;
		bool required;
	} fields[] = {
		{ "checksum", 64, true },
		{ "repo_url", 512, true },
		{ "commit_hash", 256, true },
		{ "build_target", 64, false },
		{ "wasm_file", 0, true },
	};
	enum { CHECKSUM, REPO, COMMIT, TARGET, FILE_PART, NPARTS };
	const struct coord_multipart_part *got[NPARTS];
	struct coord_multipart_part *parts;
	size_t nparts;
	char boundary[71];
	const char *why = NULL;
	const char *texts[NPARTS];

	if (coord_multipart_boundary(coord_req_getparam(r, "CONTENT_TYPE"), boundary) != COORD_OK) {
		coord_reply_error(r, 400, "invalid_upload", "Expected multipart/form-data with a boundary");
		return;
	}
	if (coord_multipart_parse(&r->arena, boundary, r->body, r->body_len, &parts, &nparts, &why) !=
	    COORD_OK) {
		coord_reply_error(r, 400, "invalid_upload", why ? why : "Malformed multipart body");
		return;
	}
	for (size_t i = 0; i < NPARTS; i++) {
		bool duplicate;
		got[i] = coord_multipart_find(parts, nparts, fields[i].name, &duplicate);
		if (duplicate) {
			coord_reply_error(r, 400, "invalid_upload", "A part is repeated");
			return;
		}
		if (fields[i].required && (!got[i] || got[i]->len == 0)) {
			coord_reply_error(r, 400, "invalid_upload", "A required part is missing or empty");
			return;
		}
		texts[i] = NULL;
		if (!got[i] || i == FILE_PART)
			continue;
		if (got[i]->len > fields[i].max || memchr(got[i]->data, '\0', got[i]->len) ||
		    !coord_utf8_valid(got[i]->data, got[i]->len)) {
			if (i == CHECKSUM)
				coord_reply_error(r, 400, "invalid_checksum",
						  "checksum must be 64 lower-case hex characters");
			else
				coord_reply_error(r, 400, "invalid_upload", "A part is too long or not text");
			return;
		}
		texts[i] = coord_arena_memdup(&r->arena, got[i]->data, got[i]->len);
	}
	if (!coord_wasm_checksum_valid(texts[CHECKSUM])) {
		coord_reply_error(r, 400, "invalid_checksum", "checksum must be 64 lower-case hex characters");
		return;
	}
	if (!coord_req_db(r))
		return;
	struct coord_wasm_upload u = {
		texts[CHECKSUM], texts[REPO], texts[COMMIT],
		texts[TARGET] && *texts[TARGET] ? texts[TARGET] : "wasm32-wasip1",
		got[FILE_PART]->data, got[FILE_PART]->len,
	};
	enum coord_err e = coord_wasm_upload(r->db, r->cfg, &u);
	if (e == COORD_ERR_IO) {
		coord_reply_error(r, 500, "internal_error", "Cannot store the file");
		return;
	}
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	coord_reply_empty(r, 201);
	if (r->cfg->wasm_cache_max_bytes > 0)
		r->deferred = evict_after_upload;
}
