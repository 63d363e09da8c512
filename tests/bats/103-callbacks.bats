#!/usr/bin/env bats
# System callbacks (SPEC §3.2.11, §3.1.1 "System callbacks"): the three producers with their
# dedupe window and sequences, and /system-callbacks/poll delivering each task at most once,
# from Redis or, when Redis lost it, from PostgreSQL.

load ../helpers/coord

setup_file() {
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token callback-worker)
	TOKEN_HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
	export TOKEN TOKEN_HASH
}

setup() {
	coord_test_setup
	# every test starts from an empty system queue
	coord_psql "DELETE FROM queue_items WHERE queue = 'system_callbacks'"
	coord_redis DEL system_callbacks_queue >/dev/null
}

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}

wpost() {
	local path=$1 json=$2
	shift 2
	req POST "$path" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "$json" "$@"
}

# poll QUERY [curl args]
poll() {
	local q=$1
	shift
	req GET "/system-callbacks/poll?$q" -H "Authorization: Bearer $TOKEN" "$@"
}

# topup DATA_ID [NONCE] [AMOUNT] [ENCRYPTED_DATA]
topup() {
	wpost /topup/create "$(jq -nc --arg d "$1" --argjson n "${2:-7}" --arg a "${3:-1000}" --arg e "${4:-enc}" \
		'{data_id:$d, owner:"alice.near", nonce:$n, amount:$a, encrypted_data:$e}')"
}

item_of_task() { coord_psql "SELECT item_id FROM queue_items WHERE queue = 'system_callbacks' AND task_id = $1 AND task_type = '$2'"; }

redis_list() { coord_redis LRANGE system_callbacks_queue 0 -1 | tr '\n' ' '; }

# ------------------------------------------------------------------ producers

@test "topup/create stores a queued task with the payload of §3.1.2 and pushes its id" {
	topup d-1 4294967295 00150 'blob/with "quotes" and é'
	assert_equal "$status" 200
	id=$(jq -r .task_id <<<"$body")
	assert_equal "$body" "{\"task_id\":$id,\"created\":true}"
	assert_equal "$id" "$(coord_psql "SELECT last_value FROM topup_task_id_seq")"
	run coord_psql "SELECT state, task_type, dedupe_key, attempts, pushed_at IS NOT NULL, request_id IS NULL FROM queue_items WHERE task_id = $id AND queue = 'system_callbacks'"
	assert_output "queued|top_up|top_up:d-1|0|t|t"
	payload=$(coord_psql "SELECT payload FROM queue_items WHERE task_id = $id AND queue = 'system_callbacks'")
	created=$(jq .created_at <<<"$payload")
	now=$(date +%s)
	((created >= now - 10 && created <= now + 1))
	assert_equal "$payload" "{\"task_type\":\"top_up\",\"task_id\":$id,\"data_id\":\"d-1\",\"owner\":\"alice.near\",\"nonce\":4294967295,\"amount\":\"150\",\"encrypted_data\":\"blob/with \\\"quotes\\\" and é\",\"created_at\":$created}"
	assert_equal "$(redis_list)" "$(item_of_task "$id" top_up) "
}

@test "the same dedupe key within 90 000 s answers the first task, after that a new one" {
	topup d-dup
	first=$(jq -r .task_id <<<"$body")
	topup d-dup 8 5 other
	assert_equal "$body" "{\"task_id\":$first,\"created\":false}"
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE dedupe_key = 'top_up:d-dup'")" 1
	assert_equal "$(coord_redis LLEN system_callbacks_queue)" 1
	# still inside the window, even once delivered
	poll timeout=0
	assert_equal "$(jq .task_id <<<"$body")" "$first"
	coord_psql "UPDATE queue_items SET created_at = now() - interval '89990 seconds' WHERE dedupe_key = 'top_up:d-dup'"
	topup d-dup
	assert_equal "$body" "{\"task_id\":$first,\"created\":false}"
	coord_psql "UPDATE queue_items SET created_at = now() - interval '90001 seconds' WHERE dedupe_key = 'top_up:d-dup'"
	topup d-dup
	assert_equal "$(jq .created <<<"$body")" true
	second=$(jq .task_id <<<"$body")
	((second > first))
	# other data ids, and the other task types, are not deduplicated against it
	topup d-dup-2
	assert_equal "$(jq .created <<<"$body")" true
	wpost /payment-keys/delete-task/create '{"data_id":"d-dup","owner":"alice.near","nonce":7}'
	assert_equal "$(jq .created <<<"$body")" true
}

@test "delete-task and cleanup-task build their payloads from their own sequences" {
	wpost /payment-keys/delete-task/create '{"data_id":"d-del","owner":"bob.near","nonce":0}'
	assert_equal "$status" 200
	id=$(jq -r .task_id <<<"$body")
	assert_equal "$(jq .created <<<"$body")" true
	assert_equal "$id" "$(coord_psql "SELECT last_value FROM delete_payment_key_task_id_seq")"
	payload=$(coord_psql "SELECT payload FROM queue_items WHERE dedupe_key = 'delete_payment_key:d-del'")
	created=$(jq .created_at <<<"$payload")
	assert_equal "$payload" "{\"task_type\":\"delete_payment_key\",\"task_id\":$id,\"data_id\":\"d-del\",\"owner\":\"bob.near\",\"nonce\":0,\"created_at\":$created}"

	wpost /projects/cleanup-task/create '{"project_id":"bob.near/app","project_uuid":"uuid-1"}'
	id=$(jq -r .task_id <<<"$body")
	assert_equal "$id" "$(coord_psql "SELECT last_value FROM project_storage_cleanup_task_id_seq")"
	payload=$(coord_psql "SELECT payload FROM queue_items WHERE dedupe_key = 'project_storage_cleanup:uuid-1'")
	created=$(jq .created_at <<<"$payload")
	assert_equal "$payload" "{\"task_type\":\"project_storage_cleanup\",\"task_id\":$id,\"project_id\":\"bob.near/app\",\"project_uuid\":\"uuid-1\",\"created_at\":$created}"
	# deduplicated by the project uuid
	wpost /projects/cleanup-task/create '{"project_id":"bob.near/renamed","project_uuid":"uuid-1"}'
	assert_equal "$body" "{\"task_id\":$id,\"created\":false}"
}

@test "bad producer bodies get 422 with the field and create nothing" {
	long65=$(printf 'o%.0s' {1..65})
	long129=$(printf 'p%.0s' {1..129})
	check() {
		wpost "$1" "$2"
		expect_error 422 invalid_request_body
		assert_equal "$(jq -c .details <<<"$body")" "$3"
	}
	check /topup/create '{"data_id":"x","owner":"a","nonce":4294967296,"amount":"1","encrypted_data":""}' '{"field":"nonce","reason":"range"}'
	check /topup/create '{"data_id":"x","owner":"a","nonce":-1,"amount":"1","encrypted_data":""}' '{"field":"nonce","reason":"range"}'
	check /topup/create '{"data_id":"x","owner":"a","nonce":1,"amount":"1.5","encrypted_data":""}' '{"field":"amount","reason":"format"}'
	check /topup/create '{"data_id":"x","owner":"a","nonce":1,"amount":5,"encrypted_data":""}' '{"field":"amount","reason":"type"}'
	check /topup/create '{"data_id":"x","owner":"a","nonce":1,"amount":"1"}' '{"field":"encrypted_data","reason":"missing"}'
	check /topup/create "{\"data_id\":\"x\",\"owner\":\"$long65\",\"nonce\":1,\"amount\":\"1\",\"encrypted_data\":\"\"}" '{"field":"owner","reason":"range"}'
	check /topup/create '{"data_id":"","owner":"a","nonce":1,"amount":"1","encrypted_data":""}' '{"field":"data_id","reason":"range"}'
	check /payment-keys/delete-task/create '{"data_id":"x","owner":"a","nonce":"1"}' '{"field":"nonce","reason":"type"}'
	check /projects/cleanup-task/create "{\"project_id\":\"$long129\",\"project_uuid\":\"u\"}" '{"field":"project_id","reason":"range"}'
	check /projects/cleanup-task/create "{\"project_id\":\"a/b\",\"project_uuid\":\"$long65\"}" '{"field":"project_uuid","reason":"range"}'
	check /projects/cleanup-task/create '{"project_id":"a/b"}' '{"field":"project_uuid","reason":"missing"}'
	req POST /topup/create -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' --data-binary '{}'
	expect_error 415 unsupported_media_type
	req POST /topup/create -H 'Content-Type: application/json' --data-binary '{}'
	expect_error 401 unauthorized
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE queue = 'system_callbacks'")" 0
	# the longest values pass
	wpost /projects/cleanup-task/create "{\"project_id\":\"${long129:1}\",\"project_uuid\":\"${long65:1}\"}"
	assert_equal "$status" 200
}

# ------------------------------------------------------------------ poll

@test "poll hands a task out once, verbatim, and records it as delivered to the caller" {
	topup d-poll 3 42 e
	id=$(jq -r .task_id <<<"$body")
	item=$(item_of_task "$id" top_up)
	stored=$(coord_psql "SELECT payload FROM queue_items WHERE item_id = $item")
	poll 'timeout=0&capabilities=execution'
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" "$stored"
	run coord_psql "SELECT state, close_reason, attempts, leased_to, closed_at IS NOT NULL, lease_expires_at IS NULL FROM queue_items WHERE item_id = $item"
	assert_output "done|delivered|1|$TOKEN_HASH|t|t"
	poll timeout=0
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" null
	# an id pushed again (a duplicate in the list) is not handed out twice
	coord_redis LPUSH system_callbacks_queue "$item" >/dev/null
	poll timeout=0
	assert_equal "$body" null
}

@test "poll checks capabilities and timeout" {
	for caps in compilation 'compilation,%20foo' foo; do
		poll "timeout=0&capabilities=$caps"
		expect_error 403 capability_not_allowed
	done
	for caps in execution 'compilation,%20execution%20' '' '%20execution'; do
		poll "timeout=0&capabilities=$caps"
		assert_equal "$status" 200
		assert_equal "$body" null
	done
	for t in -1 x '' 1.5; do
		poll "timeout=$t"
		expect_error 400 invalid_parameter
	done
	poll timeout=0
	assert_equal "$status" 200
	req GET /system-callbacks/poll
	expect_error 401 unauthorized
	req POST /system-callbacks/poll -H "Authorization: Bearer $TOKEN"
	expect_error 405 method_not_allowed
}

@test "a waiting poll gets a task created while it waits" {
	start=$(date +%s%N)
	poll timeout=20 &
	pid=$!
	sleep 1
	curl -sS -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary '{"data_id":"d-wait","owner":"w.near","nonce":1}' "$BASE_URL/payment-keys/delete-task/create"
	wait "$pid"
	elapsed=$((($(date +%s%N) - start) / 1000000))
	((elapsed < 10000))
	run coord_psql "SELECT state, close_reason FROM queue_items WHERE dedupe_key = 'delete_payment_key:d-wait'"
	assert_output "done|delivered"
	# a poll that finds nothing answers null after its timeout
	start=$(date +%s%N)
	poll timeout=2
	elapsed=$((($(date +%s%N) - start) / 1000000))
	assert_equal "$body" null
	((elapsed >= 1900 && elapsed < 6000))
}

@test "20 concurrent pollers: each task is delivered to exactly one of them" {
	d=$BATS_TEST_TMPDIR
	for i in $(seq 1 24); do
		curl -sS -o "$d/poll.$i" --max-time 60 -H "Authorization: Bearer $TOKEN" \
			"$BASE_URL/system-callbacks/poll?timeout=8" &
	done
	sleep 1
	seq 1 20 | xargs -P 20 -I{} curl -sS -o /dev/null -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' \
		--data-binary '{"data_id":"d-conc-{}","owner":"c.near","nonce":{},"amount":"1","encrypted_data":""}' \
		"$BASE_URL/topup/create"
	wait
	delivered=$(for f in "$d"/poll.*; do jq -r 'select(. != null) | .task_id' "$f"; done | sort -n | tr '\n' ' ')
	created=$(coord_psql "SELECT task_id FROM queue_items WHERE dedupe_key LIKE 'top_up:d-conc-%' ORDER BY task_id" | tr '\n' ' ')
	assert_equal "$delivered" "$created"
	assert_equal "$(echo "$created" | wc -w)" 20
	assert_equal "$(for f in "$d"/poll.*; do cat "$f"; echo; done | grep -cx null)" 4
	run coord_psql "SELECT state, count(*) FROM queue_items WHERE queue = 'system_callbacks' GROUP BY state"
	assert_output "done|20"
}

@test "after FLUSHALL no task is lost: polls find the unpushed items in PostgreSQL" {
	for i in $(seq 1 10); do
		wpost /projects/cleanup-task/create "{\"project_id\":\"o/p$i\",\"project_uuid\":\"u-flush-$i\"}"
		assert_equal "$status" 200
	done
	coord_redis FLUSHALL >/dev/null
	# pushed less than 30 s ago: a poll leaves them to their wake-up
	poll timeout=0
	assert_equal "$body" null
	coord_psql "UPDATE queue_items SET pushed_at = now() - interval '31 seconds' WHERE queue = 'system_callbacks'"
	got=
	for i in $(seq 1 10); do
		poll timeout=0
		assert_equal "$status" 200
		got+="$(jq -r .project_uuid <<<"$body") "
	done
	assert_equal "$(tr ' ' '\n' <<<"$got" | grep . | sort -u | wc -l)" 10
	poll timeout=0
	assert_equal "$body" null
	assert_equal "$(coord_psql "SELECT count(*) FROM queue_items WHERE queue = 'system_callbacks' AND state <> 'done'")" 0
}

@test "with Redis down a task is still created, and a poll delivers it from PostgreSQL" {
	coord_stop_redis
	wpost /payment-keys/delete-task/create '{"data_id":"d-noredis","owner":"r.near","nonce":5}'
	st1=$status b1=$body
	poll timeout=0
	st2=$status b2=$body
	poll timeout=0
	st3=$status b3=$body
	coord_start_redis
	assert_equal "$st1" 200
	assert_equal "$(jq .created <<<"$b1")" true
	assert_equal "$st2" 200
	assert_equal "$(jq -r .data_id <<<"$b2")" d-noredis
	assert_equal "$st3 $b3" "200 null"
	run coord_psql "SELECT state, pushed_at IS NULL FROM queue_items WHERE dedupe_key = 'delete_payment_key:d-noredis'"
	assert_output "done|t"
}

@test "a JSON task pushed by the previous coordinator is answered verbatim and recorded" {
	task='{"task_type":"top_up","task_id":99,"data_id":"legacy","extra":[1, 2]}'
	coord_redis LPUSH system_callbacks_queue 'not-an-id' '{"no_type":1}' '{"task_type":5}' >/dev/null
	coord_redis LPUSH system_callbacks_queue "$task" >/dev/null
	# FIFO: the three bad values before it are discarded on the way
	poll timeout=0
	assert_equal "$body" "$task"
	assert_equal "$(coord_redis LLEN system_callbacks_queue)" 0
	poll timeout=0
	assert_equal "$body" null
	run coord_psql "SELECT state, close_reason, attempts, task_type, leased_to, payload FROM queue_items WHERE queue = 'system_callbacks'"
	assert_output "done|delivered|1|top_up|$TOKEN_HASH|$task"
}
