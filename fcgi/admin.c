/* admin.fcgi: operator routes behind the admin bearer token (SPEC §3.5). */
#include "coord_http.h"
#include "coord_logs.h"
#include "coord_parse.h"
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

static void compile_logs(struct coord_req *r)
{
	int64_t job_id;
	json_object *logs;
	if (coord_parse_i64(r->params[0], r->param_len[0], INT64_MIN, INT64_MAX, &job_id) != COORD_OK) {
		coord_reply_error(r, 400, "invalid_parameter", "job_id must be an integer");
		return;
	}
	if (!coord_req_db(r))
		return;
	enum coord_err e = coord_logs_of_job(r->db, job_id, &logs);
	if (e == COORD_ERR_NOT_FOUND)
		coord_reply_error(r, 404, "logs_not_found", "No logs for this job");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_json(r, 200, logs);
}

static const struct coord_route routes[] = {
	{ "DELETE", "/admin/workers/:worker_id", delete_worker, COORD_RF_ADMIN_AUTH },
	{ "GET", "/admin/compile-logs/:job_id", compile_logs, COORD_RF_ADMIN_AUTH },
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
