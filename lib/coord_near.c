#include <stdlib.h>
#include <string.h>

#include "coord_codec.h"
#include "coord_httpc.h"
#include "coord_json.h"
#include "coord_log.h"
#include "coord_mem.h"
#include "coord_near.h"
#include "banned.h"

/* POSTs a JSON-RPC request; *root receives the parsed answer object. */
static enum coord_err post(const struct coord_config *cfg, const char *request, long timeout_s,
			   json_object **root)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	struct coord_httpc_response resp;
	struct coord_json_problem p;
	char err[256];

	*root = NULL;
	if (cfg->near_off)
		return COORD_ERR_UNAVAILABLE;
	enum coord_err e = coord_httpc_request(cfg->near_rpc_url, headers, request, strlen(request),
					       timeout_s * 1000, &resp, err, sizeof(err));
	if (e != COORD_OK) {
		coord_log(COORD_LOG_WARN, "near rpc: %s", err);
		return COORD_ERR_UPSTREAM;
	}
	/* the status says nothing more than the body does (SPEC §4.2): an answer is a JSON object */
	json_object *o = coord_json_parse(coord_buf_str(&resp.body), resp.body.len, &p);
	coord_buf_release(&resp.body);
	if (!o || !json_object_is_type(o, json_type_object)) {
		coord_log(COORD_LOG_WARN, "near rpc: invalid answer (HTTP %ld)", resp.status);
		json_object_put(o);
		return COORD_ERR_UPSTREAM;
	}
	*root = o;
	return COORD_OK;
}

/* A successful call's "result" (a new reference); an "error" member is a failure. */
static enum coord_err rpc(const struct coord_config *cfg, const char *request, long timeout_s,
			  json_object **result)
{
	json_object *root, *r = NULL;
	*result = NULL;
	enum coord_err e = post(cfg, request, timeout_s, &root);
	if (e != COORD_OK)
		return e;
	if (json_object_object_get_ex(root, "error", NULL) ||
	    !json_object_object_get_ex(root, "result", &r)) {
		coord_log(COORD_LOG_WARN, "near rpc: the call failed");
		json_object_put(root);
		return COORD_ERR_UPSTREAM;
	}
	*result = json_object_get(r);
	json_object_put(root);
	return COORD_OK;
}

enum coord_err coord_near_chain_tip(const struct coord_config *cfg, long timeout_seconds,
				    int64_t *height)
{
	static const char request[] =
		"{\"jsonrpc\":\"2.0\",\"id\":\"dontcare\",\"method\":\"block\","
		"\"params\":{\"finality\":\"final\"}}";
	json_object *result, *header, *h;
	enum coord_err e = rpc(cfg, request, timeout_seconds, &result);
	if (e != COORD_OK)
		return e;
	e = COORD_ERR_UPSTREAM;
	if (json_object_object_get_ex(result, "header", &header) &&
	    json_object_object_get_ex(header, "height", &h) && json_object_is_type(h, json_type_int) &&
	    json_object_get_int64(h) >= 0 && json_object_get_int64(h) < INT64_MAX) {
		*height = json_object_get_int64(h);
		e = COORD_OK;
	}
	json_object_put(result);
	return e;
}

/* "does not exist" anywhere in the strings of o (NEAR's wording varies). */
static bool says_absent(json_object *o)
{
	if (!o)
		return false;
	if (json_object_is_type(o, json_type_string)) {
		const char *t = json_object_get_string(o);
		return strstr(t, "does not exist") || strstr(t, "doesn't exist");
	}
	if (json_object_is_type(o, json_type_object)) {
		json_object *cause, *name;
		if (json_object_object_get_ex(o, "cause", &cause) &&
		    json_object_object_get_ex(cause, "name", &name) &&
		    json_object_is_type(name, json_type_string) &&
		    strcmp(json_object_get_string(name), "UNKNOWN_ACCESS_KEY") == 0)
			return true;
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (says_absent(val))
				return true;
		}
	}
	return false;
}

enum coord_err coord_near_access_key(const struct coord_config *cfg, const char *account,
				     const char *public_key, bool *present)
{
	json_object *root, *params = json_object_new_object(), *req = json_object_new_object();
	json_object *result, *error;
	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "id", json_object_new_string("tee-auth"));
	json_object_object_add(req, "method", json_object_new_string("query"));
	json_object_object_add(params, "request_type", json_object_new_string("view_access_key"));
	json_object_object_add(params, "finality", json_object_new_string("optimistic"));
	json_object_object_add(params, "account_id", json_object_new_string(account));
	json_object_object_add(params, "public_key", json_object_new_string(public_key));
	json_object_object_add(req, "params", params);

	*present = false;
	enum coord_err e = post(cfg, coord_json_text(req, NULL), cfg->near_rpc_timeout_seconds, &root);
	json_object_put(req);
	if (e != COORD_OK)
		return e;
	e = COORD_ERR_UPSTREAM;
	if (json_object_object_get_ex(root, "error", &error)) {
		if (says_absent(error))
			e = COORD_OK;
	} else if (json_object_object_get_ex(root, "result", &result) &&
		   json_object_is_type(result, json_type_object)) {
		if (json_object_object_get_ex(result, "permission", NULL)) {
			*present = true;
			e = COORD_OK;
		} else if (says_absent(result)) {
			e = COORD_OK;
		}
	}
	if (e != COORD_OK)
		coord_log(COORD_LOG_WARN, "near rpc: view_access_key gave no usable answer");
	json_object_put(root);
	return e;
}

/* The bytes of a view call's result.result (an array of 0..255) as JSON text in out. */
static bool view_bytes(json_object *result, struct coord_buf *out)
{
	json_object *bytes;
	if (!json_object_is_type(result, json_type_object) ||
	    !json_object_object_get_ex(result, "result", &bytes) ||
	    !json_object_is_type(bytes, json_type_array))
		return false;
	size_t n = json_object_array_length(bytes);
	for (size_t i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(bytes, i);
		if (!json_object_is_type(b, json_type_int))
			return false;
		int64_t v = json_object_get_int64(b);
		if (v < 0 || v > 255)
			return false;
		char c = (char)(unsigned char)v;
		coord_buf_add(out, &c, 1);
	}
	return true;
}

/* the JSON text is the literal null (which coord_json_parse answers as a 422 problem) */
static bool json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool json_null_text(const char *s, size_t n)
{
	while (n && json_ws(s[0]))
		s++, n--;
	while (n && json_ws(s[n - 1]))
		n--;
	return n == 4 && memcmp(s, "null", 4) == 0;
}

enum coord_err coord_near_view(const struct coord_config *cfg, const char *method,
			       const char *args_json, json_object **result)
{
	json_object *params = json_object_new_object(), *req = json_object_new_object();
	json_object *answer;
	struct coord_buf text = COORD_BUF_INIT;
	struct coord_json_problem p;
	size_t alen = args_json ? strlen(args_json) : 0;
	char *args64 = coord_xmalloc(coord_base64_encoded_len(alen));

	*result = NULL;
	coord_base64_encode((const unsigned char *)(args_json ? args_json : ""), alen, args64);
	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "id", json_object_new_string("dontcare"));
	json_object_object_add(req, "method", json_object_new_string("query"));
	json_object_object_add(params, "request_type", json_object_new_string("call_function"));
	json_object_object_add(params, "finality", json_object_new_string("final"));
	json_object_object_add(params, "account_id", json_object_new_string(cfg->contract_id));
	json_object_object_add(params, "method_name", json_object_new_string(method));
	json_object_object_add(params, "args_base64", json_object_new_string(args64));
	json_object_object_add(req, "params", params);
	free(args64);

	enum coord_err e = rpc(cfg, coord_json_text(req, NULL), cfg->near_rpc_timeout_seconds, &answer);
	json_object_put(req);
	if (e != COORD_OK)
		return e;
	if (!view_bytes(answer, &text)) {
		e = COORD_ERR_UPSTREAM;
	} else {
		*result = coord_json_parse(coord_buf_str(&text), text.len, &p);
		if (!*result && !json_null_text(coord_buf_str(&text), text.len))
			e = COORD_ERR_UPSTREAM;
	}
	if (e != COORD_OK)
		coord_log(COORD_LOG_WARN, "near rpc: %s gave no usable answer", method);
	coord_buf_release(&text);
	json_object_put(answer);
	return e;
}
