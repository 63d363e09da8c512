/* Hidden worker logs (SPEC §3.2.12 POST /internal/system-logs, §3.5 compile-logs). */
#ifndef COORD_LOGS_H
#define COORD_LOGS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "coord_db.h"
#include "coord_err.h"

struct coord_system_log {
	int64_t request_id;
	bool has_job_id, has_exit_code;
	int64_t job_id, exit_code;
	const char *log_type, *stderr_text, *stdout_text, *execution_error; /* NULL when absent */
	const char *token_hash;
};

enum coord_err coord_logs_insert(struct coord_db *db, const struct coord_system_log *l,
				 int64_t *id);
/* The job's logs, newest first (an array); COORD_ERR_NOT_FOUND when none. */
enum coord_err coord_logs_of_job(struct coord_db *db, int64_t job_id, json_object **logs);

#endif
