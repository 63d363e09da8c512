#!/usr/bin/env bats
# Grants (SPEC §3.5): POST /admin/grant-payment-key, GET /admin/grant-keys,
# DELETE /admin/grant-keys/:owner/:nonce, and the operators' bin/grant-payment-key (§6.2) with
# its argument checks before connecting, exit codes (§6.1), --json and the dry run that
# changes nothing.

load ../helpers/coord

setup_file() {
	export NEAR_RPC_URL=off
	coord_start_stack || return 1
	GRANT=$COORD_BUILD_DIR/bin/grant-payment-key
	export GRANT
}

# ------------------------------------------------------------------ helpers

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

admin() {
	req "$1" "$2" -H "Authorization: Bearer $ADMIN_BEARER_TOKEN" "${@:3}"
}

grant() {
	admin POST /admin/grant-payment-key -H 'Content-Type: application/json' --data-binary "$1"
}

# key OWNER NONCE: "initial_balance|is_grant|funded?|deleted?"
key() {
	coord_psql "SELECT initial_balance, is_grant, funded_at IS NOT NULL, deleted_at IS NOT NULL
		FROM payment_keys WHERE owner = '$1' AND nonce = $2" -F'|'
}

# grants OWNER NONCE: "amount:source:initial_balance_after:note" of every grant, oldest first.
grants() {
	coord_psql "SELECT coalesce(string_agg(amount || ':' || source || ':' || initial_balance_after
		|| ':' || coalesce(note, '-'), ',' ORDER BY id), '') FROM payment_key_grants
		WHERE owner = '$1' AND nonce = $2"
}

# snapshot: every row a grant could touch, to compare before and after.
snapshot() {
	coord_psql "SELECT (SELECT string_agg(owner || ':' || nonce || ':' || initial_balance || ':'
		|| is_grant || ':' || coalesce(funded_at::text, '-') || ':' || updated_at
		|| ':' || coalesce(deleted_at::text, '-'), ',' ORDER BY owner, nonce) FROM payment_keys),
		(SELECT count(*) FROM payment_key_grants)"
}

# ------------------------------------------------------------------ POST /admin/grant-payment-key

@test "a grant credits a key without balance, marks it a grant key and records source api" {
	coord_payment_key g1.near 1 >/dev/null
	grant '{"owner":"g1.near","nonce":1,"amount":"0005000","note":"welcome"}'
	assert_equal "$status" 200
	assert_equal "$body" '{"owner":"g1.near","nonce":1,"initial_balance":"5000","is_grant":true}'
	assert_equal "$(key g1.near 1)" "5000|t|t|f"
	assert_equal "$(grants g1.near 1)" "5000:api:5000:welcome"
	# a grant key takes further grants, also once it has spending
	coord_psql "INSERT INTO payment_key_balances (owner, nonce, spent, reserved) VALUES ('g1.near', 1, 4000, 500)"
	grant '{"owner":"g1.near","nonce":1,"amount":"3000"}'
	assert_equal "$body" '{"owner":"g1.near","nonce":1,"initial_balance":"8000","is_grant":true}'
	assert_equal "$(grants g1.near 1)" "5000:api:5000:welcome,3000:api:8000:-"
	assert_equal "$(coord_psql "SELECT spent, reserved FROM payment_key_balances WHERE owner = 'g1.near'" -F'|')" "4000|500"
}

@test "a key with a user-funded balance is refused with 409 and nothing changes" {
	coord_payment_key paid.near 2 700 >/dev/null
	local before
	before=$(snapshot)
	grant '{"owner":"paid.near","nonce":2,"amount":"100"}'
	expect_error 409 payment_key_not_grantable
	assert_equal "$(snapshot)" "$before"
}

@test "an unknown or deleted key is 404 payment_key_not_found" {
	grant '{"owner":"nobody.near","nonce":1,"amount":"100"}'
	expect_error 404 payment_key_not_found
	coord_payment_key dead.near 1 >/dev/null
	coord_psql "UPDATE payment_keys SET deleted_at = now() WHERE owner = 'dead.near'"
	local before
	before=$(snapshot)
	grant '{"owner":"dead.near","nonce":1,"amount":"100"}'
	expect_error 404 payment_key_not_found
	assert_equal "$(snapshot)" "$before"
}

@test "amount: not a money string or zero is 400 invalid_amount; not a string is 422" {
	coord_payment_key amt.near 1 >/dev/null
	local before a
	before=$(snapshot)
	for a in '"abc"' '""' '"-5"' '"1.5"' '" 5"' "\"1$(printf '0%.0s' {1..38})\""; do
		grant "{\"owner\":\"amt.near\",\"nonce\":1,\"amount\":$a}"
		expect_error 400 invalid_amount
		assert_equal "$(jq -r .message <<<"$body")" "Invalid amount format"
	done
	for a in '"0"' '"000"'; do
		grant "{\"owner\":\"amt.near\",\"nonce\":1,\"amount\":$a}"
		expect_error 400 invalid_amount
		assert_equal "$(jq -r .message <<<"$body")" "Amount must be greater than 0"
	done
	grant '{"owner":"amt.near","nonce":1,"amount":5}'
	expect_error 422 invalid_request_body
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"amount","reason":"type"}'
	# the amount rule comes before the key lookup
	grant '{"owner":"nobody.near","nonce":1,"amount":"0"}'
	expect_error 400 invalid_amount
	assert_equal "$(snapshot)" "$before"
}

@test "body shape errors are 422 with the field; auth and media type come first" {
	local before
	before=$(snapshot)
	grant '{"nonce":1,"amount":"1"}'
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"owner","reason":"missing"}'
	grant "{\"owner\":\"$(printf 'o%.0s' {1..65})\",\"nonce\":1,\"amount\":\"1\"}"
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"owner","reason":"range"}'
	grant '{"owner":"a.near","nonce":4294967296,"amount":"1"}'
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"nonce","reason":"range"}'
	grant '{"owner":"a.near","nonce":1}'
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"amount","reason":"missing"}'
	grant "{\"owner\":\"a.near\",\"nonce\":1,\"amount\":\"1\",\"note\":\"$(printf 'n%.0s' {1..1025})\"}"
	expect_error 422 invalid_request_body
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"note","reason":"range"}'
	grant '{"owner":"a.near",'
	expect_error 400 invalid_json
	admin POST /admin/grant-payment-key -H 'Content-Type: text/plain' --data-binary '{}'
	expect_error 415 unsupported_media_type
	req POST /admin/grant-payment-key -H 'Content-Type: application/json' --data-binary '{}'
	expect_error 401 unauthorized
	req POST /admin/grant-payment-key -H 'Authorization: Bearer wrong' \
		-H 'Content-Type: application/json' --data-binary '{}'
	expect_error 403 forbidden
	admin GET /admin/grant-payment-key
	expect_error 405 method_not_allowed
	assert_equal "$(header Allow)" POST
	assert_equal "$(snapshot)" "$before"
}

@test "a note of 1024 characters is kept; a grant whose total would reach 10^38 is 400" {
	coord_payment_key note.near 1 >/dev/null
	local note max before
	note=$(printf 'é%.0s' {1..1024})
	grant "$(jq -nc --arg n "$note" '{owner:"note.near", nonce:1, amount:"1", note:$n}')"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT note FROM payment_key_grants WHERE owner = 'note.near'")" "$note"
	max=$(printf '9%.0s' {1..38})
	coord_psql "UPDATE payment_keys SET initial_balance = $max - 5 WHERE owner = 'note.near'"
	grant '{"owner":"note.near","nonce":1,"amount":"5"}'
	assert_equal "$status" 200
	assert_equal "$(jq -r .initial_balance <<<"$body")" "$max"
	before=$(snapshot)
	grant '{"owner":"note.near","nonce":1,"amount":"1"}'
	expect_error 400 invalid_parameter
	assert_equal "$(snapshot)" "$before"
}

# ------------------------------------------------------------------ grant keys list and delete

@test "GET /admin/grant-keys lists live grant keys newest first with their balances" {
	coord_psql "UPDATE payment_keys SET deleted_at = now() WHERE is_grant"
	req GET /admin/grant-keys
	expect_error 401 unauthorized
	admin GET /admin/grant-keys
	assert_equal "$status" 200
	assert_equal "$body" '[]'
	coord_payment_key old.near 1 >/dev/null
	coord_payment_key new.near 2 >/dev/null
	coord_payment_key user.near 3 50 >/dev/null
	grant '{"owner":"old.near","nonce":1,"amount":"1000"}'
	grant '{"owner":"new.near","nonce":2,"amount":"200"}'
	coord_psql "UPDATE payment_keys SET created_at = '2024-01-01Z', project_ids = '{a/b,c/d}',
			max_per_call = 77 WHERE owner = 'old.near';
		UPDATE payment_keys SET created_at = '2024-06-01 12:00:00.5Z' WHERE owner = 'new.near';
		INSERT INTO payment_key_balances (owner, nonce, spent, reserved)
		VALUES ('old.near', 1, 300, 200), ('new.near', 2, 150, 100)"
	admin GET /admin/grant-keys
	assert_equal "$status" 200
	assert_equal "$body" '[{"owner":"new.near","nonce":2,"initial_balance":"200","spent":"150","reserved":"100","available":"0","project_ids":[],"max_per_call":null,"created_at":"2024-06-01T12:00:00.500Z"},{"owner":"old.near","nonce":1,"initial_balance":"1000","spent":"300","reserved":"200","available":"500","project_ids":["a/b","c/d"],"max_per_call":"77","created_at":"2024-01-01T00:00:00.000Z"}]'
}

@test "DELETE /admin/grant-keys soft-deletes a live grant key only" {
	coord_payment_key gk.near 5 >/dev/null
	coord_payment_key plain.near 5 >/dev/null
	grant '{"owner":"gk.near","nonce":5,"amount":"10"}'
	admin DELETE /admin/grant-keys/gk.near/5
	assert_equal "$status" 204
	assert_equal "$body" ''
	assert_equal "$(key gk.near 5)" "10|t|t|t"
	admin DELETE /admin/grant-keys/gk.near/5
	expect_error 404 payment_key_not_found
	admin DELETE /admin/grant-keys/plain.near/5
	expect_error 404 payment_key_not_found
	assert_equal "$(key plain.near 5)" "0|f|f|f"
	admin DELETE /admin/grant-keys/nobody.near/5
	expect_error 404 payment_key_not_found
	for n in x -1 4294967296; do
		admin DELETE "/admin/grant-keys/gk.near/$n"
		expect_error 400 invalid_parameter
	done
	req DELETE /admin/grant-keys/gk.near/5 -H 'Authorization: Bearer wrong'
	expect_error 403 forbidden
	# a deleted grant key is no longer grantable
	grant '{"owner":"gk.near","nonce":5,"amount":"10"}'
	expect_error 404 payment_key_not_found
}

# ------------------------------------------------------------------ bin/grant-payment-key

@test "cli: grants with source cli and prints the result line; --json prints the API object" {
	coord_payment_key cli.near 9 >/dev/null
	run "$GRANT" --owner cli.near --nonce 9 --amount 0250 --note "from the shell"
	assert_success
	assert_output "granted 250 to cli.near:9; initial_balance=250"
	assert_equal "$(key cli.near 9)" "250|t|t|f"
	assert_equal "$(grants cli.near 9)" "250:cli:250:from the shell"
	run "$GRANT" --owner cli.near --nonce 9 --amount 50 --json
	assert_success
	assert_output '{"owner":"cli.near","nonce":9,"initial_balance":"300","is_grant":true}'
	run "$GRANT" --owner cli.near --nonce 9 --amount 1 -q
	assert_success
	assert_output ''
	assert_equal "$(grants cli.near 9)" "250:cli:250:from the shell,50:cli:300:-,1:cli:301:-"
}

@test "cli: a dry run prints what it would write and changes nothing" {
	coord_payment_key dry.near 1 >/dev/null
	local before
	before=$(snapshot)
	run "$GRANT" --owner dry.near --nonce 1 --amount 700 -n
	assert_success
	assert_output "dry run: granted 700 to dry.near:1; initial_balance=700"
	run "$GRANT" --owner dry.near --nonce 1 --amount 700 --dry-run --json
	assert_success
	assert_output '{"owner":"dry.near","nonce":1,"initial_balance":"700","is_grant":true,"dry_run":true}'
	assert_equal "$(snapshot)" "$before"
	# the real run writes what the dry run announced
	run "$GRANT" --owner dry.near --nonce 1 --amount 700
	assert_output "granted 700 to dry.near:1; initial_balance=700"
	assert_equal "$(key dry.near 1)" "700|t|t|f"
	# a dry run fails exactly as the real run would
	coord_payment_key funded.near 1 10 >/dev/null
	before=$(snapshot)
	run "$GRANT" --owner funded.near --nonce 1 --amount 5 -n
	assert_failure 65
	assert_output "grant-payment-key: key has a user-funded balance; grants are refused"
	run "$GRANT" --owner nobody.near --nonce 1 --amount 5 -n
	assert_failure 65
	assert_output "grant-payment-key: payment key nobody.near:1 not found"
	assert_equal "$(snapshot)" "$before"
}

@test "cli: unknown, deleted and user-funded keys and an overflow exit 65 and change nothing" {
	coord_payment_key cdel.near 1 >/dev/null
	coord_psql "UPDATE payment_keys SET deleted_at = now() WHERE owner = 'cdel.near'"
	coord_payment_key cuser.near 1 99 >/dev/null
	coord_payment_key cbig.near 1 >/dev/null
	coord_psql "UPDATE payment_keys SET initial_balance = $(printf '9%.0s' {1..38}), is_grant = true
		WHERE owner = 'cbig.near'"
	local before
	before=$(snapshot)
	run "$GRANT" --owner cdel.near --nonce 1 --amount 5
	assert_failure 65
	assert_output "grant-payment-key: payment key cdel.near:1 not found"
	run "$GRANT" --owner cuser.near --nonce 1 --amount 5
	assert_failure 65
	assert_output "grant-payment-key: key has a user-funded balance; grants are refused"
	run "$GRANT" --owner cbig.near --nonce 1 --amount 1
	assert_failure 65
	assert_output "grant-payment-key: the balance of cbig.near:1 would reach 10^38"
	assert_equal "$(snapshot)" "$before"
}

@test "cli: arguments are checked before connecting (65 bad value, 64 missing or unknown)" {
	local down="host=$COORD_STACK_TMP/nowhere port=1 user=postgres dbname=none"
	run "$GRANT" -d "$down" --owner a.near --nonce 1 --amount 0
	assert_failure 65
	assert_output "grant-payment-key: --amount 0: Amount must be greater than 0 (a decimal number of 1 to 38 digits)"
	run "$GRANT" -d "$down" --owner a.near --nonce 1 --amount 12x
	assert_failure 65
	assert_output --partial "Invalid amount format"
	run "$GRANT" -d "$down" --owner a.near --nonce 4294967296 --amount 1
	assert_failure 65
	assert_output "grant-payment-key: --nonce must be an integer from 0 to 4294967295"
	run "$GRANT" -d "$down" --owner a.near --nonce -1 --amount 1
	assert_failure 65
	run "$GRANT" -d "$down" --owner '' --nonce 1 --amount 1
	assert_failure 65
	run "$GRANT" -d "$down" --owner "$(printf 'o%.0s' {1..65})" --nonce 1 --amount 1
	assert_failure 65
	assert_output "grant-payment-key: --owner must be 1 to 64 characters of UTF-8"
	run "$GRANT" -d "$down" --owner "$(printf 'é%.0s' {1..64})" --nonce 1 --amount 1 \
		--note "$(printf 'n%.0s' {1..1025})"
	assert_failure 65
	assert_output "grant-payment-key: --note must be at most 1024 characters of UTF-8"
	run "$GRANT" -d "$down" --owner a.near --nonce 1
	assert_failure 64
	assert_line --index 0 "grant-payment-key: --owner, --nonce and --amount are required"
	# the synopsis and where the rest is, not the whole --help text
	assert_line --index 1 --partial "Usage: grant-payment-key --owner OWNER --nonce NONCE --amount AMOUNT"
	assert_line --index 2 --partial "[-n] [--json]"
	assert_line --index 3 "Try 'grant-payment-key --help' for more information."
	assert_equal "${#lines[@]}" 4
	run "$GRANT" -d "$down" --owner a.near --nonce 1 --amount 1 extra
	assert_failure 64
	run "$GRANT" -d "$down" --bogus
	assert_failure 64
	# valid arguments: only now the database is needed
	run "$GRANT" -d "$down" --owner a.near --nonce 1 --amount 1
	assert_failure 69
	assert_output "grant-payment-key: cannot reach the database"
}

@test "cli: --help and --version" {
	run "$GRANT" --help
	assert_success
	assert_line --index 0 --partial "Usage: grant-payment-key --owner OWNER --nonce NONCE --amount AMOUNT"
	assert_output --partial "--dry-run"
	run "$GRANT" -V
	assert_success
	assert_output --regexp '^grant-payment-key \(coordinator\) [0-9]'
}
