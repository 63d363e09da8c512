/* The work queue routes of worker.fcgi (SPEC §3.2.1-3.2.4). */
#include <string.h>

#include "coord_executions.h"
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

/* The queues named by ?queue= or ?capabilities= (SPEC §3.2.2); 0 when none. */
static int poll_queues(const char *caps, enum coord_queue q[2])
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

void worker_executions_poll(struct coord_req *r)
{
	enum coord_queue q[2];
	int64_t timeout = 60;
	int nq = 0;

	if (!coord_req_query(r))
		return;
	const struct coord_query_param *t = coord_req_query_get(r, "timeout");
	const struct coord_query_param *queue = coord_req_query_get(r, "queue");
	const struct coord_query_param *caps = coord_req_query_get(r, "capabilities");
	if (t) {
		enum coord_err e = coord_parse_i64(t->value, t->value_len, 0, INT64_MAX, &timeout);
		if (e == COORD_ERR_RANGE && t->value[0] != '-')
			timeout = 120;
		else if (e != COORD_OK) {
			coord_reply_error(r, 400, "invalid_parameter",
					  "timeout must be a non-negative integer");
			return;
		}
		if (timeout > 120)
			timeout = 120;
	}
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
		nq = poll_queues(caps->value, q);
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
