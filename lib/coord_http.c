#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <sysexits.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "coord_auth.h"
#include "coord_clientip.h"
#include "coord_crypto.h"
#include "coord_http.h"
#include "coord_listen.h"
#include "coord_log.h"
#include "coord_metrics.h"
#include "banned.h"

/* ---- request I/O: FastCGI or plain CGI ---- */

struct coord_io {
	FCGX_Request *fcgx; /* NULL in CGI mode */
};

const char *coord_req_getparam(struct coord_req *r, const char *name)
{
	if (r->io->fcgx)
		return FCGX_GetParam(name, r->io->fcgx->envp);
	return getenv(name);
}

static size_t io_read(struct coord_io *io, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		size_t want = n - got > INT_MAX ? INT_MAX : n - got;
		int k;
		if (io->fcgx)
			k = FCGX_GetStr(buf + got, (int)want, io->fcgx->in);
		else
			k = (int)fread(buf + got, 1, want, stdin);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

static void io_write(struct coord_io *io, const char *buf, size_t n)
{
	if (io->fcgx) {
		while (n) {
			int chunk = n > INT_MAX ? INT_MAX : (int)n;
			if (FCGX_PutStr(buf, chunk, io->fcgx->out) != chunk)
				return;
			buf += chunk;
			n -= (size_t)chunk;
		}
	} else {
		fwrite(buf, 1, n, stdout);
		fflush(stdout);
	}
}

/* ---- replies ---- */

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static bool header_value_ok(const char *v)
{
	return strpbrk(v, "\r\n") == NULL;
}

bool coord_reply_header(struct coord_req *r, const char *name, const char *value)
{
	if (!header_value_ok(name) || !header_value_ok(value))
		return false;
	coord_buf_addf(&r->headers, "%s: %s\r\n", name, value);
	return true;
}

static void add_cors_headers(struct coord_req *r, struct coord_buf *out)
{
	if (!r->origin)
		return;
	coord_buf_addf(out, "Access-Control-Allow-Origin: %s\r\n", r->origin_any ? "*" : r->origin);
	coord_buf_adds(out, "Vary: Origin\r\n");
	coord_buf_addf(out, "Access-Control-Expose-Headers: X-Request-ID, Retry-After, RateLimit, "
			    "RateLimit-Policy%s\r\n",
		       strcmp(r->prog->group, "api") == 0 ? ", Idempotent-Replayed" : "");
}

static void send_reply(struct coord_req *r, int status, const char *content_type,
		       const char *body, size_t len, bool length_header)
{
	struct coord_buf out = COORD_BUF_INIT;
	if (r->status)
		return; /* one reply per request */
	r->status = status;
	coord_buf_addf(&out, "Status: %d %s\r\n", status, reason_phrase(status));
	coord_buf_addf(&out, "X-Request-ID: %s\r\n", r->request_id);
	coord_buf_adds(&out, "Cache-Control: no-store\r\n");
	add_cors_headers(r, &out);
	if (content_type)
		coord_buf_addf(&out, "Content-Type: %s\r\n", content_type);
	if (length_header)
		coord_buf_addf(&out, "Content-Length: %zu\r\n", len);
	if (r->rl_policy.len) {
		coord_buf_addf(&out, "RateLimit-Policy: %s\r\n", coord_buf_str(&r->rl_policy));
		coord_buf_addf(&out, "RateLimit: %s\r\n", coord_buf_str(&r->rl_state));
	}
	coord_buf_add(&out, coord_buf_str(&r->headers), r->headers.len);
	coord_buf_adds(&out, "\r\n");
	if (!r->is_head && body && len)
		coord_buf_add(&out, body, len);
	io_write(r->io, out.ptr, out.len);
	coord_buf_release(&out);
}

void coord_reply_file(struct coord_req *r, int status, const char *content_type, int fd,
		      int64_t size)
{
	char chunk[65536];
	send_reply(r, status, content_type, NULL, (size_t)size, true);
	if (r->is_head)
		return;
	while (size > 0) {
		ssize_t n = read(fd, chunk, size < (int64_t)sizeof(chunk) ? (size_t)size : sizeof(chunk));
		if (n <= 0) {
			coord_log(COORD_LOG_ERROR, "reply: file read failed after headers were sent");
			return;
		}
		io_write(r->io, chunk, (size_t)n);
		size -= n;
	}
}

void coord_reply_sendfile(struct coord_req *r, const char *content_type, const char *path)
{
	if (!coord_reply_header(r, "X-Sendfile", path)) {
		coord_reply_error(r, 500, "internal_error", "Internal error");
		return;
	}
	send_reply(r, 200, content_type, NULL, 0, false);
}

void coord_reply_json(struct coord_req *r, int status, json_object *body)
{
	size_t len;
	const char *text = coord_json_text(body, &len);
	send_reply(r, status, "application/json", text, len, true);
	json_object_put(body);
}

void coord_reply_text(struct coord_req *r, int status, const char *content_type,
		      const char *data, size_t len)
{
	send_reply(r, status, content_type, data, len, true);
}

void coord_reply_empty(struct coord_req *r, int status)
{
	send_reply(r, status, NULL, NULL, 0, status != 204);
}

void coord_reply_error_details(struct coord_req *r, int status, const char *code,
			       const char *message, json_object *details)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(message));
	if (details)
		json_object_object_add(o, "details", details);
	coord_reply_json(r, status, o);
}

void coord_reply_error(struct coord_req *r, int status, const char *code, const char *message)
{
	coord_reply_error_details(r, status, code, message, NULL);
}

void coord_reply_backend_error(struct coord_req *r, enum coord_err e)
{
	if (e == COORD_ERR_UNAVAILABLE)
		coord_reply_error(r, 503, "unavailable", "Database unavailable");
	else if (e == COORD_ERR_SCHEMA)
		coord_reply_error(r, 503, "unavailable", "database schema outdated: run coord-migrate");
	else if (e == COORD_ERR_RANGE) /* a money sum rolled back by the database (SPEC §1.4) */
		coord_reply_error(r, 400, "invalid_parameter", "Amount sum would reach 10^38");
	else
		coord_reply_error(r, 500, "internal_error", "Internal error");
}

/* ---- rate limits (SPEC §1.9) ---- */

bool coord_req_rate_limit(struct coord_req *r, enum coord_rl_class cls, const char *subject)
{
	struct coord_rl_result rl;
	const char *name = coord_ratelimit_class_name(cls);
	char msg[128], retry[24];
	coord_ratelimit_hit(r->redis, r->cfg, cls, subject, &rl);
	if (!rl.counted) {
		if (cls != COORD_RL_SECRETS)
			return true; /* fail open */
		coord_reply_error(r, 503, "unavailable", "Rate limiter unavailable");
		return false;
	}
	const char *sep = r->rl_policy.len ? ", " : "";
	coord_buf_addf(&r->rl_policy, "%s\"%s\";q=%lld;w=60", sep, name, (long long)rl.limit);
	coord_buf_addf(&r->rl_state, "%s\"%s\";r=%lld;t=%lld", sep, name, (long long)rl.remaining,
		       (long long)rl.reset_seconds);
	if (rl.admitted)
		return true;
	snprintf(retry, sizeof(retry), "%lld", (long long)(rl.reset_seconds > 1 ? rl.reset_seconds : 1));
	coord_reply_header(r, "Retry-After", retry);
	snprintf(msg, sizeof(msg), "Rate limit exceeded: %lld requests/minute allowed. Try again later.",
		 (long long)rl.limit);
	coord_reply_error(r, 429, "rate_limited", msg);
	return false;
}

/* The IP class of a route, if it has one (route flags). */
static bool ip_class_of(unsigned flags, enum coord_rl_class *cls)
{
	if (flags & COORD_RF_RL_SECRETS)
		*cls = COORD_RL_SECRETS;
	else if (flags & COORD_RF_RL_API)
		*cls = COORD_RL_API;
	else if (flags & COORD_RF_RL_PUBLIC_STORAGE)
		*cls = COORD_RL_PUBLIC_STORAGE;
	else
		return false;
	return true;
}

/* ---- request helpers for handlers ---- */

bool coord_req_db(struct coord_req *r)
{
	enum coord_err e = coord_db_ready(r->db);
	if (e == COORD_OK)
		return true;
	coord_reply_backend_error(r, e);
	return false;
}

bool coord_req_query(struct coord_req *r)
{
	if (r->query_parsed)
		return true;
	if (coord_query_parse(&r->arena, r->query, strlen(r->query), &r->query_params) != COORD_OK) {
		coord_reply_error(r, 400, "invalid_parameter",
				  "Invalid query string (bad escape, NUL or non-UTF-8)");
		return false;
	}
	r->query_parsed = true;
	return true;
}

const struct coord_query_param *coord_req_query_get(struct coord_req *r, const char *name)
{
	return r->query_parsed ? coord_query_get(&r->query_params, name) : NULL;
}

/* A query integer: absent keeps *out; anything but digits (or too large) is refused. */
static bool query_int(struct coord_req *r, const char *name, int64_t *out, bool *too_big)
{
	const struct coord_query_param *q = coord_req_query_get(r, name);
	*too_big = false;
	if (!q)
		return true;
	enum coord_err e = coord_parse_i64(q->value, q->value_len, INT64_MIN, INT64_MAX, out);
	if (e == COORD_ERR_RANGE && q->value[0] != '-') {
		*too_big = true;
		*out = INT64_MAX;
		return true;
	}
	return e == COORD_OK;
}

bool coord_req_limit_offset(struct coord_req *r, int64_t default_limit, int64_t max_limit,
			    int64_t *limit, int64_t *offset)
{
	bool big;
	*limit = default_limit;
	*offset = 0;
	if (!query_int(r, "limit", limit, &big) || *limit < 1) {
		coord_reply_error(r, 400, "invalid_parameter", "limit must be a positive integer");
		return false;
	}
	if (*limit > max_limit)
		*limit = max_limit;
	if (!query_int(r, "offset", offset, &big) || big || *offset < 0) {
		coord_reply_error(r, 400, "invalid_parameter", "offset must be a non-negative integer");
		return false;
	}
	return true;
}

static bool is_json_media_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

void coord_reply_field_error(struct coord_req *r, const char *field, const char *reason,
			     const char *message)
{
	json_object *d = json_object_new_object();
	json_object_object_add(d, "field", json_object_new_string(field));
	json_object_object_add(d, "reason", json_object_new_string(reason));
	coord_reply_error_details(r, 422, "invalid_request_body", message, d);
}

static void reply_json_problem(struct coord_req *r, const struct coord_json_problem *p)
{
	if (p->status == 400)
		coord_reply_error(r, 400, "invalid_json", p->message);
	else
		coord_reply_field_error(r, p->field, p->reason, p->message);
}

bool coord_req_json(struct coord_req *r, const struct coord_field *fields, size_t n,
		    struct coord_value *values)
{
	struct coord_json_problem p;
	if (!is_json_media_type(coord_req_getparam(r, "CONTENT_TYPE"))) {
		coord_reply_error(r, 415, "unsupported_media_type",
				  "Content-Type must be application/json");
		return false;
	}
	r->json = coord_json_parse(r->body, r->body_len, &p);
	if (!r->json) {
		reply_json_problem(r, &p);
		return false;
	}
	if (!coord_json_fields(r->json, "", fields, n, values, &p)) {
		reply_json_problem(r, &p);
		return false;
	}
	return true;
}

bool coord_req_json_object(struct coord_req *r, json_object *obj, const char *path,
			  const struct coord_field *fields, size_t n, struct coord_value *values)
{
	struct coord_json_problem p;
	if (coord_json_fields(obj, path, fields, n, values, &p))
		return true;
	reply_json_problem(r, &p);
	return false;
}

bool coord_req_json_strings(struct coord_req *r, json_object *arr, const char *path,
			    size_t max_items, int64_t min_chars, int64_t max_chars)
{
	struct coord_json_problem p;
	if (coord_json_strings(arr, path, max_items, min_chars, max_chars, &p))
		return true;
	reply_json_problem(r, &p);
	return false;
}

/* ---- request id, client IP, CORS ---- */

static void set_request_id(struct coord_req *r)
{
	const char *id = coord_req_getparam(r, "HTTP_X_REQUEST_ID");
	if (id) {
		size_t n = strlen(id);
		bool ok = n >= 1 && n <= 64;
		for (size_t i = 0; ok && i < n; i++) {
			char c = id[i];
			ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		}
		if (ok) {
			memcpy(r->request_id, id, n + 1);
			return;
		}
	}
	if (coord_random_hex(16, r->request_id) != COORD_OK)
		snprintf(r->request_id, sizeof(r->request_id), "00000000000000000000000000000000");
}

static bool origin_allowed(struct coord_req *r, bool any)
{
	const char *origin = coord_req_getparam(r, "HTTP_ORIGIN");
	r->origin = NULL;
	r->origin_any = false;
	if (!origin || !header_value_ok(origin))
		return false;
	if (any || r->cfg->cors_any) {
		r->origin = origin;
		r->origin_any = any;
		return true;
	}
	for (const char **o = r->cfg->cors_origins; o && *o; o++) {
		if (strcmp(*o, origin) == 0) {
			r->origin = origin;
			return true;
		}
	}
	return false;
}

static void answer_preflight(struct coord_req *r, bool any)
{
	if (origin_allowed(r, any)) {
		bool api = strcmp(r->prog->group, "api") == 0;
		coord_reply_header(r, "Access-Control-Allow-Methods",
				   any ? "GET, POST, OPTIONS" : "GET, POST, DELETE, OPTIONS");
		coord_reply_header(r, "Access-Control-Allow-Headers",
				   api ? "content-type, x-payment-key, x-compute-limit, "
					 "x-attached-deposit, x-wallet-id, idempotency-key, x-request-id"
				   : any ? "content-type, x-request-id"
					 : "content-type, authorization, x-payment-key, x-compute-limit, "
					   "x-attached-deposit, x-request-id");
		coord_reply_header(r, "Access-Control-Max-Age", "600");
	}
	coord_reply_empty(r, 204);
	r->origin = NULL; /* a refused preflight carries no Access-Control-* header */
}

/* ---- authentication (SPEC §1.6) ---- */

/* The token of "Authorization: Bearer <token>", or NULL. */
static const char *bearer_token(struct coord_req *r)
{
	const char *h = coord_req_getparam(r, "HTTP_AUTHORIZATION");
	if (!h || strncasecmp(h, "bearer", 6) != 0 || (h[6] != ' '))
		return NULL;
	h += 6;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

static bool authenticate_worker(struct coord_req *r)
{
	const char *token = bearer_token(r);
	if (!token && r->cfg->require_auth) {
		coord_reply_error(r, 401, "unauthorized", "Missing or invalid worker token");
		return false;
	}
	if (!coord_req_db(r))
		return false;
	if (token) {
		coord_sha256_hex(token, strlen(token), r->token_hash);
		enum coord_err e = coord_auth_worker(r->db, r->token_hash, &r->arena, &r->worker_name);
		if (e == COORD_OK)
			return true;
		if (e != COORD_ERR_NOT_FOUND) {
			coord_reply_backend_error(r, e);
			return false;
		}
		if (r->cfg->require_auth) {
			coord_reply_error(r, 401, "unauthorized", "Missing or invalid worker token");
			return false;
		}
	}
	snprintf(r->token_hash, sizeof(r->token_hash), "anonymous");
	r->worker_name = "anonymous";
	return true;
}

static bool authenticate_admin(struct coord_req *r)
{
	const char *token = bearer_token(r);
	char a[65], b[65];
	if (!token) {
		coord_reply_error(r, 401, "unauthorized", "Missing admin token");
		return false;
	}
	coord_sha256_hex(token, strlen(token), a);
	coord_sha256_hex(r->cfg->admin_bearer_token, strlen(r->cfg->admin_bearer_token), b);
	if (!coord_ct_equal(a, b, 64)) {
		coord_reply_error(r, 403, "forbidden", "Invalid admin token");
		return false;
	}
	return true;
}

/* ---- body ---- */

static bool read_body(struct coord_req *r, size_t cap)
{
	const char *cl = coord_req_getparam(r, "CONTENT_LENGTH");
	int64_t len = 0;
	if (cl && *cl) {
		enum coord_err e = coord_parse_i64(cl, strlen(cl), 0, INT64_MAX, &len);
		if (e == COORD_ERR_INVALID) {
			coord_reply_error(r, 400, "invalid_request", "Invalid Content-Length");
			return false;
		}
		if (e == COORD_ERR_RANGE)
			len = INT64_MAX;
	}
	if ((uint64_t)len > cap) {
		coord_reply_error(r, 413, "payload_too_large", "Request body too large");
		return false;
	}
	char *body = coord_arena_alloc(&r->arena, (size_t)len + 1);
	size_t got = io_read(r->io, body, (size_t)len);
	body[got] = '\0';
	if (got != (size_t)len) {
		coord_reply_error(r, 400, "invalid_request", "Request body shorter than Content-Length");
		return false;
	}
	r->body = body;
	r->body_len = got;
	return true;
}

/* ---- one request ---- */

static void dispatch(struct coord_req *r)
{
	const struct coord_program *prog = r->prog;
	const char *uri = coord_req_getparam(r, "REQUEST_URI");
	const char *method = coord_req_getparam(r, "REQUEST_METHOD");
	struct coord_match m;

	r->method = method ? method : "GET";
	r->is_head = strcmp(r->method, "HEAD") == 0; /* no answer to a HEAD has a body (§1.2) */
	if (!uri || uri[0] != '/')
		uri = "/";
	const char *q = strchr(uri, '?');
	r->raw_path = q ? coord_arena_memdup(&r->arena, uri, (size_t)(q - uri)) : uri;
	r->query = q ? q + 1 : "";

	const char *path = r->raw_path;
	size_t plen = strlen(path);
	const char *prefix = r->cfg->path_prefix;
	size_t prelen = strlen(prefix);
	bool prefix_ok = true;
	if (prelen) {
		if (plen >= prelen && memcmp(path, prefix, prelen) == 0 &&
		    (plen == prelen || path[prelen] == '/')) {
			path += prelen;
			plen -= prelen;
			if (plen == 0)
				path = "/", plen = 1;
		} else {
			prefix_ok = false;
		}
	}
	bool split_ok = prefix_ok &&
			coord_path_split(&r->arena, path, plen, &r->path) == COORD_OK;

	/* CORS policy: the route's, else the group's */
	bool any = prog->cors_any;
	if (split_ok) {
		const struct coord_route *rt = coord_route_for_path(prog->routes, prog->nroutes, &r->path);
		if (rt && (rt->flags & COORD_RF_CORS_ANY))
			any = true;
	}
	if (strcmp(r->method, "OPTIONS") == 0 &&
	    coord_req_getparam(r, "HTTP_ACCESS_CONTROL_REQUEST_METHOD")) {
		answer_preflight(r, any);
		return;
	}
	origin_allowed(r, any);

	if (!prefix_ok) {
		coord_reply_error(r, 404, "not_found", "Unknown endpoint");
		return;
	}
	if (!split_ok) {
		coord_reply_error(r, 400, "invalid_parameter",
				  "Invalid path segment (bad escape, NUL or non-UTF-8)");
		return;
	}
	coord_route_match(prog->routes, prog->nroutes, &r->path, r->method, prog->head_on_get, &m);
	if (m.status == 404) {
		coord_reply_error(r, 404, "not_found", "Unknown endpoint");
		return;
	}
	if (m.status == 405) {
		coord_reply_header(r, "Allow", m.allow);
		coord_reply_error(r, 405, "method_not_allowed", "Method not allowed");
		return;
	}
	r->route = m.route;
	for (size_t i = 0; i < m.nparams; i++) {
		r->params[i] = m.params[i];
		r->param_len[i] = m.param_len[i];
	}
	enum coord_rl_class cls;
	if (ip_class_of(m.route->flags, &cls) && !coord_req_rate_limit(r, cls, r->client_ip))
		return;
	if ((m.route->flags & COORD_RF_WORKER_AUTH) && !authenticate_worker(r))
		return;
	if ((m.route->flags & COORD_RF_ADMIN_AUTH) && !authenticate_admin(r))
		return;
	if (!read_body(r, (m.route->flags & COORD_RF_BIG_BODY) ? COORD_BODY_CAP_BIG
							       : COORD_BODY_CAP_SMALL))
		return;
	if (!coord_req_query(r)) /* every route refuses a bad query string (§0.2, §0.3) */
		return;
	m.route->handler(r);
	if (!r->status) {
		coord_log(COORD_LOG_ERROR, "handler for %s %s sent no reply", r->method,
			  m.route->pattern);
		coord_reply_error(r, 500, "internal_error", "Internal error");
	}
}

struct thread_ctx {
	const struct coord_program *prog;
	const struct coord_config *cfg;
	struct coord_db *db;
	struct coord_redis *redis;
};

static void log_request(struct coord_req *r)
{
	struct coord_log_field f[] = {
		{ "request_id", COORD_LF_STR, r->request_id, 0 },
		{ "group", COORD_LF_STR, r->prog->group, 0 },
		{ "method", COORD_LF_STR, r->method, 0 },
		{ "path", COORD_LF_STR, r->raw_path, 0 },
		{ "status", COORD_LF_INT, NULL, r->status },
		{ "duration_ms", COORD_LF_INT, NULL, coord_monotonic_ms() - r->started_ms },
		{ "client_ip", COORD_LF_STR, r->client_ip, 0 },
		{ "worker", COORD_LF_STR, r->worker_name, 0 },
		{ "payment_key", COORD_LF_STR, r->payment_key_log, 0 },
		{ "db_ms", COORD_LF_INT, NULL, r->db ? coord_db_take_ms(r->db) : 0 },
	};
	coord_log_fields(r->status >= 500 ? COORD_LOG_WARN : COORD_LOG_INFO, "request", f,
			 sizeof(f) / sizeof(f[0]));
}

/* Serves one request; the caller delivers it, then calls end_request(). */
static void serve_one(struct thread_ctx *t, struct coord_io *io, struct coord_req *r)
{
	memset(r, 0, sizeof(*r));
	r->started_ms = coord_monotonic_ms();
	r->cfg = t->cfg;
	r->prog = t->prog;
	r->io = io;
	if (!t->db)
		t->db = coord_db_new(t->cfg->database_url, true);
	if (!t->redis)
		t->redis = coord_redis_new(&t->cfg->redis);
	r->db = t->db;
	r->redis = t->redis;
	coord_db_take_ms(r->db);

	set_request_id(r);
	coord_log_set_request_id(r->request_id);
	coord_client_ip(t->cfg, coord_req_getparam(r, "REMOTE_ADDR"),
			coord_req_getparam(r, "HTTP_X_FORWARDED_FOR"), r->client_ip);
	dispatch(r);
	coord_db_rollback(r->db); /* never leave a transaction open between requests */
	log_request(r);
	coord_metrics_request(r->prog->group, r->route ? r->route->pattern : NULL, r->status,
			      coord_monotonic_ms() - r->started_ms);
}

/* After delivery: the deferred work, then everything the request held. */
static void end_request(struct coord_req *r)
{
	if (r->deferred) {
		r->deferred(r);
		coord_db_rollback(r->db);
	}
	coord_log_set_request_id(NULL);
	json_object_put(r->json);
	coord_buf_release(&r->headers);
	coord_buf_release(&r->rl_policy);
	coord_buf_release(&r->rl_state);
	coord_arena_release(&r->arena);
}

/* ---- process ---- */

static atomic_bool shutting_down;
static int listen_fd = FCGI_LISTENSOCK_FILENO; /* set once by coord_serve before the threads */

bool coord_shutting_down(void)
{
	return atomic_load(&shutting_down);
}

/*
 * libfcgi ends a connection with shutdown(), then waits (poll, read) until the web server
 * closes its end, so that input left unread cannot turn the close into a TCP reset that
 * destroys the answer in flight. A request whose declared body was read whole has nothing
 * unread once its end-of-input record is seen (it follows the body at once; with the end
 * already buffered this costs no system call): such a connection is detached from that wait
 * and simply closed, three system calls and a round trip through the web server fewer per
 * request. Without CONTENT_LENGTH (a streamed body) or with the body left unread (an early
 * error), libfcgi's careful close stays.
 */
static bool input_read_to_end(FCGX_Request *req, const struct coord_req *r)
{
	return r->body && FCGX_GetParam("CONTENT_LENGTH", req->envp) &&
	       FCGX_GetChar(req->in) == EOF && FCGX_GetError(req->in) == 0;
}

static void *thread_main(void *arg)
{
	struct thread_ctx *t = arg;
	FCGX_Request req;
	struct coord_io io = { &req };
	struct coord_req r;

	if (FCGX_InitRequest(&req, listen_fd, 0) != 0)
		return NULL;
	while (!coord_shutting_down()) {
		if (FCGX_Accept_r(&req) < 0)
			break;
		serve_one(t, &io, &r);
		if (input_read_to_end(&req, &r))
			FCGX_Detach(&req);
		FCGX_Finish_r(&req);
		end_request(&r);
	}
	FCGX_Free(&req, 1);
	return NULL;
}

/* ---- background work (download counts, metrics) ---- */

struct background {
	void (*fn)(struct coord_bg *bg, bool final);
	int interval_ms;
	int64_t due_ms;
};

static struct background backgrounds[COORD_MAX_BACKGROUND];
static size_t nbackgrounds;
static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bg_wake;
static bool bg_stop; /* under bg_lock: the requests have finished, run the final pass */

void coord_serve_background(void (*fn)(struct coord_bg *bg, bool final), int interval_ms)
{
	if (nbackgrounds == COORD_MAX_BACKGROUND) {
		coord_log(COORD_LOG_ERROR, "too many background functions");
		abort();
	}
	backgrounds[nbackgrounds++] = (struct background){ fn, interval_ms > 0 ? interval_ms : 1, 0 };
}

static void run_backgrounds_final(struct coord_bg *bg)
{
	for (size_t i = 0; i < nbackgrounds; i++)
		backgrounds[i].fn(bg, true);
}

static void *background_main(void *arg)
{
	struct coord_bg bg = { arg, NULL, NULL };
	bg.db = coord_db_new(bg.cfg->database_url, true);
	bg.redis = coord_redis_new(&bg.cfg->redis);
	int64_t now = coord_monotonic_ms();
	for (size_t i = 0; i < nbackgrounds; i++)
		backgrounds[i].due_ms = now + backgrounds[i].interval_ms;

	pthread_mutex_lock(&bg_lock);
	while (!bg_stop) {
		int64_t next = INT64_MAX;
		for (size_t i = 0; i < nbackgrounds; i++)
			if (backgrounds[i].due_ms < next)
				next = backgrounds[i].due_ms;
		struct timespec ts = { (time_t)(next / 1000), (long)(next % 1000) * 1000000 };
		pthread_cond_timedwait(&bg_wake, &bg_lock, &ts);
		if (bg_stop)
			break;
		pthread_mutex_unlock(&bg_lock);
		now = coord_monotonic_ms();
		for (size_t i = 0; i < nbackgrounds; i++) {
			if (backgrounds[i].due_ms > now)
				continue;
			backgrounds[i].fn(&bg, false);
			coord_db_rollback(bg.db);
			backgrounds[i].due_ms = coord_monotonic_ms() + backgrounds[i].interval_ms;
		}
		pthread_mutex_lock(&bg_lock);
	}
	pthread_mutex_unlock(&bg_lock);
	run_backgrounds_final(&bg);
	coord_db_free(bg.db);
	coord_redis_free(bg.redis);
	return NULL;
}

/* The background thread (on the monotonic clock, like coord_monotonic_ms); false if none. */
static bool start_background(pthread_t *thread, const struct coord_config *cfg)
{
	pthread_condattr_t attr;
	if (nbackgrounds == 0)
		return false;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&bg_wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(thread, NULL, background_main, (void *)cfg) != 0) {
		coord_log(COORD_LOG_ERROR, "cannot start the background thread");
		return false;
	}
	return true;
}

static void stop_background(pthread_t thread)
{
	pthread_mutex_lock(&bg_lock);
	bg_stop = true;
	pthread_cond_signal(&bg_wake);
	pthread_mutex_unlock(&bg_lock);
	pthread_join(thread, NULL);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static void noop_handler(int sig)
{
	(void)sig;
}

int coord_serve(const struct coord_program *prog, int argc, char **argv)
{
	static struct coord_config cfg;
	const char *program = base_name(argc > 0 ? argv[0] : prog->group);
	struct coord_listen sock;
	int rc = coord_listen_options(&sock, prog, program, argc, argv);
	if (rc >= 0)
		return rc;

	coord_serve_background(coord_metrics_background, COORD_METRICS_FLUSH_MS);
	coord_config_load_or_exit(&cfg, program, NULL);
	coord_log_setup(cfg.log_format, cfg.log_level);
	if (prog->needs_wasm_dir)
		coord_config_cache_dir_or_exit(&cfg);
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0) {
		fprintf(stderr, "%s: cannot initialise libfcgi\n", program);
		return EX_OSERR;
	}

	rc = coord_listen_open(&sock, program);
	if (rc >= 0)
		return rc;
	listen_fd = sock.fd;

	if (!sock.daemon && FCGX_IsCGI()) {
		struct thread_ctx t = { prog, &cfg, NULL, NULL };
		struct coord_io io = { NULL };
		struct coord_req r;
		serve_one(&t, &io, &r);
		fflush(stdout);
		end_request(&r);
		struct coord_bg bg = { &cfg, t.db, t.redis };
		run_backgrounds_final(&bg);
		coord_db_free(t.db);
		coord_redis_free(t.redis);
		coord_config_release(&cfg);
		return 0;
	}

	if (!cfg.require_auth)
		coord_log(COORD_LOG_WARN, "REQUIRE_AUTH=false: worker routes accept anonymous callers "
					  "(development only)");
	if (strcmp(prog->group, "admin") == 0 && cfg.admin_token_is_default)
		coord_log(COORD_LOG_WARN, "ADMIN_BEARER_TOKEN has its default value: set it");

	/* worker threads never see the signals; this thread waits for them */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noop_handler; /* a default action would kill us before sigwait */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	size_t n = (size_t)cfg.threads;
	pthread_t *threads = coord_xcalloc(n, sizeof(*threads));
	struct thread_ctx *ctx = coord_xcalloc(n, sizeof(*ctx));
	size_t started = 0;
	for (size_t i = 0; i < n; i++) {
		ctx[i].prog = prog;
		ctx[i].cfg = &cfg;
		if (pthread_create(&threads[i], NULL, thread_main, &ctx[i]) != 0)
			break;
		started++;
	}
	if (started == 0) {
		fprintf(stderr, "%s: cannot start threads\n", program);
		return EX_OSERR;
	}
	pthread_t background;
	bool has_background = start_background(&background, &cfg);

	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	atomic_store(&shutting_down, true);
	FCGX_ShutdownPending();
	/* wakes the threads idle in accept(); requests in flight finish first */
	shutdown(listen_fd, SHUT_RDWR);
	for (size_t i = 0; i < started; i++) {
		pthread_join(threads[i], NULL);
		coord_db_free(ctx[i].db);
		coord_redis_free(ctx[i].redis);
	}
	if (has_background)
		stop_background(background);
	coord_listen_close(&sock);
	free(threads);
	free(ctx);
	coord_config_release(&cfg);
	return 0;
}
