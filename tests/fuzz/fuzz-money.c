/*
 * libFuzzer target: the money helpers (SPEC §1.4) and coord_parse_i64
 * against a 128-bit reference, with a few bound pairs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_parse.h"
#include "fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef unsigned __int128 u128;
typedef __int128 i128;

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* 10^38 - 1 < 2^127, so every money value fits. */
static u128 money_value(const char *s, size_t len)
{
	u128 v = 0;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (u128)(s[i] - '0');
	return v;
}

static void check_money(const char *s, size_t len)
{
	bool valid = coord_money_valid(s, len);
	CHECK(valid == (len >= 1 && len <= 38 && all_digits(s, len)));
	if (!valid)
		return;
	char canon[39];
	size_t clen = coord_money_canonical(s, len, canon);
	CHECK(clen >= 1 && clen <= len && canon[clen] == '\0');
	CHECK(clen == 1 || canon[0] != '0');
	CHECK(coord_money_valid(canon, clen));
	CHECK(money_value(canon, clen) == money_value(s, len));
	CHECK(coord_money_cmp(s, len, canon, clen) == 0);
	CHECK(coord_money_cmp(canon, clen, s, len) == 0);
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void check_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	if (!coord_money_valid(a, alen) || !coord_money_valid(b, blen))
		return;
	u128 va = money_value(a, alen), vb = money_value(b, blen);
	int want = va < vb ? -1 : va > vb ? 1 : 0;
	CHECK(sign(coord_money_cmp(a, alen, b, blen)) == want);
	CHECK(sign(coord_money_cmp(b, blen, a, alen)) == -want);
}

static const struct {
	int64_t min, max;
} bounds[] = {
	{ INT64_MIN, INT64_MAX }, { 0, INT64_MAX }, { 1, 65535 }, { -10, 10 },
	{ 0, 0 },                 { INT64_MIN, -1 }, { 42, 42 }, { 0, 4294967295 },
};

static void check_i64(const char *s, size_t len, int64_t min, int64_t max)
{
	int64_t v = 0x5a5a;
	enum coord_err e = coord_parse_i64(s, len, min, max, &v);

	/* reference: optional '-' when min < 0, then at least one digit */
	size_t i = 0;
	bool neg = false;
	if (len > 0 && s[0] == '-' && min < 0) {
		neg = true;
		i = 1;
	}
	bool syntax = len > i && all_digits(s + i, len - i);
	if (!syntax) {
		CHECK(e == COORD_ERR_INVALID);
		return;
	}
	size_t digits = len - i;
	i128 ref = 0;
	bool huge = false;
	for (size_t k = i; k < len; k++) {
		ref = ref * 10 + (s[k] - '0');
		if (ref > (i128)1 << 64) {
			huge = true;
			break;
		}
	}
	if (neg)
		ref = -ref;
	bool in_range = !huge && ref >= min && ref <= max;
	if (e == COORD_OK)
		CHECK(in_range && v == (int64_t)ref && v >= min && v <= max);
	if (digits <= 19) {
		/* the documented syntax: the answer is exact */
		CHECK(e == (in_range ? COORD_OK : COORD_ERR_RANGE));
	} else {
		/* more than 19 digits (leading zeros): refused either way, or exact */
		CHECK(e == COORD_OK || e == COORD_ERR_RANGE || e == COORD_ERR_INVALID);
		if (!in_range)
			CHECK(e != COORD_OK);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	check_money(s, size);

	/* two operands split at the first '|' */
	const char *bar = memchr(s, '|', size);
	if (bar) {
		size_t alen = (size_t)(bar - s);
		check_money(s, alen);
		check_money(bar + 1, size - alen - 1);
		check_cmp(s, alen, bar + 1, size - alen - 1);
	}

	for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++)
		check_i64(s, size, bounds[k].min, bounds[k].max);
	return 0;
}
