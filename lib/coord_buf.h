/*
 * Growable byte buffer.
 * Invariants: len < cap whenever ptr != NULL, and ptr[len] == '\0', so the
 * contents are always a C string (possibly holding embedded NULs). An
 * initialised buffer with nothing appended has ptr == NULL and len == 0;
 * coord_buf_str() returns "" for it. The owner calls coord_buf_release().
 */
#ifndef COORD_BUF_H
#define COORD_BUF_H

#include <stddef.h>

struct coord_buf {
	char *ptr;
	size_t len;
	size_t cap;
};

#define COORD_BUF_INIT { NULL, 0, 0 }

void coord_buf_init(struct coord_buf *b);
void coord_buf_grow(struct coord_buf *b, size_t extra);
void coord_buf_add(struct coord_buf *b, const void *data, size_t n);
void coord_buf_adds(struct coord_buf *b, const char *s);
void coord_buf_addch(struct coord_buf *b, char c);
void coord_buf_addf(struct coord_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void coord_buf_reset(struct coord_buf *b); /* len = 0, keeps memory */
const char *coord_buf_str(const struct coord_buf *b);
/* Hands the memory to the caller (free() it); the buffer is empty after. */
char *coord_buf_detach(struct coord_buf *b, size_t *len);
void coord_buf_release(struct coord_buf *b);

#endif
