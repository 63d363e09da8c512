/*
 * The effective pricing configuration (SPEC §4.1): the pricing_config
 * row if present and valid, else the fallback defaults. Each process
 * keeps a copy for 60 s. The row is written only from the contract
 * (§4.2: get_pricing_full, then get_max_limits): by the first-load fetch
 * of a serving process and by POST /public/pricing/refresh.
 */
#ifndef COORD_PRICING_H
#define COORD_PRICING_H

#include <stdbool.h>

#include <json-c/json.h>

#include "coord_config.h"
#include "coord_db.h"
#include "coord_err.h"

struct coord_bg;

/*
 * A new object with the eleven keys in SPEC order (caller puts it). The
 * process's first load notes whether the row is missing or older than
 * 3600 s, for coord_pricing_background.
 */
enum coord_err coord_pricing_current(struct coord_db *db, json_object **config);

/*
 * Under a transaction advisory lock: the stored configuration when it
 * came from the contract less than 3600 s ago (*fetched false), else one
 * fetch from the contract, stored (*fetched true). *config is a new
 * PricingConfig (caller puts it). COORD_ERR_UNAVAILABLE when NEAR is off
 * (the database is not touched), COORD_ERR_UPSTREAM when the fetch failed
 * or did not validate (the stored row is unchanged).
 */
enum coord_err coord_pricing_refresh(struct coord_db *db, const struct coord_config *cfg,
				     json_object **config, bool *fetched);

/*
 * The first-load fetch of §4.1, for coord_serve_background: once per
 * process, when its first load found the row missing or stale and NEAR is
 * enabled. Never on the final run, so never in CGI mode.
 */
void coord_pricing_background(struct coord_bg *bg, bool final);
/* How often the background thread looks whether that fetch is wanted. */
#define COORD_PRICING_BACKGROUND_MS 1000

#endif
