/*
 * Table-driven tests of lib/coord_config (SPEC §2): the COORD_CONFIG file
 * reader, coord_config_load through the environment (defaults, every kind
 * of bad value, precedence, consistency checks), and the REDIS_URL, CIDR
 * and NEAR account parsers.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord_clientip.h"
#include "coord_config.h"
#include "coord_redis.h"
#include "tap.h"
#include "banned.h"

#define S(x) x, sizeof(x) - 1
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *shows(const char *s)
{
	return s ? show(s, strlen(s)) : "(null)";
}

/* ---- coord_config_parse_file ---- */

struct kv {
	const char *key, *value;
};

static const struct {
	const char *text;
	size_t len;
	enum coord_err want;
	size_t n;
	struct kv kv[3];
	const char *err_has; /* substring of the message on failure */
} file_cases[] = {
	{ S(""), COORD_OK, 0, { { NULL, NULL } }, NULL },
	{ S("\n\n\n"), COORD_OK, 0, { { NULL, NULL } }, NULL },
	{ S("\r\n \t\r\n"), COORD_OK, 0, { { NULL, NULL } }, NULL },
	{ S("# comment\n"), COORD_OK, 0, { { NULL, NULL } }, NULL },
	{ S("   \t# indented comment = with equals\n"), COORD_OK, 0, { { NULL, NULL } }, NULL },
	{ S("#PORT=1\nPORT=2\n"), COORD_OK, 1, { { "PORT", "2" } }, NULL },
	{ S("PORT=8081\n"), COORD_OK, 1, { { "PORT", "8081" } }, NULL },
	{ S("PORT=8081"), COORD_OK, 1, { { "PORT", "8081" } }, NULL },
	{ S("  PORT \t=8081  \n"), COORD_OK, 1, { { "PORT", "8081" } }, NULL },
	{ S("PORT= 8081\n"), COORD_OK, 1, { { "PORT", " 8081" } }, NULL },
	{ S("PORT=8081\r\n"), COORD_OK, 1, { { "PORT", "8081" } }, NULL },
	{ S("PORT=8081 \t \r\n"), COORD_OK, 1, { { "PORT", "8081" } }, NULL },
	{ S("PORT=8081\r"), COORD_OK, 1, { { "PORT", "8081" } }, NULL },
	{ S("PORT=\n"), COORD_OK, 1, { { "PORT", "" } }, NULL },
	{ S("PORT=\r\n"), COORD_OK, 1, { { "PORT", "" } }, NULL },
	{ S("PORT==1\n"), COORD_OK, 1, { { "PORT", "=1" } }, NULL },
	{ S("DATABASE_URL=postgres://u:p@h/db?sslmode=require&a=b=c\n"), COORD_OK, 1,
	  { { "DATABASE_URL", "postgres://u:p@h/db?sslmode=require&a=b=c" } }, NULL },
	{ S("ADMIN_BEARER_TOKEN=a#b # not a comment\n"), COORD_OK, 1,
	  { { "ADMIN_BEARER_TOKEN", "a#b # not a comment" } }, NULL },
	{ S("ADMIN_BEARER_TOKEN=\"quoted\"\n"), COORD_OK, 1,
	  { { "ADMIN_BEARER_TOKEN", "\"quoted\"" } }, NULL },
	{ S("ADMIN_BEARER_TOKEN=a\\nb\n"), COORD_OK, 1, { { "ADMIN_BEARER_TOKEN", "a\\nb" } },
	  NULL },
	{ S("ADMIN_BEARER_TOKEN=caf\xc3\xa9\n"), COORD_OK, 1,
	  { { "ADMIN_BEARER_TOKEN", "caf\xc3\xa9" } }, NULL },
	{ S("PORT=1\n\n# x\nHOST=::1\r\nREDIS_URL=redis://h:1/2"), COORD_OK, 3,
	  { { "PORT", "1" }, { "HOST", "::1" }, { "REDIS_URL", "redis://h:1/2" } }, NULL },
	{ S("DB_POOL_SIZE=whatever\nSTABLECOIN_SYMBOL=USDC\n"), COORD_OK, 2,
	  { { "DB_POOL_SIZE", "whatever" }, { "STABLECOIN_SYMBOL", "USDC" } }, NULL },
	{ S("NOPE=1\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "unknown key" },
	{ S("PORT=1\nNOPE=2\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "line 2" },
	{ S("port=1\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "unknown key" },
	{ S("P ORT=1\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "unknown key" },
	{ S("=1\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "unknown key" },
	{ S("  =1\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "unknown key" },
	{ S("COORD_CONFIG=/etc/other\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "COORD_CONFIG" },
	{ S("PORT=1\nPORT=2\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "duplicate" },
	{ S("PORT=1\n PORT =1\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "duplicate" },
	{ S("PORT\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "=" },
	{ S("PORT=1\nHOST\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "line 2" },
	{ S("PORT 8080\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "=" },
	{ S("PORT=\xff\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "UTF-8" },
	{ S("# caf\xe9\nPORT=1\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "UTF-8" },
	{ S("PORT=\xc0\x80\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, "UTF-8" },
	{ S("PORT=1\0\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, NULL },
	{ S("PORT=1\nHOST=\0::1\n"), COORD_ERR_INVALID, 0, { { NULL, NULL } }, NULL },
};

static void test_parse_file(void)
{
	for (size_t i = 0; i < N(file_cases); i++) {
		char **keys = NULL, **values = NULL, err[256];
		size_t n = 999;
		err[0] = '\0';
		enum coord_err e = coord_config_parse_file(file_cases[i].text, file_cases[i].len,
							   &keys, &values, &n, err, sizeof(err));
		bool good = e == file_cases[i].want;
		if (good && e == COORD_OK) {
			good = n == file_cases[i].n;
			for (size_t k = 0; good && k < n; k++)
				good = strcmp(keys[k], file_cases[i].kv[k].key) == 0 &&
				       strcmp(values[k], file_cases[i].kv[k].value) == 0;
		} else if (good) {
			good = n == 0 && err[0] != '\0' && !strchr(err, '\n') &&
			       (!file_cases[i].err_has || strstr(err, file_cases[i].err_has));
		}
		ok(good, "config_parse_file #%zu \"%s\" -> %s (%zu keys) [%s]", i,
		   show(file_cases[i].text, file_cases[i].len),
		   file_cases[i].want == COORD_OK ? "OK" : "INVALID", file_cases[i].n, err);
		if (e == COORD_OK)
			coord_config_file_free(keys, values, n);
	}
}

/* ---- coord_config_load ---- */

static const char *const all_vars[] = {
	"DATABASE_URL", "REDIS_URL", "HOST", "PORT", "CORS_ALLOWED_ORIGINS", "NEAR_RPC_URL",
	"NEAR_RPC_TIMEOUT_SECONDS", "OFFCHAINVM_CONTRACT_ID", "OPERATOR_ACCOUNT_ID",
	"WASM_CACHE_DIR", "WASM_CACHE_MAX_SIZE_GB", "WASM_CACHE_MAX_SIZE_BYTES",
	"KEYSTORE_BASE_URL", "KEYSTORE_AUTH_TOKEN", "REQUIRE_AUTH", "ADMIN_BEARER_TOKEN",
	"REQUIRE_TEE_SESSION", "TEE_SESSION_TTL_SECONDS", "STABLECOIN_CONTRACT",
	"STABLECOIN_DECIMALS", "DEFAULT_COMPUTE_LIMIT", "MIN_COMPUTE_LIMIT",
	"HTTPS_CALL_TIMEOUT_SECONDS", "PAYMENT_KEY_RATE_LIMIT_PER_MINUTE",
	"RATE_LIMIT_API_PER_MINUTE", "RATE_LIMIT_PUBLIC_STORAGE_PER_MINUTE",
	"RATE_LIMIT_SECRETS_PER_MINUTE", "TRUSTED_PROXIES", "REDIS_QUEUE_COMPILE",
	"REDIS_QUEUE_EXECUTE", "JOB_LEASE_SECONDS", "POLL_LEASE_SECONDS", "JOB_MAX_ATTEMPTS",
	"PAYMENT_KEY_STALE_SECONDS", "IDEMPOTENCY_TTL_SECONDS", "COORD_CONFIG", "COORD_THREADS",
	"COORD_PATH_PREFIX", "COORD_SENDFILE", "COORD_LOG_FORMAT", "COORD_LOG_LEVEL",
	"DB_POOL_SIZE", "LRU_EVICTION_CHECK_INTERVAL_SECONDS", "TASK_POLL_TIMEOUT_SECONDS",
	"LOCK_DEFAULT_TTL_SECONDS", "MAX_CONCURRENT_CALLS_PER_KEY", "EXPECTED_WORKER_MEASUREMENT",
	"STABLECOIN_SYMBOL",
};

typedef bool (*cfg_check)(const struct coord_config *c, int64_t i, const char *s);

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool ck_defaults(const struct coord_config *c, int64_t i, const char *s)
{
	(void)i;
	(void)s;
	return streq(c->program, "prog") &&
	       streq(c->database_url, "postgres://postgres:postgres@localhost/offchainvm") &&
	       streq(c->redis_url, "redis://localhost:6379") && !c->redis.is_unix &&
	       streq(c->redis.host, "localhost") && c->redis.port == 6379 && c->redis.db == 0 &&
	       !c->redis.has_password && streq(c->host, "0.0.0.0") && c->port == 8080 &&
	       !c->cors_any && c->cors_origins && streq(c->cors_origins[0], "http://localhost:3000") &&
	       c->cors_origins[1] == NULL && streq(c->near_rpc_url, "https://rpc.testnet.near.org") &&
	       !c->near_off && c->near_rpc_timeout_seconds == 5 &&
	       streq(c->contract_id, "outlayer.testnet") && streq(c->network, "testnet") &&
	       c->operator_account_id == NULL && streq(c->wasm_cache_dir, "/var/offchainvm/wasm") &&
	       c->wasm_cache_max_bytes == INT64_C(50) * 1073741824 && c->keystore_base_url == NULL &&
	       c->keystore_auth_token == NULL && c->require_auth &&
	       streq(c->admin_bearer_token, "change-this-in-production") &&
	       c->admin_token_is_default && !c->require_tee_session &&
	       c->tee_session_ttl_seconds == 86400 &&
	       streq(c->stablecoin_contract,
		     "17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1") &&
	       c->stablecoin_decimals == 6 && streq(c->default_compute_limit, "10000") &&
	       streq(c->min_compute_limit, "1000") && c->https_call_timeout_seconds == 300 &&
	       c->payment_key_rate_limit_per_minute == 1000 && c->rate_limit_api_per_minute == 100 &&
	       c->rate_limit_public_storage_per_minute == 100 &&
	       c->rate_limit_secrets_per_minute == 10 && c->n_trusted_proxies == 0 &&
	       streq(c->redis_queue_compile, "outlayer:compile") &&
	       streq(c->redis_queue_execute, "outlayer:execute") && c->job_lease_seconds == 300 &&
	       c->poll_lease_seconds == 60 && c->job_max_attempts == 3 &&
	       c->payment_key_stale_seconds == 86400 && c->idempotency_ttl_seconds == 86400 &&
	       c->threads == 1 && streq(c->path_prefix, "") && c->sendfile == COORD_SENDFILE_OFF &&
	       c->log_format == COORD_LOG_JSON && c->log_level == COORD_LOG_INFO;
}

static bool ck_port(const struct coord_config *c, int64_t i, const char *s)
{
	(void)s;
	return c->port == i;
}

static bool ck_db(const struct coord_config *c, int64_t i, const char *s)
{
	(void)i;
	return streq(c->database_url, s);
}

static bool ck_host(const struct coord_config *c, int64_t i, const char *s)
{
	(void)i;
	return streq(c->host, s);
}

static bool ck_require_auth(const struct coord_config *c, int64_t i, const char *s)
{
	(void)s;
	return c->require_auth == (i != 0);
}

static bool ck_tee(const struct coord_config *c, int64_t i, const char *s)
{
	return c->require_tee_session == (i != 0) && streq(c->operator_account_id, s);
}

static bool ck_cache_bytes(const struct coord_config *c, int64_t i, const char *s)
{
	(void)s;
	return c->wasm_cache_max_bytes == i;
}

static bool ck_network(const struct coord_config *c, int64_t i, const char *s)
{
	(void)i;
	return streq(c->network, s);
}

static bool ck_near_off(const struct coord_config *c, int64_t i, const char *s)
{
	(void)s;
	return c->near_off == (i != 0);
}

static bool ck_cors(const struct coord_config *c, int64_t i, const char *s)
{
	/* i: number of listed origins (-1: any); s: the first one */
	if (i < 0)
		return c->cors_any;
	size_t n = 0;
	while (c->cors_origins && c->cors_origins[n])
		n++;
	return !c->cors_any && n == (size_t)i && (i == 0 || streq(c->cors_origins[0], s));
}

static bool ck_proxies(const struct coord_config *c, int64_t i, const char *s)
{
	(void)s;
	return c->n_trusted_proxies == (size_t)i;
}

static bool ck_compute(const struct coord_config *c, int64_t i, const char *s)
{
	(void)i;
	return streq(c->default_compute_limit, s);
}

static bool ck_admin(const struct coord_config *c, int64_t i, const char *s)
{
	return streq(c->admin_bearer_token, s) && c->admin_token_is_default == (i != 0);
}

static bool ck_prefix(const struct coord_config *c, int64_t i, const char *s)
{
	(void)i;
	return streq(c->path_prefix, s);
}

static bool ck_enums(const struct coord_config *c, int64_t i, const char *s)
{
	(void)s;
	/* i = sendfile * 100 + log_format * 10 + log_level */
	return (int64_t)c->sendfile * 100 + (int64_t)c->log_format * 10 + (int64_t)c->log_level == i;
}

static bool ck_redis(const struct coord_config *c, int64_t i, const char *s)
{
	return c->redis.is_unix ? streq(c->redis.path, s) && c->redis.db == i
				: streq(c->redis.host, s) && c->redis.port == i;
}

static bool ck_leases(const struct coord_config *c, int64_t i, const char *s)
{
	(void)s;
	return c->poll_lease_seconds * 1000 + c->job_lease_seconds == i;
}

enum file_mode {
	NO_FILE,
	ENV_FILE,  /* COORD_CONFIG names the file */
	OV_FILE,   /* overrides.config_file names it; COORD_CONFIG names a missing file */
	MISSING    /* COORD_CONFIG names a file that does not exist */
};

#define P "prog: config: "
#define TOKEN_1024                                                                          \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                  \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define QUEUE_200                                                                           \
	"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq" \
	"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq" \
	"qqqqqqqqqqqqqqqq"

static const struct load_case {
	const char *what;
	const char *env[6]; /* NAME=VALUE */
	enum file_mode mode;
	const char *file;
	const char *ov_db;
	const char *err_prefix; /* NULL: must load */
	cfg_check check;
	int64_t ci;
	const char *cs;
} load_cases[] = {
	{ "defaults", { NULL }, NO_FILE, NULL, NULL, NULL, ck_defaults, 0, NULL },
	/* integers */
	{ "PORT=8081", { "PORT=8081" }, NO_FILE, NULL, NULL, NULL, ck_port, 8081, NULL },
	{ "PORT=1", { "PORT=1" }, NO_FILE, NULL, NULL, NULL, ck_port, 1, NULL },
	{ "PORT=65535", { "PORT=65535" }, NO_FILE, NULL, NULL, NULL, ck_port, 65535, NULL },
	{ "PORT=08080", { "PORT=08080" }, NO_FILE, NULL, NULL, NULL, ck_port, 8080, NULL },
	{ "PORT=0", { "PORT=0" }, NO_FILE, NULL, NULL, P "PORT: ", NULL, 0, NULL },
	{ "PORT=65536", { "PORT=65536" }, NO_FILE, NULL, NULL, P "PORT: ", NULL, 0, NULL },
	{ "PORT=-1", { "PORT=-1" }, NO_FILE, NULL, NULL, P "PORT: ", NULL, 0, NULL },
	{ "PORT=abc", { "PORT=abc" }, NO_FILE, NULL, NULL, P "PORT: ", NULL, 0, NULL },
	{ "PORT=' 80'", { "PORT= 80" }, NO_FILE, NULL, NULL, P "PORT: ", NULL, 0, NULL },
	{ "PORT='80 '", { "PORT=80 " }, NO_FILE, NULL, NULL, P "PORT: ", NULL, 0, NULL },
	{ "PORT=+80", { "PORT=+80" }, NO_FILE, NULL, NULL, P "PORT: ", NULL, 0, NULL },
	{ "PORT=8e3", { "PORT=8e3" }, NO_FILE, NULL, NULL, P "PORT: ", NULL, 0, NULL },
	{ "PORT=99999999999999999999", { "PORT=99999999999999999999" }, NO_FILE, NULL, NULL,
	  P "PORT: ", NULL, 0, NULL },
	{ "NEAR_RPC_TIMEOUT_SECONDS=61", { "NEAR_RPC_TIMEOUT_SECONDS=61" }, NO_FILE, NULL, NULL,
	  P "NEAR_RPC_TIMEOUT_SECONDS: ", NULL, 0, NULL },
	{ "NEAR_RPC_TIMEOUT_SECONDS=0", { "NEAR_RPC_TIMEOUT_SECONDS=0" }, NO_FILE, NULL, NULL,
	  P "NEAR_RPC_TIMEOUT_SECONDS: ", NULL, 0, NULL },
	{ "TEE_SESSION_TTL_SECONDS=59", { "TEE_SESSION_TTL_SECONDS=59" }, NO_FILE, NULL, NULL,
	  P "TEE_SESSION_TTL_SECONDS: ", NULL, 0, NULL },
	{ "TEE_SESSION_TTL_SECONDS=31536001", { "TEE_SESSION_TTL_SECONDS=31536001" }, NO_FILE, NULL,
	  NULL, P "TEE_SESSION_TTL_SECONDS: ", NULL, 0, NULL },
	{ "STABLECOIN_DECIMALS=39", { "STABLECOIN_DECIMALS=39" }, NO_FILE, NULL, NULL,
	  P "STABLECOIN_DECIMALS: ", NULL, 0, NULL },
	{ "HTTPS_CALL_TIMEOUT_SECONDS=3601", { "HTTPS_CALL_TIMEOUT_SECONDS=3601" }, NO_FILE, NULL,
	  NULL, P "HTTPS_CALL_TIMEOUT_SECONDS: ", NULL, 0, NULL },
	{ "PAYMENT_KEY_RATE_LIMIT_PER_MINUTE=0", { "PAYMENT_KEY_RATE_LIMIT_PER_MINUTE=0" }, NO_FILE,
	  NULL, NULL, P "PAYMENT_KEY_RATE_LIMIT_PER_MINUTE: ", NULL, 0, NULL },
	{ "RATE_LIMIT_API_PER_MINUTE=1000001", { "RATE_LIMIT_API_PER_MINUTE=1000001" }, NO_FILE,
	  NULL, NULL, P "RATE_LIMIT_API_PER_MINUTE: ", NULL, 0, NULL },
	{ "RATE_LIMIT_PUBLIC_STORAGE_PER_MINUTE=x", { "RATE_LIMIT_PUBLIC_STORAGE_PER_MINUTE=x" },
	  NO_FILE, NULL, NULL, P "RATE_LIMIT_PUBLIC_STORAGE_PER_MINUTE: ", NULL, 0, NULL },
	{ "RATE_LIMIT_SECRETS_PER_MINUTE=-5", { "RATE_LIMIT_SECRETS_PER_MINUTE=-5" }, NO_FILE, NULL,
	  NULL, P "RATE_LIMIT_SECRETS_PER_MINUTE: ", NULL, 0, NULL },
	{ "JOB_LEASE_SECONDS=29", { "JOB_LEASE_SECONDS=29" }, NO_FILE, NULL, NULL,
	  P "JOB_LEASE_SECONDS: ", NULL, 0, NULL },
	{ "POLL_LEASE_SECONDS=9", { "POLL_LEASE_SECONDS=9" }, NO_FILE, NULL, NULL,
	  P "POLL_LEASE_SECONDS: ", NULL, 0, NULL },
	{ "JOB_MAX_ATTEMPTS=101", { "JOB_MAX_ATTEMPTS=101" }, NO_FILE, NULL, NULL,
	  P "JOB_MAX_ATTEMPTS: ", NULL, 0, NULL },
	{ "PAYMENT_KEY_STALE_SECONDS=59", { "PAYMENT_KEY_STALE_SECONDS=59" }, NO_FILE, NULL, NULL,
	  P "PAYMENT_KEY_STALE_SECONDS: ", NULL, 0, NULL },
	{ "IDEMPOTENCY_TTL_SECONDS=3599", { "IDEMPOTENCY_TTL_SECONDS=3599" }, NO_FILE, NULL, NULL,
	  P "IDEMPOTENCY_TTL_SECONDS: ", NULL, 0, NULL },
	{ "COORD_THREADS=0", { "COORD_THREADS=0" }, NO_FILE, NULL, NULL, P "COORD_THREADS: ", NULL,
	  0, NULL },
	{ "COORD_THREADS=65", { "COORD_THREADS=65" }, NO_FILE, NULL, NULL, P "COORD_THREADS: ",
	  NULL, 0, NULL },
	/* booleans in all spellings */
	{ "REQUIRE_AUTH=false", { "REQUIRE_AUTH=false" }, NO_FILE, NULL, NULL, NULL,
	  ck_require_auth, 0, NULL },
	{ "REQUIRE_AUTH=0", { "REQUIRE_AUTH=0" }, NO_FILE, NULL, NULL, NULL, ck_require_auth, 0,
	  NULL },
	{ "REQUIRE_AUTH=no", { "REQUIRE_AUTH=no" }, NO_FILE, NULL, NULL, NULL, ck_require_auth, 0,
	  NULL },
	{ "REQUIRE_AUTH=off", { "REQUIRE_AUTH=off" }, NO_FILE, NULL, NULL, NULL, ck_require_auth, 0,
	  NULL },
	{ "REQUIRE_AUTH=FALSE", { "REQUIRE_AUTH=FALSE" }, NO_FILE, NULL, NULL, NULL,
	  ck_require_auth, 0, NULL },
	{ "REQUIRE_AUTH=Off", { "REQUIRE_AUTH=Off" }, NO_FILE, NULL, NULL, NULL, ck_require_auth, 0,
	  NULL },
	{ "REQUIRE_AUTH=true", { "REQUIRE_AUTH=true" }, NO_FILE, NULL, NULL, NULL,
	  ck_require_auth, 1, NULL },
	{ "REQUIRE_AUTH=1", { "REQUIRE_AUTH=1" }, NO_FILE, NULL, NULL, NULL, ck_require_auth, 1,
	  NULL },
	{ "REQUIRE_AUTH=yes", { "REQUIRE_AUTH=yes" }, NO_FILE, NULL, NULL, NULL, ck_require_auth, 1,
	  NULL },
	{ "REQUIRE_AUTH=on", { "REQUIRE_AUTH=on" }, NO_FILE, NULL, NULL, NULL, ck_require_auth, 1,
	  NULL },
	{ "REQUIRE_AUTH=YeS", { "REQUIRE_AUTH=YeS" }, NO_FILE, NULL, NULL, NULL, ck_require_auth, 1,
	  NULL },
	{ "REQUIRE_AUTH=TRUE", { "REQUIRE_AUTH=TRUE" }, NO_FILE, NULL, NULL, NULL, ck_require_auth,
	  1, NULL },
	{ "REQUIRE_AUTH=maybe", { "REQUIRE_AUTH=maybe" }, NO_FILE, NULL, NULL, P "REQUIRE_AUTH: ",
	  NULL, 0, NULL },
	{ "REQUIRE_AUTH=2", { "REQUIRE_AUTH=2" }, NO_FILE, NULL, NULL, P "REQUIRE_AUTH: ", NULL, 0,
	  NULL },
	{ "REQUIRE_AUTH=' true'", { "REQUIRE_AUTH= true" }, NO_FILE, NULL, NULL,
	  P "REQUIRE_AUTH: ", NULL, 0, NULL },
	{ "REQUIRE_TEE_SESSION=nah", { "REQUIRE_TEE_SESSION=nah" }, NO_FILE, NULL, NULL,
	  P "REQUIRE_TEE_SESSION: ", NULL, 0, NULL },
	/* empty string = unset */
	{ "PORT=''", { "PORT=" }, NO_FILE, NULL, NULL, NULL, ck_port, 8080, NULL },
	{ "REQUIRE_AUTH=''", { "REQUIRE_AUTH=" }, NO_FILE, NULL, NULL, NULL, ck_require_auth, 1,
	  NULL },
	{ "every variable ''",
	  { "DATABASE_URL=", "HOST=", "REDIS_URL=", "TRUSTED_PROXIES=", "COORD_CONFIG=",
	    "COORD_PATH_PREFIX=" },
	  NO_FILE, NULL, NULL, NULL, ck_defaults, 0, NULL },
	/* strings, URLs, lists */
	{ "DATABASE_URL key=value", { "DATABASE_URL=host=/tmp dbname=x" }, NO_FILE, NULL, NULL,
	  NULL, ck_db, 0, "host=/tmp dbname=x" },
	{ "DATABASE_URL bad option", { "DATABASE_URL=host=x nosuchoption=1" }, NO_FILE, NULL, NULL,
	  P "DATABASE_URL: ", NULL, 0, NULL },
	{ "DATABASE_URL bad URI", { "DATABASE_URL=postgres://h/db?nosuchoption=1" }, NO_FILE, NULL,
	  NULL, P "DATABASE_URL: ", NULL, 0, NULL },
	{ "DATABASE_URL garbage", { "DATABASE_URL=garbage" }, NO_FILE, NULL, NULL,
	  P "DATABASE_URL: ", NULL, 0, NULL },
	{ "REDIS_URL unix", { "REDIS_URL=unix:///tmp/r.sock?db=3" }, NO_FILE, NULL, NULL, NULL,
	  ck_redis, 3, "/tmp/r.sock" },
	{ "REDIS_URL [::1]", { "REDIS_URL=redis://[::1]:6380/2" }, NO_FILE, NULL, NULL, NULL,
	  ck_redis, 6380, "::1" },
	{ "REDIS_URL http", { "REDIS_URL=http://localhost:6379" }, NO_FILE, NULL, NULL,
	  P "REDIS_URL: ", NULL, 0, NULL },
	{ "REDIS_URL port 0", { "REDIS_URL=redis://localhost:0" }, NO_FILE, NULL, NULL,
	  P "REDIS_URL: ", NULL, 0, NULL },
	{ "HOST=::1", { "HOST=::1" }, NO_FILE, NULL, NULL, NULL, ck_host, 0, "::1" },
	{ "HOST=127.0.0.1", { "HOST=127.0.0.1" }, NO_FILE, NULL, NULL, NULL, ck_host, 0,
	  "127.0.0.1" },
	{ "HOST=localhost", { "HOST=localhost" }, NO_FILE, NULL, NULL, P "HOST: ", NULL, 0, NULL },
	{ "HOST=256.0.0.1", { "HOST=256.0.0.1" }, NO_FILE, NULL, NULL, P "HOST: ", NULL, 0, NULL },
	{ "CORS list", { "CORS_ALLOWED_ORIGINS=https://a.example, http://b.example:8443" },
	  NO_FILE, NULL, NULL, NULL, ck_cors, 2, "https://a.example" },
	{ "CORS *", { "CORS_ALLOWED_ORIGINS=*" }, NO_FILE, NULL, NULL, NULL, ck_cors, -1, NULL },
	{ "CORS no scheme", { "CORS_ALLOWED_ORIGINS=localhost:3000" }, NO_FILE, NULL, NULL,
	  P "CORS_ALLOWED_ORIGINS: ", NULL, 0, NULL },
	{ "CORS with path", { "CORS_ALLOWED_ORIGINS=http://a.example/app" }, NO_FILE, NULL, NULL,
	  P "CORS_ALLOWED_ORIGINS: ", NULL, 0, NULL },
	{ "CORS bad port", { "CORS_ALLOWED_ORIGINS=http://a.example:99999" }, NO_FILE, NULL, NULL,
	  P "CORS_ALLOWED_ORIGINS: ", NULL, 0, NULL },
	{ "NEAR_RPC_URL=off", { "NEAR_RPC_URL=off" }, NO_FILE, NULL, NULL, NULL, ck_near_off, 1,
	  NULL },
	{ "NEAR_RPC_URL=ftp", { "NEAR_RPC_URL=ftp://rpc.example" }, NO_FILE, NULL, NULL,
	  P "NEAR_RPC_URL: ", NULL, 0, NULL },
	{ "NEAR_RPC_URL=http://", { "NEAR_RPC_URL=http://" }, NO_FILE, NULL, NULL,
	  P "NEAR_RPC_URL: ", NULL, 0, NULL },
	{ "NEAR_RPC_URL=OFF", { "NEAR_RPC_URL=OFF" }, NO_FILE, NULL, NULL, P "NEAR_RPC_URL: ", NULL,
	  0, NULL },
	{ "contract mainnet", { "OFFCHAINVM_CONTRACT_ID=outlayer.near" }, NO_FILE, NULL, NULL, NULL,
	  ck_network, 0, "mainnet" },
	{ "contract testnet", { "OFFCHAINVM_CONTRACT_ID=c.testnet" }, NO_FILE, NULL, NULL, NULL,
	  ck_network, 0, "testnet" },
	{ "contract 'testnet'", { "OFFCHAINVM_CONTRACT_ID=testnet" }, NO_FILE, NULL, NULL, NULL,
	  ck_network, 0, "mainnet" },
	{ "contract bad", { "OFFCHAINVM_CONTRACT_ID=Bad.Account" }, NO_FILE, NULL, NULL,
	  P "OFFCHAINVM_CONTRACT_ID: ", NULL, 0, NULL },
	{ "operator bad", { "OPERATOR_ACCOUNT_ID=op..near" }, NO_FILE, NULL, NULL,
	  P "OPERATOR_ACCOUNT_ID: ", NULL, 0, NULL },
	{ "STABLECOIN_CONTRACT bad", { "STABLECOIN_CONTRACT=x" }, NO_FILE, NULL, NULL,
	  P "STABLECOIN_CONTRACT: ", NULL, 0, NULL },
	{ "WASM_CACHE_DIR relative", { "WASM_CACHE_DIR=var/wasm" }, NO_FILE, NULL, NULL,
	  P "WASM_CACHE_DIR: ", NULL, 0, NULL },
	{ "KEYSTORE_BASE_URL ok", { "KEYSTORE_BASE_URL=http://ks:8000" }, NO_FILE, NULL, NULL,
	  NULL, NULL, 0, NULL },
	{ "KEYSTORE_BASE_URL trailing /", { "KEYSTORE_BASE_URL=http://ks:8000/" }, NO_FILE, NULL,
	  NULL, P "KEYSTORE_BASE_URL: ", NULL, 0, NULL },
	{ "KEYSTORE_BASE_URL no scheme", { "KEYSTORE_BASE_URL=ks:8000" }, NO_FILE, NULL, NULL,
	  P "KEYSTORE_BASE_URL: ", NULL, 0, NULL },
	{ "ADMIN_BEARER_TOKEN 1024 bytes", { "ADMIN_BEARER_TOKEN=" TOKEN_1024 }, NO_FILE, NULL,
	  NULL, NULL, ck_admin, 0, TOKEN_1024 },
	{ "ADMIN_BEARER_TOKEN 1025 bytes", { "ADMIN_BEARER_TOKEN=" TOKEN_1024 "x" }, NO_FILE, NULL,
	  NULL, P "ADMIN_BEARER_TOKEN: ", NULL, 0, NULL },
	{ "ADMIN_BEARER_TOKEN set", { "ADMIN_BEARER_TOKEN=s3cret" }, NO_FILE, NULL, NULL, NULL,
	  ck_admin, 0, "s3cret" },
	{ "DEFAULT_COMPUTE_LIMIT canonical", { "DEFAULT_COMPUTE_LIMIT=0012000" }, NO_FILE, NULL,
	  NULL, NULL, ck_compute, 0, "12000" },
	{ "DEFAULT_COMPUTE_LIMIT 1.5", { "DEFAULT_COMPUTE_LIMIT=1.5" }, NO_FILE, NULL, NULL,
	  P "DEFAULT_COMPUTE_LIMIT: ", NULL, 0, NULL },
	{ "MIN_COMPUTE_LIMIT 39 digits",
	  { "MIN_COMPUTE_LIMIT=100000000000000000000000000000000000000" }, NO_FILE, NULL, NULL,
	  P "MIN_COMPUTE_LIMIT: ", NULL, 0, NULL },
	{ "MIN_COMPUTE_LIMIT -1", { "MIN_COMPUTE_LIMIT=-1" }, NO_FILE, NULL, NULL,
	  P "MIN_COMPUTE_LIMIT: ", NULL, 0, NULL },
	{ "TRUSTED_PROXIES list", { "TRUSTED_PROXIES=10.0.0.0/8, ::1 ,192.168.1.1" }, NO_FILE, NULL,
	  NULL, NULL, ck_proxies, 3, NULL },
	{ "TRUSTED_PROXIES /33", { "TRUSTED_PROXIES=10.0.0.0/33" }, NO_FILE, NULL, NULL,
	  P "TRUSTED_PROXIES: ", NULL, 0, NULL },
	{ "TRUSTED_PROXIES name", { "TRUSTED_PROXIES=10.0.0.1,proxy.local" }, NO_FILE, NULL, NULL,
	  P "TRUSTED_PROXIES: ", NULL, 0, NULL },
	{ "queue with space", { "REDIS_QUEUE_COMPILE=a b" }, NO_FILE, NULL, NULL,
	  P "REDIS_QUEUE_COMPILE: ", NULL, 0, NULL },
	{ "queue 200 bytes", { "REDIS_QUEUE_EXECUTE=" QUEUE_200 }, NO_FILE, NULL, NULL, NULL, NULL,
	  0, NULL },
	{ "queue 201 bytes", { "REDIS_QUEUE_EXECUTE=" QUEUE_200 "q" }, NO_FILE, NULL, NULL,
	  P "REDIS_QUEUE_EXECUTE: ", NULL, 0, NULL },
	{ "COORD_PATH_PREFIX=/api", { "COORD_PATH_PREFIX=/api" }, NO_FILE, NULL, NULL, NULL,
	  ck_prefix, 0, "/api" },
	{ "COORD_PATH_PREFIX=/a/b", { "COORD_PATH_PREFIX=/a/b" }, NO_FILE, NULL, NULL, NULL,
	  ck_prefix, 0, "/a/b" },
	{ "COORD_PATH_PREFIX=api", { "COORD_PATH_PREFIX=api" }, NO_FILE, NULL, NULL,
	  P "COORD_PATH_PREFIX: ", NULL, 0, NULL },
	{ "COORD_PATH_PREFIX=/api/", { "COORD_PATH_PREFIX=/api/" }, NO_FILE, NULL, NULL,
	  P "COORD_PATH_PREFIX: ", NULL, 0, NULL },
	{ "COORD_PATH_PREFIX=/", { "COORD_PATH_PREFIX=/" }, NO_FILE, NULL, NULL,
	  P "COORD_PATH_PREFIX: ", NULL, 0, NULL },
	{ "enums", { "COORD_SENDFILE=x-sendfile", "COORD_LOG_FORMAT=text", "COORD_LOG_LEVEL=debug" },
	  NO_FILE, NULL, NULL, NULL, ck_enums,
	  COORD_SENDFILE_X_SENDFILE * 100 + COORD_LOG_TEXT * 10 + COORD_LOG_DEBUG, NULL },
	{ "log level error", { "COORD_LOG_LEVEL=error" }, NO_FILE, NULL, NULL, NULL, ck_enums,
	  COORD_LOG_ERROR, NULL },
	{ "COORD_SENDFILE=on", { "COORD_SENDFILE=on" }, NO_FILE, NULL, NULL, P "COORD_SENDFILE: ",
	  NULL, 0, NULL },
	{ "COORD_LOG_FORMAT=xml", { "COORD_LOG_FORMAT=xml" }, NO_FILE, NULL, NULL,
	  P "COORD_LOG_FORMAT: ", NULL, 0, NULL },
	{ "COORD_LOG_LEVEL=trace", { "COORD_LOG_LEVEL=trace" }, NO_FILE, NULL, NULL,
	  P "COORD_LOG_LEVEL: ", NULL, 0, NULL },
	/* WASM cache cap: bytes override GiB */
	{ "WASM_CACHE_MAX_SIZE_GB=1", { "WASM_CACHE_MAX_SIZE_GB=1" }, NO_FILE, NULL, NULL, NULL,
	  ck_cache_bytes, INT64_C(1073741824), NULL },
	{ "WASM_CACHE_MAX_SIZE_GB=0", { "WASM_CACHE_MAX_SIZE_GB=0" }, NO_FILE, NULL, NULL, NULL,
	  ck_cache_bytes, 0, NULL },
	{ "WASM_CACHE_MAX_SIZE_GB=1048576", { "WASM_CACHE_MAX_SIZE_GB=1048576" }, NO_FILE, NULL,
	  NULL, NULL, ck_cache_bytes, INT64_C(1048576) * 1073741824, NULL },
	{ "WASM_CACHE_MAX_SIZE_GB=1048577", { "WASM_CACHE_MAX_SIZE_GB=1048577" }, NO_FILE, NULL,
	  NULL, P "WASM_CACHE_MAX_SIZE_GB: ", NULL, 0, NULL },
	{ "BYTES overrides GB", { "WASM_CACHE_MAX_SIZE_GB=5", "WASM_CACHE_MAX_SIZE_BYTES=123" },
	  NO_FILE, NULL, NULL, NULL, ck_cache_bytes, 123, NULL },
	{ "BYTES=0 overrides GB", { "WASM_CACHE_MAX_SIZE_BYTES=0", "WASM_CACHE_MAX_SIZE_GB=5" },
	  NO_FILE, NULL, NULL, NULL, ck_cache_bytes, 0, NULL },
	{ "BYTES in file overrides GB in env", { "WASM_CACHE_MAX_SIZE_GB=5" }, ENV_FILE,
	  "WASM_CACHE_MAX_SIZE_BYTES=77\n", NULL, NULL, ck_cache_bytes, 77, NULL },
	{ "BYTES max", { "WASM_CACHE_MAX_SIZE_BYTES=9223372036854775807" }, NO_FILE, NULL, NULL,
	  NULL, ck_cache_bytes, INT64_MAX, NULL },
	{ "BYTES 2^63", { "WASM_CACHE_MAX_SIZE_BYTES=9223372036854775808" }, NO_FILE, NULL, NULL,
	  P "WASM_CACHE_MAX_SIZE_BYTES: ", NULL, 0, NULL },
	{ "BYTES -1", { "WASM_CACHE_MAX_SIZE_BYTES=-1" }, NO_FILE, NULL, NULL,
	  P "WASM_CACHE_MAX_SIZE_BYTES: ", NULL, 0, NULL },
	/* ignored compatibility variables: any value */
	{ "ignored variables",
	  { "DB_POOL_SIZE=banana", "LRU_EVICTION_CHECK_INTERVAL_SECONDS=-1",
	    "TASK_POLL_TIMEOUT_SECONDS=1e9", "LOCK_DEFAULT_TTL_SECONDS= x ",
	    "MAX_CONCURRENT_CALLS_PER_KEY=99999999999999999999999",
	    "EXPECTED_WORKER_MEASUREMENT=\xff\xfe" },
	  NO_FILE, NULL, NULL, NULL, ck_defaults, 0, NULL },
	{ "STABLECOIN_SYMBOL any", { "STABLECOIN_SYMBOL=$$$ \t" }, NO_FILE, NULL, NULL, NULL,
	  ck_defaults, 0, NULL },
	{ "ignored variables in the file", { NULL }, ENV_FILE,
	  "DB_POOL_SIZE=banana\nSTABLECOIN_SYMBOL=\nEXPECTED_WORKER_MEASUREMENT=x y z\n", NULL, NULL,
	  ck_defaults, 0, NULL },
	/* precedence: override > env > file > default */
	{ "file value", { NULL }, ENV_FILE, "PORT=9000\n", NULL, NULL, ck_port, 9000, NULL },
	{ "env beats file", { "PORT=9001" }, ENV_FILE, "PORT=9000\n", NULL, NULL, ck_port, 9001,
	  NULL },
	{ "empty env falls to file", { "PORT=" }, ENV_FILE, "PORT=9000\n", NULL, NULL, ck_port,
	  9000, NULL },
	{ "empty file value is unset", { NULL }, ENV_FILE, "PORT=\n", NULL, NULL, ck_port, 8080,
	  NULL },
	{ "file trims the value's CR", { NULL }, ENV_FILE, "PORT=9002\r\n", NULL, NULL, ck_port,
	  9002, NULL },
	{ "file trims the key and the value's end", { NULL }, ENV_FILE, "\t HOST =::1 \t\r\n",
	  NULL, NULL, ck_host, 0, "::1" },
	{ "file keeps the value's leading space", { NULL }, ENV_FILE, "HOST= ::1\n", NULL,
	  P "HOST: ", NULL, 0, NULL },
	{ "override beats env", { "DATABASE_URL=postgres://env/db" }, ENV_FILE,
	  "DATABASE_URL=postgres://file/db\n", "postgres://flag/db", NULL, ck_db, 0,
	  "postgres://flag/db" },
	{ "env beats file (DATABASE_URL)", { "DATABASE_URL=postgres://env/db" }, ENV_FILE,
	  "DATABASE_URL=postgres://file/db\n", NULL, NULL, ck_db, 0, "postgres://env/db" },
	{ "file DATABASE_URL", { NULL }, ENV_FILE, "DATABASE_URL=postgres://file/db\n", NULL, NULL,
	  ck_db, 0, "postgres://file/db" },
	{ "bad override", { "DATABASE_URL=postgres://env/db" }, NO_FILE, NULL, "host=x bogus=1",
	  P "DATABASE_URL: ", NULL, 0, NULL },
	{ "overrides.config_file beats COORD_CONFIG", { NULL }, OV_FILE, "PORT=9003\n", NULL, NULL,
	  ck_port, 9003, NULL },
	{ "bad value in the file", { NULL }, ENV_FILE, "PORT=0\n", NULL, P "PORT: ", NULL, 0, NULL },
	{ "bad file value hidden by env", { "PORT=80" }, ENV_FILE, "PORT=0\n", NULL, NULL, ck_port,
	  80, NULL },
	{ "unknown key in the file", { NULL }, ENV_FILE, "PORT=1\nNOPE=1\n", NULL,
	  P "COORD_CONFIG: ", NULL, 0, NULL },
	{ "duplicate key in the file", { NULL }, ENV_FILE, "PORT=1\nPORT=2\n", NULL,
	  P "COORD_CONFIG: ", NULL, 0, NULL },
	{ "line without = in the file", { NULL }, ENV_FILE, "PORT=1\nHOST\n", NULL,
	  P "COORD_CONFIG: ", NULL, 0, NULL },
	{ "COORD_CONFIG in the file", { NULL }, ENV_FILE, "COORD_CONFIG=/x\n", NULL,
	  P "COORD_CONFIG: ", NULL, 0, NULL },
	{ "non-UTF-8 file", { NULL }, ENV_FILE, "PORT=1\nADMIN_BEARER_TOKEN=\xe9t\xe9\n", NULL,
	  P "COORD_CONFIG: ", NULL, 0, NULL },
	{ "unreadable file", { NULL }, MISSING, NULL, NULL, P "COORD_CONFIG: ", NULL, 0, NULL },
	/* consistency checks */
	{ "DEFAULT < MIN", { "DEFAULT_COMPUTE_LIMIT=999" }, NO_FILE, NULL, NULL,
	  P "DEFAULT_COMPUTE_LIMIT: ", NULL, 0, NULL },
	{ "DEFAULT < MIN (raised MIN)", { "MIN_COMPUTE_LIMIT=20000" }, NO_FILE, NULL, NULL,
	  P "DEFAULT_COMPUTE_LIMIT: ", NULL, 0, NULL },
	{ "DEFAULT < MIN numerically, not by text",
	  { "DEFAULT_COMPUTE_LIMIT=5", "MIN_COMPUTE_LIMIT=10" }, NO_FILE, NULL, NULL,
	  P "DEFAULT_COMPUTE_LIMIT: ", NULL, 0, NULL },
	{ "DEFAULT < MIN with leading zeros",
	  { "DEFAULT_COMPUTE_LIMIT=0000999", "MIN_COMPUTE_LIMIT=1000" }, NO_FILE, NULL, NULL,
	  P "DEFAULT_COMPUTE_LIMIT: ", NULL, 0, NULL },
	{ "DEFAULT == MIN", { "DEFAULT_COMPUTE_LIMIT=1000", "MIN_COMPUTE_LIMIT=001000" }, NO_FILE,
	  NULL, NULL, NULL, ck_compute, 0, "1000" },
	{ "DEFAULT 10 > MIN 9", { "DEFAULT_COMPUTE_LIMIT=10", "MIN_COMPUTE_LIMIT=9" }, NO_FILE, NULL,
	  NULL, NULL, ck_compute, 0, "10" },
	{ "DEFAULT = 0 = MIN", { "DEFAULT_COMPUTE_LIMIT=0", "MIN_COMPUTE_LIMIT=00" }, NO_FILE, NULL,
	  NULL, NULL, ck_compute, 0, "0" },
	{ "TEE without operator", { "REQUIRE_TEE_SESSION=true" }, NO_FILE, NULL, NULL,
	  P "REQUIRE_TEE_SESSION: ", NULL, 0, NULL },
	{ "TEE with operator", { "REQUIRE_TEE_SESSION=on", "OPERATOR_ACCOUNT_ID=op.testnet" },
	  NO_FILE, NULL, NULL, NULL, ck_tee, 1, "op.testnet" },
	{ "TEE with NEAR off",
	  { "REQUIRE_TEE_SESSION=1", "OPERATOR_ACCOUNT_ID=op.testnet", "NEAR_RPC_URL=off" }, NO_FILE,
	  NULL, NULL, P "REQUIRE_TEE_SESSION: ", NULL, 0, NULL },
	{ "operator without TEE", { "OPERATOR_ACCOUNT_ID=op.testnet" }, NO_FILE, NULL, NULL, NULL,
	  ck_tee, 0, "op.testnet" },
	{ "equal queues", { "REDIS_QUEUE_COMPILE=q", "REDIS_QUEUE_EXECUTE=q" }, NO_FILE, NULL, NULL,
	  P "REDIS_QUEUE_", NULL, 0, NULL },
	{ "equal queues (default)", { "REDIS_QUEUE_EXECUTE=outlayer:compile" }, NO_FILE, NULL, NULL,
	  P "REDIS_QUEUE_", NULL, 0, NULL },
	{ "compile queue = system_callbacks_queue", { "REDIS_QUEUE_COMPILE=system_callbacks_queue" },
	  NO_FILE, NULL, NULL, P "REDIS_QUEUE_COMPILE: ", NULL, 0, NULL },
	{ "execute queue = system_callbacks_queue", { "REDIS_QUEUE_EXECUTE=system_callbacks_queue" },
	  NO_FILE, NULL, NULL, P "REDIS_QUEUE_EXECUTE: ", NULL, 0, NULL },
	{ "POLL > JOB", { "POLL_LEASE_SECONDS=301" }, NO_FILE, NULL, NULL,
	  P "POLL_LEASE_SECONDS: ", NULL, 0, NULL },
	{ "POLL > JOB (lowered JOB)", { "JOB_LEASE_SECONDS=59" }, NO_FILE, NULL, NULL,
	  P "POLL_LEASE_SECONDS: ", NULL, 0, NULL },
	{ "POLL == JOB", { "POLL_LEASE_SECONDS=300", "JOB_LEASE_SECONDS=300" }, NO_FILE, NULL, NULL,
	  NULL, ck_leases, 300 * 1000 + 300, NULL },
	{ "POLL < JOB", { "POLL_LEASE_SECONDS=30", "JOB_LEASE_SECONDS=30" }, NO_FILE, NULL, NULL,
	  NULL, ck_leases, 30 * 1000 + 30, NULL },
};

static void clear_env(void)
{
	for (size_t i = 0; i < N(all_vars); i++)
		unsetenv(all_vars[i]);
}

static void put_env(const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	char name[128];
	size_t n = (size_t)(eq - assignment);
	memcpy(name, assignment, n);
	name[n] = '\0';
	setenv(name, eq + 1, 1);
}

/* Writes text into a new temporary file; returns its path (static). */
static const char *temp_file(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/coord-test-config-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	size_t len = strlen(text);
	bool written = write(fd, text, len) == (ssize_t)len;
	close(fd);
	if (!written) {
		unlink(path);
		return NULL;
	}
	return path;
}

static void test_load(void)
{
	for (size_t i = 0; i < N(load_cases); i++) {
		const struct load_case *c = &load_cases[i];
		struct coord_config cfg;
		struct coord_config_overrides ov = { c->ov_db, NULL };
		const char *file = NULL;
		char err[512];

		clear_env();
		for (size_t k = 0; k < N(c->env) && c->env[k]; k++)
			put_env(c->env[k]);
		if (c->mode == ENV_FILE || c->mode == OV_FILE) {
			file = temp_file(c->file);
			if (!file) {
				ok(false, "config_load #%zu %s: cannot write a temp file", i, c->what);
				continue;
			}
			if (c->mode == ENV_FILE) {
				setenv("COORD_CONFIG", file, 1);
			} else {
				setenv("COORD_CONFIG", "/nonexistent/coord-test.conf", 1);
				ov.config_file = file;
			}
		} else if (c->mode == MISSING) {
			setenv("COORD_CONFIG", "/nonexistent/coord-test.conf", 1);
		}

		memset(err, 0, sizeof(err));
		memset(&cfg, 0x5a, sizeof(cfg));
		enum coord_err e = coord_config_load(&cfg, "prog", &ov, err, sizeof(err));
		bool good;
		if (!c->err_prefix) {
			good = e == COORD_OK && (!c->check || c->check(&cfg, c->ci, c->cs));
		} else {
			size_t pl = strlen(c->err_prefix);
			good = e == COORD_ERR_INVALID && strncmp(err, c->err_prefix, pl) == 0 &&
			       strlen(err) > pl && !strchr(err, '\n');
		}
		ok(good, "config_load #%zu %s -> %s (got %s: %s)", i, c->what,
		   c->err_prefix ? c->err_prefix : "loads", e == COORD_OK ? "OK" : "error",
		   e == COORD_OK ? "" : shows(err));
		if (e == COORD_OK)
			coord_config_release(&cfg);
		if (file)
			unlink(file);
	}
	clear_env();
}

/* ---- coord_redis_url_parse ---- */

static const struct {
	const char *url;
	bool valid;
	bool is_unix;
	const char *host_or_path;
	int port;
	int db;
	bool has_password;
	const char *user, *password;
} redis_cases[] = {
	{ "redis://localhost:6379", true, false, "localhost", 6379, 0, false, "", "" },
	{ "redis://localhost", true, false, "localhost", 6379, 0, false, "", "" },
	{ "redis://localhost/", true, false, "localhost", 6379, 0, false, "", "" },
	{ "redis://127.0.0.1:6380/0", true, false, "127.0.0.1", 6380, 0, false, "", "" },
	{ "redis://redis-1.internal_net:1/15", true, false, "redis-1.internal_net", 1, 15, false,
	  "", "" },
	{ "redis://:secret@host", true, false, "host", 6379, 0, true, "", "secret" },
	{ "redis://user:secret@host:6380/3", true, false, "host", 6380, 3, true, "user",
	  "secret" },
	{ "redis://user:p%40ss%3Aw@host", true, false, "host", 6379, 0, true, "user", "p@ss:w" },
	{ "redis://:@host", true, false, "host", 6379, 0, true, "", "" },
	{ "redis://[::1]:6380/2", true, false, "::1", 6380, 2, false, "", "" },
	{ "redis://[::1]", true, false, "::1", 6379, 0, false, "", "" },
	{ "redis://:pw@[2001:db8::5]:7000", true, false, "2001:db8::5", 7000, 0, true, "", "pw" },
	{ "redis://host:65535/2147483647", true, false, "host", 65535, 2147483647, false, "", "" },
	{ "unix:///tmp/r.sock?db=3", true, true, "/tmp/r.sock", 6379, 3, false, "", "" },
	{ "unix:///tmp/r.sock", true, true, "/tmp/r.sock", 6379, 0, false, "", "" },
	{ "unix:///var/run/redis/redis-server.sock?db=0", true, true,
	  "/var/run/redis/redis-server.sock", 6379, 0, false, "", "" },
	{ "redis://host:0", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host:65536", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host:-1", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host:+1", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host:abc", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host:", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host:6379x", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host:6379:1", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host:99999999999999999999", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://:6379", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis:///0", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://user:pass@", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://user:pass@:6379", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://user@host", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://u:%zz@host", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://u:%00@host", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host/abc", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host/-1", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host/1/2", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host/2147483648", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://host:6379?x=1", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://ho st", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://h\xc3\xa9st", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://[::1", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://[]:6379", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://[zz]:6379", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://[127.0.0.1]:6379", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://[::1]x", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://[::1]:", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis://::1:6379", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "http://host:6379", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "rediss://host:6379", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "redis:/host", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "host:6379", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "garbage", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "unix://", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "unix://relative.sock", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "unix:///tmp/r.sock?db=", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "unix:///tmp/r.sock?db=x", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "unix:///tmp/r.sock?db=-1", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "unix:///tmp/r.sock?foo=1", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "unix:///tmp/r.sock?", false, false, NULL, 0, 0, false, NULL, NULL },
	{ "unix:///"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaa",
	  false, false, NULL, 0, 0, false, NULL, NULL }, /* longer than sun_path */
};

static void test_redis_url(void)
{
	for (size_t i = 0; i < N(redis_cases); i++) {
		struct coord_redis_url u;
		memset(&u, 0x5a, sizeof(u));
		enum coord_err e = coord_redis_url_parse(redis_cases[i].url, &u);
		bool good = (e == COORD_OK) == redis_cases[i].valid;
		if (good && e == COORD_OK) {
			good = u.is_unix == redis_cases[i].is_unix && u.db == redis_cases[i].db;
			if (good && u.is_unix)
				good = strcmp(u.path, redis_cases[i].host_or_path) == 0;
			else if (good)
				good = strcmp(u.host, redis_cases[i].host_or_path) == 0 &&
				       u.port == redis_cases[i].port &&
				       u.has_password == redis_cases[i].has_password &&
				       strcmp(u.user, redis_cases[i].user) == 0 &&
				       strcmp(u.password, redis_cases[i].password) == 0;
		}
		ok(good, "redis_url_parse #%zu %s -> %s", i, shows(redis_cases[i].url),
		   redis_cases[i].valid ? "OK" : "INVALID");
	}
}

/* ---- CIDR blocks ---- */

static const struct {
	const char *s;
	bool valid;
	int family;
	unsigned prefix;
} cidr_cases[] = {
	{ "10.0.0.0/8", true, AF_INET, 8 },
	{ "10.1.2.3", true, AF_INET, 32 },
	{ "0.0.0.0/0", true, AF_INET, 0 },
	{ "1.2.3.4/32", true, AF_INET, 32 },
	{ "172.16.0.0/12", true, AF_INET, 12 },
	{ "::1", true, AF_INET6, 128 },
	{ "::/0", true, AF_INET6, 0 },
	{ "fd00::/8", true, AF_INET6, 8 },
	{ "2001:db8::/128", true, AF_INET6, 128 },
	{ "1.2.3.4/33", false, 0, 0 },
	{ "::1/129", false, 0, 0 },
	{ "1.2.3.4/", false, 0, 0 },
	{ "/8", false, 0, 0 },
	{ "1.2.3.4/-1", false, 0, 0 },
	{ "1.2.3.4/+8", false, 0, 0 },
	{ "1.2.3.4/ 8", false, 0, 0 },
	{ "1.2.3.4/8 ", false, 0, 0 },
	{ "1.2.3.4/8/9", false, 0, 0 },
	{ "1.2.3.4/0x8", false, 0, 0 },
	{ "1.2.3.4/99999999999999999999", false, 0, 0 },
	{ "1.2.3", false, 0, 0 },
	{ "1.2.3.4.5", false, 0, 0 },
	{ "256.0.0.1", false, 0, 0 },
	{ " 1.2.3.4", false, 0, 0 },
	{ "[::1]", false, 0, 0 },
	{ "::1%lo", false, 0, 0 },
	{ "localhost", false, 0, 0 },
	{ "", false, 0, 0 },
	{ "garbage/8", false, 0, 0 },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff:0000", false,
	  0, 0 },
};

static void test_cidr_parse(void)
{
	for (size_t i = 0; i < N(cidr_cases); i++) {
		struct coord_cidr c;
		enum coord_err e = coord_cidr_parse(cidr_cases[i].s, &c);
		bool good = (e == COORD_OK) == cidr_cases[i].valid;
		if (good && e == COORD_OK)
			good = c.family == cidr_cases[i].family && c.prefix == cidr_cases[i].prefix;
		ok(good, "cidr_parse #%zu \"%s\" -> %s", i, cidr_cases[i].s,
		   cidr_cases[i].valid ? "OK" : "INVALID");
	}
}

static const struct {
	const char *cidr, *addr;
	bool inside;
} contains_cases[] = {
	{ "10.0.0.0/8", "10.255.1.2", true },
	{ "10.0.0.0/8", "10.0.0.0", true },
	{ "10.0.0.0/8", "11.0.0.1", false },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "10.0.0.1/8", "10.9.9.9", true }, /* host bits in the block are ignored */
	{ "192.168.1.0/24", "192.168.1.255", true },
	{ "192.168.1.0/24", "192.168.2.0", false },
	{ "172.16.0.0/12", "172.31.255.255", true },
	{ "172.16.0.0/12", "172.32.0.0", false },
	{ "172.16.0.0/12", "172.15.255.255", false },
	{ "10.0.0.1", "10.0.0.1", true },
	{ "10.0.0.1", "10.0.0.2", false },
	{ "0.0.0.0/0", "203.0.113.7", true },
	{ "0.0.0.0/0", "::1", false },
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "127.0.0.1", false },
	{ "::1", "::1", true },
	{ "::1", "::2", false },
	{ "::1", "127.0.0.1", false },
	{ "127.0.0.1", "::1", false },
	{ "fd00::/8", "fd12:3456::1", true },
	{ "fd00::/8", "fe80::1", false },
	{ "2001:db8::/33", "2001:db8:7fff:ffff::1", true },
	{ "2001:db8::/33", "2001:db8:8000::", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/127", "2001:db8::2", false },
	{ "1.2.3.4/31", "1.2.3.5", true },
	{ "1.2.3.4/31", "1.2.3.6", false },
};

static void test_cidr_contains(void)
{
	for (size_t i = 0; i < N(contains_cases); i++) {
		struct coord_cidr c;
		unsigned char addr[16];
		int family = strchr(contains_cases[i].addr, ':') ? AF_INET6 : AF_INET;
		bool good = coord_cidr_parse(contains_cases[i].cidr, &c) == COORD_OK &&
			    inet_pton(family, contains_cases[i].addr, addr) == 1;
		if (good)
			good = coord_cidr_contains(&c, family, addr) == contains_cases[i].inside;
		ok(good, "cidr_contains #%zu %s %s %s", i, contains_cases[i].cidr,
		   contains_cases[i].inside ? "contains" : "does not contain", contains_cases[i].addr);
	}
}

/* ---- NEAR account ids ---- */

static const struct {
	const char *s;
	bool valid;
} account_cases[] = {
	{ "ab", true },
	{ "alice.near", true },
	{ "outlayer.testnet", true },
	{ "app.alice.near", true },
	{ "a-b_c.d", true },
	{ "a1", true },
	{ "0x", true },
	{ "17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1", true },
	{ "", false },
	{ "a", false },
	{ "A.near", false },
	{ "alice.NEAR", false },
	{ "alice..near", false },
	{ ".alice", false },
	{ "alice.", false },
	{ "-alice", false },
	{ "alice-", false },
	{ "_alice", false },
	{ "alice_.near", false },
	{ "alice-_bob", false },
	{ "al ice", false },
	{ "alice@near", false },
	{ "alice/near", false },
	{ "alice.near\n", false },
	{ "\xc3\xa9l\xc3\xa9.near", false },
	{ "17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1a", false },
};

static void test_account(void)
{
	for (size_t i = 0; i < N(account_cases); i++)
		ok(coord_near_account_valid(account_cases[i].s) == account_cases[i].valid,
		   "near_account_valid #%zu \"%s\" -> %d", i, shows(account_cases[i].s),
		   account_cases[i].valid);
}

int main(void)
{
	test_parse_file();
	test_load();
	test_redis_url();
	test_cidr_parse();
	test_cidr_contains();
	test_account();
	return tap_done();
}
