#include <stdio.h>
#include <string.h>

#include "coord_buf.h"
#include "coord_callbacks.h"
#include "coord_int.h"
#include "coord_json.h"
#include "coord_queue.h"
#include "banned.h"

enum {
	CB_LOCK,
	CB_FIND,
	CB_NEXT_ID,
};

const struct coord_stmt coord_callbacks_stmts[] = {
	[CB_LOCK] = { "callbacks_lock", "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))" },
	/* a statement of its own, after the lock: it sees a task committed while we waited */
	[CB_FIND] = { "callbacks_find",
		"SELECT task_id FROM queue_items WHERE queue = 'system_callbacks' AND dedupe_key = $1 "
		"AND created_at > now() - interval '90000 seconds' "
		"ORDER BY created_at DESC, item_id DESC LIMIT 1" },
	[CB_NEXT_ID] = { "callbacks_next_id",
		"SELECT nextval($1::regclass), floor(extract(epoch FROM now()))::bigint" },
};
const size_t coord_callbacks_nstmts = sizeof(coord_callbacks_stmts) / sizeof(coord_callbacks_stmts[0]);

static const struct {
	const char *name;     /* task_type */
	const char *sequence; /* of its task ids */
} types[] = {
	[COORD_TASK_TOP_UP] = { "top_up", "topup_task_id_seq" },
	[COORD_TASK_DELETE_PAYMENT_KEY] = { "delete_payment_key", "delete_payment_key_task_id_seq" },
	[COORD_TASK_PROJECT_CLEANUP] = { "project_storage_cleanup",
					 "project_storage_cleanup_task_id_seq" },
};

/* The payload of SPEC §3.1.2, keys in their order. */
static json_object *task_payload(const struct coord_system_task *t, int64_t task_id,
				 int64_t created_at)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "task_type", json_object_new_string(types[t->type].name));
	json_object_object_add(o, "task_id", json_object_new_int64(task_id));
	if (t->type == COORD_TASK_PROJECT_CLEANUP) {
		json_object_object_add(o, "project_id", json_object_new_string(t->project_id));
		json_object_object_add(o, "project_uuid", json_object_new_string(t->project_uuid));
	} else {
		json_object_object_add(o, "data_id", json_object_new_string(t->data_id));
		json_object_object_add(o, "owner", json_object_new_string(t->owner));
		json_object_object_add(o, "nonce", json_object_new_int64(t->nonce));
		if (t->type == COORD_TASK_TOP_UP) {
			json_object_object_add(o, "amount", coord_json_money(t->amount));
			json_object_object_add(o, "encrypted_data",
					       json_object_new_string(t->encrypted_data));
		}
	}
	json_object_object_add(o, "created_at", json_object_new_int64(created_at));
	return o;
}

enum coord_err coord_callbacks_create(struct coord_db *db, struct coord_redis *redis,
				      const struct coord_config *cfg,
				      const struct coord_system_task *t, int64_t *task_id,
				      bool *created)
{
	struct coord_buf key = COORD_BUF_INIT;
	struct coord_pushes pushes = { 0 };
	json_object *payload = NULL;
	PGresult *res = NULL;
	int64_t item_id;

	*created = false;
	coord_buf_addf(&key, "%s:%s", types[t->type].name,
		       t->type == COORD_TASK_PROJECT_CLEANUP ? t->project_uuid : t->data_id);
	const char *k[] = { coord_buf_str(&key) };
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		goto out;
	e = coord_db_exec(db, &coord_callbacks_stmts[CB_LOCK], 1, k, NULL);
	if (e == COORD_OK)
		e = coord_db_exec(db, &coord_callbacks_stmts[CB_FIND], 1, k, &res);
	if (e != COORD_OK)
		goto out;
	if (PQntuples(res) == 1) {
		*task_id = coord_db_i64(res, 0, 0);
		e = coord_db_commit(db);
		goto out;
	}
	PQclear(res);
	const char *seq[] = { types[t->type].sequence };
	e = coord_db_exec(db, &coord_callbacks_stmts[CB_NEXT_ID], 1, seq, &res);
	if (e != COORD_OK)
		goto out;
	*task_id = coord_db_i64(res, 0, 0);
	payload = task_payload(t, *task_id, coord_db_i64(res, 0, 1));
	e = coord_queue_insert_task(db, coord_json_text(payload, NULL), types[t->type].name,
				    *task_id, k[0], &item_id, &pushes);
	if (e == COORD_OK)
		e = coord_queue_commit(db, redis, cfg, &pushes);
	*created = e == COORD_OK;
out:
	if (e != COORD_OK)
		coord_db_rollback(db);
	PQclear(res);
	json_object_put(payload);
	coord_buf_release(&key);
	return e;
}
