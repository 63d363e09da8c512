/*
 * Rendering of result rows as JSON objects, one declared column list per
 * view: NULL becomes null, integers numbers, money strings canonical.
 * Timestamps are selected already formatted (COORD_SQL_TS in SQL).
 */
#ifndef COORD_ROWS_H
#define COORD_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>
#include <libpq-fe.h>

/* COORD_COL_JSON: a column selected as JSON text (e.g. array_to_json(col)), embedded as is. */
enum coord_col_kind { COORD_COL_STR, COORD_COL_INT, COORD_COL_BOOL, COORD_COL_MONEY, COORD_COL_JSON };

struct coord_col {
	const char *name;
	enum coord_col_kind kind;
	bool omit_null; /* leave the key out instead of writing null */
};

/* Row `row` of res, column i rendered as cols[i]. */
json_object *coord_row_json(PGresult *res, int row, const struct coord_col *cols, size_t n);
/* Every row, as an array. */
json_object *coord_rows_json(PGresult *res, const struct coord_col *cols, size_t n);

#endif
