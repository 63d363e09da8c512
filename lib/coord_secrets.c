#include <stdio.h>
#include <string.h>

#include "coord_secrets.h"
#include "banned.h"

/* ---- repository normalisation ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Splits s[0..len) at '/' into exactly want non-empty components; the last
 * one loses one trailing ".git" (and must stay non-empty).
 */
static bool components(const char *s, size_t len, int want, const char **start, size_t *clen)
{
	int n = 0;
	size_t i = 0;
	for (;;) {
		size_t j = i;
		while (j < len && s[j] != '/')
			j++;
		if (n == want || j == i)
			return false;
		start[n] = s + i;
		clen[n] = j - i;
		n++;
		if (j == len)
			break;
		i = j + 1;
	}
	if (n != want)
		return false;
	size_t *last = &clen[n - 1];
	if (*last >= 4 && memcmp(start[n - 1] + *last - 4, ".git", 4) == 0)
		*last -= 4;
	return *last > 0;
}

static bool starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

const char *coord_repo_seed_normalize(const char *repo, size_t len, struct coord_arena *arena)
{
	const char *c[3];
	size_t cl[3];
	const char *host = NULL;
	size_t hostlen = 0;

	while (len && is_space(*repo))
		repo++, len--;
	while (len && is_space(repo[len - 1]))
		len--;
	if (len == 0 || memchr(repo, '\0', len)) /* a NUL would cut the seed short */
		return NULL;

	/* git@HOST:OWNER/REPO[.git] */
	if (starts(repo, len, "git@")) {
		const char *rest = repo + 4;
		const char *colon = memchr(rest, ':', len - 4);
		if (colon && colon > rest && !memchr(rest, '/', (size_t)(colon - rest)) &&
		    components(colon + 1, len - 4 - (size_t)(colon - rest) - 1, 2, c + 1, cl + 1)) {
			host = rest;
			hostlen = (size_t)(colon - rest);
			goto found;
		}
	}
	/* http(s)://HOST/OWNER/REPO[.git] */
	for (int k = 0; k < 2; k++) {
		const char *scheme = k ? "https://" : "http://";
		size_t sl = strlen(scheme);
		if (starts(repo, len, scheme) && components(repo + sl, len - sl, 3, c, cl)) {
			host = c[0];
			hostlen = cl[0];
			goto found;
		}
	}
	/* HOST/OWNER/REPO[.git] */
	if (components(repo, len, 3, c, cl)) {
		host = c[0];
		hostlen = cl[0];
		goto found;
	}
	/* OWNER/REPO[.git] */
	if (components(repo, len, 2, c + 1, cl + 1)) {
		host = "github.com";
		hostlen = 10;
		goto found;
	}
	return NULL;
found:
	return coord_arena_printf(arena, "%.*s/%.*s/%.*s", (int)hostlen, host, (int)cl[1], c[1],
				  (int)cl[2], c[2]);
}

/* ---- accessors ---- */

static enum coord_err shape(struct coord_json_problem *p, const char *path, const char *member,
			    const char *reason, const char *message)
{
	memset(p, 0, sizeof(*p));
	p->status = 422;
	p->reason = reason;
	p->message = message;
	snprintf(p->field, sizeof(p->field), "%s%s%s", path, *member ? "." : "", member);
	return COORD_ERR_INVALID;
}

static enum coord_err invalid(const char **why, const char *message)
{
	*why = message;
	return COORD_ERR_RANGE;
}

enum coord_err coord_accessor_parse(json_object *obj, const char *path, const char *profile,
				    bool allow_system, struct coord_arena *arena,
				    struct coord_accessor *out, struct coord_json_problem *p,
				    const char **why)
{
	static const char *const names[] = { "Repo", "WasmHash", "Project", "System", NULL };
	enum { T_REPO, T_HASH, T_PROJECT, T_SYSTEM, N_TYPES };
	static const struct coord_field type_field[] = {
		{ "type", COORD_FT_STRING, true, 0, 0, names },
	};
	static const struct coord_field members[N_TYPES][2] = {
		[T_REPO] = { { "repo", COORD_FT_STRING, true, 0, 0, NULL },
			     { "branch", COORD_FT_STRING, false, 0, 0, NULL } },
		[T_HASH] = { { "hash", COORD_FT_STRING, true, 0, 0, NULL } },
		[T_PROJECT] = { { "project_id", COORD_FT_STRING, true, 0, 0, NULL } },
		[T_SYSTEM] = { { "PaymentKey", COORD_FT_OBJECT, true, 0, 0, NULL } },
	};
	static const size_t nmembers[N_TYPES] = { 2, 1, 1, 1 };
	struct coord_value t, v[2];

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (!obj)
		return shape(p, path, "", "missing", "Required field missing");
	if (!coord_json_fields(obj, path, type_field, 1, &t, p))
		return COORD_ERR_INVALID;
	int k = 0;
	while (strcmp(names[k], t.s) != 0)
		k++;
	if (k == T_SYSTEM && !allow_system)
		return shape(p, path, "type", "enum", "Unknown value");
	if (!coord_json_fields(obj, path, members[k], nmembers[k], v, p))
		return COORD_ERR_INVALID;

	switch (k) {
	case T_REPO:
		out->type = COORD_ACCESSOR_REPO;
		out->repo_normalized = coord_repo_seed_normalize(v[0].s, v[0].len, arena);
		if (!out->repo_normalized)
			return invalid(why, "accessor repo must be OWNER/REPO, HOST/OWNER/REPO, "
					    "http(s)://HOST/OWNER/REPO or git@HOST:OWNER/REPO");
		if (v[1].present && v[1].len == 0)
			return invalid(why, "accessor branch must not be empty");
		out->branch = v[1].present ? v[1].s : NULL;
		break;
	case T_HASH:
		out->type = COORD_ACCESSOR_WASM_HASH;
		if (v[0].len != 64 || strspn(v[0].s, "0123456789abcdefABCDEF") != 64)
			return invalid(why, "accessor hash must be 64 hex characters");
		out->hash = v[0].s;
		break;
	case T_PROJECT:
		out->type = COORD_ACCESSOR_PROJECT;
		if (!memchr(v[0].s, '/', v[0].len))
			return invalid(why, "accessor project_id must be <owner>/<name>");
		out->project_id = v[0].s;
		break;
	default:
		out->type = COORD_ACCESSOR_SYSTEM;
		if (!profile || !*profile)
			return invalid(why, "profile is required with a System accessor");
		out->profile = profile;
		break;
	}
	return COORD_OK;
}

const char *coord_accessor_seed(const struct coord_accessor *a, const char *owner,
				struct coord_arena *arena)
{
	switch (a->type) {
	case COORD_ACCESSOR_REPO:
		return a->branch ? coord_arena_printf(arena, "%s:%s:%s", a->repo_normalized, owner,
						      a->branch)
				 : coord_arena_printf(arena, "%s:%s", a->repo_normalized, owner);
	case COORD_ACCESSOR_WASM_HASH:
		return coord_arena_printf(arena, "wasm_hash:%s:%s", a->hash, owner);
	case COORD_ACCESSOR_PROJECT:
		return coord_arena_printf(arena, "project:%s:%s", a->project_id, owner);
	case COORD_ACCESSOR_SYSTEM:
		break;
	}
	return coord_arena_printf(arena, "system:payment_key:%s:%s", owner, a->profile);
}

json_object *coord_accessor_echo(const struct coord_accessor *a)
{
	json_object *o = json_object_new_object();
	switch (a->type) {
	case COORD_ACCESSOR_REPO:
		json_object_object_add(o, "type", json_object_new_string("Repo"));
		json_object_object_add(o, "repo_normalized", json_object_new_string(a->repo_normalized));
		if (a->branch)
			json_object_object_add(o, "branch", json_object_new_string(a->branch));
		break;
	case COORD_ACCESSOR_WASM_HASH:
		json_object_object_add(o, "type", json_object_new_string("WasmHash"));
		json_object_object_add(o, "hash", json_object_new_string(a->hash));
		break;
	case COORD_ACCESSOR_PROJECT:
		json_object_object_add(o, "type", json_object_new_string("Project"));
		json_object_object_add(o, "project_id", json_object_new_string(a->project_id));
		break;
	case COORD_ACCESSOR_SYSTEM:
		json_object_object_add(o, "type", json_object_new_string("System"));
		json_object_object_add(o, "kind", json_object_new_string("payment_key"));
		json_object_object_add(o, "profile", json_object_new_string(a->profile));
		break;
	}
	return o;
}
