/*
 * JSON input (SPEC §1.3): strict RFC 8259 parsing on top of json-c, and
 * validation of an object against a declared field list, in the manner of
 * kcgi's kvalid tables. Output goes through coord_json_text() only.
 */
#ifndef COORD_JSON_H
#define COORD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define COORD_JSON_MAX_DEPTH 64

/* Why a body was refused; status is 400 (invalid_json) or 422. */
struct coord_json_problem {
	int status;
	const char *message;
	char field[256];    /* path from the root: a.b, keys[3]; 422 only */
	const char *reason; /* missing|type|range|enum|format; 422 only */
};

/*
 * Parses body (len bytes). On success returns the root (caller puts it
 * with json_object_put). On failure returns NULL and fills *p: 400 for
 * syntax (also NaN/Infinity, raw control characters, depth > 64, invalid
 * UTF-8), 422 for an integer literal outside -2^63..2^64-1 or a string
 * holding U+0000 anywhere. A 400 anywhere wins over a 422.
 */
json_object *coord_json_parse(const char *body, size_t len, struct coord_json_problem *p);

/*
 * True when body is one syntactically valid JSON text by the rules of
 * coord_json_parse (any value, null included; the 422 rules do not apply):
 * for answers passed on verbatim.
 */
bool coord_json_syntax_ok(const char *body, size_t len);

enum coord_ftype {
	COORD_FT_STRING, /* min/max: length bounds in characters (max 0: none) */
	COORD_FT_INT,    /* min/max: value bounds */
	COORD_FT_BOOL,
	COORD_FT_OBJECT,
	COORD_FT_ARRAY,
	COORD_FT_UUID,   /* string matching the UUID pattern */
	COORD_FT_MONEY,  /* money string of SPEC §1.4 */
	COORD_FT_BYTES   /* array of integers 0-255 (SPEC §1.3); len: the number of bytes */
};

struct coord_field {
	const char *name;
	enum coord_ftype type;
	bool required;
	int64_t min, max;
	const char *const *enums; /* COORD_FT_STRING: allowed values, NULL-terminated */
};

/* What a field held; valid only while the parsed root lives. */
struct coord_value {
	bool present;  /* given and not null */
	const char *s; /* strings: NUL-terminated, len bytes */
	size_t len;
	int64_t i;
	bool b;
	json_object *obj; /* the member itself */
};

/*
 * Checks the members of obj against fields[0..n), filling values[0..n).
 * prefix is the path of obj ("" at the root). Returns false and fills *p
 * (422) at the first field that fails, in declaration order.
 */
bool coord_json_fields(json_object *obj, const char *prefix, const struct coord_field *fields,
		       size_t n, struct coord_value *values, struct coord_json_problem *p);

/*
 * The bytes of a COORD_FT_BYTES member, validated by coord_json_fields:
 * writes json_object_array_length(arr) bytes to out.
 */
void coord_json_bytes_copy(json_object *arr, unsigned char *out);

/*
 * A JSON array of the integers 0-255 of bytes[0..n) (SPEC §1.3), written
 * straight into the output text when serialised: no object per byte. The
 * bytes are copied; the caller keeps its buffer.
 */
json_object *coord_json_byte_array(const unsigned char *bytes, size_t n);

/*
 * Checks that arr (the member at path) is an array of at most max_items
 * strings of min_chars..max_chars characters each; false with *p filled
 * (422, path "path" or "path[i]") otherwise.
 */
bool coord_json_strings(json_object *arr, const char *path, size_t max_items, int64_t min_chars,
			int64_t max_chars, struct coord_json_problem *p);

/* The compact serialisation of SPEC §1.1; owned by obj. */
const char *coord_json_text(json_object *obj, size_t *len);

/* Small constructors used by renderers. */
json_object *coord_json_money(const char *s); /* money string, never a number */

#endif
