#!/usr/bin/env bats
# Public storage of public.fcgi (SPEC §3.4.4): GET /public/storage/get in json (base64) and
# raw modes, POST /public/storage/batch, GET /public/projects/storage; plaintext @worker rows
# only (encrypted rows answer "encrypted", other accounts' rows are never visible); exact
# bytes (all 256 byte values, empty, 1 MiB, the largest value the 10 MiB set body can carry
# and a set one byte over it); any-origin CORS (§1.8); the rate-limit class public_storage
# (§1.9), which fails open without limit headers when Redis is down.

load ../helpers/coord
load ../helpers/storage

setup_file() {
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token public-storage-worker)
	ALL256=$("$STORAGE_PYTHON" -c 'print(bytes(range(256)).hex())')
	export TOKEN ALL256
}

setup() {
	coord_test_setup
	coord_redis DEL rl:public_storage:127.0.0.1 >/dev/null
}

teardown() { coord_test_teardown; }

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

key_hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

# put PROJECT KEY VALUE_HEX [IS_ENCRYPTED] [ACCOUNT]: the worker's write of a public value
put() {
	storage_set "$1" "${5:-@worker}" "$(key_hash "$2")" "$(printf %s "$2" | xxd -p | tr -d '\n')" \
		"$3" "${4:-false}"
}

# pget QUERY [curl args]
pget() {
	local q=$1
	shift
	req GET "/public/storage/get?$q" "$@"
}

# the hex of $body's base64 "value" (VALUE_PATH, default .value)
value_hex() { jq -r "${1:-.value}" <<<"$body" | base64 -d | xxd -p | tr -d '\n'; }

raw_hex() { xxd -p "$body_file" | tr -d '\n'; }

batch() { req POST /public/storage/batch -H 'Content-Type: application/json' --data-binary "$1" "${@:2}"; }

# ------------------------------------------------------------------ get

@test "get: every byte value and the empty value, in json (base64) and raw modes" {
	put pp-bytes all "$ALL256"
	put pp-bytes empty ""
	pget 'project_uuid=pp-bytes&key=all'
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jq -c keys_unsorted <<<"$body")" '["exists","value"]'
	assert_equal "$(jq -r .value <<<"$body")" "$(printf %s "$ALL256" | xxd -r -p | base64 -w0)"
	assert_equal "$(value_hex)" "$ALL256"
	pget 'project_uuid=pp-bytes&key=all&format=json'
	assert_equal "$(value_hex)" "$ALL256"
	pget 'project_uuid=pp-bytes&key=all&format=raw'
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/octet-stream
	assert_equal "$(header Content-Length)" 256
	assert_equal "$(raw_hex)" "$ALL256"
	pget 'project_uuid=pp-bytes&key=empty'
	assert_equal "$body" '{"exists":true,"value":""}'
	pget 'project_uuid=pp-bytes&key=empty&format=raw'
	assert_equal "$status" 200
	assert_equal "$(header Content-Length)" 0
	assert_equal "$body" ""
}

@test "get: keys are hashed as the bytes the query carries, up to 1024 bytes" {
	key=$'a b/é?&=\x01'
	put pp-keys "$key" 6869
	pget 'project_uuid=pp-keys&key=a%20b%2F%C3%A9%3F%26%3D%01&format=raw'
	assert_equal "$status $body" "200 hi"
	k1024=$(printf 'k%.0s' {1..1024})
	put pp-keys "$k1024" 4142
	pget "project_uuid=pp-keys&key=$k1024&format=raw"
	assert_equal "$status $body" "200 AB"
	pget "project_uuid=pp-keys&key=${k1024}k"
	expect_error 400 invalid_parameter
	# 1024 bytes, not characters: 512 two-byte characters pass, 513 do not
	pget "project_uuid=pp-keys&key=$(printf '%%C3%%A9%.0s' {1..512})"
	assert_equal "$body" '{"exists":false}'
	pget "project_uuid=pp-keys&key=$(printf '%%C3%%A9%.0s' {1..513})"
	expect_error 400 invalid_parameter
}

@test "get: absent, encrypted and other accounts' rows" {
	put pp-vis plain 01
	put pp-vis secret 02 true
	# a plaintext row of a user account under the key's hash: private, never public
	put pp-vis mine 03 false alice.near
	pget 'project_uuid=pp-vis&key=absent'
	assert_equal "$status $body" '200 {"exists":false}'
	pget 'project_uuid=pp-vis&key=absent&format=raw'
	expect_error 404 storage_key_not_found
	for f in json raw; do
		pget "project_uuid=pp-vis&key=secret&format=$f"
		expect_error 403 encrypted_value
		[[ $body != *'"value"'* ]]
		pget "project_uuid=pp-vis&key=mine&format=$f"
		if [[ $f == json ]]; then
			assert_equal "$status $body" '200 {"exists":false}'
		else
			expect_error 404 storage_key_not_found
		fi
	done
	# another project's row under the same key is not this project's
	pget 'project_uuid=pp-other&key=plain'
	assert_equal "$body" '{"exists":false}'
	# once the worker makes it encrypted it is no longer readable
	put pp-vis plain 01 true
	pget 'project_uuid=pp-vis&key=plain'
	expect_error 403 encrypted_value
}

@test "get: bad parameters are 400" {
	for q in 'key=k' 'project_uuid=p' 'project_uuid=&key=k' 'project_uuid=p&key=' \
		'project_uuid=p&key=k&format=xml' 'project_uuid=p&key=k&format=RAW' 'project_uuid=p&key=%zz'; do
		pget "$q"
		assert_equal "$status" 400
		[[ $(err) == invalid_parameter ]]
	done
	req POST '/public/storage/get?project_uuid=p&key=k' -H 'Content-Type: application/json' --data-binary '{}'
	expect_error 405 method_not_allowed
}

@test "get: 1 MiB round-trips exactly in both modes" {
	f=$BATS_TEST_TMPDIR/mib.json
	sum=$("$STORAGE_PYTHON" - "$f" "$(key_hash m)" <<'EOF'
import hashlib, json, os, sys
v = os.urandom(1048576)
with open(sys.argv[1], "w") as f:
    json.dump({"project_uuid": "pp-mib", "wasm_hash": "w", "account_id": "@worker",
               "key_hash": sys.argv[2], "encrypted_key": [109], "encrypted_value": list(v),
               "is_encrypted": False}, f, separators=(",", ":"))
print(hashlib.sha256(v).hexdigest())
EOF
	)
	sreq /storage/set "@$f"
	assert_equal "$status" 200
	pget 'project_uuid=pp-mib&key=m&format=raw'
	assert_equal "$(header Content-Length)" 1048576
	assert_equal "$(sha256sum <"$body_file" | cut -d' ' -f1)" "$sum"
	pget 'project_uuid=pp-mib&key=m'
	assert_equal "$(jq -r .value "$body_file" | base64 -d | sha256sum | cut -d' ' -f1)" "$sum"
	batch '{"project_uuid":"pp-mib","keys":["m"]}'
	assert_equal "$(jq -r .results.m.value "$body_file" | base64 -d | sha256sum | cut -d' ' -f1)" "$sum"
}

@test "get: the largest value a 10 MiB set body carries round-trips; one byte over stores nothing" {
	f=$BATS_TEST_TMPDIR/cap.json
	run "$STORAGE_PYTHON" - "$f" 10485760 "$(key_hash big)" <<'EOF'
import hashlib, sys
path, cap, kh = sys.argv[1], int(sys.argv[2]), sys.argv[3]
prefix = ('{"project_uuid":"pp-cap","wasm_hash":"w","account_id":"@worker","key_hash":"%s",'
          '"is_encrypted":false,"encrypted_key":[98,105,103],"encrypted_value":[' % kh).encode()
room = cap - len(prefix) - 2          # for "]}"
n = (room + 1) // 2                   # single digits and commas: the most values that fit
vals = [i % 10 for i in range(n)]
body = prefix + ",".join(map(str, vals)).encode() + b"]}"
body += b" " * (cap - len(body))      # JSON whitespace up to the cap
assert len(body) == cap, len(body)
open(path, "wb").write(body)
print("%d %s" % (n, hashlib.sha256(bytes(vals)).hexdigest()))
EOF
	assert_success
	want=$output
	sreq /storage/set "@$f" --max-time 120
	assert_equal "$status" 200
	pget 'project_uuid=pp-cap&key=big&format=raw' --max-time 120
	assert_equal "$status" 200
	assert_equal "$(stat -c %s "$body_file") $(sha256sum <"$body_file" | cut -d' ' -f1)" "$want"
	pget 'project_uuid=pp-cap&key=big' --max-time 120
	v=$BATS_TEST_TMPDIR/v
	jq -r .value "$body_file" | base64 -d >"$v"
	assert_equal "$(stat -c %s "$v") $(sha256sum <"$v" | cut -d' ' -f1)" "$want"
	# one byte over the cap, under another key: 413, nothing readable
	g=$BATS_TEST_TMPDIR/over.json
	sed "s/$(key_hash big)/$(key_hash over)/" "$f" >"$g"
	printf ' ' >>"$g"
	[[ $(stat -c %s "$g") == 10485761 ]]
	sreq /storage/set "@$g" --max-time 120
	expect_error 413 payload_too_large
	pget 'project_uuid=pp-cap&key=over'
	assert_equal "$body" '{"exists":false}'
}

# ------------------------------------------------------------------ batch

@test "batch: plaintext, encrypted, absent and private keys; duplicates answered once" {
	put pp-batch a "$ALL256"
	put pp-batch e 00 true
	put pp-batch empty ""
	put pp-batch p 07 false bob.near
	batch '{"project_uuid":"pp-batch","keys":["a","e","x","a","empty","p","é"]}'
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jq -c '.results | keys_unsorted' <<<"$body")" '["a","e","x","empty","p","é"]'
	assert_equal "$(value_hex .results.a.value)" "$ALL256"
	assert_equal "$(jq -c 'del(.results.a.value) | .results' <<<"$body")" \
		'{"a":{"exists":true},"e":{"exists":true,"error":"encrypted"},"x":{"exists":false},"empty":{"exists":true,"value":""},"p":{"exists":false},"é":{"exists":false}}'
	# 50 distinct keys (with duplicates) pass, 51 do not
	keys=$(jq -nc '[range(50) | "k\(.)"] + ["k0", "k1"]')
	batch "{\"project_uuid\":\"pp-batch\",\"keys\":$keys}"
	assert_equal "$status" 200
	assert_equal "$(jq '.results | length' <<<"$body")" 50
	keys=$(jq -nc '[range(51) | "k\(.)"]')
	batch "{\"project_uuid\":\"pp-batch\",\"keys\":$keys}"
	expect_error 400 invalid_request
}

@test "batch: bad bodies are 400, 415 or 422" {
	k1024=$(printf 'k%.0s' {1..1024})
	batch "{\"project_uuid\":\"pp-b\",\"keys\":[\"$k1024\"]}"
	assert_equal "$status" 200
	batch "{\"project_uuid\":\"pp-b\",\"keys\":[\"${k1024}k\"]}"
	expect_error 400 invalid_request
	batch '{"project_uuid":"pp-b","keys":[]}'
	expect_error 400 invalid_request
	batch '{"project_uuid":"pp-b","keys":["a",1]}'
	expect_error 422 invalid_request_body
	batch '{"project_uuid":"pp-b","keys":"a"}'
	expect_error 422 invalid_request_body
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"keys","reason":"type"}'
	batch '{"keys":["a"]}'
	expect_error 422 invalid_request_body
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"project_uuid","reason":"missing"}'
	batch '{"project_uuid":"pp-b","keys":["a"'
	expect_error 400 invalid_json
	req POST /public/storage/batch -H 'Content-Type: text/plain' --data-binary '{"project_uuid":"p","keys":["a"]}'
	expect_error 415 unsupported_media_type
}

# ------------------------------------------------------------------ usage

@test "project usage sums the project's usage rows; zeros when none" {
	req GET '/public/projects/storage?project_uuid=pp-usage'
	assert_equal "$status $body" '200 {"project_uuid":"pp-usage","total_bytes":0,"key_count":0}'
	put pp-usage k1 0102 # 2 key bytes + 2 value bytes
	put pp-usage k22 "$ALL256" true alice.near
	put pp-usage-2 k 01
	req GET '/public/projects/storage?project_uuid=pp-usage'
	assert_equal "$body" '{"project_uuid":"pp-usage","total_bytes":263,"key_count":2}'
	assert_equal "$(coord_psql "SELECT sum(total_bytes), sum(key_count) FROM storage_usage WHERE project_uuid = 'pp-usage'")" "263|2"
	req GET '/public/projects/storage'
	expect_error 400 invalid_parameter
	req GET '/public/projects/storage?project_uuid='
	expect_error 400 invalid_parameter
}

# ------------------------------------------------------------------ CORS

@test "any origin may read public storage; the usage route keeps the restricted list" {
	put pp-cors k 01
	pget 'project_uuid=pp-cors&key=k' -H 'Origin: https://anywhere.example'
	assert_equal "$status" 200
	assert_equal "$(header Access-Control-Allow-Origin)" '*'
	assert_equal "$(header Vary)" Origin
	assert_equal "$(header Access-Control-Expose-Headers)" 'X-Request-ID, Retry-After, RateLimit, RateLimit-Policy'
	run header Access-Control-Allow-Credentials
	assert_failure
	batch '{"project_uuid":"pp-cors","keys":["k"]}' -H 'Origin: http://a.b:81'
	assert_equal "$(header Access-Control-Allow-Origin)" '*'
	for path in /public/storage/get /public/storage/batch; do
		req OPTIONS "$path" -H 'Origin: https://anywhere.example' -H 'Access-Control-Request-Method: POST'
		assert_equal "$status" 204
		assert_equal "$(header Access-Control-Allow-Origin)" '*'
		assert_equal "$(header Access-Control-Allow-Methods)" 'GET, POST, OPTIONS'
		assert_equal "$(header Access-Control-Allow-Headers)" 'content-type, x-request-id'
		assert_equal "$(header Access-Control-Max-Age)" 600
	done
	# the preflight is answered before the rate limit
	assert_equal "$(coord_redis GET rl:public_storage:127.0.0.1)" 2
	req GET '/public/projects/storage?project_uuid=pp-cors' -H 'Origin: https://anywhere.example'
	assert_equal "$status" 200
	run header Access-Control-Allow-Origin
	assert_failure
}

# ------------------------------------------------------------------ rate limit

@test "the public_storage class: 100 a minute per client IP, shared by get and batch" {
	pget 'project_uuid=pp-rl&key=k'
	assert_equal "$(header RateLimit-Policy)" '"public_storage";q=100;w=60'
	[[ $(header RateLimit) =~ ^\"public_storage\"\;r=99\;t=(59|60)$ ]]
	# 97 more requests counted (moved in Redis rather than sent)
	coord_redis INCRBY rl:public_storage:127.0.0.1 97 >/dev/null
	batch '{"project_uuid":"pp-rl","keys":["k"]}'
	assert_equal "$status" 200
	[[ $(header RateLimit) == '"public_storage";r=1;t='* ]]
	pget 'project_uuid=pp-rl&key=k&format=raw'
	assert_equal "$status" 404
	[[ $(header RateLimit) == '"public_storage";r=0;t='* ]]
	pget 'project_uuid=pp-rl&key=k'
	expect_error 429 rate_limited
	assert_equal "$(jq -r .message <<<"$body")" 'Rate limit exceeded: 100 requests/minute allowed. Try again later.'
	retry=$(header Retry-After)
	((retry >= 1 && retry <= 60))
	batch '{"project_uuid":"pp-rl","keys":["k"]}'
	expect_error 429 rate_limited
	# another client
	pget 'project_uuid=pp-rl&key=k' --interface 127.0.0.2
	assert_equal "$status" 200
	[[ $(header RateLimit) == '"public_storage";r=99;t='* ]]
	# the usage route is not in the class
	req GET '/public/projects/storage?project_uuid=pp-rl'
	assert_equal "$status" 200
	run header RateLimit
	assert_failure
	coord_redis DEL rl:public_storage:127.0.0.2 >/dev/null
}

@test "Redis down: public storage is served without rate-limit headers" {
	put pp-noredis k 0a0b
	coord_stop_redis
	pget 'project_uuid=pp-noredis&key=k&format=raw'
	s1="$status $(raw_hex) $(header RateLimit || echo none) $(header RateLimit-Policy || echo none)"
	batch '{"project_uuid":"pp-noredis","keys":["k"]}'
	s2="$status $(jq -c .results <<<"$body") $(header RateLimit || echo none)"
	coord_start_redis
	assert_equal "$s1" '200 0a0b none none'
	assert_equal "$s2" '200 {"k":{"exists":true,"value":"Cgs="}} none'
}
