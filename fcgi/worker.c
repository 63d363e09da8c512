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
	{ "POST", "/payment-keys/init", worker_paykeys_init, WORKER },
	{ "POST", "/topup/complete", worker_topup_complete, WORKER },
	{ "POST", "/payment-keys/delete", worker_paykeys_delete, WORKER },
	{ "POST", "/internal/system-logs", worker_system_logs, WORKER },
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
