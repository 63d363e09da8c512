/* Worker status, locks and internal logs of worker.fcgi (SPEC §3.2.6, §3.2.8, §3.2.12). */
#include "coord_locks.h"
#include "coord_logs.h"
#include "coord_workers.h"
#include "worker.h"
#include "banned.h"

void worker_block_cursor(struct coord_req *r)
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

void worker_heartbeat(struct coord_req *r)
{
	static const char *const statuses[] = { "online", "busy", "offline", "stale", NULL };
	enum { ID, NAME, STATUS, TASK, HEIGHT, POLL, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[ID] = { "worker_id", COORD_FT_STRING, true, 1, 128, NULL },
		[NAME] = { "worker_name", COORD_FT_STRING, true, 1, 128, NULL },
		[STATUS] = { "status", COORD_FT_STRING, true, 1, 16, statuses },
		[TASK] = { "current_task_id", COORD_FT_INT, false, INT64_MIN, INT64_MAX, NULL },
		[HEIGHT] = { "event_monitor_block_height", COORD_FT_INT, false, 0, INT64_MAX, NULL },
		[POLL] = { "last_poll_at", COORD_FT_INT, false, 0, 253402300799, NULL },
	};
	struct coord_value v[NFIELDS];
	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	struct coord_heartbeat h = {
		v[ID].s, v[NAME].s, v[STATUS].s, r->token_hash,
		v[TASK].present, v[HEIGHT].present, v[POLL].present,
		v[TASK].i, v[HEIGHT].i, v[POLL].i,
	};
	enum coord_err e = coord_workers_heartbeat(r->db, &h);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_empty(r, 200);
}

void worker_task_completion(struct coord_req *r)
{
	static const struct coord_field fields[] = {
		{ "worker_id", COORD_FT_STRING, true, 1, 256, NULL },
		{ "success", COORD_FT_BOOL, true, 0, 0, NULL },
	};
	struct coord_value v[2];
	if (!coord_req_json(r, fields, 2, v))
		return;
	enum coord_err e = coord_workers_task_completion(r->db, v[0].s, v[1].b);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_empty(r, 200);
}

void worker_locks_acquire(struct coord_req *r)
{
	static const struct coord_field fields[] = {
		{ "lock_key", COORD_FT_STRING, true, 1, 0, NULL },
		{ "worker_id", COORD_FT_STRING, true, 1, 128, NULL },
		{ "ttl_seconds", COORD_FT_INT, true, 1, 86400, NULL },
	};
	struct coord_value v[3];
	bool acquired;
	if (!coord_req_json(r, fields, 3, v))
		return;
	if (v[0].len > COORD_LOCK_KEY_MAX) {
		coord_reply_field_error(r, "lock_key", "range", "lock_key is longer than 512 bytes");
		return;
	}
	coord_locks_acquire(r->redis, v[0].s, v[0].len, v[1].s, v[2].i, &acquired);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "acquired", json_object_new_boolean(acquired));
	coord_reply_json(r, 200, o);
}

void worker_locks_release(struct coord_req *r)
{
	if (r->param_len[0] > COORD_LOCK_KEY_MAX) {
		coord_reply_error(r, 400, "invalid_parameter", "lock key longer than 512 bytes");
		return;
	}
	enum coord_err e = coord_locks_release(r->redis, r->params[0], r->param_len[0]);
	if (e == COORD_ERR_UNAVAILABLE)
		coord_reply_error(r, 503, "unavailable", "Redis unavailable");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_empty(r, 200);
}

void worker_system_logs(struct coord_req *r)
{
	enum { REQ, JOB, TYPE, ERR, OUT, EXECERR, CODE, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[REQ] = { "request_id", COORD_FT_INT, true, INT64_MIN, INT64_MAX, NULL },
		[JOB] = { "job_id", COORD_FT_INT, false, INT64_MIN, INT64_MAX, NULL },
		[TYPE] = { "log_type", COORD_FT_STRING, true, 1, 50, NULL },
		[ERR] = { "stderr", COORD_FT_STRING, false, 0, 0, NULL },
		[OUT] = { "stdout", COORD_FT_STRING, false, 0, 0, NULL },
		[EXECERR] = { "execution_error", COORD_FT_STRING, false, 0, 0, NULL },
		[CODE] = { "exit_code", COORD_FT_INT, false, INT32_MIN, INT32_MAX, NULL },
	};
	struct coord_value v[NFIELDS];
	int64_t id;
	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	struct coord_system_log l = {
		v[REQ].i, v[JOB].present, v[CODE].present, v[JOB].i, v[CODE].i,
		v[TYPE].s, worker_opt(&v[ERR]), worker_opt(&v[OUT]), worker_opt(&v[EXECERR]),
		r->token_hash,
	};
	enum coord_err e = coord_logs_insert(r->db, &l, &id);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(id));
	coord_reply_json(r, 201, o);
}
