/* public.fcgi: health, statistics, pricing; no authentication (SPEC §3.4). */
#include "coord_health.h"
#include "coord_http.h"
#include "coord_pricing.h"
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

static const struct coord_route routes[] = {
	{ "GET", "/health", health, 0 },
	{ "GET", "/health/detailed", health_detailed, 0 },
	{ "GET", "/public/pricing", pricing, 0 },
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
	return coord_serve(&program, argc, argv);
}
