#!/usr/bin/env bats
# The life of a blockchain request through the work queues, as a worker drives it:
# POST /executions/create (SPEC §3.2.1) -> GET /executions/poll (§3.2.2) -> POST /jobs/claim
# (§3.2.3) -> POST /jobs/complete (§3.2.4), with the queue payloads of §3.1.2 checked byte
# for byte and every table row of §5.1 checked with SQL.  Also: repository normalisation and
# checksums (§3.2.1, §3.2.5), create dedupe, and every documented error of the four routes.

load ../helpers/coord

setup_file() {
	# No pricing fetch from the network: the claim answers the fallback pricing (§4.1).
	export NEAR_RPC_URL=off
	coord_start_stack
	TOKEN=$(coord_worker_token queue-worker)
	TOKEN_HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
	export TOKEN TOKEN_HASH
}

setup() {
	coord_test_setup
	reset_queue_state
}

# ------------------------------------------------------------------ helpers

# Empties the queue tables, the Redis lists and the WASM cache so each test starts clean.
reset_queue_state() {
	coord_psql "DELETE FROM earnings_history; DELETE FROM execution_results;
		DELETE FROM queue_items; DELETE FROM jobs; DELETE FROM execution_requests;
		DELETE FROM https_calls; DELETE FROM wasm_cache"
	coord_redis DEL outlayer:compile outlayer:execute >/dev/null
	mkdir -p "$WASM_CACHE_DIR"
	rm -f "$WASM_CACHE_DIR"/*.wasm
}

# sql QUERY: rows on stdout, NULL shown as NULL.
sql() { coord_psql "$1" -P null=NULL; }

sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

# wreq METHOD PATH [curl args]: req with the worker token.
wreq() {
	local m=$1 p=$2
	shift 2
	req "$m" "$p" -H "Authorization: Bearer $TOKEN" "$@"
}

# post_json PATH JSON: POST a JSON body with the worker token.
post_json() { wreq POST "$1" -H 'Content-Type: application/json' --data-binary "$2"; }

create() { post_json /executions/create "$1"; }
poll() { wreq GET "/executions/poll?$1"; }
claim() { post_json /jobs/claim "$1"; }
complete() { post_json /jobs/complete "$1"; }

err() { jq -r .error <<<"$body"; }

# expect_422 FIELD [REASON]: the last answer is 422 invalid_request_body naming FIELD.
expect_422() {
	assert_equal "$status" 422
	assert_equal "$(err)" invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" "$1"
	if [[ -n ${2:-} ]]; then
		assert_equal "$(jq -r .details.reason <<<"$body")" "$2"
	fi
}

# expect_error STATUS CODE
expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

# cache_wasm CHECKSUM: a cached binary (wasm_cache row + file): wasm_ok (§3.2.1 step 4).
cache_wasm() {
	: >"$WASM_CACHE_DIR/$1.wasm"
	coord_psql "INSERT INTO wasm_cache (checksum, repo_url, commit_hash, file_size, content_hash,
		verified_size, verified_mtime_ns, verified_inode)
		VALUES ('$1', 'r', 'c', 0, '$(sha '')', 0, 0, 0) ON CONFLICT DO NOTHING"
}

# min_body ID [REPO]: the smallest valid create body (GitHub source, no optional member).
min_body() {
	printf '{"request_id":%s,"data_id":"d-%s","code_source":{"type":"GitHub","repo":"%s","commit":"c1"},"resource_limits":{"max_instructions":1000000,"max_memory_mb":64,"max_execution_seconds":10},"input_data":"hello"}' \
		"$1" "$1" "${2:-owner/app}"
}

# min_payload ID [NORMALISED REPO]: the payload min_body ID must produce (§3.1.2): defaults
# filled in (build_target, response_format "Text", all nine context keys null, booleans),
# optional members omitted, is_https_call false.
NULL_CONTEXT='{"sender_id":null,"block_height":null,"block_timestamp":null,"contract_id":null,"transaction_hash":null,"receipt_id":null,"predecessor_id":null,"signer_public_key":null,"gas_burnt":null}'
min_payload() {
	printf '{"request_id":%s,"data_id":"d-%s","code_source":{"type":"GitHub","repo":"%s","commit":"c1","build_target":"wasm32-wasip1"},"resource_limits":{"max_instructions":1000000,"max_memory_mb":64,"max_execution_seconds":10},"input_data":"hello","response_format":"Text","context":%s,"compile_only":false,"force_rebuild":false,"store_on_fastfs":false,"is_https_call":false}' \
		"$1" "$1" "${2:-https://github.com/owner/app}" "$NULL_CONTEXT"
}

# claim_body ID CAPS [extra members]: a claim as a worker sends it for min_body ID.
claim_body() {
	printf '{"request_id":%s,"data_id":"d-%s","worker_id":"worker-1","code_source":{"type":"GitHub","repo":"https://github.com/owner/app","commit":"c1","build_target":"wasm32-wasip1"},"resource_limits":{"max_instructions":1000000,"max_memory_mb":64,"max_execution_seconds":10},"capabilities":%s%s}' \
		"$1" "$1" "$2" "${3:+,$3}"
}

# The checksum of min_body's source (§3.2.5): sha256 of "<repo>:<commit>:<build_target>".
min_checksum() { sha "https://github.com/owner/app:c1:wasm32-wasip1"; }

# item_of ID: the newest queue item of request ID.
item_of() { coord_psql "SELECT max(item_id) FROM queue_items WHERE request_id = $1"; }

# Fallback pricing (§4.1), exactly the eleven keys in order.
DEFAULT_PRICING='{"base_fee":"10000000000000000000000","per_instruction_fee":"1000000000000000","per_ms_fee":"1000000000000000000","per_compile_ms_fee":"2000000000000000000","base_fee_usd":"1000","per_instruction_fee_usd":"1","per_sec_fee_usd":"1","per_compile_ms_fee_usd":"10","max_compilation_seconds":300,"max_instructions":100000000000,"max_execution_seconds":60}'

# snapshot: every row the queue routes may touch, plus the Redis lists.
snapshot() {
	local t
	for t in "jobs ORDER BY job_id" "queue_items ORDER BY item_id" \
		"execution_results ORDER BY id" "execution_requests ORDER BY request_id" \
		"earnings_history ORDER BY id"; do
		coord_psql "SELECT row_to_json(x)::text FROM ${t%% *} x ORDER BY ${t##* BY }"
	done
	coord_redis LRANGE outlayer:compile 0 -1
	coord_redis LRANGE outlayer:execute 0 -1
}

# A full create body as a worker's event monitor sends it, with members in another order
# than the payload's, null members, a compile_result, members the HTTPS item reserves, and
# unknown members that must be copied verbatim.
FULL_BODY='{"request_id":101,"data_id":"data-101","code_source":{"commit":"abc123","repo":"near/hello","type":"GitHub"},"resource_limits":{"max_execution_seconds":60,"max_memory_mb":128,"max_instructions":1000000000},"input_data":"{\"n\":1}","secrets_ref":{"account_id":"alice.near","profile":"default"},"response_format":"Json","context":{"gas_burnt":5,"sender_id":"alice.near","block_height":123,"block_timestamp":1700000000000000000,"contract_id":"outlayer.near","transaction_hash":"tx/1","receipt_id":"r1","predecessor_id":"alice.near","signer_public_key":"ed25519:abc"},"zeta":{"b":-0,"a":[1.50,1E2,"x/y",-7]},"user_account_id":"alice.near","near_payment_yocto":"0001000","attached_usd":"5","transaction_hash":"tx/1","compile_only":false,"force_rebuild":true,"store_on_fastfs":false,"alpha":null,"project_uuid":"p-uuid","project_id":"alice.near/proj","compile_result":"stale","call_id":"c","wallet_id":"w","version_key":"v","is_https_call":true,"usd_payment":"1","omega":"o/1","zeta2":true,"omega":"last"}'

# Its payload (§3.1.2): keys in the SPEC's order, normalised repository, default
# build_target, secrets_ref and context reordered, leading zeros of money dropped (§1.4),
# is_https_call false, then the unknown members in their order: -0 -> 0, other numbers as
# sent, "/" not escaped, null members omitted, a duplicate at its first position with its
# last value; compile_result and the HTTPS keys are not copied.
FULL_PAYLOAD='{"request_id":101,"data_id":"data-101","code_source":{"type":"GitHub","repo":"https://github.com/near/hello","commit":"abc123","build_target":"wasm32-wasip1"},"resource_limits":{"max_instructions":1000000000,"max_memory_mb":128,"max_execution_seconds":60},"input_data":"{\"n\":1}","secrets_ref":{"profile":"default","account_id":"alice.near"},"response_format":"Json","context":{"sender_id":"alice.near","block_height":123,"block_timestamp":1700000000000000000,"contract_id":"outlayer.near","transaction_hash":"tx/1","receipt_id":"r1","predecessor_id":"alice.near","signer_public_key":"ed25519:abc","gas_burnt":5},"user_account_id":"alice.near","near_payment_yocto":"1000","attached_usd":"5","transaction_hash":"tx/1","compile_only":false,"force_rebuild":true,"store_on_fastfs":false,"project_uuid":"p-uuid","project_id":"alice.near/proj","is_https_call":false,"zeta":{"b":0,"a":[1.50,1E2,"x/y",-7]},"omega":"last","zeta2":true}'

# ------------------------------------------------------------------ the full life

@test "lifecycle: create -> poll compile -> claim -> complete -> poll execute -> claim -> complete" {
	local checksum item1 item2 job_c job_e pe
	checksum=$(sha "https://github.com/near/hello:abc123:wasm32-wasip1")

	# §3.2.1: 201 created; one execution_requests row; one queued item in compile
	# (force_rebuild and no cached binary), LPUSHed to outlayer:compile.
	create "$FULL_BODY"
	assert_equal "$status" 201
	assert_equal "$body" '{"request_id":101,"created":true}'
	assert_equal "$(header Content-Type)" application/json
	item1=$(item_of 101)
	run sql "SELECT queue, state, attempts, moves, request_id, data_id, job_id, close_reason,
		lease_id, leased_to, pushed_at IS NOT NULL FROM queue_items"
	assert_output "compile|queued|0|0|101|data-101|NULL|NULL|NULL|NULL|t"
	assert_equal "$(coord_redis LRANGE outlayer:compile 0 -1)" "$item1"
	assert_equal "$(coord_redis LLEN outlayer:execute)" 0
	# §3.1.1: the payload is stored verbatim, built by §3.1.2.
	assert_equal "$(coord_psql "SELECT payload FROM queue_items WHERE item_id = $item1")" "$FULL_PAYLOAD"
	# §3.2.1 step 5: every request column is stored.
	run sql "SELECT data_id, code_source->>'type', code_source->>'repo', code_source->>'commit',
		code_source->>'build_target', input_data, max_instructions, max_memory_mb,
		max_execution_seconds, secrets_profile, secrets_account_id, response_format
		FROM execution_requests WHERE request_id = 101"
	assert_output 'data-101|GitHub|https://github.com/near/hello|abc123|wasm32-wasip1|{"n":1}|1000000000|128|60|default|alice.near|Json'
	run sql "SELECT context_sender_id, context_block_height, context_block_timestamp,
		context_contract_id, context_transaction_hash, context_receipt_id,
		context_predecessor_id, context_signer_public_key, context_gas_burnt
		FROM execution_requests WHERE request_id = 101"
	assert_output 'alice.near|123|1700000000000000000|outlayer.near|tx/1|r1|alice.near|ed25519:abc|5'
	run sql "SELECT user_account_id, near_payment_yocto, attached_usd, transaction_hash,
		compile_only, force_rebuild, store_on_fastfs, compile_result, project_uuid, project_id,
		is_https_call, call_id, payment_key_owner, usd_payment, version_key, wallet_id
		FROM execution_requests WHERE request_id = 101"
	assert_output 'alice.near|1000|5|tx/1|f|t|f|NULL|p-uuid|alice.near/proj|f|NULL|NULL|NULL|NULL|NULL'

	# §3.2.2 / §3.1 poll: 200 with the stored payload byte for byte; the item is leased to
	# the caller's token for POLL_LEASE_SECONDS (60).
	poll "timeout=0&capabilities=compilation,execution"
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" "$FULL_PAYLOAD"
	cmp -s "$body_file" <(printf %s "$FULL_PAYLOAD")
	run sql "SELECT state, attempts, leased_to, lease_id IS NOT NULL,
		extract(epoch FROM lease_expires_at - leased_at)::int FROM queue_items WHERE item_id = $item1"
	assert_output "leased|1|$TOKEN_HASH|t|60"
	assert_equal "$(coord_redis LLEN outlayer:compile)" 0

	# §3.2.3 claim (row C1): a compile job is inserted and returned with the fallback pricing.
	claim "$(jq -c --arg cs "$checksum" '{request_id, data_id, worker_id:"worker-1", code_source,
		resource_limits, user_account_id, transaction_hash, near_payment_yocto,
		capabilities:["compilation","execution"], compile_only, force_rebuild,
		has_compile_result:false, project_uuid, project_id}' <<<"$FULL_PAYLOAD")"
	assert_equal "$status" 200
	assert_equal "$(jq -c .pricing <<<"$body")" "$DEFAULT_PRICING"
	assert_equal "$(jq -c 'keys_unsorted' <<<"$body")" '["jobs","pricing"]'
	assert_equal "$(jq '.jobs | length' <<<"$body")" 1
	job_c=$(jq -r '.jobs[0].job_id' <<<"$body")
	# JobInfo: compile jobs carry no compile_* keys; project keys echo the claim.
	assert_equal "$(jq -c '.jobs[0] | keys_unsorted' <<<"$body")" \
		'["job_id","job_type","wasm_checksum","allowed","project_uuid","project_id","created_at"]'
	assert_equal "$(jq -c '.jobs[0] | del(.job_id, .created_at)' <<<"$body")" \
		"{\"job_type\":\"compile\",\"wasm_checksum\":\"$checksum\",\"allowed\":true,\"project_uuid\":\"p-uuid\",\"project_id\":\"alice.near/proj\"}"
	# created_at: unix seconds of the job row's creation (§1.5)
	created=$(coord_psql "SELECT floor(extract(epoch FROM created_at))::bigint FROM jobs WHERE job_id = $job_c")
	d=$(($(jq .jobs[0].created_at <<<"$body") - created))
	((d == 0 || d == 1))
	# the job row (§3.2.3 "Inserted job rows"); compile lease = max(300, 300 + 60) s
	run sql "SELECT request_id, data_id, job_type, status, worker_id, token_hash, wasm_checksum,
		user_account_id, near_payment_yocto, transaction_hash, github_repo, github_commit,
		wasm_url, wasm_content_hash, build_target, project_uuid, project_id, attempts,
		lease_id IS NOT NULL, extract(epoch FROM lease_expires_at - claimed_at)::int,
		completed_at FROM jobs WHERE job_id = $job_c"
	assert_output "101|data-101|compile|in_progress|worker-1|$TOKEN_HASH|$checksum|alice.near|1000|tx/1|https://github.com/near/hello|abc123|NULL|NULL|wasm32-wasip1|p-uuid|alice.near/proj|1|t|360|NULL"
	# the item is claimed, bound to the job, its lease fields cleared
	run sql "SELECT state, job_id, attempts, lease_id, leased_to, leased_at, lease_expires_at
		FROM queue_items WHERE item_id = $item1"
	assert_output "claimed|$job_c|1|NULL|NULL|NULL|NULL"

	# §3.2.4 complete the compile (success, with a compile result).
	complete "{\"job_id\":$job_c,\"success\":true,\"time_ms\":1234,\"wasm_checksum\":\"$checksum\",\"compile_cost_yocto\":\"777\",\"compile_result\":\"cr-1\",\"output\":null}"
	assert_equal "$status" 200
	assert_equal "$body" ""
	assert_equal "$(header Content-Length)" 0
	run sql "SELECT status, attempts, lease_id, lease_expires_at, compile_time_ms,
		compile_cost_yocto, compile_error, error_details, completed_at IS NOT NULL
		FROM jobs WHERE job_id = $job_c"
	assert_output "completed|1|NULL|NULL|1234|777|NULL|NULL|t"
	run sql "SELECT state, close_reason, job_id, closed_at IS NOT NULL FROM queue_items WHERE item_id = $item1"
	assert_output "done|completed|$job_c|t"
	# not compile_only: the compile result is not stored on the request (step 5)
	assert_equal "$(sql "SELECT compile_result FROM execution_requests WHERE request_id = 101")" NULL
	# step 5 / §3.1.2 derived item: the compiled payload, force_rebuild false in place,
	# compile_result appended as the last key; enqueued to execute and pushed.
	pe=${FULL_PAYLOAD/'"force_rebuild":true'/'"force_rebuild":false'}
	pe="${pe%\}},\"compile_result\":\"cr-1\"}"
	item2=$(coord_psql "SELECT item_id FROM queue_items WHERE queue = 'execute'")
	run sql "SELECT state, request_id, data_id, attempts, moves FROM queue_items WHERE item_id = $item2"
	assert_output "queued|101|data-101|0|0"
	assert_equal "$(coord_psql "SELECT payload FROM queue_items WHERE item_id = $item2")" "$pe"
	assert_equal "$(coord_redis LRANGE outlayer:execute 0 -1)" "$item2"
	# step 7: the compile result row
	run sql "SELECT job_type, worker_id, success, execution_time_ms, compile_time_ms,
		instructions_used, actual_cost_yocto, compile_cost_yocto, user_account_id,
		near_payment_yocto, github_repo, github_commit, transaction_hash, is_https_call, call_id,
		project_id, request_id, data_id FROM execution_results WHERE job_id = $job_c"
	assert_output "compile|worker-1|t|NULL|1234|NULL|NULL|777|alice.near|1000|https://github.com/near/hello|abc123|tx/1|f|NULL|alice.near/proj|101|data-101"

	# The worker uploads the binary (simulated): the execute claim finds it cached.
	cache_wasm "$checksum"

	# poll the execute item (an executor only)
	poll "timeout=0&capabilities=execution"
	assert_equal "$status" 200
	assert_equal "$body" "$pe"

	# claim (row E7): an execute job, carrying the compile job's cost and time.
	claim "$(jq -c '{request_id, data_id, worker_id:"worker-2", code_source, resource_limits,
		user_account_id, transaction_hash, near_payment_yocto, capabilities:["execution"],
		compile_only, force_rebuild, has_compile_result:has("compile_result"), project_uuid,
		project_id}' <<<"$pe")"
	assert_equal "$status" 200
	job_e=$(jq -r '.jobs[0].job_id' <<<"$body")
	assert_equal "$(jq -c '.jobs[0] | keys_unsorted' <<<"$body")" \
		'["job_id","job_type","wasm_checksum","allowed","compile_cost_yocto","compile_time_ms","project_uuid","project_id","created_at"]'
	assert_equal "$(jq -c '.jobs[0] | del(.job_id, .created_at)' <<<"$body")" \
		"{\"job_type\":\"execute\",\"wasm_checksum\":\"$checksum\",\"allowed\":true,\"compile_cost_yocto\":\"777\",\"compile_time_ms\":1234,\"project_uuid\":\"p-uuid\",\"project_id\":\"alice.near/proj\"}"
	# execute lease = max(JOB_LEASE_SECONDS 300, max_execution_seconds 60 + 60)
	run sql "SELECT job_type, status, worker_id, attempts, extract(epoch FROM lease_expires_at - claimed_at)::int
		FROM jobs WHERE job_id = $job_e"
	assert_output "execute|in_progress|worker-2|1|300"
	run sql "SELECT state, job_id FROM queue_items WHERE item_id = $item2"
	assert_output "claimed|$job_e"

	# complete the execution; refund_usd as a JSON integer
	complete "{\"job_id\":$job_e,\"success\":true,\"time_ms\":50,\"instructions\":12345,\"actual_cost_yocto\":\"999\",\"refund_usd\":2,\"output\":{\"r\":[1]}}"
	assert_equal "$status" 200
	assert_equal "$body" ""

	# Final state of every table.
	run sql "SELECT item_id, queue, state, close_reason, attempts, moves, job_id FROM queue_items ORDER BY item_id"
	assert_output "$item1|compile|done|completed|1|0|$job_c
$item2|execute|done|completed|1|0|$job_e"
	run sql "SELECT job_id, job_type, status, attempts, lease_id, lease_expires_at, compile_time_ms,
		error_details FROM jobs ORDER BY job_id"
	assert_output "$job_c|compile|completed|1|NULL|NULL|1234|NULL
$job_e|execute|completed|1|NULL|NULL|NULL|NULL"
	run sql "SELECT job_type, worker_id, success, execution_time_ms, compile_time_ms,
		instructions_used, actual_cost_yocto, compile_cost_yocto, is_https_call, project_id
		FROM execution_results WHERE job_id = $job_e"
	assert_output "execute|worker-2|t|50|NULL|12345|999|NULL|f|alice.near/proj"
	assert_equal "$(coord_psql "SELECT count(*) FROM execution_results")" 2
	# step 8: blockchain earnings, refund clamped to attached_usd, once per request
	run sql "SELECT project_owner, project_id, attached_usd, refund_usd, amount, source, tx_hash,
		caller, request_id, call_id FROM earnings_history"
	assert_output "alice.near|alice.near/proj|5|2|3|blockchain|tx/1|alice.near|101|NULL"
	assert_equal "$(coord_redis LLEN outlayer:compile)" 0
	assert_equal "$(coord_redis LLEN outlayer:execute)" 0
	# nothing left to poll
	poll "timeout=0&capabilities=compilation,execution"
	assert_equal "$status" 204
	assert_equal "$body" ""
}

@test "a request whose binary is cached goes straight to the execute queue and runs once" {
	# §3.2.1 step 4: wasm_ok and neither force_rebuild nor compile_only -> execute
	cache_wasm "$(min_checksum)"
	create "$(min_body 102)"
	assert_equal "$status" 201
	assert_equal "$(coord_psql "SELECT queue || '/' || state FROM queue_items WHERE request_id = 102")" execute/queued
	assert_equal "$(coord_redis LRANGE outlayer:execute 0 -1)" "$(item_of 102)"
	poll "timeout=0&capabilities=execution"
	assert_equal "$status" 200
	assert_equal "$body" "$(min_payload 102)"
	claim "$(claim_body 102 '["execution"]')"
	assert_equal "$status" 200
	assert_equal "$(jq -r '.jobs[0].job_type' <<<"$body")" execute
	# no compile job exists: no compile_* keys, no project keys (absent in the claim)
	assert_equal "$(jq -c '.jobs[0] | keys_unsorted' <<<"$body")" \
		'["job_id","job_type","wasm_checksum","allowed","created_at"]'
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":false,\"time_ms\":3,\"error\":\"trap\",\"error_category\":\"execution_failed\"}"
	assert_equal "$status" 200
	run sql "SELECT status, error_details, compile_error FROM jobs WHERE job_id = $job"
	assert_output "execution_failed|trap|NULL"
	run sql "SELECT success, execution_time_ms, instructions_used FROM execution_results WHERE job_id = $job"
	assert_output "f|3|0"
	# a failed execution enqueues nothing and writes no earnings
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items")" 1
	assert_equal "$(coord_psql "SELECT count(*) FROM earnings_history")" 0
}

# ------------------------------------------------------------------ payload rules (§3.1.2, §1.1)

@test "payload: defaults filled in, optional members omitted, minimal create" {
	create "$(min_body 103)"
	assert_equal "$status" 201
	assert_equal "$(coord_psql "SELECT payload FROM queue_items WHERE request_id = 103")" "$(min_payload 103)"
	poll "timeout=0&capabilities=compilation"
	assert_equal "$body" "$(min_payload 103)"
}

@test "payload: strings escaped by §1.1 only (\" \\\\ and U+0000-U+001F), '/' and non-ASCII as they are" {
	local ls del e
	ls=$(printf '\342\200\250') del=$(printf '\177') e=$(printf '\303\251')
	# input: "a/b \/ <TAB> é \u00e9 \u0001 \u001F \u0041 \" \\ \u2028 \u007f"
	create "$(min_body 104 | jq -c '.input_data = "x"' |
		sed 's|"input_data":"x"|"input_data":"a/b \\/ \\t '"$e"' \\u00e9 \\u0001 \\u001F \\u0041 \\" \\\\ \\u2028 \\u007f"|')"
	assert_equal "$status" 201
	expected="\"input_data\":\"a/b / \\t $e $e \\u0001 \\u001f A \\\" \\\\ $ls $del\""
	payload=$(coord_psql "SELECT payload FROM queue_items WHERE request_id = 104")
	[[ $payload == *"$expected"* ]] || {
		echo "payload: $payload"
		echo "expected to contain: $expected"
		false
	}
	want=$(min_payload 104)
	want=${want/'"input_data":"hello"'/"$expected"}
	assert_equal "$payload" "$want"
	poll "timeout=0&capabilities=compilation"
	assert_equal "$body" "$payload"
}

@test "payload: a partial context still has all nine keys, in order; secrets_ref reordered" {
	create "$(min_body 105 | jq -c '.context = {"receipt_id":"r","sender_id":"s"} | .secrets_ref = {"account_id":"a","profile":"p"} | .response_format = "Bytes"')"
	assert_equal "$status" 201
	payload=$(coord_psql "SELECT payload FROM queue_items WHERE request_id = 105")
	[[ $payload == *'"secrets_ref":{"profile":"p","account_id":"a"},"response_format":"Bytes","context":{"sender_id":"s","block_height":null,"block_timestamp":null,"contract_id":null,"transaction_hash":null,"receipt_id":"r","predecessor_id":null,"signer_public_key":null,"gas_burnt":null},"compile_only"'* ]]
}

# ------------------------------------------------------------------ repositories and checksums

# create_repo ID REPO EXPECTED: create with REPO; the payload's repo is EXPECTED (§3.2.1
# normalisation); the checksum uses the normalised repo: with sha256("EXPECTED:c1:wasm32-wasip1")
# cached, the item goes to the execute queue (§3.2.1 step 4, §3.2.5).
create_repo() {
	local id=$1 repo=$2 want=$3
	cache_wasm "$(sha "$want:c1:wasm32-wasip1")"
	create "$(min_body "$id" "$repo")"
	assert_equal "$status" 201
	assert_equal "$(coord_psql "SELECT payload FROM queue_items WHERE request_id = $id" | jq -r .code_source.repo)" "$want"
	assert_equal "$(coord_psql "SELECT queue FROM queue_items WHERE request_id = $id")" execute
	assert_equal "$(coord_psql "SELECT code_source->>'repo' FROM execution_requests WHERE request_id = $id")" "$want"
}

@test "repository normalisation: https:// and http:// are kept (with .git)" {
	create_repo 201 https://github.com/a/b.git https://github.com/a/b.git
	create_repo 202 http://example.com/x/y http://example.com/x/y
}

@test "repository normalisation: git@github.com:<p> and ssh://git@github.com/<p> -> https, one .git removed" {
	create_repo 211 git@github.com:owner/repo.git https://github.com/owner/repo
	create_repo 212 ssh://git@github.com/owner/repo2.git https://github.com/owner/repo2
	create_repo 213 git@github.com:owner/repo3 https://github.com/owner/repo3
	create_repo 214 git@github.com:o/r.git.git https://github.com/o/r.git
}

@test "repository normalisation: any other ssh:// is kept" {
	create_repo 221 ssh://git@gitlab.com/o/r.git ssh://git@gitlab.com/o/r.git
}

@test "repository normalisation: github.com/<p> gets https:// (no .git removal)" {
	create_repo 231 github.com/o/r https://github.com/o/r
	create_repo 232 github.com/o/r.git https://github.com/o/r.git
}

@test "repository normalisation: a value without / is kept; owner/repo -> https://github.com/owner/repo" {
	create_repo 241 localrepo localrepo
	create_repo 242 owner/repo https://github.com/owner/repo
	create_repo 243 owner/repo.git https://github.com/owner/repo.git
}

@test "checksum of a GitHub source uses repo:commit:build_target, build_target default wasm32-wasip1" {
	# a cached checksum for another build target does not make the item wasm_ok
	cache_wasm "$(sha "https://github.com/owner/app:c1:wasm32-unknown-unknown")"
	create "$(min_body 250)"
	assert_equal "$(coord_psql "SELECT queue FROM queue_items WHERE request_id = 250")" compile
	create "$(min_body 251 | jq -c '.code_source.build_target = "wasm32-unknown-unknown"')"
	assert_equal "$(coord_psql "SELECT queue FROM queue_items WHERE request_id = 251")" execute
	# a row without its file is not wasm_ok, and is deleted (§3.2.1 step 4)
	coord_psql "INSERT INTO wasm_cache (checksum, repo_url, commit_hash, file_size, content_hash,
		verified_size, verified_mtime_ns, verified_inode)
		VALUES ('$(sha "https://github.com/owner/app:c2:wasm32-wasip1")', 'r', 'c', 0, '$(sha '')', 0, 0, 0)"
	create "$(min_body 252 | jq -c '.code_source.commit = "c2"')"
	assert_equal "$(coord_psql "SELECT queue FROM queue_items WHERE request_id = 252")" compile
	assert_equal "$(coord_psql "SELECT count(*) FROM wasm_cache WHERE checksum = '$(sha "https://github.com/owner/app:c2:wasm32-wasip1")'")" 0
	# claim: checksum of the code_source as received, not normalised (§3.2.3, §3.2.5)
	poll "timeout=0&capabilities=compilation"
	poll "timeout=0&capabilities=compilation"
	claim "$(claim_body 252 '["compilation"]' | jq -c '.code_source.repo = "owner/app" | .code_source.commit = "c2"')"
	assert_equal "$status" 200
	assert_equal "$(jq -r '.jobs[0].wasm_checksum' <<<"$body")" "$(sha "owner/app:c2:wasm32-wasip1")"
	assert_equal "$(coord_psql "SELECT github_repo FROM jobs WHERE request_id = 252")" owner/app
}

@test "WasmUrl source: hash kept as received in the payload, checksum = lower-cased hash" {
	local upper lower
	lower=$(sha wasm-url-binary)
	upper=$(tr 'a-f' 'A-F' <<<"$lower")
	cache_wasm "$lower"
	create "$(min_body 260 | jq -c --arg h "$upper" '.code_source = {"hash":$h,"url":"https://cdn.example.com/m/app.wasm","type":"WasmUrl"}')"
	assert_equal "$status" 201
	payload=$(coord_psql "SELECT payload FROM queue_items WHERE request_id = 260")
	[[ $payload == *"\"code_source\":{\"type\":\"WasmUrl\",\"url\":\"https://cdn.example.com/m/app.wasm\",\"hash\":\"$upper\",\"build_target\":\"wasm32-wasip1\"},"* ]]
	# cached under the lower-case hash -> execute queue
	assert_equal "$(coord_psql "SELECT queue FROM queue_items WHERE request_id = 260")" execute
	poll "timeout=0&capabilities=execution"
	assert_equal "$status" 200
	claim "$(jq -c '{request_id, data_id, worker_id:"w", code_source, resource_limits, capabilities:["execution"]}' <<<"$body")"
	assert_equal "$status" 200
	assert_equal "$(jq -r '.jobs[0].wasm_checksum' <<<"$body")" "$lower"
	run sql "SELECT job_type, wasm_checksum, wasm_url, lower(wasm_content_hash), github_repo, github_commit
		FROM jobs WHERE request_id = 260"
	assert_output "execute|$lower|https://cdn.example.com/m/app.wasm|$lower|NULL|NULL"
}

# ------------------------------------------------------------------ dedupe (§3.2.1 step 3)

@test "create twice: 201 then 200 created:false, nothing changed (also with another body)" {
	create "$(min_body 301)"
	assert_equal "$status" 201
	assert_equal "$body" '{"request_id":301,"created":true}'
	before=$(snapshot)
	create "$(min_body 301)"
	assert_equal "$status" 200
	assert_equal "$body" '{"request_id":301,"created":false}'
	assert_equal "$(snapshot)" "$before"
	create "$(min_body 301 | jq -c '.input_data = "changed" | .force_rebuild = true')"
	assert_equal "$status" 200
	assert_equal "$body" '{"request_id":301,"created":false}'
	assert_equal "$(snapshot)" "$before"
	# still created:false while the item is leased, then claimed, then while a job exists
	poll "timeout=0&capabilities=compilation"
	create "$(min_body 301)"
	assert_equal "$body" '{"request_id":301,"created":false}'
	claim "$(claim_body 301 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	create "$(min_body 301)"
	assert_equal "$body" '{"request_id":301,"created":false}'
	complete "{\"job_id\":$job,\"success\":false,\"time_ms\":1}"
	coord_psql "UPDATE queue_items SET state = 'done', close_reason = 'superseded', closed_at = now() WHERE state = 'queued'"
	create "$(min_body 301)"
	assert_equal "$status" 200
	assert_equal "$body" '{"request_id":301,"created":false}'
}

@test "create: created:false when the stored request has another data_id or is an HTTPS request" {
	coord_psql "INSERT INTO execution_requests (request_id, data_id) VALUES (310, 'other')"
	coord_psql "INSERT INTO execution_requests (request_id, data_id, is_https_call, call_id)
		VALUES (311, 'd-311', true, gen_random_uuid())"
	before=$(snapshot)
	create "$(min_body 310)"
	assert_equal "$status" 200
	assert_equal "$body" '{"request_id":310,"created":false}'
	create "$(min_body 311)"
	assert_equal "$status" 200
	assert_equal "$body" '{"request_id":311,"created":false}'
	assert_equal "$(snapshot)" "$before"
}

@test "create again after the previous item was closed without a job: a new item" {
	create "$(min_body 320)"
	coord_psql "UPDATE queue_items SET state = 'dead', close_reason = 'max_moves', closed_at = now()"
	create "$(min_body 320 | jq -c '.input_data = "v2" | .project_id = "o/p" | .attached_usd = "9"')"
	assert_equal "$status" 201
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE request_id = 320 AND state = 'queued'")" 1
	# upsert: columns overwritten; attached_usd/project_id/project_uuid kept when absent (step 5)
	create "$(min_body 321)"
	coord_psql "UPDATE queue_items SET state = 'dead', close_reason = 'max_moves', closed_at = now() WHERE request_id IN (320, 321)"
	create "$(min_body 320 | jq -c '.input_data = "v3"')"
	assert_equal "$status" 201
	run sql "SELECT input_data, project_id, attached_usd FROM execution_requests WHERE request_id = 320"
	assert_output "v3|o/p|9"
}

# ------------------------------------------------------------------ failed and compile-only compiles

@test "a failed compile stores compile_error and enqueues the zero-limit execute item" {
	create "$(min_body 401)"
	poll "timeout=0&capabilities=compilation"
	base=$body
	claim "$(claim_body 401 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":false,\"time_ms\":77,\"error\":\"E: boom\",\"error_category\":\"compilation_failed\",\"compile_cost_yocto\":\"5\"}"
	assert_equal "$status" 200
	# step 2: failure status, error_details and compile_error := error, no compile_time_ms
	run sql "SELECT status, compile_error, error_details, compile_time_ms, compile_cost_yocto,
		lease_id, completed_at IS NOT NULL FROM jobs WHERE job_id = $job"
	assert_output "compilation_failed|E: boom|E: boom|NULL|5|NULL|t"
	# step 7: compile_time_ms = time_ms for compile jobs, also on failure
	run sql "SELECT success, compile_time_ms, execution_time_ms FROM execution_results WHERE job_id = $job"
	assert_output "f|77|NULL"
	# step 6 / §3.1.2: zero limits, empty input, compile_only and force_rebuild false
	expected=$(printf %s "$base" |
		sed -e 's|"resource_limits":{[^}]*}|"resource_limits":{"max_instructions":0,"max_memory_mb":0,"max_execution_seconds":0}|' \
			-e 's|"input_data":"hello"|"input_data":""|')
	run sql "SELECT queue, state, payload FROM queue_items WHERE request_id = 401 AND item_id <> (SELECT min(item_id) FROM queue_items WHERE request_id = 401)"
	assert_output "execute|queued|$expected"
	# an executor gets it and claims it (row E7), seeing the compile error
	poll "timeout=0&capabilities=execution"
	assert_equal "$body" "$expected"
	claim "$(claim_body 401 '["execution"]')"
	assert_equal "$(jq -r '.jobs[0].job_type' <<<"$body")" execute
	assert_equal "$(jq -r '.jobs[0].compile_error' <<<"$body")" "E: boom"
	assert_equal "$(jq -r '.jobs[0].compile_cost_yocto' <<<"$body")" 5
	assert_equal "$(jq -r '.jobs[0] | has("compile_time_ms")' <<<"$body")" false
	ejob=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$ejob,\"success\":false,\"time_ms\":0,\"error\":\"E: boom\",\"error_category\":\"compilation_failed\"}"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE state <> 'done'")" 0
}

@test "a failed compile without an error text stores compile_error 'Compilation failed'" {
	create "$(min_body 402)"
	poll "timeout=0&capabilities=compilation"
	claim "$(claim_body 402 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":false,\"time_ms\":1}"
	assert_equal "$status" 200
	# error_category defaults to failed; error_details := error (absent)
	run sql "SELECT status, compile_error, error_details FROM jobs WHERE job_id = $job"
	assert_output "failed|Compilation failed|NULL"
}

@test "compile_only: the compile result is stored and passed on; without one nothing is enqueued" {
	# §3.2.1 step 4: compile_only -> compile queue even with the binary cached
	cache_wasm "$(min_checksum)"
	create "$(min_body 410 | jq -c '.compile_only = true')"
	assert_equal "$(coord_psql "SELECT queue FROM queue_items WHERE request_id = 410")" compile
	poll "timeout=0&capabilities=compilation,execution"
	base=$body
	# needs_compile although cached (compile_only without result): row C1
	claim "$(claim_body 410 '["compilation","execution"]' '"compile_only":true')"
	assert_equal "$(jq -r '.jobs[0].job_type' <<<"$body")" compile
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":9,\"compile_result\":\"RESULT/1\"}"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT compile_result FROM execution_requests WHERE request_id = 410")" RESULT/1
	run coord_psql "SELECT payload FROM queue_items WHERE request_id = 410 AND queue = 'execute'"
	assert_output "${base%\}},\"compile_result\":\"RESULT/1\"}"
	# the executor claims with has_compile_result: row E7
	poll "timeout=0&capabilities=execution"
	claim "$(claim_body 410 '["execution"]' '"compile_only":true,"has_compile_result":true')"
	assert_equal "$(jq -r '.jobs[0].job_type' <<<"$body")" execute

	# compile_only completion without compile_result: nothing enqueued, result row written
	create "$(min_body 411 | jq -c '.compile_only = true')"
	poll "timeout=0&capabilities=compilation"
	claim "$(claim_body 411 '["compilation"]' '"compile_only":true')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":9}"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE request_id = 411")" 1
	assert_equal "$(coord_psql "SELECT count(*) FROM execution_results WHERE job_id = $job")" 1
	assert_equal "$(sql "SELECT compile_result FROM execution_requests WHERE request_id = 411")" NULL
}

# ------------------------------------------------------------------ completion side effects (§3.2.4)

@test "completion closes the job's item (completed) and other open items of its queue (superseded)" {
	create "$(min_body 420)"
	poll "timeout=0&capabilities=compilation"
	claim "$(claim_body 420 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	# stray duplicates of the same request: one queued and one leased in compile, one in execute
	coord_psql "INSERT INTO queue_items (queue, payload, request_id, data_id, state) VALUES
		('compile', '{}', 420, 'd-420', 'queued'), ('execute', '{}', 420, 'd-420', 'queued')"
	coord_psql "INSERT INTO queue_items (queue, payload, request_id, data_id, state, attempts, lease_id,
		leased_to, leased_at, lease_expires_at) VALUES ('compile', '{}', 420, 'd-420', 'leased', 1,
		gen_random_uuid(), 'x', now(), now() + interval '1 minute')"
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":1}"
	assert_equal "$status" 200
	run sql "SELECT queue, state, close_reason FROM queue_items WHERE request_id = 420 AND payload = '{}' ORDER BY item_id"
	assert_output "compile|done|superseded
execute|queued|NULL
compile|done|superseded"
	assert_equal "$(sql "SELECT state || '/' || close_reason FROM queue_items WHERE job_id = $job")" done/completed
	# the wasm_checksum the completion omitted is kept from the claim (step 2)
	assert_equal "$(coord_psql "SELECT wasm_checksum FROM jobs WHERE job_id = $job")" "$(min_checksum)"
}

@test "compile success without a stored item or request row enqueues nothing (one warning line)" {
	# a claim for a request that was never created: C1 inserts a compile job
	claim "$(claim_body 430 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	[[ $job =~ ^[0-9]+$ ]]
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":1}"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items")" 0
	assert_equal "$(coord_redis LLEN outlayer:execute)" 0
	# step 7 still writes the result row, with is_https_call false and no project (ER absent)
	run sql "SELECT success, is_https_call, call_id, project_id FROM execution_results WHERE job_id = $job"
	assert_output "t|f|NULL|NULL"
	run bash -c "tail -c +$((COORD__LOG_OFFSET + 1)) '$COORD_STATE_DIR/fcgi-stderr.log' | grep -c '\"level\":\"warn\"'"
	assert_output 1
}

@test "compile success without any item: the execute payload is rebuilt from the stored request" {
	create "$(min_body 431 | jq -c '.secrets_ref = {"profile":"p","account_id":"a"} | .unknown_key = 1')"
	# no item at all (deleted, as by the 7-day retention): the compile job is claimed without
	# a lease, and there is no "newest item of the request" to derive from
	coord_psql "DELETE FROM queue_items WHERE request_id = 431"
	coord_redis DEL outlayer:compile >/dev/null
	claim "$(claim_body 431 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":1,\"compile_result\":\"r\"}"
	assert_equal "$status" 200
	# §3.1.2 rebuild: the blockchain shape from the execution_requests row (unknown keys
	# lost), then compile_result appended and force_rebuild false
	want=$(min_payload 431)
	want=${want/'"input_data":"hello",'/'"input_data":"hello","secrets_ref":{"profile":"p","account_id":"a"},'}
	want="${want%\}},\"compile_result\":\"r\"}"
	assert_equal "$(coord_psql "SELECT payload FROM queue_items WHERE request_id = 431 AND queue = 'execute'")" "$want"
}

@test "compile success without a bound item: the newest item of the request is the base" {
	create "$(min_body 433 | jq -c '.unknown_key = 1')"
	coord_psql "UPDATE queue_items SET state = 'done', close_reason = 'superseded', closed_at = now() WHERE request_id = 433"
	base=$(coord_psql "SELECT payload FROM queue_items WHERE request_id = 433")
	claim "$(claim_body 433 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":1}"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT payload FROM queue_items WHERE request_id = 433 AND queue = 'execute'")" "$base"
}

@test "a failed compile enqueues no zero-limit item when an execute job already exists" {
	create "$(min_body 432)"
	poll "timeout=0&capabilities=compilation"
	claim "$(claim_body 432 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status) VALUES (432, 'd-432', 'execute', 'completed')"
	complete "{\"job_id\":$job,\"success\":false,\"time_ms\":1,\"error\":\"E\"}"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE queue = 'execute'")" 0
	assert_equal "$(coord_redis LLEN outlayer:execute)" 0
}

@test "blockchain earnings: refund clamped to attached_usd; none without project_id or attached_usd" {
	cache_wasm "$(min_checksum)"
	run_execute() { # ID BODY-FILTER COMPLETION-EXTRA
		create "$(min_body "$1" | jq -c "$2")"
		poll "timeout=0&capabilities=execution"
		claim "$(claim_body "$1" '["execution"]')"
		complete "{\"job_id\":$(jq -r '.jobs[0].job_id' <<<"$body"),\"success\":true,\"time_ms\":1$3}"
		assert_equal "$status" 200
	}
	run_execute 440 '.attached_usd = "5" | .project_id = "own.near/p" | .transaction_hash = "t"' ',"refund_usd":"100"'
	run_execute 441 '.attached_usd = "5"' ',"refund_usd":"1"'
	run_execute 442 '.attached_usd = "0" | .project_id = "own.near/p"' ''
	run_execute 443 '.project_id = "own.near/p"' ''
	run sql "SELECT request_id, project_owner, attached_usd, refund_usd, amount, tx_hash, caller FROM earnings_history"
	assert_output "440|own.near|5|5|0|t|NULL"
}

# ------------------------------------------------------------------ errors: create

@test "create: 401 without a token, 415 without a JSON content type, 400 invalid_json" {
	req POST /executions/create -H 'Content-Type: application/json' --data-binary "$(min_body 501)"
	expect_error 401 unauthorized
	wreq POST /executions/create -H 'Content-Type: text/plain' --data-binary "$(min_body 501)"
	expect_error 415 unsupported_media_type
	wreq POST /executions/create --data-binary "$(min_body 501)"
	expect_error 415 unsupported_media_type
	wreq POST /executions/create
	expect_error 415 unsupported_media_type
	# media type case-insensitive, parameters allowed
	wreq POST /executions/create -H 'Content-Type: Application/JSON; charset=utf-8' --data-binary "$(min_body 501)"
	assert_equal "$status" 201
	post_json /executions/create '{"request_id":'
	expect_error 400 invalid_json
	post_json /executions/create '{"request_id":NaN}'
	expect_error 400 invalid_json
	post_json /executions/create ''
	expect_error 400 invalid_json
	assert_equal "$(coord_psql "SELECT count(*) FROM execution_requests")" 1
}

@test "create: 422 with details.field for every kind of shape error, nothing stored" {
	local b
	b=$(min_body 502)
	create "$(jq -c 'del(.request_id)' <<<"$b")"
	expect_422 request_id missing
	create "$(jq -c '.data_id = null' <<<"$b")"
	expect_422 data_id missing
	create "$(jq -c '.request_id = -1' <<<"$b")"
	expect_422 request_id range
	create "$(jq -c '.request_id = "5"' <<<"$b")"
	expect_422 request_id type
	create "$(jq -c '.code_source.type = "Bitbucket"' <<<"$b")"
	expect_422 code_source.type enum
	create "$(jq -c 'del(.code_source.commit)' <<<"$b")"
	expect_422 code_source.commit missing
	create "$(jq -c '.code_source = {"type":"WasmUrl","url":"https://x/y.wasm","hash":"abc"}' <<<"$b")"
	expect_422 code_source.hash format
	create "$(jq -c '.code_source.repo = ("r" * 513)' <<<"$b")"
	expect_422 code_source.repo
	create "$(jq -c '.code_source.build_target = ("t" * 65)' <<<"$b")"
	expect_422 code_source.build_target
	# u32 above 4294967295
	create "${b/'"max_memory_mb":64'/'"max_memory_mb":4294967296'}"
	expect_422 resource_limits.max_memory_mb range
	# u64 fields limited to 2^63-1 (§1.3)
	create "${b/'"max_instructions":1000000'/'"max_instructions":9223372036854775808'}"
	expect_422 resource_limits.max_instructions range
	create "$(jq -c 'del(.resource_limits.max_execution_seconds)' <<<"$b")"
	expect_422 resource_limits.max_execution_seconds missing
	create "$(jq -c '.resource_limits.max_memory_mb = 1.5' <<<"$b")"
	expect_422 resource_limits.max_memory_mb type
	create "$(jq -c '.context = {"block_height":"12"}' <<<"$b")"
	expect_422 context.block_height type
	create "$(jq -c '.near_payment_yocto = "1.5"' <<<"$b")"
	expect_422 near_payment_yocto format
	create "$(jq -c '.attached_usd = ("1" * 39)' <<<"$b")"
	expect_422 attached_usd
	create "$(jq -c '.response_format = "Xml"' <<<"$b")"
	expect_422 response_format enum
	create "$(jq -c '.secrets_ref = {"profile":"p"}' <<<"$b")"
	expect_422 secrets_ref.account_id missing
	create "$(jq -c '.compile_only = "true"' <<<"$b")"
	expect_422 compile_only type
	create "$(jq -c '.project_uuid = ("u" * 65)' <<<"$b")"
	expect_422 project_uuid
	create "$(jq -c '.project_id = ("p" * 129)' <<<"$b")"
	expect_422 project_id
	create "$(jq -c '.input_data = 5' <<<"$b")"
	expect_422 input_data type
	# any integer literal outside -2^63..2^64-1, anywhere in the body (§1.3)
	create "${b%\}},\"extra\":{\"n\":[18446744073709551616]}}"
	expect_422 'extra.n[0]' range
	# any string containing U+0000 (§1.3)
	create "${b/'"input_data":"hello"'/'"input_data":"a\u0000b"'}"
	expect_422 input_data format
	create '[1,2]'
	assert_equal "$status" 422
	assert_equal "$(err)" invalid_request_body
	assert_equal "$(coord_psql "SELECT count(*) FROM execution_requests") $(coord_psql "SELECT count(*) FROM queue_items")" "0 0"
}

@test "create: boundaries accepted (u32 max, 2^63-1, 256-character strings, 512-character repo)" {
	local d r p b
	d=$(printf 'd%.0s' {1..256}) r=$(printf 'r%.0s' {1..512}) p=$(printf 'p%.0s' {1..128})
	# built by hand: jq 1.6 would round 2^63-1
	b='{"request_id":9223372036854775807,"data_id":"'$d'","code_source":{"type":"GitHub","repo":"'$r'","commit":"c1"},"resource_limits":{"max_instructions":9223372036854775807,"max_memory_mb":4294967295,"max_execution_seconds":0},"input_data":"","project_id":"'$p'"}'
	create "$b"
	assert_equal "$status" 201
	assert_equal "$body" '{"request_id":9223372036854775807,"created":true}'
	payload=$(coord_psql "SELECT payload FROM queue_items")
	[[ $payload == '{"request_id":9223372036854775807,"data_id":"'$d'","code_source":{"type":"GitHub","repo":"'$r'",'* ]]
	[[ $payload == *'"resource_limits":{"max_instructions":9223372036854775807,"max_memory_mb":4294967295,"max_execution_seconds":0},'* ]]
	create "$(min_body 503 | jq -c '.data_id = ("d" * 257)')"
	expect_422 data_id
}

# ------------------------------------------------------------------ errors: poll

@test "poll: 401, 400 invalid_parameter for a bad timeout or queue, 400 invalid_capabilities" {
	req GET "/executions/poll?timeout=0&capabilities=compilation"
	expect_error 401 unauthorized
	for q in "timeout=-1&capabilities=compilation" "timeout=abc&capabilities=compilation" \
		"timeout=&capabilities=compilation" "timeout&capabilities=compilation" \
		"timeout=1.5&capabilities=compilation" "timeout=0&queue=other" \
		"timeout=0&queue=&capabilities=compilation" "timeout=0&queue=Compile"; do
		poll "$q"
		assert_equal "$status $(err)" "400 invalid_parameter"
	done
	for q in "timeout=0" "timeout=0&capabilities=gpu" "timeout=0&capabilities=" \
		"timeout=0&capabilities=Compilation,EXECUTION"; do
		poll "$q"
		assert_equal "$status $(err)" "400 invalid_capabilities"
	done
}

@test "poll: capabilities trimmed and unknown entries ignored; queue overrides capabilities" {
	create "$(min_body 510)"
	# queue=execute overrides capabilities=compilation: the compile item is not seen
	poll "timeout=0&queue=execute&capabilities=compilation"
	assert_equal "$status" 204
	assert_equal "$body" ""
	poll "timeout=0&capabilities=gpu,+compilation+,x"
	assert_equal "$status" 200
	assert_equal "$(jq -r .request_id <<<"$body")" 510
	cache_wasm "$(min_checksum)"
	create "$(min_body 511)"
	poll "timeout=0&queue=execute"
	assert_equal "$status" 200
	assert_equal "$(jq -r .request_id <<<"$body")" 511
	# a timeout above 120 is accepted (treated as 120) and answers at once when an item waits
	create "$(min_body 512 other/app)"
	assert_equal "$(coord_psql "SELECT queue FROM queue_items WHERE request_id = 512")" compile
	poll "timeout=100000&capabilities=compilation" --max-time 10
	assert_equal "$status" 200
	assert_equal "$(jq -r .request_id <<<"$body")" 512
}

@test "poll: compile before execute, FIFO within a queue" {
	cache_wasm "$(min_checksum)"
	create "$(min_body 520)" # execute
	create "$(min_body 521 other/app)" # compile
	create "$(min_body 522 other/app)" # compile
	got=()
	for _ in 1 2 3; do
		poll "timeout=0&capabilities=execution,compilation"
		assert_equal "$status" 200
		got+=("$(jq -r .request_id <<<"$body")")
	done
	assert_equal "${got[*]}" "521 522 520"
	poll "timeout=0&capabilities=execution,compilation"
	assert_equal "$status" 204
}

@test "poll: HEAD and POST answer 405 and never lease an item" {
	create "$(min_body 530)"
	wreq HEAD "/executions/poll?timeout=0&capabilities=compilation"
	assert_equal "$status" 405
	wreq POST "/executions/poll?timeout=0&capabilities=compilation"
	expect_error 405 method_not_allowed
	assert_equal "$(header Allow)" GET
	assert_equal "$(coord_psql "SELECT state || attempts FROM queue_items")" queued0
}

@test "poll: stale, foreign-queue and garbage values in Redis are discarded; the next value is served" {
	create "$(min_body 560)"
	good=$(item_of 560)
	cache_wasm "$(min_checksum)"
	create "$(min_body 561)" # an execute item
	exec_item=$(item_of 561)
	coord_redis DEL outlayer:compile outlayer:execute >/dev/null
	# RPOP order: unknown id, the execute item's id on the compile list, garbage, a JSON
	# object without data_id, then the real item
	coord_redis LPUSH outlayer:compile 999999 "$exec_item" "hello" '{"request_id":1}' "$good" >/dev/null
	coord_redis LPUSH outlayer:compile "$good" >/dev/null # a duplicate id
	list=$(coord_redis LRANGE outlayer:compile 0 -1 | tr '\n' ' ')
	assert_equal "$list" "$good $good {\"request_id\":1} hello $exec_item 999999 "
	poll "timeout=0&capabilities=compilation"
	assert_equal "$status" 200
	assert_equal "$(jq -r .request_id <<<"$body")" 560
	assert_equal "$(coord_psql "SELECT state FROM queue_items WHERE item_id = $exec_item")" queued
	# the duplicate id is stale now: discarded, and nothing else is there
	poll "timeout=0&capabilities=compilation"
	assert_equal "$status" 204
	assert_equal "$(coord_redis LLEN outlayer:compile)" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items")" 2
}

@test "poll: a JSON item pushed by an outside producer is stored as a leased item and answered verbatim" {
	text='{"request_id":570, "data_id":"ext-1","extra":[1.0]}'
	coord_redis LPUSH outlayer:execute "$text" >/dev/null
	poll "timeout=0&capabilities=execution"
	assert_equal "$status" 200
	assert_equal "$body" "$text"
	run sql "SELECT queue, state, attempts, request_id, data_id, leased_to, payload FROM queue_items"
	assert_output "execute|leased|1|570|ext-1|$TOKEN_HASH|$text"
}

# ------------------------------------------------------------------ errors: claim

@test "claim: 401, 415, 400 invalid_json, 422, 400 invalid_capabilities" {
	req POST /jobs/claim -H 'Content-Type: application/json' --data-binary "$(claim_body 540 '["compilation"]')"
	expect_error 401 unauthorized
	wreq POST /jobs/claim -H 'Content-Type: text/plain' --data-binary "$(claim_body 540 '["compilation"]')"
	expect_error 415 unsupported_media_type
	claim '{"request_id":540,'
	expect_error 400 invalid_json
	claim "$(claim_body 540 '["compilation"]' | jq -c 'del(.worker_id)')"
	expect_422 worker_id missing
	claim "$(claim_body 540 '["compilation"]' | jq -c '.worker_id = ("w" * 129)')"
	expect_422 worker_id
	claim "$(claim_body 540 '["compilation"]' | jq -c 'del(.resource_limits)')"
	expect_422 resource_limits missing
	claim "$(claim_body 540 '["compilation"]' | jq -c '.code_source.type = "Zip"')"
	expect_422 code_source.type enum
	claim "$(claim_body 540 '"compilation"')"
	expect_422 capabilities type
	claim "$(claim_body 540 '["compilation",5]')"
	expect_422 'capabilities[1]' type
	claim "$(claim_body 540 '["compilation"]' '"has_compile_result":1')"
	expect_422 has_compile_result type
	claim "$(claim_body 540 '["compilation"]' '"near_payment_yocto":"-1"')"
	expect_422 near_payment_yocto format
	# a shape error wins over the capability check (§0.3)
	claim "$(claim_body 540 '[]' | jq -c 'del(.data_id)')"
	expect_422 data_id missing
	for caps in '[]' '["gpu"]' '["Compilation"]'; do
		claim "$(claim_body 540 "$caps")"
		assert_equal "$status $(err)" "400 invalid_capabilities"
	done
	claim "$(claim_body 540 '[]' | jq -c 'del(.capabilities)')"
	assert_equal "$status $(err)" "400 invalid_capabilities"
	assert_equal "$(coord_psql "SELECT count(*) FROM jobs")" 0
}

# ------------------------------------------------------------------ errors: complete

@test "complete: 401, 415, 400, 422, 404 job_not_found" {
	req POST /jobs/complete -H 'Content-Type: application/json' --data-binary '{"job_id":1,"success":true,"time_ms":1}'
	expect_error 401 unauthorized
	wreq POST /jobs/complete -H 'Content-Type: text/plain' --data-binary '{"job_id":1,"success":true,"time_ms":1}'
	expect_error 415 unsupported_media_type
	complete '{"job_id":1,"success":true,'
	expect_error 400 invalid_json
	complete '{"success":true,"time_ms":1}'
	expect_422 job_id missing
	complete '{"job_id":"1","success":true,"time_ms":1}'
	expect_422 job_id type
	complete '{"job_id":1,"success":"yes","time_ms":1}'
	expect_422 success type
	complete '{"job_id":1,"success":true}'
	expect_422 time_ms missing
	complete '{"job_id":1,"success":true,"time_ms":-1}'
	expect_422 time_ms range
	# error_category is validated whatever success says; non-failure statuses rejected (§7)
	for cat in bogus pending in_progress completed; do
		complete "{\"job_id\":1,\"success\":true,\"time_ms\":1,\"error_category\":\"$cat\"}"
		expect_422 error_category enum
	done
	complete '{"job_id":1,"success":true,"time_ms":1,"refund_usd":"abc"}'
	expect_422 refund_usd format
	complete '{"job_id":1,"success":true,"time_ms":1,"wasm_checksum":"'"$(printf 'a%.0s' {1..65})"'"}'
	expect_422 wasm_checksum
	complete '{"job_id":999999,"success":true,"time_ms":1}'
	expect_error 404 job_not_found
}

@test "complete: a second completion answers 409 job_already_completed and changes nothing" {
	create "$(min_body 550)"
	poll "timeout=0&capabilities=compilation"
	claim "$(claim_body 550 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":10}"
	assert_equal "$status" 200
	before=$(snapshot)
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":10}"
	expect_error 409 job_already_completed
	complete "{\"job_id\":$job,\"success\":false,\"time_ms\":99,\"error\":\"late\",\"compile_result\":\"x\"}"
	expect_error 409 job_already_completed
	assert_equal "$(snapshot)" "$before"

	# also for a job in a failure status
	cache_wasm "$(min_checksum)"
	poll "timeout=0&capabilities=execution"
	claim "$(claim_body 550 '["execution"]')"
	ejob=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$ejob,\"success\":false,\"time_ms\":1,\"error_category\":\"access_denied\"}"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT status FROM jobs WHERE job_id = $ejob")" access_denied
	before=$(snapshot)
	complete "{\"job_id\":$ejob,\"success\":true,\"time_ms\":1}"
	expect_error 409 job_already_completed
	assert_equal "$(snapshot)" "$before"
}
