/* tee-challenge-cleanup: old challenges and expired TEE sessions (SPEC §6.2). */
#include <stdio.h>

#include "coord_cli.h"
#include "coord_maint.h"
#include "coord_tee.h"
#include "banned.h"

static const char usage[] =
	"Usage: tee-challenge-cleanup [-n] [-q] [-v] [-d URL] [-c FILE]\n"
	"Deletes challenges older than an hour, deactivates expired sessions and deletes\n"
	"sessions that expired more than 7 days ago.\n"
	"  -n, --dry-run        count what would change, change nothing\n"
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
	struct coord_tee_cleanup_counts n;
	int opt;

	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT "n", options, NULL)) != -1) {
		coord_cli_common(&cli, opt, optarg);
	}
	coord_cli_no_operands(&cli, argc, argv);
	coord_cli_config(&cli, &cfg);
	struct coord_db *db = coord_cli_maint_db(&cli, &cfg, COORD_LOCK_TEE_CLEANUP);
	if (!db)
		return 0; /* another run holds the lock */
	enum coord_err e = coord_tee_cleanup(db, cli.dry_run, &n);
	if (e != COORD_OK)
		coord_cli_maint_failed(&cli, e);
	if (cli.dry_run)
		printf("would delete %ld challenge(s), deactivate %ld session(s), delete %ld session(s)\n",
		       n.challenges_deleted, n.sessions_expired, n.sessions_deleted);
	else if (cli.verbose)
		fprintf(stderr, "%s: deleted %ld challenge(s), deactivated %ld session(s), deleted %ld "
				"session(s)\n", cli.program, n.challenges_deleted, n.sessions_expired,
			n.sessions_deleted);
	coord_db_free(db);
	coord_config_release(&cfg);
	return 0;
}
