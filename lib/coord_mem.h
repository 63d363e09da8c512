/*
 * Allocation that never returns NULL: running out of memory is not a state
 * the server can serve from, so it logs one line and aborts (as git's
 * xmalloc does). The per-request arena frees everything a request
 * allocated at once when the request ends.
 */
#ifndef COORD_MEM_H
#define COORD_MEM_H

#include <stddef.h>

void *coord_xmalloc(size_t n);
void *coord_xcalloc(size_t nmemb, size_t size);
void *coord_xrealloc(void *p, size_t n);
char *coord_xstrdup(const char *s);
char *coord_xmemdup(const void *p, size_t n); /* adds a NUL after n bytes */

/* Bump allocator; zero-initialise with COORD_ARENA_INIT. */
struct coord_arena {
	struct coord_arena_chunk *head;
};
#define COORD_ARENA_INIT { NULL }

void *coord_arena_alloc(struct coord_arena *a, size_t n);   /* 16-byte aligned */
char *coord_arena_memdup(struct coord_arena *a, const void *p, size_t n); /* NUL-terminated */
char *coord_arena_strdup(struct coord_arena *a, const char *s);
char *coord_arena_printf(struct coord_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Frees every chunk; the arena is empty and reusable afterwards. */
void coord_arena_release(struct coord_arena *a);

#endif
