#!/usr/bin/env bats
# Reliable delivery (SPEC §3.1.1): parallel workers draining many items, crash recovery by
# the reaper (bin/coord-reap, §6.2) with expired item and job leases, JOB_MAX_ATTEMPTS, late
# completions, Redis loss (poll step 4, bin/coord-requeue) and long polls that do not block
# other requests.  Leases are expired by moving lease_expires_at back in SQL: the SPEC judges
# expiry against now() at each check, so this is the same as waiting.

load ../helpers/coord

setup_file() {
	export NEAR_RPC_URL=off
	export JOB_MAX_ATTEMPTS=2
	coord_start_stack
	TOKEN=$(coord_worker_token reliability)
	TOKEN_HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
	CS=$(printf %s "https://github.com/owner/app:c1:wasm32-wasip1" | sha256sum | cut -d' ' -f1)
	export TOKEN TOKEN_HASH CS
}

setup() {
	coord_test_setup
	coord_start_redis
	coord_psql "DELETE FROM earnings_history; DELETE FROM execution_results;
		DELETE FROM queue_items; DELETE FROM jobs; DELETE FROM execution_requests;
		DELETE FROM wasm_cache; DELETE FROM worker_status"
	coord_redis FLUSHALL >/dev/null
	mkdir -p "$WASM_CACHE_DIR"
	rm -f "$WASM_CACHE_DIR"/*.wasm
}

teardown() {
	coord_start_redis
	coord_test_teardown
}

# ------------------------------------------------------------------ helpers

sql() { coord_psql "$1" -P null=NULL; }

wreq() {
	local m=$1 p=$2
	shift 2
	req "$m" "$p" -H "Authorization: Bearer $TOKEN" "$@"
}
post_json() { wreq POST "$1" -H 'Content-Type: application/json' --data-binary "$2"; }
create() { post_json /executions/create "$1"; }
poll() { wreq GET "/executions/poll?$1"; }
claim() { post_json /jobs/claim "$1"; }
complete() { post_json /jobs/complete "$1"; }
heartbeat() { post_json /workers/heartbeat "$1"; }

reap() { "$COORD_BUILD_DIR/bin/coord-reap" "$@"; }
requeue() { "$COORD_BUILD_DIR/bin/coord-requeue" "$@"; }

cache_wasm() {
	: >"$WASM_CACHE_DIR/$CS.wasm"
	coord_psql "INSERT INTO wasm_cache (checksum, repo_url, commit_hash, file_size, content_hash,
		verified_size, verified_mtime_ns, verified_inode)
		VALUES ('$CS', 'https://github.com/owner/app', 'c1', 0, repeat('0', 64), 0, 0, 0)"
}

min_body() {
	printf '{"request_id":%s,"data_id":"d-%s","code_source":{"type":"GitHub","repo":"owner/app","commit":"c1"},"resource_limits":{"max_instructions":1000000,"max_memory_mb":64,"max_execution_seconds":10},"input_data":"in"}' "$1" "$1"
}

# claim_body ID CAPS WORKER_ID
claim_body() {
	printf '{"request_id":%s,"data_id":"d-%s","worker_id":"%s","code_source":{"type":"GitHub","repo":"https://github.com/owner/app","commit":"c1","build_target":"wasm32-wasip1"},"resource_limits":{"max_instructions":1000000,"max_memory_mb":64,"max_execution_seconds":10},"capabilities":%s}' \
		"$1" "$1" "${3:-worker-1}" "$2"
}

item_of() { coord_psql "SELECT max(item_id) FROM queue_items WHERE request_id = $1"; }

# expire_item_leases / expire_job_leases: as if POLL_LEASE_SECONDS / the job lease had passed.
expire_item_leases() {
	coord_psql "UPDATE queue_items SET leased_at = leased_at - interval '1 hour',
		lease_expires_at = now() - interval '1 second' WHERE state = 'leased'"
}
expire_job_leases() {
	coord_psql "UPDATE jobs SET claimed_at = claimed_at - interval '1 hour',
		lease_expires_at = now() - interval '1 second' WHERE status = 'in_progress'"
}

list_ids() { coord_redis LRANGE "$1" 0 -1 | { grep -v '^$' || true; } | tr '\n' ' '; }

snapshot() {
	local t
	for t in jobs queue_items execution_results; do
		coord_psql "SELECT row_to_json(x)::text FROM $t x ORDER BY 1"
	done
	list_ids outlayer:compile
	list_ids outlayer:execute
}

# What every test leaves behind (§3.1: no item stays leased, no job stays in progress).
assert_no_open_leases() {
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE state = 'leased'")" 0
	assert_equal "$(coord_psql "SELECT count(*) FROM jobs WHERE status = 'in_progress'")" 0
}

# release_leases: hands leased items back through the reaper (lease expiry, §3.1 reaper A).
release_leases() {
	expire_item_leases
	reap
}

# ------------------------------------------------------------------ concurrency

# write_worker: DIR/worker.sh N DIR, one worker as the real ones loop.
write_worker() {
	cat >"$BATS_TEST_TMPDIR/worker.sh" <<'EOF'
#!/usr/bin/env bash
# worker.sh N DIR: one worker looping as the real ones do (poll timeout=1 -> claim ->
# complete) until three polls in a row find nothing or 55 s have passed; one line per item
# in DIR/wN.log.  Plain bash over a keep-alive connection (/dev/tcp): no process per request.
export LC_ALL=C
n=$1 dir=$2
hostport=${BASE_URL#http://}
addr=${hostport%:*} port=${hostport##*:}

connect() {
	exec 5>&-
	exec 5<>"/dev/tcp/$addr/$port"
}

# http METHOD PATH [BODY]: one request on the connection; sets code and resp.
http() {
	local method=$1 path=$2 data=${3-} line len=0 close= chunked= size chunk try
	for try in 1 2; do
		if [[ $method == POST ]]; then
			printf '%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
				"$method" "$path" "$hostport" "$TOKEN" "${#data}" "$data" >&5 2>/dev/null
		else
			printf '%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n' \
				"$method" "$path" "$hostport" "$TOKEN" >&5 2>/dev/null
		fi
		IFS= read -r -t 30 line <&5 && break
		# the server closed an idle connection before this request: reconnect, resend
		connect
	done
	line=${line%$'\r'}
	code=${line#* } code=${code%% *}
	while IFS= read -r -t 30 line <&5; do
		line=${line%$'\r'}
		[[ -n $line ]] || break
		case ${line,,} in
		content-length:*) len=${line#*:} len=${len// /} ;;
		connection:*close*) close=1 ;;
		transfer-encoding:*chunked*) chunked=1 ;;
		esac
	done
	resp=
	if [[ -n $chunked ]]; then
		while IFS= read -r -t 30 size <&5; do
			size=$((16#${size%$'\r'}))
			((size > 0)) || { IFS= read -r -t 30 line <&5; break; }
			IFS= read -r -t 30 -N "$size" chunk <&5
			resp+=$chunk
			IFS= read -r -t 30 line <&5
		done
	elif ((len > 0)); then
		IFS= read -r -t 30 -N "$len" resp <&5
	fi
	[[ -z $close ]] || connect
}

connect
empty=0 deadline=$((SECONDS + 55))
while ((empty < 3 && SECONDS < deadline)); do
	http GET "/executions/poll?timeout=1&capabilities=compilation,execution"
	if [[ $code == 204 ]]; then
		empty=$((empty + 1))
		continue
	fi
	empty=0
	if [[ $code != 200 ]]; then
		echo "poll-error $code" >>"$dir/w$n.log"
		continue
	fi
	p=$resp
	[[ $p =~ ^\{\"request_id\":([0-9]+),\"data_id\":\"([^\"]*)\" ]] || {
		echo "bad-payload $p" >>"$dir/w$n.log"
		continue
	}
	rid=${BASH_REMATCH[1]} did=${BASH_REMATCH[2]}
	[[ $p =~ \"code_source\":(\{[^}]*\}) ]] && cs=${BASH_REMATCH[1]}
	[[ $p =~ \"resource_limits\":(\{[^}]*\}) ]] && rl=${BASH_REMATCH[1]}
	fr=false hcr=false
	[[ $p == *'"force_rebuild":true'* ]] && fr=true
	[[ $p == *'"compile_result":'* ]] && hcr=true
	http POST /jobs/claim "{\"request_id\":$rid,\"data_id\":\"$did\",\"worker_id\":\"w$n\",\"code_source\":$cs,\"resource_limits\":$rl,\"capabilities\":[\"compilation\",\"execution\"],\"force_rebuild\":$fr,\"has_compile_result\":$hcr}"
	if [[ $code != 200 || ! $resp =~ \"job_id\":([0-9]+),\"job_type\":\"([a-z]+)\" ]]; then
		echo "nojob $rid $code" >>"$dir/w$n.log"
		continue
	fi
	job=${BASH_REMATCH[1]} type=${BASH_REMATCH[2]}
	http POST /jobs/complete "{\"job_id\":$job,\"success\":true,\"time_ms\":1}"
	echo "done $rid $type $job $code" >>"$dir/w$n.log"
done
EOF
	chmod +x "$BATS_TEST_TMPDIR/worker.sh"
}

@test "12 parallel workers drain 1,000 items: one job and one completion each, none lost or doubled" {
	local n workers=12 dir=$BATS_TEST_TMPDIR
	cache_wasm
	# 1,000 requests created up front through SQL: every 20th has force_rebuild (compile
	# queue, then a derived execute item after its compile, §3.2.4 step 5), the others are
	# cached binaries in the execute queue.  Ids pushed with LPUSH as producers do (§3.1.1).
	coord_psql "INSERT INTO execution_requests (request_id, data_id, code_source, input_data,
		max_instructions, max_memory_mb, max_execution_seconds, force_rebuild)
		SELECT g, 'rel-' || g, '{\"type\":\"GitHub\",\"repo\":\"https://github.com/owner/app\",\"commit\":\"c1\",\"build_target\":\"wasm32-wasip1\"}',
		'', 1000000, 64, 10, g % 20 = 0 FROM generate_series(1, 1000) g"
	coord_psql "INSERT INTO queue_items (queue, payload, request_id, data_id, pushed_at)
		SELECT CASE WHEN g % 20 = 0 THEN 'compile' ELSE 'execute' END,
		format('{\"request_id\":%s,\"data_id\":\"rel-%s\",\"code_source\":{\"type\":\"GitHub\",\"repo\":\"https://github.com/owner/app\",\"commit\":\"c1\",\"build_target\":\"wasm32-wasip1\"},\"resource_limits\":{\"max_instructions\":1000000,\"max_memory_mb\":64,\"max_execution_seconds\":10},\"input_data\":\"\",\"response_format\":\"Text\",\"context\":{\"sender_id\":null,\"block_height\":null,\"block_timestamp\":null,\"contract_id\":null,\"transaction_hash\":null,\"receipt_id\":null,\"predecessor_id\":null,\"signer_public_key\":null,\"gas_burnt\":null},\"compile_only\":false,\"force_rebuild\":%s,\"store_on_fastfs\":false,\"is_https_call\":false}',
			g, g, CASE WHEN g % 20 = 0 THEN 'true' ELSE 'false' END),
		g, 'rel-' || g, now() FROM generate_series(1, 1000) g"
	coord_psql "SELECT 'LPUSH outlayer:' || queue || ' ' || item_id FROM queue_items ORDER BY item_id" |
		coord_redis >/dev/null
	assert_equal "$(coord_redis LLEN outlayer:compile) $(coord_redis LLEN outlayer:execute)" "50 950"

	write_worker
	start=$(date +%s)
	for ((n = 1; n <= workers; n++)); do
		"$dir/worker.sh" "$n" "$dir" 3>&- &
	done
	wait
	echo "# drained in $(($(date +%s) - start)) s" >&3

	cat "$dir"/w*.log >"$dir/all.log"
	# every worker request succeeded; no claim came back empty
	run grep -vc '^done .* 200$' "$dir/all.log"
	assert_output 0
	# 1,000 execute completions and 50 compile completions, each request once per type
	assert_equal "$(grep -c '^done .* execute ' "$dir/all.log")" 1000
	assert_equal "$(grep -c '^done .* compile ' "$dir/all.log")" 50
	assert_equal "$(awk '{print $2, $3}' "$dir/all.log" | sort | uniq -d | wc -l)" 0
	# tables: every item delivered once and completed; one job per (request, type); one
	# result per job; nothing queued, leased or claimed; Redis lists empty
	run sql "SELECT state, close_reason, queue, attempts, count(*) FROM queue_items
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
	assert_output "done|completed|compile|1|50
done|completed|execute|1|1000"
	run sql "SELECT job_type, status, attempts, count(*), count(DISTINCT request_id) FROM jobs
		GROUP BY 1, 2, 3 ORDER BY 1"
	assert_output "compile|completed|1|50|50
execute|completed|1|1000|1000"
	assert_equal "$(coord_psql "SELECT count(*), count(DISTINCT job_id) FROM execution_results")" "1050|1050"
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items q JOIN jobs j USING (job_id)
		WHERE q.request_id = j.request_id AND q.queue = j.job_type")" 1050
	assert_equal "$(coord_redis LLEN outlayer:compile) $(coord_redis LLEN outlayer:execute)" "0 0"
	assert_no_open_leases
}

# ------------------------------------------------------------------ item leases (reaper A)

@test "an item polled and never claimed comes back after coord-reap, then dies after JOB_MAX_ATTEMPTS" {
	create "$(min_body 1)"
	it=$(item_of 1)
	poll "timeout=0&capabilities=compilation"
	assert_equal "$status" 200
	payload=$body
	# lease not expired yet: the reaper leaves it alone
	run reap
	assert_success
	assert_output ""
	assert_equal "$(sql "SELECT state || '/' || attempts FROM queue_items WHERE item_id = $it")" leased/1
	# A.3: expired -> queued, lease fields cleared, RPUSHed
	expire_item_leases
	run reap
	assert_success
	assert_output ""
	run sql "SELECT state, attempts, lease_id, leased_to, leased_at, lease_expires_at FROM queue_items WHERE item_id = $it"
	assert_output "queued|1|NULL|NULL|NULL|NULL"
	assert_equal "$(list_ids outlayer:compile)" "$it "
	# polled again: the same payload, second hand-out
	poll "timeout=0&capabilities=compilation"
	assert_equal "$status" 200
	assert_equal "$body" "$payload"
	assert_equal "$(sql "SELECT state || '/' || attempts FROM queue_items WHERE item_id = $it")" leased/2
	# A.2: attempts (2) >= JOB_MAX_ATTEMPTS (2) -> dead/max_attempts, not pushed
	expire_item_leases
	run reap
	assert_success
	run sql "SELECT state, close_reason, attempts, closed_at IS NOT NULL FROM queue_items WHERE item_id = $it"
	assert_output "dead|max_attempts|2|t"
	assert_equal "$(list_ids outlayer:compile)" ""
	poll "timeout=0&capabilities=compilation"
	assert_equal "$status" 204
	assert_no_open_leases
}

@test "reaper A.1: an expired lease of an item whose job already finished -> done/superseded" {
	create "$(min_body 2)"
	poll "timeout=0&capabilities=compilation"
	claim "$(claim_body 2 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":5}"
	# a duplicate item of the same request, leased and forgotten
	dup=$(coord_psql "INSERT INTO queue_items (queue, payload, request_id, data_id, state, attempts,
		lease_id, leased_to, leased_at, lease_expires_at)
		VALUES ('compile', '{}', 2, 'd-2', 'leased', 1, gen_random_uuid(), '$TOKEN_HASH',
		now() - interval '2 minutes', now() - interval '1 minute') RETURNING item_id")
	run reap
	assert_success
	assert_equal "$(sql "SELECT state || '/' || close_reason FROM queue_items WHERE item_id = $dup")" done/superseded
	assert_no_open_leases
}

@test "reaper A.2: delivery attempts exhausted with a pending job fails that job" {
	create "$(min_body 3)"
	poll "timeout=0&capabilities=compilation"
	claim "$(claim_body 3 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	# the job was requeued (pending) and its item handed out for the last time
	coord_psql "UPDATE jobs SET status = 'pending', lease_id = NULL, lease_expires_at = NULL WHERE job_id = $job"
	coord_psql "UPDATE queue_items SET state = 'leased', job_id = NULL, attempts = 2,
		lease_id = gen_random_uuid(), leased_to = '$TOKEN_HASH', leased_at = now() - interval '2 minutes',
		lease_expires_at = now() - interval '1 minute' WHERE request_id = 3"
	run reap
	assert_success
	assert_equal "$(sql "SELECT state || '/' || close_reason FROM queue_items WHERE request_id = 3 AND queue = 'compile'")" dead/max_attempts
	run sql "SELECT status, error_details, lease_id, completed_at IS NOT NULL FROM jobs WHERE job_id = $job"
	assert_output "failed|not claimed: delivery attempts exhausted|NULL|t"
	assert_equal "$(coord_psql "SELECT count(*) FROM execution_results WHERE job_id = $job AND NOT success")" 1
	assert_no_open_leases
}

# ------------------------------------------------------------------ job leases (reaper B)

@test "a crashed worker's job comes back after its lease, is taken over; the late completion counts once" {
	create "$(min_body 10)"
	it=$(item_of 10)
	poll "timeout=0&capabilities=compilation"
	claim "$(claim_body 10 '["compilation"]' w-crash)"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	lease1=$(coord_psql "SELECT lease_id FROM jobs WHERE job_id = $job")
	# The worker restarts and heartbeats with the same worker_id and token: leases are never
	# renewed by heartbeats (§3.1 "No lease renewal", §3.2.6).
	heartbeat "{\"worker_id\":\"w-crash\",\"worker_name\":\"reliability\",\"status\":\"busy\",\"current_task_id\":$job}"
	assert_equal "$status" 200
	expire_job_leases
	before=$(coord_psql "SELECT lease_id || ' ' || lease_expires_at FROM jobs WHERE job_id = $job")
	heartbeat "{\"worker_id\":\"w-crash\",\"worker_name\":\"reliability\",\"status\":\"online\"}"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT lease_id || ' ' || lease_expires_at FROM jobs WHERE job_id = $job")" "$before"
	# B.2: attempts 1 < 2 -> pending, lease cleared, worker_id kept; its item queued, pushed
	run reap
	assert_success
	run sql "SELECT status, lease_id, lease_expires_at, worker_id, attempts FROM jobs WHERE job_id = $job"
	assert_output "pending|NULL|NULL|w-crash|1"
	run sql "SELECT state, queue, lease_id FROM queue_items WHERE item_id = $it"
	assert_output "queued|compile|NULL"
	assert_equal "$(list_ids outlayer:compile)" "$it "
	# while the restarted worker keeps heartbeating, a new claim takes the job over (C2)
	heartbeat '{"worker_id":"w-crash","worker_name":"reliability","status":"online"}'
	poll "timeout=0&capabilities=compilation"
	assert_equal "$status" 200
	claim "$(claim_body 10 '["compilation"]' w-new)"
	assert_equal "$(jq -r '.jobs[0].job_id' <<<"$body")" "$job"
	run sql "SELECT status, attempts, worker_id, lease_id <> '$lease1' FROM jobs WHERE job_id = $job"
	assert_output "in_progress|2|w-new|t"
	assert_equal "$(sql "SELECT state || ' ' || job_id FROM queue_items WHERE item_id = $it")" "claimed $job"
	# the first holder's late completion is the first one: accepted (§3.1 "Guarantees")
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":40}"
	assert_equal "$status" 200
	assert_equal "$(sql "SELECT status || ' ' || compile_time_ms FROM jobs WHERE job_id = $job")" "completed 40"
	assert_equal "$(sql "SELECT state || '/' || close_reason FROM queue_items WHERE item_id = $it")" done/completed
	before=$(snapshot)
	# the new holder's completion is the second: 409, nothing changes
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":41}"
	assert_equal "$status" 409
	assert_equal "$(jq -r .error <<<"$body")" job_already_completed
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(coord_psql "SELECT count(*) FROM execution_results WHERE job_id = $job")" 1
	assert_no_open_leases
}

@test "a job whose lease expires JOB_MAX_ATTEMPTS times is failed; a later completion gets 409" {
	cache_wasm
	create "$(min_body 20)"
	it=$(item_of 20)
	assert_equal "$(coord_psql "SELECT queue FROM queue_items WHERE item_id = $it")" execute
	poll "timeout=0&capabilities=execution"
	claim "$(claim_body 20 '["execution"]' w-a)"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	expire_job_leases
	run reap
	assert_success
	assert_equal "$(sql "SELECT status FROM jobs WHERE job_id = $job")" pending
	assert_equal "$(sql "SELECT state || ' ' || queue FROM queue_items WHERE item_id = $it")" "queued execute"
	poll "timeout=0&capabilities=execution"
	claim "$(claim_body 20 '["execution"]' w-b)" # E5: take over
	assert_equal "$(jq -r '.jobs[0].job_id' <<<"$body")" "$job"
	assert_equal "$(sql "SELECT attempts FROM jobs WHERE job_id = $job")" 2
	expire_job_leases
	# B.1: attempts (2) >= JOB_MAX_ATTEMPTS (2) -> failed as by /jobs/complete
	run reap
	assert_success
	run sql "SELECT status, error_details, lease_id, lease_expires_at, completed_at IS NOT NULL
		FROM jobs WHERE job_id = $job"
	assert_output "failed|lease expired after 2 attempts|NULL|NULL|t"
	run sql "SELECT state, close_reason FROM queue_items WHERE item_id = $it"
	assert_output "dead|max_attempts"
	run sql "SELECT worker_id, success, execution_time_ms FROM execution_results WHERE job_id = $job"
	assert_output "w-b|f|0"
	complete "{\"job_id\":$job,\"success\":true,\"time_ms\":1}"
	assert_equal "$status" 409
	assert_equal "$(jq -r .error <<<"$body")" job_already_completed
	poll "timeout=0&capabilities=execution"
	assert_equal "$status" 204
	assert_no_open_leases
}

@test "reaper B.2 without an item rebuilds one from the stored request; without a request the job fails" {
	coord_psql "INSERT INTO execution_requests (request_id, data_id, code_source, input_data)
		VALUES (30, 'd-30', '{\"type\":\"GitHub\",\"repo\":\"https://github.com/owner/app\",\"commit\":\"c1\",\"build_target\":\"wasm32-wasip1\"}', 'x')"
	coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status, worker_id, attempts, lease_id, lease_expires_at)
		VALUES (30, 'd-30', 'compile', 'in_progress', 'w', 1, gen_random_uuid(), now() - interval '1 second'),
		       (31, 'd-31', 'compile', 'in_progress', 'w', 1, gen_random_uuid(), now() - interval '1 second')"
	run reap
	assert_success
	assert_equal "$(sql "SELECT status FROM jobs WHERE request_id = 30")" pending
	it=$(item_of 30)
	assert_equal "$(sql "SELECT queue || ' ' || state FROM queue_items WHERE item_id = $it")" "compile queued"
	assert_equal "$(list_ids outlayer:compile)" "$it "
	# §3.1.2 rebuild: limits default to 1 000 000 000 instructions, 128 MB, 60 s
	payload=$(coord_psql "SELECT payload FROM queue_items WHERE item_id = $it")
	assert_equal "$(jq -c '[.request_id, .data_id, .code_source, .resource_limits, .input_data, .is_https_call]' <<<"$payload")" \
		'[30,"d-30",{"type":"GitHub","repo":"https://github.com/owner/app","commit":"c1","build_target":"wasm32-wasip1"},{"max_instructions":1000000000,"max_memory_mb":128,"max_execution_seconds":60},"x",false]'
	run sql "SELECT status, error_details FROM jobs WHERE request_id = 31"
	assert_output "failed|lease expired; request unknown"
	assert_no_open_leases
}

# ------------------------------------------------------------------ Redis loss

@test "Redis loses its lists: polls find the items (step 4), coord-requeue --reset restores them" {
	for i in 41 42 43 44 45; do
		create "$(min_body $i)"
		assert_equal "$status" 201
	done
	mapfile -t ids < <(coord_psql "SELECT item_id FROM queue_items ORDER BY item_id")
	coord_redis FLUSHALL >/dev/null
	# step 4 only takes items not pushed in the last 30 s: right after the push, nothing
	poll "timeout=0&capabilities=compilation,execution"
	assert_equal "$status" 204
	coord_psql "UPDATE queue_items SET pushed_at = now() - interval '31 seconds'"
	# step 4: oldest first
	poll "timeout=0&capabilities=compilation,execution"
	assert_equal "$status" 200
	assert_equal "$(jq -r .request_id <<<"$body")" 41
	poll "timeout=0&capabilities=compilation,execution"
	assert_equal "$(jq -r .request_id <<<"$body")" 42
	# the operator rebuilds the lists: the queued ids in descending item_id order
	coord_redis FLUSHALL >/dev/null
	run requeue --reset
	assert_success
	assert_equal "$(list_ids outlayer:compile)" "${ids[4]} ${ids[3]} ${ids[2]} "
	assert_equal "$(list_ids outlayer:execute)" ""
	# served oldest first from Redis, each once
	for want in 43 44 45; do
		poll "timeout=0&capabilities=compilation,execution"
		assert_equal "$status" 200
		assert_equal "$(jq -r .request_id <<<"$body")" "$want"
	done
	poll "timeout=0&capabilities=compilation,execution"
	assert_equal "$status" 204
	# nothing lost, nothing delivered twice
	assert_equal "$(coord_psql "SELECT string_agg(state || attempts, ' ' ORDER BY item_id) FROM queue_items")" \
		"leased1 leased1 leased1 leased1 leased1"
	release_leases
	assert_no_open_leases
}

@test "coord-requeue without --reset adds only the missing ids, and is idempotent" {
	for i in 51 52 53; do
		create "$(min_body $i)"
	done
	mapfile -t ids < <(coord_psql "SELECT item_id FROM queue_items ORDER BY item_id")
	coord_redis FLUSHALL >/dev/null
	coord_redis LPUSH outlayer:compile "${ids[1]}" >/dev/null
	coord_psql "UPDATE queue_items SET pushed_at = NULL"
	run requeue
	assert_success
	assert_equal "$(list_ids outlayer:compile)" "${ids[1]} ${ids[2]} ${ids[0]} "
	# pushed_at set for the ids it pushed
	assert_equal "$(coord_psql "SELECT string_agg((pushed_at IS NOT NULL)::text, ' ' ORDER BY item_id) FROM queue_items")" "true false true"
	run requeue
	assert_success
	assert_equal "$(list_ids outlayer:compile)" "${ids[1]} ${ids[2]} ${ids[0]} "
	# each served once
	for want in 51 53 52; do
		poll "timeout=0&capabilities=compilation"
		assert_equal "$(jq -r .request_id <<<"$body")" "$want"
	done
	poll "timeout=0&capabilities=compilation"
	assert_equal "$status" 204
	release_leases
	assert_no_open_leases
}

@test "coord-requeue: more ids than one batch (500) are all pushed and all marked pushed" {
	coord_psql "INSERT INTO queue_items (queue, payload, request_id, data_id)
		SELECT 'compile', '{}', 900000 + i, 'd' || i FROM generate_series(1, 1200) AS i"
	run requeue --queue compile
	assert_success
	assert_equal "$(coord_redis LLEN outlayer:compile)" 1200
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE pushed_at IS NOT NULL")" 1200
	# the oldest is served first: the list's right end holds the smallest id
	assert_equal "$(coord_redis LINDEX outlayer:compile -1)" \
		"$(coord_psql "SELECT min(item_id) FROM queue_items")"
}

@test "coord-requeue --verbose prints one summary line for all the queues it handled (§6.1)" {
	local out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err
	for i in 56 57; do
		create "$(min_body $i)"
	done
	coord_redis FLUSHALL >/dev/null
	coord_psql "UPDATE queue_items SET pushed_at = NULL"
	requeue --verbose >"$out" 2>"$err"
	assert_equal "$(cat "$out")" ""
	assert_equal "$(cat "$err")" "coord-requeue: ids pushed: compile 2, execute 0, system_callbacks 0"
	requeue --queue compile -v --reset >"$out" 2>"$err"
	assert_equal "$(cat "$err")" "coord-requeue: ids pushed: compile 2"
	# a dry run reports on stdout and still ends with one summary line
	requeue -n -v >"$out" 2>"$err"
	assert_equal "$(cat "$err")" "coord-requeue: ids to push: compile 0, execute 0, system_callbacks 0"
	# without --verbose: nothing at all
	requeue >"$out" 2>"$err"
	assert_equal "$(cat "$out" "$err")" ""
}

@test "Redis down: create still answers 201 (pushed_at NULL), polls and the reaper still work, requeue exits 69" {
	coord_stop_redis
	create "$(min_body 61)"
	assert_equal "$status" 201
	it=$(item_of 61)
	assert_equal "$(sql "SELECT state || ' ' || coalesce(pushed_at::text, 'NULL') FROM queue_items WHERE item_id = $it")" "queued NULL"
	poll "timeout=0&capabilities=compilation"
	assert_equal "$status" 200
	assert_equal "$(jq -r .request_id <<<"$body")" 61
	expire_item_leases
	run reap
	assert_success
	assert_equal "$(sql "SELECT state || ' ' || coalesce(pushed_at::text, 'NULL') FROM queue_items WHERE item_id = $it")" "queued NULL"
	poll "timeout=0&capabilities=compilation"
	assert_equal "$status" 200
	assert_equal "$(sql "SELECT attempts FROM queue_items WHERE item_id = $it")" 2
	run requeue --reset
	assert_equal "$status" 69
	coord_start_redis
	claim "$(claim_body 61 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":false,\"time_ms\":1,\"error\":\"x\"}"
	assert_equal "$status" 200
	assert_no_open_leases
}

# ------------------------------------------------------------------ long polls

@test "a poll with timeout=2 answers 204 after about 2 s; other requests are served meanwhile" {
	local dir=$BATS_TEST_TMPDIR
	curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOKEN" \
		"$BASE_URL/executions/poll?timeout=2&capabilities=compilation,execution" >"$dir/poll.out" 3>&- &
	pid=$!
	sleep 0.2
	req GET /health
	assert_equal "$status" 200
	wreq GET /workers/block-cursor
	assert_equal "$status" 200
	# both were answered while the poll was still waiting (not queued behind it)
	kill -0 "$pid"
	wait "$pid"
	read -r code t <"$dir/poll.out"
	assert_equal "$code" 204
	awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t <= 4) }' || {
		echo "poll took $t s"
		false
	}
	assert_no_open_leases
}

@test "a waiting poll gets an item created during its wait at once" {
	local dir=$BATS_TEST_TMPDIR
	curl -s -o "$dir/poll.body" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOKEN" \
		"$BASE_URL/executions/poll?timeout=10&capabilities=compilation" >"$dir/poll.out" 3>&- &
	pid=$!
	sleep 0.5
	create "$(min_body 71)"
	assert_equal "$status" 201
	wait "$pid"
	read -r code t <"$dir/poll.out"
	assert_equal "$code" 200
	assert_equal "$(jq -r .request_id "$dir/poll.body")" 71
	awk -v t="$t" 'BEGIN { exit !(t < 3) }' || {
		echo "poll took $t s"
		false
	}
	claim "$(claim_body 71 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":false,\"time_ms\":1}"
	assert_equal "$status" 200
	assert_no_open_leases
}

@test "PostgreSQL drops the connection during a long poll: the statement is retried once on a new one (§0.4)" {
	local dir=$BATS_TEST_TMPDIR
	curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" \
		"$BASE_URL/executions/poll?timeout=2&capabilities=compilation" >"$dir/poll.out" 3>&- &
	pid=$!
	sleep 0.5
	# every serving connection of the coordinator goes away while the poll waits on Redis
	coord_psql "SELECT count(pg_terminate_backend(pid)) > 0 FROM pg_stat_activity
		WHERE application_name = 'coordinator' AND pid <> pg_backend_pid()" >/dev/null
	wait "$pid"
	assert_equal "$(cat "$dir/poll.out")" 204
	grep -q '"path":"/executions/poll".*"status":204' "$COORD_STATE_DIR/fcgi-stderr.log"
}

@test "Redis drops the connection of a waiting poll: BRPOP is sent again on a new one (§0.4)" {
	local dir=$BATS_TEST_TMPDIR
	curl -s -o "$dir/poll.body" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOKEN" \
		"$BASE_URL/executions/poll?timeout=8&capabilities=compilation" >"$dir/poll.out" 3>&- &
	pid=$!
	sleep 0.5
	coord_redis CLIENT KILL TYPE normal >/dev/null
	sleep 0.5
	create "$(min_body 81)"
	assert_equal "$status" 201
	wait "$pid"
	read -r code t <"$dir/poll.out"
	# without the retry the poll would fall back to step 4, which leaves a freshly pushed
	# item to Redis, and answer 204 after 8 s
	assert_equal "$code" 200
	assert_equal "$(jq -r .request_id "$dir/poll.body")" 81
	awk -v t="$t" 'BEGIN { exit !(t < 4) }' || {
		echo "poll took $t s"
		false
	}
	claim "$(claim_body 81 '["compilation"]')"
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	complete "{\"job_id\":$job,\"success\":false,\"time_ms\":1}"
	assert_equal "$status" 200
	assert_no_open_leases
}

@test "coord-reap -n reports the retention (step C) without deleting; the real run deletes" {
	create "$(min_body 91)"
	it=$(item_of 91)
	coord_psql "UPDATE queue_items SET state = 'done', close_reason = 'completed',
		closed_at = now() - interval '8 days' WHERE item_id = $it"
	run reap -n
	assert_success
	assert_line "item $it: deleted (closed more than 7 days ago)"
	assert_equal "$(sql "SELECT count(*) FROM queue_items WHERE item_id = $it")" 1
	run reap
	assert_success
	assert_equal "$(sql "SELECT count(*) FROM queue_items WHERE item_id = $it")" 0
}

@test "SIGTERM stops coord-reap after the current row's transaction: exit 75, every row whole" {
	coord_psql "INSERT INTO queue_items (queue, payload, request_id, data_id, state, attempts,
		lease_id, leased_to, leased_at, lease_expires_at)
		SELECT 'compile', '{}', g, 'd', 'leased', 1, gen_random_uuid(), 'x', now(), now() - interval '1 second'
		FROM generate_series(100000, 104999) g"
	"$COORD_BUILD_DIR/bin/coord-reap" 3>&- &
	pid=$!
	sleep 0.5
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 75
	# some rows were requeued, not all, and none is half done
	requeued=$(sql "SELECT count(*) FROM queue_items WHERE request_id >= 100000 AND state = 'queued'")
	leased=$(sql "SELECT count(*) FROM queue_items WHERE request_id >= 100000 AND state = 'leased'")
	((requeued > 0 && leased > 0 && requeued + leased == 5000))
	assert_equal "$(sql "SELECT count(*) FROM queue_items WHERE request_id >= 100000 AND state = 'queued'
		AND (lease_id IS NOT NULL OR leased_to IS NOT NULL)")" 0
	# the next run finishes the work
	run reap
	assert_success
	assert_equal "$(sql "SELECT count(*) FROM queue_items WHERE request_id >= 100000 AND state = 'leased'")" 0
}
