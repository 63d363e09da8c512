/*
 * libFuzzer target: coord_query_parse and coord_query_get on arbitrary
 * bytes (SPEC §0.2 step 5). Everything lives in an arena released after
 * each input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_mem.h"
#include "coord_parse.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coord_arena arena = COORD_ARENA_INIT;
	struct coord_query q;
	const char *qs = (const char *)data;

	if (coord_query_parse(&arena, qs, size, &q) == COORD_OK) {
		size_t amps = 0;
		for (size_t i = 0; i < size; i++)
			if (qs[i] == '&')
				amps++;
		CHECK(q.n <= amps + 1);
		for (size_t i = 0; i < q.n; i++) {
			const struct coord_query_param *p = &q.params[i];
			size_t nlen = strlen(p->name);
			/* decoded NULs are refused, so the lengths are the C lengths */
			CHECK(strlen(p->value) == p->value_len);
			CHECK(nlen + p->value_len <= size);
			CHECK(coord_utf8_valid(p->name, nlen));
			CHECK(coord_utf8_valid(p->value, p->value_len));
			/* the last value given for a name wins */
			const struct coord_query_param *last = coord_query_get(&q, p->name);
			CHECK(last != NULL && last >= p && strcmp(last->name, p->name) == 0);
		}
	}
	coord_arena_release(&arena);
	return 0;
}
