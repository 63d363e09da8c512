/* Handlers of worker.fcgi, grouped by file; the route table is in worker.c. */
#ifndef COORD_FCGI_WORKER_H
#define COORD_FCGI_WORKER_H

#include "coord_executions.h"
#include "coord_http.h"
#include "coord_queue.h"

/* worker_queue.c */
void worker_executions_create(struct coord_req *r);
void worker_executions_poll(struct coord_req *r);
void worker_jobs_claim(struct coord_req *r);
void worker_jobs_complete(struct coord_req *r);
/*
 * ?timeout= of the long polls (SPEC §3.2.2): default 60, above 120 is 120,
 * 0 does not wait; false after replying 400. Call after coord_req_query.
 */
bool worker_poll_timeout(struct coord_req *r, int64_t *timeout);
/* The queues a ?capabilities= list names (compile first); 0 when none. */
int worker_poll_queues(const char *caps, enum coord_queue q[2]);

/* worker_storage.c (SPEC §3.2.10) */
void worker_storage_set(struct coord_req *r);
void worker_storage_set_if_absent(struct coord_req *r);
void worker_storage_set_if_equals(struct coord_req *r);
void worker_storage_get(struct coord_req *r);
void worker_storage_get_by_version(struct coord_req *r);
void worker_storage_has(struct coord_req *r);
void worker_storage_delete(struct coord_req *r);
void worker_storage_list(struct coord_req *r);
void worker_storage_usage(struct coord_req *r);
void worker_storage_clear_all(struct coord_req *r);
void worker_storage_clear_version(struct coord_req *r);
void worker_storage_clear_project(struct coord_req *r);
void worker_storage_get_public(struct coord_req *r);

/* worker_callbacks.c (SPEC §3.2.11 producers and poll, §3.2.12 projects) */
void worker_topup_create(struct coord_req *r);
void worker_delete_task_create(struct coord_req *r);
void worker_cleanup_task_create(struct coord_req *r);
void worker_callbacks_poll(struct coord_req *r);
void worker_projects_uuid(struct coord_req *r);
void worker_projects_cache_delete(struct coord_req *r);

/* worker_wasm.c */
void worker_wasm_download(struct coord_req *r);
void worker_wasm_upload(struct coord_req *r);
/* Background work: the deferred download counts (SPEC §3.2.5). */
void worker_wasm_flush(struct coord_bg *bg, bool final);

/* worker_tee.c */
void worker_tee_challenge(struct coord_req *r);
void worker_tee_register(struct coord_req *r);

/* worker_status.c */
void worker_heartbeat(struct coord_req *r);
void worker_task_completion(struct coord_req *r);
void worker_block_cursor(struct coord_req *r);
void worker_locks_acquire(struct coord_req *r);
void worker_locks_release(struct coord_req *r);
void worker_system_logs(struct coord_req *r);

/* worker_calls.c (SPEC §3.2.9) */
void worker_https_complete(struct coord_req *r);

/* worker_paykeys.c */
void worker_paykeys_init(struct coord_req *r);
void worker_topup_complete(struct coord_req *r);
void worker_paykeys_delete(struct coord_req *r);

/*
 * Shared body pieces (worker_input.c): code_source and resource_limits of
 * SPEC §3.2.1, read from the member values; false after replying 422.
 * normalise: apply the repository normalisation (create, not claim).
 */
bool worker_code_source(struct coord_req *r, json_object *obj, bool normalise,
			struct coord_code_source *cs);
bool worker_resource_limits(struct coord_req *r, json_object *obj, int64_t *max_instructions,
			    int64_t *max_memory_mb, int64_t *max_execution_seconds);
/*
 * refund_usd of a completion body (SPEC §3.2.4, §3.2.9): a money string or a
 * JSON integer, canonical in buf; *refund NULL when absent. False after 422.
 */
bool worker_refund_usd(struct coord_req *r, char buf[static 39], const char **refund);

/*
 * The TEE-session gate of SPEC §1.6 (callers check REQUIRE_TEE_SESSION): true when the
 * request's X-TEE-Session is a valid session of its token; otherwise the reply is sent
 * (STATUS tee_session_required, or the backend error) and false returned.
 */
bool worker_tee_session_present(struct coord_req *r, int status);
/* The value of an optional string field, or NULL. */
const char *worker_opt(const struct coord_value *v);

#endif
