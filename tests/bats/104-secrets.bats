#!/usr/bin/env bats
# The secrets proxy of secrets.fcgi (SPEC §3.6) against the fake keystore: every route's
# success with the forwarded path, body and bearer token read from the fake's record, the
# 400/415/422 checks that never reach the keystore, the keystore's failures mapped to
# 4xx keystore_rejected / 502 upstream_error within the 10 s timeout, the rate-limit class
# `secrets` (§1.9) with the client IP of §1.7, and 503 when Redis or the keystore
# configuration is missing.

load ../helpers/coord
load ../helpers/keystore

KS_TOKEN='ks-token/with+chars=='
HASH64=0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef

setup_file() {
	keystore_start || return 1
	export KEYSTORE_AUTH_TOKEN=$KS_TOKEN
	coord_start_stack || return 1
}

teardown_file() {
	coord_stop_stack
	keystore_stop
}

setup() {
	coord_test_setup
	keystore_reset
	clear_buckets
}

teardown() { coord_test_teardown; }

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

# every secrets bucket starts empty (the class allows 10 requests a minute)
clear_buckets() {
	local k
	for k in $(coord_redis --scan --pattern 'rl:secrets:*'); do
		coord_redis DEL "$k" >/dev/null
	done
}

# sreq ROUTE JSON [curl args]: POST /secrets/ROUTE with a fresh bucket
sreq() {
	local route=$1 json=$2
	shift 2
	clear_buckets
	req POST "/secrets/$route" -H 'Content-Type: application/json' --data-binary "$json" "$@"
}

# the sha256 hex the fake keystore answers as the pubkey of SEED
pubkey_of() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

# ROUTES: the three keystore routes; body_for ROUTE PUBKEY-BODY ADD-BODY UPDATE-BODY prints
# the body of the three given that ROUTE takes
ROUTES=(pubkey add_generated_secret update_user_secrets)
body_for() {
	case $1 in
	pubkey) printf '%s' "$2" ;;
	add_generated_secret) printf '%s' "$3" ;;
	*) printf '%s' "$4" ;;
	esac
}

# ------------------------------------------------------------------ pubkey

@test "pubkey: each accessor's seed goes to the keystore without a token; the answer echoes it" {
	check() {
		local accessor=$1 seed=$2 echo=$3 extra=${4:-}
		keystore_reset
		sreq pubkey "{\"accessor\":$accessor,\"owner\":\"alice.near\",\"secrets_json\":\"{\\\"K\\\":\\\"v\\\"}\"$extra}"
		assert_equal "$status" 200
		assert_equal "$(header Content-Type)" application/json
		assert_equal "$body" "{\"accessor\":$echo,\"owner\":\"alice.near\",\"pubkey\":\"$(pubkey_of "$seed")\"}"
		assert_equal "$(keystore_request_count)" 1
		run jq -c '[.method, .path, .authorization, .content_type]' <<<"$(keystore_last)"
		assert_output '["POST","/pubkey",null,"application/json"]'
		assert_equal "$(keystore_last | jq -r .body)" "{\"seed\":\"$seed\",\"secrets_json\":\"{\\\"K\\\":\\\"v\\\"}\"}"
	}
	check '{"type":"Repo","repo":"near/app"}' 'github.com/near/app:alice.near' \
		'{"type":"Repo","repo_normalized":"github.com/near/app"}'
	check '{"type":"Repo","repo":"  https://gitlab.com/o/r.git ","branch":"dev"}' \
		'gitlab.com/o/r:alice.near:dev' '{"type":"Repo","repo_normalized":"gitlab.com/o/r","branch":"dev"}'
	check '{"type":"Repo","repo":"git@github.com:o/r.git"}' 'github.com/o/r:alice.near' \
		'{"type":"Repo","repo_normalized":"github.com/o/r"}'
	check '{"type":"Repo","repo":"http://h.example/o/r.git.git"}' 'h.example/o/r.git:alice.near' \
		'{"type":"Repo","repo_normalized":"h.example/o/r.git"}'
	check '{"type":"Repo","repo":"h.example/o/r"}' 'h.example/o/r:alice.near' \
		'{"type":"Repo","repo_normalized":"h.example/o/r"}'
	check "{\"type\":\"WasmHash\",\"hash\":\"$HASH64\"}" "wasm_hash:$HASH64:alice.near" \
		"{\"type\":\"WasmHash\",\"hash\":\"$HASH64\"}"
	check '{"type":"Project","project_id":"bob.near/app"}' 'project:bob.near/app:alice.near' \
		'{"type":"Project","project_id":"bob.near/app"}'
	check '{"type":"System","PaymentKey":{}}' 'system:payment_key:alice.near:7' \
		'{"type":"System","kind":"payment_key","profile":"7"}' ',"profile":"7"'
}

@test "pubkey: bad bodies get 415, 422 or 400 and never reach the keystore" {
	ok_acc='{"type":"Project","project_id":"a/b"}'
	clear_buckets
	req POST /secrets/pubkey -H 'Content-Type: text/plain' --data-binary '{}'
	expect_error 415 unsupported_media_type
	sreq pubkey '[1]'
	expect_error 422 invalid_request_body
	sreq pubkey '{"accessor":'
	expect_error 400 invalid_json
	sreq pubkey "{\"accessor\":$ok_acc,\"owner\":\"o\"}"
	expect_error 422 invalid_request_body
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"secrets_json","reason":"missing"}'
	sreq pubkey '{"accessor":{"type":"Github","repo":"a/b"},"owner":"o","secrets_json":""}'
	expect_error 422 invalid_request_body
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"accessor.type","reason":"enum"}'
	sreq pubkey '{"accessor":{"type":"WasmHash"},"owner":"o","secrets_json":""}'
	expect_error 422 invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" accessor.hash
	sreq pubkey '{"accessor":"Repo","owner":"o","secrets_json":""}'
	expect_error 422 invalid_request_body
	for acc in '{"type":"Repo","repo":""}' '{"type":"Repo","repo":"just-a-name"}' \
		'{"type":"Repo","repo":"a//b"}' '{"type":"Repo","repo":"ftp://h/o/r"}' \
		'{"type":"Repo","repo":"o/.git"}' '{"type":"Repo","repo":"a/b","branch":""}' \
		"{\"type\":\"WasmHash\",\"hash\":\"${HASH64:1}\"}" "{\"type\":\"WasmHash\",\"hash\":\"${HASH64:1}g\"}" \
		'{"type":"Project","project_id":"no-slash"}' '{"type":"System","PaymentKey":{}}'; do
		sreq pubkey "{\"accessor\":$acc,\"owner\":\"o\",\"secrets_json\":\"\"}"
		expect_error 400 invalid_request
	done
	sreq pubkey "{\"accessor\":$ok_acc,\"owner\":\"\",\"secrets_json\":\"\"}"
	expect_error 400 invalid_request
	assert_equal "$(keystore_request_count)" 0
}

# ------------------------------------------------------------------ add_generated_secret

@test "add_generated_secret: seed, encrypted blob and new secrets forwarded with the bearer token" {
	new='[{"name":"B_KEY","generation_type":"hex32"},{"name":"A_KEY","generation_type":"ed25519"}]'
	sreq add_generated_secret "{\"accessor\":{\"type\":\"Repo\",\"repo\":\"o/r\",\"branch\":\"main\"},\"owner\":\"bob.near\",\"profile\":\"p\",\"encrypted_secrets_base64\":\"b2xk\",\"new_secrets\":$new}"
	assert_equal "$status" 200
	blob=$(printf '{"seed": "github.com/o/r:bob.near:main", "keys": ["A_KEY", "B_KEY"]}' | base64 -w0)
	assert_equal "$body" "{\"encrypted_data_base64\":\"$blob\",\"all_keys\":[\"A_KEY\",\"B_KEY\"],\"accessor\":{\"type\":\"Repo\",\"repo_normalized\":\"github.com/o/r\",\"branch\":\"main\"}}"
	last=$(keystore_last)
	assert_equal "$(jq -r .path <<<"$last")" /add_generated_secret
	assert_equal "$(jq -r .authorization <<<"$last")" "Bearer $KS_TOKEN"
	assert_equal "$(jq -r .body <<<"$last")" "{\"seed\":\"github.com/o/r:bob.near:main\",\"encrypted_secrets_base64\":\"b2xk\",\"new_secrets\":$new}"
	# without encrypted_secrets_base64 the keystore gets null
	sreq add_generated_secret '{"accessor":{"type":"System","PaymentKey":{}},"owner":"bob.near","profile":"3","new_secrets":[{"name":"K","generation_type":"x"}]}'
	assert_equal "$status" 200
	assert_equal "$(jq -c .accessor <<<"$body")" '{"type":"System","kind":"payment_key","profile":"3"}'
	assert_equal "$(keystore_last | jq -r .body)" '{"seed":"system:payment_key:bob.near:3","encrypted_secrets_base64":null,"new_secrets":[{"name":"K","generation_type":"x"}]}'
	assert_equal "$(keystore_request_count)" 2
}

@test "add_generated_secret: empty or malformed new_secrets are refused before the keystore" {
	acc='{"type":"Project","project_id":"a/b"}'
	sreq add_generated_secret "{\"accessor\":$acc,\"owner\":\"o\",\"new_secrets\":[]}"
	expect_error 400 invalid_request
	sreq add_generated_secret "{\"accessor\":$acc,\"owner\":\"o\"}"
	expect_error 422 invalid_request_body
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"new_secrets","reason":"missing"}'
	sreq add_generated_secret "{\"accessor\":$acc,\"owner\":\"o\",\"new_secrets\":[{\"name\":\"K\"}]}"
	expect_error 422 invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" 'new_secrets[0].generation_type'
	sreq add_generated_secret "{\"accessor\":$acc,\"owner\":\"o\",\"new_secrets\":{}}"
	expect_error 422 invalid_request_body
	sreq add_generated_secret "{\"accessor\":$acc,\"owner\":\"\",\"new_secrets\":[{\"name\":\"K\",\"generation_type\":\"x\"}]}"
	expect_error 400 invalid_request
	assert_equal "$(keystore_request_count)" 0
}

# ------------------------------------------------------------------ update_user_secrets

UPDATE_BODY='{"owner":"carol.near","profile":"default","accessor":{"type":"WasmHash","hash":"0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"},"encrypted_secrets_base64":"c2VjcmV0",  "signature":"ed25519:sig","public_key":"ed25519:pk","nonce":12,"signed_message":"msg","extra":[1.50, null]}'

@test "update_user_secrets: the body is forwarded byte for byte; the answer comes back verbatim" {
	sreq update_user_secrets "$UPDATE_BODY"
	assert_equal "$status" 200
	assert_equal "$body" '{"success":true,"profile":"default"}'
	last=$(keystore_last)
	assert_equal "$(jq -r .path <<<"$last")" /update_user_secrets
	assert_equal "$(jq -r .authorization <<<"$last")" "Bearer $KS_TOKEN"
	assert_equal "$(jq -r .body <<<"$last")" "$UPDATE_BODY"
	# the keystore's 2xx status is kept
	keystore_status 201
	sreq update_user_secrets "$(jq -c '.new_accessor = {"type":"Repo","repo":"o/r"} | .profile = "caf\u00e9"' <<<"$UPDATE_BODY")"
	assert_equal "$status" 201
	# the fake escapes non-ASCII as \uXXXX, which a re-serialised answer would not keep
	assert_equal "$body" '{"success":true,"profile":"caf\u00e9"}'
	assert_equal "$(keystore_last | jq -r .body | jq -r .profile)" café
}

@test "update_user_secrets: its required members are checked in order (400) before the keystore" {
	check() {
		sreq update_user_secrets "$(jq -c "$1" <<<"$UPDATE_BODY")"
		expect_error 400 invalid_request
		[[ $(jq -r .message <<<"$body") == *"$2"* ]]
	}
	check 'del(.owner) | del(.profile)' owner
	check '.owner = ""' owner
	check '.profile = ""' profile
	check '.profile = 5' profile
	check 'del(.accessor)' accessor
	check '.accessor = {"type":"Repo","repo":""}' accessor
	check '.accessor = {"type":"Project","project_id":"x"}' project_id
	check '.accessor = {"type":"System","PaymentKey":{}}' accessor
	check '.accessor = {"type":"Other"}' accessor
	check '.new_accessor = {"type":"WasmHash","hash":"abc"}' hash
	check '.signature = ""' signature
	check 'del(.public_key)' public_key
	check '.nonce = ""' nonce
	check '.signed_message = null' signed_message
	check '.accessor = {"type":"Repo","repo":""} | .signature = ""' accessor
	sreq update_user_secrets '[]'
	expect_error 422 invalid_request_body
	sreq update_user_secrets '{"owner":"o",}'
	expect_error 400 invalid_json
	clear_buckets
	req POST /secrets/update_user_secrets --data-binary "$UPDATE_BODY"
	expect_error 415 unsupported_media_type
	assert_equal "$(keystore_request_count)" 0
}

# ------------------------------------------------------------------ keystore failures

@test "keystore 4xx answers are passed on as keystore_rejected with their status" {
	keystore_mode reject 403
	sreq pubkey '{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","secrets_json":"x"}'
	expect_error 403 keystore_rejected
	assert_equal "$(jq -c '[.message, .details]' <<<"$body")" '["fake-keystore: rejected",{"error":"fake-keystore: rejected","code":"denied"}]'
	keystore_mode reject-text 404
	sreq update_user_secrets "$UPDATE_BODY"
	expect_error 404 keystore_rejected
	assert_equal "$(jq -r .message <<<"$body")" 'rejected by the fake keystore'
	assert_equal "$(jq 'has("details")' <<<"$body")" false
	keystore_mode reject 422
	sreq add_generated_secret '{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","new_secrets":[{"name":"K","generation_type":"x"}]}'
	expect_error 422 keystore_rejected
}

@test "keystore errors, garbage, incomplete answers and hang-ups are 502 upstream_error" {
	pub='{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","secrets_json":"x"}'
	add='{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","new_secrets":[{"name":"K","generation_type":"x"}]}'
	for mode in error garbage incomplete hangup; do
		keystore_mode "$mode"
		for route in "${ROUTES[@]}"; do
			sreq "$route" "$(body_for "$route" "$pub" "$add" "$UPDATE_BODY")"
			if [[ $mode == incomplete && $route == update_user_secrets ]]; then
				# any JSON object is what this route returns
				assert_equal "$status $body" '200 {"ok":true}'
				continue
			fi
			expect_error 502 upstream_error
			# neither the token nor a secret in the message
			[[ $body != *"$KS_TOKEN"* && $body != *"$HASH64"* ]]
		done
	done
	# a status outside 2xx and 4xx, with a JSON body
	keystore_mode normal
	keystore_status 302
	sreq pubkey "$pub"
	expect_error 502 upstream_error
	assert_equal "$(keystore_request_count)" 13
}

@test "a slow keystore is cut at 10 s with 502 upstream_error" {
	keystore_mode slow 20
	start=$(date +%s%N)
	sreq pubkey '{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","secrets_json":"x"}'
	elapsed=$((($(date +%s%N) - start) / 1000000))
	expect_error 502 upstream_error
	[[ $(jq -r .message <<<"$body") == *[Tt]ime* ]]
	((elapsed >= 9500 && elapsed < 13000))
}

@test "no Authorization header reaches the keystore while KEYSTORE_AUTH_TOKEN is unset" {
	unset KEYSTORE_AUTH_TOKEN
	coord_restart_web
	sreq add_generated_secret '{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","new_secrets":[{"name":"K","generation_type":"x"}]}'
	st1=$status
	sreq update_user_secrets "$UPDATE_BODY"
	st2=$status
	export KEYSTORE_AUTH_TOKEN=$KS_TOKEN
	coord_restart_web
	assert_equal "$st1 $st2" "200 200"
	run jq -c '[.path, .authorization]' <<<"$(keystore_requests)"
	assert_output $'["/add_generated_secret",null]\n["/update_user_secrets",null]'
}

# ------------------------------------------------------------------ rate limit and client IP

@test "the 11th secrets request in a minute is 429 with Retry-After; XFF from an untrusted peer is ignored" {
	pub='{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","secrets_json":"x"}'
	for i in $(seq 1 10); do
		# each from a different claimed client: the peer is not a trusted proxy
		req POST /secrets/pubkey -H 'Content-Type: application/json' -H "X-Forwarded-For: 203.0.113.$i" \
			--data-binary "$pub"
		assert_equal "$status" 200
		assert_equal "$(header RateLimit-Policy)" '"secrets";q=10;w=60'
		[[ $(header RateLimit) =~ ^\"secrets\"\;r=$((10 - i))\;t=([1-5]?[0-9]|60)$ ]]
	done
	req POST /secrets/pubkey -H 'Content-Type: application/json' -H 'X-Forwarded-For: 198.51.100.1' \
		--data-binary "$pub"
	expect_error 429 rate_limited
	assert_equal "$(jq -r .message <<<"$body")" 'Rate limit exceeded: 10 requests/minute allowed. Try again later.'
	retry=$(header Retry-After)
	((retry >= 40 && retry <= 60))
	assert_equal "$(header RateLimit-Policy)" '"secrets";q=10;w=60'
	assert_equal "$(header RateLimit)" "\"secrets\";r=0;t=$retry"
	assert_equal "$(keystore_request_count)" 10
	assert_equal "$(coord_redis GET rl:secrets:127.0.0.1)" 11
	assert_equal "$(coord_redis --scan --pattern 'rl:secrets:*')" rl:secrets:127.0.0.1
	# another client (another loopback source address) has its own bucket
	req POST /secrets/pubkey --interface 127.0.0.2 -H 'Content-Type: application/json' --data-binary "$pub"
	assert_equal "$status" 200
	[[ $(header RateLimit) == '"secrets";r=9;t='* ]]
	# the window ends with the key's expiry
	coord_redis PEXPIRE rl:secrets:127.0.0.1 1500 >/dev/null
	req POST /secrets/pubkey -H 'Content-Type: application/json' --data-binary "$pub"
	expect_error 429 rate_limited
	assert_equal "$(header Retry-After)" 2
	sleep 1.6
	req POST /secrets/pubkey -H 'Content-Type: application/json' --data-binary "$pub"
	assert_equal "$status" 200
	# bad bodies count too
	assert_equal "$(coord_redis GET rl:secrets:127.0.0.1)" 1
}

@test "Redis down: every secrets route is 503 unavailable without rate-limit headers" {
	coord_stop_redis
	for route in pubkey add_generated_secret update_user_secrets; do
		req POST "/secrets/$route" -H 'Content-Type: application/json' --data-binary "$UPDATE_BODY"
		s[${#s[@]}]="$status $(err) $(header RateLimit || echo none) $(header Retry-After || echo none)"
	done
	coord_start_redis
	for x in "${s[@]}"; do
		assert_equal "$x" '503 unavailable none none'
	done
	assert_equal "$(keystore_request_count)" 0
}

# ------------------------------------------------------------------ configuration (last: restarts)

@test "X-Forwarded-For from a trusted proxy (TRUSTED_PROXIES) selects the bucket" {
	export TRUSTED_PROXIES='10.0.0.0/8, 127.0.0.1'
	coord_restart_web
	pub='{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","secrets_json":"x"}'
	for i in $(seq 1 10); do
		req POST /secrets/pubkey -H 'Content-Type: application/json' \
			-H 'X-Forwarded-For: 198.51.100.9, 10.1.2.3' --data-binary "$pub"
		assert_equal "$status" 200
	done
	req POST /secrets/pubkey -H 'Content-Type: application/json' \
		-H 'X-Forwarded-For: 198.51.100.9' --data-binary "$pub"
	st_full=$status
	req POST /secrets/pubkey -H 'Content-Type: application/json' \
		-H 'X-Forwarded-For: 198.51.100.10' --data-binary "$pub"
	st_other=$status rl_other=$(header RateLimit)
	# the proxy's own requests count as the proxy's
	req POST /secrets/pubkey -H 'Content-Type: application/json' --data-binary "$pub"
	st_proxy=$status
	# an untrusted peer's header is still ignored
	req POST /secrets/pubkey --interface 127.0.0.2 -H 'Content-Type: application/json' \
		-H 'X-Forwarded-For: 198.51.100.9' --data-binary "$pub"
	st_untrusted=$status
	keys=$(coord_redis --scan --pattern 'rl:secrets:*' | sort | tr '\n' ' ')
	unset TRUSTED_PROXIES
	coord_restart_web
	assert_equal "$st_full" 429
	assert_equal "$st_other" 200
	[[ $rl_other == '"secrets";r=9;t='* ]]
	assert_equal "$st_proxy $st_untrusted" "200 200"
	assert_equal "$keys" "rl:secrets:127.0.0.1 rl:secrets:127.0.0.2 rl:secrets:198.51.100.10 rl:secrets:198.51.100.9 "
	assert_equal "$(coord_redis GET rl:secrets:198.51.100.9)" 11
}

@test "keystore down is 502; KEYSTORE_BASE_URL unset is 503 keystore_not_configured after the body checks" {
	saved=$KEYSTORE_BASE_URL
	# a port nothing listens on
	export KEYSTORE_BASE_URL=http://127.0.0.1:1
	coord_restart_web
	start=$(date +%s%N)
	sreq pubkey '{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","secrets_json":"x"}'
	elapsed=$((($(date +%s%N) - start) / 1000000))
	st_down=$status err_down=$(err)
	unset KEYSTORE_BASE_URL
	coord_restart_web
	sreq pubkey '{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","secrets_json":"x"}'
	r1="$status $(err)"
	sreq add_generated_secret '{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","new_secrets":[{"name":"K","generation_type":"x"}]}'
	r2="$status $(err)"
	sreq update_user_secrets "$UPDATE_BODY"
	r3="$status $(err)"
	# body checks come first
	sreq add_generated_secret '{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","new_secrets":[]}'
	r4="$status $(err)"
	sreq pubkey '{"accessor":{"type":"Nope"},"owner":"o","secrets_json":"x"}'
	r5="$status $(err)"
	sreq update_user_secrets '{"owner":"o"}'
	r6="$status $(err)"
	export KEYSTORE_BASE_URL=$saved
	coord_restart_web
	assert_equal "$st_down $err_down" "502 upstream_error"
	((elapsed < 5000))
	assert_equal "$r1" "503 keystore_not_configured"
	assert_equal "$r2" "503 keystore_not_configured"
	assert_equal "$r3" "503 keystore_not_configured"
	assert_equal "$r4" "400 invalid_request"
	assert_equal "$r5" "422 invalid_request_body"
	assert_equal "$r6" "400 invalid_request"
	assert_equal "$(keystore_request_count)" 0
	# back to the fake
	sreq pubkey '{"accessor":{"type":"Project","project_id":"a/b"},"owner":"o","secrets_json":"x"}'
	assert_equal "$status" 200
}

@test "no log line carries the keystore token, a secret, a blob or a body, in any keystore mode" {
	# distinctive values in every member a request can carry
	secret_json='{"API_KEY":"sk-live-never-logged-1"}'
	blob=$(printf 'blob-never-logged-2' | base64 -w0)
	pub="{\"accessor\":{\"type\":\"Project\",\"project_id\":\"a/b\"},\"owner\":\"o\",\"secrets_json\":$(jq -Rn --arg s "$secret_json" '$s')}"
	add="{\"accessor\":{\"type\":\"Project\",\"project_id\":\"a/b\"},\"owner\":\"o\",\"encrypted_secrets_base64\":\"$blob\",\"new_secrets\":[{\"name\":\"NAME_NEVER_LOGGED_3\",\"generation_type\":\"hex32\"}]}"
	upd=${UPDATE_BODY/c2VjcmV0/$blob}
	local mode route
	for mode in normal error garbage incomplete hangup reject; do
		keystore_mode "$mode"
		for route in "${ROUTES[@]}"; do
			sreq "$route" "$(body_for "$route" "$pub" "$add" "$upd")"
			[[ $status =~ ^(200|4[0-9][0-9]|502)$ ]] || fail "$mode $route: status $status"
		done
	done
	assert_equal "$(keystore_request_count)" 18
	log=$(coord_fcgi_log_since_test)
	# the programs did log these requests (one line each), so the check below looks at them
	assert_equal "$(grep -c '"path":"/secrets/' <<<"$log")" 18
	for s in "$KS_TOKEN" sk-live-never-logged-1 "$blob" blob-never-logged-2 NAME_NEVER_LOGGED_3 \
		ed25519:sig signed_message; do
		if grep -F -- "$s" <<<"$log" >&2; then
			fail "a log line carries '$s'"
		fi
	done
}
