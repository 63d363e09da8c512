/* grant-payment-key: the operators' grant of credit to a payment key (SPEC §3.5, §6.2). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "coord_cli.h"
#include "coord_json.h"
#include "coord_parse.h"
#include "coord_paykeys.h"
#include "banned.h"

static const char usage[] =
	"Usage: grant-payment-key --owner OWNER --nonce NONCE --amount AMOUNT [--note TEXT]\n"
	"                         [-n] [--json] [-d URL] [-c FILE] [-q] [-v]\n"
	"Grants AMOUNT stablecoin minimal units to the payment key OWNER:NONCE and marks it a\n"
	"grant key. The key must already exist (the user creates it on chain; this tool never\n"
	"creates a key or learns its secret); a key holding a user-funded balance is refused.\n"
	"The grant is recorded in payment_key_grants with source 'cli'.\n"
	"\n"
	"  --owner OWNER        the key's owner account (1 to 64 characters)\n"
	"  --nonce NONCE        the key's nonce (0 to 4294967295)\n"
	"  --amount AMOUNT      decimal minimal units, greater than 0, at most 38 digits\n"
	"  --note TEXT          kept with the grant (at most 1024 characters)\n"
	"  -n, --dry-run        run the same statements in a transaction that is rolled back,\n"
	"                       and print what would have been written\n"
	"  --json               print the answer of POST /admin/grant-payment-key as JSON\n"
	"  -d, --database-url   PostgreSQL connection string (overrides DATABASE_URL)\n"
	"  -c, --config FILE    configuration file (instead of COORD_CONFIG)\n"
	"  -q, --quiet          print nothing on success (unless --json)\n"
	"  -v, --verbose        print library diagnostics\n"
	"  -h, --help, -V, --version\n"
	"\n"
	"Output: granted AMOUNT to OWNER:NONCE; initial_balance=TOTAL  (\"dry run: \" first with -n)\n"
	"Exit status: 0 granted (or would be), 64 usage error, 65 invalid value, unknown or deleted\n"
	"key, user-funded key or a balance that would reach 10^38, 69 database unreachable,\n"
	"70 internal error, 75 temporary failure (retry), 78 configuration error.\n"
	"\n"
	"Example:\n"
	"  grant-payment-key --owner alice.near --nonce 1 --amount 5000000 --note 'hackathon' -n\n";

struct args {
	const char *owner, *nonce_text, *amount, *note;
	int64_t nonce;
	char amount_canon[39];
};

/* The checks of SPEC §6.2, all before connecting: a missing option is 64, a bad value 65. */
static void check_args(const struct coord_cli *cli, struct args *a)
{
	if (!a->owner || !a->nonce_text || !a->amount)
		coord_cli_usage_error(cli, "--owner, --nonce and --amount are required");
	size_t len = strlen(a->owner);
	if (!coord_utf8_valid(a->owner, len) || len == 0 ||
	    coord_utf8_chars(a->owner, len) > COORD_PAYKEY_OWNER_MAX)
		coord_cli_die(cli, EX_DATAERR, "--owner must be 1 to %d characters of UTF-8",
			      COORD_PAYKEY_OWNER_MAX);
	if (coord_parse_i64(a->nonce_text, strlen(a->nonce_text), 0, COORD_PAYKEY_NONCE_MAX,
			    &a->nonce) != COORD_OK)
		coord_cli_die(cli, EX_DATAERR, "--nonce must be an integer from 0 to %lld",
			      COORD_PAYKEY_NONCE_MAX);
	len = strlen(a->amount);
	const char *problem = coord_paykeys_grant_amount_problem(a->amount, len);
	if (problem)
		coord_cli_die(cli, EX_DATAERR, "--amount %s: %s (a decimal number of 1 to 38 digits)",
			      a->amount, problem);
	coord_money_canonical(a->amount, len, a->amount_canon);
	if (a->note) {
		len = strlen(a->note);
		if (!coord_utf8_valid(a->note, len) ||
		    coord_utf8_chars(a->note, len) > COORD_PAYKEY_NOTE_MAX)
			coord_cli_die(cli, EX_DATAERR, "--note must be at most %d characters of UTF-8",
				      COORD_PAYKEY_NOTE_MAX);
	}
}

int main(int argc, char **argv)
{
	enum { OPT_OWNER = 256, OPT_NONCE, OPT_AMOUNT, OPT_NOTE, OPT_JSON };
	static const struct option options[] = {
		COORD_CLI_LONG,
		COORD_CLI_DRY_RUN,
		{ "owner", required_argument, NULL, OPT_OWNER },
		{ "nonce", required_argument, NULL, OPT_NONCE },
		{ "amount", required_argument, NULL, OPT_AMOUNT },
		{ "note", required_argument, NULL, OPT_NOTE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct coord_cli cli;
	struct coord_config cfg;
	struct args a;
	json_object *answer;
	int opt;

	memset(&a, 0, sizeof(a));
	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT "n", options, NULL)) != -1) {
		if (coord_cli_common(&cli, opt, optarg))
			continue;
		if (opt == OPT_OWNER)
			a.owner = optarg;
		else if (opt == OPT_NONCE)
			a.nonce_text = optarg;
		else if (opt == OPT_AMOUNT)
			a.amount = optarg;
		else if (opt == OPT_NOTE)
			a.note = optarg;
		else if (opt == OPT_JSON)
			cli.json = true;
	}
	coord_cli_no_operands(&cli, argc, argv);
	check_args(&cli, &a);
	coord_cli_config(&cli, &cfg);
	struct coord_db *db = coord_cli_db(&cli, &cfg);

	struct coord_paykey_grant g = { a.owner, a.nonce, a.amount_canon, a.note, true, cli.dry_run };
	enum coord_err e = coord_paykeys_grant(db, &g, &answer);
	if (e == COORD_ERR_NOT_FOUND)
		coord_cli_die(&cli, EX_DATAERR, "payment key %s:%lld not found", a.owner,
			      (long long)a.nonce);
	if (e == COORD_ERR_CONFLICT)
		coord_cli_die(&cli, EX_DATAERR, "key has a user-funded balance; grants are refused");
	if (e == COORD_ERR_RANGE)
		coord_cli_die(&cli, EX_DATAERR, "the balance of %s:%lld would reach 10^38", a.owner,
			      (long long)a.nonce);
	if (e != COORD_OK)
		coord_cli_die(&cli, coord_cli_db_exit_code(e), "the grant failed: database error");

	json_object *total;
	json_object_object_get_ex(answer, "initial_balance", &total);
	if (cli.json) {
		if (cli.dry_run)
			json_object_object_add(answer, "dry_run", json_object_new_boolean(true));
		puts(coord_json_text(answer, NULL));
	} else if (!cli.quiet) {
		printf("%sgranted %s to %s:%lld; initial_balance=%s\n", cli.dry_run ? "dry run: " : "",
		       a.amount_canon, a.owner, (long long)a.nonce, json_object_get_string(total));
	}
	json_object_put(answer);
	coord_db_free(db);
	coord_config_release(&cfg);
	return 0;
}
