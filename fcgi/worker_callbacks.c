/*
 * System callbacks (SPEC §3.2.11: the producers and /system-callbacks/poll)
 * and the project routes (§3.2.12) of worker.fcgi.
 */
#include <string.h>

#include "coord_callbacks.h"
#include "coord_parse.h"
#include "coord_projects.h"
#include "worker.h"
#include "banned.h"

#define NONCE_MAX 4294967295LL
#define PROJECT_ID_MAX 128

/* Creates the task and answers {"task_id":N,"created":bool}. */
static void create_task(struct coord_req *r, const struct coord_system_task *t)
{
	int64_t task_id;
	bool created;
	enum coord_err e = coord_callbacks_create(r->db, r->redis, r->cfg, t, &task_id, &created);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "task_id", json_object_new_int64(task_id));
	json_object_object_add(o, "created", json_object_new_boolean(created));
	coord_reply_json(r, 200, o);
}

void worker_topup_create(struct coord_req *r)
{
	enum { DATA, OWNER, NONCE, AMOUNT, ENCRYPTED, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[DATA] = { "data_id", COORD_FT_STRING, true, 1, 256, NULL },
		[OWNER] = { "owner", COORD_FT_STRING, true, 1, 64, NULL },
		[NONCE] = { "nonce", COORD_FT_INT, true, 0, NONCE_MAX, NULL },
		[AMOUNT] = { "amount", COORD_FT_MONEY, true, 0, 0, NULL },
		[ENCRYPTED] = { "encrypted_data", COORD_FT_STRING, true, 0, 0, NULL },
	};
	struct coord_value v[NFIELDS];
	char amount[39];
	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	coord_money_canonical(v[AMOUNT].s, v[AMOUNT].len, amount);
	struct coord_system_task t = {
		.type = COORD_TASK_TOP_UP,
		.data_id = v[DATA].s,
		.owner = v[OWNER].s,
		.nonce = v[NONCE].i,
		.amount = amount,
		.encrypted_data = v[ENCRYPTED].s,
	};
	create_task(r, &t);
}

void worker_delete_task_create(struct coord_req *r)
{
	enum { DATA, OWNER, NONCE, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[DATA] = { "data_id", COORD_FT_STRING, true, 1, 256, NULL },
		[OWNER] = { "owner", COORD_FT_STRING, true, 1, 64, NULL },
		[NONCE] = { "nonce", COORD_FT_INT, true, 0, NONCE_MAX, NULL },
	};
	struct coord_value v[NFIELDS];
	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	struct coord_system_task t = {
		.type = COORD_TASK_DELETE_PAYMENT_KEY,
		.data_id = v[DATA].s,
		.owner = v[OWNER].s,
		.nonce = v[NONCE].i,
	};
	create_task(r, &t);
}

void worker_cleanup_task_create(struct coord_req *r)
{
	static const struct coord_field fields[] = {
		{ "project_id", COORD_FT_STRING, true, 1, PROJECT_ID_MAX, NULL },
		{ "project_uuid", COORD_FT_STRING, true, 1, 64, NULL },
	};
	struct coord_value v[2];
	if (!coord_req_json(r, fields, 2, v))
		return;
	struct coord_system_task t = {
		.type = COORD_TASK_PROJECT_CLEANUP,
		.project_id = v[0].s,
		.project_uuid = v[1].s,
	};
	create_task(r, &t);
}

void worker_callbacks_poll(struct coord_req *r)
{
	static const enum coord_queue system[] = { COORD_Q_SYSTEM };
	enum coord_queue q[2];
	int64_t timeout;

	if (!coord_req_query(r))
		return;
	const struct coord_query_param *caps = coord_req_query_get(r, "capabilities");
	if (caps && caps->value_len > 0) {
		int nq = worker_poll_queues(caps->value, q);
		bool execution = false;
		for (int i = 0; i < nq; i++)
			execution |= q[i] == COORD_Q_EXECUTE;
		if (!execution) {
			coord_reply_error(r, 403, "capability_not_allowed",
					  "System callbacks need the execution capability");
			return;
		}
	}
	if (!worker_poll_timeout(r, &timeout))
		return;
	struct coord_buf payload = COORD_BUF_INIT;
	enum coord_err e = coord_queue_poll(r->db, r->redis, r->cfg, system, 1, (int)timeout,
					    r->token_hash, coord_shutting_down, &payload);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else if (payload.len == 0)
		coord_reply_text(r, 200, "application/json", "null", 4);
	else
		coord_reply_text(r, 200, "application/json", payload.ptr, payload.len);
	coord_buf_release(&payload);
}

/* ---- projects (SPEC §3.2.12) ---- */

/* ?project_id=: required, 1-128 characters; NULL after replying 400. */
static const char *query_project_id(struct coord_req *r)
{
	if (!coord_req_query(r))
		return NULL;
	const struct coord_query_param *q = coord_req_query_get(r, "project_id");
	size_t chars = q ? coord_utf8_chars(q->value, q->value_len) : 0;
	if (chars < 1 || chars > PROJECT_ID_MAX) {
		coord_reply_error(r, 400, "invalid_parameter",
				  "project_id is required (1-128 characters)");
		return NULL;
	}
	return q->value;
}

void worker_projects_uuid(struct coord_req *r)
{
	struct coord_project p;
	const char *project_id = query_project_id(r);
	if (!project_id)
		return;
	const struct coord_query_param *version = coord_req_query_get(r, "version");
	enum coord_err e = coord_project_resolve(r->db, r->redis, r->cfg, project_id, version != NULL,
						 &r->arena, &p);
	if (e == COORD_ERR_NOT_FOUND) {
		coord_reply_error(r, 404, "project_not_found", "Project not found");
		return;
	}
	if (e == COORD_ERR_UPSTREAM) {
		coord_reply_error(r, 502, "upstream_error", "NEAR RPC failed");
		return;
	}
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "project_id", json_object_new_string(project_id));
	json_object_object_add(o, "uuid", json_object_new_string(p.uuid));
	json_object_object_add(o, "active_version",
			       json_object_new_string(version ? version->value
							      : p.active_version ? p.active_version : ""));
	json_object_object_add(o, "cached", json_object_new_boolean(p.source != COORD_PROJECT_CHAIN));
	coord_reply_json(r, 200, o);
}

void worker_projects_cache_delete(struct coord_req *r)
{
	const char *project_id = query_project_id(r);
	if (!project_id)
		return;
	if (coord_project_forget(r->redis, project_id) != COORD_OK)
		coord_reply_error(r, 503, "unavailable", "Redis unavailable");
	else
		coord_reply_empty(r, 204);
}
