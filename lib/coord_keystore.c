#include <stdio.h>

#include "coord_httpc.h"
#include "coord_keystore.h"
#include "banned.h"

void coord_keystore_worker_id(const struct coord_config *cfg, char out[static 96])
{
	snprintf(out, 96, "%s-keystore", cfg->network);
}

enum coord_err coord_keystore_call(const struct coord_config *cfg, const char *path,
				   const char *body, size_t len, bool bearer, long timeout_ms,
				   struct coord_keystore_answer *out, char *err, size_t errlen)
{
	struct coord_buf url = COORD_BUF_INIT, auth = COORD_BUF_INIT;
	struct coord_httpc_response resp;
	const char *headers[3];
	size_t nh = 0;

	out->status = 0;
	coord_buf_init(&out->body);
	if (!cfg->keystore_base_url) {
		snprintf(err, errlen, "keystore not configured");
		return COORD_ERR_NOT_FOUND;
	}
	coord_buf_addf(&url, "%s%s", cfg->keystore_base_url, path);
	if (body)
		headers[nh++] = "Content-Type: application/json";
	if (bearer && cfg->keystore_auth_token) {
		coord_buf_addf(&auth, "Authorization: Bearer %s", cfg->keystore_auth_token);
		headers[nh++] = auth.ptr;
	}
	headers[nh] = NULL;
	enum coord_err e = coord_httpc_request(url.ptr, headers, body, len, timeout_ms, &resp, err,
					       errlen);
	coord_buf_release(&url);
	coord_buf_release(&auth);
	if (e != COORD_OK)
		return COORD_ERR_UPSTREAM;
	out->status = resp.status;
	out->body = resp.body;
	return COORD_OK;
}

enum coord_err coord_keystore_health(const struct coord_config *cfg, char *err, size_t errlen)
{
	struct coord_keystore_answer a;
	enum coord_err e = coord_keystore_call(cfg, "/health", NULL, 0, false, 5000, &a, err, errlen);
	if (e != COORD_OK)
		return e;
	coord_buf_release(&a.body);
	if (a.status < 200 || a.status > 299) {
		snprintf(err, errlen, "keystore answered HTTP %ld", a.status);
		return COORD_ERR_UPSTREAM;
	}
	return COORD_OK;
}
