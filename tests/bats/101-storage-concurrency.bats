#!/usr/bin/env bats
# Project storage under concurrent writers (SPEC §3.2.10): conditional writes decided once,
# and the usage row equal to the pair's rows once the writes have committed.

load ../helpers/coord
load ../helpers/storage

setup_file() {
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token storage-racer)
	export TOKEN
}

# race N [P]: POSTs $BATS_TEST_TMPDIR/body.0 … body.N-1, each to the path in path.i, in a
# shuffled order, P (default N) at once; response i in out.i, its status in code.i.
race() {
	local n=$1 p=${2:-$1}
	rm -f "$BATS_TEST_TMPDIR"/code.*
	seq 0 $((n - 1)) | shuf | xargs -P "$p" -I{} sh -c \
		'curl -sS --max-time 60 -o "$1/out.$2" -w "%{http_code}\n" -H "Authorization: Bearer $3" \
			-H "Content-Type: application/json" --data-binary "@$1/body.$2" "$4$(cat "$1/path.$2")" >"$1/code.$2"' \
		race "$BATS_TEST_TMPDIR" {} "$TOKEN" "$BASE_URL"
}

# to PATH N: requests 0 … N-1 go to PATH.
to() { for ((i = 0; i < $2; i++)); do echo "$1" >"$BATS_TEST_TMPDIR/path.$i"; done; }

# statuses N: the distinct statuses of the last race with their counts, "200x100".
statuses() { cat "$BATS_TEST_TMPDIR"/code.* | sort | uniq -c | awk '{printf "%sx%s ", $2, $1}'; }

@test "100 parallel set-if-absent on one key: exactly one inserts, the others answer inserted:false" {
	for i in $(seq 0 99); do
		printf '{"project_uuid":"p-race","wasm_hash":"w%d","account_id":"a","key_hash":"k","encrypted_key":[%d],"encrypted_value":[%d,%d]}' \
			"$i" "$i" "$i" "$((255 - i))" >"$BATS_TEST_TMPDIR/body.$i"
	done
	to /storage/set-if-absent 100
	race 100
	assert_equal "$(statuses)" "200x100 "
	run grep -l '{"inserted":true}' "$BATS_TEST_TMPDIR"/out.*
	assert_equal "${#lines[@]}" 1
	winner=${lines[0]##*.}
	assert_equal "$(grep -l '{"inserted":false}' "$BATS_TEST_TMPDIR"/out.* | wc -l)" 99
	# the stored row is the winner's, whole
	run row_hex p-race a k
	assert_output "$(printf '%02x|%02x%02x|w%d|t' "$winner" "$winner" "$((255 - winner))" "$winner")"
	run usage_row p-race a
	assert_output "3|1"
}

@test "20 racing set-if-equals on one expected value: one updates, the losers see the winner's bytes" {
	storage_set p-cas a k 00 0000
	for i in $(seq 0 19); do
		printf '{"project_uuid":"p-cas","wasm_hash":"w%d","account_id":"a","key_hash":"k","expected_encrypted_value":[0,0],"new_encrypted_key":[%d],"new_encrypted_value":[%d,%d,%d]}' \
			"$i" "$i" "$i" "$i" "$i" >"$BATS_TEST_TMPDIR/body.$i"
	done
	to /storage/set-if-equals 20
	race 20
	assert_equal "$(statuses)" "200x20 "
	run grep -l '"updated":true' "$BATS_TEST_TMPDIR"/out.*
	assert_equal "${#lines[@]}" 1
	w=${lines[0]##*.}
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out.$w")" '{"updated":true,"current_encrypted_value":null,"current_encrypted_key":null}'
	for i in $(seq 0 19); do
		[[ $i == "$w" ]] && continue
		assert_equal "$(cat "$BATS_TEST_TMPDIR/out.$i")" "{\"updated\":false,\"current_encrypted_value\":[$w,$w,$w],\"current_encrypted_key\":[$w]}"
	done
	run usage_row p-cas a
	assert_output "4|1"
}

@test "usage equals the pair's rows after 120 concurrent sets, overwrites, deletes and clears" {
	# 40 keys written twice with different sizes, 20 of them deleted, and writes to another pair
	n=0
	for i in $(seq 0 39); do
		for size in $((i + 1)) $((2 * i + 3)); do
			printf '{"project_uuid":"p-sum","wasm_hash":"w","account_id":"a","key_hash":"k%d","encrypted_key":[1,2],"encrypted_value":[%s]}' \
				"$i" "$(seq -s, 1 "$size" | sed 's/[0-9]*/7/g')" >"$BATS_TEST_TMPDIR/body.$n"
			echo /storage/set >"$BATS_TEST_TMPDIR/path.$n"
			n=$((n + 1))
		done
	done
	for i in $(seq 0 19); do
		printf '{"project_uuid":"p-sum","account_id":"a","key_hash":"k%d"}' "$((2 * i))" >"$BATS_TEST_TMPDIR/body.$n"
		echo /storage/delete >"$BATS_TEST_TMPDIR/path.$n"
		n=$((n + 1))
	done
	for i in $(seq 0 19); do
		printf '{"project_uuid":"p-sum","wasm_hash":"w","account_id":"b","key_hash":"k%d","encrypted_key":[],"encrypted_value":[1]}' "$i" >"$BATS_TEST_TMPDIR/body.$n"
		echo /storage/set-if-absent >"$BATS_TEST_TMPDIR/path.$n"
		n=$((n + 1))
	done
	race "$n" 60
	# a delete that ran before both of its key's sets found nothing: 404 is its answer
	run sh -c "cat '$BATS_TEST_TMPDIR'/code.* | grep -cv '^200$\|^404$'"
	assert_output 0
	for pair in a b; do
		sums=$(pair_sums p-sum "$pair")
		run usage_row p-sum "$pair"
		assert_output "$sums"
	done
	assert_equal "$(usage_row p-sum b)" "20|20"
	# the clear of a pair while writes of another go on
	for i in $(seq 0 29); do
		printf '{"project_uuid":"p-sum","wasm_hash":"w","account_id":"b","key_hash":"n%d","encrypted_key":[],"encrypted_value":[1,1]}' "$i" >"$BATS_TEST_TMPDIR/body.$i"
		echo /storage/set >"$BATS_TEST_TMPDIR/path.$i"
	done
	printf '{"project_uuid":"p-sum","account_id":"a"}' >"$BATS_TEST_TMPDIR/body.30"
	echo /storage/clear-all >"$BATS_TEST_TMPDIR/path.30"
	race 31
	assert_equal "$(statuses)" "200x31 "
	assert_equal "$(usage_row p-sum a)" "0|0"
	assert_equal "$(usage_row p-sum b)" "80|50"
	assert_equal "$(pair_sums p-sum b)" "80|50"
}
