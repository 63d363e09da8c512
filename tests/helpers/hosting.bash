# shellcheck shell=bash
# The hosting smoke (issue 12): one body, run against each web server configuration by a
# thin file that sets COORD_SERVER (lighttpd, apache-fcgid, apache-proxy) and lists the tests:
#
#   load ../helpers/hosting
#   setup_file() { hosting_setup_file lighttpd; }
#   @test "health" { hosting_health; }   ...
#
# Each file runs its own stack (tests/helpers/coord.bash) on its own ports, so the three run
# in parallel.  hosting_sigterm stops the server: it is the last test of a file.

load ../helpers/coord
load ../helpers/wasm

hosting_setup_file() {
	export COORD_SERVER=$1
	# no pricing fetch from the network: the claim answers the fallback pricing (§4.1)
	export NEAR_RPC_URL=off
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token hosting-worker) || return 1
	export TOKEN
}

hosting_expect_json_error() { # STATUS CODE
	assert_equal "$status" "$1"
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jq -r .error <<<"$body")" "$2"
	header X-Request-ID >/dev/null
}

# The server named by COORD_SERVER answered, not another one.
hosting_health() {
	req GET /health
	assert_equal "$status" 200
	header X-Request-ID >/dev/null
	case $COORD_SERVER in
	lighttpd) assert_equal "$(header Server)" coordinator ;;
	apache-fcgid) [[ $(header Server) == Apache*mod_fcgid* ]] || fail "Server: $(header Server)" ;;
	apache-proxy) [[ $(header Server) == Apache* && $(header Server) != *fcgid* ]] ||
		fail "Server: $(header Server)" ;;
	esac
}

# Odd URLs reach the programs, which answer JSON: never the server's own HTML page.
hosting_odd_urls() {
	req GET '/no/such%2Fthing;x=1/'
	hosting_expect_json_error 404 not_found
	req GET /healthz
	hosting_expect_json_error 404 not_found
	# raw-prefix routing: /wasm/... goes to worker.fcgi whatever the decoded path says
	req GET '/wasm/..%2F..%2Fetc%2Fpasswd' -H "Authorization: Bearer $TOKEN"
	hosting_expect_json_error 400 invalid_checksum
	req GET '/jobs/../health'
	hosting_expect_json_error 404 not_found
	req DELETE /health
	hosting_expect_json_error 405 method_not_allowed
}

# The Authorization header reaches the programs (mod_fcgid and mod_proxy_fcgi drop it
# unless told otherwise).
hosting_auth() {
	req GET '/executions/poll?timeout=0&capabilities=execution'
	hosting_expect_json_error 401 unauthorized
	req GET '/executions/poll?timeout=0&capabilities=execution' -H 'Authorization: Bearer 0123'
	hosting_expect_json_error 401 unauthorized
	req GET '/executions/poll?timeout=0&capabilities=execution' -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 204
	assert_equal "$(coord_psql "SELECT last_used_at IS NOT NULL FROM worker_auth_tokens
		WHERE worker_name = 'hosting-worker'")" t
	req GET /admin/grant-keys -H "Authorization: Bearer $ADMIN_BEARER_TOKEN"
	assert_equal "$status" 200
	req GET /admin/grant-keys -H 'Authorization: Bearer wrong'
	assert_equal "$status" 403
}

hosting__wreq() {
	local m=$1 p=$2
	shift 2
	req "$m" "$p" -H "Authorization: Bearer $TOKEN" "$@"
}

hosting__post() { hosting__wreq POST "$1" -H 'Content-Type: application/json' --data-binary "$2"; }

# create -> poll -> claim -> complete, with a cached binary (straight to the execute queue).
hosting_queue_lifecycle() {
	local checksum job limits source
	checksum=$(printf %s "https://github.com/owner/app:c1:wasm32-wasip1" | sha256sum | cut -c1-64)
	: >"$WASM_CACHE_DIR/$checksum.wasm"
	coord_psql "INSERT INTO wasm_cache (checksum, repo_url, commit_hash, file_size, content_hash,
		verified_size, verified_mtime_ns, verified_inode)
		VALUES ('$checksum', 'r', 'c', 0, '$(sha256sum </dev/null | cut -c1-64)', 0, 0, 0)"
	limits='{"max_instructions":1000000,"max_memory_mb":64,"max_execution_seconds":10}'
	source='{"type":"GitHub","repo":"owner/app","commit":"c1"}'
	hosting__post /executions/create "{\"request_id\":7,\"data_id\":\"d-7\",\"code_source\":$source,\"resource_limits\":$limits,\"input_data\":\"hi\"}"
	assert_equal "$status" 201
	assert_equal "$body" '{"request_id":7,"created":true}'
	hosting__wreq GET '/executions/poll?timeout=5&capabilities=execution'
	assert_equal "$status" 200
	assert_equal "$(jq -r '.request_id, .data_id' <<<"$body" | paste -sd/)" 7/d-7
	hosting__post /jobs/claim "{\"request_id\":7,\"data_id\":\"d-7\",\"worker_id\":\"w-1\",\"code_source\":{\"type\":\"GitHub\",\"repo\":\"https://github.com/owner/app\",\"commit\":\"c1\",\"build_target\":\"wasm32-wasip1\"},\"resource_limits\":$limits,\"capabilities\":[\"execution\"]}"
	assert_equal "$status" 200
	assert_equal "$(jq -r '.jobs[0].job_type' <<<"$body")" execute
	job=$(jq -r '.jobs[0].job_id' <<<"$body")
	hosting__post /jobs/complete "{\"job_id\":$job,\"success\":true,\"time_ms\":5,\"instructions\":10,\"output\":\"ok\"}"
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT status FROM jobs WHERE job_id = $job")" completed
	assert_equal "$(coord_psql "SELECT state FROM queue_items WHERE request_id = 7")" done
}

# A long poll holds its request for its timeout and answers 204, through the server's
# read timeouts.
hosting_long_poll() {
	local t0 t1
	t0=$(date +%s%N)
	hosting__wreq GET '/executions/poll?timeout=4&capabilities=compilation'
	t1=$(date +%s%N)
	assert_equal "$status" 204
	assert_equal "$body" ''
	local ms=$(((t1 - t0) / 1000000))
	((ms >= 3800 && ms < 8000)) || fail "the 4 s poll took ${ms} ms"
}

# 5 MB through the upload and back, byte for byte (X-Sendfile under apache-fcgid, streamed
# under apache-proxy, X-Sendfile off under the tests' lighttpd).
hosting_big_upload() {
	local f=$BATS_TEST_TMPDIR/big.wasm c
	head -c 5000000 /dev/urandom >"$f"
	c=$(cs hosting-big)
	upload "$c" "$f"
	assert_equal "$status" 201
	download "$c"
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/octet-stream
	cmp "$f" "$body_file"
}

# A body over the program's cap (1 MiB for the admin routes, SPEC §1.3) but under the
# server's own limit (16 MiB) is refused by the program: 413 JSON.
hosting_body_cap() {
	local f=$BATS_TEST_TMPDIR/big.json
	{
		printf '{"pad":"'
		head -c 1200000 /dev/zero | tr '\0' a
		printf '"}'
	} >"$f"
	req POST /admin/grant-payment-key -H "Authorization: Bearer $ADMIN_BEARER_TOKEN" \
		-H 'Content-Type: application/json' --data-binary "@$f"
	hosting_expect_json_error 413 payload_too_large
}

# Processes of this stack's server: its process group, and any process running apache2,
# lighttpd or one of our FastCGI programs that names this stack's state directory.
hosting__server_procs() {
	local pgid=$1 pid exe
	coord__group_members "$pgid"
	for pid in $(pgrep -f "apache2|lighttpd|$COORD_FCGI_DIR" 2>/dev/null); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		case $exe in */apache2 | */lighttpd | "$COORD_FCGI_DIR"/*) ;; *) continue ;; esac
		if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qF "$COORD_STACK_TMP/" ||
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$COORD_STACK_TMP/"; then
			printf '%s\n' "$pid"
		fi
	done
}

# SIGTERM stops the server and every program it runs: nothing is left behind.  Under
# apache-proxy the programs are daemons of their own: the whole process group gets it.
hosting_sigterm() {
	local pid left
	pid=$(coord__web_pid)
	# programs are running (they start on the first request)
	req GET /health
	assert_equal "$status" 200
	[[ -n $(hosting__server_procs "$pid" | sort -u) ]]
	if [[ $COORD_SERVER == apache-proxy ]]; then
		kill -TERM -- "-$pid"
	else
		kill -TERM "$pid"
	fi
	coord__wait_while 30 eval '[[ -n $(hosting__server_procs "$pid") ]]' ||
		fail "left behind: $(hosting__server_procs "$pid" | sort -u | xargs -r ps -o pid=,args= -p)"
	wait "$pid" 2>/dev/null || true
}
