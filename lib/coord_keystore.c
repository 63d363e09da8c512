#include <stdio.h>

#include "coord_buf.h"
#include "coord_httpc.h"
#include "coord_keystore.h"
#include "banned.h"

void coord_keystore_worker_id(const struct coord_config *cfg, char out[static 96])
{
	snprintf(out, 96, "%s-keystore", cfg->network);
}

enum coord_err coord_keystore_health(const struct coord_config *cfg, char *err, size_t errlen)
{
	struct coord_httpc_response resp;
	struct coord_buf url = COORD_BUF_INIT;

	if (!cfg->keystore_base_url)
		return COORD_ERR_NOT_FOUND;
	coord_buf_addf(&url, "%s/health", cfg->keystore_base_url);
	enum coord_err e = coord_httpc_request(url.ptr, NULL, NULL, 0, 5000, &resp, err, errlen);
	coord_buf_release(&url);
	if (e != COORD_OK)
		return COORD_ERR_UPSTREAM;
	coord_buf_release(&resp.body);
	if (resp.status < 200 || resp.status > 299) {
		snprintf(err, errlen, "keystore answered HTTP %ld", resp.status);
		return COORD_ERR_UPSTREAM;
	}
	return COORD_OK;
}
