#!/usr/bin/env bats
# Settlement amounts (SPEC §4.4): after each outcome row, the exact amounts in every table the
# settlement writes (payment_key_balances, https_calls, payment_key_usage,
# project_owner_earnings, earnings_history), and coord-audit clean (§4.7) after each.
# Pricing is the fallback of §4.1 (NEAR off): base 1000, 1 per million instructions, 1 per
# whole second.  Each test uses its own key and its own project owner, so amounts are exact.

load ../helpers/coord
load ../helpers/billing

setup_file() {
	export NEAR_RPC_URL=off RATE_LIMIT_API_PER_MINUTE=1000000 HTTPS_CALL_TIMEOUT_SECONDS=1 \
		JOB_MAX_ATTEMPTS=1
	coord_start_stack || return 1
	billing_init || return 1
}

# call_row CALL_ID: status|reserved_amount|actual_cost|compute_cost|refund_usd|error|released|job?
call_row() {
	coord_psql "SELECT status, reserved_amount, coalesce(actual_cost::text, '-'),
		coalesce(compute_cost::text, '-'), coalesce(refund_usd::text, '-'),
		coalesce(error_message, '-'), reservation_released_at IS NOT NULL AND completed_at IS NOT NULL,
		job_id IS NOT NULL FROM https_calls WHERE call_id = '$1'" -F'|'
}

# usage_row CALL_ID: compute_cost|attached_deposit|refund_usd|charged|status|error|project ("none")
usage_row() {
	local r
	r=$(coord_psql "SELECT compute_cost, attached_deposit, refund_usd, charged, status,
		coalesce(error_message, '-'), project_id, owner || ':' || nonce
		FROM payment_key_usage WHERE call_id = '$1'" -F'|')
	printf '%s\n' "${r:-none}"
}

# earn OWNER: balance|total_earned ("none")
earn() {
	local r
	r=$(coord_psql "SELECT balance || '|' || total_earned || '|' || (updated_at IS NOT NULL)
		FROM project_owner_earnings WHERE project_owner = '$1'")
	printf '%s\n' "${r:-none}"
}

# hist CALL_ID: the https history rows of the call ("none")
hist() {
	local r
	r=$(coord_psql "SELECT h.project_owner, h.project_id, h.attached_usd, h.refund_usd, h.amount,
		h.source, coalesce(h.tx_hash, '-'), h.caller, h.request_id = c.request_id,
		h.payment_key_owner || ':' || h.payment_key_nonce
		FROM earnings_history h JOIN https_calls c USING (call_id) WHERE h.call_id = '$1'" -F'|')
	printf '%s\n' "${r:-none}"
}

# ------------------------------------------------------------------ worker completions

@test "success: spent = compute charge + deposit - refund; the developer earns deposit - refund" {
	bproject e1.near/app >/dev/null
	local k cid
	k=$(bkey s1.near 1 100000)
	acall "$k" e1.near/app -H 'X-Compute-Limit: 5000' -H 'X-Attached-Deposit: 300'
	cid=$CALL_ID
	assert_equal "$(bal s1.near 1)" "0|5300"
	# actual cost 1000 + 2 + 2 = 1004 (floors); refund 100 of 300
	worker_finish "$cid" '"success":true,"output":{"r":1},"instructions":2999999,"time_ms":2999,"refund_usd":"100"'
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":true}"
	assert_equal "$(call_row "$cid")" "completed|5300|1004|1004|100|-|t|t"
	assert_equal "$(coord_psql "SELECT output_data, instructions, time_ms FROM https_calls WHERE call_id = '$cid'" -F'|')" '{"r":1}|2999999|2999'
	assert_equal "$(bal s1.near 1)" "1204|0"
	assert_equal "$(coord_psql "SELECT last_used_at IS NOT NULL FROM payment_key_balances WHERE owner = 's1.near'")" t
	assert_equal "$(usage_row "$cid")" "1004|300|100|1204|completed|-|e1.near/app|s1.near:1"
	assert_equal "$(coord_psql "SELECT job_id = (SELECT job_id FROM https_calls WHERE call_id = '$cid') FROM payment_key_usage WHERE call_id = '$cid'")" t
	assert_equal "$(earn e1.near)" "200|200|true"
	assert_equal "$(hist "$cid")" "e1.near|e1.near/app|300|100|200|https|-|s1.near|t|s1.near:1"
	# initial_balance is never decremented by billing
	assert_equal "$(coord_psql "SELECT initial_balance FROM payment_keys WHERE owner = 's1.near'")" 100000
	audit_clean
	# a second call of the same owner adds up
	acall "$k" e1.near/app -H 'X-Compute-Limit: 1000' -H 'X-Attached-Deposit: 50'
	worker_finish "$CALL_ID" '"success":true,"instructions":0,"time_ms":0,"refund_usd":0'
	assert_equal "$(call_row "$CALL_ID")" "completed|1050|1000|1000|0|-|t|t"
	assert_equal "$(bal s1.near 1)" "2254|0"
	assert_equal "$(earn e1.near)" "250|250|true"
	assert_equal "$(coord_psql "SELECT count(*) FROM earnings_history WHERE project_owner = 'e1.near'")" 2
	audit_clean
}

@test "success: the compute charge is capped at the compute limit; a refund above the deposit is the deposit" {
	bproject e2.near/app >/dev/null
	local k cid
	k=$(bkey s2.near 1 100000)
	acall "$k" e2.near/app -H 'X-Compute-Limit: 1500' -H 'X-Attached-Deposit: 300'
	cid=$CALL_ID
	# actual cost 1000 + 5000 + 3 = 6003 > 1500
	worker_finish "$cid" '"success":true,"instructions":5000000000,"time_ms":3500,"refund_usd":"999"'
	assert_equal "$(call_row "$cid")" "completed|1800|6003|1500|300|-|t|t"
	assert_equal "$(bal s2.near 1)" "1500|0"
	assert_equal "$(usage_row "$cid")" "1500|300|300|1500|completed|-|e2.near/app|s2.near:1"
	# the developer amount is 0: no earnings row, no history row
	assert_equal "$(earn e2.near)" none
	assert_equal "$(hist "$cid")" none
	audit_clean
}

@test "success without a deposit: spent = compute charge, no earnings" {
	bproject e3.near/app >/dev/null
	local k cid
	k=$(bkey s3.near 1 100000)
	acall "$k" e3.near/app
	cid=$CALL_ID
	worker_finish "$cid" '"success":true,"instructions":1000000,"time_ms":1000'
	assert_equal "$(call_row "$cid")" "completed|10000|1002|1002|0|-|t|t"
	assert_equal "$(bal s3.near 1)" "1002|0"
	assert_equal "$(usage_row "$cid")" "1002|0|0|1002|completed|-|e3.near/app|s3.near:1"
	assert_equal "$(earn e3.near)" none
	audit_clean
}

@test "failure: spent = compute charge only; the deposit goes back; usage row failed" {
	bproject e4.near/app >/dev/null
	local k cid
	k=$(bkey s4.near 1 100000)
	acall "$k" e4.near/app -H 'X-Compute-Limit: 5000' -H 'X-Attached-Deposit: 700'
	cid=$CALL_ID
	worker_finish "$cid" '"success":false,"error":"panicked","instructions":3000000,"time_ms":4000,"refund_usd":"5"'
	assert_equal "$(call_row "$cid")" "failed|5700|1007|1007|5|panicked|t|t"
	assert_equal "$(bal s4.near 1)" "1007|0"
	assert_equal "$(usage_row "$cid")" "1007|700|5|1007|failed|panicked|e4.near/app|s4.near:1"
	assert_equal "$(earn e4.near)" none
	assert_equal "$(hist "$cid")" none
	audit_clean
}

@test "completion without a job (the worker failed before claiming) settles the same way" {
	bproject e5.near/app >/dev/null
	local k cid
	k=$(bkey s5.near 1 100000)
	acall "$k" e5.near/app -H 'X-Compute-Limit: 2000' -H 'X-Attached-Deposit: 10'
	cid=$CALL_ID
	hcomplete "$cid" '"success":false,"error":"project not resolvable"'
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":true}"
	assert_equal "$(call_row "$cid")" "failed|2010|1000|1000|0|project not resolvable|t|f"
	assert_equal "$(bal s5.near 1)" "1000|0"
	assert_equal "$(usage_row "$cid")" "1000|10|0|1000|failed|project not resolvable|e5.near/app|s5.near:1"
	# the queued item is closed by the settlement (§4.4 step 6)
	assert_equal "$(coord_psql "SELECT state || '/' || close_reason FROM queue_items WHERE call_id = '$cid'")" done/call_finished
	audit_clean
}

# ------------------------------------------------------------------ releases without charge

# released CALL_ID OWNER NONCE ERROR: the call failed, everything released, nothing charged.
released() {
	assert_equal "$(call_row "$1")" "failed|$(coord_psql "SELECT reserved_amount FROM https_calls WHERE call_id = '$1'")|-|-|-|$4|t|f"
	assert_equal "$(bal "$2" "$3")" "0|0"
	assert_equal "$(usage_row "$1")" none
	assert_equal "$(hist "$1")" none
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE call_id = '$1' AND state IN ('queued', 'leased')")" 0
}

@test "compile failure: released, nothing charged, no usage row" {
	bproject e6.near/app >/dev/null
	local k cid
	k=$(bkey s6.near 1 100000)
	acall "$k" e6.near/app -H 'X-Compute-Limit: 3000' -H 'X-Attached-Deposit: 40'
	cid=$CALL_ID
	worker_take "$cid" compile
	wjob_complete "$JOB_ID" '"success":false,"time_ms":100,"error":"cannot compile"'
	assert_equal "$status" 200
	released "$cid" s6.near 1 'cannot compile'
	assert_equal "$(earn e6.near)" none
	audit_clean
}

@test "synchronous timeout: released, nothing charged, error Timeout" {
	bproject e7.near/app >/dev/null
	local k cid
	k=$(bkey s7.near 1 100000)
	call "$k" e7.near/app '{"input":1}' -H 'X-Compute-Limit: 3000' -H 'X-Attached-Deposit: 40'
	expect_error 504 timeout
	cid=$(jq -r .details.call_id <<<"$body")
	released "$cid" s7.near 1 Timeout
	hcomplete "$cid" '"success":true,"instructions":1,"time_ms":1,"refund_usd":"0"'
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":false}"
	released "$cid" s7.near 1 Timeout
	audit_clean
}

@test "stuck-call expiry by payment-key-cleanup: released, error 'Timeout: no result within 61 s'" {
	bproject e8.near/app >/dev/null
	local k cid young
	k=$(bkey s8.near 1 100000)
	acall "$k" e8.near/app -H 'X-Compute-Limit: 3000' -H 'X-Attached-Deposit: 40'
	cid=$CALL_ID
	acall "$k" e8.near/app -H 'X-Compute-Limit: 2000'
	young=$CALL_ID
	worker_take "$cid"
	coord_psql "UPDATE https_calls SET created_at = now() - interval '62 seconds' WHERE call_id = '$cid';
		UPDATE https_calls SET created_at = now() - interval '45 seconds' WHERE call_id = '$young'"
	run "$COORD_BUILD_DIR/bin/payment-key-cleanup"
	assert_success
	assert_output ''
	assert_equal "$(call_row "$cid")" "failed|3040|-|-|-|Timeout: no result within 61 s|t|f"
	assert_equal "$(usage_row "$cid")" none
	# the younger call keeps its reservation
	assert_equal "$(bal s8.near 1)" "0|2000"
	assert_equal "$(coord_psql "SELECT status FROM https_calls WHERE call_id = '$young'")" pending
	# the in_progress job is left to its worker (§4.4 step 6), whose completion is then late
	assert_equal "$(coord_psql "SELECT status FROM jobs WHERE job_id = $JOB_ID")" in_progress
	hcomplete "$cid" "\"success\":true,\"job_id\":$JOB_ID"
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":false}"
	assert_equal "$(bal s8.near 1)" "0|2000"
	audit_clean
	# the younger call ends normally (its item must not linger for the next tests)
	hcomplete "$young" '"success":false,"error":"x"'
	assert_equal "$(bal s8.near 1)" "1000|0"
	audit_clean
}

@test "delivery attempts exhausted (coord-reap): released, nothing charged, item stays dead" {
	bproject e9.near/app >/dev/null
	local k cid
	k=$(bkey s9.near 1 100000)
	acall "$k" e9.near/app -H 'X-Compute-Limit: 3000' -H 'X-Attached-Deposit: 40'
	cid=$CALL_ID
	wpoll
	assert_equal "$(jq -r .call_id <<<"$body")" "$cid"
	coord_psql "UPDATE queue_items SET lease_expires_at = now() - interval '1 second' WHERE call_id = '$cid'"
	run "$COORD_BUILD_DIR/bin/coord-reap"
	assert_success
	assert_equal "$(call_row "$cid")" "failed|3040|-|-|-|not processed: delivery attempts exhausted|t|f"
	assert_equal "$(bal s9.near 1)" "0|0"
	assert_equal "$(usage_row "$cid")" none
	assert_equal "$(coord_psql "SELECT state || '/' || close_reason FROM queue_items WHERE call_id = '$cid'")" dead/max_attempts
	audit_clean
}

@test "job lease exhausted (worker lost, coord-reap): released, nothing charged, error 'worker lost'" {
	bproject e10.near/app >/dev/null
	local k cid
	k=$(bkey s10.near 1 100000)
	acall "$k" e10.near/app -H 'X-Compute-Limit: 3000' -H 'X-Attached-Deposit: 40'
	cid=$CALL_ID
	worker_take "$cid"
	[[ -n $JOB_ID ]]
	coord_psql "UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE job_id = $JOB_ID"
	run "$COORD_BUILD_DIR/bin/coord-reap"
	assert_success
	assert_equal "$(call_row "$cid")" "failed|3040|-|-|-|worker lost|t|f"
	assert_equal "$(bal s10.near 1)" "0|0"
	assert_equal "$(usage_row "$cid")" none
	assert_equal "$(coord_psql "SELECT status <> 'in_progress' FROM jobs WHERE job_id = $JOB_ID")" t
	# the crashed worker comes back with its result: too late
	hcomplete "$cid" "\"success\":true,\"instructions\":1,\"time_ms\":1,\"job_id\":$JOB_ID"
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":false}"
	assert_equal "$(bal s10.near 1)" "0|0"
	audit_clean
}

@test "the public views agree with the tables after the outcomes above" {
	req GET /public/payment-keys/s1.near/1/balance
	assert_equal "$status" 200
	assert_equal "$(jq -c '[.initial_balance, .spent, .reserved, .available]' <<<"$body")" '["100000","2254","0","97746"]'
	req GET /public/payment-keys/s1.near/1/usage
	assert_equal "$(jq -c '[.total, (.usage | map(.compute_cost + "/" + .attached_deposit + "/" + .status))]' <<<"$body")" \
		'[2,["1000/50/completed","1004/300/completed"]]'
	req GET /public/project-earnings/e1.near
	assert_equal "$(jq -c '[.balance, .total_earned]' <<<"$body")" '["250","250"]'
	req GET '/public/project-earnings/e1.near/history?source=https'
	assert_equal "$(jq -c '[.total_count, (.earnings | map(.amount))]' <<<"$body")" '[2,["50","200"]]'
	audit_clean
}

# ------------------------------------------------------------------ deadlocks

# lock_cycle CALL_ID FIRST SECOND: in a transaction of its own, in the background, takes the
# lock FIRST of CALL_ID ("item": its queue items, "call": its https_calls row), waits until
# another backend waits for it, then asks for SECOND; returns once FIRST is held (CYCLE_PID:
# the psql, its output in $BATS_TEST_TMPDIR/cycle). Against a settlement that takes the same
# two locks in the other order, it closes a lock cycle. The settlement's deadlock check runs
# after deadlock_timeout (1 s), this transaction's after 10 s (SET LOCAL, as superuser), so
# PostgreSQL aborts the settlement's transaction, not this one.
lock_cycle() {
	local cid=$1 sql=() what i
	for what in "$2" "$3"; do
		case $what in
		item) sql+=("SELECT item_id FROM queue_items WHERE call_id = '$cid' FOR UPDATE") ;;
		call) sql+=("UPDATE https_calls SET call_id = call_id WHERE call_id = '$cid'") ;;
		esac
	done
	psql -XqAt -v ON_ERROR_STOP=1 "$DATABASE_URL" >"$BATS_TEST_TMPDIR/cycle" 2>&1 <<-SQL &
		BEGIN;
		SET LOCAL deadlock_timeout = '10s';
		${sql[0]};
		DO \$\$ BEGIN
			FOR i IN 1..400 LOOP
				EXIT WHEN EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted
					AND pg_backend_pid() = ANY (pg_blocking_pids(pid)));
				PERFORM pg_sleep(0.025);
			END LOOP;
		END \$\$;
		${sql[1]};
		COMMIT;
	SQL
	CYCLE_PID=$!
	for ((i = 0; i < 200; i++)); do
		[[ $(coord_psql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'DO %'") == 1 ]] && return 0
		sleep 0.05
	done
	return 1
}

# lock_cycle_end: the lock_cycle's psql succeeded (its output shown if not)
lock_cycle_end() {
	wait "$CYCLE_PID" || { cat "$BATS_TEST_TMPDIR/cycle"; return 1; }
}

@test "a worker's completion that deadlocks is run again: settled once, exact amounts" {
	bproject e11.near/app >/dev/null
	local k cid
	k=$(bkey s11.near 1 100000)
	acall "$k" e11.near/app -H 'X-Compute-Limit: 5000' -H 'X-Attached-Deposit: 40'
	cid=$CALL_ID
	# the reaper's order: the call's item first, then the call; the settlement takes the call
	# first, then its items (§4.4 steps 1 and 6)
	lock_cycle "$cid" item call
	hcomplete "$cid" '"success":true,"output":{"r":1},"instructions":2000000,"time_ms":3000,"refund_usd":"10"'
	lock_cycle_end
	assert_equal "$status" 200
	assert_equal "$body" "{\"call_id\":\"$cid\",\"finalized\":true}"
	grep -q 'transaction ended by a deadlock; run again' "$COORD_STATE_DIR/fcgi-stderr.log"
	# compute 1000 + 2 + 3, deposit 40 - refund 10
	assert_equal "$(call_row "$cid")" "completed|5040|1005|1005|10|-|t|f"
	assert_equal "$(bal s11.near 1)" "1035|0"
	assert_equal "$(usage_row "$cid")" "1005|40|10|1035|completed|-|e11.near/app|s11.near:1"
	assert_equal "$(earn e11.near)" "30|30|true"
	assert_equal "$(coord_psql "SELECT count(*) FROM earnings_history WHERE call_id = '$cid'")" 1
	audit_clean
}

@test "payment-key-cleanup's expiry that deadlocks is run again: exit 0, released once" {
	bproject e12.near/app >/dev/null
	local k cid
	k=$(bkey s12.near 1 100000)
	acall "$k" e12.near/app -H 'X-Compute-Limit: 3000' -H 'X-Attached-Deposit: 40'
	cid=$CALL_ID
	coord_psql "UPDATE https_calls SET created_at = now() - interval '62 seconds' WHERE call_id = '$cid'"
	lock_cycle "$cid" item call
	run "$COORD_BUILD_DIR/bin/payment-key-cleanup"
	lock_cycle_end
	assert_success
	assert_output ''
	assert_equal "$(call_row "$cid")" "failed|3040|-|-|-|Timeout: no result within 61 s|t|f"
	assert_equal "$(bal s12.near 1)" "0|0"
	assert_equal "$(usage_row "$cid")" none
	assert_equal "$(coord_psql "SELECT state || '/' || close_reason FROM queue_items WHERE call_id = '$cid'")" done/call_finished
	audit_clean
}
