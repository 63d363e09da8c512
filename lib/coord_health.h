/* GET /health/detailed (SPEC §3.4.1). */
#ifndef COORD_HEALTH_H
#define COORD_HEALTH_H

#include <stdbool.h>

#include <json-c/json.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_redis.h"

/*
 * Runs every check and returns the report object (caller puts it).
 * *unhealthy is true when the overall status is "unhealthy" (HTTP 503).
 * Database or Redis failures are reported in the body, never returned.
 */
json_object *coord_health_detailed(const struct coord_config *cfg, struct coord_db *db,
				   struct coord_redis *redis, bool *unhealthy);

#endif
