/*
 * The effective pricing configuration (SPEC §4.1): the pricing_config
 * row if present and valid, else the fallback defaults. Each process
 * keeps a copy for 60 s. Fetching from the contract (§4.2) is not built
 * yet; POST /public/pricing/refresh and the first-load fetch come with it.
 */
#ifndef COORD_PRICING_H
#define COORD_PRICING_H

#include <json-c/json.h>

#include "coord_db.h"
#include "coord_err.h"

/* A new object with the eleven keys in SPEC order (caller puts it). */
enum coord_err coord_pricing_current(struct coord_db *db, json_object **config);

#endif
