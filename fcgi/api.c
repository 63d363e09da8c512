/*
 * api.fcgi: paying HTTPS clients (SPEC §3.3). Every route is in the IP
 * rate-limit class api, answers CORS for any origin, and authenticates with
 * X-Payment-Key as a route step (after the body, SPEC §0.3).
 */
#include <stdio.h>
#include <string.h>

#include "coord_billing.h"
#include "coord_callreq.h"
#include "coord_http.h"
#include "coord_idem.h"
#include "coord_log.h"
#include "coord_paykeys.h"
#include "coord_projects.h"
#include "banned.h"

#define API (COORD_RF_RL_API | COORD_RF_CORS_ANY)

/* Step 1 of §3.3.1 (and of §3.3.2, §3.3.3): false after replying 401/400. */
static bool payment_key_parse(struct coord_req *r, struct coord_paykey_header *k)
{
	const char *v = coord_req_getparam(r, "HTTP_X_PAYMENT_KEY");
	if (!v) {
		coord_reply_error(r, 401, "missing_payment_key", "X-Payment-Key header is required");
		return false;
	}
	if (coord_callreq_payment_key(v, strlen(v), k) != COORD_OK) {
		coord_reply_error(r, 400, "invalid_payment_key_format",
				  "X-Payment-Key must be owner:nonce:secret (secret: 64 hex characters)");
		return false;
	}
	return true;
}

/* The verified key, named in the request's log line (and the key rate-limit class's subject). */
static void payment_key_verified(struct coord_req *r, const struct coord_paykey_header *k)
{
	r->payment_key_log = coord_arena_printf(&r->arena, "%s:%lld", k->owner, (long long)k->nonce);
}

/* Full verification (§1.6); false after replying 401 or a backend error. */
static bool payment_key_verify(struct coord_req *r, const struct coord_paykey_header *k,
			       const char *project_id, const char *amount,
			       struct coord_paykey_auth *auth)
{
	if (!coord_req_db(r))
		return false;
	enum coord_err e = coord_paykeys_verify(r->db, k->owner, k->nonce, k->secret_hash, project_id,
						amount, auth);
	if (e == COORD_ERR_NOT_FOUND) {
		coord_reply_error(r, 401, "invalid_payment_key", "Invalid payment key");
		return false;
	}
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return false;
	}
	payment_key_verified(r, k);
	return true;
}

/* ---- POST /call/:owner/:project ---- */

struct call_ctx {
	struct coord_paykey_header key;
	const char *idem_key; /* the in-flight record this request owns, or NULL */
};

/* Sends a JSON body and, when the request owns an idempotency record, stores it. */
static void reply_stored(struct coord_req *r, struct call_ctx *c, int status, json_object *body)
{
	size_t len;
	const char *text = coord_json_text(body, &len);
	if (c->idem_key) {
		enum coord_err e = coord_idem_store(r->db, c->key.owner, c->key.nonce, c->idem_key,
						    status, "application/json", text, len);
		if (e != COORD_OK)
			coord_log(COORD_LOG_WARN, "api: idempotent response not stored (%d)", (int)e);
	}
	coord_reply_text(r, status, "application/json", text, len);
	json_object_put(body);
}

/* A failure before the call exists: the in-flight record goes, so a corrected retry may reuse the key. */
static void forget_idem(struct coord_req *r, struct call_ctx *c)
{
	if (c->idem_key)
		coord_idem_forget(r->db, c->key.owner, c->key.nonce, c->idem_key);
	c->idem_key = NULL;
}

static json_object *async_shape(const char *call_id)
{
	json_object *o = json_object_new_object();
	char url[64];
	snprintf(url, sizeof(url), "/calls/%s", call_id);
	json_object_object_add(o, "call_id", json_object_new_string(call_id));
	json_object_object_add(o, "status", json_object_new_string("pending"));
	json_object_object_add(o, "poll_url", json_object_new_string(url));
	return o;
}

/* Step 15 after the wait: the result, or the expiry and 504. */
static void answer_sync(struct coord_req *r, struct call_ctx *c, const char *call_id,
			int64_t deadline)
{
	json_object *result = NULL;
	bool pending;
	enum coord_err e = coord_billing_call_wait(r->db, r->redis, call_id, deadline,
						   coord_shutting_down, &result, &pending);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	if (!pending) {
		reply_stored(r, c, 200, result);
		return;
	}
	if (coord_shutting_down() && coord_monotonic_ms() < deadline) {
		reply_stored(r, c, 200, async_shape(call_id)); /* SPEC §0.4 */
		return;
	}
	static const struct coord_settlement timeout = { .outcome = COORD_OUTCOME_TIMEOUT };
	bool finalized;
	e = coord_billing_settle(r->db, r->redis, r->cfg, call_id, &timeout, &finalized);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	if (finalized) {
		json_object *o = json_object_new_object();
		json_object *d = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string("timeout"));
		json_object_object_add(o, "message", json_object_new_string("Timeout waiting for result"));
		json_object_object_add(d, "call_id", json_object_new_string(call_id));
		json_object_object_add(o, "details", d);
		reply_stored(r, c, 504, o);
		return;
	}
	/* a completion won the race */
	e = coord_billing_call_result(r->db, call_id, NULL, 0, &result, &pending);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		reply_stored(r, c, 200, result);
}

/* §4.6 for this request; false after answering (400, replay, 422, 409). */
static bool idempotency(struct coord_req *r, struct call_ctx *c, const char *project_path,
			const char *compute_limit, const char *deposit, const char *wallet)
{
	const char *raw = coord_req_getparam(r, "HTTP_IDEMPOTENCY_KEY");
	if (!raw)
		return true;
	char *key = coord_arena_alloc(&r->arena, 256);
	if (coord_callreq_idem_key(raw, strlen(raw), key) != COORD_OK) {
		coord_reply_error(r, 400, "invalid_idempotency_key",
				  "Idempotency-Key must be 1-255 visible ASCII characters");
		return false;
	}
	char fp[65];
	coord_idem_fingerprint(project_path, compute_limit, deposit, wallet, r->body ? r->body : "",
			       r->body_len, fp);
	struct coord_idem_hit hit;
	enum coord_err e = coord_idem_begin(r->db, r->cfg, c->key.owner, c->key.nonce, key, fp,
					    &r->arena, &hit);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return false;
	}
	switch (hit.state) {
	case COORD_IDEM_PROCEED:
		c->idem_key = key;
		return true;
	case COORD_IDEM_REUSED:
		coord_reply_error(r, 422, "idempotency_key_reused",
				  "Idempotency-Key was used with a different request");
		return false;
	case COORD_IDEM_IN_FLIGHT:
		coord_reply_error(r, 409, "idempotency_key_in_flight",
				  "A request with this Idempotency-Key is still being processed");
		return false;
	case COORD_IDEM_ORPHAN: {
		json_object *result;
		bool pending;
		e = coord_billing_call_result(r->db, hit.call_id, NULL, 0, &result, &pending);
		if (e != COORD_OK) {
			coord_reply_backend_error(r, e);
			return false;
		}
		if (pending) {
			json_object_put(result);
			result = async_shape(hit.call_id);
		}
		c->idem_key = key;
		coord_reply_header(r, "Idempotent-Replayed", "true");
		reply_stored(r, c, 200, result);
		return false;
	}
	case COORD_IDEM_REPLAY:
		coord_reply_header(r, "Idempotent-Replayed", "true");
		coord_reply_text(r, hit.status, hit.content_type, hit.body, hit.body_len);
		return false;
	}
	return true;
}

static void api_call(struct coord_req *r)
{
	/* input is any JSON, null included, but must be present: read on its own below */
	enum { LIMITS, ASYNC, SECRETS, VKEY, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[LIMITS] = { "resource_limits", COORD_FT_OBJECT, false, 0, 0, NULL },
		[ASYNC] = { "async", COORD_FT_BOOL, false, 0, 0, NULL },
		[SECRETS] = { "secrets_ref", COORD_FT_OBJECT, false, 0, 0, NULL },
		[VKEY] = { "version_key", COORD_FT_STRING, false, 1, 256, NULL },
	};
	enum { MI, MM, MS, NLIMITS };
	static const struct coord_field limit_fields[NLIMITS] = {
		[MI] = { "max_instructions", COORD_FT_INT, false, 0, INT64_MAX, NULL },
		[MM] = { "max_memory_mb", COORD_FT_INT, false, 0, 4294967295LL, NULL },
		[MS] = { "max_execution_seconds", COORD_FT_INT, false, 0, INT64_MAX, NULL },
	};
	enum { PROFILE, ACCOUNT, NSECRETS };
	static const struct coord_field secret_fields[NSECRETS] = {
		[PROFILE] = { "profile", COORD_FT_STRING, true, 1, 256, NULL },
		[ACCOUNT] = { "account_id", COORD_FT_STRING, true, 1, 256, NULL },
	};
	struct coord_value v[NFIELDS], lv[NLIMITS], sv[NSECRETS];
	struct call_ctx c = { 0 };
	struct coord_paykey_auth auth;
	char cl[39], dep[39], reserve[40];

	/* path parameters */
	const char *owner = r->params[0], *project = r->params[1];
	size_t ochars = coord_utf8_chars(owner, r->param_len[0]);
	size_t pchars = coord_utf8_chars(project, r->param_len[1]);
	const char *project_id = coord_arena_printf(&r->arena, "%s/%s", owner, project);
	if (ochars < 1 || ochars > 64 || pchars < 1 || pchars > 128 ||
	    !coord_project_id_valid(project_id)) {
		coord_reply_error(r, 400, "invalid_parameter",
				  "owner must have 1-64 and project 1-128 characters");
		return;
	}

	/* the body */
	json_object *input = NULL;
	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	if (!json_object_object_get_ex(r->json, "input", &input)) {
		coord_reply_field_error(r, "input", "missing", "input is required");
		return;
	}
	int64_t max_instructions = 10000000000LL, max_memory_mb = 128, max_execution_seconds = 60;
	if (v[LIMITS].present) {
		if (!coord_req_json_object(r, v[LIMITS].obj, "resource_limits", limit_fields, NLIMITS, lv))
			return;
		if (lv[MI].present)
			max_instructions = lv[MI].i;
		if (lv[MM].present)
			max_memory_mb = lv[MM].i;
		if (lv[MS].present)
			max_execution_seconds = lv[MS].i;
	}
	if (v[SECRETS].present &&
	    !coord_req_json_object(r, v[SECRETS].obj, "secrets_ref", secret_fields, NSECRETS, sv))
		return;

	/* 1. payment key format */
	if (!payment_key_parse(r, &c.key))
		return;
	/* 2. wallet id */
	const char *wallet = coord_req_getparam(r, "HTTP_X_WALLET_ID");
	if (wallet && !coord_callreq_wallet_id(wallet, strlen(wallet))) {
		coord_reply_error(r, 400, "invalid_wallet_id",
				  "X-Wallet-Id must be ed25519:<base58> or secp256k1:<base58>");
		return;
	}
	/* 3. money headers and their sum */
	const char *hcl = coord_req_getparam(r, "HTTP_X_COMPUTE_LIMIT");
	const char *hdep = coord_req_getparam(r, "HTTP_X_ATTACHED_DEPOSIT");
	if (coord_callreq_money(hcl ? hcl : r->cfg->default_compute_limit,
				hcl ? strlen(hcl) : strlen(r->cfg->default_compute_limit), cl) != COORD_OK ||
	    coord_callreq_money(hdep ? hdep : "0", hdep ? strlen(hdep) : 1, dep) != COORD_OK) {
		coord_reply_error(r, 400, "invalid_parameter",
				  "X-Compute-Limit and X-Attached-Deposit must be decimal money strings");
		return;
	}
	if (!coord_callreq_money_add(cl, dep, reserve)) {
		coord_reply_error(r, 400, "invalid_parameter",
				  "X-Compute-Limit + X-Attached-Deposit must stay below 10^38");
		return;
	}
	/* 4. the lowest compute limit */
	const char *min = r->cfg->min_compute_limit;
	if (coord_money_cmp(cl, strlen(cl), min, strlen(min)) < 0) {
		char msg[128];
		char mincanon[39];
		coord_money_canonical(min, strlen(min), mincanon);
		snprintf(msg, sizeof(msg), "Compute limit too low: min=%s, provided=%s", mincanon, cl);
		coord_reply_error(r, 400, "compute_limit_too_low", msg);
		return;
	}
	/* 5. verification */
	if (!payment_key_verify(r, &c.key, project_id, reserve, &auth))
		return;
	/* 6. the per-key rate limit */
	if (!coord_req_rate_limit(r, COORD_RL_KEY, r->payment_key_log))
		return;
	/* 7. Idempotency-Key; the fingerprint names the decoded path */
	const char *decoded_path = coord_arena_printf(&r->arena, "/call/%s/%s", owner, project);
	if (!idempotency(r, &c, decoded_path, cl, dep, wallet))
		return;
	/* 8. projects of the key */
	if (!auth.project_allowed) {
		forget_idem(r, &c);
		coord_reply_error(r, 403, "project_not_allowed",
				  "This payment key is not allowed to call this project");
		return;
	}
	/* 9. grant keys carry no deposit */
	if (auth.is_grant && strcmp(dep, "0") != 0) {
		forget_idem(r, &c);
		coord_reply_error(r, 403, "grant_key_deposit_forbidden",
				  "Grant keys cannot attach a deposit");
		return;
	}
	/* 10. max_per_call */
	if (auth.over_max_per_call) {
		char msg[160];
		forget_idem(r, &c);
		snprintf(msg, sizeof(msg), "Max per call exceeded: max=%s, requested=%s", auth.max_per_call,
			 reserve);
		coord_reply_error(r, 400, "max_per_call_exceeded", msg);
		return;
	}
	/* 11. the project's uuid */
	struct coord_project proj;
	enum coord_err e = coord_project_resolve(r->db, r->redis, r->cfg, project_id, true, &r->arena,
						 &proj);
	if (e != COORD_OK) {
		forget_idem(r, &c);
		if (e == COORD_ERR_NOT_FOUND)
			coord_reply_error(r, 404, "project_not_found", "Project not found");
		else if (e == COORD_ERR_UPSTREAM)
			coord_reply_error(r, 502, "upstream_error", "Project lookup on NEAR failed");
		else
			coord_reply_backend_error(r, e);
		return;
	}
	/* 12 and 13. reserve, create, push */
	struct coord_call_new n = {
		.owner = c.key.owner,
		.nonce = c.key.nonce,
		.project_id = project_id,
		.project_uuid = proj.uuid,
		.version_key = v[VKEY].present ? v[VKEY].s : NULL,
		.wallet_id = wallet,
		.compute_limit = cl,
		.deposit = dep,
		.reserve = reserve,
		.input_json = coord_json_text(input, NULL),
		.is_async = v[ASYNC].present && v[ASYNC].b,
		.max_instructions = max_instructions,
		.max_memory_mb = max_memory_mb,
		.max_execution_seconds = max_execution_seconds,
		.secrets_profile = v[SECRETS].present ? sv[PROFILE].s : NULL,
		.secrets_account_id = v[SECRETS].present ? sv[ACCOUNT].s : NULL,
		.idem_key = c.idem_key,
	};
	char call_id[COORD_CALL_ID_LEN + 1], available[40];
	bool insufficient;
	e = coord_billing_call_create(r->db, r->redis, r->cfg, &n, call_id, &insufficient, available);
	int64_t deadline = coord_monotonic_ms() + r->cfg->https_call_timeout_seconds * 1000;
	if (e != COORD_OK || insufficient) {
		forget_idem(r, &c);
		if (insufficient) {
			char msg[160];
			snprintf(msg, sizeof(msg), "Insufficient balance: available=%s, required=%s",
				 available, reserve);
			coord_reply_error(r, 402, "insufficient_balance", msg);
		} else if (e == COORD_ERR_NOT_FOUND) {
			coord_reply_error(r, 401, "invalid_payment_key", "Invalid payment key");
		} else {
			coord_reply_backend_error(r, e);
		}
		return;
	}
	/* 14. asynchronous */
	if (n.is_async) {
		reply_stored(r, &c, 200, async_shape(call_id));
		return;
	}
	/* 15. synchronous */
	answer_sync(r, &c, call_id, deadline);
}

/* ---- GET /calls/:call_id ---- */

static void api_call_get(struct coord_req *r)
{
	struct coord_paykey_header k;
	struct coord_paykey_auth auth;
	const char *id = r->params[0];
	if (!coord_uuid_valid(id, r->param_len[0])) {
		coord_reply_error(r, 400, "invalid_parameter", "call_id must be a UUID");
		return;
	}
	if (!payment_key_parse(r, &k) || !payment_key_verify(r, &k, NULL, NULL, &auth))
		return;
	char lower[COORD_CALL_ID_LEN + 1];
	for (size_t i = 0; i <= COORD_CALL_ID_LEN; i++)
		lower[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] + 32 : id[i]);
	json_object *out;
	bool pending;
	enum coord_err e = coord_billing_call_result(r->db, lower, k.owner, k.nonce, &out, &pending);
	if (e == COORD_ERR_NOT_FOUND)
		coord_reply_error(r, 404, "call_not_found", "Call not found");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_json(r, 200, out);
}

/* ---- GET /payment-keys/balance ---- */

static void api_balance(struct coord_req *r)
{
	struct coord_paykey_header k;
	if (!payment_key_parse(r, &k) || !coord_req_db(r))
		return;
	/* the key is verified by the statement that reads its balance: one round trip */
	json_object *out;
	enum coord_err e = coord_paykeys_balance(r->db, k.owner, k.nonce, k.secret_hash, &out);
	if (e == COORD_ERR_NOT_FOUND) {
		coord_reply_error(r, 401, "invalid_payment_key", "Invalid payment key");
	} else if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
	} else {
		payment_key_verified(r, &k);
		coord_reply_json(r, 200, out);
	}
}

static const struct coord_route routes[] = {
	{ "POST", "/call/:owner/:project", api_call, API | COORD_RF_BIG_BODY },
	{ "GET", "/calls/:call_id", api_call_get, API },
	{ "GET", "/payment-keys/balance", api_balance, API },
};

static const struct coord_program program = {
	.group = "api",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.cors_any = true,
};

int main(int argc, char **argv)
{
	return coord_serve(&program, argc, argv);
}
