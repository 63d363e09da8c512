#!/usr/bin/env bats
# Pricing from the contract (SPEC §4.1, §4.2) against the fake NEAR server: POST
# /public/pricing/refresh (fresh row answered without a fetch, stale or missing row fetched and
# stored, every failure a 502 that leaves the row alone, NEAR off 503), the mapping of
# get_pricing_full + get_max_limits to PricingConfig, concurrent refreshes fetching once, and
# the first-load fetch of a serving process (once, in the background, never in CGI mode).

load ../helpers/coord
load ../helpers/near
load ../helpers/cgi

setup_file() {
	near_start || return 1
	export NEAR_RPC_TIMEOUT_SECONDS=2
	if ! coord_start_stack; then
		near_stop
		return 1
	fi
}

teardown_file() {
	local rc=0
	coord_stop_stack || rc=$?
	near_stop
	return "$rc"
}

setup() {
	coord_test_setup
	near_reset
	near_view_clear
	coord_psql "DELETE FROM pricing_config"
}

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

PRICING_FULL='{"base_fee":"20000000000000000000000","per_million_instructions_fee":"0002000","per_ms_fee":"3","per_compile_ms_fee":"4","base_fee_usd":"1500","per_million_instructions_fee_usd":"2","per_sec_fee_usd":"5","per_compile_ms_fee_usd":"11","ignored":true}'
LIMITS='[200000000000,90,600]'
MAPPED='{"base_fee":"20000000000000000000000","per_instruction_fee":"2000","per_ms_fee":"3","per_compile_ms_fee":"4","base_fee_usd":"1500","per_instruction_fee_usd":"2","per_sec_fee_usd":"5","per_compile_ms_fee_usd":"11","max_compilation_seconds":600,"max_instructions":200000000000,"max_execution_seconds":90}'
DEFAULTS='{"base_fee":"10000000000000000000000","per_instruction_fee":"1000000000000000","per_ms_fee":"1000000000000000000","per_compile_ms_fee":"2000000000000000000","base_fee_usd":"1000","per_instruction_fee_usd":"1","per_sec_fee_usd":"1","per_compile_ms_fee_usd":"10","max_compilation_seconds":300,"max_instructions":100000000000,"max_execution_seconds":60}'

contract() {
	near_view get_pricing_full "${1:-$PRICING_FULL}"
	near_view get_max_limits "${2:-$LIMITS}"
}

# views: the view methods the coordinator asked, in order, comma-separated.
views() {
	near_requests call_function | jq -r '.body | fromjson | .params.method_name' | paste -sd, -
}

stored() { coord_psql "SELECT config::text FROM pricing_config WHERE id = 1" | jq -cS .; }

# ------------------------------------------------------------------ refresh

@test "refresh without a row fetches both views, stores the mapped configuration and serves it" {
	contract
	req POST /public/pricing/refresh
	assert_equal "$status" 200
	assert_equal "$body" "$MAPPED"
	assert_equal "$(views)" "get_pricing_full,get_max_limits"
	assert_equal "$(stored)" "$(jq -cS . <<<"$MAPPED")"
	assert_equal "$(coord_psql "SELECT fetched_at > now() - interval '1 minute' FROM pricing_config")" t
	# the view calls: call_function, finality final, the contract, empty args
	assert_equal "$(near_requests call_function | jq -c '.body | fromjson | .params | [.request_type, .finality, .account_id, .args_base64]' | sort -u)" \
		'["call_function","final","outlayer.testnet",""]'
	# this process serves it at once
	req GET /public/pricing
	assert_equal "$(jq -c 'del(.stablecoin)' <<<"$body")" "$MAPPED"
}

@test "a configuration fetched less than 3600 s ago is answered without a fetch; older is fetched again" {
	contract
	req POST /public/pricing/refresh
	assert_equal "$status" 200
	near_reset
	contract '{"base_fee":"1","per_million_instructions_fee":"1","per_ms_fee":"1","per_compile_ms_fee":"1","base_fee_usd":"7","per_million_instructions_fee_usd":"1","per_sec_fee_usd":"1","per_compile_ms_fee_usd":"1"}' '[1,2,3]'
	coord_psql "UPDATE pricing_config SET fetched_at = now() - interval '3590 seconds'"
	req POST /public/pricing/refresh
	assert_equal "$status" 200
	assert_equal "$body" "$MAPPED"
	assert_equal "$(near_request_count)" 0
	coord_psql "UPDATE pricing_config SET fetched_at = now() - interval '3601 seconds'"
	req POST /public/pricing/refresh
	assert_equal "$status" 200
	assert_equal "$(jq -c '[.base_fee_usd, .max_instructions, .max_execution_seconds, .max_compilation_seconds]' <<<"$body")" '["7",1,2,3]'
	assert_equal "$(views)" "get_pricing_full,get_max_limits"
	assert_equal "$(stored | jq -r .base_fee_usd)" 7
}

@test "every kind of NEAR failure is 502 upstream_error and leaves the stored row unchanged" {
	contract
	req POST /public/pricing/refresh
	coord_psql "UPDATE pricing_config SET fetched_at = '2024-01-01Z'"
	local mode
	for mode in error rpc-error garbage; do
		near_mode "$mode"
		req POST /public/pricing/refresh
		expect_error 502 upstream_error
	done
	near_mode normal
	# get_pricing_full fails: get_max_limits is not asked
	near_reset
	near_view_clear get_pricing_full
	req POST /public/pricing/refresh
	expect_error 502 upstream_error
	assert_equal "$(views)" "get_pricing_full"
	# get_max_limits fails after a good get_pricing_full
	near_reset
	near_script normal error
	near_view get_pricing_full "$PRICING_FULL"
	req POST /public/pricing/refresh
	expect_error 502 upstream_error
	assert_equal "$(views)" "get_pricing_full,get_max_limits"
	assert_equal "$(stored)" "$(jq -cS . <<<"$MAPPED")"
	assert_equal "$(coord_psql "SELECT fetched_at = '2024-01-01Z' FROM pricing_config")" t
}

@test "answers that do not validate field by field are 502 and store nothing" {
	local bad
	for bad in \
		"$(jq -c '.base_fee = 5' <<<"$PRICING_FULL")" \
		"$(jq -c '.per_ms_fee = "-1"' <<<"$PRICING_FULL")" \
		"$(jq -c '.per_sec_fee_usd = "1.5"' <<<"$PRICING_FULL")" \
		"$(jq -c ".base_fee_usd = \"1$(printf '0%.0s' {1..38})\"" <<<"$PRICING_FULL")" \
		"$(jq -c 'del(.per_million_instructions_fee_usd)' <<<"$PRICING_FULL")" \
		'null' '[1,2,3]' '"text"'; do
		contract "$bad"
		req POST /public/pricing/refresh
		expect_error 502 upstream_error
	done
	# (written without jq, which would round integers above 2^53)
	for bad in '[1,2]' '[1,2,3,4]' '[1,-2,3]' '[1,"2",3]' '[1,2.5,3]' '[9223372036854775808,1,1]' \
		'{"a":1}' null; do
		contract "$PRICING_FULL" '[]'
		printf '{"default":%s}\n' "$bad" >"$NEAR_FAKE_DIR/views/get_max_limits.json"
		req POST /public/pricing/refresh
		expect_error 502 upstream_error
	done
	assert_equal "$(coord_psql "SELECT count(*) FROM pricing_config")" 0
	printf '{"default":[9223372036854775807,0,0]}\n' >"$NEAR_FAKE_DIR/views/get_max_limits.json"
	req POST /public/pricing/refresh
	assert_equal "$status" 200
	assert_regex "$body" '"max_compilation_seconds":0,"max_instructions":9223372036854775807,"max_execution_seconds":0}$'
}

@test "concurrent refreshes of a stale row fetch once (advisory lock, row re-checked)" {
	contract
	near_mode slow 1
	local i
	for i in 1 2 3 4; do
		curl -s -o "$BATS_TEST_TMPDIR/r$i" -w '%{http_code}\n' -X POST -H 'Content-Length: 0' \
			"$BASE_URL/public/pricing/refresh" >"$BATS_TEST_TMPDIR/s$i" &
	done
	wait
	for i in 1 2 3 4; do
		assert_equal "$(cat "$BATS_TEST_TMPDIR/s$i")" 200
		assert_equal "$(cat "$BATS_TEST_TMPDIR/r$i")" "$MAPPED"
	done
	assert_equal "$(views)" "get_pricing_full,get_max_limits"
}

# ------------------------------------------------------------------ first load

# restart_public: new serving processes (their first load is still to come).
restart_public() { coord_restart_web >/dev/null; }

# wait_views N: waits up to 10 s until the coordinator has asked N views.
wait_views() {
	local i
	for ((i = 0; i < 100; i++)); do
		(($(near_request_count call_function) >= $1)) && return 0
		sleep 0.1
	done
	return 1
}

@test "first load with no row: defaults at once, one background fetch, then the contract's values" {
	contract
	restart_public
	near_reset
	req GET /public/pricing
	assert_equal "$status" 200
	assert_equal "$(jq -c 'del(.stablecoin)' <<<"$body")" "$DEFAULTS"
	wait_views 2
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -n $(stored) ]] && break
		sleep 0.1
	done
	assert_equal "$(stored)" "$(jq -cS . <<<"$MAPPED")"
	req GET /public/pricing
	assert_equal "$(jq -c 'del(.stablecoin)' <<<"$body")" "$MAPPED"
	# one attempt per process: a later stale row is not fetched by reads
	coord_psql "UPDATE pricing_config SET fetched_at = now() - interval '2 hours'"
	sleep 1.5
	req GET /public/pricing
	assert_equal "$(views)" "get_pricing_full,get_max_limits"
}

@test "first load of a stale row fetches once; a failed first fetch keeps the row and is not retried" {
	local row
	row=$(jq -c '.base_fee_usd = "4242"' <<<"$MAPPED")
	coord_psql "INSERT INTO pricing_config VALUES (1, '$row', now() - interval '2 hours')"
	near_mode error
	restart_public
	near_reset
	near_mode error
	req GET /public/pricing
	assert_equal "$(jq -r .base_fee_usd <<<"$body")" 4242
	wait_views 1
	sleep 2.5
	req GET /public/pricing
	assert_equal "$(jq -r .base_fee_usd <<<"$body")" 4242
	assert_equal "$(views)" "get_pricing_full"
	assert_equal "$(stored | jq -r .base_fee_usd)" 4242
	grep -q 'pricing: the first-load fetch failed' "$COORD_STATE_DIR/fcgi-stderr.log"
}

@test "first load of a fresh row fetches nothing; a CGI process never fetches" {
	coord_psql "INSERT INTO pricing_config VALUES (1, '$MAPPED', now())"
	contract
	restart_public
	near_reset
	req GET /public/pricing
	assert_equal "$(jq -c 'del(.stablecoin)' <<<"$body")" "$MAPPED"
	sleep 2
	assert_equal "$(near_request_count)" 0
	coord_psql "UPDATE pricing_config SET fetched_at = now() - interval '2 hours'"
	cgi REQUEST_METHOD=GET REQUEST_URI=/public/pricing DATABASE_URL="$DATABASE_URL" \
		REDIS_URL="$REDIS_URL" NEAR_RPC_URL="$NEAR_RPC_URL" WASM_CACHE_DIR="$WASM_CACHE_DIR" \
		public.fcgi
	assert_success
	assert_output --partial '"base_fee_usd":"1500"'
	sleep 1.5
	assert_equal "$(near_request_count)" 0
}

# ------------------------------------------------------------------ NEAR off

@test "NEAR off: refresh is 503 near_not_configured; pricing is the stored row or the defaults" {
	export NEAR_RPC_URL=off
	restart_public
	req POST /public/pricing/refresh
	expect_error 503 near_not_configured
	req GET /public/pricing
	assert_equal "$(jq -c 'del(.stablecoin)' <<<"$body")" "$DEFAULTS"
	req GET /public/pricing/refresh
	expect_error 405 method_not_allowed
	assert_equal "$(near_request_count)" 0
}
