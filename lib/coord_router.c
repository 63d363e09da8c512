#include <stdio.h>
#include <string.h>

#include "coord_parse.h"
#include "coord_router.h"
#include "banned.h"

enum coord_err coord_path_split(struct coord_arena *arena, const char *raw, size_t len,
				struct coord_path *out)
{
	size_t n = 0;
	out->n = 0;
	if (len == 0 || raw[0] != '/')
		return COORD_ERR_INVALID;
	for (size_t i = 0; i < len; i++)
		if (raw[i] == '/')
			n++;
	out->seg = coord_arena_alloc(arena, n * sizeof(char *));
	out->len = coord_arena_alloc(arena, n * sizeof(size_t));
	size_t start = 1;
	for (size_t k = 0; k < n; k++) {
		const char *slash = memchr(raw + start, '/', len - start);
		size_t end = slash ? (size_t)(slash - raw) : len;
		char *seg = coord_arena_alloc(arena, end - start + 1);
		if (coord_pct_decode(raw + start, end - start, false, seg, &out->len[k]) != COORD_OK)
			return COORD_ERR_INVALID;
		out->seg[k] = seg;
		start = end + 1;
	}
	out->n = n;
	return COORD_OK;
}

/* Walks the pattern's segments; calls back with (index, text, len). */
static size_t pattern_segments(const char *pattern, const char **seg, size_t *len, size_t max)
{
	size_t n = 0;
	const char *p = pattern;
	while (*p == '/' && n < max) {
		p++;
		const char *end = strchr(p, '/');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		seg[n] = p;
		len[n] = l;
		n++;
		p += l;
	}
	return n;
}

#define MAX_SEGS 16

static bool matches(const char *pattern, const struct coord_path *path)
{
	const char *seg[MAX_SEGS];
	size_t len[MAX_SEGS];
	size_t n = pattern_segments(pattern, seg, len, MAX_SEGS);
	if (n != path->n)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *s = path->seg[i];
		size_t sl = path->len[i];
		if (seg[i][0] == ':') {
			if (sl == 0 || (sl == 1 && s[0] == '.') || (sl == 2 && s[0] == '.' && s[1] == '.'))
				return false;
		} else if (sl != len[i] || memcmp(s, seg[i], sl) != 0) {
			return false;
		}
	}
	return true;
}

/* >0 when a is more specific than b (a literal where b has a parameter first). */
static int specificity(const char *a, const char *b)
{
	const char *sa[MAX_SEGS], *sb[MAX_SEGS];
	size_t la[MAX_SEGS], lb[MAX_SEGS];
	size_t na = pattern_segments(a, sa, la, MAX_SEGS);
	size_t nb = pattern_segments(b, sb, lb, MAX_SEGS);
	for (size_t i = 0; i < na && i < nb; i++) {
		bool pa = sa[i][0] == ':', pb = sb[i][0] == ':';
		if (pa != pb)
			return pa ? -1 : 1;
	}
	return 0;
}

const struct coord_route *coord_route_for_path(const struct coord_route *routes, size_t n,
					       const struct coord_path *path)
{
	const struct coord_route *best = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!matches(routes[i].pattern, path))
			continue;
		if (!best || specificity(routes[i].pattern, best->pattern) > 0)
			best = &routes[i];
	}
	return best;
}

void coord_route_match(const struct coord_route *routes, size_t n, const struct coord_path *path,
		       const char *method, bool head_on_get, struct coord_match *m)
{
	static const char *const order[] = { "GET", "HEAD", "POST", "DELETE" };
	memset(m, 0, sizeof(*m));
	const struct coord_route *best = coord_route_for_path(routes, n, path);
	if (!best) {
		m->status = 404;
		return;
	}
	bool has[4] = { false, false, false, false };
	for (size_t i = 0; i < n; i++) {
		if (strcmp(routes[i].pattern, best->pattern) != 0)
			continue;
		for (int k = 0; k < 4; k++)
			if (strcmp(routes[i].method, order[k]) == 0)
				has[k] = true;
		if (strcmp(routes[i].method, method) == 0)
			m->route = &routes[i];
		else if (head_on_get && strcmp(method, "HEAD") == 0 &&
			 strcmp(routes[i].method, "GET") == 0) {
			m->route = &routes[i];
			m->is_head = true;
		}
	}
	if (head_on_get && has[0])
		has[1] = true;
	if (!m->route) {
		size_t o = 0;
		for (int k = 0; k < 4; k++) {
			if (!has[k])
				continue;
			int w = snprintf(m->allow + o, sizeof(m->allow) - o, "%s%s", o ? ", " : "",
					 order[k]);
			if (w > 0)
				o += (size_t)w;
		}
		m->status = 405;
		return;
	}
	const char *seg[MAX_SEGS];
	size_t len[MAX_SEGS];
	size_t ns = pattern_segments(m->route->pattern, seg, len, MAX_SEGS);
	for (size_t i = 0; i < ns && m->nparams < COORD_MAX_PARAMS; i++) {
		if (seg[i][0] == ':') {
			m->params[m->nparams] = path->seg[i];
			m->param_len[m->nparams] = path->len[i];
			m->nparams++;
		}
	}
}
