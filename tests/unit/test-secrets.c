/*
 * Unit tests of lib/coord_secrets (SPEC §3.6): repository normalisation
 * for seeds, accessors (shape 422 vs rule 400), the seed of each accessor
 * and the accessor echoed in responses.
 */
#include <string.h>

#include <json-c/json.h>

#include "coord_json.h"
#include "coord_mem.h"
#include "coord_secrets.h"
#include "tap.h"
#include "banned.h"

static const struct {
	const char *in, *want; /* want NULL: does not normalise */
} repos[] = {
	{ "near/app", "github.com/near/app" },
	{ "near/app.git", "github.com/near/app" },
	{ " \t near/app \n", "github.com/near/app" },
	{ "https://github.com/o/r", "github.com/o/r" },
	{ "http://gitlab.example:8080/o/r.git", "gitlab.example:8080/o/r" },
	{ "git@github.com:o/r.git", "github.com/o/r" },
	{ "git@host:o/r", "host/o/r" },
	{ "h.example/o/r", "h.example/o/r" },
	{ "o/r.git.git", "github.com/o/r.git" },
	{ "", NULL },
	{ "   ", NULL },
	{ "just-a-name", NULL },
	{ "o/", NULL },
	{ "/r", NULL },
	{ "o//r", NULL },
	{ "o/.git", NULL },
	{ "a/b/c/d", NULL },
	{ "https://github.com/o", NULL },
	{ "ftp://h/o/r", NULL },
	{ "git@:o/r", "github.com/git@:o/r" }, /* no HOST: the OWNER/REPO form matches */
};

static void test_repos(void)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	for (size_t i = 0; i < sizeof(repos) / sizeof(repos[0]); i++) {
		const char *got = coord_repo_seed_normalize(repos[i].in, strlen(repos[i].in), &arena);
		bool same = repos[i].want ? got && strcmp(got, repos[i].want) == 0 : got == NULL;
		ok(same, "normalise '%s' -> %s (got %s)", show(repos[i].in, strlen(repos[i].in)),
		   repos[i].want ? repos[i].want : "none", got ? got : "none");
	}
	/* a NUL inside the given length never normalises */
	ok(coord_repo_seed_normalize("o/r\0x", 5, &arena) == NULL, "a NUL byte: none");
	ok(coord_repo_seed_normalize("o/r\0x", 3, &arena) != NULL, "the NUL past the length is not read");
	coord_arena_release(&arena);
}

static const struct {
	const char *accessor, *profile;
	bool allow_system;
	enum coord_err want;
	const char *seed, *echo; /* COORD_OK only */
} accessors[] = {
	{ "{\"type\":\"Repo\",\"repo\":\"o/r\"}", NULL, true, COORD_OK, "github.com/o/r:own",
	  "{\"type\":\"Repo\",\"repo_normalized\":\"github.com/o/r\"}" },
	{ "{\"type\":\"Repo\",\"repo\":\"o/r\",\"branch\":\"dev\"}", NULL, true, COORD_OK,
	  "github.com/o/r:own:dev", "{\"type\":\"Repo\",\"repo_normalized\":\"github.com/o/r\",\"branch\":\"dev\"}" },
	{ "{\"type\":\"WasmHash\",\"hash\":\"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\"}",
	  NULL, true, COORD_OK, "wasm_hash:00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF:own",
	  "{\"type\":\"WasmHash\",\"hash\":\"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\"}" },
	{ "{\"type\":\"Project\",\"project_id\":\"a.near/p\"}", NULL, true, COORD_OK, "project:a.near/p:own",
	  "{\"type\":\"Project\",\"project_id\":\"a.near/p\"}" },
	{ "{\"type\":\"System\",\"PaymentKey\":{}}", "4", true, COORD_OK, "system:payment_key:own:4",
	  "{\"type\":\"System\",\"kind\":\"payment_key\",\"profile\":\"4\"}" },
	/* rules: 400 */
	{ "{\"type\":\"System\",\"PaymentKey\":{}}", NULL, true, COORD_ERR_RANGE, NULL, NULL },
	{ "{\"type\":\"Repo\",\"repo\":\"x\"}", NULL, true, COORD_ERR_RANGE, NULL, NULL },
	{ "{\"type\":\"Repo\",\"repo\":\"o/r\",\"branch\":\"\"}", NULL, true, COORD_ERR_RANGE, NULL, NULL },
	{ "{\"type\":\"WasmHash\",\"hash\":\"0011\"}", NULL, true, COORD_ERR_RANGE, NULL, NULL },
	{ "{\"type\":\"Project\",\"project_id\":\"noslash\"}", NULL, true, COORD_ERR_RANGE, NULL, NULL },
	/* shapes: 422 */
	{ "{\"type\":\"System\",\"PaymentKey\":{}}", "4", false, COORD_ERR_INVALID, NULL, NULL },
	{ "{\"type\":\"Other\"}", NULL, true, COORD_ERR_INVALID, NULL, NULL },
	{ "{\"repo\":\"o/r\"}", NULL, true, COORD_ERR_INVALID, NULL, NULL },
	{ "{\"type\":\"Repo\"}", NULL, true, COORD_ERR_INVALID, NULL, NULL },
	{ "{\"type\":\"Repo\",\"repo\":5}", NULL, true, COORD_ERR_INVALID, NULL, NULL },
	{ "\"Repo\"", NULL, true, COORD_ERR_INVALID, NULL, NULL },
};

static void test_accessors(void)
{
	for (size_t i = 0; i < sizeof(accessors) / sizeof(accessors[0]); i++) {
		struct coord_arena arena = COORD_ARENA_INIT;
		struct coord_json_problem p;
		struct coord_accessor acc;
		const char *why = NULL;
		json_object *obj = json_tokener_parse(accessors[i].accessor);
		enum coord_err e = coord_accessor_parse(obj, "accessor", accessors[i].profile,
							accessors[i].allow_system, &arena, &acc, &p, &why);
		ok(e == accessors[i].want, "accessor %s -> %d (got %d)", accessors[i].accessor,
		   (int)accessors[i].want, (int)e);
		if (e == COORD_ERR_RANGE)
			ok(why != NULL, "  with a 400 message");
		if (e == COORD_ERR_INVALID)
			ok(p.status == 422 && strncmp(p.field, "accessor", 8) == 0,
			   "  with a 422 problem at %s", p.field);
		if (e == COORD_OK && accessors[i].seed) {
			const char *seed = coord_accessor_seed(&acc, "own", &arena);
			ok(strcmp(seed, accessors[i].seed) == 0, "  seed %s (got %s)", accessors[i].seed, seed);
			json_object *echo = coord_accessor_echo(&acc);
			const char *text = coord_json_text(echo, NULL);
			ok(strcmp(text, accessors[i].echo) == 0, "  echo %s (got %s)", accessors[i].echo, text);
			json_object_put(echo);
		}
		json_object_put(obj);
		coord_arena_release(&arena);
	}
}

int main(void)
{
	test_repos();
	test_accessors();
	return tap_done();
}
