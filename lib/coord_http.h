/*
 * The FastCGI serve loop and everything a handler uses to read its
 * request and write its reply (DESIGN.md "A request's way through").
 * Every reply goes through the coord_reply_* functions, which add the
 * common headers of SPEC §1.1 and §1.8; errors have the body of §1.2.
 */
#ifndef COORD_HTTP_H
#define COORD_HTTP_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "coord_buf.h"
#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_json.h"
#include "coord_mem.h"
#include "coord_parse.h"
#include "coord_ratelimit.h"
#include "coord_redis.h"
#include "coord_router.h"

#define COORD_BODY_CAP_SMALL (1024 * 1024)
#define COORD_BODY_CAP_BIG (10 * 1024 * 1024)

struct coord_program {
	const char *group; /* worker, api, public, admin, secrets: log field and CORS */
	const struct coord_route *routes;
	size_t nroutes;
	bool head_on_get;    /* HEAD on GET routes (public.fcgi) */
	bool cors_any;       /* any-origin CORS for the whole group (api) */
	bool needs_wasm_dir; /* create WASM_CACHE_DIR at start-up */
};

struct coord_io;

struct coord_req {
	struct coord_arena arena; /* released when the request ends */
	const struct coord_config *cfg;
	const struct coord_program *prog;
	struct coord_db *db;       /* the thread's; call coord_req_db() first */
	struct coord_redis *redis; /* the thread's */
	struct coord_io *io;

	const char *method;
	const char *raw_path; /* REQUEST_URI before '?', as received */
	const char *query;    /* after '?', "" if none */
	struct coord_path path;
	const struct coord_route *route;
	bool is_head;
	const char *params[COORD_MAX_PARAMS]; /* decoded :param segments */
	size_t param_len[COORD_MAX_PARAMS];
	struct coord_query query_params;
	bool query_parsed;
	const char *body; /* NUL-terminated, body_len bytes */
	size_t body_len;
	json_object *json; /* parsed body, released with the request */

	char request_id[65];
	char client_ip[INET6_ADDRSTRLEN];
	const char *origin;  /* Origin header when it is allowed, else NULL */
	bool origin_any;     /* answer Access-Control-Allow-Origin: * */
	char token_hash[65]; /* worker-authenticated routes */
	const char *worker_name;
	const char *payment_key_log; /* "owner:nonce" for the log line */

	struct coord_buf headers; /* extra response headers */
	struct coord_buf rl_policy, rl_state; /* RateLimit-Policy / RateLimit members so far */
	int status;               /* 0 until replied */
	int64_t started_ms;
	void (*deferred)(struct coord_req *r); /* run once the reply has been delivered */
};

/* What a background function works with (see coord_serve_background). */
struct coord_bg {
	const struct coord_config *cfg;
	struct coord_db *db;       /* the background thread's own connections, opened lazily */
	struct coord_redis *redis;
};

/*
 * Registers fn to run on the process's one background thread every interval_ms, and once
 * more with final=true when the process shuts down (SIGTERM/SIGINT/SIGUSR1), after the last
 * request in flight has finished. In plain-CGI mode it runs once, final, after the request.
 * Call before coord_serve(); at most COORD_MAX_BACKGROUND registrations per process.
 */
#define COORD_MAX_BACKGROUND 8
void coord_serve_background(void (*fn)(struct coord_bg *bg, bool final), int interval_ms);

/* main() of every FastCGI program. Returns the process exit status. */
int coord_serve(const struct coord_program *prog, int argc, char **argv);
/* True once SIGTERM/SIGINT/SIGUSR1 arrived: long waits answer early. */
bool coord_shutting_down(void);

/* A request header (FastCGI parameter), e.g. "HTTP_AUTHORIZATION". */
const char *coord_req_getparam(struct coord_req *r, const char *name);
/* Parses the query string; false after replying 400 invalid_parameter. */
bool coord_req_query(struct coord_req *r);
/* The last value of a query parameter (after coord_req_query), or NULL. */
const struct coord_query_param *coord_req_query_get(struct coord_req *r, const char *name);
/*
 * limit and offset of a list route (SPEC §3.0), after coord_req_query:
 * limit above max is max; limit < 1, a negative offset or a non-integer
 * is 400 invalid_parameter. False after replying.
 */
bool coord_req_limit_offset(struct coord_req *r, int64_t default_limit, int64_t max_limit,
			    int64_t *limit, int64_t *offset);
/* Content type, JSON syntax and shape (SPEC §1.3); false after replying. */
bool coord_req_json(struct coord_req *r, const struct coord_field *fields, size_t n,
		    struct coord_value *values);
/* Validates a nested object (at path) of the body; false after replying 422. */
bool coord_req_json_object(struct coord_req *r, json_object *obj, const char *path,
			   const struct coord_field *fields, size_t n, struct coord_value *values);
/*
 * Counts one request of class cls for subject (the client IP; "owner:nonce"
 * for COORD_RL_KEY) and adds its RateLimit-Policy / RateLimit members to the
 * reply (SPEC §1.9). False after replying 429 rate_limited (with
 * Retry-After), or 503 unavailable for the secrets class when Redis cannot
 * count; the other classes are admitted then, without headers.
 */
bool coord_req_rate_limit(struct coord_req *r, enum coord_rl_class cls, const char *subject);
/* coord_json_strings on a member of the body; false after replying 422. */
bool coord_req_json_strings(struct coord_req *r, json_object *arr, const char *path,
			    size_t max_items, int64_t min_chars, int64_t max_chars);
/* Opens/validates the thread's database; false after replying 503. */
bool coord_req_db(struct coord_req *r);

/* Adds a response header; false (and nothing added) if it holds CR or LF. */
bool coord_reply_header(struct coord_req *r, const char *name, const char *value);
/* JSON body; takes ownership of body. */
void coord_reply_json(struct coord_req *r, int status, json_object *body);
void coord_reply_text(struct coord_req *r, int status, const char *content_type,
		      const char *data, size_t len);
/*
 * Streams size bytes read from fd as the body (the caller closes fd).
 * A read error mid-way ends the response early (the client sees a short body).
 */
void coord_reply_file(struct coord_req *r, int status, const char *content_type, int fd,
		      int64_t size);
/* An empty body with "X-Sendfile: path": the web server sends the file itself. */
void coord_reply_sendfile(struct coord_req *r, const char *content_type, const char *path);
/* No body: Content-Length: 0 and no Content-Type (204: no length either). */
void coord_reply_empty(struct coord_req *r, int status);
void coord_reply_error(struct coord_req *r, int status, const char *code, const char *message);
/* details (owned) is appended as "details". */
void coord_reply_error_details(struct coord_req *r, int status, const char *code,
			       const char *message, json_object *details);
/* 422 invalid_request_body with details {field, reason}. */
void coord_reply_field_error(struct coord_req *r, const char *field, const char *reason,
			     const char *message);
/*
 * 503 unavailable / schema outdated, 400 invalid_parameter for a money sum
 * the database refused (COORD_ERR_RANGE, SPEC §1.4), or 500 internal_error.
 */
void coord_reply_backend_error(struct coord_req *r, enum coord_err e);

#endif
