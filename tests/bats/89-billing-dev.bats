#!/usr/bin/env bats
# Quick development checks of api.fcgi (the lasting black-box tests are 90-95).

load ../helpers/coord

setup_file() {
	export NEAR_RPC_URL=off HTTPS_CALL_TIMEOUT_SECONDS=2
	coord_start_stack || return 1
	"$COORD_BUILD_DIR/bin/coord-project" register --project-id dev.near/app >/dev/null
}

err() { jq -r .error <<<"$body"; }

call() {
	local key=$1
	shift
	req POST /call/dev.near/app -H "X-Payment-Key: $key" -H 'Content-Type: application/json' "$@"
}

bal() { coord_psql "SELECT coalesce((SELECT spent || '|' || reserved FROM payment_key_balances WHERE owner = '$1'), 'none')"; }

@test "header and key errors in order, nothing reserved" {
	key=$(coord_payment_key a.near 1 5000)
	req POST /call/dev.near/app -H 'Content-Type: application/json' --data-binary '{"input":1}'
	assert_equal "$status:$(err)" "401:missing_payment_key"
	call "a.near:1:xyz" --data-binary '{"input":1}'
	assert_equal "$status:$(err)" "400:invalid_payment_key_format"
	call "$key" -H 'X-Wallet-Id: ed25519:0OIl' --data-binary '{"input":1}'
	assert_equal "$status:$(err)" "400:invalid_wallet_id"
	call "$key" -H 'X-Compute-Limit: 1.5' --data-binary '{"input":1}'
	assert_equal "$status:$(err)" "400:invalid_parameter"
	call "$key" -H 'X-Compute-Limit: 99999999999999999999999999999999999999' -H 'X-Attached-Deposit: 1' --data-binary '{"input":1}'
	assert_equal "$status:$(err)" "400:invalid_parameter"
	call "$key" -H 'X-Compute-Limit: 999' --data-binary '{"input":1}'
	assert_equal "$status:$(err)" "400:compute_limit_too_low"
	assert_equal "$(jq -r .message <<<"$body")" "Compute limit too low: min=1000, provided=999"
	call "a.near:1:$(printf 'f%.0s' {1..64})" --data-binary '{"input":1}'
	assert_equal "$status:$(err)" "401:invalid_payment_key"
	call "$key" --data-binary '{"async":true}'
	assert_equal "$status:$(err)" "422:invalid_request_body"
	call "$key" -H 'X-Compute-Limit: 6000' --data-binary '{"input":1,"async":true}'
	assert_equal "$status:$(err)" "402:insufficient_balance"
	assert_equal "$(jq -r .message <<<"$body")" "Insufficient balance: available=5000, required=6000"
	req POST /call/dev.near/nope -H "X-Payment-Key: $key" -H 'Content-Type: application/json' --data-binary '{"input":1}'
	assert_equal "$status:$(err)" "404:project_not_found"
	assert_equal "$(bal a.near)" none
	assert_equal "$(coord_psql 'SELECT count(*) FROM https_calls')" 0
}

@test "project_ids, grant deposit, max_per_call" {
	key=$(coord_payment_key b.near 1 50000)
	coord_psql "UPDATE payment_keys SET project_ids = '{x.near/y}' WHERE owner = 'b.near'"
	call "$key" --data-binary '{"input":1,"async":true}'
	assert_equal "$status:$(err)" "403:project_not_allowed"
	coord_psql "UPDATE payment_keys SET project_ids = '{dev.near/app}', is_grant = true, max_per_call = 3000 WHERE owner = 'b.near'"
	call "$key" -H 'X-Attached-Deposit: 1' --data-binary '{"input":1,"async":true}'
	assert_equal "$status:$(err)" "403:grant_key_deposit_forbidden"
	call "$key" -H 'X-Compute-Limit: 3001' --data-binary '{"input":1,"async":true}'
	assert_equal "$status:$(err)" "400:max_per_call_exceeded"
	assert_equal "$(jq -r .message <<<"$body")" "Max per call exceeded: max=3000, requested=3001"
	call "$key" -H 'X-Compute-Limit: 3000' --data-binary '{"input":1,"async":true}'
	assert_equal "$status" 200
}

@test "idempotency: replay byte-identical, reuse 422, in flight 409" {
	key=$(coord_payment_key c.near 1 50000)
	call "$key" -H 'Idempotency-Key: k1' --data-binary '{"input":{"a":1},"async":true}'
	assert_equal "$status" 200
	first=$body
	call "$key" -H 'Idempotency-Key: "k1"' --data-binary '{"input":{"a":1},"async":true}'
	assert_equal "$status" 200
	assert_equal "$body" "$first"
	assert_equal "$(header Idempotent-Replayed)" true
	assert_equal "$(bal c.near)" "0|10000"
	call "$key" -H 'Idempotency-Key: k1' --data-binary '{"input":{"a":2},"async":true}'
	assert_equal "$status:$(err)" "422:idempotency_key_reused"
	coord_psql "INSERT INTO idempotency_keys (owner, nonce, idem_key, fingerprint, state)
		SELECT owner, nonce, 'k2', fingerprint, 'in_flight' FROM idempotency_keys WHERE idem_key = 'k1'"
	call "$key" -H 'Idempotency-Key: k2' --data-binary '{"input":{"a":1},"async":true}'
	assert_equal "$status:$(err)" "409:idempotency_key_in_flight"
	call "$key" -H 'Idempotency-Key: a"b' --data-binary '{"input":{"a":1},"async":true}'
	assert_equal "$status:$(err)" "400:invalid_idempotency_key"
	# a failure before the call exists deletes the record
	call "$key" -H 'Idempotency-Key: k3' -H 'X-Compute-Limit: 99999999' --data-binary '{"input":1,"async":true}'
	assert_equal "$status" 402
	assert_equal "$(coord_psql "SELECT count(*) FROM idempotency_keys WHERE idem_key = 'k3'")" 0
	# sync 504 is stored and replayed
	call "$key" -H 'Idempotency-Key: k4' --data-binary '{"input":1}'
	assert_equal "$status" 504
	t=$body
	call "$key" -H 'Idempotency-Key: k4' --data-binary '{"input":1}'
	assert_equal "$status" 504
	assert_equal "$body" "$t"
}

@test "balance, calls of another key, rate-limit headers, CORS" {
	key=$(coord_payment_key d.near 1 50000)
	other=$(coord_payment_key e.near 1 50000)
	call "$key" -H 'Origin: http://x.example' --data-binary '{"input":1,"async":true}'
	assert_equal "$status" 200
	assert_equal "$(header Access-Control-Allow-Origin)" '*'
	assert_equal "$(header RateLimit-Policy)" '"api";q=100;w=60, "key";q=1000;w=60'
	id=$(jq -r .call_id <<<"$body")
	req GET "/calls/$id" -H "X-Payment-Key: $other"
	assert_equal "$status:$(err)" "404:call_not_found"
	req GET "/calls/${id^^}" -H "X-Payment-Key: $key"
	assert_equal "$status" 200
	assert_equal "$body" "{\"call_id\":\"$id\",\"status\":\"pending\"}"
	req GET "/calls/nope" -H "X-Payment-Key: $key"
	assert_equal "$status:$(err)" "400:invalid_parameter"
	req GET /payment-keys/balance -H "X-Payment-Key: $key"
	assert_equal "$status" 200
	assert_equal "$(jq -c 'del(.last_used_at)' <<<"$body")" '{"owner":"d.near","nonce":1,"initial_balance":"50000","spent":"0","reserved":"10000","available":"40000","is_grant":false}'
	req GET /payment-keys/balance
	assert_equal "$status:$(err)" "401:missing_payment_key"
}
