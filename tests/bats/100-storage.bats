#!/usr/bin/env bats
# Project storage of worker.fcgi (SPEC §3.2.10): every route's success and errors, exact
# byte values (all 256 byte values, empty, 1 MiB, the 10 MiB body cap and one byte over),
# usage recomputed after every write, and the namespaces of projects and accounts.

load ../helpers/coord
load ../helpers/storage

setup_file() {
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token storage-worker)
	ALL256=$("$STORAGE_PYTHON" -c 'print(bytes(range(256)).hex())')
	export TOKEN ALL256
}

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

# addr PROJECT ACCOUNT KEY_HASH: the members that name one row
addr() { printf '"project_uuid":"%s","account_id":"%s","key_hash":"%s"' "$1" "$2" "$3"; }

rows_of() { coord_psql "SELECT count(*) FROM storage_keys WHERE project_uuid = '$1'"; }

# ------------------------------------------------------------------ set and get

@test "set then get returns every byte value exactly, with wasm_hash and is_encrypted" {
	rev=$("$STORAGE_PYTHON" -c 'print(bytes(reversed(range(256))).hex())')
	storage_set p-bytes acc.near k1 "$ALL256" "$rev" true wasm-a
	assert_equal "$body" ""
	assert_equal "$(header Content-Length)" 0
	run row_hex p-bytes acc.near k1
	assert_output "$ALL256|$rev|wasm-a|t"
	sreq /storage/get "{$(addr p-bytes acc.near k1)}"
	assert_equal "$status" 200
	assert_equal "$(jq -c 'keys_unsorted' <<<"$body")" '["exists","encrypted_key","encrypted_value","wasm_hash","is_encrypted"]'
	assert_equal "$(jq -c '[.exists, .wasm_hash, .is_encrypted]' <<<"$body")" '[true,"wasm-a",true]'
	assert_equal "$(body_hex encrypted_key)" "$ALL256"
	assert_equal "$(body_hex encrypted_value)" "$rev"
	# the arrays are compact JSON integers
	[[ $body == *'"encrypted_key":[0,1,2,3,'*',254,255],'* ]]
	# is_encrypted defaults to true
	sreq /storage/set "{$(addr p-bytes acc.near k2),\"wasm_hash\":\"w\",\"encrypted_key\":[1],\"encrypted_value\":[2]}"
	assert_equal "$status" 200
	run row_hex p-bytes acc.near k2
	assert_output "01|02|w|t"
}

@test "empty keys and values are stored and read back as empty arrays" {
	storage_set p-empty a k "" "" false
	run row_hex p-empty a k
	assert_output "||wasm-1|f"
	sreq /storage/get "{$(addr p-empty a k)}"
	assert_equal "$body" '{"exists":true,"encrypted_key":[],"encrypted_value":[],"wasm_hash":"wasm-1","is_encrypted":false}'
	run usage_row p-empty a
	assert_output "0|1"
}

@test "set over an existing row keeps its key bytes and replaces value, wasm_hash, is_encrypted" {
	storage_set p-upd a k aabb 0102 true w1
	ts1=$(coord_psql "SELECT updated_at FROM storage_keys WHERE project_uuid = 'p-upd'")
	storage_set p-upd a k ccdd ff false w2
	run row_hex p-upd a k
	assert_output "aabb|ff|w2|f"
	run coord_psql "SELECT count(*), bool_and(updated_at > '$ts1'), bool_and(created_at < updated_at) FROM storage_keys WHERE project_uuid = 'p-upd'"
	assert_output "1|t|t"
	run usage_row p-upd a
	assert_output "3|1"
}

@test "get of an absent row answers the absent shape" {
	sreq /storage/get "{$(addr p-none a k)}"
	assert_equal "$status" 200
	assert_equal "$body" '{"exists":false,"encrypted_key":null,"encrypted_value":null,"wasm_hash":null,"is_encrypted":true}'
}

@test "a 1 MiB value round-trips byte for byte" {
	f=$BATS_TEST_TMPDIR/big.json
	sum=$("$STORAGE_PYTHON" - "$f" <<'EOF'
import hashlib, json, sys
v = bytes((i * 131 + i // 251) % 256 for i in range(1 << 20))
with open(sys.argv[1], "w") as f:
    json.dump({"project_uuid": "p-mib", "wasm_hash": "w", "account_id": "a", "key_hash": "k",
               "encrypted_key": [1, 2, 3], "encrypted_value": list(v)}, f, separators=(",", ":"))
print(hashlib.sha256(v).hexdigest())
EOF
	)
	sreq /storage/set "@$f"
	assert_equal "$status" 200
	run coord_psql "SELECT octet_length(encrypted_value), encode(sha256(encrypted_value), 'hex') FROM storage_keys WHERE project_uuid = 'p-mib'"
	assert_output "1048576|$sum"
	sreq /storage/get "{$(addr p-mib a k)}"
	assert_equal "$status" 200
	run "$STORAGE_PYTHON" -c 'import hashlib, json, sys; print(hashlib.sha256(bytes(json.load(open(sys.argv[1]))["encrypted_value"])).hexdigest())' "$body_file"
	assert_output "$sum"
	run usage_row p-mib a
	assert_output "1048579|1"
}

@test "a body of exactly the 10 MiB cap is stored whole; one byte more is 413 and changes nothing" {
	f=$BATS_TEST_TMPDIR/cap.json
	sum=$("$STORAGE_PYTHON" - "$f" 10485760 <<'EOF'
import hashlib, sys
path, cap = sys.argv[1], int(sys.argv[2])
prefix = b'{"project_uuid":"p-cap","wasm_hash":"w","account_id":"a","key_hash":"k","encrypted_key":[9],"encrypted_value":['
room = cap - len(prefix) - 2          # for "]}"
n = (room + 1) // 4 + 1               # values of 3 digits and a comma, one too many...
save = 4 * n - 1 - room               # ...then as many digits saved by shorter values
vals = []
for i in range(n):
    d = min(save, 2)
    save -= d
    vals.append((200 + i % 56, 20 + i % 80, 2 + i % 8)[d])
body = prefix + ",".join(map(str, vals)).encode() + b"]}"
assert len(body) == cap, len(body)
open(path, "wb").write(body)
print("%d %s" % (len(vals), hashlib.sha256(bytes(vals)).hexdigest()))
EOF
	)
	[[ $(stat -c %s "$f") == 10485760 ]]
	sreq /storage/set "@$f" --max-time 120
	assert_equal "$status" 200
	run coord_psql "SELECT octet_length(encrypted_value) || ' ' || encode(sha256(encrypted_value), 'hex') FROM storage_keys WHERE project_uuid = 'p-cap'"
	assert_output "$sum"
	sreq /storage/get "{$(addr p-cap a k)}" --max-time 120
	assert_equal "$status" 200
	run "$STORAGE_PYTHON" -c 'import hashlib, json, sys; v = bytes(json.load(open(sys.argv[1]))["encrypted_value"]); print(len(v), hashlib.sha256(v).hexdigest())' "$body_file"
	assert_output "$sum"

	# one byte over: refused before the body is read, the stored row unchanged
	g=$BATS_TEST_TMPDIR/over.json
	sed 's/"key_hash":"k"/"key_hash":"kk"/' "$f" >"$g"
	[[ $(stat -c %s "$g") == 10485761 ]]
	sreq /storage/set "@$g" --max-time 120
	expect_error 413 payload_too_large
	assert_equal "$(rows_of p-cap)" 1
}

# ------------------------------------------------------------------ conditional writes

@test "set-if-absent inserts once, then answers inserted:false and keeps the row" {
	body_of() { printf '{%s,"wasm_hash":"w%s","encrypted_key":%s,"encrypted_value":%s}' "$(addr p-abs a k)" "$1" "$(bytes_json "$2")" "$(bytes_json "$3")"; }
	sreq /storage/set-if-absent "$(body_of 1 01 "$ALL256")"
	assert_equal "$status" 200
	assert_equal "$body" '{"inserted":true}'
	run row_hex p-abs a k
	assert_output "01|$ALL256|w1|t"
	sreq /storage/set-if-absent "$(body_of 2 02 ff)"
	assert_equal "$body" '{"inserted":false}'
	run row_hex p-abs a k
	assert_output "01|$ALL256|w1|t"
	run usage_row p-abs a
	assert_output "257|1"
	# is_encrypted is not a member of this route: the row is always encrypted
	sreq /storage/set-if-absent "{$(addr p-abs a k2),\"wasm_hash\":\"w\",\"encrypted_key\":[],\"encrypted_value\":[],\"is_encrypted\":false}"
	assert_equal "$body" '{"inserted":true}'
	run row_hex p-abs a k2
	assert_output "||w|t"
}

@test "set-if-equals updates only on a byte-identical value and otherwise reports the current row" {
	eq() { printf '{%s,"wasm_hash":"%s","expected_encrypted_value":%s,"new_encrypted_key":%s,"new_encrypted_value":%s}' "$(addr p-eq a k)" "$1" "$(bytes_json "$2")" "$(bytes_json "$3")" "$(bytes_json "$4")"; }
	# no row: not updated, both current members null
	sreq /storage/set-if-equals "$(eq w 00 01 02)"
	assert_equal "$status" 200
	assert_equal "$body" '{"updated":false,"current_encrypted_value":null,"current_encrypted_key":null}'
	assert_equal "$(rows_of p-eq)" 0
	storage_set p-eq a k aa 0001ff true w0
	# a value that differs by one byte, by length, or is a prefix: not updated
	for exp in 0001fe 0001 0001ff00 ""; do
		sreq /storage/set-if-equals "$(eq w9 "$exp" bb cc)"
		assert_equal "$(jq -c .updated <<<"$body")" false
		assert_equal "$(body_hex current_encrypted_value)" 0001ff
		assert_equal "$(body_hex current_encrypted_key)" aa
	done
	run row_hex p-eq a k
	assert_output "aa|0001ff|w0|t"
	# equal: key, value and wasm_hash replaced (is_encrypted kept)
	sreq /storage/set-if-equals "$(eq w1 0001ff "$ALL256" "")"
	assert_equal "$body" '{"updated":true,"current_encrypted_value":null,"current_encrypted_key":null}'
	run row_hex p-eq a k
	assert_output "$ALL256||w1|t"
	run usage_row p-eq a
	assert_output "256|1"
	# the empty value is a value like any other
	sreq /storage/set-if-equals "$(eq w2 "" 01 02)"
	assert_equal "$(jq -c .updated <<<"$body")" true
	run row_hex p-eq a k
	assert_output "01|02|w2|t"
}

# ------------------------------------------------------------------ reads

@test "get-by-version answers the most recently updated row of any project" {
	storage_set p-v1 acc kh 01 11 true ver-x
	storage_set p-v2 acc kh 02 22 false ver-x
	storage_set p-v3 acc kh 03 33 true ver-y
	sreq /storage/get-by-version '{"wasm_hash":"ver-x","account_id":"acc","key_hash":"kh"}'
	assert_equal "$status" 200
	assert_equal "$body" '{"exists":true,"encrypted_key":[2],"encrypted_value":[34],"wasm_hash":"ver-x","is_encrypted":false}'
	# p-v1's row becomes the newest
	coord_psql "UPDATE storage_keys SET updated_at = now() + interval '1 minute' WHERE project_uuid = 'p-v1'"
	sreq /storage/get-by-version '{"wasm_hash":"ver-x","account_id":"acc","key_hash":"kh"}'
	assert_equal "$(jq -c .encrypted_value <<<"$body")" '[17]'
	sreq /storage/get-by-version '{"wasm_hash":"ver-x","account_id":"other","key_hash":"kh"}'
	assert_equal "$body" '{"exists":false,"encrypted_key":null,"encrypted_value":null,"wasm_hash":null,"is_encrypted":true}'
}

@test "has answers whether the row exists, in its own project and account only" {
	storage_set p-has a k 01 02
	sreq /storage/has "{$(addr p-has a k)}"
	assert_equal "$status" 200
	assert_equal "$body" '{"exists":true}'
	for a in "$(addr p-has b k)" "$(addr p-has2 a k)" "$(addr p-has a k2)"; do
		sreq /storage/has "{$a}"
		assert_equal "$body" '{"exists":false}'
	done
}

@test "one project's or account's rows are never read or written through another's address" {
	storage_set p-iso alice.near k 0a 0b
	storage_set p-iso @worker k 0c 0d false
	storage_set p-iso2 alice.near k 0e 0f
	sreq /storage/get "{$(addr p-iso alice.near k)}"
	assert_equal "$(jq -c .encrypted_value <<<"$body")" '[11]'
	sreq /storage/get "{$(addr p-iso @worker k)}"
	assert_equal "$(jq -c .encrypted_value <<<"$body")" '[13]'
	sreq /storage/get "{$(addr p-iso2 alice.near k)}"
	assert_equal "$(jq -c .encrypted_value <<<"$body")" '[15]'
	sreq /storage/delete "{$(addr p-iso alice.near k)}"
	assert_equal "$status" 200
	run row_hex p-iso @worker k
	assert_output "0c|0d|wasm-1|f"
	run row_hex p-iso2 alice.near k
	assert_output "0e|0f|wasm-1|t"
}

# ------------------------------------------------------------------ delete, list, usage

@test "delete removes the row and recomputes usage; an absent row is 404 storage_key_not_found" {
	storage_set p-del a k1 0102 030405
	storage_set p-del a k2 06 07
	run usage_row p-del a
	assert_output "7|2"
	sreq /storage/delete "{$(addr p-del a k1)}"
	assert_equal "$status" 200
	assert_equal "$body" ""
	run usage_row p-del a
	assert_output "2|1"
	sreq /storage/delete "{$(addr p-del a k1)}"
	expect_error 404 storage_key_not_found
	run usage_row p-del a
	assert_output "2|1"
}

@test "list pages the pair's rows by created_at then key_hash, with the pair's total" {
	for k in kc ka kb kd; do storage_set p-list a "$k" "${k:1}0" 01; done
	storage_set p-list other kz 01 01
	# the same created_at for ka and kb: key_hash breaks the tie
	coord_psql "UPDATE storage_keys SET created_at = '2024-01-01 00:00:00+00' WHERE project_uuid = 'p-list' AND key_hash IN ('ka', 'kb')"
	req GET '/storage/list?project_uuid=p-list&account_id=a' -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 200
	assert_equal "$(jq -c '[.keys[].key_hash], .total' <<<"$body" | tr '\n' ' ')" '["ka","kb","kc","kd"] 4 '
	assert_equal "$(jq -c '.keys[0] | keys_unsorted' <<<"$body")" '["key_hash","encrypted_key","encrypted_value","wasm_hash"]'
	assert_equal "$(jq -c '.keys[0]' <<<"$body")" '{"key_hash":"ka","encrypted_key":[160],"encrypted_value":[1],"wasm_hash":"wasm-1"}'
	req GET '/storage/list?project_uuid=p-list&account_id=a&limit=2&offset=1&prefix_hash=zz' -H "Authorization: Bearer $TOKEN"
	assert_equal "$(jq -c '[.keys[].key_hash], .total' <<<"$body" | tr '\n' ' ')" '["kb","kc"] 4 '
	req GET '/storage/list?project_uuid=p-list&account_id=a&offset=10' -H "Authorization: Bearer $TOKEN"
	assert_equal "$body" '{"keys":[],"total":4}'
	req GET '/storage/list?project_uuid=p-list&account_id=a&limit=5000' -H "Authorization: Bearer $TOKEN"
	assert_equal "$(jq '.keys | length' <<<"$body")" 4
	req GET '/storage/list?project_uuid=p-none&account_id=a' -H "Authorization: Bearer $TOKEN"
	assert_equal "$body" '{"keys":[],"total":0}'
	for q in 'account_id=a' 'project_uuid=p-list' 'project_uuid=&account_id=a' \
		'project_uuid=p-list&account_id=a&limit=0' 'project_uuid=p-list&account_id=a&offset=-1' \
		'project_uuid=p-list&account_id=a&limit=x' \
		"project_uuid=$(printf 'p%.0s' {1..65})&account_id=a"; do
		req GET "/storage/list?$q" -H "Authorization: Bearer $TOKEN"
		expect_error 400 invalid_parameter
	done
}

@test "usage answers the pair's usage row, zeros without one" {
	storage_set p-use a k1 0102 03
	storage_set p-use a k2 "" 0405
	storage_set p-use b k1 01 01
	req GET '/storage/usage?project_uuid=p-use&account_id=a' -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 200
	assert_equal "$body" '{"total_bytes":5,"key_count":2}'
	run pair_sums p-use a
	assert_output "5|2"
	req GET '/storage/usage?project_uuid=p-use&account_id=zz' -H "Authorization: Bearer $TOKEN"
	assert_equal "$body" '{"total_bytes":0,"key_count":0}'
	req GET '/storage/usage?project_uuid=p-use' -H "Authorization: Bearer $TOKEN"
	expect_error 400 invalid_parameter
}

# ------------------------------------------------------------------ clearing

@test "clear-all deletes the pair's rows and keeps its usage row at zero" {
	storage_set p-clr a k1 01 02
	storage_set p-clr a k2 03 04
	storage_set p-clr b k1 05 06
	sreq /storage/clear-all '{"project_uuid":"p-clr","account_id":"a"}'
	assert_equal "$status" 200
	assert_equal "$body" ""
	run usage_row p-clr a
	assert_output "0|0"
	run pair_sums p-clr a
	assert_output "0|0"
	run usage_row p-clr b
	assert_output "2|1"
	# a pair that never had a row gets a zero usage row
	sreq /storage/clear-all '{"project_uuid":"p-clr","account_id":"never"}'
	assert_equal "$status" 200
	run usage_row p-clr never
	assert_output "0|0"
}

@test "clear-version deletes one version's rows of an account in every project and recomputes each pair" {
	storage_set p-cv1 a k1 01 02 true ver-old
	storage_set p-cv1 a k2 0303 04 true ver-new
	storage_set p-cv2 a k1 05 06 true ver-old
	storage_set p-cv2 b k1 07 08 true ver-old
	sreq /storage/clear-version '{"wasm_hash":"ver-old","account_id":"a"}'
	assert_equal "$status" 200
	run coord_psql "SELECT project_uuid || ':' || account_id || ':' || key_hash FROM storage_keys WHERE project_uuid IN ('p-cv1', 'p-cv2') ORDER BY 1"
	assert_output "p-cv1:a:k2
p-cv2:b:k1"
	run usage_row p-cv1 a
	assert_output "3|1"
	run usage_row p-cv2 a
	assert_output "0|0"
	run usage_row p-cv2 b
	assert_output "2|1"
}

@test "clear-project deletes the project's rows and usage rows only" {
	storage_set p-cp a k1 01 02
	storage_set p-cp b k1 01 02
	storage_set p-cp-other a k1 01 02
	sreq /storage/clear-project '{"project_uuid":"p-cp"}'
	assert_equal "$status" 200
	assert_equal "$(rows_of p-cp)" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM storage_usage WHERE project_uuid = 'p-cp'")" 0
	assert_equal "$(rows_of p-cp-other)" 1
	run usage_row p-cp-other a
	assert_output "2|1"
}

# ------------------------------------------------------------------ get-public

@test "get-public reads the @worker row: plaintext values only" {
	storage_set p-gp @worker plain 6b 0076ff false
	storage_set p-gp @worker secret 6b 01 true
	storage_set p-gp alice k 6b 01 false
	sreq /storage/get-public '{"project_uuid":"p-gp","key_hash":"plain"}'
	assert_equal "$status" 200
	assert_equal "$body" '{"exists":true,"value":[0,118,255]}'
	sreq /storage/get-public '{"project_uuid":"p-gp","key_hash":"secret"}'
	expect_error 403 encrypted_value
	[[ $body != *'"value"'* ]]
	sreq /storage/get-public '{"project_uuid":"p-gp","key_hash":"k"}'
	assert_equal "$body" '{"exists":false,"value":null}'
}

# ------------------------------------------------------------------ errors

@test "bad bodies get 415, 400 or 422 with the field, and write nothing" {
	good='"project_uuid":"p-bad","wasm_hash":"w","account_id":"a","key_hash":"k"'
	sreq /storage/set "{$good,\"encrypted_key\":[1],\"encrypted_value\":[256]}"
	expect_error 422 invalid_request_body
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"encrypted_value[0]","reason":"range"}'
	sreq /storage/set "{$good,\"encrypted_key\":[1,-1],\"encrypted_value\":[]}"
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"encrypted_key[1]","reason":"range"}'
	sreq /storage/set "{$good,\"encrypted_key\":[1],\"encrypted_value\":[1,2,\"3\"]}"
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"encrypted_value[2]","reason":"type"}'
	sreq /storage/set "{$good,\"encrypted_key\":[1],\"encrypted_value\":[1.5]}"
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"encrypted_value[0]","reason":"type"}'
	sreq /storage/set "{$good,\"encrypted_key\":\"AQ==\",\"encrypted_value\":[]}"
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"encrypted_key","reason":"type"}'
	sreq /storage/set "{$good,\"encrypted_key\":[1]}"
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"encrypted_value","reason":"missing"}'
	sreq /storage/set "{$good,\"encrypted_key\":[1],\"encrypted_value\":[1],\"is_encrypted\":\"no\"}"
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"is_encrypted","reason":"type"}'
	long=$(printf 'x%.0s' {1..65})
	sreq /storage/get "{\"project_uuid\":\"$long\",\"account_id\":\"a\",\"key_hash\":\"k\"}"
	expect_error 422 invalid_request_body
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"project_uuid","reason":"range"}'
	sreq /storage/get '{"project_uuid":"","account_id":"a","key_hash":"k"}'
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"project_uuid","reason":"range"}'
	sreq /storage/set-if-equals "{$good,\"expected_encrypted_value\":[1],\"new_encrypted_key\":[1]}"
	assert_equal "$(jq -c .details <<<"$body")" '{"field":"new_encrypted_value","reason":"missing"}'
	sreq /storage/set "{$good,\"encrypted_key\":[1],\"encrypted_value\":[1}"
	expect_error 400 invalid_json
	req POST /storage/set -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' \
		--data-binary "{$good,\"encrypted_key\":[1],\"encrypted_value\":[1]}"
	expect_error 415 unsupported_media_type
	assert_equal "$(rows_of p-bad)" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM storage_usage WHERE project_uuid = 'p-bad'")" 0
	# 64 characters (not bytes) are allowed
	multi=$(printf 'é%.0s' {1..64})
	storage_set "$multi" a k 01 02
	assert_equal "$(rows_of "$multi")" 1
}

@test "storage routes need the worker token; GET-only and POST-only routes answer 405" {
	req POST /storage/get -H 'Content-Type: application/json' --data-binary "{$(addr p a k)}"
	expect_error 401 unauthorized
	req GET '/storage/usage?project_uuid=p&account_id=a'
	expect_error 401 unauthorized
	req GET /storage/get -H "Authorization: Bearer $TOKEN"
	expect_error 405 method_not_allowed
	assert_equal "$(header Allow)" POST
	req POST /storage/list -H "Authorization: Bearer $TOKEN"
	expect_error 405 method_not_allowed
	assert_equal "$(header Allow)" GET
}

@test "with PostgreSQL down the storage routes answer 503 unavailable" {
	coord_stop_pg
	sreq /storage/get "{$(addr p a k)}"
	coord_start_pg
	expect_error 503 unavailable
}
