#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "coord_buf.h"
#include "coord_clientip.h"
#include "coord_config.h"
#include "coord_mem.h"
#include "coord_parse.h"
#include "coord_redis.h"
#include "banned.h"

enum kind {
	K_STRING,   /* any non-empty string up to max bytes */
	K_HEADER,   /* the same, sent in an HTTP header: no control characters */
	K_INT,      /* integer in [min, max] */
	K_BOOL,
	K_ACCOUNT,  /* NEAR account id */
	K_DB_URL,
	K_REDIS_URL,
	K_IP,
	K_ORIGINS,
	K_NEAR_URL,
	K_HTTP_URL,
	K_ABS_PATH,
	K_MONEY,
	K_PROXIES,
	K_QUEUE,
	K_PREFIX,
	K_SENDFILE,
	K_LOG_FORMAT,
	K_LOG_LEVEL,
	K_IGNORED
};

struct var {
	const char *name;
	const char *def; /* NULL: unset by default */
	enum kind kind;
	int64_t min, max;
};

#define I64MAX INT64_MAX
static const struct var vars[] = {
	{ "DATABASE_URL", "postgres://postgres:postgres@localhost/offchainvm", K_DB_URL, 0, 0 },
	{ "REDIS_URL", "redis://localhost:6379", K_REDIS_URL, 0, 0 },
	{ "HOST", "0.0.0.0", K_IP, 0, 0 },
	{ "PORT", "8080", K_INT, 1, 65535 },
	{ "CORS_ALLOWED_ORIGINS", "http://localhost:3000", K_ORIGINS, 0, 0 },
	{ "NEAR_RPC_URL", "https://rpc.testnet.near.org", K_NEAR_URL, 0, 0 },
	{ "NEAR_RPC_TIMEOUT_SECONDS", "5", K_INT, 1, 60 },
	{ "OFFCHAINVM_CONTRACT_ID", "outlayer.testnet", K_ACCOUNT, 0, 0 },
	{ "OPERATOR_ACCOUNT_ID", NULL, K_ACCOUNT, 0, 0 },
	{ "WASM_CACHE_DIR", "/var/offchainvm/wasm", K_ABS_PATH, 0, 0 },
	{ "WASM_CACHE_MAX_SIZE_GB", "50", K_INT, 0, 1048576 },
	{ "WASM_CACHE_MAX_SIZE_BYTES", NULL, K_INT, 0, I64MAX },
	{ "KEYSTORE_BASE_URL", NULL, K_HTTP_URL, 0, 0 },
	{ "KEYSTORE_AUTH_TOKEN", NULL, K_HEADER, 1, 65536 },
	{ "REQUIRE_AUTH", "true", K_BOOL, 0, 0 },
	{ "ADMIN_BEARER_TOKEN", "change-this-in-production", K_STRING, 1, 1024 },
	{ "REQUIRE_TEE_SESSION", "false", K_BOOL, 0, 0 },
	{ "TEE_SESSION_TTL_SECONDS", "86400", K_INT, 60, 31536000 },
	{ "STABLECOIN_CONTRACT", "17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1",
	  K_ACCOUNT, 0, 0 },
	{ "STABLECOIN_DECIMALS", "6", K_INT, 0, 38 },
	{ "DEFAULT_COMPUTE_LIMIT", "10000", K_MONEY, 0, 0 },
	{ "MIN_COMPUTE_LIMIT", "1000", K_MONEY, 0, 0 },
	{ "HTTPS_CALL_TIMEOUT_SECONDS", "300", K_INT, 1, 3600 },
	{ "PAYMENT_KEY_RATE_LIMIT_PER_MINUTE", "1000", K_INT, 1, 1000000 },
	{ "RATE_LIMIT_API_PER_MINUTE", "100", K_INT, 1, 1000000 },
	{ "RATE_LIMIT_PUBLIC_STORAGE_PER_MINUTE", "100", K_INT, 1, 1000000 },
	{ "RATE_LIMIT_SECRETS_PER_MINUTE", "10", K_INT, 1, 1000000 },
	{ "TRUSTED_PROXIES", NULL, K_PROXIES, 0, 0 },
	{ "REDIS_QUEUE_COMPILE", "outlayer:compile", K_QUEUE, 0, 0 },
	{ "REDIS_QUEUE_EXECUTE", "outlayer:execute", K_QUEUE, 0, 0 },
	{ "JOB_LEASE_SECONDS", "300", K_INT, 30, 86400 },
	{ "POLL_LEASE_SECONDS", "60", K_INT, 10, 3600 },
	{ "JOB_MAX_ATTEMPTS", "3", K_INT, 1, 100 },
	{ "PAYMENT_KEY_STALE_SECONDS", "86400", K_INT, 60, 31536000 },
	{ "IDEMPOTENCY_TTL_SECONDS", "86400", K_INT, 3600, 2592000 },
	{ "COORD_CONFIG", NULL, K_IGNORED, 0, 0 }, /* read before the others */
	{ "COORD_THREADS", "1", K_INT, 1, 64 },
	{ "COORD_PATH_PREFIX", NULL, K_PREFIX, 0, 0 },
	{ "COORD_SENDFILE", "off", K_SENDFILE, 0, 0 },
	{ "COORD_LOG_FORMAT", "json", K_LOG_FORMAT, 0, 0 },
	{ "COORD_LOG_LEVEL", "info", K_LOG_LEVEL, 0, 0 },
	/* accepted for compatibility and ignored (SPEC §2.2) */
	{ "DB_POOL_SIZE", NULL, K_IGNORED, 0, 0 },
	{ "LRU_EVICTION_CHECK_INTERVAL_SECONDS", NULL, K_IGNORED, 0, 0 },
	{ "TASK_POLL_TIMEOUT_SECONDS", NULL, K_IGNORED, 0, 0 },
	{ "LOCK_DEFAULT_TTL_SECONDS", NULL, K_IGNORED, 0, 0 },
	{ "MAX_CONCURRENT_CALLS_PER_KEY", NULL, K_IGNORED, 0, 0 },
	{ "EXPECTED_WORKER_MEASUREMENT", NULL, K_IGNORED, 0, 0 },
	{ "STABLECOIN_SYMBOL", NULL, K_IGNORED, 0, 0 },
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static const struct var *find_var(const char *name)
{
	for (size_t i = 0; i < NVARS; i++)
		if (strcmp(vars[i].name, name) == 0)
			return &vars[i];
	return NULL;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- the COORD_CONFIG file ---- */

void coord_config_file_free(char **keys, char **values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
}

enum coord_err coord_config_parse_file(const char *text, size_t len, char ***keys_out,
				       char ***values_out, size_t *n_out, char *err,
				       size_t errlen)
{
	enum coord_err status = COORD_ERR_INVALID;
	char **keys = NULL, **values = NULL;
	size_t n = 0, cap = 0, lineno = 0, pos = 0;

	if (memchr(text, '\0', len) || !coord_utf8_valid(text, len)) {
		set_err(err, errlen, "COORD_CONFIG: file is not UTF-8 text");
		goto out;
	}
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;
		pos += llen + (nl ? 1 : 0);
		lineno++;

		size_t a = 0;
		while (a < llen && isspace((unsigned char)line[a]))
			a++;
		if (a == llen || line[a] == '#')
			continue;
		const char *eq = memchr(line, '=', llen);
		if (!eq) {
			set_err(err, errlen, "COORD_CONFIG: line %zu: missing '='", lineno);
			goto out;
		}
		size_t kend = (size_t)(eq - line);
		while (kend > a && isspace((unsigned char)line[kend - 1]))
			kend--;
		size_t vstart = (size_t)(eq - line) + 1, vend = llen;
		while (vend > vstart && isspace((unsigned char)line[vend - 1]))
			vend--;
		char *key = coord_xmemdup(line + a, kend - a);
		if (!find_var(key) || strcmp(key, "COORD_CONFIG") == 0) {
			set_err(err, errlen, "COORD_CONFIG: line %zu: unknown key '%.64s'", lineno,
				key);
			free(key);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (strcmp(keys[i], key) == 0) {
				set_err(err, errlen, "COORD_CONFIG: line %zu: duplicate key %s",
					lineno, key);
				free(key);
				goto out;
			}
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			keys = coord_xrealloc(keys, cap * sizeof(*keys));
			values = coord_xrealloc(values, cap * sizeof(*values));
		}
		keys[n] = key;
		values[n] = coord_xmemdup(line + vstart, vend - vstart);
		n++;
	}
	status = COORD_OK;
out:
	if (status != COORD_OK) {
		coord_config_file_free(keys, values, n);
		keys = values = NULL;
		n = 0;
	}
	*keys_out = keys;
	*values_out = values;
	*n_out = n;
	return status;
}

static enum coord_err read_file(const char *path, struct coord_buf *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return COORD_ERR_IO;
	char chunk[4096];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		coord_buf_add(out, chunk, got);
		if (out->len > 1024 * 1024) {
			fclose(f);
			return COORD_ERR_RANGE;
		}
	}
	int bad = ferror(f);
	fclose(f);
	return bad ? COORD_ERR_IO : COORD_OK;
}

/* ---- value parsers ---- */

bool coord_near_account_valid(const char *s)
{
	size_t len = strlen(s);
	if (len < 2 || len > 64)
		return false;
	bool prev_sep = true; /* no leading separator */
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			prev_sep = false;
		} else if (c == '-' || c == '_' || c == '.') {
			if (prev_sep)
				return false;
			prev_sep = true;
		} else {
			return false;
		}
	}
	return !prev_sep;
}

static bool http_url_valid(const char *s)
{
	const char *rest;
	if (strncmp(s, "http://", 7) == 0)
		rest = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		rest = s + 8;
	else
		return false;
	if (*rest == '\0' || *rest == '/')
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7F)
			return false;
	return true;
}

static bool origin_valid(const char *s, size_t len)
{
	size_t i = 0;
	if (len == 0 || !isalpha((unsigned char)s[0]))
		return false;
	while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '.' || s[i] == '-'))
		i++;
	if (len - i < 4 || memcmp(s + i, "://", 3) != 0)
		return false;
	i += 3;
	size_t hstart = i;
	if (s[i] == '[') {
		while (i < len && s[i] != ']')
			i++;
		if (i == len)
			return false;
		i++;
	} else {
		while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '_'))
			i++;
	}
	if (i == hstart)
		return false;
	if (i < len) {
		int64_t port;
		if (s[i] != ':' || coord_parse_i64(s + i + 1, len - i - 1, 1, 65535, &port) != COORD_OK)
			return false;
	}
	return true;
}

/* Splits a comma list into trimmed, non-empty items; calls fn for each. */
static bool each_item(const char *list, bool (*fn)(const char *item, size_t len, void *ctx),
		      void *ctx)
{
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *s = p;
		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		if (len == 0 || !fn(s, len, ctx))
			return false;
		if (!comma)
			return true;
		p = comma + 1;
	}
}

struct list_ctx {
	struct coord_config *cfg;
	size_t n;
};

static bool add_origin(const char *s, size_t len, void *vctx)
{
	struct list_ctx *ctx = vctx;
	if (len == 1 && s[0] == '*') {
		ctx->cfg->cors_any = true;
		return true;
	}
	if (!origin_valid(s, len))
		return false;
	ctx->cfg->cors_origins = coord_xrealloc(ctx->cfg->cors_origins,
						(ctx->n + 2) * sizeof(char *));
	ctx->cfg->cors_origins[ctx->n++] = coord_xmemdup(s, len);
	ctx->cfg->cors_origins[ctx->n] = NULL;
	return true;
}

static bool add_proxy(const char *s, size_t len, void *vctx)
{
	struct list_ctx *ctx = vctx;
	struct coord_cidr c;
	char tmp[80];
	if (len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (coord_cidr_parse(tmp, &c) != COORD_OK)
		return false;
	ctx->cfg->trusted_proxies = coord_xrealloc(ctx->cfg->trusted_proxies,
						   (ctx->n + 1) * sizeof(c));
	ctx->cfg->trusted_proxies[ctx->n++] = c;
	ctx->cfg->n_trusted_proxies = ctx->n;
	return true;
}

/* Stores one parsed value; returns NULL or what is wrong. */
static const char *apply(struct coord_config *cfg, const struct var *v, const char *val)
{
	int64_t i = 0;
	bool b;
	const char *n = v->name;

	switch (v->kind) {
	case K_IGNORED:
		return NULL;
	case K_INT: {
		enum coord_err e = coord_parse_i64(val, strlen(val), v->min, v->max, &i);
		if (e == COORD_ERR_INVALID)
			return "not an integer";
		if (e != COORD_OK)
			return "out of range";
		break;
	}
	case K_BOOL:
		if (coord_parse_bool(val, &b) != COORD_OK)
			return "not a boolean (true|false|1|0|yes|no|on|off)";
		break;
	case K_STRING:
	case K_HEADER:
		if (strlen(val) < (size_t)v->min || strlen(val) > (size_t)v->max)
			return "length out of range";
		for (const char *c = val; v->kind == K_HEADER && *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return "contains a control character";
		break;
	case K_ACCOUNT:
		if (!coord_near_account_valid(val))
			return "not a NEAR account id";
		break;
	case K_DB_URL: {
		char *msg = NULL;
		PQconninfoOption *opts = PQconninfoParse(val, &msg);
		if (!opts) {
			PQfreemem(msg);
			return "not a libpq connection string";
		}
		PQconninfoFree(opts);
		break;
	}
	case K_REDIS_URL:
		if (coord_redis_url_parse(val, &cfg->redis) != COORD_OK)
			return "not redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]";
		break;
	case K_IP: {
		unsigned char tmp[16];
		if (inet_pton(AF_INET, val, tmp) != 1 && inet_pton(AF_INET6, val, tmp) != 1)
			return "not an IPv4 or IPv6 literal";
		break;
	}
	case K_ORIGINS: {
		struct list_ctx ctx = { cfg, 0 };
		if (!each_item(val, add_origin, &ctx))
			return "not a comma list of scheme://host[:port] or *";
		break;
	}
	case K_NEAR_URL:
		if (strcmp(val, "off") != 0 && !http_url_valid(val))
			return "not an http(s) URL or off";
		break;
	case K_HTTP_URL:
		if (!http_url_valid(val) || val[strlen(val) - 1] == '/')
			return "not an http(s) URL without trailing /";
		break;
	case K_ABS_PATH:
		if (val[0] != '/')
			return "not an absolute path";
		break;
	case K_MONEY:
		if (!coord_money_valid(val, strlen(val)))
			return "not a decimal amount of 1 to 38 digits";
		break;
	case K_PROXIES: {
		struct list_ctx ctx = { cfg, 0 };
		if (!each_item(val, add_proxy, &ctx))
			return "not a comma list of IP addresses or CIDR blocks";
		break;
	}
	case K_QUEUE: {
		size_t len = strlen(val);
		if (len < 1 || len > 200)
			return "length out of range (1-200 bytes)";
		for (size_t k = 0; k < len; k++)
			if (isspace((unsigned char)val[k]))
				return "contains whitespace";
		break;
	}
	case K_PREFIX: {
		size_t len = strlen(val);
		if (val[0] != '/' || len < 2 || val[len - 1] == '/')
			return "not /path without trailing /";
		break;
	}
	case K_SENDFILE:
		if (strcmp(val, "off") == 0)
			cfg->sendfile = COORD_SENDFILE_OFF;
		else if (strcmp(val, "x-sendfile") == 0)
			cfg->sendfile = COORD_SENDFILE_X_SENDFILE;
		else
			return "not off or x-sendfile";
		return NULL;
	case K_LOG_FORMAT:
		if (strcmp(val, "json") == 0)
			cfg->log_format = COORD_LOG_JSON;
		else if (strcmp(val, "text") == 0)
			cfg->log_format = COORD_LOG_TEXT;
		else
			return "not json or text";
		return NULL;
	case K_LOG_LEVEL: {
		static const char *const levels[] = { "debug", "info", "warn", "error" };
		for (int k = 0; k < 4; k++) {
			if (strcmp(val, levels[k]) == 0) {
				cfg->log_level = (enum coord_log_level)k;
				return NULL;
			}
		}
		return "not debug, info, warn or error";
	}
	}

	/* numbers, booleans, money and lists are stored parsed, not as text */
	bool text = v->kind != K_INT && v->kind != K_BOOL && v->kind != K_MONEY &&
		    v->kind != K_ORIGINS && v->kind != K_PROXIES;
	const char *s = text ? coord_xstrdup(val) : NULL;
#define IS(x) (strcmp(n, x) == 0)
	if (IS("DATABASE_URL")) cfg->database_url = s;
	else if (IS("REDIS_URL")) cfg->redis_url = s;
	else if (IS("HOST")) cfg->host = s;
	else if (IS("PORT")) cfg->port = i;
	else if (IS("NEAR_RPC_URL")) { cfg->near_rpc_url = s; cfg->near_off = strcmp(s, "off") == 0; }
	else if (IS("NEAR_RPC_TIMEOUT_SECONDS")) cfg->near_rpc_timeout_seconds = i;
	else if (IS("OFFCHAINVM_CONTRACT_ID")) cfg->contract_id = s;
	else if (IS("OPERATOR_ACCOUNT_ID")) cfg->operator_account_id = s;
	else if (IS("WASM_CACHE_DIR")) cfg->wasm_cache_dir = s;
	else if (IS("WASM_CACHE_MAX_SIZE_GB")) cfg->wasm_cache_max_bytes = i * (INT64_C(1) << 30);
	else if (IS("WASM_CACHE_MAX_SIZE_BYTES")) cfg->wasm_cache_max_bytes = i;
	else if (IS("KEYSTORE_BASE_URL")) cfg->keystore_base_url = s;
	else if (IS("KEYSTORE_AUTH_TOKEN")) cfg->keystore_auth_token = s;
	else if (IS("REQUIRE_AUTH")) cfg->require_auth = b;
	else if (IS("ADMIN_BEARER_TOKEN")) cfg->admin_bearer_token = s;
	else if (IS("REQUIRE_TEE_SESSION")) cfg->require_tee_session = b;
	else if (IS("TEE_SESSION_TTL_SECONDS")) cfg->tee_session_ttl_seconds = i;
	else if (IS("STABLECOIN_CONTRACT")) cfg->stablecoin_contract = s;
	else if (IS("STABLECOIN_DECIMALS")) cfg->stablecoin_decimals = i;
	else if (IS("DEFAULT_COMPUTE_LIMIT")) coord_money_canonical(val, strlen(val), cfg->default_compute_limit);
	else if (IS("MIN_COMPUTE_LIMIT")) coord_money_canonical(val, strlen(val), cfg->min_compute_limit);
	else if (IS("HTTPS_CALL_TIMEOUT_SECONDS")) cfg->https_call_timeout_seconds = i;
	else if (IS("PAYMENT_KEY_RATE_LIMIT_PER_MINUTE")) cfg->payment_key_rate_limit_per_minute = i;
	else if (IS("RATE_LIMIT_API_PER_MINUTE")) cfg->rate_limit_api_per_minute = i;
	else if (IS("RATE_LIMIT_PUBLIC_STORAGE_PER_MINUTE")) cfg->rate_limit_public_storage_per_minute = i;
	else if (IS("RATE_LIMIT_SECRETS_PER_MINUTE")) cfg->rate_limit_secrets_per_minute = i;
	else if (IS("REDIS_QUEUE_COMPILE")) cfg->redis_queue_compile = s;
	else if (IS("REDIS_QUEUE_EXECUTE")) cfg->redis_queue_execute = s;
	else if (IS("JOB_LEASE_SECONDS")) cfg->job_lease_seconds = i;
	else if (IS("POLL_LEASE_SECONDS")) cfg->poll_lease_seconds = i;
	else if (IS("JOB_MAX_ATTEMPTS")) cfg->job_max_attempts = i;
	else if (IS("PAYMENT_KEY_STALE_SECONDS")) cfg->payment_key_stale_seconds = i;
	else if (IS("IDEMPOTENCY_TTL_SECONDS")) cfg->idempotency_ttl_seconds = i;
	else if (IS("COORD_THREADS")) cfg->threads = i;
	else if (IS("COORD_PATH_PREFIX")) cfg->path_prefix = s;
	else free((void *)s);
#undef IS
	return NULL;
}

static const char *lookup(const char *name, char **keys, char **values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], name) == 0)
			return values[i];
	return NULL;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

enum coord_err coord_config_load(struct coord_config *cfg, const char *program,
				 const struct coord_config_overrides *ov, char *err,
				 size_t errlen)
{
	enum coord_err status = COORD_ERR_INVALID;
	char **keys = NULL, **values = NULL, msg[256];
	size_t nfile = 0;
	struct coord_buf text = COORD_BUF_INIT;

	memset(cfg, 0, sizeof(*cfg));
	cfg->program = program;
	cfg->path_prefix = "";
	msg[0] = '\0';

	const char *file = ov && ov->config_file ? ov->config_file : nonempty(getenv("COORD_CONFIG"));
	if (file) {
		enum coord_err e = read_file(file, &text);
		if (e != COORD_OK) {
			set_err(err, errlen, "%s: config: COORD_CONFIG: cannot read %s: %s", program,
				file, e == COORD_ERR_RANGE ? "file too large" : strerror(errno));
			goto out;
		}
		if (coord_config_parse_file(coord_buf_str(&text), text.len, &keys, &values, &nfile,
					    msg, sizeof(msg)) != COORD_OK) {
			set_err(err, errlen, "%s: config: %s", program, msg);
			goto out;
		}
	}

	/* WASM_CACHE_MAX_SIZE_BYTES overrides the GiB cap, so it is applied after it. */
	for (size_t k = 0; k < NVARS; k++) {
		const struct var *v = &vars[k];
		const char *val = NULL;
		if (ov && ov->database_url && strcmp(v->name, "DATABASE_URL") == 0)
			val = ov->database_url;
		if (!val)
			val = nonempty(getenv(v->name));
		if (!val)
			val = nonempty(lookup(v->name, keys, values, nfile));
		if (!val)
			val = v->def;
		if (!val)
			continue;
		const char *what = apply(cfg, v, val);
		if (what) {
			set_err(err, errlen, "%s: config: %s: %s", program, v->name, what);
			goto out;
		}
	}

	cfg->network = (strlen(cfg->contract_id) > 8 &&
			strcmp(cfg->contract_id + strlen(cfg->contract_id) - 8, ".testnet") == 0)
			       ? "testnet"
			       : "mainnet";
	cfg->admin_token_is_default = strcmp(cfg->admin_bearer_token, "change-this-in-production") == 0;

	if (coord_money_cmp(cfg->default_compute_limit, strlen(cfg->default_compute_limit),
			    cfg->min_compute_limit, strlen(cfg->min_compute_limit)) < 0) {
		set_err(err, errlen, "%s: config: DEFAULT_COMPUTE_LIMIT: below MIN_COMPUTE_LIMIT",
			program);
		goto out;
	}
	if (cfg->require_tee_session && !cfg->operator_account_id) {
		set_err(err, errlen, "%s: config: REQUIRE_TEE_SESSION: needs OPERATOR_ACCOUNT_ID",
			program);
		goto out;
	}
	if (cfg->require_tee_session && cfg->near_off) {
		set_err(err, errlen, "%s: config: REQUIRE_TEE_SESSION: needs NEAR_RPC_URL (not off)",
			program);
		goto out;
	}
	if (strcmp(cfg->redis_queue_compile, cfg->redis_queue_execute) == 0) {
		set_err(err, errlen, "%s: config: REDIS_QUEUE_EXECUTE: equal to REDIS_QUEUE_COMPILE",
			program);
		goto out;
	}
	if (strcmp(cfg->redis_queue_compile, "system_callbacks_queue") == 0 ||
	    strcmp(cfg->redis_queue_execute, "system_callbacks_queue") == 0) {
		set_err(err, errlen, "%s: config: %s: equal to system_callbacks_queue", program,
			strcmp(cfg->redis_queue_compile, "system_callbacks_queue") == 0
				? "REDIS_QUEUE_COMPILE"
				: "REDIS_QUEUE_EXECUTE");
		goto out;
	}
	if (cfg->poll_lease_seconds > cfg->job_lease_seconds) {
		set_err(err, errlen, "%s: config: POLL_LEASE_SECONDS: greater than JOB_LEASE_SECONDS",
			program);
		goto out;
	}
	status = COORD_OK;
out:
	coord_buf_release(&text);
	coord_config_file_free(keys, values, nfile);
	if (status != COORD_OK)
		coord_config_release(cfg);
	return status;
}

void coord_config_load_or_exit(struct coord_config *cfg, const char *program,
			       const struct coord_config_overrides *ov)
{
	char err[512];
	if (coord_config_load(cfg, program, ov, err, sizeof(err)) != COORD_OK) {
		fprintf(stderr, "%s\n", err);
		exit(EX_CONFIG);
	}
}

void coord_config_release(struct coord_config *cfg)
{
	const char **strings[] = {
		&cfg->database_url, &cfg->redis_url, &cfg->host, &cfg->near_rpc_url,
		&cfg->contract_id, &cfg->operator_account_id, &cfg->wasm_cache_dir,
		&cfg->keystore_base_url, &cfg->keystore_auth_token, &cfg->admin_bearer_token,
		&cfg->stablecoin_contract, &cfg->redis_queue_compile, &cfg->redis_queue_execute,
	};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		free((void *)*strings[i]);
		*strings[i] = NULL;
	}
	if (cfg->path_prefix && *cfg->path_prefix)
		free((void *)cfg->path_prefix);
	cfg->path_prefix = "";
	if (cfg->cors_origins) {
		for (size_t i = 0; cfg->cors_origins[i]; i++)
			free((void *)cfg->cors_origins[i]);
		free(cfg->cors_origins);
		cfg->cors_origins = NULL;
	}
	free(cfg->trusted_proxies);
	cfg->trusted_proxies = NULL;
	cfg->n_trusted_proxies = 0;
}

void coord_config_cache_dir_or_exit(const struct coord_config *cfg)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s", cfg->wasm_cache_dir);
	if (n <= 0 || (size_t)n >= sizeof(path))
		goto bad;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			goto bad;
		*p = '/';
	}
	if (mkdir(path, 0750) != 0 && errno != EEXIST)
		goto bad;
	if (access(path, W_OK | X_OK) != 0)
		goto bad;
	return;
bad:
	fprintf(stderr, "%s: config: WASM_CACHE_DIR: cannot create or write %s: %s\n",
		cfg->program, cfg->wasm_cache_dir, strerror(errno));
	exit(EX_CONFIG);
}
