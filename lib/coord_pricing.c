#include <pthread.h>
#include <string.h>

#include "coord_http.h"
#include "coord_int.h"
#include "coord_json.h"
#include "coord_log.h"
#include "coord_near.h"
#include "coord_parse.h"
#include "coord_pricing.h"
#include "banned.h"

enum { PRICING_ROW, PRICING_LOCK, PRICING_STORE };

/* the row, and whether it is missing a fetch: older than 3600 s */
const struct coord_stmt coord_pricing_stmts[] = {
	[PRICING_ROW] = { "pricing_row",
		"SELECT config::text, fetched_at < now() - interval '3600 seconds' "
		"FROM pricing_config WHERE id = 1" },
	[PRICING_LOCK] = { "pricing_lock",
		"SELECT pg_advisory_xact_lock(hashtextextended('pricing_refresh', 0))" },
	[PRICING_STORE] = { "pricing_store",
		"INSERT INTO pricing_config (id, config, fetched_at) VALUES (1, $1::jsonb, now()) "
		"ON CONFLICT (id) DO UPDATE SET config = EXCLUDED.config, fetched_at = EXCLUDED.fetched_at" },
};
const size_t coord_pricing_nstmts = sizeof(coord_pricing_stmts) / sizeof(coord_pricing_stmts[0]);

/*
 * The PricingConfig keys in SPEC order; money keys come from the member
 * `from` of get_pricing_full, the others from position `limit` of
 * get_max_limits ([max_instructions, max_execution_seconds,
 * max_compilation_seconds]).
 */
static const struct {
	const char *key;
	bool money;
	const char *fallback;
	const char *from;
	size_t limit;
} keys[] = {
	{ "base_fee", true, "10000000000000000000000", "base_fee", 0 },
	{ "per_instruction_fee", true, "1000000000000000", "per_million_instructions_fee", 0 },
	{ "per_ms_fee", true, "1000000000000000000", "per_ms_fee", 0 },
	{ "per_compile_ms_fee", true, "2000000000000000000", "per_compile_ms_fee", 0 },
	{ "base_fee_usd", true, "1000", "base_fee_usd", 0 },
	{ "per_instruction_fee_usd", true, "1", "per_million_instructions_fee_usd", 0 },
	{ "per_sec_fee_usd", true, "1", "per_sec_fee_usd", 0 },
	{ "per_compile_ms_fee_usd", true, "10", "per_compile_ms_fee_usd", 0 },
	{ "max_compilation_seconds", false, "300", NULL, 2 },
	{ "max_instructions", false, "100000000000", NULL, 0 },
	{ "max_execution_seconds", false, "60", NULL, 1 },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

#define PRICING_TTL_MS 60000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_object *cached;
static int64_t cached_at;
static bool first_load_done; /* under lock */
static bool fetch_wanted;    /* under lock: the first load found the row missing or stale */

static json_object *fallback(void)
{
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < NKEYS; i++) {
		int64_t v = 0;
		json_object_object_add(o, keys[i].key,
			keys[i].money ? json_object_new_string(keys[i].fallback)
				      : (coord_parse_i64(keys[i].fallback, strlen(keys[i].fallback),
							 0, INT64_MAX, &v),
					 json_object_new_int64(v)));
	}
	return o;
}

/* A money member: a string of SPEC §1.4, added to o under key (canonical). */
static bool take_money(json_object *o, const char *key, json_object *v)
{
	if (!json_object_is_type(v, json_type_string) ||
	    !coord_money_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
		return false;
	json_object_object_add(o, key, coord_json_money(json_object_get_string(v)));
	return true;
}

/* A limit: an integer 0..2^63-1, added to o under key. */
static bool take_limit(json_object *o, const char *key, json_object *v)
{
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    (json_object_get_int64(v) == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX))
		return false;
	json_object_object_add(o, key, json_object_new_int64(json_object_get_int64(v)));
	return true;
}

/*
 * A PricingConfig in key order from either the stored row (pricing, our
 * own names; from_contract false) or the contract's two answers; NULL if
 * any member is missing or does not validate.
 */
static json_object *build(json_object *pricing, bool from_contract, json_object *limits)
{
	json_object *o = json_object_new_object(), *v;
	if (!json_object_is_type(pricing, json_type_object) ||
	    (from_contract && (!json_object_is_type(limits, json_type_array) ||
			       json_object_array_length(limits) != 3)))
		goto bad;
	for (size_t i = 0; i < NKEYS; i++) {
		bool ok;
		if (keys[i].money)
			ok = json_object_object_get_ex(pricing, from_contract ? keys[i].from : keys[i].key,
						       &v) &&
			     take_money(o, keys[i].key, v);
		else if (from_contract)
			ok = take_limit(o, keys[i].key, json_object_array_get_idx(limits, keys[i].limit));
		else
			ok = json_object_object_get_ex(pricing, keys[i].key, &v) &&
			     take_limit(o, keys[i].key, v);
		if (!ok)
			goto bad;
	}
	return o;
bad:
	json_object_put(o);
	return NULL;
}

/* The stored row as a PricingConfig in key order, or NULL if it is invalid. */
static json_object *from_row(const char *text)
{
	struct coord_json_problem p;
	json_object *row = coord_json_parse(text, strlen(text), &p);
	json_object *o = build(row, false, NULL);
	json_object_put(row);
	return o;
}

/* Replaces the process's copy (takes config; call under lock). */
static void install(json_object *config, int64_t now)
{
	json_object_put(cached);
	cached = config;
	cached_at = now;
}

static enum coord_err copy_out(json_object **config)
{
	*config = NULL; /* json_object_deep_copy wants an empty destination */
	return json_object_deep_copy(cached, config, NULL) == 0 ? COORD_OK : COORD_ERR_INTERNAL;
}

enum coord_err coord_pricing_current(struct coord_db *db, json_object **config)
{
	enum coord_err e = COORD_OK;
	int64_t now = coord_monotonic_ms();

	pthread_mutex_lock(&lock);
	if (!cached || now - cached_at >= PRICING_TTL_MS) {
		PGresult *res;
		e = coord_db_exec(db, &coord_pricing_stmts[PRICING_ROW], 0, NULL, &res);
		if (e == COORD_OK) {
			json_object *fresh = NULL;
			bool stale = true;
			if (PQntuples(res) == 1) {
				fresh = from_row(PQgetvalue(res, 0, 0));
				stale = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
				if (!fresh)
					coord_log(COORD_LOG_WARN, "pricing_config row is invalid; using defaults");
			}
			PQclear(res);
			if (!first_load_done)
				fetch_wanted = !fresh || stale;
			first_load_done = true;
			install(fresh ? fresh : fallback(), now);
		}
	}
	if (e == COORD_OK)
		e = copy_out(config);
	pthread_mutex_unlock(&lock);
	return e;
}

/* get_pricing_full, then get_max_limits (only if the first succeeded): a PricingConfig or NULL. */
static json_object *fetch(const struct coord_config *cfg)
{
	json_object *pricing = NULL, *limits = NULL, *o = NULL;
	if (coord_near_view(cfg, "get_pricing_full", NULL, &pricing) == COORD_OK &&
	    json_object_is_type(pricing, json_type_object) &&
	    coord_near_view(cfg, "get_max_limits", NULL, &limits) == COORD_OK)
		o = build(pricing, true, limits);
	json_object_put(pricing);
	json_object_put(limits);
	return o;
}

enum coord_err coord_pricing_refresh(struct coord_db *db, const struct coord_config *cfg,
				     json_object **config, bool *fetched)
{
	PGresult *res = NULL;
	json_object *o = NULL;

	*config = NULL;
	*fetched = false;
	if (cfg->near_off)
		return COORD_ERR_UNAVAILABLE;
	enum coord_err e = coord_db_begin(db);
	if (e != COORD_OK)
		return e;
	if ((e = coord_db_exec(db, &coord_pricing_stmts[PRICING_LOCK], 0, NULL, NULL)) != COORD_OK ||
	    (e = coord_db_exec(db, &coord_pricing_stmts[PRICING_ROW], 0, NULL, &res)) != COORD_OK)
		goto out;
	/* re-checked under the lock: another process may have just fetched it */
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "f") == 0)
		o = from_row(PQgetvalue(res, 0, 0));
	if (!o) {
		if (!(o = fetch(cfg))) {
			e = COORD_ERR_UPSTREAM;
			goto out;
		}
		const char *p[] = { coord_json_text(o, NULL) };
		if ((e = coord_db_exec(db, &coord_pricing_stmts[PRICING_STORE], 1, p, NULL)) != COORD_OK)
			goto out;
		*fetched = true;
	}
	if ((e = coord_db_commit(db)) != COORD_OK)
		goto out;
	pthread_mutex_lock(&lock);
	install(o, coord_monotonic_ms());
	o = NULL;
	e = copy_out(config);
	pthread_mutex_unlock(&lock);
out:
	if (e != COORD_OK)
		coord_db_rollback(db);
	PQclear(res);
	json_object_put(o);
	return e;
}

void coord_pricing_background(struct coord_bg *bg, bool final)
{
	json_object *config;
	bool fetched;

	pthread_mutex_lock(&lock);
	bool attempt = !final && fetch_wanted && !bg->cfg->near_off;
	if (attempt)
		fetch_wanted = false; /* one attempt per process */
	pthread_mutex_unlock(&lock);
	if (!attempt)
		return;
	enum coord_err e = coord_db_ready(bg->db);
	if (e == COORD_OK)
		e = coord_pricing_refresh(bg->db, bg->cfg, &config, &fetched);
	if (e != COORD_OK) {
		coord_log(COORD_LOG_WARN, "pricing: the first-load fetch failed; the %s stays in force",
			  e == COORD_ERR_UPSTREAM ? "stored configuration (or the default)" : "current one");
		return;
	}
	if (fetched)
		coord_log(COORD_LOG_INFO, "pricing: fetched from the contract");
	json_object_put(config);
}
