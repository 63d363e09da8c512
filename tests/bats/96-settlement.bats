#!/usr/bin/env bats
# Settlement of HTTPS calls (SPEC §4.4): the exact amounts in every table after each outcome
# row, reached through the real paths: POST /call, /https-calls/complete, /jobs/complete of a
# failed compile, the reaper (delivery and lease exhaustion), payment-key-cleanup (stuck-call
# expiry) and the synchronous /call deadline.  Pricing is the fallback: base 1000, 1 per
# million instructions, 1 per whole second.

load ../helpers/coord

setup_file() {
	# the file sends more than the api class allows a client in a minute (SPEC §1.9 default 100)
	export NEAR_RPC_URL=off RATE_LIMIT_API_PER_MINUTE=1000000 HTTPS_CALL_TIMEOUT_SECONDS=3 JOB_MAX_ATTEMPTS=3
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token settle)
	export TOKEN
	"$COORD_BUILD_DIR/bin/coord-project" register --project-id dev.near/app >/dev/null
}

# ------------------------------------------------------------------ helpers

err() { jq -r .error <<<"$body"; }

worker() {
	req POST "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "$2"
}

# call KEY LIMIT DEPOSIT [BODY] [curl args]: POST /call/dev.near/app
call() {
	local key=$1 limit=$2 dep=$3 b=${4:-'{"input":{"x":1},"async":true}'}
	shift 4 || shift $#
	req POST /call/dev.near/app -H "X-Payment-Key: $key" -H "X-Compute-Limit: $limit" \
		-H "X-Attached-Deposit: $dep" -H 'Content-Type: application/json' --data-binary "$b" "$@"
}

# balance OWNER NONCE: "spent|reserved"
balance() {
	coord_psql "SELECT spent, reserved FROM payment_key_balances WHERE owner = '$1' AND nonce = $2" -F'|'
}

# callrow ID: "status|compute_cost|refund_usd|actual_cost|error|released?"
callrow() {
	coord_psql "SELECT status, coalesce(compute_cost::text, '-'), coalesce(refund_usd::text, '-'),
		coalesce(actual_cost::text, '-'), coalesce(error_message, '-'),
		reservation_released_at IS NOT NULL FROM https_calls WHERE call_id = '$1'" -F'|'
}

# usage ID: "compute_cost|attached_deposit|refund_usd|charged|status" or nothing
usage() {
	coord_psql "SELECT compute_cost, attached_deposit, refund_usd, charged, status
		FROM payment_key_usage WHERE call_id = '$1'" -F'|'
}

earned() {
	coord_psql "SELECT coalesce((SELECT balance || '|' || total_earned FROM project_owner_earnings
		WHERE project_owner = '$1'), 'none')"
}

history() {
	coord_psql "SELECT coalesce((SELECT amount || '|' || attached_usd || '|' || refund_usd
		FROM earnings_history WHERE call_id = '$1'), 'none')"
}

items() {
	coord_psql "SELECT string_agg(state || '/' || coalesce(close_reason, '-'), ',' ORDER BY item_id)
		FROM queue_items WHERE call_id = '$1'"
}

audit_clean() {
	run "$COORD_BUILD_DIR/bin/coord-audit"
	assert_success
	assert_output ''
}

# ------------------------------------------------------------------ worker completion

@test "success: compute charge, deposit minus refund spent, developer credited" {
	key=$(coord_payment_key alice.near 1 100000)
	call "$key" 5000 2000
	assert_equal "$status" 200
	id=$(jq -r .call_id <<<"$body")
	assert_equal "$(jq -r .status <<<"$body")" pending
	assert_equal "$(jq -r .poll_url <<<"$body")" "/calls/$id"
	assert_equal "$(balance alice.near 1)" "0|7000"
	assert_equal "$(items "$id")" "queued/-"
	worker /https-calls/complete "{\"call_id\":\"$id\",\"success\":true,\"output\":{\"y\":[1,2]},
		\"instructions\":3500000,\"time_ms\":2500,\"refund_usd\":500,\"job_id\":77}"
	assert_equal "$status" 200
	assert_equal "$body" "{\"call_id\":\"$id\",\"finalized\":true}"
	# 1000 + 3 + 2 = 1005 compute; 2000 - 500 = 1500 to the developer
	assert_equal "$(callrow "$id")" "completed|1005|500|1005|-|t"
	assert_equal "$(usage "$id")" "1005|2000|500|2505|completed"
	assert_equal "$(balance alice.near 1)" "2505|0"
	assert_equal "$(earned dev.near)" "1500|1500"
	assert_equal "$(history "$id")" "1500|2000|500"
	assert_equal "$(items "$id")" "done/call_finished"
	[[ -n $(coord_psql "SELECT 1 FROM payment_key_balances WHERE owner = 'alice.near' AND last_used_at IS NOT NULL") ]]
	req GET "/calls/$id" -H "X-Payment-Key: $key"
	assert_equal "$status" 200
	assert_equal "$body" "{\"call_id\":\"$id\",\"status\":\"completed\",\"output\":{\"y\":[1,2]},\"compute_cost\":\"1005\",\"instructions\":3500000,\"time_ms\":2500}"
	# a second completion changes nothing
	worker /https-calls/complete "{\"call_id\":\"$id\",\"success\":true,\"instructions\":9}"
	assert_equal "$body" "{\"call_id\":\"$id\",\"finalized\":false}"
	assert_equal "$(balance alice.near 1)" "2505|0"
	audit_clean
}

@test "worker failure: compute charged, deposit returned, no earnings" {
	key=$(coord_payment_key bob.near 1 100000)
	call "$key" 1000 3000
	id=$(jq -r .call_id <<<"$body")
	worker /https-calls/complete "{\"call_id\":\"$id\",\"success\":false,\"error\":\"boom\",
		\"instructions\":5000000000000,\"time_ms\":10}"
	assert_equal "$status" 200
	# cost 1000 + 5000000 capped at the compute limit 1000
	assert_equal "$(callrow "$id")" "failed|1000|0|5001000|boom|t"
	assert_equal "$(usage "$id")" "1000|3000|0|1000|failed"
	assert_equal "$(balance bob.near 1)" "1000|0"
	assert_equal "$(history "$id")" none
	req GET "/calls/$id" -H "X-Payment-Key: $key"
	assert_equal "$(jq -c . <<<"$body")" "{\"call_id\":\"$id\",\"status\":\"failed\",\"error\":\"boom\",\"compute_cost\":\"1000\",\"instructions\":5000000000000,\"time_ms\":10}"
	audit_clean
}

@test "refund above the deposit is capped at the deposit" {
	key=$(coord_payment_key carol.near 1 100000)
	call "$key" 2000 700
	id=$(jq -r .call_id <<<"$body")
	worker /https-calls/complete "{\"call_id\":\"$id\",\"success\":true,\"refund_usd\":\"9999\"}"
	assert_equal "$(usage "$id")" "1000|700|700|1000|completed"
	assert_equal "$(history "$id")" none
	audit_clean
}

@test "unknown call 404; malformed call id 422" {
	worker /https-calls/complete '{"call_id":"00000000-0000-4000-8000-000000000000","success":true}'
	assert_equal "$status" 404
	assert_equal "$(err)" call_not_found
	worker /https-calls/complete '{"call_id":"nope","success":true}'
	assert_equal "$status" 422
}

# ------------------------------------------------------------------ release outcomes

@test "compile failure of an HTTPS call releases everything and fails its pending jobs" {
	key=$(coord_payment_key dan.near 1 50000)
	call "$key" 4000 1000
	id=$(jq -r .call_id <<<"$body")
	rid=$(coord_psql "SELECT request_id FROM https_calls WHERE call_id = '$id'")
	job=$(coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status, lease_id, lease_expires_at,
		attempts) VALUES ($rid, '$id', 'compile', 'in_progress', gen_random_uuid(),
		now() + interval '5 minutes', 1) RETURNING job_id")
	ejob=$(coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status) VALUES
		($rid, '$id', 'execute', 'pending') RETURNING job_id")
	worker /jobs/complete "{\"job_id\":$job,\"success\":false,\"time_ms\":5,\"error\":\"rustc: E0425\"}"
	assert_equal "$status" 200
	assert_equal "$(callrow "$id")" "failed|-|-|-|rustc: E0425|t"
	assert_equal "$(usage "$id")" ""
	assert_equal "$(balance dan.near 1)" "0|0"
	assert_equal "$(items "$id")" "done/call_finished"
	assert_equal "$(coord_psql "SELECT status || '|' || error_details FROM jobs WHERE job_id = $ejob")" \
		"failed|call finished: failed (rustc: E0425)"
	audit_clean
}

@test "delivery attempts exhausted (reaper A.2): released, nothing charged" {
	key=$(coord_payment_key erin.near 1 50000)
	call "$key" 2000 0
	id=$(jq -r .call_id <<<"$body")
	coord_psql "UPDATE queue_items SET state = 'leased', attempts = 3, lease_id = gen_random_uuid(),
		leased_to = 'x', leased_at = now() - interval '2 minutes',
		lease_expires_at = now() - interval '1 minute' WHERE call_id = '$id'"
	run "$COORD_BUILD_DIR/bin/coord-reap" --quiet
	assert_success
	assert_equal "$(callrow "$id")" "failed|-|-|-|not processed: delivery attempts exhausted|t"
	assert_equal "$(items "$id")" "dead/max_attempts"
	assert_equal "$(balance erin.near 1)" "0|0"
	audit_clean
}

@test "execute job lease exhausted (reaper B.1): worker lost, released" {
	key=$(coord_payment_key fay.near 1 50000)
	call "$key" 2000 500
	id=$(jq -r .call_id <<<"$body")
	rid=$(coord_psql "SELECT request_id FROM https_calls WHERE call_id = '$id'")
	job=$(coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status, lease_id, lease_expires_at,
		attempts) VALUES ($rid, '$id', 'execute', 'in_progress', gen_random_uuid(),
		now() - interval '1 minute', 3) RETURNING job_id")
	coord_psql "UPDATE queue_items SET state = 'claimed', job_id = $job WHERE call_id = '$id'"
	run "$COORD_BUILD_DIR/bin/coord-reap" --quiet
	assert_success
	assert_equal "$(callrow "$id")" "failed|-|-|-|worker lost|t"
	assert_equal "$(balance fay.near 1)" "0|0"
	assert_equal "$(usage "$id")" ""
	audit_clean
}

@test "payment-key-cleanup expires stuck calls exactly once" {
	key=$(coord_payment_key gus.near 1 50000)
	call "$key" 3000 0
	id=$(jq -r .call_id <<<"$body")
	call "$key" 3000 0
	fresh=$(jq -r .call_id <<<"$body")
	coord_psql "UPDATE https_calls SET created_at = now() - interval '64 seconds' WHERE call_id = '$id'"
	run "$COORD_BUILD_DIR/bin/payment-key-cleanup" --verbose
	assert_success
	assert_equal "$(callrow "$id")" "failed|-|-|-|Timeout: no result within 63 s|t"
	assert_equal "$(callrow "$fresh")" "pending|-|-|-|-|f"
	assert_equal "$(balance gus.near 1)" "0|3000"
	run "$COORD_BUILD_DIR/bin/payment-key-cleanup"
	assert_success
	assert_output ''
	assert_equal "$(balance gus.near 1)" "0|3000"
	audit_clean
}

# ------------------------------------------------------------------ synchronous calls

@test "sync call answered right after settlement, wake-up through Redis" {
	key=$(coord_payment_key hal.near 1 50000)
	(
		for _ in $(seq 50); do
			id=$(coord_psql "SELECT call_id FROM https_calls WHERE owner = 'hal.near' LIMIT 1")
			[[ -n $id ]] && break
			sleep 0.05
		done
		sleep 0.2
		curl -s -o /dev/null -X POST "$BASE_URL/https-calls/complete" -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/json' \
			--data-binary "{\"call_id\":\"$id\",\"success\":true,\"output\":\"ok\",\"time_ms\":1}"
	) 3>&- &
	start=$(date +%s%N)
	call "$key" 2000 0 '{"input":null}'
	elapsed=$((($(date +%s%N) - start) / 1000000))
	wait
	assert_equal "$status" 200
	assert_equal "$(jq -r .status <<<"$body")" completed
	assert_equal "$(jq -r .output <<<"$body")" ok
	((elapsed < 2500))
	assert_equal "$(balance hal.near 1)" "1000|0"
}

@test "sync deadline: 504 with the reservation released, late completion finalized:false" {
	key=$(coord_payment_key ivy.near 1 50000)
	call "$key" 2000 100 '{"input":[1]}'
	assert_equal "$status" 504
	assert_equal "$(err)" timeout
	id=$(jq -r .details.call_id <<<"$body")
	assert_equal "$(callrow "$id")" "failed|-|-|-|Timeout|t"
	assert_equal "$(balance ivy.near 1)" "0|0"
	worker /https-calls/complete "{\"call_id\":\"$id\",\"success\":true,\"time_ms\":1}"
	assert_equal "$body" "{\"call_id\":\"$id\",\"finalized\":false}"
	assert_equal "$(balance ivy.near 1)" "0|0"
	audit_clean
}

@test "payment-key-cleanup: stale never-funded keys and old idempotency records go, others stay" {
	coord_payment_key stale.near 1 0 >/dev/null
	coord_payment_key stale.near 2 0 >/dev/null
	coord_payment_key stale.near 3 10 >/dev/null
	coord_payment_key stale.near 4 0 >/dev/null
	coord_psql "UPDATE payment_keys SET created_at = now() - interval '2 days' WHERE owner = 'stale.near';
		INSERT INTO payment_key_balances (owner, nonce) VALUES ('stale.near', 1);
		INSERT INTO payment_key_balances (owner, nonce, last_used_at) VALUES ('stale.near', 4, now());
		INSERT INTO idempotency_keys (owner, nonce, idem_key, fingerprint, state, created_at)
		VALUES ('x.near', 1, 'old', repeat('a', 64), 'done', now() - interval '2 days'),
		       ('x.near', 1, 'new', repeat('a', 64), 'done', now())"
	run "$COORD_BUILD_DIR/bin/payment-key-cleanup" --verbose
	assert_success
	assert_output "payment-key-cleanup: expired 0 call(s), deleted 2 stale key(s), deleted 1 idempotency record(s)"
	assert_equal "$(coord_psql "SELECT string_agg(nonce::text, ',' ORDER BY nonce) FROM payment_keys WHERE owner = 'stale.near'")" "3,4"
	assert_equal "$(coord_psql "SELECT string_agg(nonce::text, ',' ORDER BY nonce) FROM payment_key_balances WHERE owner = 'stale.near'")" "4"
	assert_equal "$(coord_psql "SELECT string_agg(idem_key, ',') FROM idempotency_keys")" "new"
}

@test "reaper B.2 rebuilds the HTTPS item of a call whose item is gone" {
	key=$(coord_payment_key jay.near 1 50000)
	call "$key" 2000 0 '{"input":{"q":"x"},"async":true,"resource_limits":{"max_memory_mb":64}}'
	id=$(jq -r .call_id <<<"$body")
	rid=$(coord_psql "SELECT request_id FROM https_calls WHERE call_id = '$id'")
	original=$(coord_psql "SELECT payload FROM queue_items WHERE call_id = '$id'")
	job=$(coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status, lease_id, lease_expires_at,
		attempts) VALUES ($rid, '$id', 'execute', 'in_progress', gen_random_uuid(),
		now() - interval '1 minute', 1) RETURNING job_id")
	coord_psql "DELETE FROM queue_items WHERE call_id = '$id'"
	run "$COORD_BUILD_DIR/bin/coord-reap" --quiet
	assert_success
	assert_equal "$(coord_psql "SELECT status FROM jobs WHERE job_id = $job")" pending
	assert_equal "$(coord_psql "SELECT queue || '/' || state FROM queue_items WHERE call_id = '$id'")" execute/queued
	rebuilt=$(coord_psql "SELECT payload FROM queue_items WHERE call_id = '$id'")
	assert_equal "$rebuilt" "$original"
	assert_equal "$(callrow "$id")" "pending|-|-|-|-|f"
}

@test "ledger under concurrency: 100 parallel calls on one key, racing completions, expiry, audit clean" {
	key=$(coord_payment_key many.near 1 1000000)
	# xargs puts each number into the body: input {"i":N}
	seq 100 | xargs -P 10 -I{} curl -s -o /dev/null -X POST "$BASE_URL/call/dev.near/app" \
		-H "X-Payment-Key: $key" -H 'X-Compute-Limit: 2000' -H 'X-Attached-Deposit: 300' \
		-H 'Content-Type: application/json' --data-binary '{"input":{"i":{}},"async":true}'
	assert_equal "$(coord_psql "SELECT count(*) FROM https_calls WHERE owner = 'many.near'")" 100
	assert_equal "$(balance many.near 1)" "0|230000"
	# two racing completions for each of 80 calls (success or failure by parity), 20 left to expire
	coord_psql "SELECT call_id, row_number() OVER (ORDER BY call_id) FROM https_calls
		WHERE owner = 'many.near' ORDER BY call_id LIMIT 80" -F' ' >"$BATS_TEST_TMPDIR/calls"
	while read -r id n; do
		s=$([[ $((n % 2)) == 0 ]] && echo true || echo false)
		for r in 1 2; do
			printf '{"call_id":"%s","success":%s,"instructions":%d,"time_ms":%d,"refund_usd":%d}\n' \
				"$id" "$s" $((n * 1000000)) $((n * 37 + r)) $((n * 3))
		done
	done <"$BATS_TEST_TMPDIR/calls" >"$BATS_TEST_TMPDIR/bodies"
	tr '\n' '\0' <"$BATS_TEST_TMPDIR/bodies" | xargs -0 -P 10 -I{} curl -s -o /dev/null -X POST \
		"$BASE_URL/https-calls/complete" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' --data-binary {}
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_key_usage WHERE owner = 'many.near'")" 80
	coord_psql "UPDATE https_calls SET created_at = now() - interval '1 hour' WHERE owner = 'many.near'
		AND status = 'pending'"
	run "$COORD_BUILD_DIR/bin/payment-key-cleanup" --verbose
	assert_output "payment-key-cleanup: expired 20 call(s), deleted 0 stale key(s), deleted 0 idempotency record(s)"
	assert_equal "$(coord_psql "SELECT reserved = 0 AND spent = (SELECT sum(charged) FROM payment_key_usage
		WHERE owner = 'many.near') FROM payment_key_balances WHERE owner = 'many.near'")" t
	assert_equal "$(coord_psql "SELECT count(*) FROM https_calls WHERE owner = 'many.near' AND status = 'pending'")" 0
	audit_clean
}
