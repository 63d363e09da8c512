#!/usr/bin/env bats
# GET /projects/uuid and DELETE /projects/cache of worker.fcgi (SPEC §3.2.12, resolution of
# §4.3: local project, Redis cache when a version is given, NEAR get_project) against the
# fake NEAR server, and GET /vrf/pubkey of public.fcgi (§3.4.7) against the fake keystore.

load ../helpers/coord
load ../helpers/near
load ../helpers/keystore

setup_file() {
	near_start || return 1
	keystore_start || return 1
	export KEYSTORE_AUTH_TOKEN=vrf-test-token
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token projects-worker)
	export TOKEN
}

teardown_file() {
	coord_stop_stack
	keystore_stop
	near_stop
}

setup() {
	coord_test_setup
	near_reset
	keystore_reset
}

teardown() { coord_test_teardown; }

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

# puuid QUERY [curl args]
puuid() {
	local q=$1
	shift
	req GET "/projects/uuid?$q" -H "Authorization: Bearer $TOKEN" "$@"
}

pforget() { req DELETE "/projects/cache?$1" -H "Authorization: Bearer $TOKEN"; }

views() { near_request_count call_function; }

# ------------------------------------------------------------------ /projects/uuid

@test "a local project always wins, with its active version or the given one" {
	run "$COORD_BUILD_DIR/bin/coord-project" register --project-id loc.near/app \
		--uuid 00000000-0000-4000-8000-0000000000a1 --active-version v3
	assert_success
	coord_redis SET project_by_uuid:loc.near/app cached-uuid >/dev/null
	near_view get_project '{"uuid":"chain-uuid","active_version":"v9"}' '{"project_id":"loc.near/app"}'
	puuid 'project_id=loc.near/app'
	assert_equal "$status" 200
	assert_equal "$body" '{"project_id":"loc.near/app","uuid":"00000000-0000-4000-8000-0000000000a1","active_version":"v3","cached":true}'
	puuid 'project_id=loc.near/app&version=v7'
	assert_equal "$body" '{"project_id":"loc.near/app","uuid":"00000000-0000-4000-8000-0000000000a1","active_version":"v7","cached":true}'
	assert_equal "$(views)" 0
}

@test "the contract's project is cached; without a version NEAR is always asked" {
	coord_redis DEL project_by_uuid:bob.near/svc >/dev/null
	near_view get_project '{"uuid":"u-bob","active_version":"v2","owner":"bob.near","name":"svc"}' '{"project_id":"bob.near/svc"}'
	puuid 'project_id=bob.near/svc'
	assert_equal "$status" 200
	assert_equal "$body" '{"project_id":"bob.near/svc","uuid":"u-bob","active_version":"v2","cached":false}'
	assert_equal "$(coord_redis GET project_by_uuid:bob.near/svc)" u-bob
	assert_equal "$(coord_redis TTL project_by_uuid:bob.near/svc)" -1
	# the view call of §4.2
	run jq -c '.params | [.request_type, .finality, .method_name, (.args_base64 | @base64d)]' <<<"$(near_request_bodies call_function)"
	assert_output '["call_function","final","get_project","{\"project_id\":\"bob.near/svc\"}"]'
	puuid 'project_id=bob.near/svc'
	assert_equal "$(jq .cached <<<"$body")" false
	assert_equal "$(views)" 2
	# with a version the cache answers, with the given version
	puuid 'project_id=bob.near/svc&version=v5'
	assert_equal "$body" '{"project_id":"bob.near/svc","uuid":"u-bob","active_version":"v5","cached":true}'
	assert_equal "$(views)" 2
	# a cache miss with a version goes to NEAR and answers the given version
	coord_redis DEL project_by_uuid:bob.near/svc >/dev/null
	puuid 'project_id=bob.near/svc&version=v6'
	assert_equal "$body" '{"project_id":"bob.near/svc","uuid":"u-bob","active_version":"v6","cached":false}'
	assert_equal "$(views)" 3
}

@test "unknown projects are 404, NEAR failures 502, bad parameters 400" {
	near_view get_project null '{"project_id":"nobody.near/x"}'
	puuid 'project_id=nobody.near/x'
	expect_error 404 project_not_found
	assert_equal "$(coord_redis EXISTS project_by_uuid:nobody.near/x)" 0
	near_view get_project '{"uuid":"u-e","active_version":"v1"}' '{"project_id":"err.near/x"}'
	for mode in error rpc-error garbage; do
		near_mode "$mode"
		puuid 'project_id=err.near/x'
		expect_error 502 upstream_error
	done
	near_mode normal
	# a contract answer without a uuid is garbage too
	near_view get_project '{"active_version":"v1"}' '{"project_id":"bad.near/x"}'
	puuid 'project_id=bad.near/x'
	expect_error 502 upstream_error
	assert_equal "$(coord_redis EXISTS project_by_uuid:err.near/x project_by_uuid:bad.near/x)" 0

	long=$(printf 'p%.0s' {1..129})
	for q in '' 'project_id=' "project_id=$long" 'version=v1'; do
		puuid "$q"
		expect_error 400 invalid_parameter
	done
	near_view get_project null "{\"project_id\":\"${long:1}\"}"
	puuid "project_id=${long:1}"
	expect_error 404 project_not_found
	req GET '/projects/uuid?project_id=a/b'
	expect_error 401 unauthorized
}

@test "Redis down: resolution still answers from NEAR (the cache is skipped)" {
	near_view get_project '{"uuid":"u-nr","active_version":"v1"}' '{"project_id":"nr.near/x"}'
	coord_stop_redis
	puuid 'project_id=nr.near/x&version=v4'
	r1="$status $body"
	pforget 'project_id=nr.near/x'
	r2="$status $(err)"
	coord_start_redis
	assert_equal "$r1" '200 {"project_id":"nr.near/x","uuid":"u-nr","active_version":"v4","cached":false}'
	assert_equal "$r2" '503 unavailable'
}

# ------------------------------------------------------------------ /projects/cache

@test "DELETE /projects/cache drops the cached uuid: 204, also when none is cached" {
	coord_redis SET project_by_uuid:c.near/x u-c >/dev/null
	coord_redis SET project_by_uuid:c.near/y u-y >/dev/null
	pforget 'project_id=c.near/x'
	assert_equal "$status" 204
	assert_equal "$body" ""
	assert_equal "$(coord_redis EXISTS project_by_uuid:c.near/x)" 0
	assert_equal "$(coord_redis GET project_by_uuid:c.near/y)" u-y
	pforget 'project_id=c.near/x'
	assert_equal "$status" 204
	# the next versioned lookup asks NEAR again
	near_view get_project '{"uuid":"u-c2","active_version":"v1"}' '{"project_id":"c.near/x"}'
	puuid 'project_id=c.near/x&version=v1'
	assert_equal "$(jq -r '.uuid + " " + (.cached | tostring)' <<<"$body")" 'u-c2 false'
	long=$(printf 'p%.0s' {1..129})
	for q in '' 'project_id=' "project_id=$long"; do
		pforget "$q"
		expect_error 400 invalid_parameter
	done
	assert_equal "$(coord_redis GET project_by_uuid:c.near/y)" u-y
	req DELETE '/projects/cache?project_id=c.near/y'
	expect_error 401 unauthorized
	assert_equal "$(coord_redis GET project_by_uuid:c.near/y)" u-y
}

# ------------------------------------------------------------------ /vrf/pubkey

@test "vrf/pubkey passes the keystore's answer on verbatim, asking it without a token" {
	req GET /vrf/pubkey
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" "{\"vrf_public_key\":\"$(printf 'fake-keystore vrf' | sha256sum | cut -d' ' -f1)\"}"
	run jq -c '[.method, .path, .authorization, .body]' <<<"$(keystore_last)"
	assert_output '["GET","/vrf/pubkey",null,""]'
	# any JSON is passed on, with 200 whatever the keystore's 2xx
	keystore_mode incomplete
	keystore_status 203
	req GET /vrf/pubkey
	assert_equal "$status $body" '200 {"ok":true}'
}

@test "vrf/pubkey: keystore errors, 4xx, garbage, hang-ups and a 5 s timeout are 502" {
	for mode in error reject reject-text garbage hangup; do
		keystore_mode "$mode" 404
		req GET /vrf/pubkey
		expect_error 502 upstream_error
	done
	keystore_mode slow 12
	start=$(date +%s%N)
	req GET /vrf/pubkey
	elapsed=$((($(date +%s%N) - start) / 1000000))
	expect_error 502 upstream_error
	((elapsed >= 4500 && elapsed < 8000))
	assert_equal "$(keystore_request_count /vrf/pubkey)" 6
}

# ------------------------------------------------------------------ configuration (last: restarts)

@test "NEAR off: an unknown project is 404, a local one still resolves; keystore unset: vrf 503" {
	saved_near=$NEAR_RPC_URL saved_ks=$KEYSTORE_BASE_URL
	export NEAR_RPC_URL=off
	unset KEYSTORE_BASE_URL
	coord_restart_web
	puuid 'project_id=off.near/x'
	r1="$status $(err)"
	puuid 'project_id=loc.near/app'
	r2="$status $(jq -r .uuid <<<"$body")"
	req GET /vrf/pubkey
	r3="$status $(err)"
	export KEYSTORE_BASE_URL=http://127.0.0.1:1
	coord_restart_web
	req GET /vrf/pubkey
	r4="$status $(err)"
	export NEAR_RPC_URL=$saved_near KEYSTORE_BASE_URL=$saved_ks
	coord_restart_web
	assert_equal "$r1" '404 project_not_found'
	assert_equal "$r2" '200 00000000-0000-4000-8000-0000000000a1'
	assert_equal "$r3" '503 keystore_not_configured'
	assert_equal "$r4" '502 upstream_error'
	assert_equal "$(views) $(keystore_request_count)" '0 0'
	req GET /vrf/pubkey
	assert_equal "$status" 200
}
