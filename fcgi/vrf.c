/* GET /vrf/pubkey (SPEC §3.4.7): the keystore's VRF public key, passed on verbatim. */
#include <stdio.h>

#include "coord_keystore.h"
#include "vrf.h"
#include "banned.h"

#define VRF_TIMEOUT_MS 5000

void vrf_pubkey(struct coord_req *r)
{
	struct coord_keystore_answer a;
	char err[256], msg[320];

	if (!r->cfg->keystore_base_url) {
		coord_reply_error(r, 503, "keystore_not_configured", "Keystore is not configured");
		return;
	}
	if (coord_keystore_call(r->cfg, "/vrf/pubkey", NULL, 0, false, VRF_TIMEOUT_MS, &a, err,
				sizeof(err)) != COORD_OK) {
		snprintf(msg, sizeof(msg), "Keystore request failed: %s", err);
		coord_reply_error(r, 502, "upstream_error", msg);
		return;
	}
	if (a.status < 200 || a.status > 299)
		snprintf(msg, sizeof(msg), "Keystore answered HTTP %ld", a.status);
	else if (!coord_json_syntax_ok(coord_buf_str(&a.body), a.body.len))
		snprintf(msg, sizeof(msg), "Keystore answered with invalid JSON");
	else
		msg[0] = '\0';
	if (msg[0])
		coord_reply_error(r, 502, "upstream_error", msg);
	else
		coord_reply_text(r, 200, "application/json", a.body.ptr, a.body.len);
	coord_buf_release(&a.body);
}
