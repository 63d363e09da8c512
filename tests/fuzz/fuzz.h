/* What the libFuzzer targets share: CHECK aborts (a finding) when cond is false. */
#ifndef COORD_FUZZ_H
#define COORD_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
