/* Public statistics over execution_results (SPEC §3.4.2). */
#ifndef COORD_STATS_H
#define COORD_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"

enum coord_jobs_source { COORD_SOURCE_ALL, COORD_SOURCE_NEAR, COORD_SOURCE_HTTPS };

enum coord_err coord_stats_summary(struct coord_db *db, const struct coord_config *cfg,
				   json_object **out);
enum coord_err coord_stats_workers(struct coord_db *db, const struct coord_config *cfg,
				   json_object **out);
/* user_account_id NULL: every user. */
enum coord_err coord_stats_jobs(struct coord_db *db, int64_t limit, int64_t offset,
				const char *user_account_id, enum coord_jobs_source source,
				json_object **out);
enum coord_err coord_stats_popular_repos(struct coord_db *db, json_object **out);
/* GET /public/users/:account/earnings: the account's result rows summed (zeros when none). */
enum coord_err coord_stats_user(struct coord_db *db, const char *account, json_object **out);

#endif
