#!/usr/bin/env bats
# POST /call/:owner/:project (SPEC §3.3.1): every step of the processing order with its status
# and error code, and that a refused request leaves nothing behind; an asynchronous call then
# GET /calls/:id (§3.3.2) through completion by a simulated worker (poll, claim, complete,
# /https-calls/complete §3.2.9); the synchronous answer within about a second of settlement;
# compile failure; keys of other owners and wrong secrets; project resolution through the fake
# NEAR server (§4.3); the synchronous timeout (504, reservation released, late completion
# finalized:false, nothing charged) last, because it restarts the stack with a short timeout.

load ../helpers/coord
load ../helpers/near
load ../helpers/billing

setup_file() {
	near_start || return 1
	export RATE_LIMIT_API_PER_MINUTE=1000000 HTTPS_CALL_TIMEOUT_SECONDS=30
	coord_start_stack || return 1
	billing_init || return 1
	PUUID=$(bproject dev.near/app) || return 1
	export PUUID
}

teardown_file() {
	coord_stop_stack
	near_stop
}

setup() {
	coord_test_setup
	near_reset
}

SECRET_B=$(printf 'b%.0s' {1..64})

# nothing_left: no call, reservation, queue item, request or idempotency record exists.
nothing_left() {
	assert_equal "$(coord_psql "SELECT (SELECT count(*) FROM https_calls) || ' ' ||
		(SELECT count(*) FROM payment_key_balances WHERE reserved <> 0 OR spent <> 0) || ' ' ||
		(SELECT count(*) FROM queue_items WHERE call_id IS NOT NULL) || ' ' ||
		(SELECT count(*) FROM execution_requests WHERE is_https_call) || ' ' ||
		(SELECT count(*) FROM idempotency_keys)")" "0 0 0 0 0"
	assert_equal "$(coord_redis LLEN outlayer:execute)" 0
}

clean_calls() {
	coord_psql "DELETE FROM payment_key_usage; DELETE FROM earnings_history;
		DELETE FROM project_owner_earnings; DELETE FROM execution_results; DELETE FROM queue_items;
		DELETE FROM jobs; DELETE FROM execution_requests; DELETE FROM https_calls;
		DELETE FROM idempotency_keys; DELETE FROM payment_key_balances"
	coord_redis DEL outlayer:execute outlayer:compile >/dev/null
}

# ------------------------------------------------------------------ the order of §3.3.1

@test "common pipeline first: path, then body, before any payment-key check" {
	clean_calls
	local long64 long65 long129
	long65=$(printf 'o%.0s' {1..65})
	long129=$(printf 'p%.0s' {1..129})
	call '' "$long65/app" '{"input":1}'
	expect_error 400 invalid_parameter
	call '' "dev.near/$long129" '{"input":1}'
	expect_error 400 invalid_parameter
	# no Content-Type: 415 before the missing key
	req POST /call/dev.near/app --data-binary '{"input":1}'
	expect_error 415 unsupported_media_type
	req POST /call/dev.near/app -H 'Content-Type: application/json' --data-binary '{"input":'
	expect_error 400 invalid_json
	req POST /call/dev.near/app -H 'Content-Type: application/json' --data-binary '{"async":true}'
	expect_error 422 invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" input
	req POST /call/dev.near/app -H 'Content-Type: application/json' \
		--data-binary '{"input":1,"resource_limits":{"max_memory_mb":4294967296}}'
	expect_error 422 invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" resource_limits.max_memory_mb
	req POST /call/dev.near/app -H 'Content-Type: application/json' --data-binary '{"input":1,"async":"yes"}'
	expect_error 422 invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" async
	# the limits of the path are inclusive
	long64=$(printf 'o%.0s' {1..64})
	req POST "/call/$long64/$(printf 'p%.0s' {1..128})" -H 'Content-Type: application/json' --data-binary '{"input":1}'
	expect_error 401 missing_payment_key
	nothing_left
}

@test "step 1: X-Payment-Key absent 401, malformed 400 invalid_payment_key_format" {
	clean_calls
	req POST /call/dev.near/app -H 'Content-Type: application/json' --data-binary '{"input":null}'
	expect_error 401 missing_payment_key
	local s64 bad
	s64=$(printf 'a%.0s' {1..64})
	for bad in "alice.near:1" ":1:$s64" "alice.near:x:$s64" "alice.near:-1:$s64" \
		"alice.near:4294967296:$s64" "alice.near:1:${s64:1}" "alice.near:1:${s64:1}g" \
		"alice.near:1:${s64}a" "$(printf 'o%.0s' {1..65}):1:$s64" "alice.near::$s64"; do
		call "$bad" dev.near/app '{"input":null}'
		expect_error 400 invalid_payment_key_format
	done
	nothing_left
}

@test "step 2: a malformed X-Wallet-Id is 400 invalid_wallet_id, after the key's format" {
	clean_calls
	local k w
	k=$(bkey wal.near 1 100000)
	for w in 'ed25519:' 'rsa:abc' 'ed25519:0OIl' 'ed25519:a b' "ed25519:$(printf '1%.0s' {1..129})" 'abc'; do
		call "$k" dev.near/app '{"input":1}' -H "X-Wallet-Id: $w"
		expect_error 400 invalid_wallet_id
	done
	call 'wal.near:1' dev.near/app '{"input":1}' -H 'X-Wallet-Id: rsa:abc'
	expect_error 400 invalid_payment_key_format
	nothing_left
}

@test "step 3: compute limit and deposit must be money; their sum below 10^38" {
	clean_calls
	local k big
	k=$(bkey money.near 1 100000)
	for v in abc -5 +5 1.5 1e3 0x10 "1$(printf '0%.0s' {1..38})"; do
		call "$k" dev.near/app '{"input":1}' -H "X-Compute-Limit: $v"
		expect_error 400 invalid_parameter
		call "$k" dev.near/app '{"input":1}' -H "X-Attached-Deposit: $v"
		expect_error 400 invalid_parameter
	done
	big=$(printf '9%.0s' {1..38})
	call "$k" dev.near/app '{"input":1}' -H "X-Compute-Limit: $big" -H 'X-Attached-Deposit: 1'
	expect_error 400 invalid_parameter
	# malformed money is reported before a wrong secret (step 3 before step 5)
	call "money.near:1:$SECRET_B" dev.near/app '{"input":1}' -H 'X-Compute-Limit: x'
	expect_error 400 invalid_parameter
	nothing_left
}

@test "step 4: compute limit below MIN_COMPUTE_LIMIT is 400 with the SPEC's message, before key verification" {
	clean_calls
	local k
	k=$(bkey low.near 1 100000)
	call "$k" dev.near/app '{"input":1}' -H 'X-Compute-Limit: 999'
	expect_error 400 compute_limit_too_low
	assert_equal "$(jq -r .message <<<"$body")" 'Compute limit too low: min=1000, provided=999'
	call "low.near:1:$SECRET_B" dev.near/app '{"input":1}' -H 'X-Compute-Limit: 0999'
	expect_error 400 compute_limit_too_low
	assert_equal "$(jq -r .message <<<"$body")" 'Compute limit too low: min=1000, provided=999'
	nothing_left
}

@test "step 5: unknown key, wrong secret, deleted key are 401 invalid_payment_key" {
	clean_calls
	local k s
	k=$(bkey ver.near 1 100000)
	s=${k##*:}
	call "ver.near:2:$s" dev.near/app '{"input":1}'
	expect_error 401 invalid_payment_key
	call "other.near:1:$s" dev.near/app '{"input":1}'
	expect_error 401 invalid_payment_key
	call "ver.near:1:$SECRET_B" dev.near/app '{"input":1}'
	expect_error 401 invalid_payment_key
	coord_psql "UPDATE payment_keys SET deleted_at = now() WHERE owner = 'ver.near'"
	call "$k" dev.near/app '{"input":1}'
	expect_error 401 invalid_payment_key
	nothing_left
	# the secret is compared lower-cased: an upper-case secret is the same key
	coord_psql "UPDATE payment_keys SET deleted_at = NULL WHERE owner = 'ver.near'"
	call "ver.near:1:${s^^}" dev.near/app '{"input":1,"async":true}'
	assert_equal "$status" 200
}

@test "step 8: a key restricted to other projects is 403 project_not_allowed" {
	clean_calls
	local k
	k=$(bkey restr.near 1 100000 "project_ids = '{other.near/x,dev.near/app2}'")
	call "$k" dev.near/app '{"input":1}'
	expect_error 403 project_not_allowed
	nothing_left
	k=$(bkey restr.near 2 100000 "project_ids = '{other.near/x,dev.near/app}'")
	call "$k" dev.near/app '{"input":1,"async":true}'
	assert_equal "$status" 200
}

@test "step 9: a grant key with a deposit is 403 grant_key_deposit_forbidden (after step 8)" {
	clean_calls
	local k
	k=$(bkey grant.near 1 100000 "is_grant = true")
	call "$k" dev.near/app '{"input":1}' -H 'X-Attached-Deposit: 1'
	expect_error 403 grant_key_deposit_forbidden
	k=$(bkey grant.near 2 100000 "is_grant = true, project_ids = '{x/y}'")
	call "$k" dev.near/app '{"input":1}' -H 'X-Attached-Deposit: 1'
	expect_error 403 project_not_allowed
	nothing_left
	# a deposit of 0 is allowed
	k=$(bkey grant.near 3 100000 "is_grant = true")
	call "$k" dev.near/app '{"input":1,"async":true}' -H 'X-Attached-Deposit: 000'
	assert_equal "$status" 200
}

@test "step 10: compute limit + deposit above max_per_call is 400 max_per_call_exceeded" {
	clean_calls
	local k
	k=$(bkey maxpc.near 1 100000 "max_per_call = 5000")
	call "$k" dev.near/app '{"input":1}' -H 'X-Compute-Limit: 5000' -H 'X-Attached-Deposit: 1'
	expect_error 400 max_per_call_exceeded
	assert_equal "$(jq -r .message <<<"$body")" 'Max per call exceeded: max=5000, requested=5001'
	# the default compute limit (10000) counts too
	call "$k" dev.near/app '{"input":1}'
	expect_error 400 max_per_call_exceeded
	assert_equal "$(jq -r .message <<<"$body")" 'Max per call exceeded: max=5000, requested=10000'
	nothing_left
	call "$k" dev.near/app '{"input":1,"async":true}' -H 'X-Compute-Limit: 4000' -H 'X-Attached-Deposit: 1000'
	assert_equal "$status" 200
	assert_equal "$(bal maxpc.near 1)" "0|5000"
}

@test "step 11: project resolution: local, unknown 404, chain failure 502, chain answer cached" {
	clean_calls
	local k
	k=$(bkey res.near 1 100000)
	near_view get_project null
	call "$k" nobody.near/app '{"input":1}'
	expect_error 404 project_not_found
	near_mode error
	call "$k" chainfail.near/app '{"input":1}'
	expect_error 502 upstream_error
	near_mode normal
	nothing_left
	near_view get_project '{"uuid":"chain-uuid-1","active_version":"v7"}' '{"project_id":"chain.near/app"}'
	call "$k" chain.near/app '{"input":1,"async":true}'
	assert_equal "$status" 200
	assert_equal "$(coord_redis GET project_by_uuid:chain.near/app)" chain-uuid-1
	assert_equal "$(coord_psql "SELECT project_uuid FROM https_calls")" chain-uuid-1
	# the cache answers now, not the chain
	near_mode error
	call "$k" chain.near/app '{"input":1,"async":true}'
	assert_equal "$status" 200
	near_mode normal
	# a local project never asks the chain
	near_reset
	call "$k" dev.near/app '{"input":1,"async":true}'
	assert_equal "$status" 200
	run grep -c get_project < <(near_request_bodies call_function)
	assert_output 0
}

@test "step 12: insufficient balance is 402 with available and required, nothing reserved" {
	clean_calls
	local k
	k=$(bkey poor.near 1 10999)
	call "$k" dev.near/app '{"input":1}' -H 'X-Attached-Deposit: 1000'
	expect_error 402 insufficient_balance
	assert_equal "$(jq -r .message <<<"$body")" 'Insufficient balance: available=10999, required=11000'
	assert_equal "$(coord_psql "SELECT count(*) FROM https_calls")" 0
	assert_equal "$(coord_psql "SELECT coalesce(sum(reserved), 0) FROM payment_key_balances")" 0
	# the available amount accounts for earlier spending and reservations
	coord_psql "INSERT INTO payment_key_balances (owner, nonce, spent, reserved) VALUES ('poor.near', 1, 0, 0)"
	call "$k" dev.near/app '{"input":1,"async":true}' -H 'X-Compute-Limit: 6000'
	assert_equal "$status" 200
	call "$k" dev.near/app '{"input":1}' -H 'X-Compute-Limit: 5000'
	expect_error 402 insufficient_balance
	assert_equal "$(jq -r .message <<<"$body")" 'Insufficient balance: available=4999, required=5000'
	assert_equal "$(bal poor.near 1)" "0|6000"
}

@test "adjacent steps: with two faults the earlier step of §3.3.1 answers" {
	clean_calls
	local k g
	k=$(bkey order.near 1 100 "max_per_call = 5000, project_ids = '{x/y}'")
	# 1 before 2
	call "order.near:1" dev.near/app '{"input":1}' -H 'X-Wallet-Id: bad'
	expect_error 400 invalid_payment_key_format
	# 2 before 3
	call "$k" dev.near/app '{"input":1}' -H 'X-Wallet-Id: bad' -H 'X-Compute-Limit: x'
	expect_error 400 invalid_wallet_id
	# 3 before 4
	call "$k" dev.near/app '{"input":1}' -H 'X-Compute-Limit: 5' -H 'X-Attached-Deposit: x'
	expect_error 400 invalid_parameter
	# 7 before 8
	call "$k" dev.near/app '{"input":1}' -H 'Idempotency-Key: a b'
	expect_error 400 invalid_idempotency_key
	# 8 before 10
	call "$k" dev.near/app '{"input":1}' -H 'X-Compute-Limit: 9000'
	expect_error 403 project_not_allowed
	# 9 before 10
	g=$(bkey order.near 2 100 "is_grant = true, max_per_call = 5000")
	call "$g" dev.near/app '{"input":1}' -H 'X-Compute-Limit: 9000' -H 'X-Attached-Deposit: 1'
	expect_error 403 grant_key_deposit_forbidden
	# 10 before 11
	call "$g" nobody.near/app '{"input":1}' -H 'X-Compute-Limit: 9000'
	expect_error 400 max_per_call_exceeded
	# 11 before 12
	near_view get_project null
	call "$g" nobody.near/app '{"input":1}' -H 'X-Compute-Limit: 4000'
	expect_error 404 project_not_found
	call "$g" dev.near/app '{"input":1}' -H 'X-Compute-Limit: 4000'
	expect_error 402 insufficient_balance
	nothing_left
}

# ------------------------------------------------------------------ the asynchronous call

@test "async call: 200 pending with poll_url; the rows and the HTTPS queue item of §3.1.2" {
	clean_calls
	local k cid rid item
	k=$(bkey async.near 7 100000)
	call "$k" dev.near/app '{"input":{"q":"a/b","n":[1,2]},"async":true,"version_key":"v2","resource_limits":{"max_instructions":5000000,"max_memory_mb":64,"max_execution_seconds":10}}' \
		-H 'X-Compute-Limit: 7000' -H 'X-Attached-Deposit: 300' -H 'X-Wallet-Id: ed25519:9xQeWvG816bUx9EP'
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	cid=$(jq -r .call_id <<<"$body")
	[[ $cid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	assert_equal "$body" "{\"call_id\":\"$cid\",\"status\":\"pending\",\"poll_url\":\"/calls/$cid\"}"
	run coord_psql "SELECT owner, nonce, project_id, project_uuid, status, is_async, input_data,
		compute_limit, attached_deposit, reserved_amount, version_key, wallet_id,
		request_id >= 100000000000, reservation_released_at IS NULL FROM https_calls"
	assert_output "async.near|7|dev.near/app|$PUUID|pending|t|{\"q\":\"a/b\",\"n\":[1,2]}|7000|300|7300|v2|ed25519:9xQeWvG816bUx9EP|t|t"
	assert_equal "$(bal async.near 7)" "0|7300"
	rid=$(coord_psql "SELECT request_id FROM https_calls")
	run coord_psql "SELECT is_https_call, data_id, response_format, attached_usd, usd_payment,
		attached_deposit_usd, compute_limit_usd, context_sender_id, user_account_id,
		payment_key_owner, payment_key_nonce, call_id, project_id, version_key, wallet_id
		FROM execution_requests WHERE request_id = $rid"
	assert_output "t|$cid|Json|300|300|300|7000|async.near|async.near|async.near|7|$cid|dev.near/app|v2|ed25519:9xQeWvG816bUx9EP"
	item=$(coord_psql "SELECT item_id FROM queue_items WHERE call_id = '$cid'")
	assert_equal "$(coord_psql "SELECT queue || ' ' || state FROM queue_items WHERE item_id = $item")" "execute queued"
	assert_equal "$(coord_redis LRANGE outlayer:execute 0 -1)" "$item"
	assert_equal "$(coord_psql "SELECT payload FROM queue_items WHERE item_id = $item")" \
		"{\"request_id\":$rid,\"data_id\":\"$cid\",\"project_id\":\"dev.near/app\",\"version_key\":\"v2\",\"project_uuid\":\"$PUUID\",\"resource_limits\":{\"max_instructions\":5000000,\"max_memory_mb\":64,\"max_execution_seconds\":10},\"input_data\":\"{\\\"q\\\":\\\"a/b\\\",\\\"n\\\":[1,2]}\",\"response_format\":\"Json\",\"context\":{\"sender_id\":\"async.near\"},\"user_account_id\":\"async.near\",\"is_https_call\":true,\"call_id\":\"$cid\",\"compute_limit_usd\":\"7000\",\"attached_deposit_usd\":\"300\",\"payment_key_owner\":\"async.near\",\"payment_key_nonce\":7,\"usd_payment\":\"300\",\"wallet_id\":\"ed25519:9xQeWvG816bUx9EP\"}"
	# GET /calls/:id while pending, and the balance route
	getcall "$k" "$cid"
	assert_equal "$status" 200
	assert_equal "$body" "{\"call_id\":\"$cid\",\"status\":\"pending\"}"
	balance "$k"
	assert_equal "$status" 200
	assert_equal "$body" '{"owner":"async.near","nonce":7,"initial_balance":"100000","spent":"0","reserved":"7300","available":"92700","last_used_at":null,"is_grant":false}'
}

@test "async call through a simulated worker: poll, claim, complete, /https-calls/complete, GET /calls" {
	clean_calls
	local k cid
	k=$(bkey life.near 1 100000)
	acall "$k" dev.near/app -H 'X-Compute-Limit: 5000' -H 'X-Attached-Deposit: 300'
	assert_equal "$status" 200
	cid=$CALL_ID
	worker_take "$cid"
	assert_equal "$(jq -r .is_https_call <<<"$WORKER_PAYLOAD")" true
	[[ -n $JOB_ID ]]
	assert_equal "$(jq -r '.jobs[0].job_type' <<<"$body")" execute
	assert_equal "$(coord_psql "SELECT started_at IS NOT NULL FROM https_calls")" t
	getcall "$k" "$cid"
	assert_equal "$body" "{\"call_id\":\"$cid\",\"status\":\"pending\"}"
	wjob_complete "$JOB_ID" '"success":true,"time_ms":2500,"instructions":2500000'
	assert_equal "$status" 200
	hcomplete "$cid" "\"success\":true,\"output\":{\"answer\":42,\"s\":\"x/y\"},\"instructions\":2500000,\"time_ms\":2500,\"refund_usd\":\"100\",\"job_id\":$JOB_ID"
	assert_equal "$status" 200
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":true}"
	getcall "$k" "$cid"
	assert_equal "$status" 200
	# cost: 1000 + floor(2.5) x 1 + floor(2.5 s) x 1 = 1004
	assert_equal "$body" "{\"call_id\":\"$cid\",\"status\":\"completed\",\"output\":{\"answer\":42,\"s\":\"x/y\"},\"compute_cost\":\"1004\",\"instructions\":2500000,\"time_ms\":2500}"
	assert_equal "$(bal life.near 1)" "1204|0"
	balance "$k"
	assert_equal "$(jq -c '[.initial_balance, .spent, .reserved, .available, (.last_used_at | type)]' <<<"$body")" \
		'["100000","1204","0","98796","string"]'
	# a second completion changes nothing
	hcomplete "$cid" '"success":false,"error":"again"'
	assert_equal "$status" 200
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":false}"
	assert_equal "$(bal life.near 1)" "1204|0"
	# unknown call
	hcomplete "$(cat /proc/sys/kernel/random/uuid)" '"success":true'
	expect_error 404 call_not_found
	audit_clean
}

@test "a failed call answers status failed with the error and the compute cost" {
	clean_calls
	local k cid
	k=$(bkey failed.near 1 100000)
	acall "$k" dev.near/app -H 'X-Compute-Limit: 5000'
	cid=$CALL_ID
	worker_finish "$cid" '"success":false,"error":"trap: unreachable","instructions":1000000,"time_ms":999'
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":true}"
	getcall "$k" "$cid"
	assert_equal "$body" "{\"call_id\":\"$cid\",\"status\":\"failed\",\"error\":\"trap: unreachable\",\"compute_cost\":\"1001\",\"instructions\":1000000,\"time_ms\":999}"
	assert_equal "$(bal failed.near 1)" "1001|0"
	audit_clean
}

@test "/https-calls/complete validates its body (422) and changes nothing" {
	clean_calls
	local k cid
	k=$(bkey val.near 1 100000)
	acall "$k" dev.near/app
	cid=$CALL_ID
	wpost /https-calls/complete '{"call_id":"nope","success":true}'
	expect_error 422 invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" call_id
	hcomplete "$cid" ''
	expect_error 422 invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" success
	hcomplete "$cid" '"success":true,"instructions":-1'
	expect_error 422 invalid_request_body
	hcomplete "$cid" '"success":true,"refund_usd":"1.5"'
	expect_error 422 invalid_request_body
	req POST /https-calls/complete -H 'Content-Type: application/json' --data-binary "{\"call_id\":\"$cid\",\"success\":true}"
	expect_error 401 unauthorized
	assert_equal "$(coord_psql "SELECT status FROM https_calls")" pending
	assert_equal "$(bal val.near 1)" "0|10000"
}

# ------------------------------------------------------------------ compile failure

@test "compile failure of an HTTPS call releases everything and charges nothing" {
	clean_calls
	local k cid
	k=$(bkey comp.near 1 100000)
	acall "$k" dev.near/app -H 'X-Compute-Limit: 5000' -H 'X-Attached-Deposit: 200'
	cid=$CALL_ID
	worker_take "$cid" compile
	assert_equal "$(jq -r '.jobs[0].job_type' <<<"$body")" compile
	wjob_complete "$JOB_ID" '"success":false,"time_ms":1500,"error":"error[E0425]: cannot find value"'
	assert_equal "$status" 200
	run coord_psql "SELECT status, error_message, reservation_released_at IS NOT NULL,
		coalesce(compute_cost::text, 'null') FROM https_calls"
	assert_output 'failed|error[E0425]: cannot find value|t|null'
	assert_equal "$(bal comp.near 1)" "0|0"
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_key_usage")" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM earnings_history")" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE call_id = '$cid' AND state IN ('queued','leased')")" 0
	getcall "$k" "$cid"
	assert_equal "$body" "{\"call_id\":\"$cid\",\"status\":\"failed\",\"error\":\"error[E0425]: cannot find value\"}"
	# the worker's late /https-calls/complete changes nothing
	hcomplete "$cid" '"success":false,"error":"compile"'
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":false}"
	assert_equal "$(bal comp.near 1)" "0|0"
	audit_clean
}

# ------------------------------------------------------------------ other owners, wrong secrets

@test "another owner's key or a wrong secret never reads a call or a balance, nor spends one" {
	clean_calls
	local ka kb ka2 cid sa
	ka=$(bkey alice.near 1 50000)
	ka2=$(bkey alice.near 2 50000)
	kb=$(bkey bob.near 1 50000)
	sa=${ka##*:}
	acall "$ka" dev.near/app
	cid=$CALL_ID
	getcall "$kb" "$cid"
	expect_error 404 call_not_found
	getcall "$ka2" "$cid"
	expect_error 404 call_not_found
	getcall "alice.near:1:$SECRET_B" "$cid"
	expect_error 401 invalid_payment_key
	# bob's secret with alice's owner and nonce
	getcall "alice.near:1:${kb##*:}" "$cid"
	expect_error 401 invalid_payment_key
	getcall "$ka" not-a-uuid
	expect_error 400 invalid_parameter
	getcall "$ka" "$cid"
	assert_equal "$status" 200
	balance "alice.near:1:$SECRET_B"
	expect_error 401 invalid_payment_key
	assert_equal "$(jq -r .message <<<"$body" | grep -c "$SECRET_B")" 0
	balance "alice.near:1:${kb##*:}"
	expect_error 401 invalid_payment_key
	balance 'alice.near:1'
	expect_error 400 invalid_payment_key_format
	# a nonce without a key, and a key deleted after its balance was read, with their owner's secrets
	balance "alice.near:9:$sa"
	expect_error 401 invalid_payment_key
	balance "$ka2"
	assert_equal "$status" 200
	coord_psql "UPDATE payment_keys SET deleted_at = now() WHERE owner = 'alice.near' AND nonce = 2"
	balance "$ka2"
	expect_error 401 invalid_payment_key
	req GET /payment-keys/balance
	expect_error 401 missing_payment_key
	# spending with a wrong secret
	call "alice.near:1:${kb##*:}" dev.near/app '{"input":1,"async":true}'
	expect_error 401 invalid_payment_key
	call "alice.near:2:$sa" dev.near/app '{"input":1,"async":true}'
	expect_error 401 invalid_payment_key
	assert_equal "$(bal alice.near 1)" "0|10000"
	assert_equal "$(bal alice.near 2)" none
	assert_equal "$(bal bob.near 1)" none
	# the secret never reaches the log
	run grep -c "$sa" "$COORD_STATE_DIR/fcgi-stderr.log"
	assert_output 0
}

# ------------------------------------------------------------------ synchronous

@test "sync call: answered within about a second of the worker's settlement" {
	clean_calls
	local k cid out t_sent t_done i
	k=$(bkey sync.near 1 100000)
	out=$BATS_TEST_TMPDIR/sync
	(
		curl -sS --max-time 60 -o "$out.body" -w '%{http_code}' -H "X-Payment-Key: $k" \
			-H 'Content-Type: application/json' --data-binary '{"input":{"x":1}}' \
			"$BASE_URL/call/dev.near/app" >"$out.status"
		date +%s%N >"$out.done"
	) 3>&- &
	for ((i = 0; i < 100; i++)); do
		cid=$(coord_psql "SELECT call_id FROM https_calls")
		[[ -n $cid ]] && break
		sleep 0.1
	done
	[[ -n $cid ]]
	# still waiting
	sleep 0.5
	[[ ! -f $out.done ]]
	worker_take "$cid"
	wjob_complete "$JOB_ID" '"success":true,"time_ms":10,"instructions":0'
	t_sent=$(date +%s%N)
	hcomplete "$cid" "\"success\":true,\"output\":\"done\",\"time_ms\":10,\"job_id\":$JOB_ID"
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":true}"
	for ((i = 0; i < 100; i++)); do
		[[ -f $out.done ]] && break
		sleep 0.05
	done
	wait
	t_done=$(cat "$out.done")
	echo "# sync answer $(((t_done - t_sent) / 1000000)) ms after /https-calls/complete was sent" >&3
	(((t_done - t_sent) / 1000000 < 1500))
	assert_equal "$(cat "$out.status")" 200
	assert_equal "$(cat "$out.body")" "{\"call_id\":\"$cid\",\"status\":\"completed\",\"output\":\"done\",\"compute_cost\":\"1000\",\"instructions\":0,\"time_ms\":10}"
	assert_equal "$(coord_psql "SELECT is_async FROM https_calls")" f
	audit_clean
}

@test "sync call: a lost wake-up still answers within about a second (the call is re-read every slice)" {
	clean_calls
	local k cid out t_sent t_done i
	k=$(bkey sync.near 2 100000)
	out=$BATS_TEST_TMPDIR/sync
	(
		curl -sS --max-time 60 -o "$out.body" -w '%{http_code}' -H "X-Payment-Key: $k" \
			-H 'Content-Type: application/json' --data-binary '{"input":2}' \
			"$BASE_URL/call/dev.near/app" >"$out.status"
		date +%s%N >"$out.done"
	) 3>&- &
	for ((i = 0; i < 100; i++)); do
		cid=$(coord_psql "SELECT call_id FROM https_calls")
		[[ -n $cid ]] && break
		sleep 0.1
	done
	[[ -n $cid ]]
	# settle behind the coordinator's back: no wake-up is pushed
	t_sent=$(date +%s%N)
	coord_psql "BEGIN;
		UPDATE https_calls SET status = 'failed', completed_at = now(), reservation_released_at = now(),
			error_message = 'x' WHERE call_id = '$cid';
		UPDATE payment_key_balances SET reserved = 0 WHERE owner = 'sync.near' AND nonce = 2;
		UPDATE queue_items SET state = 'done', close_reason = 'call_finished', closed_at = now() WHERE call_id = '$cid';
		COMMIT"
	for ((i = 0; i < 100; i++)); do
		[[ -f $out.done ]] && break
		sleep 0.05
	done
	wait
	t_done=$(cat "$out.done")
	(((t_done - t_sent) / 1000000 < 1600))
	assert_equal "$(cat "$out.status")" 200
	assert_equal "$(cat "$out.body")" "{\"call_id\":\"$cid\",\"status\":\"failed\",\"error\":\"x\"}"
}

# ------------------------------------------------------------------ CORS

@test "api group CORS: any origin, Idempotent-Replayed exposed; preflight before the key check" {
	req OPTIONS /call/dev.near/app -H 'Origin: https://example.org' -H 'Access-Control-Request-Method: POST'
	assert_equal "$status" 204
	assert_equal "$(header Access-Control-Allow-Origin)" '*'
	[[ $(header Access-Control-Allow-Headers | tr 'A-Z' 'a-z') == *idempotency-key* ]]
	[[ $(header Access-Control-Allow-Headers | tr 'A-Z' 'a-z') == *x-wallet-id* ]]
	req GET /payment-keys/balance -H 'Origin: https://example.org'
	expect_error 401 missing_payment_key
	assert_equal "$(header Access-Control-Allow-Origin)" '*'
	[[ $(header Access-Control-Expose-Headers) == *Idempotent-Replayed* ]]
}

# ------------------------------------------------------------------ configuration (restarts: last)

@test "REQUIRE_TEE_SESSION=true: /https-calls/complete without a valid session is 403 tee_session_required" {
	clean_calls
	local k cid sid other th st1 st2 st3 st4 b4 b_bal
	k=$(bkey tee.near 1 100000)
	acall "$k" dev.near/app
	cid=$CALL_ID
	th=$(billing_sha "$TOKEN")
	sid=$(coord_psql "INSERT INTO worker_tee_sessions (token_hash, worker_public_key, expires_at)
		VALUES ('$th', 'ed25519:k', now() + interval '1 hour') RETURNING session_id" | head -1)
	other=$(coord_psql "INSERT INTO worker_tee_sessions (token_hash, worker_public_key, expires_at)
		VALUES ('$(billing_sha other)', 'ed25519:k', now() + interval '1 hour') RETURNING session_id" | head -1)
	export REQUIRE_TEE_SESSION=true OPERATOR_ACCOUNT_ID=operator.testnet
	coord_restart_web
	hcomplete "$cid" '"success":true'
	st1="$status $(err)"
	req POST /https-calls/complete -H "Authorization: Bearer $TOKEN" -H "X-TEE-Session: $other" \
		-H 'Content-Type: application/json' --data-binary "{\"call_id\":\"$cid\",\"success\":true}"
	st2="$status $(err)"
	coord_psql "UPDATE worker_tee_sessions SET expires_at = now() - interval '1 second' WHERE session_id = '$sid'"
	req POST /https-calls/complete -H "Authorization: Bearer $TOKEN" -H "X-TEE-Session: $sid" \
		-H 'Content-Type: application/json' --data-binary "{\"call_id\":\"$cid\",\"success\":true}"
	st3="$status $(err)"
	b_bal=$(bal tee.near 1)
	coord_psql "UPDATE worker_tee_sessions SET expires_at = now() + interval '1 hour' WHERE session_id = '$sid'"
	req POST /https-calls/complete -H "Authorization: Bearer $TOKEN" -H "X-TEE-Session: $sid" \
		-H 'Content-Type: application/json' --data-binary "{\"call_id\":\"$cid\",\"success\":true}"
	st4=$status b4=$body
	unset REQUIRE_TEE_SESSION OPERATOR_ACCOUNT_ID
	coord_restart_web
	assert_equal "$st1" "403 tee_session_required"
	assert_equal "$st2" "403 tee_session_required"
	assert_equal "$st3" "403 tee_session_required"
	assert_equal "$b_bal" "0|10000"
	assert_equal "$st4 $b4" "200 {\"call_id\":\"$cid\",\"finalized\":true}"
	assert_equal "$(bal tee.near 1)" "1000|0"
}

@test "sync timeout: 504 with the call id, reservation released; the late completion is finalized:false, nothing charged" {
	clean_calls
	export HTTPS_CALL_TIMEOUT_SECONDS=2
	coord_restart_web
	local k cid start elapsed
	k=$(bkey slow.near 1 100000)
	start=$(date +%s%N)
	call "$k" dev.near/app '{"input":1}' -H 'X-Compute-Limit: 5000' -H 'X-Attached-Deposit: 500'
	elapsed=$((($(date +%s%N) - start) / 1000000))
	expect_error 504 timeout
	cid=$(coord_psql "SELECT call_id FROM https_calls")
	assert_equal "$body" "{\"error\":\"timeout\",\"message\":\"Timeout waiting for result\",\"details\":{\"call_id\":\"$cid\"}}"
	((elapsed >= 1900 && elapsed < 5000))
	run coord_psql "SELECT status, error_message, reservation_released_at IS NOT NULL FROM https_calls"
	assert_output 'failed|Timeout|t'
	assert_equal "$(bal slow.near 1)" "0|0"
	assert_equal "$(coord_psql "SELECT state || '/' || close_reason FROM queue_items WHERE call_id = '$cid'")" done/call_finished
	# the worker was slow: its item is already closed; its completion comes late
	hcomplete "$cid" '"success":true,"output":1,"instructions":5000000,"time_ms":3000'
	assert_equal "$status" 200
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":false}"
	assert_equal "$(bal slow.near 1)" "0|0"
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_key_usage")" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM earnings_history")" 0
	getcall "$k" "$cid"
	assert_equal "$body" "{\"call_id\":\"$cid\",\"status\":\"failed\",\"error\":\"Timeout\"}"
	audit_clean
}
