/* worker.fcgi: the routes workers call with their bearer token (SPEC §3.2). */
#include "coord_pricing.h"
#include "coord_wasmmem.h"
#include "wasm_exists.h"
#include "worker.h"
#include "banned.h"

/* every worker route: bearer token and the 10 MiB body cap (SPEC §1.3) */
#define WORKER (COORD_RF_WORKER_AUTH | COORD_RF_BIG_BODY)

static const struct coord_route routes[] = {
	{ "POST", "/executions/create", worker_executions_create, WORKER },
	{ "GET", "/executions/poll", worker_executions_poll, WORKER },
	{ "POST", "/jobs/claim", worker_jobs_claim, WORKER },
	{ "POST", "/jobs/complete", worker_jobs_complete, WORKER },
	{ "GET", "/wasm/:checksum", worker_wasm_download, WORKER },
	{ "POST", "/wasm/upload", worker_wasm_upload, WORKER },
	{ "GET", "/wasm/exists/:checksum", wasm_exists_handler, WORKER },
	{ "POST", "/workers/heartbeat", worker_heartbeat, WORKER },
	{ "POST", "/workers/task-completion", worker_task_completion, WORKER },
	{ "GET", "/workers/block-cursor", worker_block_cursor, WORKER },
	{ "POST", "/workers/tee-challenge", worker_tee_challenge, WORKER },
	{ "POST", "/workers/register-tee", worker_tee_register, WORKER },
	{ "POST", "/locks/acquire", worker_locks_acquire, WORKER },
	{ "DELETE", "/locks/release/:lock_key", worker_locks_release, WORKER },
	{ "POST", "/https-calls/complete", worker_https_complete, WORKER },
	{ "POST", "/payment-keys/init", worker_paykeys_init, WORKER },
	{ "POST", "/topup/complete", worker_topup_complete, WORKER },
	{ "POST", "/payment-keys/delete", worker_paykeys_delete, WORKER },
	{ "POST", "/internal/system-logs", worker_system_logs, WORKER },
	{ "POST", "/storage/set", worker_storage_set, WORKER },
	{ "POST", "/storage/set-if-absent", worker_storage_set_if_absent, WORKER },
	{ "POST", "/storage/set-if-equals", worker_storage_set_if_equals, WORKER },
	{ "POST", "/storage/get", worker_storage_get, WORKER },
	{ "POST", "/storage/get-by-version", worker_storage_get_by_version, WORKER },
	{ "POST", "/storage/has", worker_storage_has, WORKER },
	{ "POST", "/storage/delete", worker_storage_delete, WORKER },
	{ "GET", "/storage/list", worker_storage_list, WORKER },
	{ "GET", "/storage/usage", worker_storage_usage, WORKER },
	{ "POST", "/storage/clear-all", worker_storage_clear_all, WORKER },
	{ "POST", "/storage/clear-version", worker_storage_clear_version, WORKER },
	{ "POST", "/storage/clear-project", worker_storage_clear_project, WORKER },
	{ "POST", "/storage/get-public", worker_storage_get_public, WORKER },
	{ "POST", "/topup/create", worker_topup_create, WORKER },
	{ "POST", "/payment-keys/delete-task/create", worker_delete_task_create, WORKER },
	{ "POST", "/projects/cleanup-task/create", worker_cleanup_task_create, WORKER },
	{ "GET", "/system-callbacks/poll", worker_callbacks_poll, WORKER },
	{ "GET", "/projects/uuid", worker_projects_uuid, WORKER },
	{ "DELETE", "/projects/cache", worker_projects_cache_delete, WORKER },
};

static const struct coord_program program = {
	.group = "worker",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.needs_wasm_dir = true,
};

int main(int argc, char **argv)
{
	coord_serve_background(coord_pricing_background, COORD_PRICING_BACKGROUND_MS);
	coord_serve_background(worker_wasm_flush, COORD_WASMMEM_FLUSH_MS);
	return coord_serve(&program, argc, argv);
}
