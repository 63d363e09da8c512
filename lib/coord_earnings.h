/*
 * Project owners' earnings as the public sees them (SPEC §3.4.5, §4.5).
 * The rows are written by HTTPS settlement and blockchain completions.
 */
#ifndef COORD_EARNINGS_H
#define COORD_EARNINGS_H

#include <stdint.h>

#include <json-c/json.h>

#include "coord_db.h"
#include "coord_err.h"

/* {"project_owner","balance","total_earned","updated_at"}; zeros and null without a row. */
enum coord_err coord_earnings_owner(struct coord_db *db, const char *owner, json_object **out);

/*
 * One page of the owner's history, newest first, with total_count over
 * every row of the filter. source: "blockchain", "https" or NULL (both).
 */
enum coord_err coord_earnings_history(struct coord_db *db, const char *owner, const char *source,
				      int64_t limit, int64_t offset, json_object **out);

#endif
