#include <pthread.h>
#include <string.h>

#include "coord_int.h"
#include "coord_json.h"
#include "coord_log.h"
#include "coord_parse.h"
#include "coord_pricing.h"
#include "banned.h"

enum { PRICING_ROW };

const struct coord_stmt coord_pricing_stmts[] = {
	[PRICING_ROW] = { "pricing_row", "SELECT config::text FROM pricing_config WHERE id = 1" },
};
const size_t coord_pricing_nstmts = sizeof(coord_pricing_stmts) / sizeof(coord_pricing_stmts[0]);

static const struct {
	const char *key;
	bool money;
	const char *fallback;
} keys[] = {
	{ "base_fee", true, "10000000000000000000000" },
	{ "per_instruction_fee", true, "1000000000000000" },
	{ "per_ms_fee", true, "1000000000000000000" },
	{ "per_compile_ms_fee", true, "2000000000000000000" },
	{ "base_fee_usd", true, "1000" },
	{ "per_instruction_fee_usd", true, "1" },
	{ "per_sec_fee_usd", true, "1" },
	{ "per_compile_ms_fee_usd", true, "10" },
	{ "max_compilation_seconds", false, "300" },
	{ "max_instructions", false, "100000000000" },
	{ "max_execution_seconds", false, "60" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

#define PRICING_TTL_MS 60000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_object *cached;
static int64_t cached_at;

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

/* The stored row as a PricingConfig in key order, or NULL if it is invalid. */
static json_object *from_row(const char *text)
{
	struct coord_json_problem p;
	json_object *row = coord_json_parse(text, strlen(text), &p);
	json_object *o = NULL;
	if (!row || !json_object_is_type(row, json_type_object))
		goto out;
	o = json_object_new_object();
	for (size_t i = 0; i < NKEYS; i++) {
		json_object *v;
		if (!json_object_object_get_ex(row, keys[i].key, &v))
			goto bad;
		if (keys[i].money) {
			if (!json_object_is_type(v, json_type_string) ||
			    !coord_money_valid(json_object_get_string(v),
					       (size_t)json_object_get_string_len(v)))
				goto bad;
			json_object_object_add(o, keys[i].key, coord_json_money(json_object_get_string(v)));
		} else {
			if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
				goto bad;
			json_object_object_add(o, keys[i].key,
					       json_object_new_int64(json_object_get_int64(v)));
		}
	}
	goto out;
bad:
	json_object_put(o);
	o = NULL;
out:
	json_object_put(row);
	return o;
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
			if (PQntuples(res) == 1) {
				fresh = from_row(PQgetvalue(res, 0, 0));
				if (!fresh)
					coord_log(COORD_LOG_WARN, "pricing_config row is invalid; using defaults");
			}
			PQclear(res);
			json_object_put(cached);
			cached = fresh ? fresh : fallback();
			cached_at = now;
		}
	}
	*config = NULL; /* json_object_deep_copy wants an empty destination */
	if (e == COORD_OK && json_object_deep_copy(cached, config, NULL) != 0)
		e = COORD_ERR_INTERNAL;
	pthread_mutex_unlock(&lock);
	return e;
}
