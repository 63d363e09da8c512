#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_buf.h"
#include "coord_mem.h"
#include "banned.h"

void coord_buf_init(struct coord_buf *b)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
}

void coord_buf_grow(struct coord_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->len) {
		fprintf(stderr, "coordinator: buffer size overflow\n");
		abort();
	}
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	b->ptr = coord_xrealloc(b->ptr, cap);
	b->cap = cap;
	b->ptr[b->len] = '\0';
}

void coord_buf_add(struct coord_buf *b, const void *data, size_t n)
{
	coord_buf_grow(b, n);
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void coord_buf_adds(struct coord_buf *b, const char *s)
{
	coord_buf_add(b, s, strlen(s));
}

void coord_buf_addch(struct coord_buf *b, char c)
{
	coord_buf_add(b, &c, 1);
}

void coord_buf_addf(struct coord_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		coord_buf_add(b, small, (size_t)n);
		return;
	}
	coord_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void coord_buf_reset(struct coord_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

const char *coord_buf_str(const struct coord_buf *b)
{
	return b->ptr ? b->ptr : "";
}

char *coord_buf_detach(struct coord_buf *b, size_t *len)
{
	char *p = b->ptr ? b->ptr : coord_xstrdup("");
	if (len)
		*len = b->len;
	coord_buf_init(b);
	return p;
}

void coord_buf_release(struct coord_buf *b)
{
	free(b->ptr);
	coord_buf_init(b);
}
