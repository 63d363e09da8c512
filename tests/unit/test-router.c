/*
 * Table-driven tests of lib/coord_router: path splitting and decoding
 * (SPEC §0.2 steps 2-3) and route matching with 404/405 and Allow
 * (step 4), on a route table shaped like worker.fcgi's.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "coord_mem.h"
#include "coord_router.h"
#include "tap.h"
#include "banned.h"

#define S(x) x, sizeof(x) - 1
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void h_dummy(struct coord_req *r)
{
	(void)r;
}

/* ---- coord_path_split ---- */

#define MAXSEG 20

static const struct {
	const char *raw;
	size_t len;
	enum coord_err want;
	size_t n;
	const char *seg[MAXSEG];
} split_cases[] = {
	{ S("/"), COORD_OK, 1, { "" } },
	{ S("/health"), COORD_OK, 1, { "health" } },
	{ S("/health/"), COORD_OK, 2, { "health", "" } },
	{ S("//health"), COORD_OK, 2, { "", "health" } },
	{ S("/a//b"), COORD_OK, 3, { "a", "", "b" } },
	{ S("//"), COORD_OK, 2, { "", "" } },
	{ S("/wasm/exists/abc"), COORD_OK, 3, { "wasm", "exists", "abc" } },
	{ S("/locks/release/a%2Fb"), COORD_OK, 3, { "locks", "release", "a/b" } },
	{ S("/locks/release/a%2fb%2F"), COORD_OK, 3, { "locks", "release", "a/b/" } },
	{ S("/%2F"), COORD_OK, 1, { "/" } },
	{ S("/%68ealth"), COORD_OK, 1, { "health" } },
	{ S("/%68%65%61%6C%74%68"), COORD_OK, 1, { "health" } },
	{ S("/a+b"), COORD_OK, 1, { "a+b" } },
	{ S("/a%20b"), COORD_OK, 1, { "a b" } },
	{ S("/a%2Bb"), COORD_OK, 1, { "a+b" } },
	{ S("/%25"), COORD_OK, 1, { "%" } },
	{ S("/%2525"), COORD_OK, 1, { "%25" } },
	{ S("/."), COORD_OK, 1, { "." } },
	{ S("/.."), COORD_OK, 1, { ".." } },
	{ S("/%2E%2e"), COORD_OK, 1, { ".." } },
	{ S("/jobs/../health"), COORD_OK, 3, { "jobs", "..", "health" } },
	{ S("/%C3%A9t%C3%A9"), COORD_OK, 1, { "\xc3\xa9t\xc3\xa9" } },
	{ S("/\xc3\xa9"), COORD_OK, 1, { "\xc3\xa9" } },
	{ S("/a%0Ab"), COORD_OK, 1, { "a\nb" } },
	{ S("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r"), COORD_OK, 18,
	  { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
	    "r" } },
	{ "/health/detailed", 7, COORD_OK, 1, { "health" } }, /* the length is respected */
	{ S(""), COORD_ERR_INVALID, 0, { NULL } },
	{ S("health"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("*"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("%2Fhealth"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/%zz"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/a/%4"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/a/%4/b"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/a%"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/a/%/b"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/health/%g0"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/%00"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/a/b%00c"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/a\0b"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/a/%C3"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/a/%C3/b"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/%C3%2F%A9"), COORD_ERR_INVALID, 0, { NULL } }, /* split does not join bytes */
	{ S("/%FF"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/\xff"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/ok/\xc3"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/%C0%AE%C0%AE"), COORD_ERR_INVALID, 0, { NULL } }, /* overlong ".." */
	{ S("/%ED%A0%80"), COORD_ERR_INVALID, 0, { NULL } },
	{ S("/%F4%90%80%80"), COORD_ERR_INVALID, 0, { NULL } },
};

static void test_split(void)
{
	for (size_t i = 0; i < N(split_cases); i++) {
		struct coord_arena arena = COORD_ARENA_INIT;
		struct coord_path p;
		memset(&p, 0, sizeof(p));
		enum coord_err e = coord_path_split(&arena, split_cases[i].raw, split_cases[i].len, &p);
		bool good = e == split_cases[i].want;
		if (good && e == COORD_OK) {
			good = p.n == split_cases[i].n;
			for (size_t k = 0; good && k < p.n; k++)
				good = p.len[k] == strlen(split_cases[i].seg[k]) &&
				       strcmp(p.seg[k], split_cases[i].seg[k]) == 0;
		}
		ok(good, "path_split #%zu \"%s\" -> %s, %zu segments", i,
		   show(split_cases[i].raw, split_cases[i].len),
		   split_cases[i].want == COORD_OK ? "OK" : "INVALID", split_cases[i].n);
		coord_arena_release(&arena);
	}
}

/* ---- coord_route_match on worker.fcgi-like routes ---- */

static const struct coord_route worker_routes[] = {
	{ "GET", "/wasm/:checksum", h_dummy, COORD_RF_WORKER_AUTH },                  /* 0 */
	{ "POST", "/wasm/upload", h_dummy, COORD_RF_WORKER_AUTH | COORD_RF_BIG_BODY }, /* 1 */
	{ "GET", "/wasm/exists/:checksum", h_dummy, COORD_RF_WORKER_AUTH },           /* 2 */
	{ "DELETE", "/locks/release/:lock_key", h_dummy, COORD_RF_WORKER_AUTH },      /* 3 */
	{ "GET", "/health", h_dummy, 0 },                                             /* 4 */
	{ "GET", "/health/detailed", h_dummy, 0 },                                    /* 5 */
	{ "DELETE", "/admin/workers/:worker_id", h_dummy, COORD_RF_ADMIN_AUTH },      /* 6 */
};

/* Allow ordering and "first differing segment" specificity. */
static const struct coord_route other_routes[] = {
	{ "DELETE", "/x", h_dummy, 0 },   /* 0 */
	{ "POST", "/x", h_dummy, 0 },     /* 1 */
	{ "GET", "/x", h_dummy, 0 },      /* 2 */
	{ "GET", "/a/:p/c", h_dummy, 0 }, /* 3 */
	{ "POST", "/a/b/:q", h_dummy, 0 }, /* 4 */
	{ "POST", "/m/:one/:two", h_dummy, 0 }, /* 5 */
};

struct match_case {
	int table; /* 0: worker_routes, 1: other_routes */
	const char *method;
	const char *path;
	bool head_on_get;
	int status;
	int route;      /* index in the table when status is 0 */
	const char *allow; /* 405 only */
	bool is_head;
	size_t nparams;
	const char *params[2];
};

static const struct match_case match_cases[] = {
	/* exact matches and parameters */
	{ 0, "GET", "/wasm/abc", false, 0, 0, "", false, 1, { "abc" } },
	{ 0, "GET", "/wasm/%61bc", false, 0, 0, "", false, 1, { "abc" } },
	{ 0, "GET", "/wasm/a%2Fb", false, 0, 0, "", false, 1, { "a/b" } },
	{ 0, "GET", "/wasm/...", false, 0, 0, "", false, 1, { "..." } },
	{ 0, "GET", "/wasm/exists", false, 0, 0, "", false, 1, { "exists" } },
	{ 0, "POST", "/wasm/upload", false, 0, 1, "", false, 0, { NULL } },
	{ 0, "POST", "/wasm/%75pload", false, 0, 1, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/exists/abc", false, 0, 2, "", false, 1, { "abc" } },
	{ 0, "DELETE", "/locks/release/my%2Fkey", false, 0, 3, "", false, 1, { "my/key" } },
	{ 0, "DELETE", "/locks/release/k", true, 0, 3, "", false, 1, { "k" } },
	{ 0, "GET", "/health", false, 0, 4, "", false, 0, { NULL } },
	{ 0, "GET", "/%68ealth", false, 0, 4, "", false, 0, { NULL } },
	{ 0, "GET", "/%68%65%61%6c%74%68", false, 0, 4, "", false, 0, { NULL } },
	{ 0, "GET", "/health/detailed", false, 0, 5, "", false, 0, { NULL } },
	{ 0, "GET", "/health/%64etailed", false, 0, 5, "", false, 0, { NULL } },
	{ 0, "DELETE", "/admin/workers/w-1", false, 0, 6, "", false, 1, { "w-1" } },
	{ 0, "DELETE", "/admin/workers/%C3%A9", false, 0, 6, "", false, 1, { "\xc3\xa9" } },
	/* 404: unknown, empty segments, dot segments, trailing slash, case */
	{ 0, "GET", "/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/unknown", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm//", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/abc/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/.", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/..", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/%2E", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/%2e%2E", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/exists/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/exists/..", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm/exists/abc/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "POST", "/wasm/upload/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "//wasm/abc", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/wasm//abc", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/health/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "//health", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/./health", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/jobs/../health", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/health/detailed/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/health%2Fdetailed", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/Health", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/HEALTH", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/healthz", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/health%20", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "GET", "/WASM/abc", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "POST", "/wasm/Upload", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "DELETE", "/locks/release", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "DELETE", "/locks/release/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "DELETE", "/locks/release/a/b", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "DELETE", "/admin/workers", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "DELETE", "/admin/workers/", false, 404, 0, "", false, 0, { NULL } },
	{ 0, "DELETE", "/admin/workers/.", false, 404, 0, "", false, 0, { NULL } },
	/* 405 with the exact Allow header */
	{ 0, "GET", "/wasm/upload", false, 405, 0, "POST", false, 0, { NULL } },
	{ 0, "GET", "/wasm/upload", true, 405, 0, "POST", false, 0, { NULL } },
	{ 0, "GET", "/wasm/%75pload", false, 405, 0, "POST", false, 0, { NULL } },
	{ 0, "HEAD", "/wasm/upload", true, 405, 0, "POST", false, 0, { NULL } },
	{ 0, "DELETE", "/wasm/upload", false, 405, 0, "POST", false, 0, { NULL } },
	{ 0, "POST", "/wasm/abc", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "POST", "/wasm/abc", true, 405, 0, "GET, HEAD", false, 0, { NULL } },
	{ 0, "POST", "/wasm/exists/abc", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "GET", "/locks/release/k", false, 405, 0, "DELETE", false, 0, { NULL } },
	{ 0, "GET", "/locks/release/k", true, 405, 0, "DELETE", false, 0, { NULL } },
	{ 0, "HEAD", "/locks/release/k", true, 405, 0, "DELETE", false, 0, { NULL } },
	{ 0, "POST", "/health", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "POST", "/health", true, 405, 0, "GET, HEAD", false, 0, { NULL } },
	{ 0, "DELETE", "/health/detailed", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "GET", "/admin/workers/w1", false, 405, 0, "DELETE", false, 0, { NULL } },
	{ 0, "POST", "/admin/workers/w1", true, 405, 0, "DELETE", false, 0, { NULL } },
	/* HEAD only with head_on_get, and then is_head */
	{ 0, "HEAD", "/health", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "HEAD", "/health", true, 0, 4, "", true, 0, { NULL } },
	{ 0, "HEAD", "/health/detailed", true, 0, 5, "", true, 0, { NULL } },
	{ 0, "HEAD", "/wasm/abc", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "HEAD", "/wasm/abc", true, 0, 0, "", true, 1, { "abc" } },
	{ 0, "GET", "/health", true, 0, 4, "", false, 0, { NULL } },
	/* OPTIONS (no preflight header) and other methods are routed: 405 */
	{ 0, "OPTIONS", "/health", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "OPTIONS", "/health", true, 405, 0, "GET, HEAD", false, 0, { NULL } },
	{ 0, "OPTIONS", "/wasm/upload", false, 405, 0, "POST", false, 0, { NULL } },
	{ 0, "PUT", "/wasm/upload", false, 405, 0, "POST", false, 0, { NULL } },
	{ 0, "PATCH", "/health", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "get", "/health", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "", "/health", false, 405, 0, "GET", false, 0, { NULL } },
	{ 0, "OPTIONS", "/nowhere", false, 404, 0, "", false, 0, { NULL } },
	/* Allow lists GET, HEAD, POST, DELETE in that order, whatever the table order */
	{ 1, "PUT", "/x", false, 405, 0, "GET, POST, DELETE", false, 0, { NULL } },
	{ 1, "PUT", "/x", true, 405, 0, "GET, HEAD, POST, DELETE", false, 0, { NULL } },
	{ 1, "GET", "/x", false, 0, 2, "", false, 0, { NULL } },
	{ 1, "POST", "/x", false, 0, 1, "", false, 0, { NULL } },
	{ 1, "DELETE", "/x", false, 0, 0, "", false, 0, { NULL } },
	{ 1, "HEAD", "/x", true, 0, 2, "", true, 0, { NULL } },
	/* the first segment where two matching patterns differ decides */
	{ 1, "GET", "/a/b/c", false, 405, 0, "POST", false, 0, { NULL } },
	{ 1, "POST", "/a/b/c", false, 0, 4, "", false, 1, { "c" } },
	{ 1, "GET", "/a/z/c", false, 0, 3, "", false, 1, { "z" } },
	{ 1, "POST", "/a/z/c", false, 405, 0, "GET", false, 0, { NULL } },
	{ 1, "POST", "/a/b/d", false, 0, 4, "", false, 1, { "d" } },
	{ 1, "POST", "/m/%31/%32", false, 0, 5, "", false, 2, { "1", "2" } },
	{ 1, "POST", "/m/1/", false, 404, 0, "", false, 0, { NULL } },
	{ 1, "POST", "/m//2", false, 404, 0, "", false, 0, { NULL } },
};

static const struct coord_route *table_of(int t, size_t *n)
{
	if (t == 0) {
		*n = N(worker_routes);
		return worker_routes;
	}
	*n = N(other_routes);
	return other_routes;
}

static void test_match(void)
{
	for (size_t i = 0; i < N(match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		struct coord_arena arena = COORD_ARENA_INIT;
		struct coord_path p;
		struct coord_match m;
		size_t nroutes;
		const struct coord_route *routes = table_of(c->table, &nroutes);
		memset(&m, 0x5a, sizeof(m));
		m.allow[sizeof(m.allow) - 1] = '\0';
		bool good = coord_path_split(&arena, c->path, strlen(c->path), &p) == COORD_OK;
		if (good) {
			coord_route_match(routes, nroutes, &p, c->method, c->head_on_get, &m);
			good = m.status == c->status && m.is_head == c->is_head;
			if (good && c->status == 405)
				good = strcmp(m.allow, c->allow) == 0;
			if (good && c->status == 0) {
				good = m.route == &routes[c->route] && m.nparams == c->nparams;
				for (size_t k = 0; good && k < c->nparams; k++)
					good = m.param_len[k] == strlen(c->params[k]) &&
					       memcmp(m.params[k], c->params[k], m.param_len[k]) == 0;
			}
		}
		ok(good, "route_match #%zu %s %s head_on_get=%d -> %d%s%s%s (got %d \"%.32s\")", i,
		   c->method, c->path, c->head_on_get, c->status,
		   c->status == 405 ? " Allow: " : "", c->status == 405 ? c->allow : "",
		   c->is_head ? " is_head" : "", good ? c->status : m.status,
		   good || m.status != 405 ? "" : m.allow);
		coord_arena_release(&arena);
	}
}

/* ---- coord_route_for_path ---- */

static const struct {
	const char *path;
	int route; /* -1: NULL */
} for_path_cases[] = {
	{ "/wasm/upload", 1 },
	{ "/wasm/abc", 0 },
	{ "/wasm/exists/abc", 2 },
	{ "/health", 4 },
	{ "/health/detailed", 5 },
	{ "/locks/release/x", 3 },
	{ "/nope", -1 },
	{ "/wasm/", -1 },
	{ "/wasm/..", -1 },
};

static void test_for_path(void)
{
	for (size_t i = 0; i < N(for_path_cases); i++) {
		struct coord_arena arena = COORD_ARENA_INIT;
		struct coord_path p;
		const struct coord_route *r = NULL;
		bool split = coord_path_split(&arena, for_path_cases[i].path,
					      strlen(for_path_cases[i].path), &p) == COORD_OK;
		if (split)
			r = coord_route_for_path(worker_routes, N(worker_routes), &p);
		bool good = split && (for_path_cases[i].route < 0
					      ? r == NULL
					      : r == &worker_routes[for_path_cases[i].route]);
		ok(good, "route_for_path #%zu %s -> %s", i, for_path_cases[i].path,
		   for_path_cases[i].route < 0 ? "NULL"
					       : worker_routes[for_path_cases[i].route].pattern);
		coord_arena_release(&arena);
	}
}

int main(void)
{
	test_split();
	test_match();
	test_for_path();
	return tap_done();
}
