#!/usr/bin/env bats
# TEE challenge and session (SPEC §3.2.7), the session rules of §1.6 as /jobs/claim applies
# them (§3.2.3, REQUIRE_TEE_SESSION=true), the NEAR access-key check of §4.2 against the fake
# NEAR server (tests/helpers/fake-near.py), and tee-challenge-cleanup (§6.2).  Key pairs are
# made here with openssl; signatures are ed25519 over the 32 raw bytes of the challenge.

load ../helpers/coord
load ../helpers/near

OPERATOR=operator.testnet
TTL=3600

setup_file() {
	near_start || return 1
	export OPERATOR_ACCOUNT_ID=$OPERATOR NEAR_RPC_TIMEOUT_SECONDS=1
	export REQUIRE_TEE_SESSION=true TEE_SESSION_TTL_SECONDS=$TTL
	if ! coord_start_stack; then
		near_stop
		return 1
	fi
	TOKEN=$(coord_worker_token tee-worker)
	TOKEN_HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
	OTHER=$(coord_worker_token tee-other)
	OTHER_HASH=$(printf %s "$OTHER" | sha256sum | cut -d' ' -f1)
	KEYS=$COORD_STACK_TMP/keys
	mkdir -p "$KEYS"
	# "reg": an access key of the operator account; "unreg": a key NEAR does not know.
	tee_keygen "$KEYS/reg.pem"
	tee_keygen "$KEYS/unreg.pem"
	near_register "$(tee_pubkey_near "$KEYS/reg.pem")" "$OPERATOR"
	export TOKEN TOKEN_HASH OTHER OTHER_HASH KEYS
}

teardown_file() {
	local rc=0
	coord_stop_stack || rc=$?
	near_stop
	return "$rc"
}

setup() {
	coord_test_setup
	near_reset
}

# ------------------------------------------------------------------ helpers

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

# challenge TOKEN: POST /workers/tee-challenge; sets CH.
challenge() {
	req POST /workers/tee-challenge -H "Authorization: Bearer $1"
	assert_equal "$status" 200
	CH=$(jq -r .challenge <<<"$body")
}

# register TOKEN PUBLIC_KEY CHALLENGE SIGNATURE: POST /workers/register-tee; sets REG_BODY.
register() {
	REG_BODY=$(jq -nc --arg p "$2" --arg c "$3" --arg s "$4" '{public_key:$p, challenge:$c, signature:$s}')
	req POST /workers/register-tee -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' --data-binary "$REG_BODY"
}

# new_session TOKEN PEM: challenge + registration with hex key and signature; prints the id.
new_session() {
	local ch
	req POST /workers/tee-challenge -H "Authorization: Bearer $1"
	ch=$(jq -r .challenge <<<"$body")
	register "$1" "$(tee_pubkey_hex "$2")" "$ch" "$(tee_sign_hex "$2" "$ch")"
	[[ $status == 200 ]] || {
		echo "registration failed: $status $body" >&2
		return 1
	}
	jq -r .session_id <<<"$body"
}

# The exact access-key request of SPEC §4.2 for KEY (ed25519:<base58>).
access_key_body() {
	printf '{"jsonrpc":"2.0","id":"tee-auth","method":"query","params":{"request_type":"view_access_key","finality":"optimistic","account_id":"%s","public_key":"%s"}}' \
		"$OPERATOR" "$1"
}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

challenge_rows() { coord_psql "SELECT count(*) FROM tee_challenges WHERE challenge = '$1'"; }

# create ID: a blockchain request for the claims (SPEC §3.2.1), compile queue.
create() {
	req POST /executions/create -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "$(printf '{"request_id":%s,"data_id":"d-%s","code_source":{"type":"GitHub","repo":"owner/app","commit":"c1"},"resource_limits":{"max_instructions":1000000,"max_memory_mb":64,"max_execution_seconds":10},"input_data":"hello"}' "$1" "$1")"
	assert_equal "$status" 201
}

# claim TOKEN ID CAPS [curl args]: POST /jobs/claim for request ID.
claim() {
	local tok=$1 id=$2 caps=$3
	shift 3
	req POST /jobs/claim -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		--data-binary "$(printf '{"request_id":%s,"data_id":"d-%s","worker_id":"tee-w","code_source":{"type":"GitHub","repo":"https://github.com/owner/app","commit":"c1","build_target":"wasm32-wasip1"},"resource_limits":{"max_instructions":1000000,"max_memory_mb":64,"max_execution_seconds":10},"capabilities":%s}' "$id" "$id" "$caps")" \
		"$@"
}

RFC3339_MS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

# ------------------------------------------------------------------ the key helpers

@test "the key helpers: openssl signatures verify over the raw bytes, base58 round-trips" {
	pub=$(tee_pubkey_hex "$KEYS/reg.pem")
	[[ $pub =~ ^[0-9a-f]{64}$ ]]
	near=$(tee_pubkey_near "$KEYS/reg.pem")
	assert_equal "$(b58decode "${near#ed25519:}")" "$pub"
	assert_equal "$(b58encode 0000ff)" 115Q
	assert_equal "$(b58decode 115Q)" 0000ff
	ch=$(openssl rand -hex 32)
	sig=$(tee_sign_hex "$KEYS/reg.pem" "$ch")
	[[ $sig =~ ^[0-9a-f]{128}$ ]]
	tee_verify_hex "$pub" "$ch" "$sig"
	sig_near=$(tee_sign_near "$KEYS/reg.pem" "$ch")
	assert_equal "$(b58decode "${sig_near#ed25519:}")" "$sig"
	# over the text: a different message, so it does not verify over the bytes
	run tee_verify_hex "$pub" "$ch" "$(tee_sign_text_hex "$KEYS/reg.pem" "$ch")"
	assert_failure
}

# ------------------------------------------------------------------ challenge

@test "tee-challenge answers 64 lower-case hex characters bound to the caller's token" {
	req POST /workers/tee-challenge
	expect_error 401 unauthorized
	challenge "$TOKEN"
	[[ $CH =~ ^[0-9a-f]{64}$ ]]
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" "{\"challenge\":\"$CH\"}"
	run coord_psql "SELECT token_hash, created_at > now() - interval '10 seconds' FROM tee_challenges WHERE challenge = '$CH'"
	assert_output "$TOKEN_HASH|t"
	# no body needed, content type not checked; every challenge is new
	req POST /workers/tee-challenge -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' --data-binary 'whatever'
	assert_equal "$status" 200
	[[ $(jq -r .challenge <<<"$body") =~ ^[0-9a-f]{64}$ ]]
	assert_not_equal "$(jq -r .challenge <<<"$body")" "$CH"
}

# ------------------------------------------------------------------ registration

@test "register-tee with a hex public key and a hex signature opens a session" {
	challenge "$TOKEN"
	pub_hex=$(tee_pubkey_hex "$KEYS/reg.pem")
	pub_near=$(tee_pubkey_near "$KEYS/reg.pem")
	register "$TOKEN" "$pub_hex" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	assert_equal "$status" 200
	assert_equal "$(jq -c 'keys_unsorted' <<<"$body")" '["session_id","expires_at"]'
	sid=$(jq -r .session_id <<<"$body")
	exp=$(jq -r .expires_at <<<"$body")
	[[ $sid =~ $UUID_RE ]]
	[[ $exp =~ $RFC3339_MS ]]
	# the row: bound to the token, key stored in NEAR form, TTL from TEE_SESSION_TTL_SECONDS
	run coord_psql "SELECT token_hash, worker_public_key, is_active,
		to_char(expires_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
		round(extract(epoch FROM expires_at - created_at)),
		abs(extract(epoch FROM expires_at - (now() + interval '$TTL seconds'))) < 10
		FROM worker_tee_sessions WHERE session_id = '$sid'"
	assert_output "$TOKEN_HASH|$pub_near|t|$exp|$TTL|t"
	# the challenge is consumed
	assert_equal "$(challenge_rows "$CH")" 0
	# exactly one NEAR request, byte for byte the access-key check of §4.2 (key in NEAR form)
	assert_equal "$(near_request_count view_access_key)" 1
	assert_equal "$(near_request_bodies view_access_key)" "$(access_key_body "$pub_near")"
	run near_requests view_access_key
	assert_equal "$(jq -r '.method + " " + .path' <<<"$output")" "POST /"
	[[ $(jq -r .content_type <<<"$output") =~ ^application/json ]]
}

@test "register-tee with an ed25519:<base58> public key and signature opens a session" {
	challenge "$TOKEN"
	pub_near=$(tee_pubkey_near "$KEYS/reg.pem")
	register "$TOKEN" "$pub_near" "$CH" "$(tee_sign_near "$KEYS/reg.pem" "$CH")"
	assert_equal "$status" 200
	sid=$(jq -r .session_id <<<"$body")
	[[ $sid =~ $UUID_RE ]]
	run coord_psql "SELECT token_hash, worker_public_key, is_active FROM worker_tee_sessions WHERE session_id = '$sid'"
	assert_output "$TOKEN_HASH|$pub_near|t"
	assert_equal "$(near_request_bodies view_access_key)" "$(access_key_body "$pub_near")"
	# mixed forms are fine too: NEAR key with a hex signature
	challenge "$TOKEN"
	register "$TOKEN" "$pub_near" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	assert_equal "$status" 200
}

@test "a new registration deactivates the token's earlier sessions of the same key only" {
	tee_keygen "$BATS_TEST_TMPDIR/k.pem"
	pub_near=$(tee_pubkey_near "$BATS_TEST_TMPDIR/k.pem")
	near_register "$pub_near"
	s1=$(new_session "$TOKEN" "$BATS_TEST_TMPDIR/k.pem")
	s_other=$(new_session "$OTHER" "$BATS_TEST_TMPDIR/k.pem")
	s_reg=$(new_session "$TOKEN" "$KEYS/reg.pem")
	s2=$(new_session "$TOKEN" "$BATS_TEST_TMPDIR/k.pem")
	assert_equal "$(coord_psql "SELECT is_active FROM worker_tee_sessions WHERE session_id = '$s1'")" f
	assert_equal "$(coord_psql "SELECT is_active FROM worker_tee_sessions WHERE session_id = '$s2'")" t
	assert_equal "$(coord_psql "SELECT is_active FROM worker_tee_sessions WHERE session_id = '$s_other'")" t
	assert_equal "$(coord_psql "SELECT is_active FROM worker_tee_sessions WHERE session_id = '$s_reg'")" t
}

@test "the example exchange: challenge, signature, session (printed to the TAP output)" {
	tee_keygen "$BATS_TEST_TMPDIR/example.pem"
	pub_near=$(tee_pubkey_near "$BATS_TEST_TMPDIR/example.pem")
	near_register "$pub_near" "$OPERATOR"
	req POST /workers/tee-challenge -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 200
	c_body=$body
	CH=$(jq -r .challenge <<<"$body")
	register "$TOKEN" "$pub_near" "$CH" "$(tee_sign_near "$BATS_TEST_TMPDIR/example.pem" "$CH")"
	assert_equal "$status" 200
	{
		echo "# --- example TEE exchange (SPEC §3.2.7) ---"
		echo "# > POST /workers/tee-challenge   (Authorization: Bearer <token>)"
		echo "# < 200 $c_body"
		echo "# > POST /workers/register-tee   Content-Type: application/json"
		echo "#   $REG_BODY"
		echo "#   (fake NEAR saw) $(near_request_bodies view_access_key)"
		echo "# < $status $body"
		echo "#   row: $(coord_psql "SELECT session_id, worker_public_key, is_active, expires_at FROM worker_tee_sessions WHERE session_id = '$(jq -r .session_id <<<"$body")'")"
	} >&3
}

# ------------------------------------------------------------------ challenge errors

@test "a used challenge cannot be replayed" {
	challenge "$TOKEN"
	sig=$(tee_sign_hex "$KEYS/reg.pem" "$CH")
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$sig"
	assert_equal "$status" 200
	n=$(coord_psql "SELECT count(*) FROM worker_tee_sessions")
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$sig"
	expect_error 400 invalid_challenge
	assert_equal "$(coord_psql "SELECT count(*) FROM worker_tee_sessions")" "$n"
	assert_equal "$(near_request_count view_access_key)" 1
}

@test "a challenge issued to another token is refused and stays usable by its owner" {
	challenge "$TOKEN"
	sig=$(tee_sign_hex "$KEYS/reg.pem" "$CH")
	register "$OTHER" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$sig"
	expect_error 400 invalid_challenge
	assert_equal "$(challenge_rows "$CH")" 1
	assert_equal "$(near_request_count)" 0
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$sig"
	assert_equal "$status" 200
}

@test "a challenge that is not 64 lower-case hex is refused and nothing is deleted" {
	challenge "$TOKEN"
	pub=$(tee_pubkey_hex "$KEYS/reg.pem")
	upper=$(tr a-f A-F <<<"$CH")
	for bad in "$upper" "${CH:0:63}" "${CH}0" "" "${CH:0:63}g" "not-a-challenge"; do
		register "$TOKEN" "$pub" "$bad" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
		expect_error 400 invalid_challenge
	done
	assert_equal "$(challenge_rows "$CH")" 1
	# an unknown but well-formed challenge
	register "$TOKEN" "$pub" "$(openssl rand -hex 32)" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	expect_error 400 invalid_challenge
	assert_equal "$(near_request_count)" 0
	register "$TOKEN" "$pub" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	assert_equal "$status" 200
}

@test "a challenge older than 60 s answers challenge_expired and is consumed" {
	challenge "$TOKEN"
	pub=$(tee_pubkey_hex "$KEYS/reg.pem")
	sig=$(tee_sign_hex "$KEYS/reg.pem" "$CH")
	coord_psql "UPDATE tee_challenges SET created_at = now() - interval '61 seconds' WHERE challenge = '$CH'"
	register "$TOKEN" "$pub" "$CH" "$sig"
	expect_error 400 challenge_expired
	assert_equal "$(challenge_rows "$CH")" 0
	register "$TOKEN" "$pub" "$CH" "$sig"
	expect_error 400 invalid_challenge
	assert_equal "$(near_request_count)" 0
	# 50 s old is still fine
	challenge "$TOKEN"
	coord_psql "UPDATE tee_challenges SET created_at = now() - interval '50 seconds' WHERE challenge = '$CH'"
	register "$TOKEN" "$pub" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	assert_equal "$status" 200
}

# ------------------------------------------------------------------ signature errors

@test "a wrong signature answers 403 signature_invalid; the challenge is consumed" {
	tee_keygen "$BATS_TEST_TMPDIR/other.pem"
	challenge "$TOKEN"
	# signed by another key
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_hex "$BATS_TEST_TMPDIR/other.pem" "$CH")"
	expect_error 403 signature_invalid
	assert_equal "$(challenge_rows "$CH")" 0
	# a signature of another challenge
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$(openssl rand -hex 32)")"
	expect_error 403 signature_invalid
	# one flipped bit
	challenge "$TOKEN"
	sig=$(tee_sign_hex "$KEYS/reg.pem" "$CH")
	last=$(printf '%02x' $((0x${sig:126:2} ^ 1)))
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "${sig:0:126}$last"
	expect_error 403 signature_invalid
	assert_equal "$(near_request_count)" 0
}

@test "a signature over the hex text of the challenge instead of its bytes is refused" {
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_text_hex "$KEYS/reg.pem" "$CH")"
	expect_error 403 signature_invalid
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_near "$KEYS/reg.pem")" "$CH" \
		"ed25519:$(b58encode "$(tee_sign_text_hex "$KEYS/reg.pem" "$CH")")"
	expect_error 403 signature_invalid
	assert_equal "$(near_request_count)" 0
}

@test "undecodable keys and signatures, other schemes and lengths answer 403 signature_invalid" {
	pem=$KEYS/reg.pem
	pub=$(tee_pubkey_hex "$pem")
	pub_near=$(tee_pubkey_near "$pem")
	# each case: "public_key signature-kind" where signature-kind is hex|near|<literal>
	check() { # check PUBLIC_KEY SIGNATURE-OR-KIND
		challenge "$TOKEN"
		local sig=$2
		case $2 in
		hex) sig=$(tee_sign_hex "$pem" "$CH") ;;
		near) sig=$(tee_sign_near "$pem" "$CH") ;;
		short-hex) sig=$(tee_sign_hex "$pem" "$CH") && sig=${sig:0:126} ;;
		long-hex) sig=$(tee_sign_hex "$pem" "$CH")00 ;;
		short-near) sig=$(tee_sign_hex "$pem" "$CH") && sig=ed25519:$(b58encode "${sig:0:126}") ;;
		other-scheme) sig=$(tee_sign_hex "$pem" "$CH") && sig=secp256k1:$(b58encode "$sig") ;;
		esac
		register "$TOKEN" "$1" "$CH" "$sig"
		assert_equal "$status $(err)" "403 signature_invalid"
	}
	check "ml-dsa-65:${pub_near#ed25519:}" hex
	check "secp256k1:${pub_near#ed25519:}" hex
	check "${pub:0:62}" hex
	check "${pub}00" hex
	check "ed25519:$(b58encode "${pub:0:62}")" hex
	check "ed25519:$(b58encode "${pub}00")" hex
	check "ed25519:0OIl${pub_near:12}" hex
	check "ed25519:" hex
	check "${pub:0:63}z" hex
	check "$pub" short-hex
	check "$pub" long-hex
	check "$pub" short-near
	check "$pub" other-scheme
	check "$pub" "ml-dsa-65:abc"
	assert_equal "$(near_request_count)" 0
}

@test "register-tee body shape: JSON content type and the three strings are required" {
	req POST /workers/register-tee -H "Authorization: Bearer $TOKEN" --data-binary '{}'
	expect_error 415 unsupported_media_type
	for f in public_key challenge signature; do
		b=$(jq -c --arg f "$f" 'del(.[$f])' <<<'{"public_key":"a","challenge":"b","signature":"c"}')
		req POST /workers/register-tee -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary "$b"
		expect_error 422 invalid_request_body
		assert_equal "$(jq -r .details.field <<<"$body")" "$f"
	done
	req POST /workers/register-tee -H 'Content-Type: application/json' --data-binary '{"public_key":"a","challenge":"b","signature":"c"}'
	expect_error 401 unauthorized
}

# ------------------------------------------------------------------ NEAR outcomes

@test "an unregistered key answers 403 key_not_registered after 3 attempts 3 s apart" {
	challenge "$TOKEN"
	pub_near=$(tee_pubkey_near "$KEYS/unreg.pem")
	t0=$(ms_now)
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/unreg.pem")" "$CH" "$(tee_sign_hex "$KEYS/unreg.pem" "$CH")"
	elapsed=$(($(ms_now) - t0))
	expect_error 403 key_not_registered
	echo "elapsed ${elapsed} ms"
	((elapsed >= 5500 && elapsed < 10000))
	assert_equal "$(near_request_count)" 3
	assert_equal "$(near_request_bodies view_access_key | sort -u)" "$(access_key_body "$pub_near")"
	# attempts about 3 s apart
	run near_requests view_access_key
	gaps=$(jq -s '[range(1; length) as $i | .[$i].time - .[$i - 1].time] | map(. >= 2.8 and . < 4.5) | all' <<<"$output")
	assert_equal "$gaps" true
	assert_equal "$(coord_psql "SELECT count(*) FROM worker_tee_sessions WHERE worker_public_key = '$pub_near'")" 0
}

@test "NEAR failing on every attempt (HTTP 500) answers 502 upstream_error after 3 attempts" {
	near_mode error
	challenge "$TOKEN"
	t0=$(ms_now)
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	elapsed=$(($(ms_now) - t0))
	expect_error 502 upstream_error
	((elapsed >= 5500 && elapsed < 10000))
	assert_equal "$(near_request_count view_access_key)" 3
	assert_equal "$(challenge_rows "$CH")" 0
}

@test "a JSON-RPC error that is not 'unknown key', and a non-JSON answer, are failures (502)" {
	near_mode rpc-error
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	expect_error 502 upstream_error
	assert_equal "$(near_request_count view_access_key)" 3
	near_reset
	near_mode garbage
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	expect_error 502 upstream_error
	assert_equal "$(near_request_count view_access_key)" 3
}

@test "NEAR slower than NEAR_RPC_TIMEOUT_SECONDS answers 502 upstream_error" {
	near_mode slow 4
	challenge "$TOKEN"
	t0=$(ms_now)
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	elapsed=$(($(ms_now) - t0))
	expect_error 502 upstream_error
	echo "elapsed ${elapsed} ms"
	# 3 attempts of at most 1 s each, 3 s apart: about 8-9 s, well below 3 x 4 s + 6 s
	((elapsed >= 7500 && elapsed < 13000))
	assert_equal "$(near_request_count view_access_key)" 3
}

@test "a failure followed by a present key succeeds on the second attempt" {
	near_script error
	challenge "$TOKEN"
	t0=$(ms_now)
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	elapsed=$(($(ms_now) - t0))
	assert_equal "$status" 200
	((elapsed >= 2500 && elapsed < 6000))
	assert_equal "$(near_request_count view_access_key)" 2
}

@test "the last attempt decides: failing, failing, absent → 403; absent, absent, failing → 502" {
	near_script error error
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/unreg.pem")" "$CH" "$(tee_sign_hex "$KEYS/unreg.pem" "$CH")"
	expect_error 403 key_not_registered
	assert_equal "$(near_request_count view_access_key)" 3
	near_reset
	near_script normal normal error
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/unreg.pem")" "$CH" "$(tee_sign_hex "$KEYS/unreg.pem" "$CH")"
	expect_error 502 upstream_error
	assert_equal "$(near_request_count view_access_key)" 3
}

@test "a key of another account is not registered for OPERATOR_ACCOUNT_ID" {
	tee_keygen "$BATS_TEST_TMPDIR/elsewhere.pem"
	near_register "$(tee_pubkey_near "$BATS_TEST_TMPDIR/elsewhere.pem")" someone-else.testnet
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$BATS_TEST_TMPDIR/elsewhere.pem")" "$CH" \
		"$(tee_sign_hex "$BATS_TEST_TMPDIR/elsewhere.pem" "$CH")"
	expect_error 403 key_not_registered
	assert_equal "$(near_request_count view_access_key)" 3
}

# ------------------------------------------------------------------ concurrency

@test "100 concurrent redemptions of one challenge open exactly one session" {
	tee_keygen "$BATS_TEST_TMPDIR/race.pem"
	pub_near=$(tee_pubkey_near "$BATS_TEST_TMPDIR/race.pem")
	near_register "$pub_near"
	challenge "$TOKEN"
	b=$(jq -nc --arg p "$pub_near" --arg c "$CH" --arg s "$(tee_sign_near "$BATS_TEST_TMPDIR/race.pem" "$CH")" \
		'{public_key:$p, challenge:$c, signature:$s}')
	for i in $(seq 1 100); do
		curl -s -o "$BATS_TEST_TMPDIR/body.$i" -w '%{http_code}\n' --max-time 60 -X POST \
			-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
			--data-binary "$b" "$BASE_URL/workers/register-tee" >"$BATS_TEST_TMPDIR/code.$i" 3>&- &
	done
	wait
	codes=$(sort "$BATS_TEST_TMPDIR"/code.* | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
	assert_equal "$codes" "200x1 400x99 "
	for i in $(seq 1 100); do
		if [[ $(cat "$BATS_TEST_TMPDIR/code.$i") == 400 ]]; then
			assert_equal "$(jq -r .error "$BATS_TEST_TMPDIR/body.$i")" invalid_challenge
		fi
	done
	assert_equal "$(coord_psql "SELECT count(*) FROM worker_tee_sessions WHERE worker_public_key = '$pub_near'")" 1
	assert_equal "$(near_request_count view_access_key)" 1
}

# ------------------------------------------------------------------ sessions on /jobs/claim

@test "REQUIRE_TEE_SESSION=true: an execution claim needs a valid session of the caller's token" {
	create 7001
	s=$(new_session "$TOKEN" "$KEYS/reg.pem")
	s_other=$(new_session "$OTHER" "$KEYS/reg.pem")
	# no session
	claim "$TOKEN" 7001 '["execution"]'
	expect_error 401 tee_session_required
	claim "$TOKEN" 7001 '["compilation","execution"]'
	expect_error 401 tee_session_required
	# not a UUID, unknown, another token's
	claim "$TOKEN" 7001 '["execution"]' -H 'X-TEE-Session: not-a-uuid'
	expect_error 401 tee_session_required
	claim "$TOKEN" 7001 '["execution"]' -H "X-TEE-Session: $(cat /proc/sys/kernel/random/uuid)"
	expect_error 401 tee_session_required
	claim "$TOKEN" 7001 '["execution"]' -H "X-TEE-Session: $s_other"
	expect_error 401 tee_session_required
	# the caller's own session (also in upper case: a UUID per §1.3)
	claim "$TOKEN" 7001 '["execution"]' -H "X-TEE-Session: $s"
	assert_equal "$status" 200
	claim "$TOKEN" 7001 '["execution"]' -H "X-TEE-Session: ${s^^}"
	assert_equal "$status" 200
	claim "$OTHER" 7001 '["execution"]' -H "X-TEE-Session: $s_other"
	assert_equal "$status" 200
}

@test "REQUIRE_TEE_SESSION=true: a claim with only compilation needs no session" {
	create 7002
	claim "$TOKEN" 7002 '["compilation"]'
	assert_equal "$status" 200
	assert_equal "$(jq -r '.jobs[0].job_type' <<<"$body")" compile
	# an invalid session is "no session", never an error by itself
	claim "$TOKEN" 7002 '["compilation"]' -H 'X-TEE-Session: garbage'
	assert_equal "$status" 200
	# and capabilities are checked first
	claim "$TOKEN" 7002 '["other"]'
	expect_error 400 invalid_capabilities
}

@test "an expired or deactivated session is no session" {
	create 7003
	s=$(new_session "$TOKEN" "$KEYS/reg.pem")
	claim "$TOKEN" 7003 '["execution"]' -H "X-TEE-Session: $s"
	assert_equal "$status" 200
	coord_psql "UPDATE worker_tee_sessions SET expires_at = now() - interval '1 second',
		created_at = now() - interval '$((TTL + 1)) seconds' WHERE session_id = '$s'"
	claim "$TOKEN" 7003 '["execution"]' -H "X-TEE-Session: $s"
	expect_error 401 tee_session_required
	s2=$(new_session "$TOKEN" "$KEYS/reg.pem")
	coord_psql "UPDATE worker_tee_sessions SET is_active = false WHERE session_id = '$s2'"
	claim "$TOKEN" 7003 '["execution"]' -H "X-TEE-Session: $s2"
	expect_error 401 tee_session_required
}

@test "sessions expire after TEE_SESSION_TTL_SECONDS and tee-challenge-cleanup deactivates them" {
	create 7004
	s_live=$(new_session "$TOKEN" "$KEYS/reg.pem")
	tee_keygen "$BATS_TEST_TMPDIR/k2.pem"
	near_register "$(tee_pubkey_near "$BATS_TEST_TMPDIR/k2.pem")"
	s_exp=$(new_session "$TOKEN" "$BATS_TEST_TMPDIR/k2.pem")
	claim "$TOKEN" 7004 '["execution"]' -H "X-TEE-Session: $s_exp"
	assert_equal "$status" 200
	# TTL seconds later (moved back in SQL instead of waiting): expired
	coord_psql "UPDATE worker_tee_sessions SET created_at = created_at - interval '$TTL seconds',
		expires_at = expires_at - interval '$TTL seconds' WHERE session_id = '$s_exp'"
	claim "$TOKEN" 7004 '["execution"]' -H "X-TEE-Session: $s_exp"
	expect_error 401 tee_session_required
	# inactive sessions whose expiry is more than 7 days past are deleted, others kept
	coord_psql "INSERT INTO worker_tee_sessions (session_id, token_hash, worker_public_key, is_active, created_at, expires_at) VALUES
		('00000000-0000-4000-8000-000000000001', '$TOKEN_HASH', 'ed25519:old', false, now() - interval '9 days', now() - interval '8 days'),
		('00000000-0000-4000-8000-000000000002', '$TOKEN_HASH', 'ed25519:recent', false, now() - interval '7 days', now() - interval '6 days'),
		('00000000-0000-4000-8000-000000000003', '$TOKEN_HASH', 'ed25519:oldactive', true, now() - interval '9 days', now() - interval '8 days')"
	# challenges: older than 1 hour deleted; younger kept (and still answer challenge_expired)
	challenge "$TOKEN"
	ch_old=$CH
	challenge "$TOKEN"
	ch_mid=$CH
	challenge "$TOKEN"
	ch_new=$CH
	coord_psql "UPDATE tee_challenges SET created_at = now() - interval '61 minutes' WHERE challenge = '$ch_old';
		UPDATE tee_challenges SET created_at = now() - interval '59 minutes' WHERE challenge = '$ch_mid'"
	run "$COORD_BUILD_DIR/bin/tee-challenge-cleanup"
	assert_success
	assert_output ""
	assert_equal "$(coord_psql "SELECT is_active FROM worker_tee_sessions WHERE session_id = '$s_exp'")" f
	assert_equal "$(coord_psql "SELECT is_active FROM worker_tee_sessions WHERE session_id = '$s_live'")" t
	assert_equal "$(coord_psql "SELECT count(*) FROM worker_tee_sessions WHERE session_id = '00000000-0000-4000-8000-000000000001'")" 0
	assert_equal "$(coord_psql "SELECT is_active FROM worker_tee_sessions WHERE session_id = '00000000-0000-4000-8000-000000000002'")" f
	# an active one 8 days past expiry is first deactivated (and kept this run, or deleted:
	# the order of the steps is not specified), never left active
	assert_equal "$(coord_psql "SELECT count(*) FROM worker_tee_sessions WHERE session_id = '00000000-0000-4000-8000-000000000003' AND is_active")" 0
	assert_equal "$(challenge_rows "$ch_old")" 0
	assert_equal "$(challenge_rows "$ch_mid")" 1
	assert_equal "$(challenge_rows "$ch_new")" 1
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$ch_mid" "$(tee_sign_hex "$KEYS/reg.pem" "$ch_mid")"
	expect_error 400 challenge_expired
	# the live session still works
	claim "$TOKEN" 7004 '["execution"]' -H "X-TEE-Session: $s_live"
	assert_equal "$status" 200
}

# ------------------------------------------------------------------ not configured (last: restarts)

@test "NEAR off or OPERATOR_ACCOUNT_ID unset: 503 tee_not_configured, after the signature check" {
	saved_url=$NEAR_RPC_URL
	# REQUIRE_TEE_SESSION=true needs both (exit 78), so it is turned off for this test
	export REQUIRE_TEE_SESSION=false NEAR_RPC_URL=off
	coord_restart_web
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_text_hex "$KEYS/reg.pem" "$CH")"
	expect_error 403 signature_invalid
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	expect_error 503 tee_not_configured
	assert_equal "$(challenge_rows "$CH")" 0
	# OPERATOR_ACCOUNT_ID unset, NEAR on
	export NEAR_RPC_URL=$saved_url
	unset OPERATOR_ACCOUNT_ID
	coord_restart_web
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_near "$KEYS/reg.pem")" "$CH" "$(tee_sign_near "$KEYS/reg.pem" "$CH")"
	expect_error 503 tee_not_configured
	assert_equal "$(near_request_count view_access_key)" 0
	# back to the file's configuration
	export OPERATOR_ACCOUNT_ID=$OPERATOR REQUIRE_TEE_SESSION=true
	coord_restart_web
	challenge "$TOKEN"
	register "$TOKEN" "$(tee_pubkey_hex "$KEYS/reg.pem")" "$CH" "$(tee_sign_hex "$KEYS/reg.pem" "$CH")"
	assert_equal "$status" 200
}

@test "register-tee: an empty or over-long public_key or signature is 422 and leaves the challenge" {
	local long
	long=$(printf 'k%.0s' {1..257})
	for pair in "|sig" "key|" "$long|sig" "key|$long"; do
		challenge "$TOKEN"
		register "$TOKEN" "${pair%%|*}" "$CH" "${pair#*|}"
		expect_error 422 invalid_request_body
		assert_equal "$(challenge_rows "$CH")" 1
	done
}
