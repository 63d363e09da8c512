#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "coord_buf.h"
#include "coord_log.h"
#include "banned.h"

static enum coord_log_format log_format = COORD_LOG_JSON;
static enum coord_log_level log_min = COORD_LOG_INFO;
static const char *log_program; /* set: the plain "<program>: <msg>" lines of bin/ */
static _Thread_local const char *log_request_id;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void coord_log_setup(enum coord_log_format format, enum coord_log_level min_level)
{
	log_format = format;
	log_min = min_level;
	log_program = NULL;
}

void coord_log_setup_program(const char *program, enum coord_log_level min_level)
{
	log_min = min_level;
	log_program = program;
}

void coord_log_set_request_id(const char *request_id)
{
	log_request_id = request_id;
}

int64_t coord_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t coord_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void coord_format_ts(int64_t ms, char out[static 32])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* Text format: values with spaces, quotes, '=' or control bytes are quoted. */
static void add_text_value(struct coord_buf *b, const char *s)
{
	bool plain = *s != '\0';
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == '"' || *c == '=' || *c == '\\' ||
		    (unsigned char)*c == 0x7F)
			plain = false;
	if (plain) {
		coord_buf_adds(b, s);
		return;
	}
	coord_buf_addch(b, '"');
	for (const char *c = s; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (u == '"' || u == '\\')
			coord_buf_addf(b, "\\%c", u);
		else if (u < 0x20 || u == 0x7F)
			coord_buf_addf(b, "\\x%02x", u);
		else
			coord_buf_addch(b, (char)u);
	}
	coord_buf_addch(b, '"');
}

void coord_log_fields(enum coord_log_level level, const char *msg,
		      const struct coord_log_field *fields, size_t n)
{
	char ts[32];
	struct coord_buf b = COORD_BUF_INIT;

	if (level < log_min)
		return;
	coord_format_ts(coord_now_ms(), ts);
	if (log_program) {
		coord_buf_addf(&b, "%s: %s", log_program, msg);
	} else if (log_format == COORD_LOG_JSON) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "ts", json_object_new_string(ts));
		json_object_object_add(o, "level", json_object_new_string(level_names[level]));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		for (size_t i = 0; i < n; i++) {
			if (fields[i].type == COORD_LF_STR) {
				if (fields[i].s)
					json_object_object_add(o, fields[i].key,
							       json_object_new_string(fields[i].s));
			} else {
				json_object_object_add(o, fields[i].key,
						       json_object_new_int64(fields[i].i));
			}
		}
		coord_buf_adds(&b, json_object_to_json_string_ext(
					   o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		coord_buf_addf(&b, "%s %s ", ts, level_names[level]);
		add_text_value(&b, msg);
		for (size_t i = 0; i < n; i++) {
			if (fields[i].type == COORD_LF_STR) {
				if (!fields[i].s)
					continue;
				coord_buf_addf(&b, " %s=", fields[i].key);
				add_text_value(&b, fields[i].s);
			} else {
				coord_buf_addf(&b, " %s=%lld", fields[i].key, (long long)fields[i].i);
			}
		}
	}
	coord_buf_addch(&b, '\n');
	ssize_t off = 0;
	while ((size_t)off < b.len) {
		ssize_t w = write(STDERR_FILENO, b.ptr + off, b.len - (size_t)off);
		if (w <= 0)
			break;
		off += w;
	}
	coord_buf_release(&b);
}

void coord_log(enum coord_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct coord_log_field id = { "request_id", COORD_LF_STR, log_request_id, 0 };
	coord_log_fields(level, msg, &id, log_request_id ? 1 : 0);
}
