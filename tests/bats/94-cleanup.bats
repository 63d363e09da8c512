#!/usr/bin/env bats
# payment-key-cleanup (SPEC §6.2, §6.1, §4.4): stuck calls expired (created_at moved in SQL),
# stale never-funded keys deleted and every key SPEC keeps kept, idempotency records past
# their TTL deleted; --help, --version, exit codes, --verbose's one line, the advisory lock.

load ../helpers/coord
load ../helpers/billing

bats_require_minimum_version 1.5.0

setup_file() {
	export NEAR_RPC_URL=off RATE_LIMIT_API_PER_MINUTE=1000000
	coord_start_stack || return 1
	billing_init || return 1
	bproject dev.near/app >/dev/null || return 1
	CLEANUP=$COORD_BUILD_DIR/bin/payment-key-cleanup
	export CLEANUP
}

cleanup_run() { run "$CLEANUP" "$@"; }

# ------------------------------------------------------------------ programs' rules

@test "--help and --version print to stdout and exit 0" {
	cleanup_run --help
	assert_success
	assert_output --partial payment-key-cleanup
	[[ $output == *--verbose* ]]
	cleanup_run -h
	assert_success
	cleanup_run --version
	assert_success
	[[ $output =~ ^payment-key-cleanup\ \(coordinator\)\ [^\ ]+$ ]]
}

@test "usage errors exit 64 with the usage on stderr; PostgreSQL unreachable exits 69; bad config 78" {
	run --separate-stderr "$CLEANUP" --no-such-option
	assert_equal "$status" 64
	assert_equal "$output" ''
	[[ $stderr == *payment-key-cleanup* ]]
	run --separate-stderr "$CLEANUP" extra-argument
	assert_equal "$status" 64
	run --separate-stderr "$CLEANUP" --database-url "host=$COORD_STACK_TMP/nowhere port=1 user=postgres dbname=x"
	assert_equal "$status" 69
	[[ $stderr == payment-key-cleanup:* ]]
	HTTPS_CALL_TIMEOUT_SECONDS=0 run --separate-stderr "$CLEANUP"
	assert_equal "$status" 78
}

@test "nothing to do: no output, exit 0; --verbose adds exactly one summary line on stderr" {
	cleanup_run
	assert_success
	assert_output ''
	run --separate-stderr "$CLEANUP" --verbose
	assert_success
	assert_equal "$output" ''
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ $stderr == payment-key-cleanup:* ]]
	run --separate-stderr "$CLEANUP" --quiet
	assert_success
	assert_equal "$output$stderr" ''
}

# ------------------------------------------------------------------ stuck calls

@test "stuck calls older than HTTPS_CALL_TIMEOUT_SECONDS + 60 are expired exactly; younger ones stay" {
	local k old1 old2 young
	k=$(bkey stuck.near 1 100000)
	acall "$k" dev.near/app -H 'X-Compute-Limit: 3000' -H 'X-Attached-Deposit: 100'
	old1=$CALL_ID
	acall "$k" dev.near/app -H 'X-Compute-Limit: 2000'
	old2=$CALL_ID
	acall "$k" dev.near/app -H 'X-Compute-Limit: 1000'
	young=$CALL_ID
	assert_equal "$(bal stuck.near 1)" "0|6100"
	coord_psql "UPDATE https_calls SET created_at = now() - interval '361 seconds' WHERE call_id IN ('$old1', '$old2');
		UPDATE https_calls SET created_at = now() - interval '340 seconds' WHERE call_id = '$young'"
	run --separate-stderr "$CLEANUP" --verbose
	assert_success
	assert_equal "$output" ''
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	run coord_psql "SELECT call_id = '$young', status, coalesce(error_message, '-'),
		reservation_released_at IS NOT NULL, coalesce(compute_cost::text, '-')
		FROM https_calls WHERE owner = 'stuck.near' ORDER BY 1, created_at"
	assert_output "f|failed|Timeout: no result within 360 s|t|-
f|failed|Timeout: no result within 360 s|t|-
t|pending|-|f|-"
	assert_equal "$(bal stuck.near 1)" "0|1000"
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_key_usage")" 0
	assert_equal "$(coord_psql "SELECT string_agg(state || '/' || coalesce(close_reason, '-'), ' ' ORDER BY item_id)
		FROM queue_items WHERE call_id IN ('$old1', '$old2')")" 'done/call_finished done/call_finished'
	# a synchronous waiter would be woken
	assert_equal "$(coord_redis LLEN "call_done:$old1")" 1
	# a second run finds nothing more
	cleanup_run
	assert_success
	assert_equal "$(bal stuck.near 1)" "0|1000"
	# the worker's late completion changes nothing
	hcomplete "$old1" '"success":true,"instructions":0,"time_ms":0'
	assert_equal "$body" "{\"call_id\":\"$old1\",\"finalized\":false}"
	assert_equal "$(bal stuck.near 1)" "0|1000"
	audit_clean
}

@test "another run holding the lock: exit 0 silently, nothing done" {
	local k cid pid i
	k=$(bkey lock.near 1 100000)
	acall "$k" dev.near/app
	cid=$CALL_ID
	coord_psql "UPDATE https_calls SET created_at = now() - interval '1 hour' WHERE call_id = '$cid'"
	psql -XqAt "$DATABASE_URL" -c 'SELECT pg_advisory_lock(7364003)' -c 'SELECT pg_sleep(30)' >/dev/null 3>&- &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		[[ $(coord_psql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7364003 AND granted") == 1 ]] && break
		sleep 0.1
	done
	run --separate-stderr "$CLEANUP"
	# end the holder's session (killing psql alone leaves its backend sleeping with the lock)
	coord_psql "SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND objid = 7364003 AND pid <> pg_backend_pid()" >/dev/null
	wait "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		[[ $(coord_psql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7364003") == 0 ]] && break
		sleep 0.1
	done
	assert_success
	assert_equal "$output" ''
	assert_equal "$stderr" ''
	assert_equal "$(coord_psql "SELECT status FROM https_calls WHERE call_id = '$cid'")" pending
	cleanup_run
	assert_success
	assert_equal "$(coord_psql "SELECT status FROM https_calls WHERE call_id = '$cid'")" failed
	audit_clean
}

# ------------------------------------------------------------------ stale keys

# stale_key OWNER NONCE [BALANCE]: a key created two days ago.
stale_key() {
	bkey "$1" "$2" "${3:-0}" "created_at = now() - interval '2 days'" >/dev/null
}

@test "stale never-funded keys are deleted (with an untouched balance row); the others are kept" {
	coord_psql "DELETE FROM payment_keys WHERE owner LIKE 'st-%'"
	stale_key st-plain.near 1
	stale_key st-zerobal.near 1
	coord_psql "INSERT INTO payment_key_balances (owner, nonce) VALUES ('st-zerobal.near', 1)"
	# kept: young, funded, grant, funded_at set, top-up row, grant row, call row, balance used
	bkey st-young.near 1 0 "created_at = now() - interval '23 hours'" >/dev/null
	stale_key st-funded.near 1 500
	stale_key st-grant.near 1
	coord_psql "UPDATE payment_keys SET is_grant = true WHERE owner = 'st-grant.near'"
	stale_key st-fundedat.near 1
	coord_psql "UPDATE payment_keys SET funded_at = now() - interval '2 days' WHERE owner = 'st-fundedat.near'"
	stale_key st-topup.near 1
	coord_psql "INSERT INTO payment_key_topups (owner, nonce, amount, new_initial_balance, mode)
		VALUES ('st-topup.near', 1, 0, 0, 'add')"
	stale_key st-granted.near 1
	coord_psql "INSERT INTO payment_key_grants (owner, nonce, amount, source, initial_balance_after)
		VALUES ('st-granted.near', 1, 5, 'cli', 5)"
	stale_key st-call.near 1
	coord_psql "INSERT INTO https_calls (call_id, owner, nonce, project_id, status, is_async,
			compute_limit, attached_deposit, reserved_amount, completed_at, reservation_released_at)
		VALUES (gen_random_uuid(), 'st-call.near', 1, 'dev.near/app', 'failed', true, 0, 0, 0, now(), now())"
	stale_key st-used.near 1
	coord_psql "INSERT INTO payment_key_balances (owner, nonce, last_used_at) VALUES ('st-used.near', 1, now() - interval '2 days')"
	cleanup_run
	assert_success
	assert_output ''
	run coord_psql "SELECT owner FROM payment_keys WHERE owner LIKE 'st-%' ORDER BY owner"
	assert_output "st-call.near
st-funded.near
st-fundedat.near
st-grant.near
st-granted.near
st-topup.near
st-used.near
st-young.near"
	assert_equal "$(coord_psql "SELECT string_agg(owner, ' ' ORDER BY owner) FROM payment_key_balances WHERE owner LIKE 'st-%'")" st-used.near
	audit_clean
}

@test "PAYMENT_KEY_STALE_SECONDS sets the age" {
	coord_psql "DELETE FROM payment_keys WHERE owner LIKE 'st2-%'"
	bkey st2-a.near 1 0 "created_at = now() - interval '100 seconds'" >/dev/null
	bkey st2-b.near 1 0 "created_at = now() - interval '50 seconds'" >/dev/null
	PAYMENT_KEY_STALE_SECONDS=60 run "$CLEANUP"
	assert_success
	assert_equal "$(coord_psql "SELECT string_agg(owner, ' ') FROM payment_keys WHERE owner LIKE 'st2-%'")" st2-b.near
}

# ------------------------------------------------------------------ idempotency records

@test "idempotency records older than IDEMPOTENCY_TTL_SECONDS are deleted, younger kept" {
	local fp
	fp=$(printf 'f%.0s' {1..64})
	coord_psql "DELETE FROM idempotency_keys;
		INSERT INTO idempotency_keys (owner, nonce, idem_key, fingerprint, state, created_at) VALUES
		('i.near', 1, 'old-done', '$fp', 'done', now() - interval '86401 seconds'),
		('i.near', 1, 'old-flight', '$fp', 'in_flight', now() - interval '3 days'),
		('i.near', 1, 'young', '$fp', 'done', now() - interval '86399 seconds')"
	cleanup_run
	assert_success
	assert_equal "$(coord_psql "SELECT string_agg(idem_key, ' ') FROM idempotency_keys")" young
	coord_psql "UPDATE idempotency_keys SET created_at = now() - interval '3601 seconds'"
	IDEMPOTENCY_TTL_SECONDS=3600 run "$CLEANUP"
	assert_success
	assert_equal "$(coord_psql "SELECT count(*) FROM idempotency_keys")" 0
}

@test "the cron file runs payment-key-cleanup every five minutes, quietly" {
	run grep -E '^\*/5 +\* +\* +\* +\* +coordinator +\[ -x @bindir@/payment-key-cleanup \] && @bindir@/payment-key-cleanup --quiet$' \
		"$COORD_REPO/cron/"*
	assert_success
}
