/* admin.fcgi: operator routes behind the admin bearer token (SPEC §3.5). */
#include "coord_http.h"
#include "coord_workers.h"
#include "banned.h"

static void delete_worker(struct coord_req *r)
{
	if (!coord_req_db(r))
		return;
	enum coord_err e = coord_workers_delete(r->db, r->params[0]);
	if (e == COORD_ERR_NOT_FOUND)
		coord_reply_error(r, 404, "worker_not_found", "Unknown worker id");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_empty(r, 200);
}

static const struct coord_route routes[] = {
	{ "DELETE", "/admin/workers/:worker_id", delete_worker, COORD_RF_ADMIN_AUTH },
};

static const struct coord_program program = {
	.group = "admin",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

int main(int argc, char **argv)
{
	return coord_serve(&program, argc, argv);
}
