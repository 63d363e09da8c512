/* Body pieces shared by several worker routes. */
#include <string.h>

#include "coord_tee.h"
#include "coord_wasmcache.h"
#include "worker.h"
#include "banned.h"

const char *worker_opt(const struct coord_value *v)
{
	return v->present ? v->s : NULL;
}

bool worker_refund_usd(struct coord_req *r, char buf[static 39], const char **refund)
{
	json_object *ru = NULL;
	*refund = NULL;
	if (!json_object_object_get_ex(r->json, "refund_usd", &ru) || !ru)
		return true;
	const char *s = NULL;
	if (json_object_is_type(ru, json_type_string) || json_object_is_type(ru, json_type_int))
		s = json_object_get_string(ru); /* an integer: its canonical decimal text */
	if (!s || !coord_money_valid(s, strlen(s))) {
		coord_reply_field_error(r, "refund_usd", s ? "format" : "type",
					"Expected a money string or a non-negative integer");
		return false;
	}
	coord_money_canonical(s, strlen(s), buf);
	*refund = buf;
	return true;
}

bool worker_code_source(struct coord_req *r, json_object *obj, bool normalise,
			struct coord_code_source *cs)
{
	static const char *const types[] = { "GitHub", "WasmUrl", NULL };
	static const struct coord_field type_field[] = {
		{ "type", COORD_FT_STRING, true, 1, 256, types },
	};
	static const struct coord_field github[] = {
		{ "repo", COORD_FT_STRING, true, 1, 512, NULL },
		{ "commit", COORD_FT_STRING, true, 1, 256, NULL },
		{ "build_target", COORD_FT_STRING, false, 1, 64, NULL },
	};
	static const struct coord_field wasm_url[] = {
		{ "url", COORD_FT_STRING, true, 1, 2048, NULL },
		{ "hash", COORD_FT_STRING, true, 1, 256, NULL },
		{ "build_target", COORD_FT_STRING, false, 1, 64, NULL },
	};
	struct coord_value t[1], v[3];

	memset(cs, 0, sizeof(*cs));
	if (!coord_req_json_object(r, obj, "code_source", type_field, 1, t))
		return false;
	cs->github = strcmp(t[0].s, "GitHub") == 0;
	if (!coord_req_json_object(r, obj, "code_source", cs->github ? github : wasm_url, 3, v))
		return false;
	cs->build_target = v[2].present ? v[2].s : "wasm32-wasip1";
	if (cs->github) {
		cs->repo = normalise ? coord_repo_normalise(&r->arena, v[0].s) : v[0].s;
		cs->commit = v[1].s;
		coord_wasm_checksum_github(cs->repo, cs->commit, cs->build_target, cs->checksum);
		return true;
	}
	cs->url = v[0].s;
	cs->hash = v[1].s;
	if (!coord_hex_valid(cs->hash, v[1].len, 64)) {
		coord_reply_field_error(r, "code_source.hash", "format", "Expected 64 hex characters");
		return false;
	}
	coord_wasm_checksum_url(cs->hash, cs->checksum);
	return true;
}

bool worker_resource_limits(struct coord_req *r, json_object *obj, int64_t *max_instructions,
			    int64_t *max_memory_mb, int64_t *max_execution_seconds)
{
	static const struct coord_field fields[] = {
		{ "max_instructions", COORD_FT_INT, true, 0, INT64_MAX, NULL },
		{ "max_memory_mb", COORD_FT_INT, true, 0, UINT32_MAX, NULL },
		{ "max_execution_seconds", COORD_FT_INT, true, 0, INT64_MAX, NULL },
	};
	struct coord_value v[3];
	if (!coord_req_json_object(r, obj, "resource_limits", fields, 3, v))
		return false;
	*max_instructions = v[0].i;
	*max_memory_mb = v[1].i;
	*max_execution_seconds = v[2].i;
	return true;
}

bool worker_tee_session_present(struct coord_req *r, int status)
{
	bool valid;
	enum coord_err e = coord_tee_session_valid(r->db, coord_req_getparam(r, "HTTP_X_TEE_SESSION"),
						   r->token_hash, &valid);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return false;
	}
	if (!valid)
		coord_reply_error(r, status, "tee_session_required", "A valid TEE session is required");
	return valid;
}
