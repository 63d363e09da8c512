/* Project storage routes of worker.fcgi (SPEC §3.2.10). */
#include <string.h>

#include "coord_storage.h"
#include "worker.h"
#include "banned.h"

#define ID_FIELD(name) { name, COORD_FT_STRING, true, 1, COORD_STORAGE_ID_MAX, NULL }
#define BYTES_FIELD(name) { name, COORD_FT_BYTES, true, 0, 0, NULL }
/* the identifiers of a write's body, in a table whose enum starts PROJECT, WASM, ACCOUNT, KEY_HASH */
#define WRITE_ID_FIELDS                                                        \
	[PROJECT] = ID_FIELD("project_uuid"), [WASM] = ID_FIELD("wasm_hash"), \
	[ACCOUNT] = ID_FIELD("account_id"), [KEY_HASH] = ID_FIELD("key_hash")

/* The bytes of a validated COORD_FT_BYTES field, copied into the request's arena. */
static struct coord_bytes field_bytes(struct coord_req *r, const struct coord_value *v)
{
	unsigned char *p = coord_arena_alloc(&r->arena, v->len + 1);
	coord_json_bytes_copy(v->obj, p);
	struct coord_bytes b = { p, v->len };
	return b;
}

static json_object *bytes_or_null(bool exists, struct coord_bytes b)
{
	return exists ? coord_json_byte_array(b.ptr, b.len) : NULL;
}

/* A write that answers an empty 200 (or the error of e). */
static void reply_written(struct coord_req *r, enum coord_err e)
{
	if (e == COORD_OK)
		coord_reply_empty(r, 200);
	else
		coord_reply_backend_error(r, e);
}

static void reply_bool(struct coord_req *r, const char *name, bool value)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, name, json_object_new_boolean(value));
	coord_reply_json(r, 200, o);
}

void worker_storage_set(struct coord_req *r)
{
	enum { PROJECT, WASM, ACCOUNT, KEY_HASH, KEY, VALUE, ENCRYPTED, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		WRITE_ID_FIELDS,
		[KEY] = BYTES_FIELD("encrypted_key"),
		[VALUE] = BYTES_FIELD("encrypted_value"),
		[ENCRYPTED] = { "is_encrypted", COORD_FT_BOOL, false, 0, 0, NULL },
	};
	struct coord_value v[NFIELDS];
	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	struct coord_storage_addr a = { v[PROJECT].s, v[ACCOUNT].s, v[KEY_HASH].s };
	reply_written(r, coord_storage_set(r->db, &a, v[WASM].s, field_bytes(r, &v[KEY]),
					   field_bytes(r, &v[VALUE]),
					   !v[ENCRYPTED].present || v[ENCRYPTED].b));
}

void worker_storage_set_if_absent(struct coord_req *r)
{
	enum { PROJECT, WASM, ACCOUNT, KEY_HASH, KEY, VALUE, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		WRITE_ID_FIELDS,
		[KEY] = BYTES_FIELD("encrypted_key"),
		[VALUE] = BYTES_FIELD("encrypted_value"),
	};
	struct coord_value v[NFIELDS];
	bool inserted;
	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	struct coord_storage_addr a = { v[PROJECT].s, v[ACCOUNT].s, v[KEY_HASH].s };
	enum coord_err e = coord_storage_set_if_absent(r->db, &a, v[WASM].s, field_bytes(r, &v[KEY]),
						       field_bytes(r, &v[VALUE]), &inserted);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		reply_bool(r, "inserted", inserted);
}

void worker_storage_set_if_equals(struct coord_req *r)
{
	enum { PROJECT, WASM, ACCOUNT, KEY_HASH, EXPECTED, NEW_KEY, NEW_VALUE, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		WRITE_ID_FIELDS,
		[EXPECTED] = BYTES_FIELD("expected_encrypted_value"),
		[NEW_KEY] = BYTES_FIELD("new_encrypted_key"),
		[NEW_VALUE] = BYTES_FIELD("new_encrypted_value"),
	};
	struct coord_value v[NFIELDS];
	struct coord_storage_row cur;
	bool updated;
	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	struct coord_storage_addr a = { v[PROJECT].s, v[ACCOUNT].s, v[KEY_HASH].s };
	enum coord_err e = coord_storage_set_if_equals(
		r->db, &a, v[WASM].s, field_bytes(r, &v[EXPECTED]), field_bytes(r, &v[NEW_KEY]),
		field_bytes(r, &v[NEW_VALUE]), &updated, &r->arena, &cur);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "updated", json_object_new_boolean(updated));
	json_object_object_add(o, "current_encrypted_value", bytes_or_null(cur.exists, cur.value));
	json_object_object_add(o, "current_encrypted_key", bytes_or_null(cur.exists, cur.key));
	coord_reply_json(r, 200, o);
}

/* The body of a get: the row, or the absent shape. */
static void reply_row(struct coord_req *r, enum coord_err e, const struct coord_storage_row *row)
{
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "exists", json_object_new_boolean(row->exists));
	json_object_object_add(o, "encrypted_key", bytes_or_null(row->exists, row->key));
	json_object_object_add(o, "encrypted_value", bytes_or_null(row->exists, row->value));
	json_object_object_add(o, "wasm_hash",
			       row->exists ? json_object_new_string(row->wasm_hash) : NULL);
	json_object_object_add(o, "is_encrypted", json_object_new_boolean(row->is_encrypted));
	coord_reply_json(r, 200, o);
}

/* A body of n (at most 3) identifiers of 1-64 characters named names[]; false after replying. */
static bool read_ids(struct coord_req *r, size_t n, const char *const names[], const char *out[])
{
	struct coord_field fields[3];
	struct coord_value v[3];
	for (size_t i = 0; i < n; i++) {
		const struct coord_field f = ID_FIELD(names[i]);
		fields[i] = f;
	}
	if (!coord_req_json(r, fields, n, v))
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = v[i].s;
	return true;
}

/* Bodies that name one row: project_uuid, account_id, key_hash. */
static bool read_addr(struct coord_req *r, struct coord_storage_addr *a)
{
	static const char *const names[] = { "project_uuid", "account_id", "key_hash" };
	const char *ids[3];
	if (!read_ids(r, 3, names, ids))
		return false;
	a->project_uuid = ids[0];
	a->account_id = ids[1];
	a->key_hash = ids[2];
	return true;
}

void worker_storage_get(struct coord_req *r)
{
	struct coord_storage_addr a;
	struct coord_storage_row row;
	if (read_addr(r, &a))
		reply_row(r, coord_storage_get(r->db, &a, &r->arena, &row), &row);
}

void worker_storage_get_by_version(struct coord_req *r)
{
	static const char *const names[] = { "wasm_hash", "account_id", "key_hash" };
	const char *ids[3];
	struct coord_storage_row row;
	if (read_ids(r, 3, names, ids))
		reply_row(r, coord_storage_get_by_version(r->db, ids[0], ids[1], ids[2], &r->arena,
							  &row), &row);
}

void worker_storage_has(struct coord_req *r)
{
	struct coord_storage_addr a;
	bool exists;
	if (!read_addr(r, &a))
		return;
	enum coord_err e = coord_storage_has(r->db, &a, &exists);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		reply_bool(r, "exists", exists);
}

void worker_storage_delete(struct coord_req *r)
{
	struct coord_storage_addr a;
	if (!read_addr(r, &a))
		return;
	enum coord_err e = coord_storage_delete(r->db, &a);
	if (e == COORD_ERR_NOT_FOUND)
		coord_reply_error(r, 404, "storage_key_not_found", "Storage key not found");
	else
		reply_written(r, e);
}

/* ?project_uuid=&account_id= of the GET routes: both required, 1-64 characters. */
static bool query_pair(struct coord_req *r, const char **project_uuid, const char **account_id)
{
	const char *names[] = { "project_uuid", "account_id" };
	const char **out[] = { project_uuid, account_id };
	if (!coord_req_query(r))
		return false;
	for (int i = 0; i < 2; i++) {
		const struct coord_query_param *q = coord_req_query_get(r, names[i]);
		size_t chars = q ? coord_utf8_chars(q->value, q->value_len) : 0;
		if (chars < 1 || chars > COORD_STORAGE_ID_MAX) {
			coord_reply_error(r, 400, "invalid_parameter",
					  i ? "account_id is required (1-64 characters)"
					    : "project_uuid is required (1-64 characters)");
			return false;
		}
		*out[i] = q->value;
	}
	return true;
}

void worker_storage_list(struct coord_req *r)
{
	const char *project, *account;
	int64_t limit, offset, total;
	struct coord_storage_row *rows;
	size_t n;
	if (!query_pair(r, &project, &account) ||
	    !coord_req_limit_offset(r, COORD_STORAGE_LIST_DEFAULT, COORD_STORAGE_LIST_MAX, &limit,
				    &offset))
		return;
	enum coord_err e = coord_storage_list(r->db, project, account, limit, offset, &r->arena,
					      &rows, &n, &total);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *keys = json_object_new_array_ext((int)n);
	for (size_t i = 0; i < n; i++) {
		json_object *k = json_object_new_object();
		json_object_object_add(k, "key_hash", json_object_new_string(rows[i].key_hash));
		json_object_object_add(k, "encrypted_key",
				       coord_json_byte_array(rows[i].key.ptr, rows[i].key.len));
		json_object_object_add(k, "encrypted_value",
				       coord_json_byte_array(rows[i].value.ptr, rows[i].value.len));
		json_object_object_add(k, "wasm_hash", json_object_new_string(rows[i].wasm_hash));
		json_object_array_add(keys, k);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "keys", keys);
	json_object_object_add(o, "total", json_object_new_int64(total));
	coord_reply_json(r, 200, o);
}

void worker_storage_usage(struct coord_req *r)
{
	const char *project, *account;
	int64_t bytes, count;
	if (!query_pair(r, &project, &account))
		return;
	enum coord_err e = coord_storage_usage(r->db, project, account, &bytes, &count);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "total_bytes", json_object_new_int64(bytes));
	json_object_object_add(o, "key_count", json_object_new_int64(count));
	coord_reply_json(r, 200, o);
}

void worker_storage_clear_all(struct coord_req *r)
{
	static const char *const names[] = { "project_uuid", "account_id" };
	const char *ids[2];
	if (read_ids(r, 2, names, ids))
		reply_written(r, coord_storage_clear_all(r->db, ids[0], ids[1]));
}

void worker_storage_clear_version(struct coord_req *r)
{
	static const char *const names[] = { "wasm_hash", "account_id" };
	const char *ids[2];
	if (read_ids(r, 2, names, ids))
		reply_written(r, coord_storage_clear_version(r->db, ids[0], ids[1]));
}

void worker_storage_clear_project(struct coord_req *r)
{
	static const char *const names[] = { "project_uuid" };
	const char *ids[1];
	if (read_ids(r, 1, names, ids))
		reply_written(r, coord_storage_clear_project(r->db, ids[0]));
}

void worker_storage_get_public(struct coord_req *r)
{
	static const char *const names[] = { "project_uuid", "key_hash" };
	const char *ids[2];
	enum coord_public_state state;
	struct coord_bytes value;
	if (!read_ids(r, 2, names, ids))
		return;
	enum coord_err e = coord_storage_get_public(r->db, ids[0], ids[1], &r->arena, &state, &value);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	if (state == COORD_PUBLIC_ENCRYPTED) {
		coord_reply_error(r, 403, "encrypted_value", "The value is encrypted");
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "exists", json_object_new_boolean(state == COORD_PUBLIC_PLAIN));
	json_object_object_add(o, "value", bytes_or_null(state == COORD_PUBLIC_PLAIN, value));
	coord_reply_json(r, 200, o);
}
