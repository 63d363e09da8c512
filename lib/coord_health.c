#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_health.h"
#include "coord_int.h"
#include "coord_keystore.h"
#include "coord_log.h"
#include "coord_near.h"
#include "banned.h"

enum { HEALTH_PING, HEALTH_KEYSTORE_UP, HEALTH_WORKERS, HEALTH_MONITORS, HEALTH_ATTESTATIONS };

const struct coord_stmt coord_health_stmts[] = {
	[HEALTH_PING] = { "health_ping", "SELECT 1" },
	[HEALTH_KEYSTORE_UP] = { "health_keystore_up",
		"INSERT INTO worker_status (worker_id, worker_name, status, last_heartbeat_at, "
		"updated_at) VALUES ($1, 'keystore', 'online', now(), now()) "
		"ON CONFLICT (worker_id) DO UPDATE SET worker_name = 'keystore', status = 'online', "
		"last_heartbeat_at = now(), updated_at = now()" },
	[HEALTH_WORKERS] = { "health_workers",
		"SELECT worker_id, worker_name, status, "
		"floor(extract(epoch FROM now() - last_heartbeat_at))::bigint, "
		"(status IN ('online', 'busy') AND last_heartbeat_at > now() - interval '120 seconds') "
		"FROM worker_status WHERE last_heartbeat_at > now() - interval '24 hours' "
		"AND worker_id <> $1 ORDER BY worker_id" },
	[HEALTH_MONITORS] = { "health_monitors",
		"SELECT worker_id, event_monitor_block_height, "
		"floor(extract(epoch FROM now() - event_monitor_updated_at))::bigint "
		"FROM worker_status WHERE status IN ('online', 'busy') "
		"AND last_heartbeat_at > now() - interval '5 minutes' "
		"AND event_monitor_block_height IS NOT NULL AND worker_id <> $1 "
		"ORDER BY event_monitor_block_height DESC, worker_id" },
	[HEALTH_ATTESTATIONS] = { "health_attestations",
		"SELECT t.worker_name, floor(extract(epoch FROM now() - max(t.last_attestation_at)))::bigint "
		"FROM worker_auth_tokens t WHERE t.is_active AND EXISTS (SELECT 1 FROM worker_status s "
		"WHERE s.worker_name = t.worker_name AND s.worker_id <> $1 "
		"AND s.last_heartbeat_at > now() - interval '24 hours') "
		"GROUP BY t.worker_name ORDER BY t.worker_name" },
};
const size_t coord_health_nstmts = sizeof(coord_health_stmts) / sizeof(coord_health_stmts[0]);

static json_object *simple_check(bool ok, int64_t latency_ms, const char *error)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "error"));
	json_object_object_add(o, "latency_ms", json_object_new_int64(latency_ms));
	if (!ok)
		json_object_object_add(o, "error", json_object_new_string(error));
	return o;
}

static json_object *status_only(const char *status)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(status));
	return o;
}

static json_object *check_workers(struct coord_db *db, const char *keystore_id, bool *bad)
{
	PGresult *res;
	const char *p[] = { keystore_id };
	if (coord_db_exec(db, &coord_health_stmts[HEALTH_WORKERS], 1, p, &res) != COORD_OK) {
		*bad = true;
		return status_only("error");
	}
	int n = PQntuples(res), active = 0;
	json_object *details = json_object_new_array();
	for (int i = 0; i < n; i++) {
		json_object *w = json_object_new_object();
		json_object_object_add(w, "worker_id", json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(w, "worker_name", json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_object_add(w, "status", json_object_new_string(PQgetvalue(res, i, 2)));
		json_object_object_add(w, "last_heartbeat_secs_ago",
				       json_object_new_int64(coord_db_i64(res, i, 3)));
		json_object_array_add(details, w);
		if (strcmp(PQgetvalue(res, i, 4), "t") == 0)
			active++;
	}
	PQclear(res);
	*bad = active == 0;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(active ? "ok" : "critical"));
	json_object_object_add(o, "active", json_object_new_int(active));
	json_object_object_add(o, "total", json_object_new_int(n));
	json_object_object_add(o, "details", details);
	return o;
}

static json_object *check_monitors(const struct coord_config *cfg, struct coord_db *db,
				   const char *keystore_id, bool *warn)
{
	PGresult *res;
	const char *p[] = { keystore_id };
	if (coord_db_exec(db, &coord_health_stmts[HEALTH_MONITORS], 1, p, &res) != COORD_OK) {
		*warn = true;
		return status_only("error");
	}
	int n = PQntuples(res);
	int64_t tip = 0;
	bool have_tip = n > 0 && coord_near_chain_tip(cfg, 5, &tip) == COORD_OK;
	const char *status = n ? "ok" : "unknown";
	json_object *workers = json_object_new_array();
	for (int i = 0; i < n; i++) {
		json_object *w = json_object_new_object();
		int64_t height = coord_db_i64(res, i, 1);
		json_object_object_add(w, "worker_id", json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(w, "current_block", json_object_new_int64(height));
		if (have_tip) {
			int64_t behind = tip > height ? tip - height : 0;
			json_object_object_add(w, "blocks_behind", json_object_new_int64(behind));
			if (behind > 100)
				status = "warning";
		}
		if (!PQgetisnull(res, i, 2)) {
			int64_t ago = coord_db_i64(res, i, 2);
			json_object_object_add(w, "last_update_secs_ago", json_object_new_int64(ago));
			if (ago >= 300)
				status = "warning";
		}
		json_object_array_add(workers, w);
	}
	PQclear(res);
	*warn = strcmp(status, "warning") == 0;
	json_object *o = status_only(status);
	if (have_tip)
		json_object_object_add(o, "chain_tip_block", json_object_new_int64(tip));
	json_object_object_add(o, "workers", workers);
	return o;
}

static json_object *check_attestations(struct coord_db *db, const char *keystore_id, bool *warn)
{
	PGresult *res;
	const char *p[] = { keystore_id };
	if (coord_db_exec(db, &coord_health_stmts[HEALTH_ATTESTATIONS], 1, p, &res) != COORD_OK) {
		*warn = true;
		return status_only("error");
	}
	int n = PQntuples(res);
	*warn = false;
	json_object *workers = json_object_new_array();
	for (int i = 0; i < n; i++) {
		json_object *w = json_object_new_object();
		json_object_object_add(w, "worker_name", json_object_new_string(PQgetvalue(res, i, 0)));
		if (PQgetisnull(res, i, 1)) {
			*warn = true;
		} else {
			int64_t ago = coord_db_i64(res, i, 1);
			json_object_object_add(w, "last_attestation_secs_ago", json_object_new_int64(ago));
			if (ago >= 3600)
				*warn = true;
		}
		json_object_array_add(workers, w);
	}
	PQclear(res);
	json_object *o = status_only(*warn ? "warning" : "ok");
	json_object_object_add(o, "workers", workers);
	return o;
}

json_object *coord_health_detailed(const struct coord_config *cfg, struct coord_db *db,
				   struct coord_redis *redis, bool *unhealthy)
{
	char keystore_id[96], ts[32], err[256];
	bool db_ok, redis_ok, workers_bad = true, monitors_warn = true, tee_warn = true;
	bool keystore_bad = false;
	json_object *checks = json_object_new_object();

	coord_keystore_worker_id(cfg, keystore_id);

	/* database */
	int64_t t0 = coord_monotonic_ms();
	enum coord_err e = coord_db_ready(db);
	PGresult *res = NULL;
	if (e == COORD_OK)
		e = coord_db_exec(db, &coord_health_stmts[HEALTH_PING], 0, NULL, &res);
	PQclear(res);
	db_ok = e == COORD_OK;
	json_object_object_add(checks, "database",
		simple_check(db_ok, coord_monotonic_ms() - t0,
			     e == COORD_ERR_SCHEMA ? "database schema outdated: run coord-migrate"
						   : "database unavailable"));

	/* redis */
	t0 = coord_monotonic_ms();
	redisReply *rep = coord_redis_command(redis, 2000, "PING");
	redis_ok = rep && rep->type == REDIS_REPLY_STATUS;
	json_object_object_add(checks, "redis",
		simple_check(redis_ok, coord_monotonic_ms() - t0,
			     rep ? "unexpected reply to PING" : "redis unavailable"));
	if (rep)
		freeReplyObject(rep);

	/* keystore */
	t0 = coord_monotonic_ms();
	e = coord_keystore_health(cfg, err, sizeof(err));
	if (e == COORD_ERR_NOT_FOUND) {
		json_object_object_add(checks, "keystore", status_only("skipped"));
	} else {
		keystore_bad = e != COORD_OK;
		json_object_object_add(checks, "keystore",
				       simple_check(!keystore_bad, coord_monotonic_ms() - t0, err));
		if (!keystore_bad && db_ok) {
			const char *p[] = { keystore_id };
			coord_db_exec(db, &coord_health_stmts[HEALTH_KEYSTORE_UP], 1, p, NULL);
		}
	}

	if (db_ok) {
		json_object_object_add(checks, "workers", check_workers(db, keystore_id, &workers_bad));
		json_object_object_add(checks, "event_monitor",
				       check_monitors(cfg, db, keystore_id, &monitors_warn));
		json_object_object_add(checks, "tee_attestation",
				       check_attestations(db, keystore_id, &tee_warn));
	} else {
		json_object_object_add(checks, "workers", status_only("error"));
		json_object_object_add(checks, "event_monitor", status_only("error"));
		json_object_object_add(checks, "tee_attestation", status_only("error"));
	}

	*unhealthy = !db_ok || !redis_ok || workers_bad;
	bool degraded = keystore_bad || monitors_warn || tee_warn;
	json_object *o = json_object_new_object();
	coord_format_ts(coord_now_ms(), ts);
	json_object_object_add(o, "status", json_object_new_string(
		*unhealthy ? "unhealthy" : degraded ? "degraded" : "healthy"));
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	json_object_object_add(o, "checks", checks);
	return o;
}
