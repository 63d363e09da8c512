#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_mem.h"
#include "banned.h"

static void out_of_memory(size_t n)
{
	fprintf(stderr, "coordinator: out of memory allocating %zu bytes\n", n);
	abort();
}

void *coord_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *coord_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		out_of_memory(nmemb * size);
	return p;
}

void *coord_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *coord_xmemdup(const void *p, size_t n)
{
	char *s = coord_xmalloc(n + 1);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

char *coord_xstrdup(const char *s)
{
	return coord_xmemdup(s, strlen(s));
}

struct coord_arena_chunk {
	struct coord_arena_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK 8192

void *coord_arena_alloc(struct coord_arena *a, size_t n)
{
	size_t need = (n + 15) & ~(size_t)15;
	struct coord_arena_chunk *c = a->head;

	if (need < n)
		out_of_memory(n);
	if (!c || c->size - c->used < need) {
		size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;
		c = coord_xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += need;
	return p;
}

char *coord_arena_memdup(struct coord_arena *a, const void *p, size_t n)
{
	char *s = coord_arena_alloc(a, n + 1);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

char *coord_arena_strdup(struct coord_arena *a, const char *s)
{
	return coord_arena_memdup(a, s, strlen(s));
}

char *coord_arena_printf(struct coord_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory(0);
	char *s = coord_arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void coord_arena_release(struct coord_arena *a)
{
	struct coord_arena_chunk *c = a->head;
	while (c) {
		struct coord_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}
