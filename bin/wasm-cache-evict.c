/* wasm-cache-evict: keeps the WASM cache consistent and under its cap (SPEC §6.2). */
#include <stdio.h>
#include <string.h>

#include "coord_cli.h"
#include "coord_maint.h"
#include "coord_parse.h"
#include "coord_wasmcache.h"
#include "banned.h"

static const char usage[] =
	"Usage: wasm-cache-evict [-n] [--max-bytes N] [--verify] [-q] [-v] [-d URL] [-c FILE]\n"
	"Deletes rows whose file is missing, orphan and stale temporary files older than an\n"
	"hour, and the least recently used entries above the cap.\n"
	"  --max-bytes N        cap in bytes (default WASM_CACHE_MAX_SIZE_BYTES, else _GB); 0 = none\n"
	"  --verify             re-hash every file; delete those that do not match\n"
	"  -n, --dry-run        print what would be deleted, change nothing\n"
	COORD_CLI_MAINT_OPTIONS_USAGE;

int main(int argc, char **argv)
{
	enum { OPT_MAX = 256, OPT_VERIFY };
	static const struct option options[] = {
		COORD_CLI_LONG,
		{ "max-bytes", required_argument, NULL, OPT_MAX },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		COORD_CLI_DRY_RUN,
		{ NULL, 0, NULL, 0 },
	};
	struct coord_cli cli;
	struct coord_config cfg;
	struct coord_evict_counts n;
	const char *max_bytes = NULL;
	int64_t cap;
	bool verify = false;
	int opt;

	coord_cli_init(&cli, argv[0], usage);
	while ((opt = getopt_long(argc, argv, COORD_CLI_SHORT "n", options, NULL)) != -1) {
		if (coord_cli_common(&cli, opt, optarg))
			continue;
		if (opt == OPT_MAX)
			max_bytes = optarg;
		else if (opt == OPT_VERIFY)
			verify = true;
	}
	coord_cli_no_operands(&cli, argc, argv);
	if (max_bytes && coord_parse_i64(max_bytes, strlen(max_bytes), 0, INT64_MAX, &cap) != COORD_OK)
		coord_cli_die(&cli, EX_DATAERR, "--max-bytes must be an integer from 0 to 2^63-1");
	coord_cli_config(&cli, &cfg);
	if (!max_bytes)
		cap = cfg.wasm_cache_max_bytes;
	coord_config_cache_dir_or_exit(&cfg);
	struct coord_db *db = coord_cli_maint_db(&cli, &cfg, COORD_LOCK_WASM_EVICT);
	if (!db)
		return 0; /* another run holds the lock */
	enum coord_err e = coord_wasm_evict(db, &cfg, cap, verify, cli.dry_run,
					    cli.dry_run ? stdout : NULL, &n);
	if (e == COORD_ERR_IO)
		coord_cli_die(&cli, EX_CONFIG, "cannot read WASM_CACHE_DIR %s", cfg.wasm_cache_dir);
	if (e != COORD_OK)
		coord_cli_maint_failed(&cli, e);
	if (cli.verbose)
		fprintf(stderr, "%s: rows without file %ld, orphans %ld, temporary files %ld, "
				"evicted %ld (%lld bytes), corrupt %ld, verified %ld\n", cli.program,
			n.rows_without_file, n.orphans, n.temp_files, n.evicted, (long long)n.freed_bytes,
			n.corrupt, n.verified);
	coord_db_free(db);
	coord_config_release(&cfg);
	return 0;
}
