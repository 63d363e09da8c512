/*
 * Outbound HTTP with libcurl (NEAR JSON-RPC, keystore). Call
 * coord_httpc_global_init() once before any thread starts.
 */
#ifndef COORD_HTTPC_H
#define COORD_HTTPC_H

#include <stddef.h>

#include "coord_buf.h"
#include "coord_err.h"

#define COORD_HTTPC_MAX_BODY (4 * 1024 * 1024)

struct coord_httpc_response {
	long status;
	struct coord_buf body; /* caller releases */
};

void coord_httpc_global_init(void);

/*
 * One request. body NULL for GET. headers: NULL-terminated "Name: value"
 * lines. COORD_ERR_UPSTREAM on a transport failure, a timeout or a body
 * above COORD_HTTPC_MAX_BODY (err says which); any HTTP status is COORD_OK.
 */
enum coord_err coord_httpc_request(const char *url, const char *const *headers, const char *body,
				   size_t body_len, long timeout_ms,
				   struct coord_httpc_response *resp, char *err, size_t errlen);

#endif
