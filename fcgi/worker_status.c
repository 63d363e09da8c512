/* Worker status, locks and internal logs of worker.fcgi (SPEC §3.2.6, §3.2.8, §3.2.12). */
#include "coord_workers.h"
#include "worker.h"
#include "banned.h"

void worker_block_cursor(struct coord_req *r)
{
	bool has;
	int64_t height;
	enum coord_err e = coord_workers_block_cursor(r->db, &has, &height);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "block_height", has ? json_object_new_int64(height) : NULL);
	coord_reply_json(r, 200, o);
}
