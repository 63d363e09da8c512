/*
 * libFuzzer target: public storage batch bodies and storage keys (SPEC
 * §3.4.4). The input is parsed as a batch body (coord_json_parse, the
 * route's fields, coord_storage_batch_keys); what passes holds 1-50
 * distinct keys of 1-1024 bytes, in order of first appearance, each input
 * key among them, and each key's key_hash is 64 lower-case hex characters
 * that do not depend on anything but the key's bytes.
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
#include "coord_storage.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct coord_field fields[] = {
	{ "project_uuid", COORD_FT_STRING, true, 1, 0, NULL },
	{ "keys", COORD_FT_ARRAY, true, 0, 0, NULL },
};

/* index of key (s, len) among the batch's keys, or n */
static size_t find(const struct coord_storage_batch *b, const char *s, size_t len)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->lens[i] == len && memcmp(b->keys[i], s, len) == 0)
			return i;
	return b->n;
}

static void check_hash(const char *key, size_t len)
{
	char h1[65], h2[65];
	memset(h1, 'x', sizeof(h1));
	coord_storage_public_key_hash(key, len, h1);
	CHECK(h1[64] == '\0');
	CHECK(strspn(h1, "0123456789abcdef") == 64);
	/* the same bytes from another buffer give the same hash */
	char *copy = malloc(len ? len : 1);
	CHECK(copy != NULL);
	memcpy(copy, key, len);
	coord_storage_public_key_hash(copy, len, h2);
	CHECK(memcmp(h1, h2, 65) == 0);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coord_json_problem p;
	struct coord_value v[2];
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_storage_batch b;
	const char *why;

	/* the raw input as one storage key (GET /public/storage/get's key) */
	check_hash((const char *)data, size);

	json_object *root = coord_json_parse((const char *)data, size, &p);
	if (!root)
		return 0;
	if (!coord_json_fields(root, "", fields, 2, v, &p)) {
		CHECK(p.status == 422);
		json_object_put(root);
		return 0;
	}
	json_object *keys = v[1].obj;
	size_t n = json_object_array_length(keys);
	enum coord_err e = coord_storage_batch_keys(keys, &arena, &b, &p, &why);
	if (e == COORD_ERR_INVALID) {
		CHECK(p.status == 422 && p.reason && p.message);
		CHECK(strncmp(p.field, "keys[", 5) == 0);
		size_t i = (size_t)strtoul(p.field + 5, NULL, 10);
		CHECK(i < n);
		CHECK(!json_object_is_type(json_object_array_get_idx(keys, i), json_type_string));
	} else if (e == COORD_ERR_RANGE) {
		CHECK(why != NULL);
		/* a refusal has a reason among the elements, all of them strings */
		bool reason = n == 0;
		size_t distinct = 0;
		struct coord_storage_batch seen = { 0 };
		seen.keys = malloc(sizeof(*seen.keys) * (n ? n : 1));
		seen.lens = malloc(sizeof(*seen.lens) * (n ? n : 1));
		CHECK(seen.keys && seen.lens);
		for (size_t i = 0; i < n; i++) {
			json_object *k = json_object_array_get_idx(keys, i);
			CHECK(json_object_is_type(k, json_type_string));
			size_t len = (size_t)json_object_get_string_len(k);
			if (len == 0 || len > COORD_STORAGE_PUBLIC_KEY_MAX)
				reason = true;
			if (find(&seen, json_object_get_string(k), len) == seen.n) {
				seen.keys[seen.n] = json_object_get_string(k);
				seen.lens[seen.n++] = len;
				distinct++;
			}
		}
		if (distinct > COORD_STORAGE_BATCH_MAX)
			reason = true;
		CHECK(reason);
		free(seen.keys);
		free(seen.lens);
	} else {
		CHECK(e == COORD_OK);
		CHECK(b.n >= 1 && b.n <= COORD_STORAGE_BATCH_MAX && b.n <= n);
		CHECK(b.states != NULL && b.values != NULL);
		for (size_t i = 0; i < b.n; i++) {
			CHECK(b.lens[i] >= 1 && b.lens[i] <= COORD_STORAGE_PUBLIC_KEY_MAX);
			CHECK(b.keys[i][b.lens[i]] == '\0');
			CHECK(find(&b, b.keys[i], b.lens[i]) == i); /* distinct */
			check_hash(b.keys[i], b.lens[i]);
		}
		/* every input key is there, first appearances in order */
		size_t next = 0;
		for (size_t i = 0; i < n; i++) {
			json_object *k = json_object_array_get_idx(keys, i);
			size_t at = find(&b, json_object_get_string(k), (size_t)json_object_get_string_len(k));
			CHECK(at < b.n && at <= next);
			if (at == next)
				next++;
		}
		CHECK(next == b.n);
	}
	coord_arena_release(&arena);
	json_object_put(root);
	return 0;
}
