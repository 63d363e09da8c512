#include <stdlib.h>
#include <string.h>

#include "coord_int.h"
#include "coord_json.h"
#include "coord_log.h"
#include "coord_near.h"
#include "coord_parse.h"
#include "coord_projects.h"
#include "banned.h"

enum {
	PROJ_LOCAL,
	PROJ_REGISTER,
	PROJ_LIST,
	PROJ_REMOVE,
};

const struct coord_stmt coord_projects_stmts[] = {
	[PROJ_LOCAL] = { "projects_local",
		"SELECT uuid, active_version FROM local_projects WHERE project_id = $1" },
	[PROJ_REGISTER] = { "projects_register",
		"INSERT INTO local_projects (project_id, uuid, active_version, note) "
		"VALUES ($1, coalesce($2, gen_random_uuid()::text), coalesce($3, ''), $4) "
		"ON CONFLICT (project_id) DO UPDATE SET uuid = coalesce($2, local_projects.uuid), "
		"active_version = coalesce($3, local_projects.active_version), "
		"note = coalesce($4, local_projects.note), updated_at = now() RETURNING uuid" },
	[PROJ_LIST] = { "projects_list",
		"SELECT project_id, uuid, active_version, note, " COORD_SQL_TS("created_at") ", "
		COORD_SQL_TS("updated_at") " FROM local_projects ORDER BY project_id" },
	[PROJ_REMOVE] = { "projects_remove",
		"DELETE FROM local_projects WHERE project_id = $1 RETURNING 1" },
};
const size_t coord_projects_nstmts = sizeof(coord_projects_stmts) / sizeof(coord_projects_stmts[0]);

/* Limits on what the contract may hand us (untrusted input, SPEC §4.2). */
#define CHAIN_UUID_MAX 64
#define CHAIN_VERSION_MAX 1024

static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return false;
	return coord_utf8_valid(s, len);
}

bool coord_project_id_valid(const char *project_id)
{
	const char *slash = strchr(project_id, '/');
	size_t len = strlen(project_id);
	if (!slash || !printable(project_id, len))
		return false;
	size_t owner = coord_utf8_chars(project_id, (size_t)(slash - project_id));
	size_t name = coord_utf8_chars(slash + 1, len - (size_t)(slash - project_id) - 1);
	return owner >= 1 && owner <= 64 && name >= 1 && name <= 128;
}

/* The cached uuid, or NULL (a miss, also when Redis is unreachable). */
static const char *cache_get(struct coord_redis *redis, const char *project_id,
			     struct coord_arena *arena)
{
	const char *uuid = NULL;
	redisReply *rep = coord_redis_command(redis, 2000, "GET project_by_uuid:%s", project_id);
	if (!rep) {
		coord_log(COORD_LOG_WARN, "projects: Redis unreachable; cache miss");
		return NULL;
	}
	if (rep->type == REDIS_REPLY_STRING && rep->len > 0)
		uuid = coord_arena_memdup(arena, rep->str, rep->len);
	freeReplyObject(rep);
	return uuid;
}

static void cache_set(struct coord_redis *redis, const char *project_id, const char *uuid)
{
	redisReply *rep = coord_redis_command(redis, 2000, "SET project_by_uuid:%s %s", project_id,
					      uuid);
	if (!rep)
		coord_log(COORD_LOG_WARN, "projects: Redis unreachable; uuid not cached");
	else
		freeReplyObject(rep);
}

/* A string member of the contract's answer, within bounds; NULL otherwise. */
static const char *chain_string(json_object *o, const char *key, size_t min, size_t max,
				struct coord_arena *arena)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	size_t len = (size_t)json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	if (len < min || len > max || memchr(s, '\0', len) || !printable(s, len))
		return NULL;
	return coord_arena_memdup(arena, s, len);
}

static enum coord_err from_chain(const struct coord_config *cfg, const char *project_id,
				 struct coord_arena *arena, struct coord_project *out)
{
	json_object *args = json_object_new_object(), *project;
	json_object_object_add(args, "project_id", json_object_new_string(project_id));
	enum coord_err e = coord_near_view(cfg, "get_project", coord_json_text(args, NULL), &project);
	json_object_put(args);
	if (e == COORD_ERR_UNAVAILABLE)
		return COORD_ERR_NOT_FOUND; /* NEAR off: only local projects exist */
	if (e != COORD_OK)
		return e;
	if (!project)
		return COORD_ERR_NOT_FOUND;
	out->uuid = chain_string(project, "uuid", 1, CHAIN_UUID_MAX, arena);
	out->active_version = chain_string(project, "active_version", 0, CHAIN_VERSION_MAX, arena);
	out->source = COORD_PROJECT_CHAIN;
	json_object_put(project);
	if (!out->uuid || !out->active_version) {
		coord_log(COORD_LOG_WARN, "projects: get_project answered an invalid project");
		return COORD_ERR_UPSTREAM;
	}
	return COORD_OK;
}

enum coord_err coord_project_resolve(struct coord_db *db, struct coord_redis *redis,
				     const struct coord_config *cfg, const char *project_id,
				     bool use_cache, struct coord_arena *arena,
				     struct coord_project *out)
{
	PGresult *res;
	const char *p[] = { project_id };
	memset(out, 0, sizeof(*out));
	enum coord_err e = coord_db_exec(db, &coord_projects_stmts[PROJ_LOCAL], 1, p, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 1) {
		out->uuid = coord_arena_strdup(arena, PQgetvalue(res, 0, 0));
		out->active_version = coord_arena_strdup(arena, PQgetvalue(res, 0, 1));
		out->source = COORD_PROJECT_LOCAL;
		PQclear(res);
		return COORD_OK;
	}
	PQclear(res);
	if (use_cache && (out->uuid = cache_get(redis, project_id, arena)) != NULL) {
		out->source = COORD_PROJECT_CACHE;
		return COORD_OK;
	}
	e = from_chain(cfg, project_id, arena, out);
	if (e == COORD_OK)
		cache_set(redis, project_id, out->uuid);
	return e;
}

enum coord_err coord_project_forget(struct coord_redis *redis, const char *project_id)
{
	redisReply *rep = coord_redis_command(redis, 2000, "DEL project_by_uuid:%s", project_id);
	if (!rep)
		return COORD_ERR_UNAVAILABLE;
	enum coord_err e = rep->type == REDIS_REPLY_INTEGER ? COORD_OK : COORD_ERR_INTERNAL;
	freeReplyObject(rep);
	return e;
}

enum coord_err coord_local_project_register(struct coord_db *db, const char *project_id,
					    const char *uuid, const char *active_version,
					    const char *note, struct coord_arena *arena,
					    const char **uuid_out)
{
	PGresult *res;
	const char *p[] = { project_id, uuid, active_version, note };
	enum coord_err e = coord_db_exec(db, &coord_projects_stmts[PROJ_REGISTER], 4, p, &res);
	if (e != COORD_OK)
		return e;
	*uuid_out = coord_arena_strdup(arena, PQgetvalue(res, 0, 0));
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_local_project_list(struct coord_db *db, struct coord_arena *arena,
					struct coord_local_project **rows, size_t *n)
{
	PGresult *res;
	enum coord_err e = coord_db_exec(db, &coord_projects_stmts[PROJ_LIST], 0, NULL, &res);
	if (e != COORD_OK)
		return e;
	*n = (size_t)PQntuples(res);
	*rows = coord_arena_alloc(arena, (*n ? *n : 1) * sizeof(**rows));
	for (size_t i = 0; i < *n; i++) {
		int r = (int)i;
		(*rows)[i] = (struct coord_local_project){
			coord_arena_strdup(arena, PQgetvalue(res, r, 0)),
			coord_arena_strdup(arena, PQgetvalue(res, r, 1)),
			coord_arena_strdup(arena, PQgetvalue(res, r, 2)),
			PQgetisnull(res, r, 3) ? NULL : coord_arena_strdup(arena, PQgetvalue(res, r, 3)),
			coord_arena_strdup(arena, PQgetvalue(res, r, 4)),
			coord_arena_strdup(arena, PQgetvalue(res, r, 5)),
		};
	}
	PQclear(res);
	return COORD_OK;
}

enum coord_err coord_local_project_remove(struct coord_db *db, const char *project_id)
{
	PGresult *res;
	const char *p[] = { project_id };
	enum coord_err e = coord_db_exec(db, &coord_projects_stmts[PROJ_REMOVE], 1, p, &res);
	if (e != COORD_OK)
		return e;
	if (PQntuples(res) == 0)
		e = COORD_ERR_NOT_FOUND;
	PQclear(res);
	return e;
}
