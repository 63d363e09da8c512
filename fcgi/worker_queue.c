/* The work queue routes of worker.fcgi (SPEC §3.2.1-3.2.4). */
#include <stdio.h>
#include <string.h>

#include "coord_executions.h"
#include "coord_jobs.h"
#include "coord_parse.h"
#include "coord_queue.h"
#include "worker.h"
#include "banned.h"

void worker_executions_create(struct coord_req *r)
{
	static const char *const formats[] = { "Bytes", "Text", "Json", NULL };
	enum { REQ, DATA, CS, RL, INPUT, SECRETS, FORMAT, CTX, USER, TX, YOCTO, USD, CONLY, FORCE,
	       FASTFS, PUUID, PID, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[REQ] = { "request_id", COORD_FT_INT, true, 0, INT64_MAX, NULL },
		[DATA] = { "data_id", COORD_FT_STRING, true, 1, 256, NULL },
		[CS] = { "code_source", COORD_FT_OBJECT, true, 0, 0, NULL },
		[RL] = { "resource_limits", COORD_FT_OBJECT, true, 0, 0, NULL },
		[INPUT] = { "input_data", COORD_FT_STRING, true, 0, 0, NULL },
		[SECRETS] = { "secrets_ref", COORD_FT_OBJECT, false, 0, 0, NULL },
		[FORMAT] = { "response_format", COORD_FT_STRING, false, 1, 256, formats },
		[CTX] = { "context", COORD_FT_OBJECT, false, 0, 0, NULL },
		[USER] = { "user_account_id", COORD_FT_STRING, false, 1, 256, NULL },
		[TX] = { "transaction_hash", COORD_FT_STRING, false, 1, 256, NULL },
		[YOCTO] = { "near_payment_yocto", COORD_FT_MONEY, false, 0, 0, NULL },
		[USD] = { "attached_usd", COORD_FT_MONEY, false, 0, 0, NULL },
		[CONLY] = { "compile_only", COORD_FT_BOOL, false, 0, 0, NULL },
		[FORCE] = { "force_rebuild", COORD_FT_BOOL, false, 0, 0, NULL },
		[FASTFS] = { "store_on_fastfs", COORD_FT_BOOL, false, 0, 0, NULL },
		[PUUID] = { "project_uuid", COORD_FT_STRING, false, 1, 64, NULL },
		[PID] = { "project_id", COORD_FT_STRING, false, 1, 128, NULL },
	};
	static const struct coord_field secrets[] = {
		{ "profile", COORD_FT_STRING, true, 1, 256, NULL },
		{ "account_id", COORD_FT_STRING, true, 1, 256, NULL },
	};
	enum { C_SENDER, C_HEIGHT, C_TS, C_CONTRACT, C_TX, C_RECEIPT, C_PRED, C_SIGNER, C_GAS, NCTX };
	static const struct coord_field context[NCTX] = {
		[C_SENDER] = { "sender_id", COORD_FT_STRING, false, 1, 256, NULL },
		[C_HEIGHT] = { "block_height", COORD_FT_INT, false, 0, INT64_MAX, NULL },
		[C_TS] = { "block_timestamp", COORD_FT_INT, false, 0, INT64_MAX, NULL },
		[C_CONTRACT] = { "contract_id", COORD_FT_STRING, false, 1, 256, NULL },
		[C_TX] = { "transaction_hash", COORD_FT_STRING, false, 1, 256, NULL },
		[C_RECEIPT] = { "receipt_id", COORD_FT_STRING, false, 1, 256, NULL },
		[C_PRED] = { "predecessor_id", COORD_FT_STRING, false, 1, 256, NULL },
		[C_SIGNER] = { "signer_public_key", COORD_FT_STRING, false, 1, 256, NULL },
		[C_GAS] = { "gas_burnt", COORD_FT_INT, false, 0, INT64_MAX, NULL },
	};
	struct coord_value v[NFIELDS], s[2], x[NCTX];
	struct coord_exec_create c;
	char yocto[39], usd[39];

	memset(&c, 0, sizeof(c));
	if (!coord_req_json(r, fields, NFIELDS, v) ||
	    !worker_code_source(r, v[CS].obj, true, &c.cs) ||
	    !worker_resource_limits(r, v[RL].obj, &c.max_instructions, &c.max_memory_mb,
				    &c.max_execution_seconds))
		return;
	if (v[SECRETS].present) {
		if (!coord_req_json_object(r, v[SECRETS].obj, "secrets_ref", secrets, 2, s))
			return;
		c.secrets_profile = s[0].s;
		c.secrets_account_id = s[1].s;
	}
	memset(x, 0, sizeof(x));
	if (v[CTX].present && !coord_req_json_object(r, v[CTX].obj, "context", context, NCTX, x))
		return;
	c.request_id = v[REQ].i;
	c.data_id = v[DATA].s;
	c.input_data = v[INPUT].s;
	c.response_format = v[FORMAT].present ? v[FORMAT].s : "Text";
	c.ctx.sender_id = worker_opt(&x[C_SENDER]);
	c.ctx.contract_id = worker_opt(&x[C_CONTRACT]);
	c.ctx.transaction_hash = worker_opt(&x[C_TX]);
	c.ctx.receipt_id = worker_opt(&x[C_RECEIPT]);
	c.ctx.predecessor_id = worker_opt(&x[C_PRED]);
	c.ctx.signer_public_key = worker_opt(&x[C_SIGNER]);
	c.ctx.has_block_height = x[C_HEIGHT].present;
	c.ctx.block_height = x[C_HEIGHT].i;
	c.ctx.has_block_timestamp = x[C_TS].present;
	c.ctx.block_timestamp = x[C_TS].i;
	c.ctx.has_gas_burnt = x[C_GAS].present;
	c.ctx.gas_burnt = x[C_GAS].i;
	c.user_account_id = worker_opt(&v[USER]);
	c.transaction_hash = worker_opt(&v[TX]);
	if (v[YOCTO].present) {
		coord_money_canonical(v[YOCTO].s, v[YOCTO].len, yocto);
		c.near_payment_yocto = yocto;
	}
	if (v[USD].present) {
		coord_money_canonical(v[USD].s, v[USD].len, usd);
		c.attached_usd = usd;
	}
	c.compile_only = v[CONLY].present && v[CONLY].b;
	c.force_rebuild = v[FORCE].present && v[FORCE].b;
	c.store_on_fastfs = v[FASTFS].present && v[FASTFS].b;
	c.project_uuid = worker_opt(&v[PUUID]);
	c.project_id = worker_opt(&v[PID]);
	c.body = r->json;

	bool created;
	enum coord_err e = coord_executions_create(r->db, r->redis, r->cfg, &c, &created);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "request_id", json_object_new_int64(c.request_id));
	json_object_object_add(o, "created", json_object_new_boolean(created));
	coord_reply_json(r, created ? 201 : 200, o);
}

int worker_poll_queues(const char *caps, enum coord_queue q[2])
{
	bool compile = false, execute = false;
	const char *p = caps;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		const char *a = p, *b = p + n;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if ((size_t)(b - a) == 11 && memcmp(a, "compilation", 11) == 0)
			compile = true;
		else if ((size_t)(b - a) == 9 && memcmp(a, "execution", 9) == 0)
			execute = true;
		p += n + (p[n] == ',');
	}
	int nq = 0;
	if (compile)
		q[nq++] = COORD_Q_COMPILE;
	if (execute)
		q[nq++] = COORD_Q_EXECUTE;
	return nq;
}

bool worker_poll_timeout(struct coord_req *r, int64_t *timeout)
{
	const struct coord_query_param *t = coord_req_query_get(r, "timeout");
	*timeout = 60;
	if (!t)
		return true;
	enum coord_err e = coord_parse_i64(t->value, t->value_len, 0, INT64_MAX, timeout);
	if (e == COORD_ERR_RANGE && t->value[0] != '-') {
		*timeout = 120;
	} else if (e != COORD_OK) {
		coord_reply_error(r, 400, "invalid_parameter", "timeout must be a non-negative integer");
		return false;
	}
	if (*timeout > 120)
		*timeout = 120;
	return true;
}

void worker_executions_poll(struct coord_req *r)
{
	enum coord_queue q[2];
	int64_t timeout;
	int nq = 0;

	if (!coord_req_query(r))
		return;
	const struct coord_query_param *queue = coord_req_query_get(r, "queue");
	const struct coord_query_param *caps = coord_req_query_get(r, "capabilities");
	if (!worker_poll_timeout(r, &timeout))
		return;
	if (queue) {
		if (strcmp(queue->value, "compile") == 0)
			q[nq++] = COORD_Q_COMPILE;
		else if (strcmp(queue->value, "execute") == 0)
			q[nq++] = COORD_Q_EXECUTE;
		else {
			coord_reply_error(r, 400, "invalid_parameter", "queue must be compile or execute");
			return;
		}
	} else if (caps) {
		nq = worker_poll_queues(caps->value, q);
	}
	if (nq == 0) {
		coord_reply_error(r, 400, "invalid_capabilities",
				  "Give queue=compile|execute or capabilities with compilation/execution");
		return;
	}
	struct coord_buf payload = COORD_BUF_INIT;
	enum coord_err e = coord_queue_poll(r->db, r->redis, r->cfg, q, nq, (int)timeout,
					    r->token_hash, coord_shutting_down, &payload);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else if (payload.len == 0)
		coord_reply_empty(r, 204);
	else
		coord_reply_text(r, 200, "application/json", payload.ptr, payload.len);
	coord_buf_release(&payload);
}

void worker_jobs_claim(struct coord_req *r)
{
	enum { REQ, DATA, WORKER, CS, RL, USER, TX, YOCTO, CAPS, CONLY, FORCE, HCR, PUUID, PID,
	       NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[REQ] = { "request_id", COORD_FT_INT, true, 0, INT64_MAX, NULL },
		[DATA] = { "data_id", COORD_FT_STRING, true, 1, 256, NULL },
		[WORKER] = { "worker_id", COORD_FT_STRING, true, 1, 128, NULL },
		[CS] = { "code_source", COORD_FT_OBJECT, true, 0, 0, NULL },
		[RL] = { "resource_limits", COORD_FT_OBJECT, true, 0, 0, NULL },
		[USER] = { "user_account_id", COORD_FT_STRING, false, 1, 256, NULL },
		[TX] = { "transaction_hash", COORD_FT_STRING, false, 1, 256, NULL },
		[YOCTO] = { "near_payment_yocto", COORD_FT_MONEY, false, 0, 0, NULL },
		[CAPS] = { "capabilities", COORD_FT_ARRAY, false, 0, 0, NULL },
		[CONLY] = { "compile_only", COORD_FT_BOOL, false, 0, 0, NULL },
		[FORCE] = { "force_rebuild", COORD_FT_BOOL, false, 0, 0, NULL },
		[HCR] = { "has_compile_result", COORD_FT_BOOL, false, 0, 0, NULL },
		[PUUID] = { "project_uuid", COORD_FT_STRING, false, 1, 64, NULL },
		[PID] = { "project_id", COORD_FT_STRING, false, 1, 128, NULL },
	};
	struct coord_value v[NFIELDS];
	struct coord_claim c;
	int64_t unused;
	char yocto[39];

	memset(&c, 0, sizeof(c));
	if (!coord_req_json(r, fields, NFIELDS, v) ||
	    !worker_code_source(r, v[CS].obj, false, &c.cs) ||
	    !worker_resource_limits(r, v[RL].obj, &unused, &unused, &unused))
		return;
	if (v[CAPS].present) {
		size_t n = json_object_array_length(v[CAPS].obj);
		for (size_t i = 0; i < n; i++) {
			json_object *cap = json_object_array_get_idx(v[CAPS].obj, i);
			if (!json_object_is_type(cap, json_type_string)) {
				char path[48];
				snprintf(path, sizeof(path), "capabilities[%zu]", i);
				coord_reply_field_error(r, path, "type", "Expected a string");
				return;
			}
			const char *s = json_object_get_string(cap);
			c.can_compile |= strcmp(s, "compilation") == 0;
			c.can_execute |= strcmp(s, "execution") == 0;
		}
	}
	if (!c.can_compile && !c.can_execute) {
		coord_reply_error(r, 400, "invalid_capabilities",
				  "capabilities must include compilation or execution");
		return;
	}
	if (r->cfg->require_tee_session && c.can_execute && !worker_tee_session_present(r, 401))
		return;
	c.request_id = v[REQ].i;
	c.data_id = v[DATA].s;
	c.worker_id = v[WORKER].s;
	c.user_account_id = worker_opt(&v[USER]);
	c.transaction_hash = worker_opt(&v[TX]);
	if (v[YOCTO].present) {
		coord_money_canonical(v[YOCTO].s, v[YOCTO].len, yocto);
		c.near_payment_yocto = yocto;
	}
	c.compile_only = v[CONLY].present && v[CONLY].b;
	c.force_rebuild = v[FORCE].present && v[FORCE].b;
	c.has_compile_result = v[HCR].present && v[HCR].b;
	c.project_uuid = worker_opt(&v[PUUID]);
	c.project_id = worker_opt(&v[PID]);
	c.token_hash = r->token_hash;

	json_object *result;
	enum coord_err e = coord_jobs_claim(r->db, r->redis, r->cfg, &c, &result);
	if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_json(r, 200, result);
}

void worker_jobs_complete(struct coord_req *r)
{
	static const char *const categories[] = { "failed", "compilation_failed", "execution_failed",
						   "access_denied", "insufficient_payment", "custom", NULL };
	enum { JOB, SUCCESS, TIME, ERROR, INSTR, CHECKSUM, ACTUAL, CCOST, CATEGORY, RESULT, NFIELDS };
	static const struct coord_field fields[NFIELDS] = {
		[JOB] = { "job_id", COORD_FT_INT, true, INT64_MIN, INT64_MAX, NULL },
		[SUCCESS] = { "success", COORD_FT_BOOL, true, 0, 0, NULL },
		[TIME] = { "time_ms", COORD_FT_INT, true, 0, INT64_MAX, NULL },
		[ERROR] = { "error", COORD_FT_STRING, false, 0, 0, NULL },
		[INSTR] = { "instructions", COORD_FT_INT, false, 0, INT64_MAX, NULL },
		[CHECKSUM] = { "wasm_checksum", COORD_FT_STRING, false, 1, 64, NULL },
		[ACTUAL] = { "actual_cost_yocto", COORD_FT_MONEY, false, 0, 0, NULL },
		[CCOST] = { "compile_cost_yocto", COORD_FT_MONEY, false, 0, 0, NULL },
		[CATEGORY] = { "error_category", COORD_FT_STRING, false, 1, 256, categories },
		[RESULT] = { "compile_result", COORD_FT_STRING, false, 0, 0, NULL },
	};
	struct coord_value v[NFIELDS];
	struct coord_completion c;
	char actual[39], ccost[39], refund[39];

	if (!coord_req_json(r, fields, NFIELDS, v))
		return;
	memset(&c, 0, sizeof(c));
	if (!worker_refund_usd(r, refund, &c.refund_usd))
		return;
	c.job_id = v[JOB].i;
	c.success = v[SUCCESS].b;
	c.time_ms = v[TIME].i;
	c.error = worker_opt(&v[ERROR]);
	c.instructions = v[INSTR].present ? v[INSTR].i : 0;
	c.wasm_checksum = worker_opt(&v[CHECKSUM]);
	if (v[ACTUAL].present) {
		coord_money_canonical(v[ACTUAL].s, v[ACTUAL].len, actual);
		c.actual_cost_yocto = actual;
	}
	if (v[CCOST].present) {
		coord_money_canonical(v[CCOST].s, v[CCOST].len, ccost);
		c.compile_cost_yocto = ccost;
	}
	c.error_category = v[CATEGORY].present ? v[CATEGORY].s : "failed";
	c.compile_result = worker_opt(&v[RESULT]);

	enum coord_err e = coord_jobs_complete(r->db, r->redis, r->cfg, &c);
	if (e == COORD_ERR_NOT_FOUND)
		coord_reply_error(r, 404, "job_not_found", "Unknown job id");
	else if (e == COORD_ERR_CONFLICT)
		coord_reply_error(r, 409, "job_already_completed", "Job already completed");
	else if (e != COORD_OK)
		coord_reply_backend_error(r, e);
	else
		coord_reply_empty(r, 200);
}
