/*
 * Log lines on fd 2 (SPEC §1.10): one JSON object per line, or
 * "ts level msg key=value …" in text format. Each line is written with a
 * single write(2) so lines of concurrent threads never interleave.
 * Never pass a secret, token, request body or storage value.
 */
#ifndef COORD_LOG_H
#define COORD_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "coord_config.h"

enum coord_log_type { COORD_LF_STR, COORD_LF_INT };

struct coord_log_field {
	const char *key;
	enum coord_log_type type;
	const char *s; /* COORD_LF_STR; NULL omits the field */
	int64_t i;     /* COORD_LF_INT */
};

void coord_log_setup(enum coord_log_format format, enum coord_log_level min_level);
/*
 * Command-line programs (SPEC §6.1): every line is "<program>: <msg>" on
 * stderr, without timestamp, level or fields.
 */
void coord_log_setup_program(const char *program, enum coord_log_level min_level);
/*
 * The request the calling thread serves (NULL when none): coord_log() lines
 * carry it as request_id (SPEC §1.10). The string must outlive the request.
 */
void coord_log_set_request_id(const char *request_id);
void coord_log_fields(enum coord_log_level level, const char *msg,
		      const struct coord_log_field *fields, size_t n);
void coord_log(enum coord_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Milliseconds since the epoch (CLOCK_REALTIME) and a monotonic clock. */
int64_t coord_now_ms(void);
int64_t coord_monotonic_ms(void);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (SPEC §1.5) of ms since the epoch. */
void coord_format_ts(int64_t ms, char out[static 32]);

#endif
