/* public.fcgi: health, statistics, pricing; no authentication (SPEC §3.4). */
#include <string.h>

#include "attestations.h"
#include "coord_earnings.h"
#include "coord_health.h"
#include "coord_http.h"
#include "coord_metrics.h"
#include "coord_paykeys.h"
#include "coord_pricing.h"
#include "coord_stats.h"
#include "coord_wasmcache.h"
#include "public_storage.h"
#include "vrf.h"
#include "wasm_exists.h"
#include "banned.h"

static void health(struct coord_req *r)
{
	coord_reply_text(r, 200, "text/plain", "OK", 2);
}

static void health_detailed(struct coord_req *r)
{
	bool unhealthy;
	json_object *report = coord_health_detailed(r->cfg, r->db, r->redis, &unhealthy);
	coord_reply_json(r, unhealthy ? 503 : 200, report);
}

static void pricing(struct coord_req *r)
{
	json_object *config;
	if (!coord_req_db(r))
		return;
	enum coord_err e = coord_pricing_current(r->db, &config);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *stablecoin = json_object_new_object();
	json_object_object_add(stablecoin, "contract",
			       json_object_new_string(r->cfg->stablecoin_contract));
	json_object_object_add(stablecoin, "decimals",
			       json_object_new_int64(r->cfg->stablecoin_decimals));
	json_object_object_add(config, "stablecoin", stablecoin);
	coord_reply_json(r, 200, config);
}

static void pricing_refresh(struct coord_req *r)
{
	json_object *config;
	bool fetched;
	if (r->cfg->near_off) {
		coord_reply_error(r, 503, "near_not_configured", "NEAR_RPC_URL is off");
		return;
	}
	if (!coord_req_db(r))
		return;
	enum coord_err e = coord_pricing_refresh(r->db, r->cfg, &config, &fetched);
	if (e == COORD_ERR_UPSTREAM)
		coord_reply_error(r, 502, "upstream_error", "NEAR RPC failed or answered an invalid pricing");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_json(r, 200, config);
}

/* Replies with *view, or with the database error that prevented it. */
static void reply_view(struct coord_req *r, enum coord_err e, json_object **view)
{
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_json(r, 200, *view);
}

static void stats(struct coord_req *r)
{
	json_object *view = NULL;
	if (coord_req_db(r))
		reply_view(r, coord_stats_summary(r->db, r->cfg, &view), &view);
}

static void workers(struct coord_req *r)
{
	json_object *view = NULL;
	if (coord_req_db(r))
		reply_view(r, coord_stats_workers(r->db, r->cfg, &view), &view);
}

static void jobs(struct coord_req *r)
{
	int64_t limit, offset;
	enum coord_jobs_source source = COORD_SOURCE_ALL;
	json_object *view = NULL;

	if (!coord_req_query(r) || !coord_req_limit_offset(r, 50, 100, &limit, &offset))
		return;
	const struct coord_query_param *src = coord_req_query_get(r, "source");
	if (src) {
		if (strcmp(src->value, "near") == 0)
			source = COORD_SOURCE_NEAR;
		else if (strcmp(src->value, "https") == 0)
			source = COORD_SOURCE_HTTPS;
		else if (strcmp(src->value, "all") != 0) {
			coord_reply_error(r, 400, "invalid_parameter", "source must be near, https or all");
			return;
		}
	}
	const struct coord_query_param *user = coord_req_query_get(r, "user_account_id");
	if (coord_req_db(r))
		reply_view(r, coord_stats_jobs(r->db, limit, offset, user ? user->value : NULL, source,
					       &view), &view);
}

static void popular_repos(struct coord_req *r)
{
	json_object *view = NULL;
	if (coord_req_db(r))
		reply_view(r, coord_stats_popular_repos(r->db, &view), &view);
}

static void user_earnings(struct coord_req *r)
{
	json_object *view = NULL;
	if (coord_req_db(r))
		reply_view(r, coord_stats_user(r->db, r->params[0], &view), &view);
}

static void wasm_info(struct coord_req *r)
{
	json_object *view = NULL;
	if (!coord_req_query(r))
		return;
	const struct coord_query_param *repo = coord_req_query_get(r, "repo_url");
	const struct coord_query_param *commit = coord_req_query_get(r, "commit_hash");
	const struct coord_query_param *target = coord_req_query_get(r, "build_target");
	if (!repo || !*repo->value || !commit || !*commit->value) {
		coord_reply_error(r, 400, "invalid_parameter", "repo_url and commit_hash are required");
		return;
	}
	if (coord_req_db(r))
		reply_view(r, coord_wasm_info(r->db, r->cfg, repo->value, commit->value,
					      target ? target->value : "wasm32-wasip1",
					      &view), &view);
}

/* The :nonce path parameter (index i) as a u32; false after replying 400. */
static bool path_nonce(struct coord_req *r, size_t i, int64_t *nonce)
{
	if (coord_parse_i64(r->params[i], r->param_len[i], 0, COORD_PAYKEY_NONCE_MAX, nonce) ==
	    COORD_OK)
		return true;
	coord_reply_error(r, 400, "invalid_parameter", "nonce must be an integer from 0 to 4294967295");
	return false;
}

static void paykey_balance(struct coord_req *r)
{
	int64_t nonce;
	json_object *view = NULL;
	if (path_nonce(r, 1, &nonce) && coord_req_db(r))
		reply_view(r, coord_paykeys_balance(r->db, r->params[0], nonce, NULL, &view), &view);
}

static void paykey_usage(struct coord_req *r)
{
	int64_t nonce, limit, offset;
	json_object *view = NULL;
	if (path_nonce(r, 1, &nonce) && coord_req_query(r) &&
	    coord_req_limit_offset(r, 20, 100, &limit, &offset) && coord_req_db(r))
		reply_view(r, coord_paykeys_usage(r->db, r->params[0], nonce, limit, offset, &view),
			   &view);
}

static void project_earnings(struct coord_req *r)
{
	json_object *view = NULL;
	if (coord_req_db(r))
		reply_view(r, coord_earnings_owner(r->db, r->params[0], &view), &view);
}

static void project_earnings_history(struct coord_req *r)
{
	int64_t limit, offset;
	json_object *view = NULL;
	if (!coord_req_query(r) || !coord_req_limit_offset(r, 50, 100, &limit, &offset))
		return;
	const struct coord_query_param *src = coord_req_query_get(r, "source");
	if (src && strcmp(src->value, "blockchain") != 0 && strcmp(src->value, "https") != 0) {
		coord_reply_error(r, 400, "invalid_parameter", "source must be blockchain or https");
		return;
	}
	if (coord_req_db(r))
		reply_view(r, coord_earnings_history(r->db, r->params[0], src ? src->value : NULL,
						     limit, offset, &view), &view);
}

/*
 * GET /metrics (SPEC §3.4.7). Who may scrape is said by the web server's configuration
 * through the COORD_METRICS_ACCESS parameter (lighttpd.conf; coord_metrics.h).
 */
static void metrics(struct coord_req *r)
{
	struct coord_buf out = COORD_BUF_INIT;
	if (!coord_metrics_access_allowed(r->cfg, coord_req_getparam(r, "COORD_METRICS_ACCESS"),
					  r->client_ip)) {
		coord_reply_error(r, 403, "forbidden",
				  "Metrics are served to loopback and TRUSTED_PROXIES only");
		return;
	}
	if (!coord_req_db(r))
		return;
	enum coord_err e = coord_metrics_scrape(r->db, r->redis, r->cfg, &out);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_text(r, 200, "text/plain; version=0.0.4", coord_buf_str(&out), out.len);
	coord_buf_release(&out);
}

static const struct coord_route routes[] = {
	{ "GET", "/health", health, 0 },
	{ "GET", "/health/detailed", health_detailed, 0 },
	{ "GET", "/public/stats", stats, 0 },
	{ "GET", "/public/workers", workers, 0 },
	{ "GET", "/public/jobs", jobs, 0 },
	{ "GET", "/public/repos/popular", popular_repos, 0 },
	{ "GET", "/public/users/:account/earnings", user_earnings, 0 },
	{ "GET", "/public/pricing", pricing, 0 },
	{ "POST", "/public/pricing/refresh", pricing_refresh, 0 },
	{ "GET", "/public/wasm/info", wasm_info, 0 },
	{ "GET", "/public/wasm/exists/:checksum", wasm_exists_handler, 0 },
	{ "GET", "/public/payment-keys/:owner/:nonce/balance", paykey_balance, 0 },
	{ "GET", "/public/payment-keys/:owner/:nonce/usage", paykey_usage, 0 },
	{ "GET", "/public/project-earnings/:owner", project_earnings, 0 },
	{ "GET", "/public/project-earnings/:owner/history", project_earnings_history, 0 },
	{ "POST", "/attestations", attestations_post, COORD_RF_WORKER_AUTH | COORD_RF_BIG_BODY },
	{ "GET", "/attestations/:job_id", attestations_get, 0 },
	{ "GET", "/public/storage/get", public_storage_get,
	  COORD_RF_RL_PUBLIC_STORAGE | COORD_RF_CORS_ANY },
	{ "POST", "/public/storage/batch", public_storage_batch,
	  COORD_RF_RL_PUBLIC_STORAGE | COORD_RF_CORS_ANY },
	{ "GET", "/public/projects/storage", public_project_storage, 0 },
	{ "GET", "/vrf/pubkey", vrf_pubkey, 0 },
	{ "GET", "/metrics", metrics, 0 },
};

static const struct coord_program program = {
	.group = "public",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.head_on_get = true,
	.needs_wasm_dir = true,
};

int main(int argc, char **argv)
{
	coord_serve_background(coord_pricing_background, COORD_PRICING_BACKGROUND_MS);
	return coord_serve(&program, argc, argv);
}
