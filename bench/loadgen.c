/*
 * loadgen: load generator for the coordinator's work-queue hot path (see bench/README.md).
 *
 * Coordinator mode: M producer threads POST /executions/create (distinct request ids, a GitHub
 * code source) while N worker threads loop GET /executions/poll -> POST /jobs/claim ->
 * POST /jobs/complete for every job returned.  A lifecycle is create -> compile claim+complete
 * -> execute claim+complete; it is counted when its execute job completes.  The run stops when
 * --items lifecycles have completed or after --duration seconds, whichever comes first.
 *
 * Floor mode (--floor PATH): N connections GET PATH back to back for --duration seconds;
 * reports requests/s and the latency of one request and of a pair of requests (the floor of
 * poll->claim, which is two round trips).
 *
 * Storage mode (--storage, with --token): N connections each loop POST /storage/set of a
 * 16-byte value then POST /storage/get of it (SPEC §3.2.10), one storage pair per connection
 * (account "bench-<i>"), for --duration seconds; reports pairs/s and the latency of one
 * request and of a pair, like floor mode.
 *
 * Every connection is HTTP/1.1 keep-alive to 127.0.0.1:PORT, nothing else is ever contacted.
 * Human-readable results go to stderr, one machine-readable "RESULT key=value ..." line to
 * stdout.  Exit status: 0 when the run reached its target without errors, 1 otherwise (the
 * results are printed either way), 2 on bad usage.
 *
 * Build: cc -std=c11 -Wall -Wextra -O2 -pthread $(pkg-config --cflags json-c) \
 *            -o loadgen loadgen.c $(pkg-config --libs json-c)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define POLL_PATH_FMT "/executions/poll?timeout=%d&capabilities=compilation,execution"
#define IO_TIMEOUT_SECONDS 30
/* A compile completion carries a compile result: the derived execute item then has one, its
 * claim says has_compile_result=true, and the execute job is handed out without a cached WASM
 * binary (SPEC §3.2.3 row E7).  Without it the claim would re-arm the compile job (row C2). */
#define COMPILE_RESULT "AGFzbQEAAAA="

/* ---------------------------------------------------------------- options, shared state */

static struct {
	int port;
	const char *token;
	int workers;
	int producers;
	uint64_t items; /* 0 = unbounded (then --duration bounds the run) */
	double duration;
	const char *floor_path;
	bool storage;
	uint64_t id_base;
	int poll_timeout;
	const char *header;    /* --header "Name: value", sent with every request */
	const char *post_body; /* floor mode: POST this JSON body instead of GET */
	const char *sync_path; /* --sync-call PATH: synchronous /call overhead */
} opt = { .workers = 8, .producers = 2, .duration = 120, .poll_timeout = 1 };

static struct {
	uint64_t start_ns, deadline_ns;
	atomic_bool stop;
	atomic_uint_fast64_t next_item;
	atomic_uint_fast64_t created, create_dups;
	atomic_uint_fast64_t lifecycles, compiles;
	atomic_uint_fast64_t last_lifecycle_ns;
	atomic_uint_fast64_t requests, empty_polls, claims_without_job, late_completes;
	atomic_uint_fast64_t io_errors, status_errors;
	atomic_uint_fast64_t reconnects;
} g;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double ns_to_ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---------------------------------------------------------------- growable buffers */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		die("out of memory");
	b->p = p;
	b->cap = cap;
}

static void buf_add(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf failed");
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void buf_clear(struct buf *b)
{
	b->len = 0;
	buf_reserve(b, 0);
	b->p[0] = '\0';
}

/* ---------------------------------------------------------------- latency samples */

struct samples {
	double *v; /* milliseconds */
	size_t n, cap;
};

static void samples_add(struct samples *s, double ms)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		double *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			die("out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ms;
}

static void samples_merge(struct samples *into, const struct samples *from)
{
	for (size_t i = 0; i < from->n; i++)
		samples_add(into, from->v[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile (permille: 500 = p50, 990 = p99); 0 when there are no samples. */
static double percentile(struct samples *s, unsigned permille)
{
	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	size_t rank = (permille * s->n + 999) / 1000;
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1];
}

/* ---------------------------------------------------------------- HTTP/1.1 client */

struct conn {
	int fd;
	bool opened; /* at least once: a later open is a reconnect */
	char in[16384];
	size_t in_off, in_len;
	struct buf req;
};

struct resp {
	int status;
	bool close;
	struct buf body; /* always NUL-terminated after a response */
};

enum { HTTP_OK = 0, HTTP_ERR = -1, HTTP_EOF_EMPTY = -2 };

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in_off = c->in_len = 0;
}

static int conn_open(struct conn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = { IO_TIMEOUT_SECONDS, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only, by design */
	int rc;
	do
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (rc != 0 && errno == EINTR);
	if (rc != 0) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->in_off = c->in_len = 0;
	return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads more bytes into c->in: >0 bytes read, 0 EOF, -1 error or buffer full. */
static int conn_fill(struct conn *c)
{
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->in_len == sizeof(c->in)) {
		if (c->in_off == 0)
			return -1;
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	ssize_t n;
	do
		n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	c->in_len += (size_t)n;
	return (int)n;
}

/* Appends exactly n body bytes to out. */
static int conn_read_exact(struct conn *c, size_t n, struct buf *out)
{
	while (n > 0) {
		if (c->in_off == c->in_len && conn_fill(c) <= 0)
			return -1;
		size_t take = c->in_len - c->in_off;
		if (take > n)
			take = n;
		buf_add(out, c->in + c->in_off, take);
		c->in_off += take;
		n -= take;
	}
	return 0;
}

/* Reads one CRLF-terminated line (without the CRLF) into line. */
static int conn_read_line(struct conn *c, char *line, size_t cap)
{
	for (;;) {
		char *start = c->in + c->in_off;
		char *nl = memchr(start, '\n', c->in_len - c->in_off);
		if (nl) {
			size_t len = (size_t)(nl - start);
			if (len > 0 && start[len - 1] == '\r')
				len--;
			if (len >= cap)
				return -1;
			memcpy(line, start, len);
			line[len] = '\0';
			c->in_off += (size_t)(nl - start) + 1;
			return 0;
		}
		if (conn_fill(c) <= 0)
			return -1;
	}
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	const char *v = line + n + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	*value = v;
	return true;
}

static int read_response(struct conn *c, struct resp *r)
{
	long long clen;
	bool chunked;
	buf_clear(&r->body);
	do {
		/* the header block, kept whole in c->in */
		char *hdr_end;
		for (;;) {
			hdr_end = memmem(c->in + c->in_off, c->in_len - c->in_off, "\r\n\r\n", 4);
			if (hdr_end)
				break;
			bool had_bytes = c->in_len > c->in_off;
			int n = conn_fill(c);
			if (n == 0)
				return had_bytes ? HTTP_ERR : HTTP_EOF_EMPTY;
			if (n < 0)
				return HTTP_ERR;
		}
		char *p = c->in + c->in_off;
		*hdr_end = '\0';
		int major = 0, minor = 0;
		r->status = 0;
		if (sscanf(p, "HTTP/%d.%d %d", &major, &minor, &r->status) != 3)
			return HTTP_ERR;
		clen = -1;
		chunked = false;
		r->close = major == 1 && minor == 0;
		for (char *line = strstr(p, "\r\n"); line;) {
			line += 2;
			char *next = strstr(line, "\r\n");
			size_t len = next ? (size_t)(next - line) : strlen(line);
			const char *v;
			if (header_is(line, len, "Content-Length", &v))
				clen = strtoll(v, NULL, 10);
			else if (header_is(line, len, "Transfer-Encoding", &v))
				chunked = strncasecmp(v, "chunked", 7) == 0;
			else if (header_is(line, len, "Connection", &v) && strncasecmp(v, "close", 5) == 0)
				r->close = true;
			else if (header_is(line, len, "Connection", &v) &&
				 strncasecmp(v, "keep-alive", 10) == 0)
				r->close = false;
			line = next;
		}
		c->in_off = (size_t)(hdr_end - c->in) + 4;
	} while (r->status >= 100 && r->status < 200); /* interim answers: the real one follows */

	if (r->status == 204 || r->status == 304)
		return HTTP_OK;
	if (chunked) {
		char line[128];
		for (;;) {
			if (conn_read_line(c, line, sizeof(line)) != 0)
				return HTTP_ERR;
			char *end;
			unsigned long long size = strtoull(line, &end, 16);
			if (end == line)
				return HTTP_ERR;
			if (size == 0)
				break;
			if (conn_read_exact(c, (size_t)size, &r->body) != 0 ||
			    conn_read_line(c, line, sizeof(line)) != 0 || line[0] != '\0')
				return HTTP_ERR;
		}
		do /* trailer section up to the empty line */
			if (conn_read_line(c, line, sizeof(line)) != 0)
				return HTTP_ERR;
		while (line[0] != '\0');
		return HTTP_OK;
	}
	if (clen >= 0)
		return conn_read_exact(c, (size_t)clen, &r->body) == 0 ? HTTP_OK : HTTP_ERR;
	/* no length: the body ends with the connection */
	r->close = true;
	for (;;) {
		if (c->in_off < c->in_len) {
			buf_add(&r->body, c->in + c->in_off, c->in_len - c->in_off);
			c->in_off = c->in_len;
		}
		int n = conn_fill(c);
		if (n == 0)
			return HTTP_OK;
		if (n < 0)
			return HTTP_ERR;
	}
}

static void build_request(struct conn *c, const char *method, const char *path, const char *body,
			  size_t body_len)
{
	buf_clear(&c->req);
	buf_printf(&c->req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: coord-loadgen\r\n",
		   method, path, opt.port);
	if (opt.token)
		buf_printf(&c->req, "Authorization: Bearer %s\r\n", opt.token);
	if (opt.header)
		buf_printf(&c->req, "%s\r\n", opt.header);
	if (body)
		buf_printf(&c->req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			   body_len);
	buf_add(&c->req, "\r\n", 2);
	if (body)
		buf_add(&c->req, body, body_len);
}

/*
 * Sends one request and reads its response into r.  A keep-alive connection that the server
 * closed while idle (EOF before any byte of the answer) is reopened and the request sent once
 * more.  Returns 0 when a response was read.
 */
static int http_do(struct conn *c, const char *method, const char *path, const char *body,
		   size_t body_len, struct resp *r)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = c->fd >= 0;
		if (!reused) {
			if (conn_open(c) != 0)
				return -1;
			if (c->opened)
				atomic_fetch_add(&g.reconnects, 1);
			c->opened = true;
		}
		build_request(c, method, path, body, body_len);
		if (send_all(c->fd, c->req.p, c->req.len) != 0) {
			conn_close(c);
			if (reused)
				continue;
			return -1;
		}
		int rc = read_response(c, r);
		if (rc == HTTP_EOF_EMPTY && reused) {
			conn_close(c);
			continue;
		}
		if (rc != HTTP_OK) {
			conn_close(c);
			return -1;
		}
		atomic_fetch_add(&g.requests, 1);
		if (r->close)
			conn_close(c);
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------------- threads */

struct thread {
	pthread_t tid;
	int index;
	struct conn c;
	struct resp r;
	struct buf out;
	struct samples poll_claim, complete, create; /* coordinator mode */
	struct samples single, pair;                  /* floor mode */
};

static bool time_up(void)
{
	return now_ns() >= g.deadline_ns;
}

static bool should_stop(void)
{
	if (atomic_load(&g.stop) || time_up())
		return true;
	return opt.items > 0 && atomic_load(&g.lifecycles) >= opt.items;
}

static void io_error(const char *what)
{
	uint64_t n = atomic_fetch_add(&g.io_errors, 1);
	if (n < 5)
		fprintf(stderr, "loadgen: %s: no response from 127.0.0.1:%d\n", what, opt.port);
	pause_ms(10);
}

static void status_error(const char *what, const struct resp *r)
{
	uint64_t n = atomic_fetch_add(&g.status_errors, 1);
	if (n < 5)
		fprintf(stderr, "loadgen: %s: HTTP %d %.200s\n", what, r->status,
			r->body.p ? r->body.p : "");
	pause_ms(10);
}

static void *producer_main(void *arg)
{
	struct thread *t = arg;
	while (!atomic_load(&g.stop) && !time_up()) {
		uint64_t i = atomic_fetch_add(&g.next_item, 1);
		if (opt.items > 0 && i >= opt.items)
			break;
		uint64_t id = opt.id_base + i;
		buf_clear(&t->out);
		buf_printf(&t->out,
			   "{\"request_id\":%" PRIu64 ",\"data_id\":\"bench-%" PRIu64 "\","
			   "\"code_source\":{\"type\":\"GitHub\",\"repo\":\"coord-bench/hello\","
			   "\"commit\":\"0123456789abcdef0123456789abcdef01234567\","
			   "\"build_target\":\"wasm32-wasip1\"},"
			   "\"resource_limits\":{\"max_instructions\":1000000000,\"max_memory_mb\":128,"
			   "\"max_execution_seconds\":60},"
			   "\"input_data\":\"{}\"}",
			   id, id);
		uint64_t t0 = now_ns();
		if (http_do(&t->c, "POST", "/executions/create", t->out.p, t->out.len, &t->r) != 0) {
			io_error("create");
			continue;
		}
		if (t->r.status == 201) {
			samples_add(&t->create, ns_to_ms(now_ns() - t0));
			atomic_fetch_add(&g.created, 1);
		} else if (t->r.status == 200) {
			atomic_fetch_add(&g.create_dups, 1);
		} else {
			status_error("create", &t->r);
		}
	}
	return NULL;
}

/* Builds the claim body for a polled payload into t->out. */
static int build_claim(struct thread *t, const char *payload)
{
	json_object *item = json_tokener_parse(payload);
	json_object *v;
	if (!item || !json_object_is_type(item, json_type_object)) {
		json_object_put(item);
		return -1;
	}
	json_object *claim = json_object_new_object();
	static const char *const copied[] = { "request_id", "data_id", "code_source",
					      "resource_limits", "user_account_id",
					      "transaction_hash", "near_payment_yocto",
					      "compile_only", "force_rebuild", "project_uuid",
					      "project_id" };
	for (size_t i = 0; i < sizeof(copied) / sizeof(*copied); i++)
		if (json_object_object_get_ex(item, copied[i], &v) && v)
			json_object_object_add(claim, copied[i], json_object_get(v));
	char worker_id[32];
	snprintf(worker_id, sizeof(worker_id), "bench-worker-%d", t->index);
	json_object_object_add(claim, "worker_id", json_object_new_string(worker_id));
	json_object *caps = json_object_new_array();
	json_object_array_add(caps, json_object_new_string("compilation"));
	json_object_array_add(caps, json_object_new_string("execution"));
	json_object_object_add(claim, "capabilities", caps);
	bool has_result = json_object_object_get_ex(item, "compile_result", &v) && v;
	json_object_object_add(claim, "has_compile_result", json_object_new_boolean(has_result));
	bool ok = json_object_object_get_ex(item, "request_id", NULL) &&
		  json_object_object_get_ex(item, "data_id", NULL);
	buf_clear(&t->out);
	const char *text = json_object_to_json_string_ext(
		claim, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_add(&t->out, text, strlen(text));
	json_object_put(claim);
	json_object_put(item);
	return ok ? 0 : -1;
}

static void complete_job(struct thread *t, int64_t job_id, bool execute)
{
	char body[160];
	int n = snprintf(body, sizeof(body),
			 "{\"job_id\":%" PRId64 ",\"success\":true,\"time_ms\":1%s}", job_id,
			 execute ? "" : ",\"compile_result\":\"" COMPILE_RESULT "\"");
	uint64_t t0 = now_ns();
	if (http_do(&t->c, "POST", "/jobs/complete", body, (size_t)n, &t->r) != 0) {
		io_error("complete");
		return;
	}
	uint64_t t1 = now_ns();
	if (t->r.status == 409) {
		atomic_fetch_add(&g.late_completes, 1);
		return;
	}
	if (t->r.status != 200) {
		status_error("complete", &t->r);
		return;
	}
	samples_add(&t->complete, ns_to_ms(t1 - t0));
	if (!execute) {
		atomic_fetch_add(&g.compiles, 1);
		return;
	}
	atomic_fetch_add(&g.lifecycles, 1);
	uint64_t prev = atomic_load(&g.last_lifecycle_ns);
	while (prev < t1 && !atomic_compare_exchange_weak(&g.last_lifecycle_ns, &prev, t1))
		;
}

static void *worker_main(void *arg)
{
	struct thread *t = arg;
	char poll_path[128];
	snprintf(poll_path, sizeof(poll_path), POLL_PATH_FMT, opt.poll_timeout);
	while (!should_stop()) {
		uint64_t t0 = now_ns();
		if (http_do(&t->c, "GET", poll_path, NULL, 0, &t->r) != 0) {
			io_error("poll");
			continue;
		}
		if (t->r.status == 204) {
			atomic_fetch_add(&g.empty_polls, 1);
			continue;
		}
		if (t->r.status != 200) {
			status_error("poll", &t->r);
			continue;
		}
		if (build_claim(t, t->r.body.p) != 0) {
			status_error("poll (payload without request_id/data_id)", &t->r);
			continue;
		}
		if (http_do(&t->c, "POST", "/jobs/claim", t->out.p, t->out.len, &t->r) != 0) {
			io_error("claim");
			continue;
		}
		uint64_t t1 = now_ns();
		if (t->r.status != 200) {
			status_error("claim", &t->r);
			continue;
		}
		samples_add(&t->poll_claim, ns_to_ms(t1 - t0));

		json_object *answer = json_tokener_parse(t->r.body.p), *jobs;
		size_t njobs = 0;
		if (answer && json_object_object_get_ex(answer, "jobs", &jobs) &&
		    json_object_is_type(jobs, json_type_array))
			njobs = json_object_array_length(jobs);
		else
			status_error("claim (no jobs array)", &t->r);
		if (answer && njobs == 0)
			atomic_fetch_add(&g.claims_without_job, 1);
		for (size_t i = 0; i < njobs; i++) {
			json_object *job = json_object_array_get_idx(jobs, i), *id, *type;
			if (!json_object_object_get_ex(job, "job_id", &id) ||
			    !json_object_object_get_ex(job, "job_type", &type)) {
				status_error("claim (job without job_id/job_type)", &t->r);
				continue;
			}
			bool execute = strcmp(json_object_get_string(type), "execute") == 0;
			complete_job(t, json_object_get_int64(id), execute);
		}
		json_object_put(answer);
	}
	return NULL;
}

/* One request of a timed pair; false (counted as an error) unless it answered 200. */
static bool pair_step(struct thread *t, const char *what, const char *method, const char *path,
		      const char *body, size_t len)
{
	if (http_do(&t->c, method, path, body, len, &t->r) != 0) {
		io_error(what);
		return false;
	}
	if (t->r.status != 200) {
		status_error(what, &t->r);
		return false;
	}
	return true;
}

static void pair_samples(struct thread *t, uint64_t t0, uint64_t t1, uint64_t t2)
{
	samples_add(&t->single, ns_to_ms(t1 - t0));
	samples_add(&t->single, ns_to_ms(t2 - t1));
	samples_add(&t->pair, ns_to_ms(t2 - t0));
}

static void *floor_main(void *arg)
{
	struct thread *t = arg;
	while (!atomic_load(&g.stop) && !time_up()) {
		const char *m = opt.post_body ? "POST" : "GET";
		size_t blen = opt.post_body ? strlen(opt.post_body) : 0;
		uint64_t t0 = now_ns();
		if (!pair_step(t, "floor", m, opt.floor_path, opt.post_body, blen))
			continue;
		uint64_t t1 = now_ns();
		if (!pair_step(t, "floor", m, opt.floor_path, opt.post_body, blen))
			continue;
		pair_samples(t, t0, t1, now_ns());
	}
	return NULL;
}

static void *storage_main(void *arg)
{
	struct thread *t = arg;
	char set[512], get[256];
	int setlen = snprintf(set, sizeof(set),
			      "{\"project_uuid\":\"bench\",\"wasm_hash\":\"bench-wasm\","
			      "\"account_id\":\"bench-%d\",\"key_hash\":\"k\","
			      "\"encrypted_key\":[1,2,3],\"encrypted_value\":"
			      "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}",
			      t->index);
	int getlen = snprintf(get, sizeof(get),
			      "{\"project_uuid\":\"bench\",\"account_id\":\"bench-%d\","
			      "\"key_hash\":\"k\"}",
			      t->index);
	while (!atomic_load(&g.stop) && !time_up()) {
		uint64_t t0 = now_ns();
		if (!pair_step(t, "storage set", "POST", "/storage/set", set, (size_t)setlen))
			continue;
		uint64_t t1 = now_ns();
		if (!pair_step(t, "storage get", "POST", "/storage/get", get, (size_t)getlen))
			continue;
		pair_samples(t, t0, t1, now_ns());
	}
	return NULL;
}

/*
 * Sync mode (--sync-call PATH): one caller connection sends a synchronous POST PATH and,
 * before reading its answer, a worker connection polls the HTTPS item, sends
 * /https-calls/complete for its call_id and reads that response. Samples: from sending the
 * completion to the caller's answer (t->single) and from the completion's response to the
 * caller's answer (t->pair).
 */
static int run_sync(void)
{
	struct conn a = { .fd = -1 }, b = { .fd = -1 };
	struct resp r = { 0 };
	struct samples from_send = { 0 }, from_answer = { 0 };
	static const char body[] = "{\"input\":{\"n\":1}}";
	char complete[160], poll[64];
	uint64_t calls = 0, errors = 0;
	snprintf(poll, sizeof(poll), "/executions/poll?timeout=5&capabilities=execution");
	while (!atomic_load(&g.stop) && !time_up() && (opt.items == 0 || calls < opt.items)) {
		if (a.fd < 0 && conn_open(&a) != 0)
			die("cannot connect");
		build_request(&a, "POST", opt.sync_path, body, sizeof(body) - 1);
		if (send_all(a.fd, a.req.p, a.req.len) != 0)
			die("cannot send the call");
		if (http_do(&b, "GET", poll, NULL, 0, &r) != 0 || r.status != 200 || !r.body.p) {
			errors++;
			conn_close(&a);
			continue;
		}
		const char *cid = strstr(r.body.p, "\"call_id\":\"");
		if (!cid) {
			errors++;
			conn_close(&a);
			continue;
		}
		cid += 11;
		int n = snprintf(complete, sizeof(complete),
				 "{\"call_id\":\"%.36s\",\"success\":true,\"time_ms\":1}", cid);
		uint64_t t0 = now_ns();
		if (http_do(&b, "POST", "/https-calls/complete", complete, (size_t)n, &r) != 0 ||
		    r.status != 200) {
			errors++;
			conn_close(&a);
			continue;
		}
		uint64_t t1 = now_ns();
		if (read_response(&a, &r) != HTTP_OK || r.status != 200) {
			errors++;
			conn_close(&a);
			continue;
		}
		uint64_t t2 = now_ns();
		if (r.close)
			conn_close(&a);
		samples_add(&from_send, ns_to_ms(t2 - t0));
		samples_add(&from_answer, ns_to_ms(t2 - t1));
		calls++;
	}
	double p50 = percentile(&from_send, 500), p99 = percentile(&from_send, 990);
	double a50 = percentile(&from_answer, 500), a99 = percentile(&from_answer, 990);
	fprintf(stderr, "loadgen: sync calls %" PRIu64 ": complete sent -> caller answered p50 %.3f ms "
			"p99 %.3f ms; complete answered -> caller answered p50 %.3f ms p99 %.3f ms; "
			"errors %" PRIu64 "\n", calls, p50, p99, a50, a99, errors);
	printf("RESULT mode=sync calls=%" PRIu64 " overhead_p50_ms=%.3f overhead_p99_ms=%.3f"
	       " after_complete_p50_ms=%.3f after_complete_p99_ms=%.3f errors=%" PRIu64 "\n",
	       calls, p50, p99, a50, a99, errors);
	conn_close(&a);
	conn_close(&b);
	return calls > 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static const char usage[] =
	"Usage: loadgen --port P --token T [--workers N] [--producers M] [--items K]\n"
	"               [--duration S] [--id-base B] [--poll-timeout S]\n"
	"       loadgen --port P --floor PATH [--workers N] [--duration S]\n"
	"       loadgen --port P --token T --storage [--workers N] [--duration S]\n"
	"       loadgen --port P --token T --sync-call PATH --header 'X-Payment-Key: K' [--items K]\n"
	"       (--header H: one more header on every request; --post BODY: floor mode POSTs BODY)\n"
	"Targets http://127.0.0.1:P only.  Coordinator mode: M producers create K requests while\n"
	"N workers poll, claim and complete them; stops after K lifecycles or S seconds\n"
	"(default 120).  Floor mode: N connections GET PATH for S seconds.  Storage mode: N\n"
	"connections set and get a small storage value for S seconds.\n"
	"Defaults: --workers 8 --producers 2 --items 0 (unbounded) --poll-timeout 1\n"
	"          --id-base <unix time x 10^6>\n";

static uint64_t parse_u64(const char *name, const char *s, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		die("%s: expected an integer from 0 to %" PRIu64 ", got '%s'", name, max, s);
	return (uint64_t)v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "token", required_argument, NULL, 't' },
		{ "workers", required_argument, NULL, 'w' },
		{ "producers", required_argument, NULL, 'm' },
		{ "items", required_argument, NULL, 'k' },
		{ "duration", required_argument, NULL, 'd' },
		{ "floor", required_argument, NULL, 'f' },
		{ "storage", no_argument, NULL, 's' },
		{ "id-base", required_argument, NULL, 'b' },
		{ "poll-timeout", required_argument, NULL, 'o' },
		{ "header", required_argument, NULL, 'H' },
		{ "post", required_argument, NULL, 'P' },
		{ "sync-call", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_base = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "p:t:w:m:k:d:f:sb:o:hH:P:S:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': opt.port = (int)parse_u64("--port", optarg, 65535); break;
		case 't': opt.token = optarg; break;
		case 'w': opt.workers = (int)parse_u64("--workers", optarg, 1024); break;
		case 'm': opt.producers = (int)parse_u64("--producers", optarg, 1024); break;
		case 'k': opt.items = parse_u64("--items", optarg, UINT64_C(1) << 40); break;
		case 'd': opt.duration = (double)parse_u64("--duration", optarg, 86400); break;
		case 'f': opt.floor_path = optarg; break;
		case 's': opt.storage = true; break;
		case 'b':
			opt.id_base = parse_u64("--id-base", optarg, UINT64_C(1) << 62);
			have_base = true;
			break;
		case 'o': opt.poll_timeout = (int)parse_u64("--poll-timeout", optarg, 120); break;
		case 'H': opt.header = optarg; break;
		case 'P': opt.post_body = optarg; break;
		case 'S': opt.sync_path = optarg; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); exit(2);
		}
	}
	if (optind != argc)
		die("unexpected argument '%s'", argv[optind]);
	if (opt.port < 1)
		die("--port is required (1-65535)");
	if (opt.workers < 1)
		die("--workers must be at least 1");
	if (opt.duration < 1)
		die("--duration must be at least 1");
	if (opt.floor_path && opt.storage)
		die("--floor and --storage are two different runs");
	if (opt.header && (strpbrk(opt.header, "\r\n") || !strchr(opt.header, ':')))
		die("--header must be one \"Name: value\" line");
	if (opt.sync_path) {
		if (!opt.token || opt.sync_path[0] != '/')
			die("--sync-call needs a path and --token");
		return;
	}
	if (opt.floor_path) {
		if (opt.floor_path[0] != '/' || strpbrk(opt.floor_path, " \r\n"))
			die("--floor must be a path starting with '/' without spaces");
		return;
	}
	if (!opt.token || !*opt.token || strpbrk(opt.token, "\r\n"))
		die("--token is required (a worker bearer token)");
	if (opt.storage)
		return;
	if (opt.producers < 1)
		die("--producers must be at least 1");
	if (!have_base)
		opt.id_base = (uint64_t)time(NULL) * 1000000u;
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&g.stop, true);
}

static struct thread *start_threads(int n, void *(*fn)(void *), int first_index)
{
	struct thread *ts = calloc((size_t)n, sizeof(*ts));
	if (!ts)
		die("out of memory");
	for (int i = 0; i < n; i++) {
		ts[i].index = first_index + i;
		ts[i].c.fd = -1;
		if (pthread_create(&ts[i].tid, NULL, fn, &ts[i]) != 0)
			die("cannot start thread %d", i);
	}
	return ts;
}

static void join_threads(struct thread *ts, int n)
{
	for (int i = 0; i < n; i++) {
		pthread_join(ts[i].tid, NULL);
		conn_close(&ts[i].c);
		free(ts[i].c.req.p);
		free(ts[i].r.body.p);
		free(ts[i].out.p);
	}
}

static void free_samples(struct samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* floor and storage modes: timed pairs on N connections */
static int run_pairs(void)
{
	const char *mode = opt.storage ? "storage" : "floor";
	struct thread *ts = start_threads(opt.workers, opt.storage ? storage_main : floor_main, 0);
	join_threads(ts, opt.workers);
	double elapsed = (double)(now_ns() - g.start_ns) / 1e9;
	struct samples single = { 0 }, pair = { 0 };
	for (int i = 0; i < opt.workers; i++) {
		samples_merge(&single, &ts[i].single);
		samples_merge(&pair, &ts[i].pair);
		free_samples(&ts[i].single);
		free_samples(&ts[i].pair);
	}
	uint64_t requests = atomic_load(&g.requests);
	uint64_t errors = atomic_load(&g.io_errors) + atomic_load(&g.status_errors);
	double rps = (double)single.n / elapsed;
	double p50 = percentile(&single, 500), p99 = percentile(&single, 990);
	double pp50 = percentile(&pair, 500), pp99 = percentile(&pair, 990);
	fprintf(stderr,
		"loadgen: %s %s, %d connections, %.1f s: %.0f requests/s, %.0f pairs/s; "
		"request p50 %.3f ms p99 %.3f ms; pair p50 %.3f ms p99 %.3f ms; errors %" PRIu64 "\n",
		mode, opt.storage ? "set+get" : opt.floor_path, opt.workers, elapsed, rps,
		(double)pair.n / elapsed, p50, p99, pp50, pp99, errors);
	printf("RESULT mode=%s connections=%d elapsed_s=%.3f requests=%" PRIu64
	       " ok_requests=%zu requests_per_s=%.1f pairs=%zu pairs_per_s=%.1f req_p50_ms=%.3f"
	       " req_p99_ms=%.3f pair_p50_ms=%.3f pair_p99_ms=%.3f errors=%" PRIu64
	       " reconnects=%" PRIu64 "\n",
	       mode, opt.workers, elapsed, requests, single.n, rps, pair.n,
	       (double)pair.n / elapsed, p50, p99, pp50, pp99, errors, atomic_load(&g.reconnects));
	free_samples(&single);
	free_samples(&pair);
	free(ts);
	return errors == 0 && requests > 0 ? 0 : 1;
}

static int run_coordinator(void)
{
	struct thread *ws = start_threads(opt.workers, worker_main, 0);
	struct thread *ps = start_threads(opt.producers, producer_main, opt.workers);
	join_threads(ps, opt.producers);
	join_threads(ws, opt.workers);
	uint64_t end = now_ns();
	uint64_t lifecycles = atomic_load(&g.lifecycles);
	bool reached = opt.items > 0 && lifecycles >= opt.items;
	uint64_t last = atomic_load(&g.last_lifecycle_ns);
	/* all items done: the run ends with the last lifecycle, not with the idle polls after it */
	double elapsed = (double)((reached && last > g.start_ns ? last : end) - g.start_ns) / 1e9;

	struct samples pc = { 0 }, cp = { 0 }, cr = { 0 };
	for (int i = 0; i < opt.workers; i++) {
		samples_merge(&pc, &ws[i].poll_claim);
		samples_merge(&cp, &ws[i].complete);
		free_samples(&ws[i].poll_claim);
		free_samples(&ws[i].complete);
	}
	for (int i = 0; i < opt.producers; i++) {
		samples_merge(&cr, &ps[i].create);
		free_samples(&ps[i].create);
	}
	uint64_t errors = atomic_load(&g.io_errors) + atomic_load(&g.status_errors);
	uint64_t requests = atomic_load(&g.requests);
	double lps = elapsed > 0 ? (double)lifecycles / elapsed : 0;
	double pc50 = percentile(&pc, 500), pc99 = percentile(&pc, 990);
	double cp50 = percentile(&cp, 500), cp99 = percentile(&cp, 990);
	double cr50 = percentile(&cr, 500), cr99 = percentile(&cr, 990);
	fprintf(stderr,
		"loadgen: %" PRIu64 " lifecycles in %.2f s (%d workers, %d producers): %.1f/s; "
		"poll->claim p50 %.3f ms p99 %.3f ms; complete p50 %.3f ms p99 %.3f ms; "
		"create p50 %.3f ms p99 %.3f ms\n"
		"loadgen: created %" PRIu64 ", compiles %" PRIu64 ", requests %" PRIu64
		", empty polls %" PRIu64 ", claims without job %" PRIu64 ", 409 completes %" PRIu64
		", errors %" PRIu64 "%s\n",
		lifecycles, elapsed, opt.workers, opt.producers, lps, pc50, pc99, cp50, cp99, cr50,
		cr99, atomic_load(&g.created), atomic_load(&g.compiles), requests,
		atomic_load(&g.empty_polls), atomic_load(&g.claims_without_job),
		atomic_load(&g.late_completes), errors,
		opt.items > 0 && !reached ? " (stopped before all items completed)" : "");
	printf("RESULT mode=coordinator workers=%d producers=%d items=%" PRIu64
	       " lifecycles=%" PRIu64 " elapsed_s=%.3f lifecycles_per_s=%.2f"
	       " poll_claim_p50_ms=%.3f poll_claim_p99_ms=%.3f complete_p50_ms=%.3f"
	       " complete_p99_ms=%.3f create_p50_ms=%.3f create_p99_ms=%.3f created=%" PRIu64
	       " compiles=%" PRIu64 " requests=%" PRIu64 " empty_polls=%" PRIu64
	       " claims_without_job=%" PRIu64 " late_completes=%" PRIu64 " errors=%" PRIu64
	       " reconnects=%" PRIu64 " id_base=%" PRIu64 " complete=%s\n",
	       opt.workers, opt.producers, opt.items, lifecycles, elapsed, lps, pc50, pc99, cp50,
	       cp99, cr50, cr99, atomic_load(&g.created), atomic_load(&g.compiles), requests,
	       atomic_load(&g.empty_polls), atomic_load(&g.claims_without_job),
	       atomic_load(&g.late_completes), errors, atomic_load(&g.reconnects), opt.id_base,
	       opt.items == 0 || reached ? "yes" : "no");
	free_samples(&pc);
	free_samples(&cp);
	free_samples(&cr);
	free(ws);
	free(ps);
	return errors == 0 && lifecycles > 0 && (opt.items == 0 || reached) ? 0 : 1;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	g.start_ns = now_ns();
	g.deadline_ns = g.start_ns + (uint64_t)(opt.duration * 1e9);
	int rc = opt.sync_path ? run_sync() : opt.floor_path || opt.storage ? run_pairs() : run_coordinator();
	fflush(stdout);
	return rc;
}
