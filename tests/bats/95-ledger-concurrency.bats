#!/usr/bin/env bats
# The ledger under concurrency (SPEC §4.4, §4.7): hundreds of concurrent calls on one key and on
# many keys, exactly as many admitted as the balance allows; then random worker outcomes at
# once (success, failure, two racing completions of one call, stuck-call expiry by
# payment-key-cleanup, worker crash with the job lease expired in SQL and coord-reap, polled
# items never claimed), with coord-reap and payment-key-cleanup running during the storm.
# Afterwards: coord-audit reports nothing, the sums match by SQL, and a monitor that read the
# balances throughout never saw one below zero.

load ../helpers/coord
load ../helpers/billing

setup_file() {
	export NEAR_RPC_URL=off RATE_LIMIT_API_PER_MINUTE=1000000 PAYMENT_KEY_RATE_LIMIT_PER_MINUTE=1000000 \
		JOB_MAX_ATTEMPTS=1 HTTPS_CALL_TIMEOUT_SECONDS=1
	coord_start_stack || return 1
	billing_init || return 1
	bproject dev.near/app >/dev/null || return 1
	bproject dev2.near/tool >/dev/null || return 1
}

# monitor_start / monitor_stop: reads every balance every ~0.1 s; writes a line to
# $MON/neg whenever a key's available amount, spent or reserved is below zero.
monitor_start() {
	MON=$BATS_TEST_TMPDIR/mon
	mkdir -p "$MON"
	: >"$MON/run"
	: >"$MON/neg"
	(
		n=0
		while [[ -f $MON/run ]]; do
			r=$(psql -XqAt "$DATABASE_URL" -c "SELECT count(*) FROM payment_keys k
				JOIN payment_key_balances b USING (owner, nonce)
				WHERE k.initial_balance - b.spent - b.reserved < 0 OR b.spent < 0 OR b.reserved < 0" 2>/dev/null)
			[[ -z $r || $r == 0 ]] || echo "$r" >>"$MON/neg"
			n=$((n + 1))
			echo "$n" >"$MON/reads"
			sleep 0.1
		done
	) 3>&- &
	MON_PID=$!
}

monitor_stop() {
	rm -f "$MON/run"
	wait "$MON_PID" 2>/dev/null || true
	echo "# balance monitor: $(cat "$MON/reads") reads" >&3
	assert_equal "$(cat "$MON/neg")" ''
}

# launch FILE: FILE holds "KEY PATH CL DEPOSIT" lines; sends them all as async calls, 24 at
# once; prints the status counts ("200:N 402:M ").
launch() {
	xargs -P 24 -L 1 sh -c '
		curl -s -o /dev/null -w "%{http_code}\n" --max-time 60 -H "X-Payment-Key: $0" \
			-H "X-Compute-Limit: $2" -H "X-Attached-Deposit: $3" -H "Content-Type: application/json" \
			--data-binary "{\"input\":{\"k\":\"$0\"},\"async\":true}" "$BASE_URL/call/$1"' <"$1" |
		sort | uniq -c | awk '{printf "%s:%s ", $2, $1}'
}

# storm: every pending call gets a random worker outcome, all at once.
storm() {
	local d=$BATS_TEST_TMPDIR/storm i payload cid pending n_claimed=0 n_leased=0
	mkdir -p "$d"
	: >"$d/errors"
	# a crashing worker takes 30 items: it claims 20 (then dies: job leases expired), and
	# leaves 10 polled but unclaimed (item leases expired)
	: >"$d/polled"
	for ((i = 0; i < 30; i++)); do
		req GET '/executions/poll?timeout=0&capabilities=execution' -H "Authorization: Bearer $TOKEN"
		[[ $status == 200 ]] || break
		payload=$body
		cid=$(jq -r .call_id <<<"$payload")
		echo "$cid" >>"$d/polled"
		if ((i < 20)); then
			wclaim "$payload"
			[[ -n $JOB_ID ]] && n_claimed=$((n_claimed + 1))
		else
			n_leased=$((n_leased + 1))
		fi
	done
	echo "# crashed worker: $n_claimed jobs claimed, $n_leased items left leased" >&3
	coord_psql "UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE status = 'in_progress';
		UPDATE queue_items SET lease_expires_at = now() - interval '1 second' WHERE state = 'leased'"
	# outcomes of the other pending calls
	pending=$(coord_psql "SELECT call_id FROM https_calls WHERE status = 'pending'")
	: >"$d/work"
	: >"$d/expire"
	for cid in $pending; do
		if grep -qx "$cid" "$d/polled"; then
			# half of the crashed worker's calls still get a late completion, racing the reaper
			((RANDOM % 2)) && echo "$cid late" >>"$d/work"
			continue
		fi
		case $((RANDOM % 4)) in
		0) echo "$cid ok" >>"$d/work" ;;
		1) echo "$cid fail" >>"$d/work" ;;
		2) echo "$cid dup" >>"$d/work" ;;
		3) echo "$cid" >>"$d/expire" ;;
		esac
	done
	if [[ -s $d/expire ]]; then
		coord_psql "UPDATE https_calls SET created_at = now() - interval '1 hour'
			WHERE call_id IN ($(sed "s/.*/'&'/" "$d/expire" | paste -sd,))"
	fi
	echo "# outcomes: $(awk '{print $2}' "$d/work" | sort | uniq -c | tr '\n' ' ')expire $(wc -l <"$d/expire")" >&3
	cat >"$d/complete.sh" <<-'EOF'
		#!/bin/bash
		# complete.sh CALL_ID KIND: the worker's /https-calls/complete (200 expected always)
		one() {
			local code
			code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 \
				-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
				--data-binary "$1" "$BASE_URL/https-calls/complete")
			[[ $code == 200 ]] || echo "$1 -> $code" >>"$ERRORS"
		}
		ok="{\"call_id\":\"$1\",\"success\":true,\"output\":{\"r\":$RANDOM},\"instructions\":$((RANDOM * 1000)),\"time_ms\":$((RANDOM % 5000)),\"refund_usd\":\"$((RANDOM % 150))\"}"
		fail="{\"call_id\":\"$1\",\"success\":false,\"error\":\"e\",\"instructions\":$((RANDOM * 100)),\"time_ms\":$((RANDOM % 3000)),\"refund_usd\":$((RANDOM % 50))}"
		case $2 in
		ok | late) one "$ok" ;;
		fail) one "$fail" ;;
		dup) one "$ok" & one "$fail"; wait ;;
		esac
	EOF
	chmod +x "$d/complete.sh"
	# the storm, with the maintenance programs running meanwhile
	local t0=$SECONDS
	ERRORS=$d/errors xargs -P 24 -L 1 "$d/complete.sh" <"$d/work" 3>&- &
	local storm_pid=$!
	for i in 1 2; do
		"$COORD_BUILD_DIR/bin/coord-reap" || echo "coord-reap exit $?" >>"$d/errors"
		"$COORD_BUILD_DIR/bin/payment-key-cleanup" || echo "cleanup exit $?" >>"$d/errors"
	done
	wait "$storm_pid"
	"$COORD_BUILD_DIR/bin/coord-reap" || echo "coord-reap exit $?" >>"$d/errors"
	"$COORD_BUILD_DIR/bin/payment-key-cleanup" || echo "cleanup exit $?" >>"$d/errors"
	echo "# storm: $((SECONDS - t0)) s" >&3
	assert_equal "$(cat "$d/errors")" ''
}

# sums_match: the checks of §4.7 written out in SQL, independently of coord-audit.
sums_match() {
	# nothing pending, nothing reserved
	assert_equal "$(coord_psql "SELECT count(*) FROM https_calls WHERE status = 'pending'")" 0
	assert_equal "$(coord_psql "SELECT coalesce(sum(reserved), 0) FROM payment_key_balances")" 0
	# spent = sum of charged, per key
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_key_balances b WHERE b.spent <>
		(SELECT coalesce(sum(charged), 0) FROM payment_key_usage u WHERE (u.owner, u.nonce) = (b.owner, b.nonce))")" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_key_usage u WHERE NOT EXISTS
		(SELECT 1 FROM payment_key_balances b WHERE (u.owner, u.nonce) = (b.owner, b.nonce))")" 0
	# no key spent more than it had
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_keys k JOIN payment_key_balances b USING (owner, nonce)
		WHERE b.spent + b.reserved > k.initial_balance")" 0
	# one usage row at most per call, with the call's status, and the charge formula
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_key_usage u JOIN https_calls c USING (call_id)
		WHERE u.status <> c.status OR u.compute_cost > c.compute_limit OR u.refund_usd > c.attached_deposit
		   OR u.charged <> u.compute_cost + CASE WHEN u.status = 'completed' THEN u.attached_deposit - u.refund_usd ELSE 0 END
		   OR u.compute_cost <> c.compute_cost")" 0
	# calls released without a charge have no usage row and no cost
	assert_equal "$(coord_psql "SELECT count(*) FROM https_calls c WHERE c.error_message IN
		('Timeout: no result within 61 s', 'worker lost', 'not processed: delivery attempts exhausted')
		AND (EXISTS (SELECT 1 FROM payment_key_usage u WHERE u.call_id = c.call_id) OR c.compute_cost IS NOT NULL)")" 0
	# earnings: balance = total_earned = sum of the https history, and each row matches its usage
	assert_equal "$(coord_psql "SELECT count(*) FROM project_owner_earnings e WHERE e.balance <> e.total_earned
		OR e.balance <> (SELECT coalesce(sum(amount), 0) FROM earnings_history h
			WHERE h.project_owner = e.project_owner AND h.source = 'https')")" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM earnings_history h LEFT JOIN payment_key_usage u USING (call_id)
		WHERE h.source = 'https' AND (u.status IS DISTINCT FROM 'completed' OR h.amount <> u.attached_deposit - u.refund_usd)")" 0
	assert_equal "$(coord_psql "SELECT (SELECT coalesce(sum(balance), 0) FROM project_owner_earnings) =
		(SELECT coalesce(sum(attached_deposit - refund_usd), 0) FROM payment_key_usage WHERE status = 'completed')")" t
	# every call's items are closed
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE call_id IS NOT NULL AND state IN ('queued', 'leased')")" 0
	audit_clean
}

@test "one key: 220 concurrent calls, exactly the 200 the balance covers are admitted; random outcomes; ledger exact" {
	local k f start
	start=$(date +%s)
	# R = 1000 + 100: the balance covers exactly 200 reservations
	k=$(bkey one.near 1 220000)
	f=$BATS_TEST_TMPDIR/calls
	for ((i = 0; i < 220; i++)); do echo "$k dev.near/app 1000 100"; done >"$f"
	monitor_start
	local t0=$SECONDS
	assert_equal "$(launch "$f")" "200:200 402:20 "
	echo "# one key: 220 calls sent in $((SECONDS - t0)) s" >&3
	assert_equal "$(bal one.near 1)" "0|220000"
	assert_equal "$(coord_psql "SELECT count(*) FROM https_calls")" 200
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE call_id IS NOT NULL")" 200
	audit_clean
	storm
	monitor_stop
	sums_match
	echo "# one key: $(($(date +%s) - start)) s; spent $(bal one.near 1)" >&3
}

@test "many keys: 200 concurrent calls over 40 keys and two projects; random outcomes; ledger exact" {
	local f start i j k p
	start=$(date +%s)
	coord_psql "DELETE FROM payment_key_usage; DELETE FROM earnings_history; DELETE FROM project_owner_earnings;
		DELETE FROM execution_results; DELETE FROM queue_items; DELETE FROM jobs;
		DELETE FROM execution_requests; DELETE FROM https_calls; DELETE FROM payment_key_balances"
	coord_redis DEL outlayer:execute >/dev/null
	f=$BATS_TEST_TMPDIR/calls
	: >"$f"
	for ((i = 0; i < 40; i++)); do
		# each key covers 3 of its 5 calls (R = 2000 + 0, 75, 150, 225, 300)
		k=$(bkey "many$i.near" 1 "$((3 * 2300))")
		for ((j = 0; j < 5; j++)); do
			if ((i % 2)); then p=dev2.near/tool; else p=dev.near/app; fi
			echo "$k $p 2000 $((j * 75))" >>"$f"
		done
	done
	shuf -o "$f" "$f"
	monitor_start
	# any three calls of a key fit (3 x 2300), no four do (2000 + 2075 + 2150 + 2225 > 6900)
	assert_equal "$(launch "$f")" "200:120 402:80 "
	assert_equal "$(coord_psql "SELECT count(*) FROM (SELECT owner FROM https_calls GROUP BY owner HAVING count(*) <> 3) x")" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_keys k JOIN payment_key_balances b USING (owner, nonce)
		WHERE b.reserved > k.initial_balance OR b.reserved <> (SELECT sum(reserved_amount) FROM https_calls c
			WHERE (c.owner, c.nonce) = (k.owner, k.nonce))")" 0
	audit_clean
	storm
	monitor_stop
	sums_match
	echo "# many keys: $(($(date +%s) - start)) s" >&3
}
