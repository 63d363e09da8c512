/* coord-migrate: applies sql/NNN_<name>.sql in order (SPEC §6.2). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "coord_cli.h"
#include "coord_maint.h"
#include "coord_migrate.h"
#include "banned.h"

static const char usage[] =
	"Usage: coord-migrate [--dir DIR] [--status] [-n] [-q] [-v] [-d URL] [-c FILE]\n"
	"Applies the schema migrations DIR/NNN_<name>.sql that are not applied yet.\n"
	"  --dir DIR            migrations directory (default " COORD_SQL_DIR ", else ./sql)\n"
	"  --status             list every version as applied or pending\n"
	"  -n, --dry-run        list what would be applied\n"
	"  -d, --database-url   PostgreSQL connection string (overrides DATABASE_URL)\n"
	"  -c, --config FILE    configuration file (instead of COORD_CONFIG)\n"
	"  -q, --quiet          print nothing on success\n"
	"  -v, --verbose        more diagnostics\n"
	"  -h, --help, -V, --version\n";

static const char *default_dir(void)
{
	struct stat st;
	return stat(COORD_SQL_DIR, &st) == 0 && S_ISDIR(st.st_mode) ? COORD_SQL_DIR : "sql";
}

int main(int argc, char **argv)
{
	enum { OPT_DIR = 256, OPT_STATUS };
	static const struct option options[] = {
		COORD_CLI_LONG,
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "status", no_argument, NULL, OPT_STATUS },
		COORD_CLI_DRY_RUN,
		{ NULL, 0, NULL, 0 },
	};
	struct coord_cli cli;
	struct coord_config cfg;
	struct coord_migration_set set;
	const char *dir = NULL;
	bool status_only = false;
	char err[512];
	int opt;

	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT "n", options, NULL)) != -1) {
		if (coord_cli_common(&cli, opt, optarg))
			continue;
		if (opt == OPT_DIR)
			dir = optarg;
		else if (opt == OPT_STATUS)
			status_only = true;
	}
	coord_cli_no_operands(&cli, argc, argv);
	if (status_only && cli.dry_run)
		coord_cli_usage_error(&cli, "--status and --dry-run exclude each other");
	coord_cli_config(&cli, &cfg);
	if (!dir)
		dir = default_dir();
	if (coord_migrate_scan(dir, &set, err, sizeof(err)) != COORD_OK)
		coord_cli_die(&cli, EX_DATAERR, "%s", err);

	struct coord_db *db = coord_db_new(cfg.database_url, false);
	if (coord_db_ready(db) != COORD_OK)
		coord_cli_die(&cli, EX_UNAVAILABLE, "cannot reach the database");
	enum coord_err e = coord_maint_lock_wait(db, COORD_LOCK_MIGRATE, 60);
	if (e == COORD_ERR_CONFLICT)
		coord_cli_die(&cli, EX_TEMPFAIL, "another coord-migrate holds the lock; try later");
	if (e != COORD_OK)
		coord_cli_die(&cli, coord_cli_db_exit_code(e), "cannot take the migration lock");
	err[0] = '\0';
	e = coord_migrate_status(db, &set, err, sizeof(err));
	if (e == COORD_ERR_INVALID)
		coord_cli_die(&cli, EX_DATAERR, "%s", err);
	if (e != COORD_OK)
		coord_cli_die(&cli, coord_cli_db_exit_code(e), "cannot read schema_migrations");

	size_t applied = 0;
	for (size_t i = 0; i < set.n; i++) {
		struct coord_migration *m = &set.m[i];
		if (status_only) {
			printf("%03d %s %s\n", m->version, m->name, m->applied ? "applied" : "pending");
			continue;
		}
		if (m->applied)
			continue;
		if (cli.dry_run) {
			printf("would apply %s\n", m->file);
			continue;
		}
		e = coord_migrate_apply(db, m, err, sizeof(err));
		if (e == COORD_ERR_INVALID)
			coord_cli_die(&cli, EX_DATAERR, "%s: %s", m->file, err);
		if (e != COORD_OK)
			coord_cli_die(&cli, e == COORD_ERR_UNAVAILABLE ? EX_TEMPFAIL
								     : coord_cli_db_exit_code(e),
				      "%s: not applied (%s)", m->file, err[0] ? err : "database error");
		applied++;
		if (!cli.quiet)
			printf("applied %s\n", m->file);
	}
	if (cli.verbose)
		fprintf(stderr, "%s: %zu migration(s) applied, %zu known\n", cli.program, applied, set.n);
	coord_db_free(db);
	coord_migrate_set_free(&set);
	coord_config_release(&cfg);
	return 0;
}
