/*
 * GET /wasm/exists/:checksum (worker.fcgi) and its public twin
 * GET /public/wasm/exists/:checksum (public.fcgi): one handler, SPEC §3.2.5.
 */
#include "coord_wasmcache.h"
#include "wasm_exists.h"
#include "banned.h"

void wasm_exists_handler(struct coord_req *r)
{
	json_object *o;
	if (!coord_wasm_checksum_valid(r->params[0])) {
		coord_reply_error(r, 400, "invalid_checksum",
				  "checksum must be 64 lower-case hex characters");
		return;
	}
	if (!coord_req_db(r))
		return;
	enum coord_err e = coord_wasm_exists(r->db, r->cfg, r->params[0], &o);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_json(r, 200, o);
}
