/* coord-worker-token: manages worker bearer tokens (SPEC §6.2). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "coord_auth.h"
#include "coord_cli.h"
#include "coord_crypto.h"
#include "coord_json.h"
#include "coord_parse.h"
#include "banned.h"

static const char usage[] =
	"Usage: coord-worker-token COMMAND [options]\n"
	"  create --name NAME [--json]   make a token, store its hash, print it once\n"
	"  add --name NAME               store the hash of a token read from stdin\n"
	"  list [--all] [--json]         list tokens (active only unless --all)\n"
	"  revoke --name NAME | --hash PREFIX\n"
	"Common options: -d/--database-url URL, -c/--config FILE, -q/--quiet, -v/--verbose,\n"
	"  -h/--help, -V/--version\n";

struct args {
	const char *name;
	const char *hash;
	bool all;
};

static void check_name(const struct coord_cli *cli, const char *name)
{
	size_t len = strlen(name);
	if (!coord_utf8_valid(name, len) || coord_utf8_chars(name, len) < 1 ||
	    coord_utf8_chars(name, len) > 128)
		coord_cli_die(cli, EX_DATAERR, "--name must be 1 to 128 characters of UTF-8");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7F)
			coord_cli_die(cli, EX_DATAERR, "--name must not contain control characters");
}

static void print_json(json_object *o)
{
	puts(coord_json_text(o, NULL));
	json_object_put(o);
}

static int cmd_create(struct coord_cli *cli, struct coord_db *db, const struct args *a)
{
	char token[65], hash[65];
	if (coord_random_hex(32, token) != COORD_OK)
		coord_cli_die(cli, EX_SOFTWARE, "no randomness available");
	enum coord_err e = coord_tokens_add(db, a->name, token, 64, hash);
	if (e != COORD_OK)
		coord_cli_die(cli, coord_cli_db_exit_code(e), "cannot store the token");
	if (cli->json) {
		char prefix[13];
		memcpy(prefix, hash, 12);
		prefix[12] = '\0';
		json_object *o = json_object_new_object();
		json_object_object_add(o, "worker_name", json_object_new_string(a->name));
		json_object_object_add(o, "token", json_object_new_string(token));
		json_object_object_add(o, "token_hash_prefix", json_object_new_string(prefix));
		print_json(o);
	} else {
		puts(token);
	}
	return 0;
}

static int cmd_add(struct coord_cli *cli, struct coord_db *db, const struct args *a)
{
	char line[1026], hash[65];
	if (!fgets(line, sizeof(line), stdin))
		coord_cli_die(cli, EX_DATAERR, "no token on stdin");
	size_t len = strlen(line);
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	else if (!feof(stdin))
		coord_cli_die(cli, EX_DATAERR, "token longer than 1024 bytes");
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len < 1 || len > 1024)
		coord_cli_die(cli, EX_DATAERR, "token must be 1 to 1024 bytes");
	enum coord_err e = coord_tokens_add(db, a->name, line, len, hash);
	memset(line, 0, sizeof(line));
	if (e == COORD_ERR_CONFLICT)
		coord_cli_die(cli, EX_DATAERR, "this token is already stored");
	if (e != COORD_OK)
		coord_cli_die(cli, coord_cli_db_exit_code(e), "cannot store the token");
	if (!cli->quiet)
		printf("added token %.12s for %s\n", hash, a->name);
	return 0;
}

static json_object *opt_string(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static int cmd_list(struct coord_cli *cli, struct coord_db *db, const struct args *a)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_token_row *rows;
	size_t n;
	enum coord_err e = coord_tokens_list(db, a->all, &arena, &rows, &n);
	if (e != COORD_OK)
		coord_cli_die(cli, coord_cli_db_exit_code(e), "cannot list tokens");
	if (cli->json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "worker_name", json_object_new_string(rows[i].worker_name));
			json_object_object_add(o, "token_hash_prefix",
					       json_object_new_string(rows[i].hash_prefix));
			json_object_object_add(o, "is_active", json_object_new_boolean(rows[i].is_active));
			json_object_object_add(o, "created_at", opt_string(rows[i].created_at));
			json_object_object_add(o, "last_used_at", opt_string(rows[i].last_used_at));
			json_object_object_add(o, "last_attestation_at",
					       opt_string(rows[i].last_attestation_at));
			json_object_array_add(arr, o);
		}
		print_json(arr);
	} else {
		printf("NAME\tHASH\tACTIVE\tCREATED\tLAST_USED\tLAST_ATTESTATION\n");
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s\t%s\t%s\t%s\t%s\n", rows[i].worker_name, rows[i].hash_prefix,
			       rows[i].is_active ? "yes" : "no", rows[i].created_at,
			       rows[i].last_used_at ? rows[i].last_used_at : "-",
			       rows[i].last_attestation_at ? rows[i].last_attestation_at : "-");
	}
	coord_arena_release(&arena);
	return 0;
}

static int cmd_revoke(struct coord_cli *cli, struct coord_db *db, const struct args *a)
{
	enum coord_err e;
	if (a->name) {
		size_t count = 0;
		e = coord_tokens_revoke_name(db, a->name, &count);
		if (e == COORD_ERR_NOT_FOUND)
			coord_cli_die(cli, EX_DATAERR, "no active token named %s", a->name);
		if (e != COORD_OK)
			coord_cli_die(cli, coord_cli_db_exit_code(e), "cannot revoke");
		if (!cli->quiet)
			printf("revoked %zu token(s) of %s\n", count, a->name);
		return 0;
	}
	e = coord_tokens_revoke_prefix(db, a->hash);
	if (e == COORD_ERR_NOT_FOUND)
		coord_cli_die(cli, EX_DATAERR, "no token hash starts with %s", a->hash);
	if (e == COORD_ERR_CONFLICT)
		coord_cli_die(cli, EX_DATAERR, "hash prefix %s is ambiguous", a->hash);
	if (e != COORD_OK)
		coord_cli_die(cli, coord_cli_db_exit_code(e), "cannot revoke");
	if (!cli->quiet)
		printf("revoked token %s\n", a->hash);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_NAME = 256, OPT_HASH, OPT_ALL, OPT_JSON };
	static const struct option options[] = {
		COORD_CLI_LONG,
		{ "name", required_argument, NULL, OPT_NAME },
		{ "hash", required_argument, NULL, OPT_HASH },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct coord_cli cli;
	struct coord_config cfg;
	struct args a = { NULL, NULL, false };
	int opt;

	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT, options, NULL)) != -1) {
		if (coord_cli_common(&cli, opt, optarg))
			continue;
		if (opt == OPT_NAME)
			a.name = optarg;
		else if (opt == OPT_HASH)
			a.hash = optarg;
		else if (opt == OPT_ALL)
			a.all = true;
		else if (opt == OPT_JSON)
			cli.json = true;
	}
	if (optind != argc - 1)
		coord_cli_usage_error(&cli, "expected one command: create, add, list or revoke");
	const char *cmd = argv[optind];
	int (*run)(struct coord_cli *, struct coord_db *, const struct args *) = NULL;
	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "add") == 0) {
		if (!a.name || a.hash || a.all)
			coord_cli_usage_error(&cli, "%s takes --name NAME", cmd);
		run = cmd[0] == 'c' ? cmd_create : cmd_add;
		if (run == cmd_add && cli.json)
			coord_cli_usage_error(&cli, "add takes no --json");
	} else if (strcmp(cmd, "list") == 0) {
		if (a.name || a.hash)
			coord_cli_usage_error(&cli, "list takes only --all and --json");
		run = cmd_list;
	} else if (strcmp(cmd, "revoke") == 0) {
		if ((!a.name) == (!a.hash) || a.all || cli.json)
			coord_cli_usage_error(&cli, "revoke takes --name NAME or --hash PREFIX");
		run = cmd_revoke;
	} else {
		coord_cli_usage_error(&cli, "unknown command '%s'", cmd);
	}
	if (a.name)
		check_name(&cli, a.name);
	if (a.hash) {
		size_t len = strlen(a.hash);
		if (len < 8 || len > 64 || !coord_lowerhex_valid(a.hash, len, len))
			coord_cli_die(&cli, EX_DATAERR, "--hash must be 8 to 64 lower-case hex characters");
	}
	coord_cli_config(&cli, &cfg);
	struct coord_db *db = coord_cli_db(&cli, &cfg);
	int rc = run(&cli, db, &a);
	coord_db_free(db);
	coord_config_release(&cfg);
	return rc;
}
