/* worker.fcgi: the routes workers call with their bearer token (SPEC §3.2). */
#include "coord_http.h"
#include "coord_workers.h"
#include "banned.h"

/* every worker route: bearer token and the 10 MiB body cap (SPEC §1.3) */
#define WORKER (COORD_RF_WORKER_AUTH | COORD_RF_BIG_BODY)

static void block_cursor(struct coord_req *r)
{
	bool has;
	int64_t height;
	enum coord_err e = coord_workers_block_cursor(r->db, &has, &height);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "block_height", has ? json_object_new_int64(height) : NULL);
	coord_reply_json(r, 200, o);
}

static const struct coord_route routes[] = {
	{ "GET", "/workers/block-cursor", block_cursor, WORKER },
};

static const struct coord_program program = {
	.group = "worker",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.needs_wasm_dir = true,
};

int main(int argc, char **argv)
{
	return coord_serve(&program, argc, argv);
}
