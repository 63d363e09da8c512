/* POST /https-calls/complete: a worker settles an HTTPS call (SPEC §3.2.9, §4.4). */
#include <string.h>

#include "coord_billing.h"
#include "worker.h"
#include "banned.h"

void worker_https_complete(struct coord_req *r)
{
	enum { CALL, SUCCESS, ERROR, INSTR, TIME, JOB, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[CALL] = { "call_id", COORD_FT_UUID, true, 0, 0, NULL },
		[SUCCESS] = { "success", COORD_FT_BOOL, true, 0, 0, NULL },
		[ERROR] = { "error", COORD_FT_STRING, false, 0, 0, NULL },
		[INSTR] = { "instructions", COORD_FT_INT, false, 0, INT64_MAX, NULL },
		[TIME] = { "time_ms", COORD_FT_INT, false, 0, INT64_MAX, NULL },
		[JOB] = { "job_id", COORD_FT_INT, false, INT64_MIN, INT64_MAX, NULL },
	};
	struct coord_value v[NFIELDS];
	struct coord_settlement s;
	char refund[39];

	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	memset(&s, 0, sizeof(s));
	if (!worker_refund_usd(r, refund, &s.refund_usd))
		return;
	if (r->cfg->require_tee_session && !worker_tee_session_present(r, 403))
		return;
	json_object *output = NULL;
	if (json_object_object_get_ex(r->json, "output", &output) && output)
		s.output_json = coord_json_text(output, NULL);
	s.outcome = COORD_OUTCOME_WORKER;
	s.success = v[SUCCESS].b;
	s.error = worker_opt(&v[ERROR]);
	s.instructions = v[INSTR].present ? v[INSTR].i : 0;
	s.time_ms = v[TIME].present ? v[TIME].i : 0;
	s.has_job_id = v[JOB].present;
	s.job_id = v[JOB].i;

	char call_id[COORD_CALL_ID_LEN + 1];
	for (size_t i = 0; i <= COORD_CALL_ID_LEN; i++) /* stored and answered in lower case */
		call_id[i] = (char)(v[CALL].s[i] >= 'A' && v[CALL].s[i] <= 'F' ? v[CALL].s[i] + 32
										: v[CALL].s[i]);
	bool finalized;
	enum coord_err e = coord_billing_settle(r->db, r->redis, r->cfg, call_id, &s, &finalized);
	if (e == COORD_ERR_NOT_FOUND) {
		coord_reply_error(r, 404, "call_not_found", "Unknown call id");
		return;
	}
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "call_id", json_object_new_string(call_id));
	json_object_object_add(o, "finalized", json_object_new_boolean(finalized));
	coord_reply_json(r, 200, o);
}
