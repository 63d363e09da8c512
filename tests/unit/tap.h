/* Minimal TAP output for the table-driven unit tests. */
#ifndef COORD_TAP_H
#define COORD_TAP_H

#include <stddef.h>
#include <stdio.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                   \
	do {                                                            \
		int ok_ = (cond) ? 1 : 0;                               \
		tap_n++;                                                \
		if (!ok_)                                               \
			tap_failed++;                                   \
		printf("%sok %d - ", ok_ ? "" : "not ", tap_n);         \
		printf(__VA_ARGS__);                                    \
		printf("\n");                                           \
		if (!ok_)                                               \
			printf("#   failed at %s:%d\n", __FILE__, __LINE__); \
	} while (0)

/* Printable form of len bytes for a TAP line (four rotating static buffers). */
static inline const char *show(const char *s, size_t len)
{
	static char bufs[4][512];
	static int next;
	char *out = bufs[next++ % 4];
	size_t o = 0;
	for (size_t i = 0; i < len && o + 8 < sizeof(bufs[0]); i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof(bufs[0]) - o, "\\x%02x", c);
	}
	if (o + 8 >= sizeof(bufs[0]))
		o += (size_t)snprintf(out + o, sizeof(bufs[0]) - o, "...");
	out[o] = '\0';
	return out;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
