# shellcheck shell=bash
# Helpers for the project storage tests (SPEC §3.2.10, §3.4.4):  load ../helpers/storage
# (after coord).  Byte values travel as hex in the shell and as JSON arrays of integers on
# the wire.
#
#   sreq PATH JSON [curl args]     POST PATH with JSON and the worker token $TOKEN (req's
#                                  variables are set: status, body, headers)
#   bytes_json HEX                 the JSON array of the bytes HEX ("" → [])
#   body_hex MEMBER                the bytes of $body's array MEMBER as hex ("null" for null)
#   storage_set PROJECT ACCOUNT KEY_HASH KEY_HEX VALUE_HEX [IS_ENCRYPTED] [WASM_HASH]
#                                  POST /storage/set, asserting 200
#   row_hex PROJECT ACCOUNT KEY_HASH   "key_hex|value_hex|wasm_hash|is_encrypted" of the row
#   usage_row PROJECT ACCOUNT      "total_bytes|key_count" of the usage row ("" when none)
#   pair_sums PROJECT ACCOUNT      "total_bytes|key_count" computed from the pair's rows

STORAGE_PYTHON=${FAKE_PYTHON:-/usr/bin/python3}
command -v "$STORAGE_PYTHON" >/dev/null 2>&1 || STORAGE_PYTHON=python3

sreq() {
	local path=$1 json=$2
	shift 2
	req POST "$path" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "$json" "$@"
}

bytes_json() {
	"$STORAGE_PYTHON" -c 'import sys, json; print(json.dumps(list(bytes.fromhex(sys.argv[1])), separators=(",", ":")))' "$1"
}

body_hex() {
	"$STORAGE_PYTHON" -c '
import sys, json
v = json.loads(sys.stdin.read())[sys.argv[1]]
print("null" if v is None else bytes(v).hex())' "$1" <<<"$body"
}

storage_set() {
	local enc=${6:-true} wasm=${7:-wasm-1}
	sreq /storage/set "$(printf '{"project_uuid":"%s","wasm_hash":"%s","account_id":"%s","key_hash":"%s","encrypted_key":%s,"encrypted_value":%s,"is_encrypted":%s}' \
		"$1" "$wasm" "$2" "$3" "$(bytes_json "$4")" "$(bytes_json "$5")" "$enc")"
	[[ $status == 200 ]] || {
		echo "storage_set $1 $2 $3: $status $body" >&2
		return 1
	}
}

row_hex() {
	coord_psql "SELECT encode(encrypted_key, 'hex'), encode(encrypted_value, 'hex'), wasm_hash, is_encrypted
		FROM storage_keys WHERE project_uuid = '$1' AND account_id = '$2' AND key_hash = '$3'"
}

usage_row() {
	coord_psql "SELECT total_bytes, key_count FROM storage_usage WHERE project_uuid = '$1' AND account_id = '$2'"
}

pair_sums() {
	coord_psql "SELECT coalesce(sum(octet_length(encrypted_key) + octet_length(encrypted_value)), 0), count(*)
		FROM storage_keys WHERE project_uuid = '$1' AND account_id = '$2'"
}
