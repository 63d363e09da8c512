#include "coord_audit.h"
#include "coord_int.h"
#include "banned.h"

/*
 * One statement per rule, in report order. Each returns (subject,
 * expected, actual) already ordered by subject in byte order, then by the
 * rule's own checks in the order of the SPEC §6.2 table. Keys without a
 * balance row count as spent = reserved = 0; soft-deleted keys are included.
 */
enum { I1, I2, I3, I4, I5, I6, I7, Q1, Q2, Q3, NRULES };

static const char *const rule_names[NRULES] = {
	"I1", "I2", "I3", "I4", "I5", "I6", "I7", "Q1", "Q2", "Q3",
};

/* the subject column, compared in byte order whatever the database's collation */
#define SUBJECT(expr) "(" expr ") COLLATE \"C\""
#define KEY_TEXT(t) "'key=' || " t ".owner || ':' || " t ".nonce"
#define KEY_SUBJECT(t) SUBJECT(KEY_TEXT(t))
#define BY_SUBJECT "ORDER BY 1"

const struct coord_stmt coord_audit_stmts[NRULES] = {
	[I1] = { "audit_i1",
		"WITH k AS (SELECT owner, nonce FROM payment_keys "
		"           UNION SELECT owner, nonce FROM payment_key_balances) "
		"SELECT " KEY_SUBJECT("k") ", (coalesce(b.spent, 0) + coalesce(b.reserved, 0))::text, "
		"coalesce(p.initial_balance, 0)::text FROM k "
		"LEFT JOIN payment_keys p ON p.owner = k.owner AND p.nonce = k.nonce "
		"LEFT JOIN payment_key_balances b ON b.owner = k.owner AND b.nonce = k.nonce "
		"WHERE coalesce(b.spent, 0) + coalesce(b.reserved, 0) > coalesce(p.initial_balance, 0) "
		BY_SUBJECT },
	[I2] = { "audit_i2",
		"WITH c AS (SELECT owner, nonce, sum(reserved_amount) AS s FROM https_calls "
		"           WHERE status = 'pending' GROUP BY owner, nonce), "
		"k AS (SELECT owner, nonce FROM payment_keys UNION SELECT owner, nonce FROM payment_key_balances "
		"      UNION SELECT owner, nonce FROM c) "
		"SELECT " KEY_SUBJECT("k") ", coalesce(c.s, 0)::text, coalesce(b.reserved, 0)::text FROM k "
		"LEFT JOIN c ON c.owner = k.owner AND c.nonce = k.nonce "
		"LEFT JOIN payment_key_balances b ON b.owner = k.owner AND b.nonce = k.nonce "
		"WHERE coalesce(c.s, 0) <> coalesce(b.reserved, 0) " BY_SUBJECT },
	[I3] = { "audit_i3",
		"WITH u AS (SELECT owner, nonce, sum(charged) AS s FROM payment_key_usage "
		"           GROUP BY owner, nonce), "
		"k AS (SELECT owner, nonce FROM payment_keys UNION SELECT owner, nonce FROM payment_key_balances "
		"      UNION SELECT owner, nonce FROM u) "
		"SELECT " KEY_SUBJECT("k") ", coalesce(u.s, 0)::text, coalesce(b.spent, 0)::text FROM k "
		"LEFT JOIN u ON u.owner = k.owner AND u.nonce = k.nonce "
		"LEFT JOIN payment_key_balances b ON b.owner = k.owner AND b.nonce = k.nonce "
		"WHERE coalesce(u.s, 0) <> coalesce(b.spent, 0) " BY_SUBJECT },
	/* total_earned = balance holds while the owner has no withdrawal */
	[I4] = { "audit_i4",
		"WITH h AS (SELECT project_owner, sum(amount) AS s FROM earnings_history "
		"           WHERE source = 'https' GROUP BY project_owner), "
		"o AS (SELECT project_owner FROM project_owner_earnings UNION SELECT project_owner FROM h) "
		"SELECT " SUBJECT("'owner=' || o.project_owner") ", x.expected, x.actual FROM o "
		"LEFT JOIN h ON h.project_owner = o.project_owner "
		"LEFT JOIN project_owner_earnings e ON e.project_owner = o.project_owner "
		"CROSS JOIN LATERAL (VALUES "
		"  (1, coalesce(h.s, 0)::text, coalesce(e.balance, 0)::text, "
		"   coalesce(h.s, 0) <> coalesce(e.balance, 0)), "
		"  (2, e.balance::text, e.total_earned::text, e.balance <> e.total_earned AND NOT EXISTS "
		"   (SELECT 1 FROM project_owner_withdrawals w WHERE w.project_owner = o.project_owner))"
		") AS x(ord, expected, actual, bad) "
		"WHERE x.bad " BY_SUBJECT ", x.ord" },
	[I5] = { "audit_i5",
		"SELECT " SUBJECT("'call=' || c.call_id") ", x.expected, x.actual FROM https_calls c "
		"CROSS JOIN LATERAL ("
		"  SELECT 1 AS ord, 0::bigint AS id, "
		"    CASE WHEN c.status = 'pending' THEN 'unreleased' ELSE 'released' END AS expected, "
		"    CASE WHEN c.reservation_released_at IS NULL THEN 'unreleased' ELSE 'released' END "
		"      AS actual, "
		"    (c.status = 'pending') <> (c.reservation_released_at IS NULL) AS bad "
		"  UNION ALL SELECT 2, 0, CASE WHEN c.status = 'pending' THEN '0' ELSE '1' END, "
		"    n.cnt::text, n.cnt > CASE WHEN c.status = 'pending' THEN 0 ELSE 1 END "
		"    FROM (SELECT count(*) AS cnt FROM payment_key_usage u WHERE u.call_id = c.call_id) n "
		"  UNION ALL SELECT 3, u.id, (u.compute_cost + CASE WHEN u.status = 'completed' "
		"      THEN u.attached_deposit - u.refund_usd ELSE 0 END)::text, u.charged::text, "
		"    u.charged <> u.compute_cost + CASE WHEN u.status = 'completed' "
		"      THEN u.attached_deposit - u.refund_usd ELSE 0 END "
		"    FROM payment_key_usage u WHERE u.call_id = c.call_id "
		"  UNION ALL SELECT 4, u.id, c.compute_limit::text, u.compute_cost::text, "
		"    u.compute_cost > c.compute_limit "
		"    FROM payment_key_usage u WHERE u.call_id = c.call_id"
		") AS x WHERE x.bad " BY_SUBJECT ", x.ord, x.id" },
	[I6] = { "audit_i6",
		"SELECT " SUBJECT("'call=' || coalesce(h.call_id::text, 'null')") ", coalesce("
		"  (SELECT (u.attached_deposit - u.refund_usd)::text FROM payment_key_usage u "
		"   WHERE u.call_id = h.call_id AND u.status = 'completed' ORDER BY u.id LIMIT 1), "
		"  'none'), h.amount::text "
		"FROM earnings_history h WHERE h.source = 'https' AND NOT EXISTS "
		"  (SELECT 1 FROM payment_key_usage u WHERE u.call_id = h.call_id "
		"   AND u.status = 'completed' AND u.attached_deposit - u.refund_usd = h.amount) "
		BY_SUBJECT ", h.id" },
	/* every money column of the ledger, in the order its subject's rows are listed */
	[I7] = { "audit_i7",
		"SELECT s.subject, '0', s.v::text FROM ("
		"  SELECT " KEY_TEXT("p") " AS subject, x.ord, 0::bigint AS id, x.v "
		"    FROM payment_keys p, LATERAL (VALUES (1, p.initial_balance), (2, p.max_per_call)) "
		"    AS x(ord, v) WHERE x.v < 0 "
		"  UNION ALL SELECT " KEY_TEXT("b") ", x.ord, 0, x.v FROM payment_key_balances b, "
		"    LATERAL (VALUES (3, b.spent), (4, b.reserved)) AS x(ord, v) WHERE x.v < 0 "
		"  UNION ALL SELECT 'call=' || c.call_id, x.ord, 0, x.v FROM https_calls c, "
		"    LATERAL (VALUES (1, c.compute_limit), (2, c.attached_deposit), (3, c.reserved_amount), "
		"      (4, c.actual_cost), (5, c.compute_cost), (6, c.refund_usd)) AS x(ord, v) "
		"    WHERE x.v < 0 "
		"  UNION ALL SELECT 'call=' || u.call_id, x.ord, u.id, x.v FROM payment_key_usage u, "
		"    LATERAL (VALUES (7, u.compute_cost), (8, u.attached_deposit), (9, u.refund_usd), "
		"      (10, u.charged)) AS x(ord, v) WHERE x.v < 0 "
		"  UNION ALL SELECT CASE WHEN h.source = 'https' "
		"      THEN 'call=' || coalesce(h.call_id::text, 'null') "
		"      ELSE 'owner=' || h.project_owner END, x.ord, h.id, x.v FROM earnings_history h, "
		"    LATERAL (VALUES (11, h.attached_usd), (12, h.refund_usd), (13, h.amount)) AS x(ord, v) "
		"    WHERE x.v < 0 "
		"  UNION ALL SELECT 'owner=' || e.project_owner, x.ord, 0, x.v "
		"    FROM project_owner_earnings e, "
		"    LATERAL (VALUES (1, e.balance), (2, e.total_earned)) AS x(ord, v) WHERE x.v < 0"
		") AS s ORDER BY s.subject COLLATE \"C\", s.ord, s.id" },
	[Q1] = { "audit_q1",
		"SELECT " SUBJECT("'item=' || i.item_id") ", 'in_progress|pending', coalesce(j.status, 'none') "
		"FROM queue_items i LEFT JOIN jobs j ON j.job_id = i.job_id "
		"WHERE i.state = 'claimed' AND j.status IS DISTINCT FROM 'in_progress' "
		"AND j.status IS DISTINCT FROM 'pending' " BY_SUBJECT },
	[Q2] = { "audit_q2",
		"SELECT " SUBJECT("'job=' || job_id") ", 'lease', 'none' FROM jobs WHERE status = 'in_progress' "
		"AND (lease_id IS NULL OR lease_expires_at IS NULL) " BY_SUBJECT },
	[Q3] = { "audit_q3",
		"SELECT " SUBJECT("'job=' || j.job_id") ", 'item', 'none' FROM jobs j WHERE j.status = 'pending' "
		"AND NOT EXISTS (SELECT 1 FROM queue_items i WHERE i.request_id = j.request_id "
		"  AND i.data_id = j.data_id AND i.state IN ('queued', 'leased')) " BY_SUBJECT },
};
const size_t coord_audit_nstmts = NRULES;

static void add_findings(json_object *all, const char *rule, PGresult *res)
{
	static const char *const keys[] = { "subject", "expected", "actual" };
	for (int row = 0; row < PQntuples(res); row++) {
		json_object *f = json_object_new_object();
		json_object_object_add(f, "rule", json_object_new_string(rule));
		for (int col = 0; col < 3; col++)
			json_object_object_add(f, keys[col],
					       json_object_new_string(PQgetvalue(res, row, col)));
		json_object_array_add(all, f);
	}
}

enum coord_err coord_audit(struct coord_db *db, json_object **findings)
{
	json_object *all = json_object_new_array();
	enum coord_err e = coord_db_begin_snapshot(db);
	for (int rule = 0; rule < NRULES && e == COORD_OK; rule++) {
		PGresult *res;
		e = coord_db_exec(db, &coord_audit_stmts[rule], 0, NULL, &res);
		if (e == COORD_OK) {
			add_findings(all, rule_names[rule], res);
			PQclear(res);
		}
	}
	if (e == COORD_OK)
		e = coord_db_commit(db);
	if (e != COORD_OK) {
		coord_db_rollback(db);
		json_object_put(all);
		all = NULL;
	}
	*findings = all;
	return e;
}
