/*
 * libFuzzer target: coord_json_parse (SPEC §1.3), then coord_json_fields
 * against a small field table at the root and one nested object, then
 * coord_json_text. A byte array (COORD_FT_BYTES) that passes is copied
 * out, written back with coord_json_byte_array and parsed again: the same
 * bytes, as the compact list of integers SPEC §1.3 asks for.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "coord_json.h"
#include "coord_parse.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = { "compile", "execute", NULL };

static const struct coord_field fields[] = {
	{ "name", COORD_FT_STRING, true, 1, 16, NULL },
	{ "count", COORD_FT_INT, false, 0, 100, NULL },
	{ "big", COORD_FT_INT, false, INT64_MIN, INT64_MAX, NULL },
	{ "flag", COORD_FT_BOOL, false, 0, 0, NULL },
	{ "kind", COORD_FT_STRING, false, 0, 0, kinds },
	{ "id", COORD_FT_UUID, false, 0, 0, NULL },
	{ "amount", COORD_FT_MONEY, false, 0, 0, NULL },
	{ "list", COORD_FT_ARRAY, false, 0, 0, NULL },
	{ "limits", COORD_FT_OBJECT, false, 0, 0, NULL },
	{ "data", COORD_FT_BYTES, false, 0, 0, NULL },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct coord_field limit_fields[] = {
	{ "max_instructions", COORD_FT_INT, true, 0, INT64_MAX, NULL },
	{ "max_memory_mb", COORD_FT_INT, false, 1, 4096, NULL },
};
#define NLIMITS (sizeof(limit_fields) / sizeof(limit_fields[0]))

static void check_problem(const struct coord_json_problem *p)
{
	CHECK(p->status == 422);
	CHECK(p->reason != NULL && p->message != NULL);
	CHECK(memchr(p->field, '\0', sizeof(p->field)) != NULL);
}

/* bytes out and back in: coord_json_byte_array's text is a byte array again */
static void check_bytes(const struct coord_value *v)
{
	CHECK(json_object_is_type(v->obj, json_type_array));
	CHECK(v->len == json_object_array_length(v->obj));
	unsigned char *bytes = malloc(v->len ? v->len : 1);
	CHECK(bytes != NULL);
	coord_json_bytes_copy(v->obj, bytes);

	json_object *arr = coord_json_byte_array(bytes, v->len);
	size_t tlen = 0;
	const char *text = coord_json_text(arr, &tlen);
	CHECK(text != NULL && strlen(text) == tlen);
	CHECK(tlen >= 2 && text[0] == '[' && text[tlen - 1] == ']');
	CHECK(strspn(text, "[],0123456789") == tlen); /* compact: no spaces */

	static const struct coord_field again[] = {
		{ "data", COORD_FT_BYTES, true, 0, 0, NULL },
	};
	char *wrapped = malloc(tlen + 16);
	CHECK(wrapped != NULL);
	size_t wlen = (size_t)snprintf(wrapped, tlen + 16, "{\"data\":%s}", text);
	struct coord_json_problem p;
	json_object *root = coord_json_parse(wrapped, wlen, &p);
	CHECK(root != NULL);
	struct coord_value w;
	CHECK(coord_json_fields(root, "", again, 1, &w, &p));
	CHECK(w.len == v->len);
	unsigned char *back = malloc(w.len ? w.len : 1);
	CHECK(back != NULL);
	coord_json_bytes_copy(w.obj, back);
	CHECK(memcmp(back, bytes, v->len) == 0);
	free(back);
	json_object_put(root);
	free(wrapped);
	json_object_put(arr);
	free(bytes);
}

static void check_values(json_object *obj, const struct coord_field *f, size_t n,
			 const char *prefix)
{
	struct coord_value values[NFIELDS];
	struct coord_json_problem p;
	if (!coord_json_fields(obj, prefix, f, n, values, &p)) {
		check_problem(&p);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct coord_value *v = &values[i];
		if (!v->present) {
			CHECK(!f[i].required);
			continue;
		}
		switch (f[i].type) {
		case COORD_FT_STRING:
			CHECK(v->s && strlen(v->s) == v->len);
			CHECK(coord_utf8_valid(v->s, v->len));
			break;
		case COORD_FT_UUID:
			CHECK(coord_uuid_valid(v->s, v->len));
			break;
		case COORD_FT_MONEY:
			CHECK(coord_money_valid(v->s, v->len));
			break;
		case COORD_FT_INT:
			CHECK(v->i >= f[i].min && v->i <= f[i].max);
			break;
		case COORD_FT_BYTES:
			check_bytes(v);
			break;
		case COORD_FT_BOOL:
		case COORD_FT_OBJECT:
		case COORD_FT_ARRAY:
			CHECK(v->obj != NULL);
			break;
		}
	}
	json_object *limits = NULL;
	if (n == NFIELDS && json_object_object_get_ex(obj, "limits", &limits) && limits)
		check_values(limits, limit_fields, NLIMITS, "limits");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coord_json_problem p;
	json_object *root = coord_json_parse((const char *)data, size, &p);
	if (!root) {
		CHECK(p.status == 400 || p.status == 422);
		CHECK(p.message != NULL);
		if (p.status == 422)
			CHECK(p.reason != NULL);
		/* invalid UTF-8 anywhere is a 400 */
		if (!coord_utf8_valid((const char *)data, size))
			CHECK(p.status == 400);
		return 0;
	}
	CHECK(coord_utf8_valid((const char *)data, size));
	check_values(root, fields, NFIELDS, "");

	size_t len = 0;
	const char *text = coord_json_text(root, &len);
	CHECK(text != NULL && strlen(text) == len);
	json_object_put(root);
	return 0;
}
