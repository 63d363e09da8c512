/*
 * libFuzzer target: the secrets proxy's parsers (SPEC §3.6). The input is
 * parsed as a request body whose "accessor" (and "new_accessor") goes
 * through coord_accessor_parse with the body's "profile"; a parsed
 * accessor gives a seed that ends with the owner (and the profile, for
 * System) and an echo that serialises. The input's raw bytes also go
 * through coord_repo_seed_normalize: a result is HOST/OWNER/REPO, three
 * non-empty components that each occur in the input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "coord_json.h"
#include "coord_mem.h"
#include "coord_secrets.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* s (len bytes) holds needle (nlen bytes) */
static bool contains(const char *s, size_t len, const char *needle, size_t nlen)
{
	for (size_t i = 0; i + nlen <= len; i++)
		if (memcmp(s + i, needle, nlen) == 0)
			return true;
	return false;
}

static void check_repo(const char *s, size_t len, struct coord_arena *arena)
{
	const char *r = coord_repo_seed_normalize(s, len, arena);
	if (!r)
		return;
	const char *a = strchr(r, '/');
	CHECK(a != NULL && a > r);
	const char *b = strchr(a + 1, '/');
	CHECK(b != NULL && b > a + 1);
	CHECK(b[1] != '\0' && strchr(b + 1, '/') == NULL);
	/* the owner and the repository come from the input (the host may be github.com) */
	CHECK(contains(s, len, a + 1, (size_t)(b - a - 1)));
	CHECK(contains(s, len, b + 1, strlen(b + 1)));
	CHECK(contains(s, len, r, (size_t)(a - r)) || strncmp(r, "github.com/", 11) == 0);
}

static void check_accessor(json_object *body, const char *name, const char *profile,
			   bool allow_system, struct coord_arena *arena)
{
	struct coord_accessor acc;
	struct coord_json_problem p;
	const char *why = "unset";
	json_object *obj = NULL;
	json_object_object_get_ex(body, name, &obj);
	enum coord_err e = coord_accessor_parse(obj, name, profile, allow_system, arena, &acc, &p, &why);
	if (e == COORD_ERR_INVALID) {
		CHECK(p.status == 422 && p.reason && p.message);
		CHECK(strncmp(p.field, name, strlen(name)) == 0);
		return;
	}
	if (e == COORD_ERR_RANGE) {
		CHECK(why != NULL);
		return;
	}
	CHECK(e == COORD_OK);
	CHECK(allow_system || acc.type != COORD_ACCESSOR_SYSTEM);
	const char *seed = coord_accessor_seed(&acc, "owner.near", arena);
	CHECK(seed != NULL);
	if (acc.type == COORD_ACCESSOR_SYSTEM) {
		CHECK(profile != NULL && acc.profile != NULL);
		CHECK(ends_with(seed, acc.profile));
	} else if (acc.type == COORD_ACCESSOR_REPO && acc.branch) {
		CHECK(acc.branch[0] != '\0' && ends_with(seed, acc.branch));
	} else {
		CHECK(ends_with(seed, ":owner.near"));
	}
	if (acc.type == COORD_ACCESSOR_WASM_HASH)
		CHECK(strlen(acc.hash) == 64 && strspn(acc.hash, "0123456789abcdefABCDEF") == 64);
	if (acc.type == COORD_ACCESSOR_PROJECT)
		CHECK(strchr(acc.project_id, '/') != NULL);
	json_object *echo = coord_accessor_echo(&acc);
	size_t len = 0;
	const char *text = coord_json_text(echo, &len);
	CHECK(text != NULL && strlen(text) == len);
	json_object_put(echo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_json_problem p;

	check_repo((const char *)data, size, &arena);
	json_object *root = coord_json_parse((const char *)data, size, &p);
	if (root && json_object_is_type(root, json_type_object)) {
		json_object *prof = NULL;
		const char *profile = NULL;
		if (json_object_object_get_ex(root, "profile", &prof) &&
		    json_object_is_type(prof, json_type_string))
			profile = json_object_get_string(prof);
		check_accessor(root, "accessor", profile, true, &arena);
		check_accessor(root, "new_accessor", NULL, false, &arena);
		json_object *repo = NULL, *acc = NULL;
		if (json_object_object_get_ex(root, "accessor", &acc) &&
		    json_object_is_type(acc, json_type_object) &&
		    json_object_object_get_ex(acc, "repo", &repo) &&
		    json_object_is_type(repo, json_type_string))
			check_repo(json_object_get_string(repo),
				   (size_t)json_object_get_string_len(repo), &arena);
	}
	json_object_put(root);
	coord_arena_release(&arena);
	return 0;
}
