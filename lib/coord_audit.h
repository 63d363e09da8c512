/*
 * coord-audit (SPEC §6.2): the ledger invariants I1–I7 (§4.7) and the
 * queue rules Q1–Q3, checked in one REPEATABLE READ READ ONLY transaction.
 */
#ifndef COORD_AUDIT_H
#define COORD_AUDIT_H

#include <json-c/json.h>

#include "coord_db.h"
#include "coord_err.h"

/*
 * A new array (caller puts it) of every finding as
 * {"rule","subject","expected","actual"} (four strings), ordered by rule
 * (I1…I7, Q1…Q3), then subject in byte order, then in the order of the
 * table of §6.2. Empty when every rule holds.
 */
enum coord_err coord_audit(struct coord_db *db, json_object **findings);

#endif
