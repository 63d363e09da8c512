/*
 * Configuration of SPEC §2: read once at start-up into an immutable
 * structure; nothing reads the environment afterwards.
 */
#ifndef COORD_CONFIG_H
#define COORD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coord_err.h"

struct coord_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
};

struct coord_redis_url {
	bool is_unix;
	char host[256];
	int port;
	char path[108];
	char user[128];
	char password[512];
	bool has_password;
	int db;
};

enum coord_log_format { COORD_LOG_JSON, COORD_LOG_TEXT };
enum coord_log_level { COORD_LOG_DEBUG, COORD_LOG_INFO, COORD_LOG_WARN, COORD_LOG_ERROR };
enum coord_sendfile { COORD_SENDFILE_OFF, COORD_SENDFILE_X_SENDFILE };

struct coord_config {
	const char *program; /* executable base name, for messages */

	const char *database_url;
	const char *redis_url;
	struct coord_redis_url redis;
	const char *host;
	int64_t port;
	bool cors_any;
	const char **cors_origins; /* NULL-terminated */
	const char *near_rpc_url;
	bool near_off;
	int64_t near_rpc_timeout_seconds;
	const char *contract_id;
	const char *network; /* "testnet" or "mainnet", from contract_id */
	const char *operator_account_id; /* NULL when unset */
	const char *wasm_cache_dir;
	int64_t wasm_cache_max_bytes; /* 0: no cap */
	const char *keystore_base_url; /* NULL when unset */
	const char *keystore_auth_token; /* NULL when unset */
	bool require_auth;
	const char *admin_bearer_token;
	bool admin_token_is_default;
	bool require_tee_session;
	int64_t tee_session_ttl_seconds;
	const char *stablecoin_contract;
	int64_t stablecoin_decimals;
	char default_compute_limit[39];
	char min_compute_limit[39];
	int64_t https_call_timeout_seconds;
	int64_t payment_key_rate_limit_per_minute;
	int64_t rate_limit_api_per_minute;
	int64_t rate_limit_public_storage_per_minute;
	int64_t rate_limit_secrets_per_minute;
	struct coord_cidr *trusted_proxies;
	size_t n_trusted_proxies;
	const char *redis_queue_compile;
	const char *redis_queue_execute;
	int64_t job_lease_seconds;
	int64_t poll_lease_seconds;
	int64_t job_max_attempts;
	int64_t payment_key_stale_seconds;
	int64_t idempotency_ttl_seconds;
	int64_t threads;
	const char *path_prefix; /* "" when unset */
	enum coord_sendfile sendfile;
	enum coord_log_format log_format;
	enum coord_log_level log_level;
};

/* Command-line settings of bin/ programs; NULL members are not given. */
struct coord_config_overrides {
	const char *database_url;
	const char *config_file;
};

/*
 * Reads flags > environment > COORD_CONFIG file > defaults into cfg.
 * On failure writes the one-line message "<program>: config: VAR: what"
 * (without newline) into err and returns COORD_ERR_INVALID.
 * The strings cfg points to live until coord_config_release().
 */
enum coord_err coord_config_load(struct coord_config *cfg, const char *program,
				 const struct coord_config_overrides *ov,
				 char *err, size_t errlen);
/* coord_config_load, or print the message and exit 78 (EX_CONFIG). */
void coord_config_load_or_exit(struct coord_config *cfg, const char *program,
			       const struct coord_config_overrides *ov);
void coord_config_release(struct coord_config *cfg);

/*
 * Creates WASM_CACHE_DIR (and its parents, mode 0750) when missing and
 * checks it is writable; on failure prints the one-line configuration
 * error of SPEC §2.1 and exits 78.
 */
void coord_config_cache_dir_or_exit(const struct coord_config *cfg);

/*
 * The COORD_CONFIG file reader (SPEC §2.1), separate so it can be fuzzed:
 * parses text into KEY=VALUE pairs, refusing unknown keys, duplicates and
 * lines without '='. On success *keys and *values are arrays of n
 * malloc'ed strings (free with coord_config_file_free).
 */
enum coord_err coord_config_parse_file(const char *text, size_t len, char ***keys,
				       char ***values, size_t *n, char *err, size_t errlen);
void coord_config_file_free(char **keys, char **values, size_t n);

/* NEAR account ids: 2-64 of [a-z0-9], single separators - _ . inside. */
bool coord_near_account_valid(const char *s);

#endif
