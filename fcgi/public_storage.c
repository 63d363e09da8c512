/*
 * Public storage (SPEC §3.4.4): plaintext values of the @worker namespace,
 * read by key (its key_hash is hex(sha256(key))), as base64 in JSON or as
 * raw bytes; encrypted rows are never readable here.
 */
#include <string.h>

#include "coord_codec.h"
#include "coord_storage.h"
#include "public_storage.h"
#include "banned.h"

static json_object *base64_string(struct coord_req *r, struct coord_bytes b)
{
	size_t n = coord_base64_encoded_len(b.len);
	char *text = coord_arena_alloc(&r->arena, n);
	coord_base64_encode(b.ptr, b.len, text);
	return json_object_new_string_len(text, (int)(n - 1));
}

/* A required, non-empty query parameter; NULL after replying 400. */
static const struct coord_query_param *required(struct coord_req *r, const char *name,
						const char *message)
{
	const struct coord_query_param *q = coord_req_query_get(r, name);
	if (!q || q->value_len == 0) {
		coord_reply_error(r, 400, "invalid_parameter", message);
		return NULL;
	}
	return q;
}

void public_storage_get(struct coord_req *r)
{
	const struct coord_query_param *project, *key, *format;
	enum coord_public_state state;
	struct coord_bytes value;
	char key_hash[65];
	bool raw = false;

	if (!coord_req_query(r) ||
	    !(project = required(r, "project_uuid", "project_uuid is required")) ||
	    !(key = required(r, "key", "key is required")))
		return;
	if (key->value_len > COORD_STORAGE_PUBLIC_KEY_MAX) {
		coord_reply_error(r, 400, "invalid_parameter", "key must be at most 1024 bytes");
		return;
	}
	format = coord_req_query_get(r, "format");
	if (format) {
		raw = strcmp(format->value, "raw") == 0;
		if (!raw && strcmp(format->value, "json") != 0) {
			coord_reply_error(r, 400, "invalid_parameter", "format must be json or raw");
			return;
		}
	}
	if (!coord_req_db(r))
		return;
	coord_storage_public_key_hash(key->value, key->value_len, key_hash);
	enum coord_err e = coord_storage_get_public(r->db, project->value, key_hash, &r->arena,
						    &state, &value);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	if (state == COORD_PUBLIC_ENCRYPTED) {
		coord_reply_error(r, 403, "encrypted_value", "The value is encrypted");
		return;
	}
	if (raw) {
		if (state == COORD_PUBLIC_ABSENT)
			coord_reply_error(r, 404, "storage_key_not_found", "Storage key not found");
		else
			coord_reply_text(r, 200, "application/octet-stream", (const char *)value.ptr,
					 value.len);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "exists", json_object_new_boolean(state == COORD_PUBLIC_PLAIN));
	if (state == COORD_PUBLIC_PLAIN)
		json_object_object_add(o, "value", base64_string(r, value));
	coord_reply_json(r, 200, o);
}

void public_storage_batch(struct coord_req *r)
{
	static const struct coord_field fields[] = {
		{ "project_uuid", COORD_FT_STRING, true, 1, 0, NULL },
		{ "keys", COORD_FT_ARRAY, true, 0, 0, NULL },
	};
	struct coord_value v[2];
	struct coord_storage_batch batch;
	struct coord_json_problem p;
	const char *why;

	if (!coord_req_json(r, fields, 2, v))
		return;
	enum coord_err e = coord_storage_batch_keys(v[1].obj, &r->arena, &batch, &p, &why);
	if (e == COORD_ERR_INVALID) {
		coord_reply_field_error(r, p.field, p.reason, p.message);
		return;
	}
	if (e != COORD_OK) {
		coord_reply_error(r, 400, "invalid_request", why);
		return;
	}
	if (!coord_req_db(r))
		return;
	e = coord_storage_get_public_batch(r->db, v[0].s, &r->arena, &batch);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *results = json_object_new_object();
	for (size_t i = 0; i < batch.n; i++) {
		json_object *one = json_object_new_object();
		json_object_object_add(one, "exists",
				       json_object_new_boolean(batch.states[i] != COORD_PUBLIC_ABSENT));
		if (batch.states[i] == COORD_PUBLIC_PLAIN)
			json_object_object_add(one, "value", base64_string(r, batch.values[i]));
		else if (batch.states[i] == COORD_PUBLIC_ENCRYPTED)
			json_object_object_add(one, "error", json_object_new_string("encrypted"));
		json_object_object_add(results, batch.keys[i], one);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "results", results);
	coord_reply_json(r, 200, o);
}

void public_project_storage(struct coord_req *r)
{
	const struct coord_query_param *project;
	int64_t bytes, count;
	if (!coord_req_query(r) ||
	    !(project = required(r, "project_uuid", "project_uuid is required")) || !coord_req_db(r))
		return;
	enum coord_err e = coord_storage_project_usage(r->db, project->value, &bytes, &count);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "project_uuid", json_object_new_string(project->value));
	json_object_object_add(o, "total_bytes", json_object_new_int64(bytes));
	json_object_object_add(o, "key_count", json_object_new_int64(count));
	coord_reply_json(r, 200, o);
}
