#!/usr/bin/env bats
# Payment-key synchronisation (SPEC §3.2.11: /payment-keys/init, /topup/complete with its repeat
# detection and add/set modes, /payment-keys/delete), the public balance and usage views and
# the project-earnings views (§3.4.5).  Amounts are checked in the tables after every change.

load ../helpers/coord

setup_file() {
	export NEAR_RPC_URL=off
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token paykeys)
	export TOKEN
}

# ------------------------------------------------------------------ helpers

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

# expect_field FIELD REASON: a 422 with details {field, reason}.
expect_field() {
	expect_error 422 invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" "$1"
	assert_equal "$(jq -r .details.reason <<<"$body")" "$2"
}

# worker PATH JSON: POST with the worker token.
worker() {
	req POST "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "$2"
}

H_UP=$(printf 'AB%.0s' {1..32})
H_LOW=$(printf 'ab%.0s' {1..32})
H2=$(printf 'c%.0s' {1..64})

# key OWNER NONCE: "initial_balance|key_hash|project_ids|max_per_call|is_grant|funded?|deleted?"
key() {
	coord_psql "SELECT initial_balance, key_hash, project_ids, coalesce(max_per_call::text, 'null'),
		is_grant, funded_at IS NOT NULL, deleted_at IS NOT NULL
		FROM payment_keys WHERE owner = '$1' AND nonce = $2" -F'|'
}

topups() { coord_psql "SELECT count(*) FROM payment_key_topups WHERE owner = '$1' AND nonce = $2"; }

init_body() {
	jq -nc --arg o "$1" --argjson n "$2" --arg h "${3:-$H_UP}" \
		"{owner:\$o, nonce:\$n, key_hash:\$h, project_ids:[\"alice.near/app\",\"bob.near/x\"]} | ${4:-.}"
}

# topup_body OWNER NONCE NEW_BALANCE [AMOUNT|null] [jq filter]
topup_body() {
	jq -nc --arg o "$1" --argjson n "$2" --arg b "$3" --arg a "${4:-null}" --arg h "$H_LOW" \
		"{owner:\$o, nonce:\$n, new_initial_balance:\$b, key_hash:\$h, project_ids:[\"p/q\"],
		  amount:(if \$a == \"null\" then null else \$a end)} | ${5:-.}"
}

# seed_call OWNER NONCE STATUS COMPUTE_COST DEPOSIT [JOB_ID|NULL] [AGE]: a finished call with its
# usage row AGE seconds old; prints the call id.
seed_call() {
	local id
	id=$(cat /proc/sys/kernel/random/uuid)
	coord_psql "INSERT INTO https_calls (call_id, owner, nonce, project_id, status, is_async,
			compute_limit, attached_deposit, reserved_amount, completed_at, reservation_released_at,
			created_at)
		VALUES ('$id', '$1', $2, 'dev.near/app', '$3', true, 10000, $5, 10000 + $5, now(), now(),
			now() - interval '${7:-0} seconds');
		INSERT INTO payment_key_usage (owner, nonce, call_id, job_id, project_id, compute_cost,
			attached_deposit, refund_usd, charged, status, created_at)
		VALUES ('$1', $2, '$id', ${6:-NULL}, 'dev.near/app', $4, $5, 0,
			$4 + CASE WHEN '$3' = 'completed' THEN $5 ELSE 0 END, '$3',
			now() - interval '${7:-0} seconds')"
	printf '%s\n' "$id"
}

# ------------------------------------------------------------------ /payment-keys/init

@test "init creates the key with balance 0, hash lower-cased, projects in order, max_per_call kept" {
	worker /payment-keys/init "$(init_body init.near 7 "$H_UP" '.max_per_call = "0500"')"
	assert_equal "$status" 200
	assert_equal "$body" '{"success":true,"created":true}'
	assert_equal "$(key init.near 7)" "0|$H_LOW|{alice.near/app,bob.near/x}|500|f|f|f"
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_key_balances")" 0
}

@test "init of an existing key (live or deleted) changes nothing and answers created:false" {
	worker /payment-keys/init "$(init_body exist.near 1)"
	assert_equal "$status" 200
	coord_psql "UPDATE payment_keys SET initial_balance = 900 WHERE owner = 'exist.near'"
	worker /payment-keys/init "$(init_body exist.near 1 "$H2" '.project_ids = [] | .max_per_call = "5"')"
	assert_equal "$status" 200
	assert_equal "$body" '{"success":true,"created":false}'
	assert_equal "$(key exist.near 1)" "900|$H_LOW|{alice.near/app,bob.near/x}|null|f|f|f"
	coord_psql "UPDATE payment_keys SET deleted_at = now() WHERE owner = 'exist.near'"
	worker /payment-keys/init "$(init_body exist.near 1 "$H2")"
	assert_equal "$body" '{"success":true,"created":false}'
	assert_equal "$(key exist.near 1)" "900|$H_LOW|{alice.near/app,bob.near/x}|null|f|f|t"
}

@test "init: max_per_call \"0\" and null mean no limit; the largest nonce and 1000 project ids fit" {
	worker /payment-keys/init "$(init_body zero.near 4294967295 "$H2" '.max_per_call = "000"')"
	assert_equal "$status" 200
	assert_equal "$(key zero.near 4294967295)" "0|$H2|{alice.near/app,bob.near/x}|null|f|f|f"
	worker /payment-keys/init "$(init_body many.near 0 "$H2" '.project_ids = [range(1000) | "o/p\(.)"] | .max_per_call = null')"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT cardinality(project_ids), project_ids[1000], max_per_call IS NULL
		FROM payment_keys WHERE owner = 'many.near'" -F'|')" "1000|o/p999|t"
}

@test "init refuses a bad body with 422 and the field, and writes nothing" {
	local before
	before=$(coord_psql "SELECT count(*) FROM payment_keys")
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" 'del(.owner)')"
	expect_field owner missing
	worker /payment-keys/init "$(init_body "$(printf 'o%.0s' {1..65})" 1)"
	expect_field owner range
	worker /payment-keys/init "$(init_body bad.near 4294967296)"
	expect_field nonce range
	worker /payment-keys/init "$(init_body bad.near -1)"
	expect_field nonce range
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" '.nonce = "1"')"
	expect_field nonce type
	worker /payment-keys/init "$(init_body bad.near 1 "${H_UP:1}")"
	expect_field key_hash format
	worker /payment-keys/init "$(init_body bad.near 1 "${H_UP:1}g")"
	expect_field key_hash format
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" 'del(.key_hash)')"
	expect_field key_hash missing
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" '.project_ids = "a/b"')"
	expect_field project_ids type
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" '.project_ids = ["a/b", 3]')"
	expect_field 'project_ids[1]' type
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" '.project_ids = ["a/b", ""]')"
	expect_field 'project_ids[1]' range
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" ".project_ids = [\"$(printf 'p%.0s' {1..129})\"]")"
	expect_field 'project_ids[0]' range
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" '.project_ids = [range(1001) | "o/p"]')"
	expect_field project_ids range
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" '.max_per_call = 5')"
	expect_field max_per_call type
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" '.max_per_call = "-5"')"
	expect_field max_per_call format
	worker /payment-keys/init "$(init_body bad.near 1 "$H_UP" ".max_per_call = \"1$(printf '0%.0s' {1..38})\"")"
	expect_field max_per_call format
	worker /payment-keys/init '{"owner":"bad.near",'
	expect_error 400 invalid_json
	req POST /payment-keys/init -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' \
		--data-binary "$(init_body bad.near 1)"
	expect_error 415 unsupported_media_type
	req POST /payment-keys/init -H 'Content-Type: application/json' --data-binary "$(init_body bad.near 1)"
	expect_error 401 unauthorized
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_keys")" "$before"
}

# ------------------------------------------------------------------ /topup/complete

@test "topup add on a new key: initial_balance = new_initial_balance, funded, recorded once" {
	worker /topup/complete "$(topup_body add.near 3 5000 5000 '.max_per_call = "700"')"
	assert_equal "$status" 200
	assert_equal "$body" '{"success":true}'
	assert_equal "$(key add.near 3)" "5000|$H_LOW|{p/q}|700|f|t|f"
	assert_equal "$(coord_psql "SELECT mode, amount, new_initial_balance FROM payment_key_topups
		WHERE owner = 'add.near'" -F'|')" "add|5000|5000"
}

@test "topup add on an existing key adds amount and overwrites hash, projects, max_per_call" {
	worker /payment-keys/init "$(init_body grow.near 1 "$H2" '.max_per_call = "9"')"
	worker /topup/complete "$(topup_body grow.near 1 300 300)"
	assert_equal "$(key grow.near 1)" "300|$H_LOW|{p/q}|null|f|t|f"
	worker /topup/complete "$(topup_body grow.near 1 1000 700 '.project_ids = ["a/b","c/d"] | .max_per_call = "50"')"
	assert_equal "$status" 200
	# add mode adds the amount to what is stored (300 + 700), whatever new_initial_balance says
	assert_equal "$(key grow.near 1)" "1000|$H_LOW|{a/b,c/d}|50|f|t|f"
	coord_psql "UPDATE payment_keys SET initial_balance = 10 WHERE owner = 'grow.near'"
	worker /topup/complete "$(topup_body grow.near 1 1250 250)"
	assert_equal "$(key grow.near 1)" "260|$H_LOW|{p/q}|null|f|t|f"
	assert_equal "$(topups grow.near 1)" 3
}

@test "a repeated add top-up (same owner, nonce, new balance, amount) changes nothing" {
	worker /topup/complete "$(topup_body rep.near 2 400 400)"
	local updated
	updated=$(coord_psql "SELECT updated_at FROM payment_keys WHERE owner = 'rep.near'")
	worker /topup/complete "$(topup_body rep.near 2 0400 400 '.key_hash = "'"$H2"'" | .project_ids = []')"
	assert_equal "$status" 200
	assert_equal "$body" '{"success":true}'
	assert_equal "$(key rep.near 2)" "400|$H_LOW|{p/q}|null|f|t|f"
	assert_equal "$(coord_psql "SELECT updated_at FROM payment_keys WHERE owner = 'rep.near'")" "$updated"
	assert_equal "$(topups rep.near 2)" 1
	# another amount for the same new balance is a new top-up
	worker /topup/complete "$(topup_body rep.near 2 400 100)"
	assert_equal "$(key rep.near 2)" "500|$H_LOW|{p/q}|null|f|t|f"
	assert_equal "$(topups rep.near 2)" 2
}

@test "ten concurrent identical add top-ups are applied exactly once" {
	local b i
	b=$(topup_body race.near 5 777 777)
	for i in {1..10}; do
		curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
			--data-binary "$b" "$BASE_URL/topup/complete" &
	done
	wait
	assert_equal "$(key race.near 5)" "777|$H_LOW|{p/q}|null|f|t|f"
	assert_equal "$(topups race.near 5)" 1
}

@test "topup set mode overwrites initial_balance, records mode set, and always applies" {
	worker /topup/complete "$(topup_body set.near 1 900)"
	assert_equal "$status" 200
	assert_equal "$(key set.near 1)" "900|$H_LOW|{p/q}|null|f|t|f"
	worker /topup/complete "$(topup_body set.near 1 250)"
	worker /topup/complete "$(topup_body set.near 1 250)"
	assert_equal "$(key set.near 1)" "250|$H_LOW|{p/q}|null|f|t|f"
	assert_equal "$(coord_psql "SELECT string_agg(mode || ':' || coalesce(amount::text, 'null') || ':'
		|| new_initial_balance, ',' ORDER BY id) FROM payment_key_topups WHERE owner = 'set.near'")" \
		"set:null:900,set:null:250,set:null:250"
}

@test "funded_at is set once the balance is positive and never moved afterwards" {
	worker /topup/complete "$(topup_body fund.near 1 0 0)"
	assert_equal "$(key fund.near 1)" "0|$H_LOW|{p/q}|null|f|f|f"
	worker /topup/complete "$(topup_body fund.near 1 0)"
	assert_equal "$(key fund.near 1)" "0|$H_LOW|{p/q}|null|f|f|f"
	coord_psql "UPDATE payment_keys SET funded_at = NULL WHERE owner = 'fund.near'"
	worker /topup/complete "$(topup_body fund.near 1 20 20)"
	assert_equal "$(key fund.near 1)" "20|$H_LOW|{p/q}|null|f|t|f"
	coord_psql "UPDATE payment_keys SET funded_at = '2020-01-01Z' WHERE owner = 'fund.near'"
	worker /topup/complete "$(topup_body fund.near 1 60 40)"
	assert_equal "$(coord_psql "SELECT initial_balance, funded_at = '2020-01-01Z' FROM payment_keys
		WHERE owner = 'fund.near'" -F'|')" "60|t"
}

@test "a top-up revives a deleted key" {
	worker /topup/complete "$(topup_body revive.near 1 10 10)"
	worker /payment-keys/delete '{"owner":"revive.near","nonce":1}'
	assert_equal "$(key revive.near 1)" "10|$H_LOW|{p/q}|null|f|t|t"
	worker /topup/complete "$(topup_body revive.near 1 15 5)"
	assert_equal "$(key revive.near 1)" "15|$H_LOW|{p/q}|null|f|t|f"
}

@test "a top-up whose sum would reach 10^38 is 400 invalid_parameter and changes nothing" {
	local max
	max=$(printf '9%.0s' {1..38})
	worker /topup/complete "$(topup_body big.near 1 "$max" "$max")"
	assert_equal "$status" 200
	assert_equal "$(key big.near 1)" "$max|$H_LOW|{p/q}|null|f|t|f"
	worker /topup/complete "$(topup_body big.near 1 1 1 '.project_ids = []')"
	expect_error 400 invalid_parameter
	assert_equal "$(key big.near 1)" "$max|$H_LOW|{p/q}|null|f|t|f"
	assert_equal "$(topups big.near 1)" 1
	# the refused top-up was not recorded: the same one is still refused, not taken for a repeat
	worker /topup/complete "$(topup_body big.near 1 1 1)"
	expect_error 400 invalid_parameter
}

@test "topup refuses a bad body with 422 and writes nothing" {
	worker /topup/complete "$(topup_body tbad.near 1 10 10 'del(.new_initial_balance)')"
	expect_field new_initial_balance missing
	worker /topup/complete "$(topup_body tbad.near 1 10 10 '.new_initial_balance = 10')"
	expect_field new_initial_balance type
	worker /topup/complete "$(topup_body tbad.near 1 10 1.5)"
	expect_field amount format
	worker /topup/complete "$(topup_body tbad.near 1 10 10 '.amount = 10')"
	expect_field amount type
	worker /topup/complete "$(topup_body tbad.near 1 10 10 'del(.project_ids)')"
	expect_field project_ids missing
	worker /topup/complete "$(topup_body tbad.near 1 10 10 '.key_hash = "xyz"')"
	expect_field key_hash format
	worker /topup/complete "$(topup_body tbad.near 1 10 10 '.max_per_call = "x"')"
	expect_field max_per_call format
	assert_equal "$(coord_psql "SELECT count(*) FROM payment_keys WHERE owner = 'tbad.near'")" 0
	assert_equal "$(topups tbad.near 1)" 0
}

# ------------------------------------------------------------------ /payment-keys/delete

@test "delete soft-deletes a live key once; unknown or already deleted answers deleted:false" {
	worker /topup/complete "$(topup_body del.near 8 30 30)"
	worker /payment-keys/delete '{"owner":"del.near","nonce":8}'
	assert_equal "$status" 200
	assert_equal "$body" '{"success":true,"deleted":true}'
	assert_equal "$(key del.near 8)" "30|$H_LOW|{p/q}|null|f|t|t"
	local at
	at=$(coord_psql "SELECT deleted_at FROM payment_keys WHERE owner = 'del.near'")
	worker /payment-keys/delete '{"owner":"del.near","nonce":8}'
	assert_equal "$body" '{"success":true,"deleted":false}'
	assert_equal "$(coord_psql "SELECT deleted_at FROM payment_keys WHERE owner = 'del.near'")" "$at"
	worker /payment-keys/delete '{"owner":"nobody.near","nonce":8}'
	assert_equal "$body" '{"success":true,"deleted":false}'
	worker /payment-keys/delete '{"owner":"del.near"}'
	expect_field nonce missing
	worker /payment-keys/delete '{"owner":"","nonce":1}'
	expect_field owner range
}

# ------------------------------------------------------------------ public balance

@test "public balance: live key with a balance row; available never below zero" {
	coord_payment_key pub.near 1 1000 >/dev/null
	coord_psql "INSERT INTO payment_key_balances (owner, nonce, spent, reserved, last_used_at)
		VALUES ('pub.near', 1, 300, 450, '2024-05-06 07:08:09.123456Z')"
	req GET /public/payment-keys/pub.near/1/balance
	assert_equal "$status" 200
	assert_equal "$body" '{"owner":"pub.near","nonce":1,"initial_balance":"1000","spent":"300","reserved":"450","available":"250","last_used_at":"2024-05-06T07:08:09.123Z"}'
	# a set top-up may lower initial_balance below spent + reserved (SPEC §4.7 I1)
	coord_psql "UPDATE payment_keys SET initial_balance = 500 WHERE owner = 'pub.near'"
	req GET /public/payment-keys/pub.near/1/balance
	assert_equal "$(jq -c '[.initial_balance, .available]' <<<"$body")" '["500","0"]'
}

@test "public balance: a key without balance row, a missing key and a deleted key" {
	coord_payment_key fresh.near 2 70 >/dev/null
	req GET /public/payment-keys/fresh.near/2/balance
	assert_equal "$body" '{"owner":"fresh.near","nonce":2,"initial_balance":"70","spent":"0","reserved":"0","available":"70","last_used_at":null}'
	req GET /public/payment-keys/ghost.near/0002/balance
	assert_equal "$status" 200
	assert_equal "$body" '{"owner":"ghost.near","nonce":2,"initial_balance":"0","spent":"0","reserved":"0","available":"0","last_used_at":null}'
	coord_payment_key gone.near 3 900 >/dev/null
	coord_psql "INSERT INTO payment_key_balances (owner, nonce, spent, reserved, last_used_at)
		VALUES ('gone.near', 3, 100, 20, '2024-01-01Z');
		UPDATE payment_keys SET deleted_at = now() WHERE owner = 'gone.near'"
	req GET /public/payment-keys/gone.near/3/balance
	assert_equal "$body" '{"owner":"gone.near","nonce":3,"initial_balance":"900","spent":"100","reserved":"20","available":"0","last_used_at":"2024-01-01T00:00:00.000Z"}'
}

@test "public balance: nonce must be a u32" {
	for n in 4294967296 -1 abc 1.0 +1; do
		req GET "/public/payment-keys/pub.near/$n/balance"
		expect_error 400 invalid_parameter
	done
	req GET /public/payment-keys/pub.near/4294967295/balance
	assert_equal "$status" 200
	req POST /public/payment-keys/pub.near/1/balance
	expect_error 405 method_not_allowed
}

# ------------------------------------------------------------------ public usage

@test "usage: newest first, id as a string, total, limit capped at 100, offset echoed" {
	coord_payment_key use.near 1 100000 >/dev/null
	coord_payment_key use.near 2 100000 >/dev/null
	local old mid new
	old=$(seed_call use.near 1 failed 700 50 "" 30)
	mid=$(seed_call use.near 1 completed 1200 300 42 20)
	new=$(seed_call use.near 1 completed 1001 0 43 10)
	seed_call use.near 2 completed 5 5 >/dev/null
	req GET /public/payment-keys/use.near/1/usage
	assert_equal "$status" 200
	assert_equal "$(jq -c '[.total, .offset, .limit, (.usage | length)]' <<<"$body")" '[3,0,20,3]'
	assert_equal "$(jq -r '[.usage[].call_id] | join(",")' <<<"$body")" "$new,$mid,$old"
	assert_equal "$(jq -c '.usage[1] | del(.created_at) | del(.id)' <<<"$body")" \
		"{\"call_id\":\"$mid\",\"job_id\":42,\"project_id\":\"dev.near/app\",\"compute_cost\":\"1200\",\"attached_deposit\":\"300\",\"status\":\"completed\"}"
	assert_equal "$(jq -c '[.usage[2].job_id, (.usage[0].id | type), .usage[0].status]' <<<"$body")" '[null,"string","completed"]'
	assert_equal "$(jq -r '.usage[0].id' <<<"$body")" \
		"$(coord_psql "SELECT id FROM payment_key_usage WHERE call_id = '$new'")"
	[[ $(jq -r '.usage[0].created_at' <<<"$body") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$ ]]
	req GET '/public/payment-keys/use.near/1/usage?limit=1&offset=1'
	assert_equal "$(jq -c '[.total, .offset, .limit, [.usage[].call_id]]' <<<"$body")" "[3,1,1,[\"$mid\"]]"
	req GET '/public/payment-keys/use.near/1/usage?limit=500&offset=7'
	assert_equal "$(jq -c '[.total, .offset, .limit, (.usage | length)]' <<<"$body")" '[3,7,100,0]'
	req GET /public/payment-keys/none.near/1/usage
	assert_equal "$body" '{"usage":[],"total":0,"offset":0,"limit":20}'
}

@test "usage: bad limit, offset or nonce is 400" {
	for q in 'limit=0' 'limit=' 'limit=x' 'offset=-1' 'offset=' 'limit=1.5'; do
		req GET "/public/payment-keys/use.near/1/usage?$q"
		expect_error 400 invalid_parameter
	done
	req GET '/public/payment-keys/use.near/x/usage?limit=0'
	expect_error 400 invalid_parameter
	assert_equal "$(jq -r .message <<<"$body")" "nonce must be an integer from 0 to 4294967295"
}

# ------------------------------------------------------------------ project earnings

@test "project earnings: the owner's row, or zeros and null without one" {
	req GET /public/project-earnings/nobody.near
	assert_equal "$status" 200
	assert_equal "$body" '{"project_owner":"nobody.near","balance":"0","total_earned":"0","updated_at":null}'
	coord_psql "INSERT INTO project_owner_earnings VALUES ('dev.near', 1234, 5678, '2024-02-03 04:05:06.789Z')"
	req GET /public/project-earnings/dev.near
	assert_equal "$body" '{"project_owner":"dev.near","balance":"1234","total_earned":"5678","updated_at":"2024-02-03T04:05:06.789Z"}'
}

@test "earnings history: newest first, source filter, total_count of the filter, null keys omitted" {
	coord_psql "INSERT INTO earnings_history (project_owner, project_id, attached_usd, refund_usd,
			amount, source, tx_hash, caller, request_id, created_at)
		VALUES ('hist.near', 'hist.near/a', 100, 30, 70, 'blockchain', 'TX1', 'user.near', 11,
			'2024-01-01Z');
		INSERT INTO earnings_history (project_owner, project_id, attached_usd, refund_usd, amount,
			source, caller, request_id, call_id, payment_key_owner, payment_key_nonce, created_at)
		VALUES ('hist.near', 'hist.near/b', 500, 0, 500, 'https', 'payer.near', 100000000001,
			'00000000-0000-4000-8000-000000000001', 'payer.near', 4, '2024-01-02Z'),
			('hist.near', 'hist.near/b', 9, 9, 0, 'https', NULL, NULL, NULL, NULL, NULL, '2024-01-03Z'),
			('other.near', 'other.near/z', 1, 0, 1, 'https', NULL, NULL, NULL, NULL, NULL, '2024-01-04Z')"
	req GET /public/project-earnings/hist.near/history
	assert_equal "$status" 200
	assert_equal "$(jq -c '[.project_owner, .total_count, [.earnings[].project_id], [.earnings[].amount]]' <<<"$body")" \
		'["hist.near",3,["hist.near/b","hist.near/b","hist.near/a"],["0","500","70"]]'
	assert_equal "$(jq -c '.earnings[0] | keys_unsorted' <<<"$body")" \
		'["id","project_id","attached_usd","refund_usd","amount","source","created_at"]'
	assert_equal "$(jq -c '.earnings[1] | del(.id)' <<<"$body")" \
		'{"project_id":"hist.near/b","attached_usd":"500","refund_usd":"0","amount":"500","source":"https","caller":"payer.near","request_id":100000000001,"call_id":"00000000-0000-4000-8000-000000000001","payment_key_owner":"payer.near","payment_key_nonce":4,"created_at":"2024-01-02T00:00:00.000Z"}'
	assert_equal "$(jq -c '.earnings[2] | del(.id)' <<<"$body")" \
		'{"project_id":"hist.near/a","attached_usd":"100","refund_usd":"30","amount":"70","source":"blockchain","tx_hash":"TX1","caller":"user.near","request_id":11,"created_at":"2024-01-01T00:00:00.000Z"}'
	assert_equal "$(jq '.earnings[0].id | type' <<<"$body")" '"number"'
	req GET '/public/project-earnings/hist.near/history?source=blockchain'
	assert_equal "$(jq -c '[.total_count, [.earnings[].source]]' <<<"$body")" '[1,["blockchain"]]'
	req GET '/public/project-earnings/hist.near/history?source=https&limit=1&offset=1'
	assert_equal "$(jq -c '[.total_count, [.earnings[].amount]]' <<<"$body")" '[2,["500"]]'
	req GET '/public/project-earnings/hist.near/history?limit=1000'
	assert_equal "$(jq '.earnings | length' <<<"$body")" 3
	for q in 'source=near' 'source=' 'limit=0' 'offset=-2'; do
		req GET "/public/project-earnings/hist.near/history?$q"
		expect_error 400 invalid_parameter
	done
}
