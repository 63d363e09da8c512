/* Payment-key synchronisation results of worker.fcgi (SPEC §3.2.11). */
#include "coord_paykeys.h"
#include "worker.h"
#include "banned.h"

enum { OWNER, NONCE, KEY_HASH, PROJECTS, MAX_PER_CALL, NEW_BALANCE, AMOUNT, NFIELDS };

#define OWNER_FIELD { "owner", COORD_FT_STRING, true, 1, COORD_PAYKEY_OWNER_MAX, NULL }
#define NONCE_FIELD { "nonce", COORD_FT_INT, true, 0, COORD_PAYKEY_NONCE_MAX, NULL }

/* Fields of init (the first five) and of /topup/complete (all of them). */
static const struct coord_field sync_fields[NFIELDS] = {
	[OWNER] = OWNER_FIELD,
	[NONCE] = NONCE_FIELD,
	[KEY_HASH] = { "key_hash", COORD_FT_STRING, true, 0, 0, NULL },
	[PROJECTS] = { "project_ids", COORD_FT_ARRAY, true, 0, 0, NULL },
	[MAX_PER_CALL] = { "max_per_call", COORD_FT_MONEY, false, 0, 0, NULL },
	[NEW_BALANCE] = { "new_initial_balance", COORD_FT_MONEY, true, 0, 0, NULL },
	[AMOUNT] = { "amount", COORD_FT_MONEY, false, 0, 0, NULL },
};

#define MAX_PROJECT_IDS 1000
#define PROJECT_ID_MAX 128

/* Reads the first n sync fields into v and k; false after replying 4xx. */
static bool sync_body(struct coord_req *r, size_t n, struct coord_value *v,
		      struct coord_paykey_sync *k)
{
	if (!coord_req_json(r, sync_fields, n, v))
		return false;
	if (!coord_hex_valid(v[KEY_HASH].s, v[KEY_HASH].len, 64)) {
		coord_reply_field_error(r, "key_hash", "format", "Expected 64 hex characters");
		return false;
	}
	if (!coord_req_json_strings(r, v[PROJECTS].obj, "project_ids", MAX_PROJECT_IDS, 1,
				    PROJECT_ID_MAX))
		return false;
	k->owner = v[OWNER].s;
	k->nonce = v[NONCE].i;
	k->key_hash = v[KEY_HASH].s;
	k->project_ids_json = coord_json_text(v[PROJECTS].obj, NULL);
	k->max_per_call = worker_opt(&v[MAX_PER_CALL]);
	return true;
}

static void reply_success(struct coord_req *r, const char *flag, bool value)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(true));
	if (flag)
		json_object_object_add(o, flag, json_object_new_boolean(value));
	coord_reply_json(r, 200, o);
}

void worker_paykeys_init(struct coord_req *r)
{
	struct coord_value v[NFIELDS];
	struct coord_paykey_sync k;
	bool created;
	if (!sync_body(r, MAX_PER_CALL + 1, v, &k))
		return;
	enum coord_err e = coord_paykeys_init(r->db, &k, &created);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		reply_success(r, "created", created);
}

void worker_topup_complete(struct coord_req *r)
{
	struct coord_value v[NFIELDS];
	struct coord_paykey_sync k;
	bool repeat;
	if (!sync_body(r, NFIELDS, v, &k))
		return;
	enum coord_err e = coord_paykeys_topup(r->db, &k, v[NEW_BALANCE].s, worker_opt(&v[AMOUNT]),
					       &repeat);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e); /* COORD_ERR_RANGE: 400, the sum reached 10^38 */
	else
		reply_success(r, NULL, false);
}

void worker_paykeys_delete(struct coord_req *r)
{
	static const struct coord_field fields[] = { OWNER_FIELD, NONCE_FIELD };
	struct coord_value v[2];
	bool deleted;
	if (!coord_req_json(r, fields, 2, v))
		return;
	enum coord_err e = coord_paykeys_delete(r->db, v[0].s, v[1].i, &deleted);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		reply_success(r, "deleted", deleted);
}
