#include <stdlib.h>
#include <string.h>

#include "coord_json.h"
#include "coord_rows.h"
#include "banned.h"

json_object *coord_row_json(PGresult *res, int row, const struct coord_col *cols, size_t n)
{
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < n; i++) {
		json_object *v = NULL;
		int col = (int)i;
		if (PQgetisnull(res, row, col) && cols[i].omit_null)
			continue;
		if (!PQgetisnull(res, row, col)) {
			const char *s = PQgetvalue(res, row, col);
			switch (cols[i].kind) {
			case COORD_COL_STR:
				v = json_object_new_string_len(s, PQgetlength(res, row, col));
				break;
			case COORD_COL_INT:
				v = json_object_new_int64(strtoll(s, NULL, 10));
				break;
			case COORD_COL_BOOL:
				v = json_object_new_boolean(strcmp(s, "t") == 0);
				break;
			case COORD_COL_MONEY:
				v = coord_json_money(s);
				break;
			case COORD_COL_JSON:
				v = json_tokener_parse(s);
				break;
			}
		}
		json_object_object_add(o, cols[i].name, v);
	}
	return o;
}

json_object *coord_rows_json(PGresult *res, const struct coord_col *cols, size_t n)
{
	json_object *a = json_object_new_array();
	for (int r = 0; r < PQntuples(res); r++)
		json_object_array_add(a, coord_row_json(res, r, cols, n));
	return a;
}
