#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_buf.h"
#include "coord_crypto.h"
#include "coord_mem.h"
#include "coord_migrate.h"
#include "coord_parse.h"
#include "banned.h"

/* Run unprepared: this program is the one that creates the schema. */
enum { MIG_HAS_TABLE, MIG_CREATE_TABLE, MIG_APPLIED, MIG_RECORD };

static const struct coord_stmt stmts[] = {
	[MIG_HAS_TABLE] = { "migrate_has_table",
		"SELECT to_regclass('public.schema_migrations') IS NOT NULL" },
	[MIG_CREATE_TABLE] = { "migrate_create_table",
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		" version INTEGER PRIMARY KEY,"
		" name TEXT NOT NULL,"
		" checksum CHAR(64) NOT NULL,"
		" applied_at TIMESTAMPTZ NOT NULL DEFAULT now())" },
	[MIG_APPLIED] = { "migrate_applied", "SELECT version, checksum FROM schema_migrations" },
	[MIG_RECORD] = { "migrate_record",
		"INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)" },
};

static int by_version(const void *a, const void *b)
{
	const struct coord_migration *x = a, *y = b;
	return (x->version > y->version) - (x->version < y->version);
}

static bool read_all(const char *path, struct coord_buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t got;
	if (!f)
		return false;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		coord_buf_add(out, chunk, got);
	bool ok = !ferror(f);
	fclose(f);
	return ok;
}

enum coord_err coord_migrate_scan(const char *dir, struct coord_migration_set *set, char *err,
				  size_t errlen)
{
	enum coord_err status = COORD_ERR_INVALID;
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	set->m = NULL;
	set->n = 0;
	if (!d) {
		snprintf(err, errlen, "cannot open migrations directory %s", dir);
		return COORD_ERR_INVALID;
	}
	while ((de = readdir(d)) != NULL) {
		const char *f = de->d_name;
		size_t len = strlen(f);
		int64_t v;
		if (len < 9 || f[3] != '_' || strcmp(f + len - 4, ".sql") != 0 ||
		    coord_parse_i64(f, 3, 0, 999, &v) != COORD_OK)
			continue;
		if (set->n == cap) {
			cap = cap ? cap * 2 : 16;
			set->m = coord_xrealloc(set->m, cap * sizeof(*set->m));
		}
		struct coord_migration *m = &set->m[set->n++];
		memset(m, 0, sizeof(*m));
		m->version = (int)v;
		m->file = coord_xstrdup(f);
		m->name = coord_xmemdup(f + 4, len - 8);
		struct coord_buf path = COORD_BUF_INIT, text = COORD_BUF_INIT;
		coord_buf_addf(&path, "%s/%s", dir, f);
		bool ok = read_all(path.ptr, &text);
		coord_buf_release(&path);
		if (!ok) {
			coord_buf_release(&text);
			snprintf(err, errlen, "cannot read %s/%s", dir, f);
			goto out;
		}
		coord_sha256_hex(coord_buf_str(&text), text.len, m->checksum);
		m->sql = coord_buf_detach(&text, NULL);
	}
	qsort(set->m, set->n, sizeof(*set->m), by_version);
	for (size_t i = 0; i < set->n; i++) {
		if (i > 0 && set->m[i].version == set->m[i - 1].version) {
			snprintf(err, errlen, "two migrations with version %03d: %s and %s",
				 set->m[i].version, set->m[i - 1].file, set->m[i].file);
			goto out;
		}
		if (set->m[i].version != (int)i + 1) {
			snprintf(err, errlen, "gap in migration versions: expected %03zu, found %s", i + 1,
				 set->m[i].file);
			goto out;
		}
	}
	status = COORD_OK;
out:
	closedir(d);
	if (status != COORD_OK)
		coord_migrate_set_free(set);
	return status;
}

void coord_migrate_set_free(struct coord_migration_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->m[i].file);
		free(set->m[i].name);
		free(set->m[i].sql);
	}
	free(set->m);
	set->m = NULL;
	set->n = 0;
}

enum coord_err coord_migrate_status(struct coord_db *db, struct coord_migration_set *set,
				    char *err, size_t errlen)
{
	PGresult *res;
	/* --status and -n write nothing: without the table, nothing is applied yet */
	enum coord_err e = coord_db_exec(db, &stmts[MIG_HAS_TABLE], 0, NULL, &res);
	if (e != COORD_OK)
		return e;
	bool has_table = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!has_table)
		return COORD_OK;
	e = coord_db_exec(db, &stmts[MIG_APPLIED], 0, NULL, &res);
	if (e != COORD_OK)
		return e;
	for (int row = 0; row < PQntuples(res); row++) {
		long v = strtol(PQgetvalue(res, row, 0), NULL, 10);
		const char *sum = PQgetvalue(res, row, 1);
		for (size_t i = 0; i < set->n; i++) {
			if (set->m[i].version != v)
				continue;
			set->m[i].applied = true;
			if (strcmp(set->m[i].checksum, sum) != 0) {
				snprintf(err, errlen, "%s was changed after it was applied (checksum %.12s…, "
					 "applied %.12s…)", set->m[i].file, set->m[i].checksum, sum);
				e = COORD_ERR_INVALID;
			}
		}
		if (e != COORD_OK)
			break;
	}
	PQclear(res);
	return e;
}

enum coord_err coord_migrate_apply(struct coord_db *db, struct coord_migration *m, char *err,
				   size_t errlen)
{
	char version[16];
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	e = coord_db_exec(db, &stmts[MIG_CREATE_TABLE], 0, NULL, NULL);
	if (e == COORD_OK)
		e = coord_db_exec_script(db, m->sql, err, errlen);
	if (e == COORD_OK) {
		snprintf(version, sizeof(version), "%d", m->version);
		const char *p[] = { version, m->name, m->checksum };
		e = coord_db_exec(db, &stmts[MIG_RECORD], 3, p, NULL);
		if (e != COORD_OK)
			snprintf(err, errlen, "cannot record version %d", m->version);
	}
	if (e == COORD_OK)
		e = coord_db_commit(db);
	if (e != COORD_OK)
		coord_db_rollback(db);
	else
		m->applied = true;
	return e;
}
