/* POST /attestations and GET /attestations/:job_id of public.fcgi (SPEC §3.4.6). */
#include <string.h>

#include "attestations.h"
#include "coord_attest.h"
#include "coord_codec.h"
#include "coord_crypto.h"
#include "coord_parse.h"
#include "banned.h"

enum { TASK, TYPE, QUOTE, RID, HEIGHT, CALLER, TX, CALL, OWNER, NONCE, REPO, COMMIT, TARGET,
       WASM, INPUT, OUTPUT, PROJECT, SECRETS, USD, TS, NFIELDS };

/* Bounds of the string fields, checked as attestation rules (400), not shapes. */
static const size_t max_len[NFIELDS] = {
	[CALLER] = 64, [TX] = 64, [OWNER] = 64, [REPO] = 512, [COMMIT] = 64, [TARGET] = 64,
};

static bool invalid(struct coord_req *r, const char *message)
{
	coord_reply_error(r, 400, "invalid_attestation", message);
	return false;
}

static const char *opt(const struct coord_value *v)
{
	return v->present ? v->s : NULL;
}

/* The attestation rules of SPEC §3.4.6; false after replying 400. */
static bool check_rules(struct coord_req *r, const struct coord_value *v, struct coord_attestation *a)
{
	static const int hashes[] = { WASM, INPUT, OUTPUT };
	if (v[RID].present && v[RID].i < 0)
		return invalid(r, "request_id must be >= 0");
	if (v[HEIGHT].present && v[HEIGHT].i < 0)
		return invalid(r, "block_height must be >= 0");
	for (int i = 0; i < NFIELDS; i++)
		if (max_len[i] && v[i].present && coord_utf8_chars(v[i].s, v[i].len) > max_len[i])
			return invalid(r, "A string field is too long");
	if (v[CALL].present && !coord_uuid_valid(v[CALL].s, v[CALL].len))
		return invalid(r, "call_id must be a UUID");
	if (a->task_id >= 0) {
		if (strcmp(a->task_type, "execute") == 0 && !v[INPUT].present)
			return invalid(r, "An execute attestation needs input_hash");
		for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
			if (v[hashes[i]].present && coord_utf8_chars(v[hashes[i]].s, v[hashes[i]].len) != 64)
				return invalid(r, "Hashes must be 64 characters");
	}
	size_t qlen = v[QUOTE].len, got;
	unsigned char *quote = coord_arena_alloc(&r->arena, qlen / 4 * 3 + 1);
	if (coord_base64_decode(v[QUOTE].s, qlen, quote, &got) != COORD_OK)
		return invalid(r, "tdx_quote must be base64 (RFC 4648, padded, no whitespace)");
	if (got < COORD_QUOTE_MIN_BYTES)
		return invalid(r, "tdx_quote is shorter than 568 bytes");
	coord_hex_encode(quote + 520, 48, a->worker_measurement);
	return true;
}

void attestations_post(struct coord_req *r)
{
	static const char *const types[] = { "compile", "execute", "topup", NULL };
	static const struct coord_field fields[NFIELDS] = {
		[TASK] = { "task_id", COORD_FT_INT, true, INT64_MIN, INT64_MAX, NULL },
		[TYPE] = { "task_type", COORD_FT_STRING, true, 0, 0, types },
		[QUOTE] = { "tdx_quote", COORD_FT_STRING, true, 0, 0, NULL },
		[RID] = { "request_id", COORD_FT_INT, false, INT64_MIN, INT64_MAX, NULL },
		[HEIGHT] = { "block_height", COORD_FT_INT, false, INT64_MIN, INT64_MAX, NULL },
		[CALLER] = { "caller_account_id", COORD_FT_STRING, false, 0, 0, NULL },
		[TX] = { "transaction_hash", COORD_FT_STRING, false, 0, 0, NULL },
		[CALL] = { "call_id", COORD_FT_STRING, false, 0, 0, NULL },
		[OWNER] = { "payment_key_owner", COORD_FT_STRING, false, 0, 0, NULL },
		[NONCE] = { "payment_key_nonce", COORD_FT_INT, false, 0, UINT32_MAX, NULL },
		[REPO] = { "repo_url", COORD_FT_STRING, false, 0, 0, NULL },
		[COMMIT] = { "commit_hash", COORD_FT_STRING, false, 0, 0, NULL },
		[TARGET] = { "build_target", COORD_FT_STRING, false, 0, 0, NULL },
		[WASM] = { "wasm_hash", COORD_FT_STRING, false, 0, 0, NULL },
		[INPUT] = { "input_hash", COORD_FT_STRING, false, 0, 0, NULL },
		[OUTPUT] = { "output_hash", COORD_FT_STRING, true, 0, 0, NULL },
		[PROJECT] = { "project_id", COORD_FT_STRING, false, 0, 0, NULL },
		[SECRETS] = { "secrets_ref", COORD_FT_STRING, false, 0, 0, NULL },
		[USD] = { "attached_usd", COORD_FT_STRING, false, 0, 0, NULL },
		[TS] = { "timestamp", COORD_FT_INT, false, 0, 253402300799, NULL },
	};
	struct coord_value v[NFIELDS];
	struct coord_attestation a;

	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	memset(&a, 0, sizeof(a));
	a.task_id = v[TASK].i;
	a.task_type = v[TYPE].s;
	if (!check_rules(r, v, &a) || !coord_req_db(r))
		return;
	a.tdx_quote_b64 = v[QUOTE].s;
	a.has_request_id = v[RID].present;
	a.request_id = v[RID].i;
	a.has_block_height = v[HEIGHT].present;
	a.block_height = v[HEIGHT].i;
	a.has_nonce = v[NONCE].present;
	a.payment_key_nonce = v[NONCE].i;
	a.has_timestamp = v[TS].present;
	a.timestamp = v[TS].i;
	a.caller_account_id = opt(&v[CALLER]);
	a.transaction_hash = opt(&v[TX]);
	a.call_id = opt(&v[CALL]);
	a.payment_key_owner = opt(&v[OWNER]);
	a.repo_url = opt(&v[REPO]);
	a.commit_hash = opt(&v[COMMIT]);
	a.build_target = opt(&v[TARGET]);
	a.wasm_hash = opt(&v[WASM]);
	a.input_hash = opt(&v[INPUT]);
	a.output_hash = v[OUTPUT].s;
	a.project_id = opt(&v[PROJECT]);
	a.secrets_ref = opt(&v[SECRETS]);
	a.attached_usd = opt(&v[USD]);
	a.token_hash = r->token_hash;
	enum coord_err e = coord_attest_insert(r->db, &a);
	if (e == COORD_ERR_CONFLICT)
		coord_reply_error(r, 400, "invalid_attestation", "Attestation refused by the data rules");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_empty(r, 201);
}

void attestations_get(struct coord_req *r)
{
	int64_t task_id;
	json_object *o;
	if (coord_parse_i64(r->params[0], r->param_len[0], INT64_MIN, INT64_MAX, &task_id) != COORD_OK) {
		coord_reply_error(r, 400, "invalid_parameter", "job_id must be an integer");
		return;
	}
	if (!coord_req_db(r))
		return;
	enum coord_err e = coord_attest_get(r->db, task_id, &o);
	if (e == COORD_ERR_NOT_FOUND)
		coord_reply_error(r, 404, "attestation_not_found", "No attestation for this task");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_json(r, 200, o);
}
