/* coord-project: manages the local projects that always win resolution (SPEC §6.2, D9). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "coord_cli.h"
#include "coord_json.h"
#include "coord_parse.h"
#include "coord_projects.h"
#include "coord_redis.h"
#include "banned.h"

static const char usage[] =
	"Usage: coord-project COMMAND [options]\n"
	"  register --project-id OWNER/NAME [--uuid UUID] [--active-version V] [--note TEXT] [--json]\n"
	"                 add or update a local project and print its uuid (a new project\n"
	"                 without --uuid gets a random one; omitted values keep what is stored)\n"
	"  list [--json]  list the local projects\n"
	"  remove --project-id OWNER/NAME\n"
	"Registering or removing a project also drops its cached uuid from Redis.\n"
	"Common options: -d/--database-url URL, -c/--config FILE, -q/--quiet, -v/--verbose,\n"
	"  -h/--help, -V/--version\n";

struct args {
	const char *project_id, *active_version, *note;
	char *uuid; /* lower-cased in place */
};

/* 1..max bytes of UTF-8 without control characters, else exit 65. */
static void check_text(const struct coord_cli *cli, const char *option, const char *v, size_t min,
		       size_t max)
{
	size_t len = strlen(v);
	bool ok = len >= min && len <= max && coord_utf8_valid(v, len);
	for (size_t i = 0; ok && i < len; i++)
		ok = (unsigned char)v[i] >= 0x20 && v[i] != 0x7F;
	if (!ok)
		coord_cli_die(cli, EX_DATAERR, "%s must be %zu to %zu bytes of UTF-8 without control "
					       "characters", option, min, max);
}

static json_object *opt_string(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* The Redis cache of a project must not outlive a change of its local row. */
static void forget_cached(const struct coord_cli *cli, const struct coord_config *cfg,
			  const char *project_id)
{
	struct coord_redis *redis = coord_redis_new(&cfg->redis);
	if (coord_project_forget(redis, project_id) != COORD_OK)
		fprintf(stderr, "%s: warning: cannot drop the cached uuid of %s from Redis\n",
			cli->program, project_id);
	coord_redis_free(redis);
}

static int cmd_register(struct coord_cli *cli, struct coord_db *db, const struct coord_config *cfg,
			const struct args *a)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	const char *uuid;
	enum coord_err e = coord_local_project_register(db, a->project_id, a->uuid,
							a->active_version, a->note, &arena, &uuid);
	if (e == COORD_ERR_CONFLICT)
		coord_cli_die(cli, EX_DATAERR, "uuid %s already belongs to another project", a->uuid);
	if (e != COORD_OK)
		coord_cli_die(cli, coord_cli_db_exit_code(e), "cannot register %s", a->project_id);
	forget_cached(cli, cfg, a->project_id);
	if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "project_id", json_object_new_string(a->project_id));
		json_object_object_add(o, "uuid", json_object_new_string(uuid));
		puts(coord_json_text(o, NULL));
		json_object_put(o);
	} else {
		puts(uuid);
	}
	coord_arena_release(&arena);
	return 0;
}

static int cmd_list(struct coord_cli *cli, struct coord_db *db, const struct coord_config *cfg,
		    const struct args *a)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_local_project *rows;
	size_t n;
	(void)cfg;
	(void)a;
	enum coord_err e = coord_local_project_list(db, &arena, &rows, &n);
	if (e != COORD_OK)
		coord_cli_die(cli, coord_cli_db_exit_code(e), "cannot list the projects");
	if (cli->json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "project_id", json_object_new_string(rows[i].project_id));
			json_object_object_add(o, "uuid", json_object_new_string(rows[i].uuid));
			json_object_object_add(o, "active_version",
					       json_object_new_string(rows[i].active_version));
			json_object_object_add(o, "note", opt_string(rows[i].note));
			json_object_object_add(o, "created_at", json_object_new_string(rows[i].created_at));
			json_object_object_add(o, "updated_at", json_object_new_string(rows[i].updated_at));
			json_object_array_add(arr, o);
		}
		puts(coord_json_text(arr, NULL));
		json_object_put(arr);
	} else {
		printf("PROJECT\tUUID\tACTIVE_VERSION\tUPDATED\tNOTE\n");
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s\t%s\t%s\t%s\n", rows[i].project_id, rows[i].uuid,
			       rows[i].active_version[0] ? rows[i].active_version : "-",
			       rows[i].updated_at, rows[i].note ? rows[i].note : "-");
	}
	coord_arena_release(&arena);
	return 0;
}

static int cmd_remove(struct coord_cli *cli, struct coord_db *db, const struct coord_config *cfg,
		      const struct args *a)
{
	enum coord_err e = coord_local_project_remove(db, a->project_id);
	if (e == COORD_ERR_NOT_FOUND)
		coord_cli_die(cli, EX_DATAERR, "no local project %s", a->project_id);
	if (e != COORD_OK)
		coord_cli_die(cli, coord_cli_db_exit_code(e), "cannot remove %s", a->project_id);
	forget_cached(cli, cfg, a->project_id);
	if (!cli->quiet)
		printf("removed %s\n", a->project_id);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_PROJECT_ID = 256, OPT_UUID, OPT_ACTIVE_VERSION, OPT_NOTE, OPT_JSON };
	static const struct option options[] = {
		COORD_CLI_LONG,
		{ "project-id", required_argument, NULL, OPT_PROJECT_ID },
		{ "uuid", required_argument, NULL, OPT_UUID },
		{ "active-version", required_argument, NULL, OPT_ACTIVE_VERSION },
		{ "note", required_argument, NULL, OPT_NOTE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct coord_cli cli;
	struct coord_config cfg;
	struct args a = { NULL, NULL, NULL, NULL };
	int opt;

	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT, options, NULL)) != -1) {
		if (coord_cli_common(&cli, opt, optarg))
			continue;
		if (opt == OPT_PROJECT_ID)
			a.project_id = optarg;
		else if (opt == OPT_UUID)
			a.uuid = optarg;
		else if (opt == OPT_ACTIVE_VERSION)
			a.active_version = optarg;
		else if (opt == OPT_NOTE)
			a.note = optarg;
		else if (opt == OPT_JSON)
			cli.json = true;
	}
	if (optind != argc - 1)
		coord_cli_usage_error(&cli, "expected one command: register, list or remove");
	const char *cmd = argv[optind];
	bool extra = a.uuid || a.active_version || a.note;
	int (*run)(struct coord_cli *, struct coord_db *, const struct coord_config *,
		   const struct args *) = NULL;
	if (strcmp(cmd, "register") == 0) {
		if (!a.project_id)
			coord_cli_usage_error(&cli, "register takes --project-id OWNER/NAME");
		run = cmd_register;
	} else if (strcmp(cmd, "list") == 0) {
		if (a.project_id || extra)
			coord_cli_usage_error(&cli, "list takes only --json");
		run = cmd_list;
	} else if (strcmp(cmd, "remove") == 0) {
		if (!a.project_id || extra || cli.json)
			coord_cli_usage_error(&cli, "remove takes --project-id OWNER/NAME");
		run = cmd_remove;
	} else {
		coord_cli_usage_error(&cli, "unknown command '%s'", cmd);
	}
	if (a.project_id && !coord_project_id_valid(a.project_id))
		coord_cli_die(&cli, EX_DATAERR, "--project-id must be OWNER/NAME (owner 1-64, name "
						"1-128 characters, no control characters)");
	if (a.uuid && !coord_uuid_valid(a.uuid, strlen(a.uuid)))
		coord_cli_die(&cli, EX_DATAERR, "--uuid must be a UUID (8-4-4-4-12 hex digits)");
	for (char *c = a.uuid; c && *c; c++) /* UUIDs are stored and shown in lower case (§1.3) */
		*c = (char)tolower((unsigned char)*c);
	if (a.active_version)
		check_text(&cli, "--active-version", a.active_version, 0, 1024);
	if (a.note)
		check_text(&cli, "--note", a.note, 0, 1024);
	coord_cli_config(&cli, &cfg);
	struct coord_db *db = coord_cli_db(&cli, &cfg);
	int rc = run(&cli, db, &cfg, &a);
	coord_db_free(db);
	coord_config_release(&cfg);
	return rc;
}
