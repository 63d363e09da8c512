#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "coord_int.h"
#include "coord_parse.h"
#include "banned.h"

enum coord_err coord_parse_i64(const char *s, size_t len, int64_t min, int64_t max,
			       int64_t *out)
{
	bool negative = false;
	uint64_t limit, value = 0;
	size_t i = 0;

	if (!s || len == 0)
		return COORD_ERR_INVALID;
	if (s[0] == '-') {
		if (min >= 0)
			return COORD_ERR_INVALID;
		negative = true;
		i = 1;
	}
	if (i == len)
		return COORD_ERR_INVALID;
	/* magnitude limit for the sign: |INT64_MIN| = INT64_MAX + 1 */
	limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	bool overflow = false;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < '0' || c > '9')
			return COORD_ERR_INVALID;
		unsigned d = c - '0';
		if (!overflow && (value > (limit - d) / 10))
			overflow = true;
		if (!overflow)
			value = value * 10 + d;
	}
	if (overflow)
		return COORD_ERR_RANGE;
	int64_t v;
	if (negative)
		v = value == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)value;
	else
		v = (int64_t)value;
	if (v < min || v > max)
		return COORD_ERR_RANGE;
	*out = v;
	return COORD_OK;
}

bool coord_money_valid(const char *s, size_t len)
{
	if (!s || len == 0 || len > 38)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

size_t coord_money_canonical(const char *s, size_t len, char out[static 39])
{
	while (len > 1 && s[0] == '0') {
		s++;
		len--;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return len;
}

int coord_money_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	char ca[39], cb[39];
	alen = coord_money_canonical(a, alen, ca);
	blen = coord_money_canonical(b, blen, cb);
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(ca, cb, alen);
}

enum coord_err coord_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return COORD_OK;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return COORD_OK;
		}
	}
	return COORD_ERR_INVALID;
}

bool coord_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

size_t coord_utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

int coord_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool coord_uuid_valid(const char *s, size_t len)
{
	if (!s || len != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (coord_hex_value((unsigned char)s[i]) < 0) {
			return false;
		}
	}
	return true;
}

bool coord_lowerhex_valid(const char *s, size_t len, size_t n)
{
	if (!s || len != n)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool coord_hex_valid(const char *s, size_t len, size_t n)
{
	if (!s || len != n)
		return false;
	for (size_t i = 0; i < len; i++)
		if (coord_hex_value((unsigned char)s[i]) < 0)
			return false;
	return true;
}

enum coord_err coord_pct_decode(const char *in, size_t len, bool plus_is_space,
				char *out, size_t *outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			if (len - i < 3)
				return COORD_ERR_INVALID;
			int hi = coord_hex_value((unsigned char)in[i + 1]);
			int lo = coord_hex_value((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return COORD_ERR_INVALID;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c == '\0')
			return COORD_ERR_INVALID;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (!coord_utf8_valid(out, o))
		return COORD_ERR_INVALID;
	*outlen = o;
	return COORD_OK;
}

enum coord_err coord_query_parse(struct coord_arena *arena, const char *qs, size_t len,
				 struct coord_query *out)
{
	size_t count = 0;
	out->params = NULL;
	out->n = 0;
	for (size_t i = 0; i < len; i++)
		if (qs[i] == '&')
			count++;
	count++;
	out->params = coord_arena_alloc(arena, count * sizeof(*out->params));

	size_t start = 0;
	while (start <= len) {
		const char *amp = memchr(qs + start, '&', len - start);
		size_t end = amp ? (size_t)(amp - qs) : len;
		if (end > start) {
			const char *pair = qs + start;
			size_t plen = end - start;
			const char *eq = memchr(pair, '=', plen);
			size_t nlen = eq ? (size_t)(eq - pair) : plen;
			const char *val = eq ? eq + 1 : pair + plen;
			size_t vlen = eq ? plen - nlen - 1 : 0;
			char *name = coord_arena_alloc(arena, nlen + 1);
			char *value = coord_arena_alloc(arena, vlen + 1);
			size_t dn, dv;
			if (coord_pct_decode(pair, nlen, true, name, &dn) != COORD_OK ||
			    coord_pct_decode(val, vlen, true, value, &dv) != COORD_OK)
				return COORD_ERR_INVALID;
			struct coord_query_param *p = &out->params[out->n++];
			p->name = name;
			p->value = value;
			p->value_len = dv;
		}
		if (!amp)
			break;
		start = end + 1;
	}
	return COORD_OK;
}

const struct coord_query_param *coord_query_get(const struct coord_query *q,
						const char *name)
{
	for (size_t i = q->n; i > 0; i--)
		if (strcmp(q->params[i - 1].name, name) == 0)
			return &q->params[i - 1];
	return NULL;
}
