#!/usr/bin/env bats
# The routes around the work queue: POST /workers/heartbeat and /workers/task-completion
# (SPEC §3.2.6), locks (§3.2.8), POST /internal/system-logs (§3.2.12) with
# GET /admin/compile-logs/:job_id (§3.5), and the public statistics GET /public/stats,
# /public/workers, /public/jobs, /public/repos/popular (§3.4.2) over rows inserted with SQL.

load ../helpers/coord

setup_file() {
	export NEAR_RPC_URL=off
	coord_start_stack
	TOKEN=$(coord_worker_token routes-worker)
	TOKEN_HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
	export TOKEN TOKEN_HASH
}

setup() {
	coord_test_setup
	coord_start_redis
	coord_psql "DELETE FROM execution_results; DELETE FROM queue_items; DELETE FROM jobs;
		DELETE FROM execution_requests; DELETE FROM https_calls; DELETE FROM worker_status;
		DELETE FROM system_hidden_logs"
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
areq() {
	local m=$1 p=$2
	shift 2
	req "$m" "$p" -H "Authorization: Bearer $ADMIN_BEARER_TOKEN" "$@"
}

heartbeat() { post_json /workers/heartbeat "$1"; }
task_completion() { post_json /workers/task-completion "$1"; }
acquire() { post_json /locks/acquire "$1"; }
release() { wreq DELETE "/locks/release/$1"; }
system_log() { post_json /internal/system-logs "$1"; }

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

expect_422() {
	assert_equal "$status" 422
	assert_equal "$(err)" invalid_request_body
	assert_equal "$(jq -r .details.field <<<"$body")" "$1"
	if [[ -n ${2:-} ]]; then
		assert_equal "$(jq -r .details.reason <<<"$body")" "$2"
	fi
}

# An "empty" success (§1.1): no body, Content-Length 0, no Content-Type.
expect_empty() {
	assert_equal "$status" "$1"
	assert_equal "$body" ""
	assert_equal "$(header Content-Length)" 0
	run header Content-Type
	assert_failure
}

TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'

rep() { printf "%${2}s" "" | sed "s/ /$1/g"; }

# ------------------------------------------------------------------ heartbeat (§3.2.6)

@test "heartbeat: the first one inserts the worker's row" {
	heartbeat '{"worker_id":"hb-1","worker_name":"n1","status":"online"}'
	expect_empty 200
	run sql "SELECT worker_name, status, current_task_id, token_hash,
		last_heartbeat_at > now() - interval '1 minute', updated_at > now() - interval '1 minute',
		last_poll_at, event_monitor_block_height, event_monitor_updated_at,
		total_tasks_completed, total_tasks_failed FROM worker_status WHERE worker_id = 'hb-1'"
	assert_output "n1|online|NULL|$TOKEN_HASH|t|t|NULL|NULL|NULL|0|0"
}

@test "heartbeat: later ones update the row; optional fields only when given" {
	heartbeat '{"worker_id":"hb-1","worker_name":"n1","status":"online"}'
	coord_psql "UPDATE worker_status SET created_at = '2020-01-01Z', last_heartbeat_at = '2020-01-01Z',
		updated_at = '2020-01-01Z', token_hash = 'old' WHERE worker_id = 'hb-1'"
	heartbeat '{"worker_id":"hb-1","worker_name":"n2","status":"busy","current_task_id":42,"event_monitor_block_height":500,"last_poll_at":1700000000}'
	expect_empty 200
	run sql "SELECT worker_name, status, current_task_id, token_hash, last_heartbeat_at > '2020-01-02Z',
		updated_at > '2020-01-02Z', extract(epoch FROM last_poll_at)::bigint,
		event_monitor_block_height, event_monitor_updated_at > now() - interval '1 minute',
		created_at = '2020-01-01Z' FROM worker_status WHERE worker_id = 'hb-1'"
	assert_output "n2|busy|42|$TOKEN_HASH|t|t|1700000000|500|t|t"
	# the event monitor's height is what /workers/block-cursor reports
	wreq GET /workers/block-cursor
	assert_equal "$body" '{"block_height":500}'
	# without event_monitor_block_height: height and its time kept; without last_poll_at:
	# kept; current_task_id is always written (absent -> NULL)
	coord_psql "UPDATE worker_status SET event_monitor_updated_at = '2020-01-01Z' WHERE worker_id = 'hb-1'"
	heartbeat '{"worker_id":"hb-1","worker_name":"n2","status":"stale"}'
	expect_empty 200
	run sql "SELECT status, current_task_id, event_monitor_block_height,
		event_monitor_updated_at = '2020-01-01Z', extract(epoch FROM last_poll_at)::bigint
		FROM worker_status WHERE worker_id = 'hb-1'"
	assert_output "stale|NULL|500|t|1700000000"
	# a new height moves event_monitor_updated_at
	heartbeat '{"worker_id":"hb-1","worker_name":"n2","status":"online","event_monitor_block_height":0}'
	run sql "SELECT event_monitor_block_height, event_monitor_updated_at > '2020-01-02Z' FROM worker_status WHERE worker_id = 'hb-1'"
	assert_output "0|t"
}

@test "heartbeat: statuses online|busy|offline|stale; anything else is 422 enum" {
	for st in online busy offline stale; do
		heartbeat "{\"worker_id\":\"hb-s\",\"worker_name\":\"n\",\"status\":\"$st\"}"
		expect_empty 200
		assert_equal "$(coord_psql "SELECT status FROM worker_status WHERE worker_id = 'hb-s'")" "$st"
	done
	for st in idle ONLINE; do
		heartbeat "{\"worker_id\":\"hb-s\",\"worker_name\":\"n\",\"status\":\"$st\"}"
		expect_422 status enum
	done
	# empty: below the 1-character minimum and not a status (reason not asserted)
	heartbeat '{"worker_id":"hb-s","worker_name":"n","status":""}'
	expect_422 status
	assert_equal "$(coord_psql "SELECT status FROM worker_status WHERE worker_id = 'hb-s'")" stale
}

@test "heartbeat: shape errors (422), 415, 401; bounds accepted" {
	heartbeat '{"worker_name":"n","status":"online"}'
	expect_422 worker_id missing
	heartbeat '{"worker_id":"w","status":"online"}'
	expect_422 worker_name missing
	heartbeat '{"worker_id":"w","worker_name":"n"}'
	expect_422 status missing
	heartbeat "{\"worker_id\":\"$(rep w 129)\",\"worker_name\":\"n\",\"status\":\"online\"}"
	expect_422 worker_id
	heartbeat "{\"worker_id\":\"w\",\"worker_name\":\"$(rep n 129)\",\"status\":\"online\"}"
	expect_422 worker_name
	heartbeat '{"worker_id":"w","worker_name":"n","status":"online","event_monitor_block_height":-1}'
	expect_422 event_monitor_block_height range
	heartbeat '{"worker_id":"w","worker_name":"n","status":"online","last_poll_at":253402300800}'
	expect_422 last_poll_at range
	heartbeat '{"worker_id":"w","worker_name":"n","status":"online","last_poll_at":-1}'
	expect_422 last_poll_at range
	heartbeat '{"worker_id":"w","worker_name":"n","status":"online","current_task_id":"5"}'
	expect_422 current_task_id type
	heartbeat '{"worker_id":"w","worker_name":"n","status":"online","current_task_id":9223372036854775808}'
	expect_422 current_task_id range
	assert_equal "$(coord_psql "SELECT count(*) FROM worker_status")" 0
	wreq POST /workers/heartbeat -H 'Content-Type: text/plain' --data-binary '{"worker_id":"w","worker_name":"n","status":"online"}'
	expect_error 415 unsupported_media_type
	req POST /workers/heartbeat -H 'Content-Type: application/json' --data-binary '{"worker_id":"w","worker_name":"n","status":"online"}'
	expect_error 401 unauthorized
	heartbeat "{\"worker_id\":\"$(rep w 128)\",\"worker_name\":\"$(rep n 128)\",\"status\":\"online\",\"last_poll_at\":253402300799,\"current_task_id\":-5}"
	expect_empty 200
}

@test "heartbeats never touch job leases (§3.1 no lease renewal)" {
	coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status, worker_id, token_hash,
		attempts, lease_id, lease_expires_at)
		VALUES (1, 'd-1', 'compile', 'in_progress', 'hb-2', '$TOKEN_HASH', 1, gen_random_uuid(), now() - interval '5 seconds'),
		       (2, 'd-2', 'execute', 'in_progress', 'hb-2', '$TOKEN_HASH', 1, gen_random_uuid(), now() + interval '10 seconds')"
	job=$(coord_psql "SELECT job_id FROM jobs WHERE request_id = 1")
	before=$(coord_psql "SELECT row_to_json(j)::text FROM jobs j ORDER BY job_id")
	heartbeat "{\"worker_id\":\"hb-2\",\"worker_name\":\"n\",\"status\":\"busy\",\"current_task_id\":$job}"
	expect_empty 200
	heartbeat '{"worker_id":"hb-2","worker_name":"n","status":"online"}'
	expect_empty 200
	assert_equal "$(coord_psql "SELECT row_to_json(j)::text FROM jobs j ORDER BY job_id")" "$before"
}

# ------------------------------------------------------------------ task completion (§3.2.6)

@test "task-completion: success and failure counters, status online, current task cleared" {
	coord_psql "INSERT INTO worker_status (worker_id, worker_name, status, current_task_id, updated_at)
		VALUES ('tc-1', 'n', 'busy', 7, '2020-01-01Z')"
	task_completion '{"worker_id":"tc-1","success":true}'
	expect_empty 200
	run sql "SELECT total_tasks_completed, total_tasks_failed, last_task_completed_at > now() - interval '1 minute',
		status, current_task_id, updated_at > '2020-01-02Z' FROM worker_status WHERE worker_id = 'tc-1'"
	assert_output "1|0|t|online|NULL|t"
	coord_psql "UPDATE worker_status SET status = 'busy', current_task_id = 8,
		last_task_completed_at = '2020-01-01Z', updated_at = '2020-01-01Z' WHERE worker_id = 'tc-1'"
	task_completion '{"worker_id":"tc-1","success":false}'
	expect_empty 200
	run sql "SELECT total_tasks_completed, total_tasks_failed, last_task_completed_at = '2020-01-01Z',
		status, current_task_id, updated_at > '2020-01-02Z' FROM worker_status WHERE worker_id = 'tc-1'"
	assert_output "1|1|t|online|NULL|t"
	task_completion '{"worker_id":"tc-1","success":true}'
	assert_equal "$(coord_psql "SELECT total_tasks_completed FROM worker_status WHERE worker_id = 'tc-1'")" 2
}

@test "task-completion: 200 also when no row matches (no row created); shape errors 422" {
	task_completion '{"worker_id":"nobody","success":true}'
	expect_empty 200
	assert_equal "$(coord_psql "SELECT count(*) FROM worker_status")" 0
	task_completion '{"worker_id":"nobody"}'
	expect_422 success missing
	task_completion '{"worker_id":"nobody","success":"true"}'
	expect_422 success type
	task_completion '{"success":true}'
	expect_422 worker_id missing
	req POST /workers/task-completion -H 'Content-Type: application/json' --data-binary '{"worker_id":"x","success":true}'
	expect_error 401 unauthorized
}

# ------------------------------------------------------------------ locks (§3.2.8)

@test "locks: acquire sets lock:<key> NX EX ttl; a second acquire is refused; release deletes" {
	local key=compile:https://github.com/a/b:abc
	acquire "{\"lock_key\":\"$key\",\"worker_id\":\"w1\",\"ttl_seconds\":60}"
	assert_equal "$status" 200
	assert_equal "$body" '{"acquired":true}'
	assert_equal "$(coord_redis GET "lock:$key")" w1
	ttl=$(coord_redis TTL "lock:$key")
	((ttl > 0 && ttl <= 60))
	acquire "{\"lock_key\":\"$key\",\"worker_id\":\"w2\",\"ttl_seconds\":600}"
	assert_equal "$status" 200
	assert_equal "$body" '{"acquired":false}'
	assert_equal "$(coord_redis GET "lock:$key")" w1
	ttl=$(coord_redis TTL "lock:$key")
	((ttl > 0 && ttl <= 60))
	# the percent-encoded segment decodes to the key (§0.2: %2F inside a segment is a /)
	release compile%3Ahttps%3A%2F%2Fgithub.com%2Fa%2Fb%3Aabc
	expect_empty 200
	assert_equal "$(coord_redis EXISTS "lock:$key")" 0
	# releasing an absent key is still 200
	release compile%3Ahttps%3A%2F%2Fgithub.com%2Fa%2Fb%3Aabc
	expect_empty 200
	acquire "{\"lock_key\":\"$key\",\"worker_id\":\"w2\",\"ttl_seconds\":1}"
	assert_equal "$body" '{"acquired":true}'
	assert_equal "$(coord_redis GET "lock:$key")" w2
}

@test "locks: release has no owner check, and '+' in the path is not a space" {
	coord_redis SET 'lock:a+b c' other >/dev/null
	coord_redis SET 'lock:a+b' other >/dev/null
	release 'a+b'
	expect_empty 200
	assert_equal "$(coord_redis EXISTS 'lock:a+b')" 0
	assert_equal "$(coord_redis EXISTS 'lock:a+b c')" 1
	release 'a%2Bb%20c'
	assert_equal "$(coord_redis EXISTS 'lock:a+b c')" 0
}

@test "locks: lock_key 1-512 bytes, ttl_seconds 1-86400, worker_id <= 128 (422); release key > 512 bytes -> 400" {
	local e e256 e255
	e=$(printf '\303\251')
	e256=$(rep "$e" 256) # 256 characters, 512 bytes
	e255=$(rep "$e" 255)
	acquire "{\"lock_key\":\"$e256\",\"worker_id\":\"w\",\"ttl_seconds\":86400}"
	assert_equal "$body" '{"acquired":true}'
	ttl=$(coord_redis TTL "lock:$e256")
	((ttl > 86000 && ttl <= 86400))
	acquire "{\"lock_key\":\"x$e256\",\"worker_id\":\"w\",\"ttl_seconds\":10}"
	expect_422 lock_key
	acquire "{\"lock_key\":\"\",\"worker_id\":\"w\",\"ttl_seconds\":10}"
	expect_422 lock_key
	acquire '{"worker_id":"w","ttl_seconds":10}'
	expect_422 lock_key missing
	acquire '{"lock_key":"k","worker_id":"w","ttl_seconds":0}'
	expect_422 ttl_seconds range
	acquire '{"lock_key":"k","worker_id":"w","ttl_seconds":86401}'
	expect_422 ttl_seconds range
	acquire '{"lock_key":"k","worker_id":"w"}'
	expect_422 ttl_seconds missing
	acquire "{\"lock_key\":\"k\",\"worker_id\":\"$(rep w 129)\",\"ttl_seconds\":10}"
	expect_422 worker_id
	acquire '{"lock_key":"k","worker_id":"w","ttl_seconds":"10"}'
	expect_422 ttl_seconds type
	assert_equal "$(coord_redis EXISTS lock:k)" 0
	# release: the decoded key is 1-512 bytes, else 400 invalid_parameter
	enc=$(printf '%%C3%%A9%.0s' {1..256})
	release "$enc"
	expect_empty 200
	assert_equal "$(coord_redis EXISTS "lock:$e256")" 0
	release "x$enc"
	expect_error 400 invalid_parameter
	release "%zz"
	expect_error 400 invalid_parameter
	coord_redis SET "lock:x$e255" v >/dev/null
	release "x$(printf '%%C3%%A9%.0s' {1..255})"
	expect_empty 200
	assert_equal "$(coord_redis EXISTS "lock:x$e255")" 0
}

@test "locks: methods (405), token (401)" {
	wreq GET /locks/acquire
	expect_error 405 method_not_allowed
	assert_equal "$(header Allow)" POST
	wreq POST /locks/release/k
	expect_error 405 method_not_allowed
	assert_equal "$(header Allow)" DELETE
	req DELETE /locks/release/k
	expect_error 401 unauthorized
	req POST /locks/acquire -H 'Content-Type: application/json' --data-binary '{"lock_key":"k","worker_id":"w","ttl_seconds":1}'
	expect_error 401 unauthorized
}

@test "locks: Redis unreachable -> acquire answers acquired:false, release 503" {
	coord_stop_redis
	acquire '{"lock_key":"k","worker_id":"w","ttl_seconds":10}'
	assert_equal "$status" 200
	assert_equal "$body" '{"acquired":false}'
	release k
	expect_error 503 unavailable
	coord_start_redis
	acquire '{"lock_key":"k","worker_id":"w","ttl_seconds":10}'
	assert_equal "$body" '{"acquired":true}'
	coord_redis DEL lock:k >/dev/null
}

# ------------------------------------------------------------------ hidden logs (§3.2.12, §3.5)

@test "system-logs: 201 {\"id\":N}; admin compile-logs lists them newest first with every key" {
	system_log '{"request_id":5,"job_id":77,"log_type":"compilation","stderr":"err </script> \u0001","stdout":"out/1","exit_code":1}'
	assert_equal "$status" 201
	assert_equal "$(header Content-Type)" application/json
	id1=$(jq -r .id <<<"$body")
	assert_equal "$body" "{\"id\":$id1}"
	run sql "SELECT request_id, job_id, log_type, stderr, stdout, exit_code, execution_error, token_hash
		FROM system_hidden_logs WHERE id = $id1"
	assert_output "5|77|compilation|err </script> $(printf '\001')|out/1|1|NULL|$TOKEN_HASH"
	coord_psql "UPDATE system_hidden_logs SET created_at = now() - interval '1 minute' WHERE id = $id1"
	system_log '{"request_id":5,"job_id":77,"log_type":"execution","execution_error":"trap","exit_code":-1}'
	assert_equal "$status" 201
	id2=$(jq -r .id <<<"$body")
	((id2 > id1))
	# a log of another job and one without job_id are not listed
	system_log '{"request_id":6,"job_id":78,"log_type":"compilation"}'
	system_log '{"request_id":5,"log_type":"compilation"}'
	areq GET /admin/compile-logs/77
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jq -c 'map(keys_unsorted) | unique' <<<"$body")" \
		'[["id","request_id","job_id","log_type","stderr","stdout","exit_code","execution_error","created_at"]]'
	assert_equal "$(jq -c 'map(del(.created_at))' <<<"$body")" \
		"[{\"id\":$id2,\"request_id\":5,\"job_id\":77,\"log_type\":\"execution\",\"stderr\":null,\"stdout\":null,\"exit_code\":-1,\"execution_error\":\"trap\"},{\"id\":$id1,\"request_id\":5,\"job_id\":77,\"log_type\":\"compilation\",\"stderr\":\"err </script> \\u0001\",\"stdout\":\"out/1\",\"exit_code\":1,\"execution_error\":null}]"
	# compact, "/" not escaped (§1.1)
	[[ $body == *'"stderr":"err </script> \u0001"'* ]]
	run jq -r '.[].created_at' <<<"$body"
	assert_line --index 0 --regexp "$TS_RE"
	assert_line --index 1 --regexp "$TS_RE"
}

@test "admin compile-logs: 404 logs_not_found, 400 for a non-integer id, admin token required" {
	areq GET /admin/compile-logs/999
	expect_error 404 logs_not_found
	areq GET /admin/compile-logs/-1
	expect_error 404 logs_not_found
	for id in abc 1.5 9223372036854775808 '%20'; do
		areq GET "/admin/compile-logs/$id"
		expect_error 400 invalid_parameter
	done
	req GET /admin/compile-logs/1
	expect_error 401 unauthorized
	req GET /admin/compile-logs/1 -H 'Authorization: Bearer wrong'
	expect_error 403 forbidden
}

@test "system-logs: shape errors (422), 415, worker token required (401)" {
	system_log '{"request_id":5}'
	expect_422 log_type missing
	system_log '{"log_type":"compilation"}'
	expect_422 request_id missing
	system_log '{"request_id":5,"log_type":""}'
	expect_422 log_type
	system_log "{\"request_id\":5,\"log_type\":\"$(rep l 51)\"}"
	expect_422 log_type
	system_log '{"request_id":5,"log_type":"x","exit_code":2147483648}'
	expect_422 exit_code range
	system_log '{"request_id":5,"log_type":"x","job_id":"7"}'
	expect_422 job_id type
	system_log '{"request_id":5,"log_type":"x","stderr":5}'
	expect_422 stderr type
	assert_equal "$(coord_psql "SELECT count(*) FROM system_hidden_logs")" 0
	wreq POST /internal/system-logs -H 'Content-Type: text/plain' --data-binary '{"request_id":5,"log_type":"x"}'
	expect_error 415 unsupported_media_type
	req POST /internal/system-logs -H 'Content-Type: application/json' --data-binary '{"request_id":5,"log_type":"x"}'
	expect_error 401 unauthorized
	# 50 characters (100 bytes) is within bounds; exit_code i32 minimum
	system_log "{\"request_id\":5,\"log_type\":\"$(rep "$(printf '\303\251')" 50)\",\"exit_code\":-2147483648}"
	assert_equal "$status" 201
}

# ------------------------------------------------------------------ public statistics (§3.4.2)

# The rows of the statistics tests: one job per failure status, results joined to them.
add_stats_rows() {
	coord_psql "INSERT INTO jobs (job_id, request_id, data_id, job_type, status) VALUES
		(1001, 1, 'd', 'execute', 'completed'), (1002, 2, 'd', 'execute', 'access_denied'),
		(1003, 3, 'd', 'compile', 'compilation_failed'), (1004, 4, 'd', 'execute', 'execution_failed'),
		(1005, 5, 'd', 'execute', 'insufficient_payment'), (1006, 6, 'd', 'execute', 'custom'),
		(1007, 7, 'd', 'execute', 'failed')"
	coord_psql "INSERT INTO execution_results (job_id, request_id, worker_id, success,
		execution_time_ms, instructions_used, near_payment_yocto, user_account_id) VALUES
		(1001, 1, 'w-a', true, 100, 1000, 1000000000000000000000000000000, 'alice'),
		(1002, 2, 'w-a', false, NULL, NULL, NULL, 'bob'),
		(1003, 3, 'w-a', false, NULL, NULL, NULL, 'alice'),
		(1004, 4, 'w-b', false, 203, 7, NULL, NULL),
		(1005, 5, 'w-b', false, NULL, NULL, NULL, NULL),
		(1006, 6, 'w-b', false, NULL, NULL, NULL, NULL),
		(1007, 7, 'w-b', false, NULL, NULL, NULL, NULL),
		(NULL, 8, 'w-a', true, 50, 500, 7, 'carol')"
}

@test "public stats: zeros on empty tables" {
	req GET /public/stats
	assert_equal "$status" 200
	assert_equal "$body" '{"total_executions":0,"successful_executions":0,"failed_executions":0,"access_denied_executions":0,"compilation_failed_executions":0,"execution_failed_executions":0,"insufficient_payment_executions":0,"custom_executions":0,"total_instructions_used":0,"average_execution_time_ms":0,"total_near_paid_yocto":"0","unique_users":0,"active_workers":0}'
}

@test "public stats: counts, categories by job status, rounded average, money sum, users, active workers" {
	add_stats_rows
	# active: online/busy with a heartbeat in the last 5 minutes, keystore row excluded
	coord_psql "INSERT INTO worker_status (worker_id, worker_name, status, last_heartbeat_at) VALUES
		('a', 'n', 'online', now()), ('b', 'n', 'busy', now() - interval '4 minutes'),
		('c', 'n', 'online', now() - interval '6 minutes'), ('d', 'n', 'offline', now()),
		('e', 'n', 'stale', now()), ('f', 'n', 'busy', NULL),
		('testnet-keystore', 'keystore', 'online', now())"
	req GET /public/stats
	assert_equal "$status" 200
	# average of 100, 203, 50 = 117.67 -> 118; 10^30 + 7 as a money string
	assert_equal "$body" '{"total_executions":8,"successful_executions":2,"failed_executions":6,"access_denied_executions":1,"compilation_failed_executions":1,"execution_failed_executions":1,"insufficient_payment_executions":1,"custom_executions":1,"total_instructions_used":1507,"average_execution_time_ms":118,"total_near_paid_yocto":"1000000000000000000000000000007","unique_users":3,"active_workers":2}'
	# HEAD on a public GET route: same status, no body (§0.2)
	req HEAD /public/stats
	assert_equal "$status" 200
}

@test "public workers: keystore excluded, newest heartbeat first (nulls last), totals from results" {
	add_stats_rows
	coord_psql "INSERT INTO worker_status (worker_id, worker_name, status, current_task_id,
		last_heartbeat_at, total_tasks_completed, total_tasks_failed, created_at) VALUES
		('w-a', 'A', 'online', 5, now() - interval '10 seconds', 99, 99, now() - interval '100 seconds'),
		('w-b', 'B', 'busy', NULL, now() - interval '5 seconds', 0, 0, now() - interval '3600 seconds'),
		('w-c', 'C', 'offline', NULL, NULL, 0, 0, now()),
		('testnet-keystore', 'keystore', 'online', NULL, now(), 0, 0, now())"
	req GET /public/workers
	assert_equal "$status" 200
	assert_equal "$(jq -c 'map(keys_unsorted) | unique' <<<"$body")" \
		'[["worker_id","worker_name","status","current_task_id","last_heartbeat_at","total_tasks_completed","total_tasks_failed","uptime_seconds"]]'
	assert_equal "$(jq -c 'map([.worker_id, .worker_name, .status, .current_task_id, .total_tasks_completed, .total_tasks_failed])' <<<"$body")" \
		'[["w-b","B","busy",null,0,4],["w-a","A","online",5,2,2],["w-c","C","offline",null,0,0]]'
	assert_equal "$(jq -r '.[2].last_heartbeat_at' <<<"$body")" null
	run jq -r '.[0].last_heartbeat_at, .[1].last_heartbeat_at' <<<"$body"
	assert_line --index 0 --regexp "$TS_RE"
	assert_line --index 1 --regexp "$TS_RE"
	up_a=$(jq '.[1].uptime_seconds' <<<"$body") up_b=$(jq '.[0].uptime_seconds' <<<"$body")
	((up_a >= 100 && up_a <= 105 && up_b >= 3600 && up_b <= 3605))
}

# The rows of the /public/jobs tests (ids in creation order r1..r4; r3 and r4 share created_at).
add_job_rows() {
	coord_psql "INSERT INTO jobs (job_id, request_id, data_id, job_type, status, error_details) VALUES
		(2001, 11, 'd-11', 'execute', 'completed', NULL), (2002, 12, 'd-12', 'compile', 'compilation_failed', 'E: x')"
	coord_psql "INSERT INTO https_calls (call_id, owner, nonce, project_id, request_id, status, is_async,
		compute_limit, attached_deposit, reserved_amount, compute_cost, reservation_released_at)
		VALUES ('11111111-2222-4333-8444-555555555555', 'own', 1, 'own/proj', 13, 'completed', true,
		5000, 0, 5000, 1234, now())"
	coord_psql "INSERT INTO execution_requests (request_id, data_id, project_id, is_https_call, call_id) VALUES
		(11, 'd-11', 'o/p', false, NULL), (12, 'd-12', NULL, false, NULL),
		(13, '11111111-2222-4333-8444-555555555555', 'own/other', true, '11111111-2222-4333-8444-555555555555'),
		(14, 'd-14', NULL, false, NULL)"
	coord_psql "INSERT INTO execution_results (job_id, request_id, data_id, job_type, worker_id, success,
		execution_time_ms, compile_time_ms, instructions_used, user_account_id, near_payment_yocto,
		actual_cost_yocto, compile_cost_yocto, github_repo, github_commit, transaction_hash,
		is_https_call, call_id, project_id, created_at) VALUES
		(2001, 11, 'd-11', 'execute', 'w1', true, 10, NULL, 100, 'alice', 5, 6, NULL,
		 'https://github.com/o/r', 'c', 'tx', false, NULL, 'o/p', '2024-01-01 00:00:01.5Z'),
		(2002, 12, 'd-12', 'compile', 'w2', false, NULL, 20, NULL, 'bob', NULL, NULL, 3,
		 'https://github.com/o/r', 'c', NULL, false, NULL, NULL, '2024-01-01 00:00:02Z'),
		(NULL, 13, '11111111-2222-4333-8444-555555555555', 'execute', 'w1', true, 30, NULL, 300, 'alice',
		 NULL, NULL, NULL, NULL, NULL, NULL, true, '11111111-2222-4333-8444-555555555555', 'own/other',
		 '2024-01-01 00:00:03Z'),
		(NULL, 14, 'd-14', 'execute', 'w3', true, 40, NULL, 400, 'carol', NULL, NULL, NULL, NULL, NULL,
		 NULL, false, NULL, NULL, '2024-01-01 00:00:03Z')"
}

@test "public jobs: newest first (created_at, then id), every key present, joined values" {
	add_job_rows
	req GET /public/jobs
	assert_equal "$status" 200
	assert_equal "$(jq -c 'map(.request_id)' <<<"$body")" '[14,13,12,11]'
	assert_equal "$(jq -c 'map(keys_unsorted) | unique' <<<"$body")" \
		'[["id","job_id","request_id","data_id","worker_id","success","status","error_details","job_type","execution_time_ms","compile_time_ms","instructions_used","resolve_tx_id","user_account_id","near_payment_yocto","actual_cost_yocto","compile_cost_yocto","github_repo","github_commit","transaction_hash","created_at","is_https_call","call_id","project_id","compute_cost_usd"]]'
	id1=$(coord_psql "SELECT id FROM execution_results WHERE request_id = 11")
	assert_equal "$(jq -c '.[3]' <<<"$body")" \
		"{\"id\":$id1,\"job_id\":2001,\"request_id\":11,\"data_id\":\"d-11\",\"worker_id\":\"w1\",\"success\":true,\"status\":\"completed\",\"error_details\":null,\"job_type\":\"execute\",\"execution_time_ms\":10,\"compile_time_ms\":null,\"instructions_used\":100,\"resolve_tx_id\":null,\"user_account_id\":\"alice\",\"near_payment_yocto\":\"5\",\"actual_cost_yocto\":\"6\",\"compile_cost_yocto\":null,\"github_repo\":\"https://github.com/o/r\",\"github_commit\":\"c\",\"transaction_hash\":\"tx\",\"created_at\":\"2024-01-01T00:00:01.500Z\",\"is_https_call\":false,\"call_id\":null,\"project_id\":\"o/p\",\"compute_cost_usd\":null}"
	# failure status and error from the job; money as strings
	assert_equal "$(jq -c '.[2] | [.status, .error_details, .compile_time_ms, .compile_cost_yocto, .success]' <<<"$body")" \
		'["compilation_failed","E: x",20,"3",false]'
	# HTTPS row: the call's project and charged compute cost; no job -> status null
	assert_equal "$(jq -c '.[1] | [.is_https_call, .call_id, .project_id, .compute_cost_usd, .status, .job_id]' <<<"$body")" \
		'[true,"11111111-2222-4333-8444-555555555555","own/proj","1234",null,null]'
}

@test "public jobs: source and user_account_id filters; bad source -> 400" {
	add_job_rows
	req GET '/public/jobs?source=near'
	assert_equal "$(jq -c 'map(.request_id)' <<<"$body")" '[14,12,11]'
	req GET '/public/jobs?source=https'
	assert_equal "$(jq -c 'map(.request_id)' <<<"$body")" '[13]'
	req GET '/public/jobs?source=all'
	assert_equal "$(jq -c 'map(.request_id)' <<<"$body")" '[14,13,12,11]'
	req GET '/public/jobs?user_account_id=alice'
	assert_equal "$(jq -c 'map(.request_id)' <<<"$body")" '[13,11]'
	req GET '/public/jobs?user_account_id=alice&source=near'
	assert_equal "$(jq -c 'map(.request_id)' <<<"$body")" '[11]'
	req GET '/public/jobs?user_account_id=nobody'
	assert_equal "$body" '[]'
	for s in bogus NEAR ''; do
		req GET "/public/jobs?source=$s"
		expect_error 400 invalid_parameter
	done
}

@test "public jobs: limit/offset rules of §3.0 (default 50, max 100, limit 0 and negatives 400)" {
	add_job_rows
	req GET '/public/jobs?limit=2'
	assert_equal "$(jq -c 'map(.request_id)' <<<"$body")" '[14,13]'
	req GET '/public/jobs?limit=2&offset=2'
	assert_equal "$(jq -c 'map(.request_id)' <<<"$body")" '[12,11]'
	req GET '/public/jobs?offset=4'
	assert_equal "$status" 200
	assert_equal "$body" '[]'
	for q in limit=0 limit=-1 offset=-1 limit=abc offset=1.5 limit= 'offset'; do
		req GET "/public/jobs?$q"
		expect_error 400 invalid_parameter
	done
	coord_psql "INSERT INTO execution_results (request_id, worker_id, success, created_at)
		SELECT 1000 + g, 'bulk', true, '2023-01-01Z'::timestamptz + g * interval '1 second'
		FROM generate_series(1, 110) g"
	req GET /public/jobs
	assert_equal "$(jq length <<<"$body")" 50
	req GET '/public/jobs?limit=100'
	assert_equal "$(jq length <<<"$body")" 100
	# above the maximum -> treated as the maximum
	req GET '/public/jobs?limit=1000'
	assert_equal "$status" 200
	assert_equal "$(jq length <<<"$body")" 100
	req GET '/public/jobs?limit=1000&offset=100'
	assert_equal "$(jq length <<<"$body")" 14
}

@test "public repos popular: top 10 by result rows (ties by name), counts per category, last commit" {
	# o/a: 7 rows (2 successes; one failure of each category), newest commit "newest"
	coord_psql "INSERT INTO jobs (job_id, request_id, data_id, job_type, status) VALUES
		(3001, 31, 'd', 'execute', 'completed'), (3002, 32, 'd', 'execute', 'access_denied'),
		(3003, 33, 'd', 'compile', 'compilation_failed'), (3004, 34, 'd', 'execute', 'execution_failed'),
		(3005, 35, 'd', 'execute', 'insufficient_payment'), (3006, 36, 'd', 'execute', 'custom')"
	coord_psql "INSERT INTO execution_results (job_id, request_id, worker_id, success, github_repo,
		github_commit, created_at) VALUES
		(3001, 31, 'w', true, 'https://github.com/o/a', 'c1', '2024-01-01 00:00:01Z'),
		(NULL, 30, 'w', true, 'https://github.com/o/a', 'newest', '2024-01-01 00:00:09Z'),
		(3002, 32, 'w', false, 'https://github.com/o/a', 'c2', '2024-01-01 00:00:02Z'),
		(3003, 33, 'w', false, 'https://github.com/o/a', 'c3', '2024-01-01 00:00:03Z'),
		(3004, 34, 'w', false, 'https://github.com/o/a', 'c4', '2024-01-01 00:00:04Z'),
		(3005, 35, 'w', false, 'https://github.com/o/a', 'c5', '2024-01-01 00:00:05Z'),
		(3006, 36, 'w', false, 'https://github.com/o/a', 'c6', '2024-01-01 00:00:06Z')"
	# o/c and o/b: 3 rows each (tie: by name); o/d .. o/k: 2 rows each (8 repos, o/k is 11th)
	coord_psql "INSERT INTO execution_results (request_id, worker_id, success, github_repo, github_commit)
		SELECT 40 + g, 'w', true, 'https://github.com/o/' || r, 'x'
		FROM unnest(ARRAY['c','b']) r, generate_series(1, 3) g"
	coord_psql "INSERT INTO execution_results (request_id, worker_id, success, github_repo, github_commit)
		SELECT 50 + g, 'w', g = 1, 'https://github.com/o/' || r, 'x'
		FROM unnest(ARRAY['k','j','i','h','g','f','e','d']) r, generate_series(1, 2) g"
	req GET /public/repos/popular
	assert_equal "$status" 200
	assert_equal "$(jq -c 'map(.github_repo | ltrimstr("https://github.com/o/"))' <<<"$body")" \
		'["a","b","c","d","e","f","g","h","i","j"]'
	assert_equal "$(jq -c '.[0]' <<<"$body")" \
		'{"github_repo":"https://github.com/o/a","total_executions":7,"successful_executions":2,"failed_executions":5,"access_denied_executions":1,"compilation_failed_executions":1,"execution_failed_executions":1,"insufficient_payment_executions":1,"custom_executions":1,"last_commit":"newest"}'
	assert_equal "$(jq -c '.[3] | [.total_executions, .successful_executions, .failed_executions, .custom_executions]' <<<"$body")" \
		'[2,1,1,0]'
}

@test "public repos popular: empty array without results" {
	req GET /public/repos/popular
	assert_equal "$status" 200
	assert_equal "$body" '[]'
}

@test "task-completion: worker_id takes the default string bounds, 1-256 characters" {
	coord_psql "INSERT INTO worker_status (worker_id, worker_name, status) VALUES ('$(rep w 256)', 'n', 'busy')"
	task_completion "{\"worker_id\":\"$(rep w 256)\",\"success\":true}"
	expect_empty 200
	assert_equal "$(coord_psql "SELECT total_tasks_completed FROM worker_status WHERE worker_id = '$(rep w 256)'")" 1
	task_completion "{\"worker_id\":\"$(rep w 257)\",\"success\":true}"
	expect_error 422 invalid_request_body
	task_completion '{"worker_id":"","success":true}'
	expect_error 422 invalid_request_body
}

@test "public user earnings: the account's result rows summed; zeros for an unknown account" {
	add_stats_rows
	coord_psql "INSERT INTO execution_results (request_id, worker_id, success, execution_time_ms,
		instructions_used, near_payment_yocto, user_account_id) VALUES (9, 'w-a', true, 301, 5, 3, 'alice')"
	req GET /public/users/alice/earnings
	assert_equal "$status" 200
	# alice: results 1001 (100 ms, 1000 instr, 10^30 yocto), 1003 (failed, nulls), 9 (301 ms, 5, 3)
	assert_equal "$body" '{"user_account_id":"alice","total_executions":3,"successful_executions":2,"total_near_spent_yocto":"1000000000000000000000000000003","total_instructions_used":1005,"average_execution_time_ms":201}'
	req GET /public/users/nobody.near/earnings
	assert_equal "$body" '{"user_account_id":"nobody.near","total_executions":0,"successful_executions":0,"total_near_spent_yocto":"0","total_instructions_used":0,"average_execution_time_ms":0}'
	req GET /public/users/a%2Fb/earnings
	assert_equal "$(jq -r .user_account_id <<<"$body")" a/b
}
