#!/usr/bin/env bats
# GET /health, GET /health/detailed (SPEC §3.4.1), GET /public/pricing (SPEC §3.4.3, §4.1)
# and the behaviour while PostgreSQL or Redis is down (SPEC §0.4).

load ../helpers/coord

setup_file() {
	export NEAR_RPC_URL=off
	coord_start_stack
}

add_active_worker() {
	coord_psql "INSERT INTO worker_status (worker_id, worker_name, status, last_heartbeat_at)
		VALUES ('$1', '$1', 'online', now())
		ON CONFLICT (worker_id) DO UPDATE SET status = 'online', last_heartbeat_at = now()"
}

@test "GET /health answers 200 text/plain OK" {
	req GET /health
	assert_equal "$status" 200
	assert_equal "$body" OK
	assert_equal "$(header Content-Type)" text/plain
	assert_equal "$(header Cache-Control)" no-store
}

@test "/health/detailed without any active worker is unhealthy (503, workers critical)" {
	coord_psql "DELETE FROM worker_status"
	req GET /health/detailed
	assert_equal "$status" 503
	assert_equal "$(jq -r .status <<<"$body")" unhealthy
	assert_equal "$(jq -r .checks.workers.status <<<"$body")" critical
	assert_equal "$(jq -r .checks.database.status <<<"$body")" ok
	assert_equal "$(jq -r .checks.redis.status <<<"$body")" ok
}

@test "/health/detailed is healthy with an active, attested worker" {
	add_active_worker hw-1
	coord_psql "INSERT INTO worker_auth_tokens (token_hash, worker_name, last_attestation_at)
		VALUES (repeat('a', 64), 'hw-1', now() - interval '10 seconds')"
	req GET /health/detailed
	assert_equal "$status" 200
	assert_equal "$(jq -r .status <<<"$body")" healthy
	assert_equal "$(jq -c '.checks | keys_unsorted' <<<"$body")" \
		'["database","redis","keystore","workers","event_monitor","tee_attestation"]'
	assert_equal "$(jq -r .checks.keystore.status <<<"$body")" skipped
	assert_equal "$(jq -r .checks.workers.active <<<"$body")" 1
	assert_equal "$(jq -r '.checks.workers.details[0].worker_id' <<<"$body")" hw-1
	assert_equal "$(jq -r .checks.event_monitor.status <<<"$body")" unknown
	assert_equal "$(jq -r .checks.tee_attestation.status <<<"$body")" ok
	run jq -r .timestamp <<<"$body"
	assert_output --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
	assert_equal "$(jq -r '.checks.database.latency_ms | type' <<<"$body")" number
}

@test "/health/detailed is degraded when a monitor lags or an attestation is old" {
	add_active_worker hw-1
	coord_psql "UPDATE worker_status SET event_monitor_block_height = 10,
		event_monitor_updated_at = now() - interval '10 minutes' WHERE worker_id = 'hw-1'"
	req GET /health/detailed
	assert_equal "$status" 200
	assert_equal "$(jq -r .status <<<"$body")" degraded
	assert_equal "$(jq -r .checks.event_monitor.status <<<"$body")" warning
	assert_equal "$(jq -r '.checks.event_monitor.workers[0].current_block' <<<"$body")" 10
	coord_psql "UPDATE worker_status SET event_monitor_block_height = NULL,
		event_monitor_updated_at = NULL WHERE worker_id = 'hw-1'"
}

@test "/health/detailed with Redis stopped is unhealthy (503), then recovers" {
	add_active_worker hw-1
	coord_stop_redis
	req GET /health/detailed
	assert_equal "$status" 503
	assert_equal "$(jq -r .status <<<"$body")" unhealthy
	assert_equal "$(jq -r .checks.redis.status <<<"$body")" error
	assert_equal "$(jq -r .checks.database.status <<<"$body")" ok
	coord_start_redis
	req GET /health/detailed
	assert_equal "$(jq -r .checks.redis.status <<<"$body")" ok
	assert_equal "$status" 200
}

@test "GET /public/pricing answers the fallback defaults, then the stored row" {
	req GET /public/pricing
	assert_equal "$status" 200
	assert_equal "$body" '{"base_fee":"10000000000000000000000","per_instruction_fee":"1000000000000000","per_ms_fee":"1000000000000000000","per_compile_ms_fee":"2000000000000000000","base_fee_usd":"1000","per_instruction_fee_usd":"1","per_sec_fee_usd":"1","per_compile_ms_fee_usd":"10","max_compilation_seconds":300,"max_instructions":100000000000,"max_execution_seconds":60,"stablecoin":{"contract":"17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1","decimals":6}}'
}

# worker.fcgi processes of this file's stack (children of its lighttpd): other bats files
# running at the same time use the same build directory.
stack_worker_pids() {
	pgrep -P "$(coord__web_pid)" -f "$COORD_FCGI_DIR/worker.fcgi" | sort | tr '\n' ' '
}

@test "PostgreSQL stopped: 503 unavailable; started again: the same process answers 200" {
	token=$(coord_worker_token pg-check)
	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 200
	pids_before=$(stack_worker_pids)
	[[ -n $pids_before ]] || fail "no worker.fcgi process under this stack's lighttpd"

	coord_stop_pg
	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 503
	assert_equal "$(jq -r .error <<<"$body")" unavailable
	req GET /health/detailed
	assert_equal "$status" 503
	assert_equal "$(jq -r .checks.database.status <<<"$body")" error
	req GET /health
	assert_equal "$status" 200

	coord_start_pg
	# every worker.fcgi thread reconnects on its next request
	for _ in 1 2 3 4 5 6; do
		req GET /workers/block-cursor -H "Authorization: Bearer $token"
		assert_equal "$status" 200
	done
	assert_equal "$(stack_worker_pids)" "$pids_before"
}

@test "an outdated schema answers 503 until coord-migrate has run" {
	token=$(coord_worker_token schema-check)
	coord_psql "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)"
	# restart so the threads connect afresh and see the outdated schema
	coord_restart_web
	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 503
	assert_equal "$(jq -r .error <<<"$body")" unavailable
	assert_equal "$(jq -r .message <<<"$body")" "database schema outdated: run coord-migrate"
	# put the row back the way coord-migrate records it
	last=$(ls "$COORD_REPO"/sql/*.sql | sort | tail -n 1)
	v=$(basename "$last" | cut -c1-3)
	name=$(basename "$last" .sql | cut -c5-)
	sum=$(sha256sum "$last" | cut -d' ' -f1)
	coord_psql "INSERT INTO schema_migrations (version, name, checksum) VALUES ($((10#$v)), '$name', '$sum')"
	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 200
}
