/*
 * libFuzzer target: coord_pct_decode in both modes, coord_path_split and
 * coord_route_match on arbitrary bytes (SPEC §0.2 steps 2-4).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_mem.h"
#include "coord_parse.h"
#include "coord_router.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h_dummy(struct coord_req *r)
{
	(void)r;
}

static const struct coord_route routes[] = {
	{ "GET", "/wasm/:checksum", h_dummy, 0 },
	{ "POST", "/wasm/upload", h_dummy, 0 },
	{ "GET", "/wasm/exists/:checksum", h_dummy, 0 },
	{ "DELETE", "/locks/release/:lock_key", h_dummy, 0 },
	{ "GET", "/health", h_dummy, 0 },
	{ "GET", "/health/detailed", h_dummy, 0 },
	{ "DELETE", "/admin/workers/:worker_id", h_dummy, 0 },
	{ "POST", "/call/:owner/:project", h_dummy, 0 },
};
static const char *const methods[] = { "GET", "HEAD", "POST", "DELETE", "OPTIONS" };

static void decode(const char *in, size_t len, bool plus_is_space)
{
	char *out = malloc(len + 1);
	size_t outlen = 0;
	if (coord_pct_decode(in, len, plus_is_space, out, &outlen) == COORD_OK) {
		CHECK(outlen <= len);
		CHECK(out[outlen] == '\0');
		CHECK(memchr(out, '\0', outlen) == NULL);
		CHECK(coord_utf8_valid(out, outlen));
		if (!memchr(in, '%', len) && (!plus_is_space || !memchr(in, '+', len)))
			CHECK(outlen == len && memcmp(out, in, len) == 0);
	}
	free(out);
}

static void split_and_route(const char *raw, size_t len)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_path path;
	if (coord_path_split(&arena, raw, len, &path) == COORD_OK) {
		size_t slashes = 0;
		for (size_t i = 0; i < len; i++)
			if (raw[i] == '/')
				slashes++;
		CHECK(len > 0 && raw[0] == '/');
		CHECK(path.n == slashes);
		for (size_t i = 0; i < path.n; i++) {
			CHECK(strlen(path.seg[i]) == path.len[i]);
			CHECK(coord_utf8_valid(path.seg[i], path.len[i]));
		}
		for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++) {
			struct coord_match m;
			bool head = k % 2 == 0;
			coord_route_match(routes, sizeof(routes) / sizeof(routes[0]), &path, methods[k],
					  head, &m);
			CHECK(m.status == 0 || m.status == 404 || m.status == 405);
			if (m.status == 0) {
				CHECK(m.route != NULL && m.nparams <= COORD_MAX_PARAMS);
				for (size_t p = 0; p < m.nparams; p++) {
					CHECK(m.param_len[p] > 0);
					CHECK(strlen(m.params[p]) == m.param_len[p]);
					CHECK(strcmp(m.params[p], ".") != 0 && strcmp(m.params[p], "..") != 0);
				}
			} else if (m.status == 405) {
				CHECK(m.allow[0] != '\0' && memchr(m.allow, '\0', sizeof(m.allow)));
			}
		}
	}
	coord_arena_release(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	decode(in, size, false);
	decode(in, size, true);
	split_and_route(in, size);

	/* the same bytes as a path, so that the router sees most inputs */
	char *path = malloc(size + 1);
	path[0] = '/';
	if (size)
		memcpy(path + 1, data, size);
	split_and_route(path, size + 1);
	free(path);
	return 0;
}
