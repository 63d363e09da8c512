#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_cli.h"
#include "coord_httpc.h"
#include "coord_log.h"
#include "coord_maint.h"
#include "banned.h"

void coord_cli_init(struct coord_cli *cli, const char *argv0, const char *usage)
{
	const char *slash = strrchr(argv0, '/');
	memset(cli, 0, sizeof(*cli));
	cli->program = slash ? slash + 1 : argv0;
	cli->usage = usage;
	opterr = 0; /* getopt would prefix its messages with the full path: ours name the program */
}

bool coord_cli_common(struct coord_cli *cli, int opt, const char *arg)
{
	switch (opt) {
	case 'h':
		fputs(cli->usage, stdout);
		exit(0);
	case 'V':
		printf("%s (coordinator) %s\n", cli->program, PACKAGE_VERSION);
		exit(0);
	case 'd':
		cli->ov.database_url = arg;
		return true;
	case 'c':
		cli->ov.config_file = arg;
		return true;
	case 'q':
		cli->quiet = true;
		return true;
	case 'v':
		cli->verbose = true;
		return true;
	case 'n':
		cli->dry_run = true;
		return true;
	case '?': /* unknown option, or an option without its argument */
		if (optopt > ' ' && optopt < 127)
			coord_cli_usage_error(cli, "unknown option -%c, or it needs an argument", optopt);
		coord_cli_usage_error(cli, "unknown option, or an option without its argument");
	default:
		return false;
	}
}

void coord_cli_no_operands(const struct coord_cli *cli, int argc, char **argv)
{
	if (optind < argc)
		coord_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
}

void coord_cli_die(const struct coord_cli *cli, int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cli->program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void coord_cli_usage_error(const struct coord_cli *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cli->program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* the synopsis only: its "Usage:" line and the indented lines that continue it, so the
	 * message stays on the screen; the rest is one --help away */
	const char *end = strchr(cli->usage, '\n');
	while (end && (end[1] == ' ' || end[1] == '\t'))
		end = strchr(end + 1, '\n');
	fprintf(stderr, "%.*s\nTry '%s --help' for more information.\n",
		end ? (int)(end - cli->usage) : (int)strlen(cli->usage), cli->usage, cli->program);
	exit(EX_USAGE);
}

void coord_cli_config(struct coord_cli *cli, struct coord_config *cfg)
{
	coord_config_load_or_exit(cfg, cli->program, &cli->ov);
	/* diagnostics are "<program>: ..." lines (SPEC §6.1); the library's own only for errors */
	coord_log_setup_program(cli->program, COORD_LOG_ERROR);
	coord_httpc_global_init();
}

struct coord_db *coord_cli_db(const struct coord_cli *cli, const struct coord_config *cfg)
{
	struct coord_db *db = coord_db_new(cfg->database_url, true);
	enum coord_err e = coord_db_ready(db);
	if (e == COORD_ERR_SCHEMA)
		coord_cli_die(cli, EX_UNAVAILABLE, "database schema outdated: run coord-migrate");
	if (e == COORD_ERR_UNAVAILABLE)
		coord_cli_die(cli, EX_UNAVAILABLE, "cannot reach the database");
	if (e != COORD_OK)
		coord_cli_die(cli, EX_SOFTWARE, "cannot prepare the statements");
	return db;
}

struct coord_db *coord_cli_maint_db(const struct coord_cli *cli, const struct coord_config *cfg,
				    int64_t lock_id)
{
	bool got;
	struct coord_db *db = coord_cli_db(cli, cfg);
	enum coord_err e = coord_maint_try_lock(db, lock_id, &got);
	if (e != COORD_OK)
		coord_cli_die(cli, coord_cli_db_exit_code(e), "cannot take advisory lock %lld",
			      (long long)lock_id);
	if (!got) {
		coord_db_free(db);
		return NULL;
	}
	coord_maint_catch_signals();
	return db;
}

int coord_cli_db_exit_code(enum coord_err e)
{
	if (e == COORD_ERR_UNAVAILABLE)
		return EX_UNAVAILABLE;
	if (e == COORD_ERR_CONFLICT)
		return EX_TEMPFAIL;
	return EX_SOFTWARE;
}

void coord_cli_maint_failed(const struct coord_cli *cli, enum coord_err e)
{
	if (coord_maint_interrupted())
		coord_cli_die(cli, EX_TEMPFAIL, "interrupted: stopped after the current transaction");
	coord_cli_die(cli, e == COORD_ERR_UNAVAILABLE ? EX_TEMPFAIL : coord_cli_db_exit_code(e),
		      "stopped: database error");
}
