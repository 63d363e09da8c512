#!/usr/bin/env bats
# GET /metrics (SPEC §3.4.7): counters summed over processes through the Redis hash
# coord:metrics (flushed at most once a second and at exit), the duration histogram by
# program and route pattern, scrape-time gauges, promtool, Redis down, access restriction.

load ../helpers/coord
load ../helpers/cgi
load ../helpers/wasm

setup_file() {
	export NEAR_RPC_URL=off
	# 10.0.0.0/8 stands for the monitoring network: a client there may scrape
	export TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8
	export RATE_LIMIT_SECRETS_PER_MINUTE=2
	coord_start_stack
	TOKEN=$(coord_worker_token metrics-w1)
	export TOKEN
}

setup() {
	coord_test_setup
	coord_start_redis
	coord_redis DEL coord:metrics >/dev/null
}

# field NAME: the value of a field of coord:metrics ("" when absent).
field() { coord_redis HGET coord:metrics "$1"; }

# wait_field NAME VALUE: polls the hash until the field holds VALUE (flushes happen at most
# once a second: 10 s is ample even on a loaded machine); fails showing the last value.
wait_field() {
	local i v
	for ((i = 0; i < 100; i++)); do
		v=$(field "$1")
		[[ $v == "$2" ]] && return 0
		sleep 0.1
	done
	echo "field $1: expected $2, last seen '${v}'" >&2
	return 1
}

# scrape: GET /metrics into body and $BATS_TEST_TMPDIR/metrics.txt.
scrape() {
	req GET /metrics "$@"
	printf '%s' "$body" >"$BATS_TEST_TMPDIR/metrics.txt"
}

# sample LINE-START: the value of the scrape's sample whose name and labels are LINE-START.
sample() {
	awk -v k="$1" 'index($0, k " ") == 1 { print substr($0, length(k) + 2) }' \
		"$BATS_TEST_TMPDIR/metrics.txt"
}

@test "the scrape: text format 0.0.4, HELP and TYPE for every family, promtool check metrics passes" {
	command -v promtool >/dev/null || skip "promtool (Debian package prometheus) is not installed"
	req GET /public/repos/popular
	wait_field 'coordinator_http_requests_total{program="public",route="/public/repos/popular",status="200"}' 1
	scrape
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" 'text/plain; version=0.0.4'
	for fam in coordinator_queue_items coordinator_jobs coordinator_workers \
		coordinator_oldest_queued_item_age_seconds coordinator_https_calls_pending \
		coordinator_wasm_cache_bytes coordinator_wasm_cache_files coordinator_metrics_redis_up \
		coordinator_http_requests_total coordinator_http_request_duration_seconds \
		coordinator_wasm_downloads_total coordinator_jobs_completed_total \
		coordinator_reaper_actions_total coordinator_rate_limited_total; do
		grep -q "^# HELP $fam " "$BATS_TEST_TMPDIR/metrics.txt" || fail "no HELP for $fam"
		grep -q "^# TYPE $fam " "$BATS_TEST_TMPDIR/metrics.txt" || fail "no TYPE for $fam"
	done
	assert_equal "$(sample coordinator_metrics_redis_up)" 1
	assert_equal "$(sample 'coordinator_http_requests_total{program="public",route="/public/repos/popular",status="200"}')" 1
	run promtool check metrics <"$BATS_TEST_TMPDIR/metrics.txt"
	assert_success
	refute_output
	# HEAD: same headers, no body
	req HEAD /metrics
	assert_equal "$status" 200
}

@test "gauges are computed at scrape time from PostgreSQL" {
	coord_psql "DELETE FROM queue_items; DELETE FROM jobs; DELETE FROM worker_status;
		DELETE FROM wasm_cache"
	coord_psql "INSERT INTO queue_items (queue, payload, state, created_at) VALUES
		('compile', '{}', 'queued', now() - interval '90 seconds'),
		('compile', '{}', 'queued', now() - interval '10 seconds'),
		('execute', '{}', 'claimed', now())"
	coord_psql "INSERT INTO queue_items (queue, payload, state, closed_at)
		VALUES ('execute', '{}', 'done', now())"
	coord_psql "INSERT INTO queue_items (queue, payload, state, lease_id, leased_to, leased_at,
		lease_expires_at) VALUES ('system_callbacks', '{}', 'leased', gen_random_uuid(), 'w',
		now(), now() + interval '1 minute')"
	coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status) VALUES
		(1, 'd-1', 'compile', 'pending'), (2, 'd-2', 'compile', 'pending'),
		(3, 'd-3', 'execute', 'completed')"
	coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status, lease_id, lease_expires_at)
		VALUES (4, 'd-4', 'execute', 'in_progress', gen_random_uuid(), now() + interval '5 minutes')"
	coord_psql "INSERT INTO worker_status (worker_id, worker_name, status, last_heartbeat_at) VALUES
		('w-1', 'w-1', 'online', now()), ('w-2', 'w-2', 'online', now()),
		('w-3', 'w-3', 'stale', now())"
	coord_psql "INSERT INTO wasm_cache (checksum, repo_url, commit_hash, file_size, content_hash,
		verified_size, verified_mtime_ns, verified_inode) VALUES
		(repeat('a', 64), 'r', 'c', 1000, repeat('0', 64), 0, 0, 0),
		(repeat('b', 64), 'r', 'c', 234, repeat('0', 64), 0, 0, 0)"
	scrape
	assert_equal "$status" 200
	assert_equal "$(sample 'coordinator_queue_items{queue="compile",state="queued"}')" 2
	assert_equal "$(sample 'coordinator_queue_items{queue="execute",state="claimed"}')" 1
	assert_equal "$(sample 'coordinator_queue_items{queue="system_callbacks",state="leased"}')" 1
	assert_equal "$(sample 'coordinator_queue_items{queue="execute",state="queued"}')" 0
	run grep -c '^coordinator_queue_items{' "$BATS_TEST_TMPDIR/metrics.txt"
	assert_output 9 # open states only: no done/dead series
	assert_equal "$(sample 'coordinator_jobs{job_type="compile",status="pending"}')" 2
	assert_equal "$(sample 'coordinator_jobs{job_type="execute",status="in_progress"}')" 1
	assert_equal "$(sample 'coordinator_jobs{job_type="execute",status="pending"}')" 0
	assert_equal "$(sample 'coordinator_workers{status="online"}')" 2
	assert_equal "$(sample 'coordinator_workers{status="stale"}')" 1
	assert_equal "$(sample 'coordinator_workers{status="busy"}')" 0
	age=$(sample 'coordinator_oldest_queued_item_age_seconds{queue="compile"}')
	[[ ${age%%.*} -ge 90 && ${age%%.*} -lt 150 ]] || fail "compile age $age"
	assert_equal "$(sample 'coordinator_oldest_queued_item_age_seconds{queue="execute"}')" 0
	assert_equal "$(sample coordinator_https_calls_pending)" 0
	assert_equal "$(sample coordinator_wasm_cache_bytes)" 1234
	assert_equal "$(sample coordinator_wasm_cache_files)" 2
}

@test "counters are exact after a known number of requests across processes (flush within the bound, at exit)" {
	# 40 requests spread over worker.fcgi's two processes (lighttpd.conf max-procs 2), in parallel
	seq 1 40 | xargs -P 8 -I{} curl -s -o /dev/null -X POST -H 'Content-Length: 0' \
		"$BASE_URL/jobs/complete"
	for i in 1 2 3 4 5; do req GET /public/no-such-thing; done
	wait_field 'coordinator_http_requests_total{program="worker",route="/jobs/complete",status="401"}' 40
	wait_field 'coordinator_http_requests_total{program="public",route="unmatched",status="404"}' 5
	wait_field 'coordinator_http_request_duration_seconds_count{program="worker",route="/jobs/complete"}' 40
	# three more processes: plain CGI runs, each flushing once as it exits
	for i in 1 2 3; do
		cgi REQUEST_METHOD=POST REQUEST_URI=/jobs/complete CONTENT_LENGTH=0 worker.fcgi
		assert_success
	done
	assert_equal "$(field 'coordinator_http_requests_total{program="worker",route="/jobs/complete",status="401"}')" 43
	# a later flush adds nothing twice
	sleep 1.5
	scrape
	assert_equal "$(sample 'coordinator_http_requests_total{program="worker",route="/jobs/complete",status="401"}')" 43
	assert_equal "$(sample 'coordinator_http_requests_total{program="public",route="unmatched",status="404"}')" 5
	# the histogram: cumulative buckets, +Inf = _count = the requests
	h='coordinator_http_request_duration_seconds'
	l='program="worker",route="/jobs/complete"'
	assert_equal "$(sample "${h}_count{$l}")" 43
	assert_equal "$(sample "${h}_bucket{$l,le=\"+Inf\"}")" 43
	prev=0
	for le in 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30 60 300 +Inf; do
		v=$(sample "${h}_bucket{$l,le=\"$le\"}")
		[[ -n $v && $v -ge $prev ]] || fail "bucket le=$le: '$v' after $prev"
		prev=$v
	done
	[[ $(sample "${h}_sum{$l}") =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "bad _sum"
}

@test "counters held in memory are flushed when the server stops (SIGTERM)" {
	for i in 1 2 3 4; do req GET /public/stats; done
	# stop right away: whatever the next periodic flush would have added is flushed on exit
	coord_stop_web
	assert_equal "$(field 'coordinator_http_requests_total{program="public",route="/public/stats",status="200"}')" 4
	coord_restart_web
}

@test "labels never carry ids, accounts, checksums or raw paths: route patterns only" {
	cs=$(printf 'checksum-secret' | sha256sum | cut -d' ' -f1)
	req GET "/public/wasm/exists/$cs"
	req GET /attestations/987654321
	req GET /public/users/carol-secret.near/earnings
	req GET /public/payment-keys/dave-secret.near/77/balance
	req GET /no/such/path-with-id-4242
	req GET "/wasm/$cs" -H "Authorization: Bearer $TOKEN"
	# each request may have been served by another process, each flushing on its own clock:
	# wait for every route the checks below look for
	wait_field 'coordinator_http_requests_total{program="public",route="/public/wasm/exists/:checksum",status="200"}' 1
	wait_field 'coordinator_http_requests_total{program="public",route="/attestations/:job_id",status="404"}' 1
	wait_field 'coordinator_http_requests_total{program="public",route="/public/users/:account/earnings",status="200"}' 1
	wait_field 'coordinator_http_requests_total{program="public",route="/public/payment-keys/:owner/:nonce/balance",status="200"}' 1
	wait_field 'coordinator_http_requests_total{program="public",route="unmatched",status="404"}' 1
	wait_field 'coordinator_http_request_duration_seconds_count{program="worker",route="/wasm/:checksum"}' 1
	scrape
	for secret in "$cs" 987654321 carol-secret dave-secret 4242 metrics-w1 "$TOKEN"; do
		run grep -c -- "$secret" "$BATS_TEST_TMPDIR/metrics.txt"
		assert_output 0
	done
	grep -q 'route="/public/wasm/exists/:checksum"' "$BATS_TEST_TMPDIR/metrics.txt"
	grep -q 'route="/public/users/:account/earnings"' "$BATS_TEST_TMPDIR/metrics.txt"
	grep -q 'route="/public/payment-keys/:owner/:nonce/balance"' "$BATS_TEST_TMPDIR/metrics.txt"
	grep -q 'program="public",route="unmatched",status="404"' "$BATS_TEST_TMPDIR/metrics.txt"
	# every route label is a pattern of a route table or "unmatched"
	run bash -c "grep -o 'route=\"[^\"]*\"' '$BATS_TEST_TMPDIR/metrics.txt' | sort -u |
		grep -Ev '^route=\"(unmatched|(/[a-z_-]+|/:[a-z_]+)+)\"$'"
	refute_output
}

@test "job completions, rate-limit refusals and reaper actions are counted" {
	coord_psql "DELETE FROM queue_items; DELETE FROM jobs"
	job=$(coord_psql "INSERT INTO jobs (request_id, data_id, job_type, status, worker_id, lease_id,
		lease_expires_at) VALUES (501, 'd-501', 'execute', 'in_progress', 'metrics-w1',
		gen_random_uuid(), now() + interval '5 minutes') RETURNING job_id")
	req POST /jobs/complete -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "{\"job_id\":$job,\"success\":true,\"time_ms\":5}"
	assert_equal "$status" 200
	wait_field 'coordinator_jobs_completed_total{job_type="execute",outcome="success"}' 1

	# RATE_LIMIT_SECRETS_PER_MINUTE=2: the third is refused
	for i in 1 2 3; do req POST /secrets/pubkey -H 'X-Forwarded-For: 203.0.113.50'; done
	assert_equal "$status" 429
	wait_field 'coordinator_rate_limited_total{class="secrets"}' 1

	# coord-reap requeues one expired item lease and flushes before it exits
	coord_psql "INSERT INTO queue_items (queue, payload, state, attempts, lease_id, leased_to,
		leased_at, lease_expires_at) VALUES ('execute', '{}', 'leased', 1, gen_random_uuid(), 'w',
		now() - interval '2 minutes', now() - interval '1 minute')"
	run "$COORD_BUILD_DIR/bin/coord-reap"
	assert_success
	assert_equal "$(field 'coordinator_reaper_actions_total{action="items_requeued"}')" 1
	run "$COORD_BUILD_DIR/bin/coord-reap" -n
	assert_equal "$(field 'coordinator_reaper_actions_total{action="items_requeued"}')" 1

	scrape
	assert_equal "$(sample 'coordinator_jobs_completed_total{job_type="execute",outcome="success"}')" 1
	assert_equal "$(sample 'coordinator_jobs_completed_total{job_type="compile",outcome="failure"}')" 0
	assert_equal "$(sample 'coordinator_rate_limited_total{class="secrets"}')" 1
	assert_equal "$(sample 'coordinator_rate_limited_total{class="api"}')" 0
	assert_equal "$(sample 'coordinator_reaper_actions_total{action="items_requeued"}')" 1
	assert_equal "$(sample coordinator_wasm_downloads_total)" 0
}

@test "WASM downloads are counted" {
	c=$(cs metrics-download)
	head -c 3000 /dev/urandom >"$BATS_TEST_TMPDIR/m.wasm"
	upload "$c" "$BATS_TEST_TMPDIR/m.wasm"
	assert_equal "$status" 201
	for i in 1 2 3; do
		download "$c"
		assert_equal "$status" 200
	done
	download "$(cs metrics-absent)"
	assert_equal "$status" 404
	wait_field coordinator_wasm_downloads_total 3
}

@test "Redis down: gauges still served, counters left out, coordinator_metrics_redis_up 0" {
	coord_stop_redis
	req GET /public/workers
	scrape
	assert_equal "$status" 200
	assert_equal "$(sample coordinator_metrics_redis_up)" 0
	assert_equal "$(sample 'coordinator_queue_items{queue="compile",state="queued"}')" \
		"$(coord_psql "SELECT count(*) FROM queue_items WHERE queue = 'compile' AND state = 'queued'")"
	run grep -c '^coordinator_http_requests_total' "$BATS_TEST_TMPDIR/metrics.txt"
	assert_output 0
	if command -v promtool >/dev/null; then
		run promtool check metrics <"$BATS_TEST_TMPDIR/metrics.txt"
		assert_success
	fi
	# what was counted meanwhile reaches the hash once Redis is back
	coord_start_redis
	wait_field 'coordinator_http_requests_total{program="public",route="/public/workers",status="200"}' 1
}

@test "PostgreSQL down: 503 unavailable" {
	coord_stop_pg
	req GET /metrics
	coord_start_pg
	assert_equal "$status" 503
	assert_equal "$(jq -r .error <<<"$body")" unavailable
}

@test "access: loopback and TRUSTED_PROXIES clients may scrape, others get 403" {
	scrape
	assert_equal "$status" 200
	# through a trusted proxy (127.0.0.1) for a client inside TRUSTED_PROXIES
	scrape -H 'X-Forwarded-For: 10.20.30.40'
	assert_equal "$status" 200
	# through a trusted proxy for an outside client
	req GET /metrics -H 'X-Forwarded-For: 203.0.113.9'
	assert_equal "$status" 403
	assert_equal "$(jq -r .error <<<"$body")" forbidden
	# a peer that is neither (plain CGI run): refused without the web server's permission ...
	cgi REQUEST_METHOD=GET REQUEST_URI=/metrics REMOTE_ADDR=192.0.2.1 public.fcgi
	assert_output --partial 'Status: 403'
	cgi REQUEST_METHOD=GET REQUEST_URI=/metrics REMOTE_ADDR=192.0.2.1 COORD_METRICS_ACCESS=local \
		public.fcgi
	assert_output --partial 'Status: 403'
	# ... and served when the configuration says COORD_METRICS_ACCESS=any
	cgi REQUEST_METHOD=GET REQUEST_URI=/metrics REMOTE_ADDR=192.0.2.1 COORD_METRICS_ACCESS=any \
		public.fcgi
	assert_output --partial 'Status: 200'
	assert_output --partial 'coordinator_metrics_redis_up 1'
	# the shipped lighttpd.conf hands the programs COORD_METRICS_ACCESS=local
	grep -q '"COORD_METRICS_ACCESS" => "local"' "$COORD_REPO/lighttpd.conf"
}
