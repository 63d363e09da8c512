/*
 * The skeleton every bin/ program shares (SPEC §6.1): getopt_long with the
 * common options, --help/--version, one-line diagnostics prefixed with the
 * program name, and sysexits.h exit codes.
 */
#ifndef COORD_CLI_H
#define COORD_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <sysexits.h>

#include "coord_config.h"
#include "coord_db.h"

struct coord_cli {
	const char *program; /* base name of argv[0] */
	const char *usage;   /* full usage text, printed by --help; its synopsis on usage errors */
	struct coord_config_overrides ov;
	bool quiet, verbose, dry_run, json;
};

#define COORD_CLI_SHORT "hVd:c:qv"
#define COORD_CLI_LONG                                      \
	{ "help", no_argument, NULL, 'h' },                 \
	{ "version", no_argument, NULL, 'V' },              \
	{ "database-url", required_argument, NULL, 'd' },   \
	{ "config", required_argument, NULL, 'c' },         \
	{ "quiet", no_argument, NULL, 'q' },                \
	{ "verbose", no_argument, NULL, 'v' }
/* The usage lines of COORD_CLI_LONG shared by the maintenance programs (SPEC §6.1); the
 * last string of their usage text. */
#define COORD_CLI_MAINT_OPTIONS_USAGE                                                      \
	"  -d, --database-url   PostgreSQL connection string (overrides DATABASE_URL)\n"     \
	"  -c, --config FILE    configuration file (instead of COORD_CONFIG)\n"              \
	"  -q, --quiet          print nothing on success (the default)\n"                    \
	"  -v, --verbose        print one summary line\n"                                    \
	"  -h, --help, -V, --version\n"
/* For the programs that take -n (add "n" to their short options too). */
#define COORD_CLI_DRY_RUN { "dry-run", no_argument, NULL, 'n' }

void coord_cli_init(struct coord_cli *cli, const char *argv0, const char *usage);
/*
 * Handles one getopt_long result if it is a common option, -n included
 * (-h and -V exit 0 here; '?' and ':' exit 64). Returns false for the
 * caller's own options.
 */
bool coord_cli_common(struct coord_cli *cli, int opt, const char *arg);
/* After getopt_long: a leftover operand is a usage error (exit 64). */
void coord_cli_no_operands(const struct coord_cli *cli, int argc, char **argv);
/* "<program>: <message>" on stderr, then exit(code). */
void coord_cli_die(const struct coord_cli *cli, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
/* A usage error: the message, the usage text's synopsis and a pointer to --help on stderr,
 * exit 64. */
void coord_cli_usage_error(const struct coord_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Loads the configuration with the flags' overrides, or exits 78. */
void coord_cli_config(struct coord_cli *cli, struct coord_config *cfg);
/*
 * Opens the database (schema checked and statements prepared), or exits
 * 69 when it cannot be reached or its schema is outdated.
 */
struct coord_db *coord_cli_db(const struct coord_cli *cli, const struct coord_config *cfg);
/*
 * The start of a maintenance program (SPEC §6.1): the database, then the
 * program's session advisory lock. NULL when another run holds the lock
 * (the program then exits 0 without a word); exits 69/70 on errors.
 */
struct coord_db *coord_cli_maint_db(const struct coord_cli *cli, const struct coord_config *cfg,
				    int64_t lock_id);
/* Exit code for a failed database call: 69, 75 (conflict) or 70. */
int coord_cli_db_exit_code(enum coord_err e);
/*
 * A maintenance program's work stopped with e: exits 75 when a signal
 * interrupted it or the connection was lost mid-run, else as
 * coord_cli_db_exit_code, with one diagnostic line.
 */
void coord_cli_maint_failed(const struct coord_cli *cli, enum coord_err e)
	__attribute__((noreturn));

#endif
