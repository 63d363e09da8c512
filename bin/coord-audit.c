/* coord-audit: checks the ledger invariants and the queue rules (SPEC §4.7, §6.2). */
#include <stdio.h>

#include <json-c/json.h>

#include "coord_audit.h"
#include "coord_cli.h"
#include "coord_json.h"
#include "coord_maint.h"
#include "banned.h"

static const char usage[] =
	"Usage: coord-audit [--json] [-q] [-v] [-d URL] [-c FILE]\n"
	"Checks the ledger invariants I1-I7 (balances, reservations, charges, earnings) and the\n"
	"queue rules Q1-Q3 in one read-only snapshot. Prints nothing and exits 0 when all hold;\n"
	"otherwise prints one line per finding and exits 1:\n"
	"  <rule> <subject> expected=<x> actual=<y>\n"
	"  --json               print the findings as one JSON array of\n"
	"                       {\"rule\",\"subject\",\"expected\",\"actual\"} instead\n"
	"  -d, --database-url   PostgreSQL connection string (overrides DATABASE_URL)\n"
	"  -c, --config FILE    configuration file (instead of COORD_CONFIG)\n"
	"  -q, --quiet          print nothing but findings (the default)\n"
	"  -v, --verbose        print one summary line on stderr\n"
	"  -h, --help, -V, --version\n"
	"Exit status: 0 all rules hold (or another run holds the lock), 1 findings, 69 database\n"
	"unreachable, 70 internal error, 75 temporary failure, 78 configuration error.\n";

static const char *member(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

int main(int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct option options[] = {
		COORD_CLI_LONG,
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct coord_cli cli;
	struct coord_config cfg;
	json_object *findings;
	int opt;

	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT, options, NULL)) != -1) {
		if (!coord_cli_common(&cli, opt, optarg) && opt == OPT_JSON)
			cli.json = true;
	}
	coord_cli_no_operands(&cli, argc, argv);
	coord_cli_config(&cli, &cfg);
	struct coord_db *db = coord_cli_maint_db(&cli, &cfg, COORD_LOCK_AUDIT);
	if (!db)
		return 0; /* another run holds the lock */
	enum coord_err e = coord_audit(db, &findings);
	if (e != COORD_OK)
		coord_cli_die(&cli, coord_cli_db_exit_code(e), "stopped: database error");
	size_t n = json_object_array_length(findings);
	if (n > 0 && cli.json) {
		puts(coord_json_text(findings, NULL));
	} else {
		for (size_t i = 0; i < n; i++) {
			json_object *f = json_object_array_get_idx(findings, i);
			printf("%s %s expected=%s actual=%s\n", member(f, "rule"), member(f, "subject"),
			       member(f, "expected"), member(f, "actual"));
		}
	}
	if (cli.verbose)
		fprintf(stderr, "%s: %zu finding%s\n", cli.program, n, n == 1 ? "" : "s");
	json_object_put(findings);
	coord_db_free(db);
	coord_config_release(&cfg);
	return n > 0 ? 1 : 0;
}
