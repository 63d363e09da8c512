/* coord-requeue: rebuilds the Redis queue lists from queue_items (SPEC §6.2). */
#include <stdio.h>
#include <string.h>

#include "coord_buf.h"
#include "coord_cli.h"
#include "coord_maint.h"
#include "coord_reaper.h"
#include "banned.h"

static const char usage[] =
	"Usage: coord-requeue [--queue compile|execute|system_callbacks|all] [--reset] [-n]\n"
	"                     [-q] [-v] [-d URL] [-c FILE]\n"
	"Pushes the ids of queued items that are missing from the Redis lists.\n"
	"  --queue Q            one queue, or all (the default)\n"
	"  --reset              replace each list with the ids of its queued items\n"
	"  -n, --dry-run        print what would be pushed, change nothing\n"
	COORD_CLI_MAINT_OPTIONS_USAGE;

int main(int argc, char **argv)
{
	enum { OPT_QUEUE = 256, OPT_RESET };
	static const struct option options[] = {
		COORD_CLI_LONG,
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "reset", no_argument, NULL, OPT_RESET },
		COORD_CLI_DRY_RUN,
		{ NULL, 0, NULL, 0 },
	};
	static const enum coord_queue all[] = { COORD_Q_COMPILE, COORD_Q_EXECUTE, COORD_Q_SYSTEM };
	struct coord_cli cli;
	struct coord_config cfg;
	const char *which = "all";
	bool reset = false;
	int opt;

	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT "n", options, NULL)) != -1) {
		if (coord_cli_common(&cli, opt, optarg))
			continue;
		if (opt == OPT_QUEUE)
			which = optarg;
		else if (opt == OPT_RESET)
			reset = true;
	}
	coord_cli_no_operands(&cli, argc, argv);
	int first = 0, last = 2;
	if (strcmp(which, "all") != 0) {
		for (first = 0; first < 3 && strcmp(coord_queue_name(all[first]), which) != 0; first++)
			;
		if (first == 3)
			coord_cli_die(&cli, EX_DATAERR, "--queue must be compile, execute, "
							"system_callbacks or all");
		last = first;
	}
	coord_cli_config(&cli, &cfg);
	struct coord_db *db = coord_cli_maint_db(&cli, &cfg, COORD_LOCK_REQUEUE);
	if (!db)
		return 0; /* another run holds the lock */
	struct coord_redis *redis = coord_redis_new(&cfg.redis);
	struct coord_buf summary = COORD_BUF_INIT;
	for (int i = first; i <= last; i++) {
		long pushed;
		enum coord_err e = coord_requeue(db, redis, &cfg, all[i], reset, cli.dry_run,
				  cli.dry_run ? stdout : NULL, &pushed);
		if (e == COORD_ERR_UPSTREAM)
			coord_cli_die(&cli, EX_UNAVAILABLE, "Redis cannot be reached");
		if (e != COORD_OK)
			coord_cli_maint_failed(&cli, e); /* PostgreSQL lost mid-run: 75 */
		coord_buf_addf(&summary, "%s%s %ld", i == first ? "" : ", ",
			       coord_queue_name(all[i]), pushed);
	}
	/* one summary line for the whole run (SPEC §6.1) */
	if (cli.verbose)
		fprintf(stderr, "%s: ids %s: %s\n", cli.program,
			cli.dry_run ? "to push" : "pushed", summary.ptr);
	coord_buf_release(&summary);
	coord_redis_free(redis);
	coord_db_free(db);
	coord_config_release(&cfg);
	return 0;
}
