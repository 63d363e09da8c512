#include <stdint.h>
#include <string.h>

#include "coord_multipart.h"
#include "banned.h"

/* ASCII only: the locale must not change what a header means. */
static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* s (n bytes) equals the lower-case literal lit, ignoring ASCII case. */
static bool token_is(const char *s, size_t n, const char *lit)
{
	if (n != strlen(lit))
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)s[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 9110 tchar */
static bool is_tchar(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 2046 bcharsnospace */
static bool is_bchar_nospace(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("'()+_,-./:=?", c) != NULL);
}

static bool is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 qdtext; with '"' and '\\' it is what a quoted-pair may escape. */
static bool is_qdtext(unsigned char c)
{
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
	       (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

static bool is_quoted_pair_char(unsigned char c)
{
	return is_qdtext(c) || c == '"' || c == '\\';
}

/* A part header value byte: HT, SP, VCHAR, obs-text; never CR, LF or NUL. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* 1..70 bchars, not ending in a space; *len gets the length. */
static bool boundary_valid(const char *b, size_t *len)
{
	if (!b)
		return false;
	size_t n = strnlen(b, COORD_MULTIPART_MAX_BOUNDARY + 1);
	if (n == 0 || n > COORD_MULTIPART_MAX_BOUNDARY || b[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if (b[i] != ' ' && !is_bchar_nospace((unsigned char)b[i]))
			return false;
	*len = n;
	return true;
}

enum coord_err coord_multipart_boundary(const char *content_type,
					char out[static COORD_MULTIPART_MAX_BOUNDARY + 1])
{
	static const char media_type[] = "multipart/form-data";
	enum coord_err status = COORD_ERR_INVALID;
	const unsigned char *ct = (const unsigned char *)content_type;
	size_t i = 0, olen = 0, blen;
	bool seen = false;

	out[0] = '\0';
	if (!ct)
		goto out;
	while (is_ows(ct[i]))
		i++;
	for (size_t k = 0; k < sizeof(media_type) - 1; k++, i++)
		if (ascii_lower(ct[i]) != (unsigned char)media_type[k])
			goto out; /* a NUL in ct stops here too */
	if (ct[i] != '\0' && ct[i] != ';' && !is_ows(ct[i]))
		goto out;
	for (;;) {
		while (is_ows(ct[i]))
			i++;
		if (ct[i] == '\0')
			break;
		if (ct[i] != ';')
			goto out;
		i++;
		while (is_ows(ct[i]))
			i++;
		if (ct[i] == '\0' || ct[i] == ';')
			continue;
		size_t name = i;
		while (is_tchar(ct[i]))
			i++;
		if (i == name || ct[i] != '=')
			goto out;
		bool is_boundary = token_is(content_type + name, i - name, "boundary");
		if (is_boundary && seen)
			goto out;
		seen = seen || is_boundary;
		i++;
		if (ct[i] == '"') {
			for (i++; ct[i] != '"'; i++) {
				unsigned char c = ct[i];
				if (c == '\\') {
					c = ct[++i];
					if (!is_quoted_pair_char(c))
						goto out;
				} else if (!is_qdtext(c)) {
					goto out;
				}
				if (is_boundary) {
					if (olen == COORD_MULTIPART_MAX_BOUNDARY)
						goto out;
					out[olen++] = (char)c;
				}
			}
			i++;
		} else if (is_boundary) {
			for (; is_bchar_nospace(ct[i]); i++) {
				if (olen == COORD_MULTIPART_MAX_BOUNDARY)
					goto out;
				out[olen++] = (char)ct[i];
			}
		} else {
			size_t value = i;
			while (is_tchar(ct[i]))
				i++;
			if (i == value)
				goto out;
		}
	}
	out[olen] = '\0';
	if (!seen || !boundary_valid(out, &blen))
		goto out;
	status = COORD_OK;
out:
	if (status != COORD_OK)
		out[0] = '\0';
	return status;
}

/*
 * Whether the dash-boundary that ends at offset at is a delimiter: followed
 * by padding, a line ending or "--" (else it is a longer boundary, i.e. text).
 */
static bool delimiter_follows(const char *body, size_t len, size_t at)
{
	if (at >= len)
		return false;
	char c = body[at];
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		return true;
	return c == '-' && at + 1 < len && body[at + 1] == '-';
}

/*
 * Offset of the first needle (NL "--" boundary, n bytes) at or after from
 * that is a delimiter, or SIZE_MAX. Linear: the needle starts with LF or
 * CRLF and the boundary holds neither, so candidates never overlap.
 */
static size_t find_delimiter(const char *body, size_t len, size_t from, const char *needle,
			     size_t n)
{
	while (from < len && len - from >= n) {
		const char *hit = memmem(body + from, len - from, needle, n);
		if (!hit)
			break;
		size_t at = (size_t)(hit - body);
		if (delimiter_follows(body, len, at + n))
			return at;
		from = at + 1;
	}
	return SIZE_MAX;
}

enum delimiter_line { LINE_PART, LINE_CLOSE, LINE_BAD, LINE_TRUNCATED };

/*
 * The rest of a delimiter line from offset at (just after the boundary).
 * *nl_len is 0 for the opening delimiter, which fixes the body's line
 * ending (1: LF, 2: CRLF); later lines must use the same. *next gets the
 * offset after the line.
 */
static enum delimiter_line delimiter_rest(const char *body, size_t len, size_t at,
					  size_t *nl_len, size_t *next)
{
	size_t nl;

	if (at + 1 < len && body[at] == '-' && body[at + 1] == '-')
		return LINE_CLOSE;
	while (at < len && is_ows((unsigned char)body[at]))
		at++;
	if (at == len)
		return LINE_TRUNCATED;
	if (body[at] == '\n')
		nl = 1;
	else if (body[at] != '\r')
		return LINE_BAD;
	else if (at + 1 == len)
		return LINE_TRUNCATED;
	else if (body[at + 1] == '\n')
		nl = 2;
	else
		return LINE_BAD;
	if (*nl_len != 0 && *nl_len != nl)
		return LINE_BAD;
	*nl_len = nl;
	*next = at + nl;
	return LINE_PART;
}

/* The raw quoted-string contents s (n bytes) without its backslashes, in arena. */
static const char *unescape(struct coord_arena *arena, const char *s, size_t n)
{
	char *out = coord_arena_alloc(arena, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\')
			i++; /* a quoted-string never ends in a lone backslash */
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* A Content-Disposition value v (n bytes, already trimmed and checked by is_field_char). */
static enum coord_err parse_disposition(struct coord_arena *arena, const char *v, size_t n,
					struct coord_multipart_part *part, const char **why)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)v[i]))
		i++;
	if (!token_is(v, i, "form-data")) {
		*why = "Content-Disposition is not form-data";
		return COORD_ERR_INVALID;
	}
	*why = "malformed Content-Disposition";
	for (;;) {
		while (i < n && is_ows((unsigned char)v[i]))
			i++;
		if (i == n)
			break;
		if (v[i] != ';')
			return COORD_ERR_INVALID;
		i++;
		while (i < n && is_ows((unsigned char)v[i]))
			i++;
		if (i == n || v[i] == ';')
			continue;
		size_t pname = i;
		while (i < n && is_tchar((unsigned char)v[i]))
			i++;
		size_t pname_len = i - pname;
		if (pname_len == 0 || i == n || v[i] != '=')
			return COORD_ERR_INVALID;
		i++;
		size_t value, value_len;
		bool quoted = i < n && v[i] == '"';
		if (quoted) {
			value = ++i;
			while (i < n && v[i] != '"') {
				if (v[i] == '\\' && ++i == n)
					return COORD_ERR_INVALID;
				i++;
			}
			if (i == n)
				return COORD_ERR_INVALID;
			value_len = i - value;
			i++;
		} else {
			value = i;
			while (i < n && is_tchar((unsigned char)v[i]))
				i++;
			value_len = i - value;
			if (value_len == 0)
				return COORD_ERR_INVALID;
		}
		const char **slot = NULL;
		if (token_is(v + pname, pname_len, "name"))
			slot = &part->name;
		else if (token_is(v + pname, pname_len, "filename"))
			slot = &part->filename;
		if (!slot)
			continue;
		if (*slot) {
			*why = "repeated name or filename in Content-Disposition";
			return COORD_ERR_INVALID;
		}
		*slot = quoted ? unescape(arena, v + value, value_len)
			       : coord_arena_memdup(arena, v + value, value_len);
	}
	*why = NULL;
	return COORD_OK;
}

/* One header line (n bytes, without its NL). */
static enum coord_err parse_header_line(struct coord_arena *arena, const char *line, size_t n,
					bool *have_disposition,
					struct coord_multipart_part *part, const char **why)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i == n || line[i] != ':') {
		*why = "malformed part header";
		return COORD_ERR_INVALID;
	}
	size_t name_len = i++;
	for (size_t k = i; k < n; k++) {
		if (!is_field_char((unsigned char)line[k])) {
			*why = "control character in part header";
			return COORD_ERR_INVALID;
		}
	}
	if (!token_is(line, name_len, "content-disposition"))
		return COORD_OK;
	if (*have_disposition) {
		*why = "repeated Content-Disposition";
		return COORD_ERR_INVALID;
	}
	*have_disposition = true;
	while (i < n && is_ows((unsigned char)line[i]))
		i++;
	while (n > i && is_ows((unsigned char)line[n - 1]))
		n--;
	return parse_disposition(arena, line + i, n - i, part, why);
}

/*
 * The header block of a part from *pos, up to and including its empty
 * line; *pos then is where the data starts.
 */
static enum coord_err parse_headers(struct coord_arena *arena, const char *body, size_t len,
				    size_t nl_len, size_t *pos,
				    struct coord_multipart_part *part, const char **why)
{
	size_t start = *pos, p = *pos;
	size_t limit = len - start > COORD_MULTIPART_MAX_HEADERS ? start + COORD_MULTIPART_MAX_HEADERS
								 : len;
	bool have_disposition = false;

	for (;;) {
		const char *lf = memchr(body + p, '\n', limit - p);
		if (!lf) {
			if (limit - p > COORD_MULTIPART_MAX_HEADER_LINE + nl_len - 1)
				*why = "part header line too long";
			else if (limit == len)
				*why = "truncated part headers";
			else
				*why = "part headers too large";
			return COORD_ERR_INVALID;
		}
		size_t eol = (size_t)(lf - body), end = eol;
		if (nl_len == 2) {
			if (end == p || body[end - 1] != '\r') {
				*why = "bare LF in the part headers of a CRLF body";
				return COORD_ERR_INVALID;
			}
			end--;
		}
		if (end - p > COORD_MULTIPART_MAX_HEADER_LINE) {
			*why = "part header line too long";
			return COORD_ERR_INVALID;
		}
		if (end == p) {
			*pos = eol + 1;
			break;
		}
		if (parse_header_line(arena, body + p, end - p, &have_disposition, part, why) !=
		    COORD_OK)
			return COORD_ERR_INVALID;
		p = eol + 1;
	}
	if (!have_disposition) {
		*why = "part without Content-Disposition";
		return COORD_ERR_INVALID;
	}
	if (!part->name) {
		*why = "Content-Disposition without name";
		return COORD_ERR_INVALID;
	}
	return COORD_OK;
}

enum coord_err coord_multipart_parse(struct coord_arena *arena, const char *boundary,
				     const char *body, size_t len,
				     struct coord_multipart_part **parts, size_t *nparts,
				     const char **why)
{
	enum coord_err status = COORD_ERR_INVALID;
	const char *reason = NULL;
	struct coord_multipart_part *list;
	size_t n = 0, blen, at, pos = 0, nl_len = 0;
	/* CR LF "--" boundary; the LF form and the dash-boundary are its tails */
	char needle[4 + COORD_MULTIPART_MAX_BOUNDARY];
	enum delimiter_line line;

	*parts = NULL;
	*nparts = 0;
	if (!boundary_valid(boundary, &blen)) {
		reason = "bad boundary";
		goto out;
	}
	if (!body)
		len = 0;
	memcpy(needle, "\r\n--", 4);
	memcpy(needle + 4, boundary, blen);
	const char *dash_boundary = needle + 2;
	size_t dash_len = blen + 2;

	if (len >= dash_len && memcmp(body, dash_boundary, dash_len) == 0 &&
	    delimiter_follows(body, len, dash_len)) {
		at = 0;
	} else {
		at = find_delimiter(body, len, 0, needle + 1, dash_len + 1);
		if (at == SIZE_MAX) {
			reason = "no opening delimiter";
			goto out;
		}
		at++;
	}
	line = delimiter_rest(body, len, at + dash_len, &nl_len, &pos);
	if (line == LINE_CLOSE) {
		reason = "no parts: the first delimiter is the close delimiter";
		goto out;
	}
	list = coord_arena_alloc(arena, COORD_MULTIPART_MAX_PARTS * sizeof(*list));
	while (line == LINE_PART) {
		if (n == COORD_MULTIPART_MAX_PARTS) {
			reason = "too many parts";
			goto out;
		}
		struct coord_multipart_part *part = &list[n];
		*part = (struct coord_multipart_part){ 0 };
		if (parse_headers(arena, body, len, nl_len, &pos, part, &reason) != COORD_OK)
			goto out;
		at = find_delimiter(body, len, pos, needle + 2 - nl_len, nl_len + dash_len);
		if (at == SIZE_MAX) {
			reason = "truncated body: no close delimiter";
			goto out;
		}
		part->data = body + pos;
		part->len = at - pos;
		n++;
		line = delimiter_rest(body, len, at + nl_len + dash_len, &nl_len, &pos);
	}
	if (line == LINE_BAD) {
		reason = "malformed delimiter line";
		goto out;
	}
	if (line == LINE_TRUNCATED) {
		reason = "truncated delimiter line";
		goto out;
	}
	*parts = list;
	*nparts = n;
	status = COORD_OK;
out:
	if (why)
		*why = status == COORD_OK ? NULL : reason;
	return status;
}

const struct coord_multipart_part *coord_multipart_find(const struct coord_multipart_part *parts,
							size_t n, const char *name,
							bool *duplicate)
{
	const struct coord_multipart_part *found = NULL;

	if (duplicate)
		*duplicate = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(parts[i].name, name) != 0)
			continue;
		if (!found) {
			found = &parts[i];
		} else {
			if (duplicate)
				*duplicate = true;
			break;
		}
	}
	return found;
}
