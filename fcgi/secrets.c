/*
 * secrets.fcgi: the keystore proxy (SPEC §3.6). Each route checks its body,
 * derives the seed of its accessor, calls the keystore (10 s) and maps the
 * answer: a 4xx is passed on as keystore_rejected, every other failure is
 * 502 upstream_error. Neither secrets nor the keystore token are logged.
 */
#include <stdio.h>
#include <string.h>

#include "coord_http.h"
#include "coord_keystore.h"
#include "coord_parse.h"
#include "coord_secrets.h"
#include "banned.h"

#define KEYSTORE_TIMEOUT_MS 10000
#define REJECT_TEXT_MAX 1024

/* 503 keystore_not_configured, after every body check of the route; false after replying. */
static bool keystore_configured(struct coord_req *r)
{
	if (r->cfg->keystore_base_url)
		return true;
	coord_reply_error(r, 503, "keystore_not_configured", "Keystore is not configured");
	return false;
}

/* At most max bytes of text as a valid UTF-8 string (invalid bytes become '?'). */
static json_object *text_excerpt(const char *s, size_t len, size_t max)
{
	struct coord_buf b = COORD_BUF_INIT;
	size_t i = 0;
	while (i < len && b.len < max) {
		size_t n = 1;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0xC0)
			n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
		if (i + n > len || b.len + n > max || !coord_utf8_valid(s + i, n) || c == 0) {
			if (b.len + 1 > max)
				break;
			coord_buf_addch(&b, '?');
			i++;
			continue;
		}
		coord_buf_add(&b, s + i, n);
		i += n;
	}
	json_object *o = json_object_new_string_len(coord_buf_str(&b), (int)b.len);
	coord_buf_release(&b);
	return o;
}

/* A keystore 4xx, passed on with its status (SPEC §3.6). */
static void reply_rejected(struct coord_req *r, const struct coord_keystore_answer *a)
{
	struct coord_json_problem p;
	json_object *body = coord_json_parse(coord_buf_str(&a->body), a->body.len, &p), *err;
	json_object *details = NULL, *message;
	if (body && json_object_is_type(body, json_type_object)) {
		details = body;
		body = NULL;
	}
	if (details && json_object_object_get_ex(details, "error", &err) &&
	    json_object_is_type(err, json_type_string))
		message = json_object_get(err);
	else if (a->body.len)
		message = text_excerpt(coord_buf_str(&a->body), a->body.len, REJECT_TEXT_MAX);
	else
		message = json_object_new_string("Keystore rejected the request");
	json_object_put(body);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string("keystore_rejected"));
	json_object_object_add(o, "message", message);
	if (details)
		json_object_object_add(o, "details", details);
	coord_reply_json(r, (int)a->status, o);
}

/*
 * POSTs body to the keystore's path and checks the answer: true with the
 * 2xx answer in *a and its parse in *json (NULL when verbatim: the caller
 * only needs it to be JSON). False after replying 4xx keystore_rejected or
 * 502 upstream_error; *a is released then.
 */
static bool keystore_post(struct coord_req *r, const char *path, const char *body, size_t len,
			  bool bearer, struct coord_keystore_answer *a, json_object **json)
{
	struct coord_json_problem p;
	char err[256], msg[320];

	if (json)
		*json = NULL;
	if (coord_keystore_call(r->cfg, path, body, len, bearer, KEYSTORE_TIMEOUT_MS, a, err,
				sizeof(err)) != COORD_OK) {
		snprintf(msg, sizeof(msg), "Keystore request failed: %s", err);
		coord_reply_error(r, 502, "upstream_error", msg);
		return false;
	}
	if (a->status >= 400 && a->status <= 499) {
		reply_rejected(r, a);
		coord_buf_release(&a->body);
		return false;
	}
	msg[0] = '\0';
	if (a->status < 200 || a->status > 299)
		snprintf(msg, sizeof(msg), "Keystore answered HTTP %ld", a->status);
	else if (json && !(*json = coord_json_parse(coord_buf_str(&a->body), a->body.len, &p)))
		snprintf(msg, sizeof(msg), "Keystore answered with invalid JSON");
	else if (!json && !coord_json_syntax_ok(coord_buf_str(&a->body), a->body.len))
		snprintf(msg, sizeof(msg), "Keystore answered with invalid JSON");
	if (!msg[0])
		return true;
	coord_reply_error(r, 502, "upstream_error", msg);
	coord_buf_release(&a->body);
	return false;
}

/* The keystore answer lacked a member the route returns. */
static void reply_incomplete(struct coord_req *r, const char *what)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "Keystore answer lacks %s", what);
	coord_reply_error(r, 502, "upstream_error", msg);
}

/* The accessor of a pubkey or add_generated_secret body; false after replying 422. */
static bool read_accessor(struct coord_req *r, json_object *obj, const struct coord_value *profile,
			  struct coord_accessor *acc, const char **why)
{
	struct coord_json_problem p;
	enum coord_err e = coord_accessor_parse(obj, "accessor", profile->present ? profile->s : NULL,
						true, &r->arena, acc, &p, why);
	if (e == COORD_ERR_INVALID) {
		coord_reply_field_error(r, p.field, p.reason, p.message);
		return false;
	}
	return true;
}

/* The 400 checks shared by pubkey and add_generated_secret, in order; false after replying. */
static bool owner_and_accessor_valid(struct coord_req *r, const struct coord_value *owner,
				     const char *accessor_problem)
{
	if (owner->len == 0) {
		coord_reply_error(r, 400, "invalid_request", "owner must not be empty");
		return false;
	}
	if (accessor_problem) {
		coord_reply_error(r, 400, "invalid_request", accessor_problem);
		return false;
	}
	return true;
}

static void secrets_pubkey(struct coord_req *r)
{
	enum { ACCESSOR, OWNER, PROFILE, SECRETS, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[ACCESSOR] = { "accessor", COORD_FT_OBJECT, true, 0, 0, NULL },
		[OWNER] = { "owner", COORD_FT_STRING, true, 0, 0, NULL },
		[PROFILE] = { "profile", COORD_FT_STRING, false, 0, 0, NULL },
		[SECRETS] = { "secrets_json", COORD_FT_STRING, true, 0, 0, NULL },
	};
	struct coord_value v[NFIELDS];
	struct coord_accessor acc;
	struct coord_keystore_answer a;
	json_object *answer, *pubkey;
	const char *why;

	if (!coord_req_json(r, fields, NFIELDS, v) ||
	    !read_accessor(r, v[ACCESSOR].obj, &v[PROFILE], &acc, &why) ||
	    !owner_and_accessor_valid(r, &v[OWNER], why) || !keystore_configured(r))
		return;
	json_object *req = json_object_new_object();
	json_object_object_add(req, "seed",
			       json_object_new_string(coord_accessor_seed(&acc, v[OWNER].s, &r->arena)));
	json_object_object_add(req, "secrets_json", json_object_get(v[SECRETS].obj));
	size_t len;
	const char *text = coord_json_text(req, &len);
	bool ok = keystore_post(r, "/pubkey", text, len, false, &a, &answer);
	json_object_put(req);
	if (!ok)
		return;
	if (!json_object_is_type(answer, json_type_object) ||
	    !json_object_object_get_ex(answer, "pubkey", &pubkey) ||
	    !json_object_is_type(pubkey, json_type_string)) {
		reply_incomplete(r, "a string pubkey");
	} else {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "accessor", coord_accessor_echo(&acc));
		json_object_object_add(o, "owner", json_object_get(v[OWNER].obj));
		json_object_object_add(o, "pubkey", json_object_get(pubkey));
		coord_reply_json(r, 200, o);
	}
	json_object_put(answer);
	coord_buf_release(&a.body);
}

/* new_secrets: a non-empty array of {"name":str,"generation_type":str}; false after replying. */
static bool new_secrets_valid(struct coord_req *r, json_object *list)
{
	static const struct coord_field item[] = {
		{ "name", COORD_FT_STRING, true, 0, 0, NULL },
		{ "generation_type", COORD_FT_STRING, true, 0, 0, NULL },
	};
	struct coord_value v[2];
	size_t n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		char path[48];
		snprintf(path, sizeof(path), "new_secrets[%zu]", i);
		if (!coord_req_json_object(r, json_object_array_get_idx(list, i), path, item, 2, v))
			return false;
	}
	return true;
}

/* every element of arr is a string */
static bool all_strings(json_object *arr)
{
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(arr, i), json_type_string))
			return false;
	return true;
}

static void secrets_add_generated(struct coord_req *r)
{
	enum { ACCESSOR, OWNER, PROFILE, ENCRYPTED, NEW, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[ACCESSOR] = { "accessor", COORD_FT_OBJECT, true, 0, 0, NULL },
		[OWNER] = { "owner", COORD_FT_STRING, true, 0, 0, NULL },
		[PROFILE] = { "profile", COORD_FT_STRING, false, 0, 0, NULL },
		[ENCRYPTED] = { "encrypted_secrets_base64", COORD_FT_STRING, false, 0, 0, NULL },
		[NEW] = { "new_secrets", COORD_FT_ARRAY, true, 0, 0, NULL },
	};
	struct coord_value v[NFIELDS];
	struct coord_accessor acc;
	struct coord_keystore_answer a;
	json_object *answer, *data, *keys;
	const char *why;

	if (!coord_req_json(r, fields, NFIELDS, v) || !new_secrets_valid(r, v[NEW].obj) ||
	    !read_accessor(r, v[ACCESSOR].obj, &v[PROFILE], &acc, &why) ||
	    !owner_and_accessor_valid(r, &v[OWNER], why))
		return;
	if (json_object_array_length(v[NEW].obj) == 0) {
		coord_reply_error(r, 400, "invalid_request", "new_secrets must not be empty");
		return;
	}
	if (!keystore_configured(r))
		return;
	json_object *req = json_object_new_object();
	json_object_object_add(req, "seed",
			       json_object_new_string(coord_accessor_seed(&acc, v[OWNER].s, &r->arena)));
	json_object_object_add(req, "encrypted_secrets_base64",
			       v[ENCRYPTED].present ? json_object_get(v[ENCRYPTED].obj) : NULL);
	json_object_object_add(req, "new_secrets", json_object_get(v[NEW].obj));
	size_t len;
	const char *text = coord_json_text(req, &len);
	bool ok = keystore_post(r, "/add_generated_secret", text, len, true, &a, &answer);
	json_object_put(req);
	if (!ok)
		return;
	if (!json_object_is_type(answer, json_type_object) ||
	    !json_object_object_get_ex(answer, "encrypted_data_base64", &data) ||
	    !json_object_is_type(data, json_type_string) ||
	    !json_object_object_get_ex(answer, "all_keys", &keys) ||
	    !json_object_is_type(keys, json_type_array) || !all_strings(keys)) {
		reply_incomplete(r, "encrypted_data_base64 or all_keys");
	} else {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "encrypted_data_base64", json_object_get(data));
		json_object_object_add(o, "all_keys", json_object_get(keys));
		json_object_object_add(o, "accessor", coord_accessor_echo(&acc));
		coord_reply_json(r, 200, o);
	}
	json_object_put(answer);
	coord_buf_release(&a.body);
}

/* A member of update_user_secrets that must be a non-empty string (nonce: or a number). */
static bool nonempty_member(json_object *body, const char *name, bool number_ok)
{
	json_object *m;
	if (!json_object_object_get_ex(body, name, &m) || !m)
		return false;
	if (number_ok && (json_object_is_type(m, json_type_int) ||
			  json_object_is_type(m, json_type_double)))
		return true;
	return json_object_is_type(m, json_type_string) && json_object_get_string_len(m) > 0;
}

/* An accessor of update_user_secrets: every problem is a 400 there. */
static bool update_accessor_valid(struct coord_req *r, const char *name)
{
	struct coord_accessor acc;
	struct coord_json_problem p;
	const char *why;
	char msg[400];
	json_object *m = NULL;
	json_object_object_get_ex(r->json, name, &m);
	enum coord_err e = coord_accessor_parse(m, name, NULL, false, &r->arena, &acc, &p, &why);
	if (e == COORD_OK)
		return true;
	if (e == COORD_ERR_INVALID) {
		snprintf(msg, sizeof(msg), "%s: %s", p.field, p.message);
		why = msg;
	}
	coord_reply_error(r, 400, "invalid_request", why);
	return false;
}

static void secrets_update_user_secrets(struct coord_req *r)
{
	static const char *const required[] = { "signature", "public_key", "nonce",
						 "signed_message" };
	struct coord_keystore_answer a;
	char msg[96];

	if (!coord_req_json(r, NULL, 0, NULL))
		return;
	if (!nonempty_member(r->json, "owner", false) || !nonempty_member(r->json, "profile", false)) {
		coord_reply_error(r, 400, "invalid_request",
				  nonempty_member(r->json, "owner", false)
					  ? "profile must be a non-empty string"
					  : "owner must be a non-empty string");
		return;
	}
	if (!update_accessor_valid(r, "accessor"))
		return;
	json_object *m;
	if (json_object_object_get_ex(r->json, "new_accessor", &m) && m &&
	    !update_accessor_valid(r, "new_accessor"))
		return;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!nonempty_member(r->json, required[i], i == 2)) {
			snprintf(msg, sizeof(msg), "%s must not be empty", required[i]);
			coord_reply_error(r, 400, "invalid_request", msg);
			return;
		}
	}
	if (!keystore_configured(r) ||
	    !keystore_post(r, "/update_user_secrets", r->body, r->body_len, true, &a, NULL))
		return;
	coord_reply_text(r, (int)a.status, "application/json", a.body.ptr, a.body.len);
	coord_buf_release(&a.body);
}

/* every route: no auth, the secrets class of §1.9, the 1 MiB body cap */
static const struct coord_route routes[] = {
	{ "POST", "/secrets/pubkey", secrets_pubkey, COORD_RF_RL_SECRETS },
	{ "POST", "/secrets/add_generated_secret", secrets_add_generated, COORD_RF_RL_SECRETS },
	{ "POST", "/secrets/update_user_secrets", secrets_update_user_secrets, COORD_RF_RL_SECRETS },
};

static const struct coord_program program = {
	.group = "secrets",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

int main(int argc, char **argv)
{
	return coord_serve(&program, argc, argv);
}
