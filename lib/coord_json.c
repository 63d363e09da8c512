#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "coord_json.h"
#include "coord_mem.h"
#include "coord_parse.h"
#include "banned.h"

/* ---- strict scanner over the raw text ---- */

struct frame {
	bool is_array;
	size_t index;        /* array: index of the current element */
	const char *key;     /* object: raw key of the current member (inside quotes) */
	size_t key_len;
};

struct scan {
	const char *s;
	size_t len, pos;
	struct frame stack[COORD_JSON_MAX_DEPTH + 1];
	int depth;
	bool bad;            /* a 400 error */
	const char *bad_msg;
	bool shape;          /* first 422 recorded */
	struct coord_json_problem *p;
};

static void fail(struct scan *sc, const char *msg)
{
	if (!sc->bad) {
		sc->bad = true;
		sc->bad_msg = msg;
	}
}

static void ws(struct scan *sc)
{
	while (sc->pos < sc->len) {
		char c = sc->s[sc->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		sc->pos++;
	}
}

static unsigned hex4(const char *h)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = h[i];
		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* Appends a raw (already validated) JSON member name to buf, decoded. */
static void add_key(char *buf, size_t size, size_t *o, const char *k, size_t klen)
{
	for (size_t i = 0; i < klen && *o + 4 < size; i++) {
		char c = k[i];
		if (c != '\\') {
			buf[(*o)++] = c;
			continue;
		}
		c = k[++i];
		if (c != 'u') {
			static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
			const char *f = strchr(from, c);
			buf[(*o)++] = f ? to[f - from] : c;
			continue;
		}
		unsigned cp = hex4(k + i + 1);
		i += 4;
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < klen && k[i + 1] == '\\' && k[i + 2] == 'u') {
			unsigned lo = hex4(k + i + 3);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
		}
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0xFFFD; /* a lone surrogate */
		if (cp < 0x80) {
			buf[(*o)++] = (char)cp;
		} else if (cp < 0x800) {
			buf[(*o)++] = (char)(0xC0 | (cp >> 6));
			buf[(*o)++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			buf[(*o)++] = (char)(0xE0 | (cp >> 12));
			buf[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			buf[(*o)++] = (char)(0x80 | (cp & 0x3F));
		} else {
			buf[(*o)++] = (char)(0xF0 | (cp >> 18));
			buf[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			buf[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			buf[(*o)++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	buf[*o] = '\0';
}

static void record_shape(struct scan *sc, const char *reason, const char *message)
{
	if (sc->shape)
		return;
	sc->shape = true;
	size_t o = 0;
	char *buf = sc->p->field;
	size_t size = sizeof(sc->p->field);
	buf[0] = '\0';
	for (int d = 0; d < sc->depth; d++) {
		struct frame *f = &sc->stack[d];
		if (f->is_array) {
			int w = snprintf(buf + o, size - o, "[%zu]", f->index);
			if (w > 0)
				o = o + (size_t)w < size ? o + (size_t)w : size - 1;
		} else {
			if (o && o + 1 < size)
				buf[o++] = '.';
			add_key(buf, size, &o, f->key, f->key_len);
		}
	}
	sc->p->status = 422;
	sc->p->reason = reason;
	sc->p->message = message;
}

static void scan_value(struct scan *sc);

/* Scans a string; start and slen receive the raw contents between quotes. */
static void scan_string(struct scan *sc, const char **start, size_t *slen)
{
	sc->pos++; /* opening quote */
	size_t begin = sc->pos;
	while (sc->pos < sc->len) {
		unsigned char c = (unsigned char)sc->s[sc->pos];
		if (c == '"') {
			if (start) {
				*start = sc->s + begin;
				*slen = sc->pos - begin;
			}
			sc->pos++;
			return;
		}
		if (c < 0x20) {
			fail(sc, "Control character in string");
			return;
		}
		if (c == '\\') {
			if (sc->pos + 1 >= sc->len) {
				fail(sc, "Truncated escape");
				return;
			}
			char e = sc->s[sc->pos + 1];
			if (e == 'u') {
				if (sc->len - sc->pos < 6) {
					fail(sc, "Truncated escape");
					return;
				}
				for (int k = 2; k < 6; k++) {
					char h = sc->s[sc->pos + (size_t)k];
					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F'))) {
						fail(sc, "Bad \\u escape");
						return;
					}
				}
				if (memcmp(sc->s + sc->pos + 2, "0000", 4) == 0)
					record_shape(sc, "format", "String contains U+0000");
				sc->pos += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", e) || e == '\0') {
				fail(sc, "Bad escape");
				return;
			}
			sc->pos += 2;
			continue;
		}
		sc->pos++;
	}
	fail(sc, "Unterminated string");
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void scan_number(struct scan *sc)
{
	bool negative = false, integer = true;
	if (sc->s[sc->pos] == '-') {
		negative = true;
		sc->pos++;
	}
	if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos])) {
		fail(sc, "Invalid number");
		return;
	}
	size_t dstart = sc->pos;
	if (sc->s[sc->pos] == '0') {
		sc->pos++;
	} else {
		while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
			sc->pos++;
	}
	size_t dlen = sc->pos - dstart;
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		integer = false;
		sc->pos++;
		if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos])) {
			fail(sc, "Invalid number");
			return;
		}
		while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
			sc->pos++;
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
		integer = false;
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
			sc->pos++;
		if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos])) {
			fail(sc, "Invalid number");
			return;
		}
		while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
			sc->pos++;
	}
	if (!integer)
		return;
	const char *limit = negative ? "9223372036854775808" : "18446744073709551615";
	size_t llen = strlen(limit);
	if (dlen > llen || (dlen == llen && memcmp(sc->s + dstart, limit, llen) > 0))
		record_shape(sc, "range", "Integer out of range");
}

static bool literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);
	if (sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, word, n) == 0) {
		sc->pos += n;
		return true;
	}
	return false;
}

static void scan_container(struct scan *sc, bool is_array)
{
	char close = is_array ? ']' : '}';
	if (sc->depth >= COORD_JSON_MAX_DEPTH) {
		fail(sc, "Nesting too deep");
		return;
	}
	struct frame *f = &sc->stack[sc->depth++];
	f->is_array = is_array;
	f->index = 0;
	f->key = "";
	f->key_len = 0;
	sc->pos++;
	ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == close) {
		sc->pos++;
		sc->depth--;
		return;
	}
	for (;;) {
		if (!is_array) {
			ws(sc);
			if (sc->pos >= sc->len || sc->s[sc->pos] != '"') {
				fail(sc, "Expected a member name");
				return;
			}
			scan_string(sc, &f->key, &f->key_len);
			if (sc->bad)
				return;
			ws(sc);
			if (sc->pos >= sc->len || sc->s[sc->pos] != ':') {
				fail(sc, "Expected ':'");
				return;
			}
			sc->pos++;
		}
		scan_value(sc);
		if (sc->bad)
			return;
		ws(sc);
		if (sc->pos >= sc->len) {
			fail(sc, "Unexpected end of input");
			return;
		}
		if (sc->s[sc->pos] == ',') {
			sc->pos++;
			f->index++;
			continue;
		}
		if (sc->s[sc->pos] == close) {
			sc->pos++;
			sc->depth--;
			return;
		}
		fail(sc, is_array ? "Expected ',' or ']'" : "Expected ',' or '}'");
		return;
	}
}

static void scan_value(struct scan *sc)
{
	ws(sc);
	if (sc->pos >= sc->len) {
		fail(sc, "Unexpected end of input");
		return;
	}
	char c = sc->s[sc->pos];
	if (c == '{' || c == '[')
		scan_container(sc, c == '[');
	else if (c == '"')
		scan_string(sc, NULL, NULL);
	else if (c == '-' || is_digit(c))
		scan_number(sc);
	else if (!literal(sc, "true") && !literal(sc, "false") && !literal(sc, "null"))
		fail(sc, "Invalid value");
}

json_object *coord_json_parse(const char *body, size_t len, struct coord_json_problem *p)
{
	struct scan sc;
	memset(&sc, 0, sizeof(sc));
	memset(p, 0, sizeof(*p));
	sc.s = body;
	sc.len = len;
	sc.p = p;

	if (!coord_utf8_valid(body, len)) {
		p->status = 400;
		p->message = "Body is not valid UTF-8";
		return NULL;
	}
	scan_value(&sc);
	if (!sc.bad) {
		ws(&sc);
		if (sc.pos != sc.len)
			fail(&sc, "Trailing data after the JSON value");
	}
	if (sc.bad) {
		memset(p, 0, sizeof(*p));
		p->status = 400;
		p->message = sc.bad_msg;
		return NULL;
	}
	if (sc.shape)
		return NULL;

	json_tokener *tok = json_tokener_new_ex(COORD_JSON_MAX_DEPTH + 2);
	if (!tok) {
		p->status = 400;
		p->message = "Out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *root = json_tokener_parse_ex(tok, body, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* a bare scalar at the end of input: finish it */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		json_object_put(root);
		p->status = 400;
		p->message = "Malformed JSON";
		return NULL;
	}
	if (!root) { /* the body is the literal null */
		p->status = 422;
		p->reason = "type";
		p->message = "Expected a JSON object";
	}
	return root;
}

bool coord_json_syntax_ok(const char *body, size_t len)
{
	struct coord_json_problem p;
	json_object *root = coord_json_parse(body, len, &p);
	json_object_put(root);
	return root != NULL || p.status == 422;
}

/* ---- field validation ---- */

static void set_path(struct coord_json_problem *p, const char *prefix, const char *name)
{
	snprintf(p->field, sizeof(p->field), "%s%s%s", prefix, *prefix ? "." : "", name);
}

static bool problem(struct coord_json_problem *p, const char *prefix, const char *name,
		    const char *reason, const char *message)
{
	p->status = 422;
	p->reason = reason;
	p->message = message;
	set_path(p, prefix, name);
	return false;
}

/* An array of integers 0-255; else the problem names the first bad element. */
static bool bytes_valid(json_object *m, const char *prefix, const char *name,
			struct coord_json_problem *p)
{
	char elem[200];
	if (!json_object_is_type(m, json_type_array))
		return problem(p, prefix, name, "type", "Expected an array of byte values");
	size_t n = json_object_array_length(m);
	for (size_t i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(m, i);
		const char *reason = NULL;
		if (!json_object_is_type(b, json_type_int))
			reason = "type";
		else if (json_object_get_int64(b) < 0 || json_object_get_int64(b) > 255)
			reason = "range";
		if (reason) {
			snprintf(elem, sizeof(elem), "%s[%zu]", name, i);
			return problem(p, prefix, elem, reason, "Expected an integer 0-255");
		}
	}
	return true;
}

bool coord_json_fields(json_object *obj, const char *prefix, const struct coord_field *fields,
		       size_t n, struct coord_value *values, struct coord_json_problem *p)
{
	memset(p, 0, sizeof(*p));
	if (!json_object_is_type(obj, json_type_object)) {
		p->status = 422;
		p->reason = "type";
		p->message = "Expected a JSON object";
		snprintf(p->field, sizeof(p->field), "%s", prefix);
		return false;
	}
	for (size_t k = 0; k < n; k++) {
		const struct coord_field *f = &fields[k];
		struct coord_value *v = &values[k];
		json_object *m = NULL;
		memset(v, 0, sizeof(*v));
		if (!json_object_object_get_ex(obj, f->name, &m) || m == NULL) {
			if (f->required)
				return problem(p, prefix, f->name, "missing", "Required field missing");
			continue;
		}
		v->present = true;
		v->obj = m;
		switch (f->type) {
		case COORD_FT_STRING:
		case COORD_FT_UUID:
		case COORD_FT_MONEY: {
			if (!json_object_is_type(m, json_type_string))
				return problem(p, prefix, f->name, "type", "Expected a string");
			v->s = json_object_get_string(m);
			v->len = (size_t)json_object_get_string_len(m);
			if (f->type == COORD_FT_UUID) {
				if (!coord_uuid_valid(v->s, v->len))
					return problem(p, prefix, f->name, "format", "Expected a UUID");
				break;
			}
			if (f->type == COORD_FT_MONEY) {
				if (!coord_money_valid(v->s, v->len))
					return problem(p, prefix, f->name, "format",
						       "Expected a decimal amount of 1 to 38 digits");
				break;
			}
			size_t chars = coord_utf8_chars(v->s, v->len);
			if ((f->min && chars < (size_t)f->min) || (f->max && chars > (size_t)f->max))
				return problem(p, prefix, f->name, "range", "String length out of range");
			if (f->enums) {
				bool ok = false;
				for (const char *const *e = f->enums; *e; e++)
					if (strlen(*e) == v->len && memcmp(*e, v->s, v->len) == 0)
						ok = true;
				if (!ok)
					return problem(p, prefix, f->name, "enum", "Unknown value");
			}
			break;
		}
		case COORD_FT_INT: {
			if (!json_object_is_type(m, json_type_int))
				return problem(p, prefix, f->name, "type", "Expected an integer");
			int64_t i = json_object_get_int64(m);
			if (i == INT64_MAX && json_object_get_uint64(m) > (uint64_t)INT64_MAX)
				return problem(p, prefix, f->name, "range", "Integer out of range");
			if (i < f->min || i > f->max)
				return problem(p, prefix, f->name, "range", "Integer out of range");
			v->i = i;
			break;
		}
		case COORD_FT_BOOL:
			if (!json_object_is_type(m, json_type_boolean))
				return problem(p, prefix, f->name, "type", "Expected a boolean");
			v->b = json_object_get_boolean(m);
			break;
		case COORD_FT_OBJECT:
			if (!json_object_is_type(m, json_type_object))
				return problem(p, prefix, f->name, "type", "Expected an object");
			break;
		case COORD_FT_ARRAY:
			if (!json_object_is_type(m, json_type_array))
				return problem(p, prefix, f->name, "type", "Expected an array");
			break;
		case COORD_FT_BYTES:
			if (!bytes_valid(m, prefix, f->name, p))
				return false;
			v->len = json_object_array_length(m);
			break;
		}
	}
	return true;
}

void coord_json_bytes_copy(json_object *arr, unsigned char *out)
{
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)json_object_get_int64(json_object_array_get_idx(arr, i));
}

struct byte_array {
	size_t n;
	unsigned char bytes[];
};

static int byte_array_text(json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct byte_array *a = json_object_get_userdata(jso);
	char chunk[4096];
	size_t o = 0;
	(void)level;
	(void)flags;
	chunk[o++] = '[';
	for (size_t i = 0; i < a->n; i++) {
		if (o > sizeof(chunk) - 8) {
			printbuf_memappend(pb, chunk, (int)o);
			o = 0;
		}
		unsigned v = a->bytes[i];
		if (i)
			chunk[o++] = ',';
		if (v >= 100)
			chunk[o++] = (char)('0' + v / 100);
		if (v >= 10)
			chunk[o++] = (char)('0' + v / 10 % 10);
		chunk[o++] = (char)('0' + v % 10);
	}
	chunk[o++] = ']';
	printbuf_memappend(pb, chunk, (int)o);
	return 0;
}

static void byte_array_free(json_object *jso, void *userdata)
{
	(void)jso;
	free(userdata);
}

json_object *coord_json_byte_array(const unsigned char *bytes, size_t n)
{
	struct byte_array *a = coord_xmalloc(sizeof(*a) + n);
	a->n = n;
	if (n)
		memcpy(a->bytes, bytes, n);
	json_object *o = json_object_new_array();
	json_object_set_serializer(o, byte_array_text, a, byte_array_free);
	return o;
}

bool coord_json_strings(json_object *arr, const char *path, size_t max_items, int64_t min_chars,
			int64_t max_chars, struct coord_json_problem *p)
{
	char item[256];
	memset(p, 0, sizeof(*p));
	if (!json_object_is_type(arr, json_type_array))
		return problem(p, "", path, "type", "Expected an array");
	size_t n = json_object_array_length(arr);
	if (n > max_items)
		return problem(p, "", path, "range", "Too many items");
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		snprintf(item, sizeof(item), "%s[%zu]", path, i);
		if (!json_object_is_type(s, json_type_string))
			return problem(p, "", item, "type", "Expected a string");
		size_t chars = coord_utf8_chars(json_object_get_string(s),
						(size_t)json_object_get_string_len(s));
		if (chars < (size_t)min_chars || chars > (size_t)max_chars)
			return problem(p, "", item, "range", "String length out of range");
	}
	return true;
}

const char *coord_json_text(json_object *obj, size_t *len)
{
	const char *s = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (len)
		*len = strlen(s);
	return s;
}

json_object *coord_json_money(const char *s)
{
	char canon[39];
	size_t n = strlen(s);
	if (!coord_money_valid(s, n))
		return json_object_new_string(s);
	coord_money_canonical(s, n, canon);
	return json_object_new_string(canon);
}
