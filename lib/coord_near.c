#include <string.h>

#include "coord_httpc.h"
#include "coord_json.h"
#include "coord_log.h"
#include "coord_near.h"
#include "banned.h"

/* POSTs a JSON-RPC request; returns the parsed "result" (a new reference). */
static enum coord_err rpc(const struct coord_config *cfg, const char *request, long timeout_s,
			  json_object **result)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	struct coord_httpc_response resp;
	struct coord_json_problem p;
	char err[256];

	*result = NULL;
	if (cfg->near_off)
		return COORD_ERR_UNAVAILABLE;
	enum coord_err e = coord_httpc_request(cfg->near_rpc_url, headers, request, strlen(request),
					       timeout_s * 1000, &resp, err, sizeof(err));
	if (e != COORD_OK) {
		coord_log(COORD_LOG_WARN, "near rpc: %s", err);
		return COORD_ERR_UPSTREAM;
	}
	json_object *root = resp.status == 200
		? coord_json_parse(coord_buf_str(&resp.body), resp.body.len, &p) : NULL;
	coord_buf_release(&resp.body);
	json_object *r = NULL;
	if (!root || !json_object_is_type(root, json_type_object) ||
	    json_object_object_get_ex(root, "error", NULL) ||
	    !json_object_object_get_ex(root, "result", &r)) {
		coord_log(COORD_LOG_WARN, "near rpc: failed or invalid answer (HTTP %ld)", resp.status);
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
