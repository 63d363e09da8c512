#!/usr/bin/env bats
# coord-audit (SPEC §6.2, §4.7): a consistent, populated ledger and queue give no output and
# exit 0; each discrepancy kind of the §6.2 table, planted by SQL, gives exit 1 and its line;
# several findings come in rule, subject (byte order), table order; --json has the same
# findings.  Where a CHECK or UNIQUE constraint would refuse a plant, the test drops it; every
# test starts from the baseline below, with the dropped constraints restored.

load ../helpers/coord

setup_file() {
	export NEAR_RPC_URL=off
	coord_start_stack || return 1
	AUDIT=$COORD_BUILD_DIR/bin/coord-audit
	export AUDIT
}

setup() {
	coord_test_setup
	coord_psql "$RESET"
}

C1=00000000-0000-4000-8000-0000000000c1 # alice: completed, refund 100, earned 400
C2=00000000-0000-4000-8000-0000000000c2 # alice: worker failure, charged 150
C3=00000000-0000-4000-8000-0000000000c3 # alice: timeout, nothing charged
C4=00000000-0000-4000-8000-0000000000c4 # alice: pending, reserves 3500
C5=00000000-0000-4000-8000-0000000000c5 # dave: completed, earned 50

# The ledger after those calls, a grant key (deleted), a key never used, blockchain earnings,
# and queue rows in every state the Q rules look at.
read -r -d '' RESET <<'SQL' || true
TRUNCATE payment_keys, payment_key_balances, payment_key_usage, https_calls,
	project_owner_earnings, earnings_history, project_owner_withdrawals, queue_items, jobs
	RESTART IDENTITY CASCADE;
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'https_calls_pending_reservation_check') THEN
		ALTER TABLE https_calls ADD CONSTRAINT https_calls_pending_reservation_check
			CHECK ((status = 'pending') = (reservation_released_at IS NULL));
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'payment_key_usage_call_id_key') THEN
		ALTER TABLE payment_key_usage ADD CONSTRAINT payment_key_usage_call_id_key UNIQUE (call_id);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'payment_keys_max_per_call_check') THEN
		ALTER TABLE payment_keys ADD CONSTRAINT payment_keys_max_per_call_check CHECK (max_per_call > 0);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'https_calls_actual_cost_check') THEN
		ALTER TABLE https_calls ADD CONSTRAINT https_calls_actual_cost_check CHECK (actual_cost >= 0);
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'earnings_history_refund_usd_check') THEN
		ALTER TABLE earnings_history ADD CONSTRAINT earnings_history_refund_usd_check CHECK (refund_usd >= 0);
	END IF;
END $$;
INSERT INTO payment_keys (owner, nonce, key_hash, initial_balance, is_grant, max_per_call, deleted_at)
VALUES ('alice.near', 1, repeat('a', 64), 10000, false, 5000, NULL),
	('bob.near', 7, repeat('b', 64), 5000, true, NULL, now()),
	('carol.near', 4294967295, repeat('c', 64), 0, false, NULL, NULL),
	('dave.near', 2, repeat('d', 64), 300, false, NULL, NULL);
INSERT INTO payment_key_balances (owner, nonce, spent, reserved, last_used_at)
VALUES ('alice.near', 1, 1550, 3500, now()), ('dave.near', 2, 300, 0, now());
INSERT INTO https_calls (call_id, owner, nonce, project_id, status, is_async, compute_limit,
	attached_deposit, reserved_amount, actual_cost, compute_cost, refund_usd, completed_at,
	reservation_released_at, error_message)
VALUES ('00000000-0000-4000-8000-0000000000c1', 'alice.near', 1, 'dev.near/app', 'completed', true,
		2000, 500, 2500, 1000, 1000, 100, now(), now(), NULL),
	('00000000-0000-4000-8000-0000000000c2', 'alice.near', 1, 'dev.near/app', 'failed', true,
		1000, 200, 1200, 150, 150, 0, now(), now(), 'boom'),
	('00000000-0000-4000-8000-0000000000c3', 'alice.near', 1, 'dev.near/app', 'failed', false,
		1000, 0, 1000, NULL, NULL, NULL, now(), now(), 'Timeout'),
	('00000000-0000-4000-8000-0000000000c4', 'alice.near', 1, 'dev.near/app', 'pending', true,
		3000, 500, 3500, NULL, NULL, NULL, NULL, NULL, NULL),
	('00000000-0000-4000-8000-0000000000c5', 'dave.near', 2, 'dev.near/app', 'completed', true,
		250, 50, 300, 900, 250, 0, now(), now(), NULL);
INSERT INTO payment_key_usage (owner, nonce, call_id, project_id, compute_cost, attached_deposit,
	refund_usd, charged, status)
VALUES ('alice.near', 1, '00000000-0000-4000-8000-0000000000c1', 'dev.near/app', 1000, 500, 100, 1400, 'completed'),
	('alice.near', 1, '00000000-0000-4000-8000-0000000000c2', 'dev.near/app', 150, 200, 0, 150, 'failed'),
	('dave.near', 2, '00000000-0000-4000-8000-0000000000c5', 'dev.near/app', 250, 50, 0, 300, 'completed');
INSERT INTO project_owner_earnings VALUES ('dev.near', 450, 450, now());
INSERT INTO earnings_history (project_owner, project_id, attached_usd, refund_usd, amount, source,
	call_id, request_id, tx_hash)
VALUES ('dev.near', 'dev.near/app', 500, 100, 400, 'https', '00000000-0000-4000-8000-0000000000c1', NULL, NULL),
	('dev.near', 'dev.near/app', 50, 0, 50, 'https', '00000000-0000-4000-8000-0000000000c5', NULL, NULL),
	('dev.near', 'dev.near/app', 1000, 0, 1000, 'blockchain', NULL, 11, 'TX'),
	('chain.near', 'chain.near/x', 70, 20, 50, 'blockchain', NULL, 12, 'TY');
INSERT INTO jobs (job_id, request_id, data_id, job_type, status, lease_id, lease_expires_at)
VALUES (1, 21, 'd21', 'execute', 'in_progress', gen_random_uuid(), now() + interval '5 minutes'),
	(2, 22, 'd22', 'compile', 'pending', NULL, NULL),
	(3, 23, 'd23', 'execute', 'completed', NULL, NULL);
INSERT INTO queue_items (item_id, queue, payload, request_id, data_id, state, job_id,
	lease_id, leased_at, lease_expires_at, closed_at, close_reason)
VALUES (1, 'execute', '{}', 21, 'd21', 'claimed', 1, NULL, NULL, NULL, NULL, NULL),
	(2, 'compile', '{}', 22, 'd22', 'queued', NULL, NULL, NULL, NULL, NULL, NULL),
	(3, 'execute', '{}', 23, 'd23', 'done', 3, NULL, NULL, NULL, now(), 'completed'),
	(4, 'execute', '{}', 24, 'd24', 'leased', NULL, gen_random_uuid(), now(), now() + interval '1 minute', NULL, NULL);
SQL

# lines: the text findings as jq would render the --json findings.
as_lines() { jq -r '.[] | "\(.rule) \(.subject) expected=\(.expected) actual=\(.actual)"'; }

# audit_is EXPECTED-LINES...: exit 1, exactly these lines, and --json with the same findings.
audit_is() {
	local want
	want=$(printf '%s\n' "$@")
	run "$AUDIT"
	assert_equal "$status" 1
	assert_equal "$output" "$want"
	run "$AUDIT" --json
	assert_equal "$status" 1
	assert_equal "$(jq -c 'map(keys_unsorted) | unique' <<<"$output")" '[["rule","subject","expected","actual"]]'
	assert_equal "$(as_lines <<<"$output")" "$want"
}

# ------------------------------------------------------------------ all rules hold

@test "a populated, consistent ledger and queue: no output, exit 0, also with --json" {
	assert_equal "$(coord_psql "SELECT (SELECT count(*) FROM payment_keys), (SELECT count(*) FROM https_calls),
		(SELECT count(*) FROM earnings_history), (SELECT count(*) FROM queue_items)" -F'|')" "4|5|4|4"
	run "$AUDIT"
	assert_success
	assert_output ''
	run "$AUDIT" --json
	assert_success
	assert_output ''
	run "$AUDIT" -v
	assert_success
	assert_output 'coord-audit: 0 findings'
}

@test "the ten rules run in one REPEATABLE READ READ ONLY transaction, in report order" {
	local log=$COORD_STACK_TMP/pg/postgres.log from
	from=$(($(stat -c %s "$log") + 1))
	coord_psql "ALTER ROLE postgres SET log_statement = 'all'"
	run "$AUDIT"
	coord_psql "ALTER ROLE postgres RESET log_statement"
	assert_success
	run bash -c "tail -c +$from '$log' | grep -oE 'statement: (BEGIN[A-Z ]*|COMMIT)|execute audit_[a-z0-9]+' | tr '\n' ' '"
	assert_output "statement: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY execute audit_i1 execute audit_i2 execute audit_i3 execute audit_i4 execute audit_i5 execute audit_i6 execute audit_i7 execute audit_q1 execute audit_q2 execute audit_q3 statement: COMMIT "
}

# ------------------------------------------------------------------ I1 - I4

@test "I1: spent + reserved above initial_balance" {
	coord_psql "UPDATE payment_keys SET initial_balance = 5049 WHERE owner = 'alice.near'"
	audit_is "I1 key=alice.near:1 expected=5050 actual=5049"
}

@test "I1: a balance row without its key counts against an initial_balance of 0" {
	coord_psql "INSERT INTO payment_key_balances (owner, nonce, spent, reserved) VALUES ('eve.near', 3, 0, 0)"
	run "$AUDIT"
	assert_success
	coord_psql "UPDATE payment_key_balances SET reserved = 9 WHERE owner = 'eve.near'"
	audit_is "I1 key=eve.near:3 expected=9 actual=0" "I2 key=eve.near:3 expected=0 actual=9"
}

@test "I2: reserved differs from the pending calls' reservations" {
	coord_psql "UPDATE payment_key_balances SET reserved = 3400 WHERE owner = 'alice.near'"
	audit_is "I2 key=alice.near:1 expected=3500 actual=3400"
	coord_psql "UPDATE payment_key_balances SET reserved = 3500 WHERE owner = 'alice.near';
		INSERT INTO https_calls (call_id, owner, nonce, project_id, is_async, compute_limit,
			attached_deposit, reserved_amount)
		VALUES (gen_random_uuid(), 'carol.near', 4294967295, 'dev.near/app', true, 1000, 0, 1000)"
	# carol has no balance row: her reserved counts as 0 (and I1 sees 0 + 0 <= 0)
	audit_is "I2 key=carol.near:4294967295 expected=1000 actual=0"
}

@test "I3: spent differs from the usage rows' charges" {
	coord_psql "UPDATE payment_key_balances SET spent = 299 WHERE owner = 'dave.near'"
	audit_is "I3 key=dave.near:2 expected=300 actual=299"
}

@test "I4: earnings balance against the https history, and total_earned against balance" {
	coord_psql "UPDATE project_owner_earnings SET balance = 440, total_earned = 440"
	audit_is "I4 owner=dev.near expected=450 actual=440"
	coord_psql "UPDATE project_owner_earnings SET balance = 450, total_earned = 460"
	audit_is "I4 owner=dev.near expected=450 actual=460"
	coord_psql "UPDATE project_owner_earnings SET balance = 449, total_earned = 460"
	audit_is "I4 owner=dev.near expected=450 actual=449" "I4 owner=dev.near expected=449 actual=460"
	# a withdrawal explains total_earned > balance
	coord_psql "UPDATE project_owner_earnings SET balance = 450, total_earned = 460;
		INSERT INTO project_owner_withdrawals (project_owner, amount, status) VALUES ('dev.near', 10, 'done')"
	run "$AUDIT"
	assert_success
}

@test "I4: https history of an owner without an earnings row" {
	coord_psql "INSERT INTO https_calls (call_id, owner, nonce, project_id, status, is_async,
			compute_limit, attached_deposit, reserved_amount, compute_cost, refund_usd,
			completed_at, reservation_released_at)
		VALUES (gen_random_uuid(), 'carol.near', 4294967295, 'new.near/app', 'completed', true,
			0, 0, 0, 0, 0, now(), now());
		INSERT INTO payment_key_usage (owner, nonce, call_id, project_id, compute_cost,
			attached_deposit, refund_usd, charged, status)
		SELECT owner, nonce, call_id, project_id, 0, 0, 0, 0, 'completed' FROM https_calls
		WHERE project_id = 'new.near/app';
		INSERT INTO earnings_history (project_owner, project_id, attached_usd, refund_usd, amount,
			source, call_id)
		SELECT 'new.near', project_id, 0, 0, 0, 'https', call_id FROM https_calls
		WHERE project_id = 'new.near/app'"
	run "$AUDIT"
	assert_success
	coord_psql "UPDATE earnings_history SET attached_usd = 8, amount = 8 WHERE project_owner = 'new.near';
		UPDATE payment_key_usage SET attached_deposit = 8, charged = 8 WHERE project_id = 'new.near/app';
		UPDATE payment_keys SET initial_balance = 8 WHERE owner = 'carol.near';
		INSERT INTO payment_key_balances (owner, nonce, spent) VALUES ('carol.near', 4294967295, 8);
		UPDATE https_calls SET attached_deposit = 8, reserved_amount = 8 WHERE project_id = 'new.near/app'"
	audit_is "I4 owner=new.near expected=8 actual=0"
}

# ------------------------------------------------------------------ I5, I6

@test "I5: a pending call released, and a finished call not released" {
	coord_psql "ALTER TABLE https_calls DROP CONSTRAINT https_calls_pending_reservation_check;
		UPDATE https_calls SET reservation_released_at = now() WHERE call_id = '$C4';
		UPDATE https_calls SET reservation_released_at = NULL WHERE call_id = '$C3'"
	audit_is "I5 call=$C3 expected=released actual=unreleased" \
		"I5 call=$C4 expected=unreleased actual=released"
}

@test "I5: a usage row on a pending call, and two on a finished call" {
	coord_psql "INSERT INTO payment_key_usage (owner, nonce, call_id, project_id, status)
		VALUES ('alice.near', 1, '$C4', 'dev.near/app', 'failed')"
	audit_is "I5 call=$C4 expected=0 actual=1"
	coord_psql "DELETE FROM payment_key_usage WHERE call_id = '$C4';
		ALTER TABLE payment_key_usage DROP CONSTRAINT payment_key_usage_call_id_key;
		INSERT INTO payment_key_usage (owner, nonce, call_id, project_id, status)
		VALUES ('alice.near', 1, '$C2', 'dev.near/app', 'failed')"
	audit_is "I5 call=$C2 expected=1 actual=2"
}

@test "I5: a usage row whose charge does not add up, and one above the compute limit" {
	# completed: charged must be compute_cost + deposit - refund (1000 + 500 - 100)
	coord_psql "UPDATE payment_key_usage SET charged = 1500 WHERE call_id = '$C1';
		UPDATE payment_key_balances SET spent = 1650 WHERE owner = 'alice.near'"
	audit_is "I5 call=$C1 expected=1400 actual=1500"
	# failed: charged must be compute_cost alone (the deposit is returned)
	coord_psql "UPDATE payment_key_usage SET charged = 1400 WHERE call_id = '$C1';
		UPDATE payment_key_usage SET charged = 350 WHERE call_id = '$C2';
		UPDATE payment_key_balances SET spent = 1750 WHERE owner = 'alice.near'"
	audit_is "I5 call=$C2 expected=150 actual=350"
	coord_psql "UPDATE payment_key_usage SET charged = 150 WHERE call_id = '$C2';
		UPDATE payment_key_balances SET spent = 1550 WHERE owner = 'alice.near';
		UPDATE https_calls SET compute_limit = 999, reserved_amount = 1499 WHERE call_id = '$C1'"
	audit_is "I5 call=$C1 expected=999 actual=1000"
}

@test "I6: https earnings without a completed usage row, or with another amount" {
	coord_psql "UPDATE earnings_history SET attached_usd = 501, amount = 401 WHERE call_id = '$C1';
		UPDATE project_owner_earnings SET balance = 451, total_earned = 451"
	audit_is "I6 call=$C1 expected=400 actual=401"
	coord_psql "UPDATE earnings_history SET attached_usd = 500, amount = 400 WHERE call_id = '$C1';
		INSERT INTO earnings_history (project_owner, project_id, attached_usd, refund_usd, amount,
			source, call_id)
		VALUES ('dev.near', 'dev.near/app', 200, 0, 200, 'https', '$C2');
		UPDATE project_owner_earnings SET balance = 650, total_earned = 650"
	audit_is "I6 call=$C2 expected=none actual=200"
}

# ------------------------------------------------------------------ I7

@test "I7: negative amounts, reported per key, call and owner" {
	coord_psql "ALTER TABLE payment_keys DROP CONSTRAINT payment_keys_max_per_call_check;
		ALTER TABLE https_calls DROP CONSTRAINT https_calls_actual_cost_check;
		ALTER TABLE earnings_history DROP CONSTRAINT earnings_history_refund_usd_check;
		UPDATE payment_keys SET max_per_call = -3 WHERE owner = 'dave.near';
		UPDATE https_calls SET actual_cost = -7 WHERE call_id = '$C5';
		UPDATE earnings_history SET refund_usd = -5, amount = 75 WHERE project_owner = 'chain.near'"
	audit_is "I7 call=$C5 expected=0 actual=-7" \
		"I7 key=dave.near:2 expected=0 actual=-3" \
		"I7 owner=chain.near expected=0 actual=-5"
}

# ------------------------------------------------------------------ Q1 - Q3

@test "Q1: a claimed item whose job is finished or missing" {
	coord_psql "UPDATE jobs SET status = 'completed', lease_id = NULL WHERE job_id = 1;
		INSERT INTO queue_items (item_id, queue, payload, request_id, data_id, state)
		VALUES (9, 'execute', '{}', 29, 'd29', 'claimed')"
	audit_is "Q1 item=1 expected=in_progress|pending actual=completed" \
		"Q1 item=9 expected=in_progress|pending actual=none"
}

@test "Q2: an in_progress job without lease expiry" {
	coord_psql "UPDATE jobs SET lease_expires_at = NULL WHERE job_id = 1"
	audit_is "Q2 job=1 expected=lease actual=none"
}

@test "Q3: a pending job without a queued or leased item" {
	coord_psql "UPDATE queue_items SET state = 'dead', closed_at = now(), close_reason = 'max_attempts'
		WHERE item_id = 2"
	audit_is "Q3 job=2 expected=item actual=none"
	# a leased item counts
	coord_psql "UPDATE queue_items SET state = 'leased', closed_at = NULL, close_reason = NULL,
		lease_id = gen_random_uuid(), leased_at = now(), lease_expires_at = now() WHERE item_id = 2"
	run "$AUDIT"
	assert_success
}

# ------------------------------------------------------------------ order, lock, errors

@test "several findings: by rule, then subject in byte order, then table order" {
	coord_psql "UPDATE payment_key_balances SET spent = spent + 1;
		INSERT INTO payment_keys (owner, nonce, key_hash, initial_balance)
		VALUES ('Zoe.near', 10, repeat('e', 64), 0), ('Zoe.near', 9, repeat('e', 64), 0);
		INSERT INTO payment_key_balances (owner, nonce, spent) VALUES ('Zoe.near', 10, 2), ('Zoe.near', 9, 3);
		UPDATE project_owner_earnings SET balance = 1, total_earned = 2;
		UPDATE jobs SET lease_expires_at = NULL WHERE job_id = 1;
		INSERT INTO jobs (job_id, request_id, data_id, job_type, status) VALUES (10, 30, 'd30', 'execute', 'pending')"
	audit_is \
		"I1 key=Zoe.near:10 expected=2 actual=0" \
		"I1 key=Zoe.near:9 expected=3 actual=0" \
		"I1 key=dave.near:2 expected=301 actual=300" \
		"I3 key=Zoe.near:10 expected=0 actual=2" \
		"I3 key=Zoe.near:9 expected=0 actual=3" \
		"I3 key=alice.near:1 expected=1550 actual=1551" \
		"I3 key=dave.near:2 expected=300 actual=301" \
		"I4 owner=dev.near expected=450 actual=1" \
		"I4 owner=dev.near expected=1 actual=2" \
		"Q2 job=1 expected=lease actual=none" \
		"Q3 job=10 expected=item actual=none"
}

@test "another run holding lock 7364007: exit 0 without a word; database down: exit 69" {
	coord_psql "UPDATE payment_key_balances SET spent = 1 WHERE owner = 'dave.near'"
	local holder
	psql -XqAt "$DATABASE_URL" -c "SELECT pg_advisory_lock(7364007)" -c "SELECT pg_sleep(30)" \
		>/dev/null 2>&1 3>&- &
	holder=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(coord_psql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7364007 AND granted") == 1 ]] && break
		sleep 0.1
	done
	run "$AUDIT"
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	assert_success
	assert_output ''
	run "$AUDIT" -d "host=$COORD_STACK_TMP/nowhere port=1 user=postgres dbname=none"
	assert_failure 69
	run "$AUDIT" extra
	assert_failure 64
	run "$AUDIT" --help
	assert_success
	assert_output --partial "Usage: coord-audit [--json]"
}

@test "the cron file runs coord-audit hourly at minute 23, quietly" {
	run grep -E '^23 +\* +\* +\* +\* +coordinator +\[ -x @bindir@/coord-audit \] && @bindir@/coord-audit --quiet$' \
		"$COORD_REPO/cron/coordinator"
	assert_success
}
