/* payment-key-cleanup: stuck HTTPS calls, stale keys, old idempotency records (SPEC §6.2). */
#include <stdio.h>

#include "coord_billing.h"
#include "coord_cli.h"
#include "coord_maint.h"
#include "banned.h"

static const char usage[] =
	"Usage: payment-key-cleanup [-q] [-v] [-d URL] [-c FILE]\n"
	"Settles HTTPS calls pending for more than HTTPS_CALL_TIMEOUT_SECONDS + 60 s (released,\n"
	"nothing charged), deletes never-funded keys older than PAYMENT_KEY_STALE_SECONDS and\n"
	"Idempotency-Key records older than IDEMPOTENCY_TTL_SECONDS.\n"
	COORD_CLI_MAINT_OPTIONS_USAGE;

int main(int argc, char **argv)
{
	static const struct option options[] = {
		COORD_CLI_LONG,
		{ NULL, 0, NULL, 0 },
	};
	struct coord_cli cli;
	struct coord_config cfg;
	struct coord_cleanup_counts n;
	int opt;

	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT, options, NULL)) != -1)
		coord_cli_common(&cli, opt, optarg);
	coord_cli_no_operands(&cli, argc, argv);
	coord_cli_config(&cli, &cfg);
	struct coord_db *db = coord_cli_maint_db(&cli, &cfg, COORD_LOCK_PAYMENT_KEY_CLEANUP);
	if (!db)
		return 0; /* another run holds the lock */
	/* Redis only carries wake-ups of synchronous waiters here; its absence is ignored */
	struct coord_redis *redis = coord_redis_new(&cfg.redis);
	enum coord_err e = coord_billing_cleanup(db, redis, &cfg, coord_maint_interrupted, &n);
	if (e != COORD_OK)
		coord_cli_maint_failed(&cli, e);
	if (cli.verbose)
		fprintf(stderr, "%s: expired %ld call(s), deleted %ld stale key(s), deleted %ld "
				"idempotency record(s)\n", cli.program, n.calls_expired, n.keys_deleted,
			n.idem_deleted);
	coord_redis_free(redis);
	coord_db_free(db);
	coord_config_release(&cfg);
	return 0;
}
