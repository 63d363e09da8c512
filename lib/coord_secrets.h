/*
 * The secrets proxy's own rules (SPEC §3.6): accessors, the repository
 * normalisation for seeds, and the seed a request derives for the
 * keystore. Nothing here talks to the keystore (coord_keystore does).
 */
#ifndef COORD_SECRETS_H
#define COORD_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "coord_err.h"
#include "coord_json.h"
#include "coord_mem.h"

enum coord_accessor_type {
	COORD_ACCESSOR_REPO,
	COORD_ACCESSOR_WASM_HASH,
	COORD_ACCESSOR_PROJECT,
	COORD_ACCESSOR_SYSTEM, /* {"type":"System","PaymentKey":{}} */
};

struct coord_accessor {
	enum coord_accessor_type type;
	const char *repo_normalized; /* Repo */
	const char *branch;          /* Repo; NULL when absent */
	const char *hash;            /* WasmHash, as given */
	const char *project_id;      /* Project */
	const char *profile;         /* System: the body's top-level profile */
};

/*
 * Reads the accessor obj found at path ("accessor", "new_accessor").
 * profile is the body's top-level "profile" (NULL when absent), which a
 * System accessor needs; allow_system false refuses System like an unknown
 * type. Strings point into obj or arena.
 *   COORD_ERR_INVALID: the shape is wrong (not an object, type missing or
 *     not a string, unknown type, a member missing or of the wrong type);
 *     *p is the 422 problem.
 *   COORD_ERR_RANGE: well-formed but invalid (repository that does not
 *     normalise, hash not 64 hex, project id without '/', empty branch,
 *     System without profile); *why is the 400 invalid_request message.
 */
enum coord_err coord_accessor_parse(json_object *obj, const char *path, const char *profile,
				    bool allow_system, struct coord_arena *arena,
				    struct coord_accessor *out, struct coord_json_problem *p,
				    const char **why);

/* The seed sent to the keystore for owner (non-empty), from arena. */
const char *coord_accessor_seed(const struct coord_accessor *a, const char *owner,
				struct coord_arena *arena);

/* The accessor echoed in responses (a new object). */
json_object *coord_accessor_echo(const struct coord_accessor *a);

/*
 * Repository normalisation for seeds: trimmed, then the first matching form
 * of git@HOST:OWNER/REPO, http(s)://HOST/OWNER/REPO, HOST/OWNER/REPO (each
 * → HOST/OWNER/REPO) and OWNER/REPO (→ github.com/OWNER/REPO), with
 * non-empty components without '/' and one trailing ".git" removed.
 * NULL when none matches or repo holds a NUL byte; the result is from arena.
 */
const char *coord_repo_seed_normalize(const char *repo, size_t len, struct coord_arena *arena);

#endif
