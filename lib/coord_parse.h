/*
 * The project's one integer parser, one money parser and the other small
 * parsers of untrusted text. None allocates except coord_query_parse,
 * which allocates from the caller's arena.
 */
#ifndef COORD_PARSE_H
#define COORD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coord_err.h"
#include "coord_mem.h"

/*
 * Strict decimal integer: optional '-' (only when min < 0), then one or
 * more digits (leading zeros allowed, the value decides the range); no
 * '+', no spaces, no empty string, no trailing bytes.
 * COORD_ERR_INVALID on bad syntax, COORD_ERR_RANGE outside [min, max].
 */
enum coord_err coord_parse_i64(const char *s, size_t len, int64_t min, int64_t max,
			       int64_t *out);

/* Money (SPEC §1.4): ^[0-9]{1,38}$, leading zeros allowed. */
bool coord_money_valid(const char *s, size_t len);
/*
 * Writes the canonical form (no leading zeros, "0" for zero) of a valid
 * money string to out (at least 39 bytes). Returns the length.
 */
size_t coord_money_canonical(const char *s, size_t len, char out[static 39]);
/* Compares two valid money strings numerically: <0, 0, >0. */
int coord_money_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Booleans of SPEC §2.1: true|false|1|0|yes|no|on|off, case-insensitive. */
enum coord_err coord_parse_bool(const char *s, bool *out);

bool coord_utf8_valid(const char *s, size_t len);
/* Number of code points of valid UTF-8. */
size_t coord_utf8_chars(const char *s, size_t len);

/* ^[0-9a-fA-F]{8}-…-[0-9a-fA-F]{12}$ (SPEC §1.3). */
bool coord_uuid_valid(const char *s, size_t len);
/* Exactly n lower-case hex digits. */
bool coord_lowerhex_valid(const char *s, size_t len, size_t n);
/* Exactly n hex digits of either case. */
bool coord_hex_valid(const char *s, size_t len, size_t n);

/*
 * Percent-decodes in into out (at least len+1 bytes; NUL-terminated).
 * plus_is_space: '+' decodes to ' ' (query strings), not in paths.
 * COORD_ERR_INVALID on a bad escape, a decoded NUL or invalid UTF-8.
 */
enum coord_err coord_pct_decode(const char *in, size_t len, bool plus_is_space,
				char *out, size_t *outlen);

/* application/x-www-form-urlencoded query string (SPEC §0.2 step 5). */
struct coord_query_param {
	const char *name;
	const char *value;
	size_t value_len;
};

struct coord_query {
	struct coord_query_param *params;
	size_t n;
};

/* Parses qs (len bytes, may be empty); everything lives in arena. */
enum coord_err coord_query_parse(struct coord_arena *arena, const char *qs, size_t len,
				 struct coord_query *out);
/* The last value given for name, or NULL when absent. */
const struct coord_query_param *coord_query_get(const struct coord_query *q,
						const char *name);

#endif
