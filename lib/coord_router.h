/*
 * Route table matching of SPEC §0.2: the raw path is split on '/', each
 * segment percent-decoded on its own, and compared literally with the
 * patterns. 404 and 405 are decided here, nowhere else.
 */
#ifndef COORD_ROUTER_H
#define COORD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "coord_err.h"
#include "coord_mem.h"

struct coord_req;
typedef void (*coord_handler)(struct coord_req *r);

/* Route flags; the checks run in the order of SPEC §0.3. */
enum {
	COORD_RF_WORKER_AUTH = 1u << 0, /* worker bearer token (SPEC §1.6) */
	COORD_RF_ADMIN_AUTH = 1u << 1,  /* admin bearer token */
	COORD_RF_BIG_BODY = 1u << 2,    /* 10 MiB body cap instead of 1 MiB */
	COORD_RF_CORS_ANY = 1u << 3,    /* any-origin CORS (api, public storage) */
	/* the route's IP rate-limit class (SPEC §1.9), applied right after the route match */
	COORD_RF_RL_SECRETS = 1u << 4,
	COORD_RF_RL_API = 1u << 5,
	COORD_RF_RL_PUBLIC_STORAGE = 1u << 6
};

struct coord_route {
	const char *method;  /* "GET", "POST" or "DELETE" */
	const char *pattern; /* "/wasm/:checksum": literal and :param segments */
	coord_handler handler;
	unsigned flags;
};

#define COORD_MAX_PARAMS 4

struct coord_path {
	size_t n;
	char **seg; /* decoded, NUL-terminated (no NUL inside) */
	size_t *len;
};

/*
 * Splits a raw path (starting with '/') into decoded segments allocated
 * from arena. COORD_ERR_INVALID on a bad escape, a decoded NUL or a
 * segment that is not UTF-8.
 */
enum coord_err coord_path_split(struct coord_arena *arena, const char *raw, size_t len,
				struct coord_path *out);

struct coord_match {
	int status; /* 0: matched; 404 or 405 */
	const struct coord_route *route;
	bool is_head; /* HEAD served by a GET route */
	char allow[32];
	const char *params[COORD_MAX_PARAMS];
	size_t param_len[COORD_MAX_PARAMS];
	size_t nparams;
};

/*
 * Matches path and method against routes. head_on_get: HEAD is accepted
 * on GET routes (public.fcgi only). The most specific pattern wins: at the
 * first segment where two matching patterns differ, the literal beats the
 * parameter, and only the winner's methods count.
 */
void coord_route_match(const struct coord_route *routes, size_t n, const struct coord_path *path,
		       const char *method, bool head_on_get, struct coord_match *m);

/* The route whose pattern matches path best, whatever its method; or NULL. */
const struct coord_route *coord_route_for_path(const struct coord_route *routes, size_t n,
					       const struct coord_path *path);

#endif
