/*
 * Projects (SPEC §4.3): resolution of "<owner>/<name>" to the project's
 * uuid (local_projects, then the Redis cache project_by_uuid:<id>, then the
 * contract's get_project), and the local projects that coord-project
 * manages (D9: they always win).
 */
#ifndef COORD_PROJECTS_H
#define COORD_PROJECTS_H

#include <stdbool.h>
#include <stddef.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"
#include "coord_mem.h"
#include "coord_redis.h"

enum coord_project_source { COORD_PROJECT_LOCAL, COORD_PROJECT_CACHE, COORD_PROJECT_CHAIN };

struct coord_project {
	const char *uuid;           /* from the caller's arena */
	const char *active_version; /* local row's or contract's; NULL when from the Redis cache */
	enum coord_project_source source;
};

/*
 * local_projects row, else (use_cache) Redis project_by_uuid:<id> (a Redis
 * failure is a miss), else NEAR get_project (found: SET
 * project_by_uuid:<id>, a failure ignored). COORD_ERR_NOT_FOUND: unknown,
 * or NEAR off; COORD_ERR_UPSTREAM: NEAR failed or answered garbage;
 * COORD_ERR_UNAVAILABLE/SCHEMA/INTERNAL: the database.
 */
enum coord_err coord_project_resolve(struct coord_db *db, struct coord_redis *redis,
				     const struct coord_config *cfg, const char *project_id,
				     bool use_cache, struct coord_arena *arena,
				     struct coord_project *out);

/* DEL project_by_uuid:<id>. COORD_ERR_UNAVAILABLE when Redis is unreachable. */
enum coord_err coord_project_forget(struct coord_redis *redis, const char *project_id);

/*
 * A project id as POST /call forms it: "<owner>/<name>", owner 1-64 and name
 * 1-128 characters of UTF-8 (the name may hold '/'), no control characters.
 */
bool coord_project_id_valid(const char *project_id);

/* ---- local projects (coord-project) ---- */

struct coord_local_project {
	const char *project_id, *uuid, *active_version, *note; /* note may be NULL */
	const char *created_at, *updated_at;                  /* RFC 3339 */
};

/*
 * Inserts or updates a local project. uuid NULL: a new project gets a random
 * v4 uuid, an existing one keeps its own; active_version and note NULL keep
 * the stored value (a new project: "" and none). *uuid_out (from arena) is
 * the project's uuid. COORD_ERR_CONFLICT: the uuid belongs to another project.
 */
enum coord_err coord_local_project_register(struct coord_db *db, const char *project_id,
					    const char *uuid, const char *active_version,
					    const char *note, struct coord_arena *arena,
					    const char **uuid_out);

/* Every local project, by project id; rows and their strings from arena. */
enum coord_err coord_local_project_list(struct coord_db *db, struct coord_arena *arena,
					struct coord_local_project **rows, size_t *n);

/* COORD_ERR_NOT_FOUND when there is no such local project. */
enum coord_err coord_local_project_remove(struct coord_db *db, const char *project_id);

#endif
