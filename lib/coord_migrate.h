/* Schema migrations sql/NNN_<name>.sql (SPEC §6.2 coord-migrate). */
#ifndef COORD_MIGRATE_H
#define COORD_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "coord_db.h"
#include "coord_err.h"

struct coord_migration {
	int version;
	char *file; /* "001_workers.sql" */
	char *name; /* "workers" */
	char *sql;
	char checksum[65];
	bool applied;
};

struct coord_migration_set {
	struct coord_migration *m; /* ascending versions 1..n */
	size_t n;
};

/*
 * Reads every NNN_<name>.sql of dir. COORD_ERR_INVALID (err filled) for
 * two files with one version, a gap, or an unreadable directory or file.
 */
enum coord_err coord_migrate_scan(const char *dir, struct coord_migration_set *set, char *err,
				  size_t errlen);
void coord_migrate_set_free(struct coord_migration_set *set);

/*
 * Creates schema_migrations if missing and marks the applied files.
 * COORD_ERR_INVALID (err filled) when an applied file's checksum changed.
 */
enum coord_err coord_migrate_status(struct coord_db *db, struct coord_migration_set *set,
				    char *err, size_t errlen);
/* Runs one file and records it, in one transaction. */
enum coord_err coord_migrate_apply(struct coord_db *db, struct coord_migration *m, char *err,
				   size_t errlen);

#endif
