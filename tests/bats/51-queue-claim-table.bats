#!/usr/bin/env bats
# POST /jobs/claim: every row of the decision table of SPEC §3.2.3 (C1-C3, E1-E7, X1-X3),
# each set up through SQL (execution_requests, jobs and a leased queue_items row; a
# wasm_cache row plus an empty file for wasm_ok) and checked through the claim answer and the
# item's fate (§3.1.1 "Claim": claimed / done superseded / moved to the other queue with
# moves + 1 and RPUSHed / dead max_moves).

load ../helpers/coord

setup_file() {
	export NEAR_RPC_URL=off
	coord_start_stack
	TOKEN=$(coord_worker_token claim-table)
	TOKEN_HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
	CS=$(printf %s "https://github.com/owner/app:c1:wasm32-wasip1" | sha256sum | cut -d' ' -f1)
	export TOKEN TOKEN_HASH CS
}

setup() {
	coord_test_setup
	coord_psql "DELETE FROM execution_results; DELETE FROM queue_items; DELETE FROM jobs;
		DELETE FROM execution_requests; DELETE FROM https_calls; DELETE FROM wasm_cache"
	coord_redis DEL outlayer:compile outlayer:execute >/dev/null
	mkdir -p "$WASM_CACHE_DIR"
	rm -f "$WASM_CACHE_DIR"/*.wasm
}

# ------------------------------------------------------------------ helpers

sql() { coord_psql "$1" -P null=NULL; }

# add_request ID [compile_only] [force_rebuild] [max_execution_seconds]: the stored request.
add_request() {
	coord_psql "INSERT INTO execution_requests (request_id, data_id, code_source, input_data,
		max_instructions, max_memory_mb, max_execution_seconds, compile_only, force_rebuild)
		VALUES ($1, 'd-$1', '{\"type\":\"GitHub\",\"repo\":\"https://github.com/owner/app\",\"commit\":\"c1\",\"build_target\":\"wasm32-wasip1\"}',
		'', 1000, 64, ${4:-10}, ${2:-false}, ${3:-false})"
}

# leased_item ID QUEUE [LEASED_TO] [MOVES]: an item as a poll leaves it (§3.1.1 step 3);
# prints its item_id.
leased_item() {
	coord_psql "INSERT INTO queue_items (queue, payload, request_id, data_id, state, attempts,
		moves, lease_id, leased_to, leased_at, lease_expires_at, pushed_at)
		VALUES ('$2', '{\"request_id\":$1,\"data_id\":\"d-$1\"}', $1, 'd-$1', 'leased', 1,
		${4:-0}, gen_random_uuid(), '${3:-$TOKEN_HASH}', now(), now() + interval '60 seconds', now())
		RETURNING item_id"
}

# add_job ID TYPE STATUS [COMPILE_ERROR]: an existing job, created at 2020-01-01T00:00:00.9Z;
# prints its job_id.
add_job() {
	local lease=NULL exp=NULL err=NULL done=NULL
	if [[ $3 == in_progress ]]; then
		lease='gen_random_uuid()' exp="now() + interval '300 seconds'"
	fi
	[[ $3 == pending || $3 == in_progress ]] || done="now() - interval '1 minute'"
	[[ -z ${4:-} ]] || err="'$4'"
	coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status, worker_id, token_hash,
		wasm_checksum, project_uuid, attempts, lease_id, lease_expires_at, compile_error,
		error_details, completed_at, created_at)
		VALUES ($1, 'd-$1', '$2', '$3', 'old-worker', 'old-hash', 'old-checksum', 'old-uuid', 1,
		$lease, $exp, $err, $err, $done, '2020-01-01 00:00:00.9+00') RETURNING job_id"
}

# cache_wasm [CHECKSUM]: a cached binary, row and (empty) file: wasm_ok.
cache_wasm() {
	local c=${1:-$CS}
	: >"$WASM_CACHE_DIR/$c.wasm"
	coord_psql "INSERT INTO wasm_cache (checksum, repo_url, commit_hash, file_size, content_hash,
		verified_size, verified_mtime_ns, verified_inode)
		VALUES ('$c', 'https://github.com/owner/app', 'c1', 0, repeat('0', 64), 0, 0, 0)"
}

# claim_body ID CAPS [extra members]: the claim a worker sends after polling request ID.
claim_body() {
	printf '{"request_id":%s,"data_id":"d-%s","worker_id":"worker-1","code_source":{"type":"GitHub","repo":"https://github.com/owner/app","commit":"c1","build_target":"wasm32-wasip1"},"resource_limits":{"max_instructions":1000,"max_memory_mb":64,"max_execution_seconds":10},"capabilities":%s%s}' \
		"$1" "$1" "$2" "${3:+,$3}"
}

claim() {
	req POST /jobs/claim -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "$1"
	assert_equal "$status" 200
}

# The answer's job: "none" when jobs is empty, else "<job_type> <job_id>".
answered_job() { jq -r 'if (.jobs | length) == 0 then "none" else "\(.jobs[0].job_type) \(.jobs[0].job_id)" end' <<<"$body"; }

# item ITEM_ID: "state|close_reason|queue|moves|job_id|lease cleared"
item() {
	sql "SELECT state, close_reason, queue, moves, job_id,
		lease_id IS NULL AND leased_to IS NULL AND leased_at IS NULL AND lease_expires_at IS NULL
		FROM queue_items WHERE item_id = $1"
}

# job JOB_ID: "status|attempts|worker_id|lease set"
job() { sql "SELECT status, attempts, worker_id, lease_id IS NOT NULL FROM jobs WHERE job_id = $1"; }

# lists: the two Redis lists, e.g. "compile=[7 ] execute=[]" (RPOP takes the rightmost).
list_ids() { coord_redis LRANGE "$1" 0 -1 | { grep -v '^$' || true; } | tr '\n' ' '; }
lists() { echo "compile=[$(list_ids outlayer:compile)] execute=[$(list_ids outlayer:execute)]"; }

jobs_count() { coord_psql "SELECT count(*) FROM jobs"; }

# ------------------------------------------------------------------ branch C

@test "C1: a compiler claims an uncompiled request without compile job -> compile job inserted, item claimed" {
	add_request 1
	it=$(leased_item 1 compile)
	claim "$(claim_body 1 '["compilation"]' '"project_id":"o/p","user_account_id":"u.near","near_payment_yocto":"00042","transaction_hash":"tx"')"
	read -r type id <<<"$(answered_job)"
	assert_equal "$type" compile
	# inserted row (§3.2.3 "Inserted job rows"); compile lease = max(300, 300 + 60)
	run sql "SELECT request_id, data_id, job_type, status, worker_id, token_hash, wasm_checksum,
		github_repo, github_commit, build_target, project_uuid, project_id, user_account_id,
		near_payment_yocto, transaction_hash, attempts,
		extract(epoch FROM lease_expires_at - claimed_at)::int FROM jobs WHERE job_id = $id"
	assert_output "1|d-1|compile|in_progress|worker-1|$TOKEN_HASH|$CS|https://github.com/owner/app|c1|wasm32-wasip1|NULL|o/p|u.near|42|tx|1|360"
	assert_equal "$(item "$it")" "claimed|NULL|compile|0|$id|t"
	assert_equal "$(lists)" "compile=[] execute=[]"
}

@test "C2: a pending compile job is taken over (same job, attempts + 1, fields from this claim)" {
	add_request 2
	j=$(add_job 2 compile pending)
	coord_psql "UPDATE jobs SET completed_at = now(), error_details = 'old' WHERE job_id = $j"
	it=$(leased_item 2 compile)
	claim "$(claim_body 2 '["compilation"]' '"project_id":"o/p"')"
	assert_equal "$(answered_job)" "compile $j"
	# created_at: unix seconds of the job row's creation, unchanged by the take-over (§1.5)
	assert_equal "$(jq .jobs[0].created_at <<<"$body")" 1577836800
	# take over: in_progress, new lease, attempts + 1, completed_at/error_details/compile_error
	# cleared, wasm_checksum/worker_id/token_hash/project_* from this claim (absent -> NULL)
	run sql "SELECT status, attempts, worker_id, token_hash, wasm_checksum, project_uuid, project_id,
		completed_at, error_details, compile_error, lease_id IS NOT NULL, claimed_at IS NOT NULL
		FROM jobs WHERE job_id = $j"
	assert_output "in_progress|2|worker-1|$TOKEN_HASH|$CS|NULL|o/p|NULL|NULL|NULL|t|t"
	assert_equal "$(item "$it")" "claimed|NULL|compile|0|$j|t"
	assert_equal "$(jobs_count)" 1
}

@test "C2: a completed compile job whose binary was evicted is taken over (row without file deleted)" {
	add_request 3
	j=$(add_job 3 compile completed)
	# a wasm_cache row without its file: not wasm_ok; deleted on the spot
	coord_psql "INSERT INTO wasm_cache (checksum, repo_url, commit_hash, file_size, content_hash,
		verified_size, verified_mtime_ns, verified_inode) VALUES ('$CS', 'r', 'c', 0, repeat('0', 64), 0, 0, 0)"
	it=$(leased_item 3 compile)
	claim "$(claim_body 3 '["compilation","execution"]')"
	assert_equal "$(answered_job)" "compile $j"
	assert_equal "$(job "$j")" "in_progress|2|worker-1|t"
	assert_equal "$(sql "SELECT completed_at FROM jobs WHERE job_id = $j")" NULL
	assert_equal "$(item "$it")" "claimed|NULL|compile|0|$j|t"
	assert_equal "$(coord_psql "SELECT count(*) FROM wasm_cache")" 0
}

@test "C3: a compiler-only claim while the compile job runs -> no job, item done/superseded" {
	add_request 4
	j=$(add_job 4 compile in_progress)
	it=$(leased_item 4 compile)
	claim "$(claim_body 4 '["compilation"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(jq -c . <<<"$body" | jq -c 'keys_unsorted')" '["jobs","pricing"]'
	assert_equal "$(item "$it")" "done|superseded|compile|0|NULL|t"
	assert_equal "$(sql "SELECT closed_at IS NOT NULL FROM queue_items WHERE item_id = $it")" t
	# the running job is untouched
	assert_equal "$(job "$j")" "in_progress|1|old-worker|t"
	assert_equal "$(lists)" "compile=[] execute=[]"
}

@test "C3 -> E7: a worker that compiles and executes, after a failed compile, gets the execute job" {
	add_request 5
	j=$(add_job 5 compile compilation_failed "E: syntax")
	it=$(leased_item 5 compile)
	claim "$(claim_body 5 '["compilation","execution"]')"
	read -r type id <<<"$(answered_job)"
	assert_equal "$type" execute
	assert_equal "$(jq -r .jobs[0].compile_error <<<"$body")" "E: syntax"
	assert_equal "$(item "$it")" "claimed|NULL|compile|0|$id|t"
	assert_equal "$(job "$j")" "compilation_failed|1|old-worker|f"
}

@test "C3 -> E3: a worker that compiles and executes while the compile job runs -> superseded" {
	add_request 6
	add_job 6 compile in_progress >/dev/null
	it=$(leased_item 6 compile)
	claim "$(claim_body 6 '["compilation","execution"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "done|superseded|compile|0|NULL|t"
	assert_equal "$(jobs_count)" 1
}

# ------------------------------------------------------------------ branch E

@test "E1: an executor, binary not cached, no compile job -> item moved to compile, RPUSHed" {
	add_request 11
	coord_redis RPUSH outlayer:compile 900 >/dev/null
	it=$(leased_item 11 execute)
	claim "$(claim_body 11 '["execution"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "queued|NULL|compile|1|NULL|t"
	# RPUSH: at the right end, served first by the next RPOP/BRPOP
	assert_equal "$(lists)" "compile=[900 $it ] execute=[]"
	assert_equal "$(jobs_count)" 0
}

@test "E2: an executor, compile job completed but binary gone -> compile job back to pending, item moved" {
	add_request 12
	j=$(add_job 12 compile completed)
	it=$(leased_item 12 execute)
	claim "$(claim_body 12 '["execution"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(sql "SELECT status FROM jobs WHERE job_id = $j")" pending
	assert_equal "$(item "$it")" "queued|NULL|compile|1|NULL|t"
	assert_equal "$(lists)" "compile=[$it ] execute=[]"
}

@test "E2: an executor, compile job pending -> item moved to compile, the job stays pending" {
	add_request 13
	j=$(add_job 13 compile pending)
	it=$(leased_item 13 execute)
	claim "$(claim_body 13 '["execution"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(job "$j")" "pending|1|old-worker|f"
	assert_equal "$(item "$it")" "queued|NULL|compile|1|NULL|t"
	assert_equal "$(lists)" "compile=[$it ] execute=[]"
}

@test "E3: an executor, binary not cached, compile job running -> done/superseded" {
	add_request 14
	j=$(add_job 14 compile in_progress)
	it=$(leased_item 14 execute)
	claim "$(claim_body 14 '["execution"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "done|superseded|execute|0|NULL|t"
	assert_equal "$(job "$j")" "in_progress|1|old-worker|t"
	assert_equal "$(lists)" "compile=[] execute=[]"
}

@test "E4: force_rebuild, binary cached, compile job not completed -> done/superseded" {
	add_request 15 false true
	cache_wasm
	add_job 15 compile in_progress >/dev/null
	it=$(leased_item 15 execute)
	claim "$(claim_body 15 '["execution"]' '"force_rebuild":true')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "done|superseded|execute|0|NULL|t"
	assert_equal "$(jobs_count)" 1
}

@test "E5: a pending execute job is taken over" {
	add_request 16
	cache_wasm
	j=$(add_job 16 execute pending)
	it=$(leased_item 16 execute)
	claim "$(claim_body 16 '["execution"]' '"project_uuid":"new-uuid"')"
	assert_equal "$(answered_job)" "execute $j"
	assert_equal "$(jq .jobs[0].created_at <<<"$body")" 1577836800
	assert_equal "$(jq -r .jobs[0].project_uuid <<<"$body")" new-uuid
	run sql "SELECT status, attempts, worker_id, token_hash, project_uuid, wasm_checksum FROM jobs WHERE job_id = $j"
	assert_output "in_progress|2|worker-1|$TOKEN_HASH|new-uuid|$CS"
	assert_equal "$(item "$it")" "claimed|NULL|execute|0|$j|t"
}

@test "E6: an execute job exists (in progress, completed or failed) -> done/superseded" {
	local st n=17
	cache_wasm
	for st in in_progress completed execution_failed; do
		add_request $n
		j=$(add_job $n execute "$st")
		it=$(leased_item $n execute)
		claim "$(claim_body $n '["execution"]')"
		assert_equal "$(answered_job)" none
		assert_equal "$(item "$it")" "done|superseded|execute|0|NULL|t"
		assert_equal "$(sql "SELECT status || '/' || attempts FROM jobs WHERE job_id = $j")" "$st/1"
		n=$((n + 1))
	done
}

@test "E7: binary cached, no execute job -> execute job inserted, lease covers the time limit + 60 s" {
	add_request 21 false false 1000
	cache_wasm
	it=$(leased_item 21 execute)
	claim "$(claim_body 21 '["execution"]' '"project_uuid":"pu","project_id":"o/p"')"
	read -r type id <<<"$(answered_job)"
	assert_equal "$type" execute
	assert_equal "$(jq -c '.jobs[0] | del(.job_id, .created_at)' <<<"$body")" \
		"{\"job_type\":\"execute\",\"wasm_checksum\":\"$CS\",\"allowed\":true,\"project_uuid\":\"pu\",\"project_id\":\"o/p\"}"
	# lease = max(JOB_LEASE_SECONDS 300, max_execution_seconds 1000 + 60)
	run sql "SELECT status, attempts, token_hash, project_uuid, project_id,
		extract(epoch FROM lease_expires_at - claimed_at)::int FROM jobs WHERE job_id = $id"
	assert_output "in_progress|1|$TOKEN_HASH|pu|o/p|1060"
	assert_equal "$(item "$it")" "claimed|NULL|execute|0|$id|t"
}

@test "E7: execute job after a completed compile copies compile_cost_yocto and compile_time_ms" {
	add_request 22
	cache_wasm
	j=$(add_job 22 compile completed)
	coord_psql "UPDATE jobs SET compile_cost_yocto = 123, compile_time_ms = 456, compile_error = NULL WHERE job_id = $j"
	leased_item 22 execute >/dev/null
	claim "$(claim_body 22 '["execution"]')"
	assert_equal "$(jq -c '.jobs[0] | [.job_type, .compile_cost_yocto, .compile_time_ms, has("compile_error")]' <<<"$body")" \
		'["execute","123",456,false]'
}

# ------------------------------------------------------------------ branch X

@test "X1: an executor gets a compile-only request without compile result -> moved to compile" {
	add_request 31 true
	cache_wasm # cached or not: compile-only without result always needs a compiler (§7)
	it=$(leased_item 31 execute)
	claim "$(claim_body 31 '["execution"]' '"compile_only":true')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "queued|NULL|compile|1|NULL|t"
	assert_equal "$(lists)" "compile=[$it ] execute=[]"
}

@test "X1: ... and done/superseded when the compile job exists and is not pending" {
	add_request 32 true
	add_job 32 compile completed >/dev/null
	it=$(leased_item 32 execute)
	claim "$(claim_body 32 '["execution"]' '"compile_only":true')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "done|superseded|execute|0|NULL|t"
	assert_equal "$(lists)" "compile=[] execute=[]"
}

@test "X1: ... and moved when the compile job is pending" {
	add_request 33 true
	add_job 33 compile pending >/dev/null
	it=$(leased_item 33 execute)
	claim "$(claim_body 33 '["execution"]' '"compile_only":true')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "queued|NULL|compile|1|NULL|t"
}

@test "X2: a compiler gets a request with a cached binary -> moved to execute, RPUSHed" {
	add_request 34
	cache_wasm
	it=$(leased_item 34 compile)
	claim "$(claim_body 34 '["compilation"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "queued|NULL|execute|1|NULL|t"
	assert_equal "$(lists)" "compile=[] execute=[$it ]"
}

@test "X2: ... with a compile result -> moved to execute; done/superseded when the execute job exists" {
	add_request 35
	it=$(leased_item 35 compile)
	claim "$(claim_body 35 '["compilation"]' '"has_compile_result":true')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "queued|NULL|execute|1|NULL|t"
	add_request 36
	cache_wasm
	add_job 36 execute pending >/dev/null
	it=$(leased_item 36 compile)
	claim "$(claim_body 36 '["compilation"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "done|superseded|compile|0|NULL|t"
	assert_equal "$(lists)" "compile=[] execute=[$(coord_psql "SELECT item_id FROM queue_items WHERE request_id = 35") ]"
}

# X3 ("otherwise") is not reachable: a claim that meets neither branch C nor E and can
# execute is compile-only without a compile result, hence needs_compile, and meets X1
# (SPEC §3.2.3).  tests/unit/test-claim.c checks that over every input combination.

# ------------------------------------------------------------------ moves

@test "a move beyond 3 moves makes the item dead/max_moves instead (not pushed)" {
	add_request 41
	it=$(leased_item 41 execute "" 2)
	claim "$(claim_body 41 '["execution"]')"
	assert_equal "$(item "$it")" "queued|NULL|compile|3|NULL|t"
	add_request 42
	it=$(leased_item 42 execute "" 3)
	claim "$(claim_body 42 '["execution"]')"
	assert_equal "$(answered_job)" none
	run sql "SELECT state, close_reason, moves, closed_at IS NOT NULL FROM queue_items WHERE item_id = $it"
	assert_output "dead|max_moves|3|t"
	assert_equal "$(coord_redis LRANGE outlayer:compile 0 -1 | grep -c "^$it\$")" 0
}

@test "moves between the queues: E1 then X2 then E1 then dead (3 moves at most)" {
	# an executor without the binary, then a compiler that sees it cached, and so on
	add_request 43
	it=$(leased_item 43 execute)
	lease() {
		coord_psql "UPDATE queue_items SET state = 'leased', lease_id = gen_random_uuid(),
			leased_to = '$TOKEN_HASH', leased_at = now(), lease_expires_at = now() + interval '1 minute'
			WHERE item_id = $it"
	}
	claim "$(claim_body 43 '["execution"]')" # E1
	assert_equal "$(item "$it")" "queued|NULL|compile|1|NULL|t"
	cache_wasm
	lease
	claim "$(claim_body 43 '["compilation"]')" # X2
	assert_equal "$(item "$it")" "queued|NULL|execute|2|NULL|t"
	rm -f "$WASM_CACHE_DIR/$CS.wasm"
	lease
	claim "$(claim_body 43 '["execution"]')" # E1
	assert_equal "$(item "$it")" "queued|NULL|compile|3|NULL|t"
	lease
	claim "$(claim_body 43 '["execution"]')" # E1, but a 4th move
	assert_equal "$(sql "SELECT state || '/' || close_reason || '/' || moves FROM queue_items WHERE item_id = $it")" dead/max_moves/3
}

# ------------------------------------------------------------------ which lease is claimed

@test "an expired but not yet reaped lease still counts" {
	add_request 51
	it=$(leased_item 51 compile)
	coord_psql "UPDATE queue_items SET leased_at = now() - interval '10 minutes',
		lease_expires_at = now() - interval '9 minutes' WHERE item_id = $it"
	claim "$(claim_body 51 '["compilation"]')"
	read -r type id <<<"$(answered_job)"
	assert_equal "$type" compile
	assert_equal "$(item "$it")" "claimed|NULL|compile|0|$id|t"
}

@test "the caller's lease is its newest leased item; another token's lease is not touched" {
	add_request 52
	other=$(leased_item 52 compile "$(printf 'b%.0s' {1..64})")
	old=$(leased_item 52 compile)
	new=$(leased_item 52 compile)
	claim "$(claim_body 52 '["compilation"]')"
	read -r type id <<<"$(answered_job)"
	assert_equal "$type" compile
	assert_equal "$(item "$new")" "claimed|NULL|compile|0|$id|t"
	assert_equal "$(sql "SELECT state FROM queue_items WHERE item_id = $old")" leased
	assert_equal "$(sql "SELECT state || ' ' || leased_to FROM queue_items WHERE item_id = $other")" "leased $(printf 'b%.0s' {1..64})"
}

@test "no leased item: the claim still decides, only the job is affected" {
	add_request 53
	claim "$(claim_body 53 '["compilation"]')"
	read -r type id <<<"$(answered_job)"
	assert_equal "$type" compile
	assert_equal "$(job "$id")" "in_progress|1|worker-1|t"
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items")" 0
	# and with no job to return nothing happens at all
	add_request 54
	cache_wasm
	add_job 54 execute completed >/dev/null
	claim "$(claim_body 54 '["execution"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items")" 0
}

@test "two claims for one item give one job (sequential)" {
	add_request 61
	it=$(leased_item 61 compile)
	claim "$(claim_body 61 '["compilation"]')"
	read -r type id <<<"$(answered_job)"
	assert_equal "$type" compile
	claim "$(claim_body 61 '["compilation"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(jobs_count)" 1
	assert_equal "$(item "$it")" "claimed|NULL|compile|0|$id|t"
	assert_equal "$(job "$id")" "in_progress|1|worker-1|t"
}

@test "two claims for one item give one job (concurrent, 10 rounds)" {
	local r dir=$BATS_TEST_TMPDIR
	for r in $(seq 70 79); do
		add_request "$r"
		it=$(leased_item "$r" compile)
		for k in a b; do
			curl -s -o "$dir/$r.$k" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
				--data-binary "$(claim_body "$r" '["compilation","execution"]')" "$BASE_URL/jobs/claim" &
		done
		wait
		got=$(cat "$dir/$r.a" "$dir/$r.b" | jq -s '[.[].jobs | length] | add')
		assert_equal "$got" 1
		assert_equal "$(coord_psql "SELECT count(*) FROM jobs WHERE request_id = $r")" 1
		id=$(coord_psql "SELECT job_id FROM jobs WHERE request_id = $r")
		assert_equal "$(item "$it")" "claimed|NULL|compile|0|$id|t"
		assert_equal "$(job "$id")" "in_progress|1|worker-1|t"
	done
}

# ------------------------------------------------------------------ HTTPS requests

# add_call ID STATUS: an HTTPS call and its stored request (execution_requests.is_https_call).
add_call() {
	local released=NULL
	[[ $2 == pending ]] || released="now()"
	coord_psql "INSERT INTO https_calls (call_id, owner, nonce, project_id, request_id, status,
		is_async, compute_limit, attached_deposit, reserved_amount, reservation_released_at)
		VALUES ('00000000-0000-4000-8000-0000000000$1', 'own', 1, 'own/p', $1, '$2', true, 10, 0, 10, $released)"
	coord_psql "INSERT INTO execution_requests (request_id, data_id, input_data, max_instructions,
		max_memory_mb, max_execution_seconds, is_https_call, call_id, response_format)
		VALUES ($1, 'd-$1', '{}', 1000, 64, 10, true, '00000000-0000-4000-8000-0000000000$1', 'Json')"
}

@test "HTTPS request whose call is no longer pending -> no job, item done/call_finished" {
	add_call 81 completed
	cache_wasm
	it=$(leased_item 81 execute)
	claim "$(claim_body 81 '["execution"]')"
	assert_equal "$(answered_job)" none
	assert_equal "$(item "$it")" "done|call_finished|execute|0|NULL|t"
	assert_equal "$(jobs_count)" 0
}

@test "HTTPS request still pending: the execute job's claim sets https_calls.started_at once" {
	add_call 82 pending
	cache_wasm
	leased_item 82 execute >/dev/null
	claim "$(claim_body 82 '["execution"]')"
	read -r type id <<<"$(answered_job)"
	assert_equal "$type" execute
	assert_equal "$(sql "SELECT started_at IS NOT NULL FROM https_calls WHERE request_id = 82")" t
	coord_psql "UPDATE https_calls SET started_at = '2020-01-01Z' WHERE request_id = 82"
	coord_psql "UPDATE jobs SET status = 'pending', lease_id = NULL, lease_expires_at = NULL WHERE job_id = $id"
	leased_item 82 execute >/dev/null
	claim "$(claim_body 82 '["execution"]')"
	assert_equal "$(answered_job)" "execute $id"
	assert_equal "$(coord_psql "SELECT started_at = '2020-01-01Z' FROM https_calls WHERE request_id = 82")" t
}
