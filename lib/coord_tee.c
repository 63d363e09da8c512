#include <string.h>

#include "coord_int.h"
#include "coord_parse.h"
#include "coord_tee.h"
#include "banned.h"

enum { TEE_SESSION_VALID };

const struct coord_stmt coord_tee_stmts[] = {
	[TEE_SESSION_VALID] = { "tee_session_valid",
		"SELECT 1 FROM worker_tee_sessions WHERE session_id = $1::uuid AND is_active "
		"AND expires_at > now() AND token_hash = $2" },
};
const size_t coord_tee_nstmts = sizeof(coord_tee_stmts) / sizeof(coord_tee_stmts[0]);

enum coord_err coord_tee_session_valid(struct coord_db *db, const char *header,
				       const char *token_hash, bool *valid)
{
	PGresult *res;
	*valid = false;
	if (!header || !coord_uuid_valid(header, strlen(header)))
		return COORD_OK;
	const char *p[] = { header, token_hash };
	enum coord_err e = coord_db_exec(db, &coord_tee_stmts[TEE_SESSION_VALID], 2, p, &res);
	if (e != COORD_OK)
		return e;
	*valid = PQntuples(res) == 1;
	PQclear(res);
	return COORD_OK;
}
