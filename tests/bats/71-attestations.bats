#!/usr/bin/env bats
# Attestations (SPEC §3.4.6): POST /attestations (worker token; shape errors 422, attestation
# rules 400 invalid_attestation), the measurement taken from quote bytes 520..567 (RTMR3),
# and GET /attestations/:job_id (newest row by id, 404, 400).  Quotes are random bytes.

load ../helpers/coord

setup_file() {
	# attestations never talk to the chain
	export NEAR_RPC_URL=off
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token attester)
	TOKEN_HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
	export TOKEN TOKEN_HASH
}

# ------------------------------------------------------------------ helpers

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

# new_quote FILE [BYTES]: BYTES (default 600) random bytes in FILE; prints the base64.
new_quote() {
	head -c "${2:-600}" /dev/urandom >"$1"
	base64 -w0 "$1"
}

# measurement FILE: lower-case hex of bytes 520..567 (48 bytes, 96 characters).
measurement() { xxd -p -s 520 -l 48 "$1" | tr -d '\n'; }

# attest JSON: POST /attestations with the worker token.
attest() {
	req POST /attestations -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "$1"
}

H1=$(printf '1%.0s' {1..64})
H2=$(printf '2%.0s' {1..64})
H3=$(printf '3%.0s' {1..64})

# body TASK_ID TYPE [jq filter]: a valid attestation with the shared quote, then FILTER.
body() {
	jq -nc --argjson id "$1" --arg t "$2" --arg q "$Q" --arg h1 "$H1" --arg h2 "$H2" \
		"{task_id:\$id, task_type:\$t, tdx_quote:\$q, input_hash:\$h1, output_hash:\$h2} | ${3:-.}"
}

rows() { coord_psql "SELECT count(*) FROM task_attestations"; }

setup() {
	coord_test_setup
	Q=$(new_quote "$BATS_TEST_TMPDIR/quote.bin")
}

# ------------------------------------------------------------------ storing

@test "a valid quote is stored with its measurement from bytes 520..567 and read back" {
	want=$(measurement "$BATS_TEST_TMPDIR/quote.bin")
	assert_equal "${#want}" 96
	call=$(cat /proc/sys/kernel/random/uuid)
	b=$(jq -nc --arg q "$Q" --arg h1 "$H1" --arg h2 "$H2" --arg h3 "$H3" --arg call "$call" '{
		task_id: 4242, task_type: "execute", tdx_quote: $q, request_id: 17, block_height: 99,
		caller_account_id: "alice.testnet", transaction_hash: "tx-1", call_id: $call,
		payment_key_owner: "bob.testnet", payment_key_nonce: 4294967295,
		repo_url: "https://github.com/owner/app", commit_hash: "abc123", build_target: "wasm32-wasip1",
		wasm_hash: $h3, input_hash: $h1, output_hash: $h2, project_id: "alice.testnet/app",
		secrets_ref: "default", attached_usd: "5", timestamp: 1700000000}')
	attest "$b"
	assert_equal "$status" 201
	assert_equal "$body" ""
	assert_equal "$(header Content-Length)" 0
	run coord_psql "SELECT worker_measurement, token_hash FROM task_attestations WHERE task_id = 4242"
	assert_output "$want|$TOKEN_HASH"
	# the token's last RTMR3 and attestation time
	run coord_psql "SELECT last_seen_rtmr3, last_attestation_at > now() - interval '1 minute' FROM worker_auth_tokens WHERE token_hash = '$TOKEN_HASH'"
	assert_output "$want|t"
	req GET /attestations/4242
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	id=$(coord_psql "SELECT id FROM task_attestations WHERE task_id = 4242")
	assert_equal "$(jq -c 'keys_unsorted' <<<"$body")" \
		'["id","task_id","task_type","tdx_quote","worker_measurement","request_id","caller_account_id","transaction_hash","block_height","call_id","payment_key_owner","payment_key_nonce","repo_url","commit_hash","build_target","wasm_hash","input_hash","output_hash","project_id","secrets_ref","attached_usd","timestamp","created_at"]'
	assert_equal "$(jq -c 'del(.created_at)' <<<"$body")" "$(jq -c --argjson id "$id" --arg m "$want" '{id:$id, task_id, task_type, tdx_quote, worker_measurement:$m, request_id, caller_account_id, transaction_hash, block_height, call_id, payment_key_owner, payment_key_nonce, repo_url, commit_hash, build_target, wasm_hash, input_hash, output_hash, project_id, secrets_ref, attached_usd, timestamp}' <<<"$b")"
	# the quote comes back byte for byte
	assert_equal "$(jq -r .tdx_quote <<<"$body" | base64 -d | xxd -p | tr -d '\n')" "$(xxd -p "$BATS_TEST_TMPDIR/quote.bin" | tr -d '\n')"
	# timestamp is the attested unix time (an integer) and the row's creation time
	assert_equal "$(jq -r '.timestamp | type' <<<"$body")" number
	assert_equal "$(jq -r .created_at <<<"$body")" 2023-11-14T22:13:20.000Z
}

@test "a minimal attestation: optional keys omitted, timestamp defaults to now" {
	before=$(date +%s)
	attest "$(body 5151 compile 'del(.input_hash)')"
	assert_equal "$status" 201
	req GET /attestations/5151
	assert_equal "$status" 200
	assert_equal "$(jq -c 'keys_unsorted' <<<"$body")" \
		'["id","task_id","task_type","tdx_quote","worker_measurement","output_hash","timestamp","created_at"]'
	assert_equal "$(jq -r .task_type <<<"$body")" compile
	assert_equal "$(jq -r .worker_measurement <<<"$body")" "$(measurement "$BATS_TEST_TMPDIR/quote.bin")"
	ts=$(jq -r .timestamp <<<"$body")
	((ts >= before - 1 && ts <= $(date +%s) + 1))
	[[ $(jq -r .created_at <<<"$body") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]]
}

@test "a quote of exactly 568 bytes is enough; its last 48 bytes are the measurement" {
	Q=$(new_quote "$BATS_TEST_TMPDIR/q568.bin" 568)
	attest "$(body 5680 execute)"
	assert_equal "$status" 201
	want=$(tail -c 48 "$BATS_TEST_TMPDIR/q568.bin" | xxd -p | tr -d '\n')
	assert_equal "$(coord_psql "SELECT worker_measurement FROM task_attestations WHERE task_id = 5680")" "$want"
	# a padded quote (601 bytes: "==") is fine too
	Q=$(new_quote "$BATS_TEST_TMPDIR/q601.bin" 601)
	[[ $Q == *== ]]
	attest "$(body 6010 execute)"
	assert_equal "$status" 201
	assert_equal "$(coord_psql "SELECT worker_measurement FROM task_attestations WHERE task_id = 6010")" \
		"$(measurement "$BATS_TEST_TMPDIR/q601.bin")"
}

@test "GET returns the newest row (highest id) of the task, not the latest timestamp" {
	attest "$(body 77 execute ". + {timestamp: 1700000100, output_hash: \"$(printf 'a%.0s' {1..64})\"}")"
	assert_equal "$status" 201
	attest "$(body 77 execute ". + {timestamp: 1700000000, output_hash: \"$(printf 'b%.0s' {1..64})\"}")"
	assert_equal "$status" 201
	assert_equal "$(coord_psql "SELECT count(*) FROM task_attestations WHERE task_id = 77")" 2
	req GET /attestations/77
	assert_equal "$status" 200
	assert_equal "$(jq -r .output_hash <<<"$body")" "$(printf 'b%.0s' {1..64})"
	assert_equal "$(jq -r .id <<<"$body")" "$(coord_psql "SELECT max(id) FROM task_attestations WHERE task_id = 77")"
	assert_equal "$(jq -r .timestamp <<<"$body")" 1700000000
}

@test "start-up attestations (task_id -1) skip the hash rules and are found at /attestations/-1" {
	attest "$(body -1 execute '. + {output_hash: "short", wasm_hash: "x"} | del(.input_hash)')"
	assert_equal "$status" 201
	req GET /attestations/-1
	assert_equal "$status" 200
	assert_equal "$(jq -r .task_id <<<"$body")" -1
	assert_equal "$(jq -r .output_hash <<<"$body")" short
	# topup and compile tasks need no input_hash either
	attest "$(body 8801 topup 'del(.input_hash)')"
	assert_equal "$status" 201
}

@test "GET /attestations: unknown id 404, non-integer id 400" {
	req GET /attestations/999999999
	expect_error 404 attestation_not_found
	req GET /attestations/-9223372036854775808
	expect_error 404 attestation_not_found
	for bad in abc 1.5 1e3 0x10 12a 9223372036854775808 -9223372036854775809 %20 +1x; do
		req GET "/attestations/$bad"
		assert_equal "$bad $status $(err)" "$bad 400 invalid_parameter"
	done
}

# ------------------------------------------------------------------ attestation rules (400)

@test "each attestation rule of §3.4.6 answers 400 invalid_attestation and stores nothing" {
	n=$(rows)
	long() { printf "${2:-x}%.0s" $(seq 1 "$1"); }
	cases=(
		# an execute task with task_id >= 0 needs input_hash
		'del(.input_hash)'
		# every hash present is exactly 64 characters when task_id >= 0
		".input_hash = \"$(long 63 a)\""
		".input_hash = \"$(long 65 a)\""
		".output_hash = \"$(long 63 a)\""
		".output_hash = \"$(long 65 a)\""
		".wasm_hash = \"$(long 63 a)\""
		".wasm_hash = \"$(long 65 a)\""
		'.output_hash = ""'
		# request_id and block_height >= 0
		'.request_id = -1'
		'.block_height = -1'
		# string bounds
		".caller_account_id = \"$(long 65)\""
		".transaction_hash = \"$(long 65)\""
		".payment_key_owner = \"$(long 65)\""
		".repo_url = \"$(long 513)\""
		".commit_hash = \"$(long 65)\""
		".build_target = \"$(long 65)\""
		# call_id is a UUID
		'.call_id = "not-a-uuid"'
		'.call_id = "{00000000-0000-4000-8000-000000000000}"'
		'.call_id = "00000000000040008000000000000000"'
	)
	for c in "${cases[@]}"; do
		attest "$(body 9001 execute "$c")"
		assert_equal "$c -> $status $(err)" "$c -> 400 invalid_attestation"
	done
	assert_equal "$(rows)" "$n"
}

@test "a quote that is not RFC 4648 base64 of at least 568 bytes answers 400 invalid_attestation" {
	n=$(rows)
	Q601=$(new_quote "$BATS_TEST_TMPDIR/q601.bin" 601)
	Q567=$(new_quote "$BATS_TEST_TMPDIR/q567.bin" 567)
	wrapped=$(base64 -w76 "$BATS_TEST_TMPDIR/quote.bin")
	urlsafe=$(tr '+/' '-_' <<<"$Q")
	[[ $urlsafe != "$Q" ]] || urlsafe="${Q:0:10}-_${Q:12}"
	quotes=(
		"$wrapped"                 # line breaks
		"${Q:0:400} ${Q:400}"      # a space
		"$Q"$'\n'                  # a trailing newline
		"${Q601%==}"               # padding removed
		"${Q601%=}"                # half the padding
		"${Q}===="                 # extra padding
		"$urlsafe"                 # the URL-safe alphabet (§5)
		"${Q:0:797}!!!"            # a character outside the alphabet
		"${Q:0:799}"               # not a multiple of 4
		"$Q567"                    # 567 bytes
		""                         # empty
		"${Q:0:400}=${Q:401}"      # padding in the middle
	)
	for q in "${quotes[@]}"; do
		attest "$(jq -nc --arg q "$q" --arg h1 "$H1" --arg h2 "$H2" '{task_id:9002, task_type:"execute", tdx_quote:$q, input_hash:$h1, output_hash:$h2}')"
		assert_equal "${q:0:20}…(${#q}) -> $status $(err)" "${q:0:20}…(${#q}) -> 400 invalid_attestation"
	done
	assert_equal "$(rows)" "$n"
}

@test "values at their bounds are accepted" {
	x64=$(printf 'x%.0s' {1..64})
	x512=$(printf 'x%.0s' {1..512})
	attest "$(body 9003 execute ". + {request_id: 0, block_height: 0, caller_account_id: \"$x64\", transaction_hash: \"$x64\", payment_key_owner: \"$x64\", repo_url: \"$x512\", commit_hash: \"$x64\", build_target: \"$x64\", payment_key_nonce: 0, call_id: \"ABCDEF00-0000-4000-8000-00000000000A\", timestamp: 0}")"
	assert_equal "$status" 201
	# jq 1.6 rounds integers above 2^53: splice the largest i64 in as text
	b=$(body 9004 execute '. + {timestamp: 253402300799}')
	attest "${b%\}},\"request_id\":9223372036854775807}"
	assert_equal "$status" 201
	req GET /attestations/9003
	assert_equal "$(jq -r .call_id <<<"$body")" abcdef00-0000-4000-8000-00000000000a
	assert_equal "$(jq -r .timestamp <<<"$body")" 0
	assert_equal "$(jq -r .created_at <<<"$body")" 1970-01-01T00:00:00.000Z
	assert_equal "$(coord_psql "SELECT request_id FROM task_attestations WHERE task_id = 9004")" 9223372036854775807
	req GET /attestations/9004
	assert_equal "$(jq -r .timestamp <<<"$body")" 253402300799
	[[ $body == *'"request_id":9223372036854775807,'* ]]
}

# ------------------------------------------------------------------ shapes (422), auth

@test "shape errors answer 422 invalid_request_body" {
	n=$(rows)
	check() { # check JQ-FILTER FIELD REASON
		attest "$(body 9005 execute "$1")"
		assert_equal "$1 -> $status $(err) $(jq -r .details.field <<<"$body")" "$1 -> 422 invalid_request_body $2"
		if [[ -n ${3:-} ]]; then
			assert_equal "$1 -> $(jq -r .details.reason <<<"$body")" "$1 -> $3"
		fi
	}
	check 'del(.task_id)' task_id missing
	check 'del(.task_type)' task_type missing
	check 'del(.tdx_quote)' tdx_quote missing
	check 'del(.output_hash)' output_hash missing
	check '.task_id = null' task_id missing
	check '.task_type = "deploy"' task_type enum
	check '.task_id = "1"' task_id type
	check '.task_id = 1.5' task_id type
	check '.tdx_quote = 5' tdx_quote type
	check '.request_id = "1"' request_id type
	check '.timestamp = 253402300800' timestamp range
	check '.timestamp = -1' timestamp range
	check '.payment_key_nonce = 4294967296' payment_key_nonce range
	check '.payment_key_nonce = -1' payment_key_nonce range
	attest "$(body 9005 execute)" # sanity: the base body is fine
	assert_equal "$status" 201
	assert_equal "$(rows)" "$((n + 1))"
	attest '[]'
	expect_error 422 invalid_request_body
	attest '{"task_id":'
	expect_error 400 invalid_json
}

@test "POST /attestations needs a worker token and a JSON content type" {
	req POST /attestations -H 'Content-Type: application/json' --data-binary "$(body 9006 execute)"
	expect_error 401 unauthorized
	req POST /attestations -H "Authorization: Bearer $TOKEN" --data-binary "$(body 9006 execute)"
	expect_error 415 unsupported_media_type
	assert_equal "$(coord_psql "SELECT count(*) FROM task_attestations WHERE task_id = 9006")" 0
}

@test "hash lengths are counted in characters: 64 non-ASCII characters are accepted" {
	local wide
	wide=$(printf 'é%.0s' {1..64})
	before=$(rows)
	attest "$(body 5252 compile ".output_hash = \"$wide\" | del(.input_hash)")"
	assert_equal "$status" 201
	assert_equal "$(rows)" $((before + 1))
	attest "$(body 5253 compile ".output_hash = \"${wide%é}\" | del(.input_hash)")"
	expect_error 400 invalid_attestation
}
