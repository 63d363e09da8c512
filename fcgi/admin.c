/* admin.fcgi: operator routes behind the admin bearer token (SPEC §3.5). */
#include "coord_http.h"
#include "coord_logs.h"
#include "coord_parse.h"
#include "coord_paykeys.h"
#include "coord_workers.h"
#include "banned.h"

static void grant_payment_key(struct coord_req *r)
{
	enum { OWNER, NONCE, AMOUNT, NOTE, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[OWNER] = { "owner", COORD_FT_STRING, true, 1, COORD_PAYKEY_OWNER_MAX, NULL },
		[NONCE] = { "nonce", COORD_FT_INT, true, 0, COORD_PAYKEY_NONCE_MAX, NULL },
		[AMOUNT] = { "amount", COORD_FT_STRING, true, 0, 0, NULL },
		[NOTE] = { "note", COORD_FT_STRING, false, 0, COORD_PAYKEY_NOTE_MAX, NULL },
	};
	struct coord_value v[NFIELDS];
	json_object *answer;
	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	const char *problem = coord_paykeys_grant_amount_problem(v[AMOUNT].s, v[AMOUNT].len);
	if (problem) {
		coord_reply_error(r, 400, "invalid_amount", problem);
		return;
	}
	if (!coord_req_db(r))
		return;
	struct coord_paykey_grant g = {
		v[OWNER].s, v[NONCE].i, v[AMOUNT].s, v[NOTE].present ? v[NOTE].s : NULL, false, false,
	};
	enum coord_err e = coord_paykeys_grant(r->db, &g, &answer);
	if (e == COORD_ERR_NOT_FOUND)
		coord_reply_error(r, 404, "payment_key_not_found",
				  "Payment key not found: create it on chain first");
	else if (e == COORD_ERR_CONFLICT)
		coord_reply_error(r, 409, "payment_key_not_grantable",
				  "The key has a user-funded balance; grants are refused");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_json(r, 200, answer);
}

static void grant_keys(struct coord_req *r)
{
	json_object *keys;
	if (!coord_req_db(r))
		return;
	enum coord_err e = coord_paykeys_grant_keys(r->db, &keys);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_json(r, 200, keys);
}

static void grant_key_delete(struct coord_req *r)
{
	int64_t nonce;
	if (coord_parse_i64(r->params[1], r->param_len[1], 0, COORD_PAYKEY_NONCE_MAX, &nonce) !=
	    COORD_OK) {
		coord_reply_error(r, 400, "invalid_parameter",
				  "nonce must be an integer from 0 to 4294967295");
		return;
	}
	if (!coord_req_db(r))
		return;
	enum coord_err e = coord_paykeys_grant_delete(r->db, r->params[0], nonce);
	if (e == COORD_ERR_NOT_FOUND)
		coord_reply_error(r, 404, "payment_key_not_found", "No live grant key with this id");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_empty(r, 204);
}

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
	{ "POST", "/admin/grant-payment-key", grant_payment_key, COORD_RF_ADMIN_AUTH },
	{ "GET", "/admin/grant-keys", grant_keys, COORD_RF_ADMIN_AUTH },
	{ "DELETE", "/admin/grant-keys/:owner/:nonce", grant_key_delete, COORD_RF_ADMIN_AUTH },
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
