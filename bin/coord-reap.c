/* coord-reap: the reaper of expired leases and old queue items (SPEC §3.1, §6.2). */
#include <stdio.h>

#include "coord_cli.h"
#include "coord_maint.h"
#include "coord_metrics.h"
#include "coord_reaper.h"
#include "banned.h"

static const char usage[] =
	"Usage: coord-reap [-n] [-q] [-v] [-d URL] [-c FILE]\n"
	"Requeues or gives up items and jobs whose leases have passed, and deletes closed\n"
	"queue items older than 7 days.\n"
	"  -n, --dry-run        report what would change, change nothing\n"
	COORD_CLI_MAINT_OPTIONS_USAGE;

int main(int argc, char **argv)
{
	static const struct option options[] = {
		COORD_CLI_LONG,
		COORD_CLI_DRY_RUN,
		{ NULL, 0, NULL, 0 },
	};
	struct coord_cli cli;
	struct coord_config cfg;
	struct coord_reap_counts n;
	int opt;

	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT "n", options, NULL)) != -1) {
		coord_cli_common(&cli, opt, optarg);
	}
	coord_cli_no_operands(&cli, argc, argv);
	coord_cli_config(&cli, &cfg);
	struct coord_db *db = coord_cli_maint_db(&cli, &cfg, COORD_LOCK_REAP);
	if (!db)
		return 0; /* another run holds the lock */
	struct coord_redis *redis = coord_redis_new(&cfg.redis);
	enum coord_err e = coord_reap(db, redis, &cfg, cli.dry_run, cli.dry_run ? stdout : NULL, &n);
	coord_metrics_flush(redis, true); /* SPEC §3.4.7: before it exits */
	if (e != COORD_OK)
		coord_cli_maint_failed(&cli, e);
	if (cli.verbose)
		fprintf(stderr, "%s: items requeued %ld, closed %ld, dead %ld; jobs requeued %ld, "
				"failed %ld; old items deleted %ld\n", cli.program, n.items_requeued,
			n.items_closed, n.items_dead, n.jobs_requeued, n.jobs_failed, n.items_deleted);
	coord_redis_free(redis);
	coord_db_free(db);
	coord_config_release(&cfg);
	return 0;
}
