/*
 * libFuzzer target: the COORD_CONFIG file reader (SPEC §2.1), with the
 * invariants of its output.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_config.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **keys = NULL, **values = NULL, err[256];
	size_t n = 12345;
	err[0] = '\0';
	enum coord_err e = coord_config_parse_file((const char *)data, size, &keys, &values, &n,
						   err, sizeof(err));
	if (e != COORD_OK) {
		CHECK(keys == NULL && values == NULL && n == 0);
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}
	CHECK(n == 0 || (keys && values));
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(keys[i]), vl = strlen(values[i]);
		CHECK(kl > 0 && kl <= size && vl <= size);
		CHECK(!isspace((unsigned char)keys[i][0]) && !isspace((unsigned char)keys[i][kl - 1]));
		CHECK(!strchr(keys[i], '=') && !strchr(keys[i], '\n'));
		CHECK(strcmp(keys[i], "COORD_CONFIG") != 0);
		CHECK(!strchr(values[i], '\n'));
		CHECK(vl == 0 || !isspace((unsigned char)values[i][vl - 1]));
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(keys[k], keys[i]) != 0);
	}
	coord_config_file_free(keys, values, n);
	return 0;
}
