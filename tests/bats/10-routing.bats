#!/usr/bin/env bats
# Routing, error bodies, request ids and CORS through the real lighttpd (SPEC §0.2, §1.1,
# §1.2, §1.8, §1.10).

load ../helpers/coord
load ../helpers/cgi

setup_file() {
	export CORS_ALLOWED_ORIGINS="http://allowed.example, https://ui.example:8443"
	coord_start_stack
}

@test "an unknown path answers the JSON 404 through the catch-all" {
	for path in /nope /healthz /public/nope /jobs/nope /admin/nope '/a/b/c?x=1'; do
		req GET "$path"
		assert_equal "$status" 404
		assert_equal "$(header Content-Type)" application/json
		assert_equal "$body" '{"error":"not_found","message":"Unknown endpoint"}'
		header X-Request-ID
		assert_equal "$(header Cache-Control)" no-store
	done
}

@test "a known path with another method answers 405 with Allow" {
	req POST /health --data ""
	assert_equal "$status" 405
	assert_equal "$(header Allow)" "GET, HEAD"
	assert_equal "$(jq -r .error <<<"$body")" method_not_allowed

	req POST /workers/block-cursor --data ""
	assert_equal "$status" 405
	assert_equal "$(header Allow)" GET

	req GET /admin/workers/w1
	assert_equal "$status" 405
	assert_equal "$(header Allow)" DELETE
}

@test "OPTIONS without a preflight header is routed normally (405)" {
	req OPTIONS /health
	assert_equal "$status" 405
	assert_equal "$(header Allow)" "GET, HEAD"
}

@test "HEAD is served on public GET routes and refused on worker routes" {
	req HEAD /health
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" text/plain
	req HEAD /workers/block-cursor
	assert_equal "$status" 405
}

@test "no answer to a HEAD has a body, not even a 404 or a 405 decided before the route" {
	cgi REQUEST_METHOD=HEAD REQUEST_URI=/nope public.fcgi </dev/null
	assert_line --index 0 "Status: 404 Not Found"
	refute_output --partial '"error"'
	cgi REQUEST_METHOD=HEAD REQUEST_URI=/workers/block-cursor worker.fcgi </dev/null
	assert_line --index 0 "Status: 405 Method Not Allowed"
	refute_output --partial '"error"'
	cgi REQUEST_METHOD=HEAD REQUEST_URI=/he%zzalth public.fcgi </dev/null
	assert_line --index 0 "Status: 400 Bad Request"
	refute_output --partial '"error"'
	cgi REQUEST_METHOD=GET REQUEST_URI=/nope public.fcgi </dev/null
	assert_output --partial '"error":"not_found"'
}

@test "a bad query string is refused on every route, also where no parameter is read" {
	token=$(coord_worker_token query-check)
	for q in 'x=%zz' 'x=%00' 'x=%c3%28' '%ff=1'; do
		req GET "/health?$q"
		assert_equal "$status" 400
		assert_equal "$(jq -r .error <<<"$body")" invalid_parameter
		req POST "/workers/heartbeat?$q" -H "Authorization: Bearer $token" \
			-H 'Content-Type: application/json' \
			--data '{"worker_id":"w-q","worker_name":"n","status":"online"}'
		assert_equal "$status" 400
		assert_equal "$(jq -r .error <<<"$body")" invalid_parameter
	done
	assert_equal "$(coord_psql "SELECT count(*) FROM worker_status WHERE worker_id = 'w-q'")" 0
	req GET '/health?x=%41&y'
	assert_equal "$status" 200
}

@test "percent-encoded segments are decoded before matching" {
	req GET /%68ealth
	assert_equal "$status" 200
	assert_equal "$body" OK
	req GET /health%2Fdetailed
	assert_equal "$status" 404
	req GET /HEALTH
	assert_equal "$status" 404
}

@test "bad escapes, decoded NUL and non-UTF-8 segments answer 400 invalid_parameter" {
	for path in /health%zz /he%00alth /public/%c3%28 /x/%e0%80%80; do
		req GET "$path"
		assert_equal "$status" 400
		assert_equal "$(header Content-Type)" application/json
		assert_equal "$(jq -r .error <<<"$body")" invalid_parameter
	done
}

@test "empty segments, dot segments and a trailing slash match nothing" {
	for path in /health/ //health /health/. /public/../health; do
		req GET "$path"
		assert_equal "$status" 404
	done
}

# SPEC §0.1: lighttpd hands a request to the program its raw path prefix names, the reading
# every program routes on (§0.2), never to the one a decoded, dot-segment-normalised path would
# name (/jobs/../admin/x is worker.fcgi's 404, not admin.fcgi's; /wasm/..%2F..%2Fetc%2Fpasswd is
# worker.fcgi's to refuse).  The log line of each request says which program answered it.
@test "every prefix of §0.1 reaches its own program by the raw path, %2F and dot segments included" {
	local -A group=(
		[/jobs/]=worker [/executions/]=worker [/wasm/]=worker [/workers/]=worker
		[/locks/]=worker [/storage/]=worker [/topup/]=worker [/payment-keys/init]=worker
		[/payment-keys/delete]=worker [/payment-keys/delete-task/]=worker [/projects/]=worker
		[/system-callbacks/]=worker [/https-calls/]=worker [/internal/]=worker
		[/call/]=api [/calls/]=api [/payment-keys/balance]=api
		[/health]=public [/public/]=public [/attestations]=public [/vrf/]=public
		[/metrics]=public [/nope/]=public [/.coord/worker/]=public
		[/admin/]=admin [/secrets/]=secrets
	)
	# each escapes its prefix once decoded and normalised, towards another program's
	local escapes=(
		"..%2F..%2Fhealth" "../../admin/workers/w1" "%2E%2E/./%2e%2E/jobs/claim"
		"..%2fcall%2fa%2fb/../../.coord/admin"
	)
	local prefix base esc path id line n=0
	for prefix in "${!group[@]}"; do
		base=${prefix%/}/
		for esc in "${escapes[@]}"; do
			path=$base$esc
			id=raw-route-$((++n))
			req GET "$path" -H "X-Request-ID: $id"
			line=$(grep -F "\"request_id\":\"$id\"" "$COORD_STATE_DIR/fcgi-stderr.log")
			assert_equal "$path $(jq -r '"\(.group) \(.path)"' <<<"$line")" \
				"$path ${group[$prefix]} $path"
			assert_equal "$(header Content-Type)" application/json
		done
	done
	# the black-box case of the issue: worker.fcgi's own answer, after authentication
	token=$(coord_worker_token raw-route)
	req GET "/wasm/..%2F..%2Fetc%2Fpasswd" -H "Authorization: Bearer $token"
	assert_equal "$status $(jq -r .error <<<"$body")" "400 invalid_checksum"
	# dot segments are segments of their own (§0.2): no route of worker.fcgi has five
	req GET "/wasm/../../etc/passwd" -H "Authorization: Bearer $token" -H "X-Request-ID: raw-dots"
	assert_equal "$status $(jq -r .error <<<"$body")" "404 not_found"
	run grep -F '"request_id":"raw-dots"' "$COORD_STATE_DIR/fcgi-stderr.log"
	assert_equal "$(jq -r .group <<<"$output")" worker
	# a raw prefix still reaches its program with a query string
	req GET "/health?x=../../admin/"
	assert_equal "$status $body" "200 OK"
}

@test "X-Request-ID is kept when valid and generated otherwise" {
	req GET /health -H 'X-Request-ID: abc.DEF_123-x'
	assert_equal "$(header X-Request-ID)" abc.DEF_123-x
	req GET /nope -H 'X-Request-ID: abc.DEF_123-x'
	assert_equal "$(header X-Request-ID)" abc.DEF_123-x

	req GET /health -H 'X-Request-ID: has space'
	run header X-Request-ID
	assert_output --regexp '^[0-9a-f]{32}$'
	req GET /health -H "X-Request-ID: $(printf 'a%.0s' {1..65})"
	run header X-Request-ID
	assert_output --regexp '^[0-9a-f]{32}$'
	req GET /health
	first=$(header X-Request-ID)
	req GET /health
	assert_not_equal "$(header X-Request-ID)" "$first"
}

@test "the request log line carries the request id, group, path and status" {
	req GET '/nope?secret=1' -H 'X-Request-ID: log-check-1'
	run grep -F '"request_id":"log-check-1"' "$COORD_STATE_DIR/fcgi-stderr.log"
	assert_success
	line=$output
	assert_equal "$(jq -r .group <<<"$line")" public
	assert_equal "$(jq -r .path <<<"$line")" /nope
	assert_equal "$(jq -r .status <<<"$line")" 404
	assert_equal "$(jq -r .msg <<<"$line")" request
	assert_equal "$(jq -r .client_ip <<<"$line")" 127.0.0.1
}

@test "every log line written while serving a request carries its request id" {
	coord_stop_redis
	req GET /health/detailed -H 'X-Request-ID: log-check-2'
	coord_start_redis
	run grep -F '"request_id":"log-check-2"' "$COORD_STATE_DIR/fcgi-stderr.log"
	assert_success
	# the Redis connection failure and the request line itself
	assert_line --partial '"msg":"redis: connect'
	assert_line --partial '"msg":"request"'
}

@test "CORS preflight from an allowed origin is answered 204 with the policy" {
	req OPTIONS /workers/block-cursor -H 'Origin: http://allowed.example' \
		-H 'Access-Control-Request-Method: GET'
	assert_equal "$status" 204
	assert_equal "$(header Access-Control-Allow-Origin)" http://allowed.example
	assert_equal "$(header Access-Control-Allow-Methods)" "GET, POST, DELETE, OPTIONS"
	run header Access-Control-Allow-Headers
	assert_output --partial authorization
	assert_equal "$(header Access-Control-Max-Age)" 600
	assert_equal "$(header Vary)" Origin
	run header Access-Control-Allow-Credentials
	assert_failure
}

@test "CORS preflight from another origin gets 204 without Access-Control headers" {
	req OPTIONS /health -H 'Origin: http://evil.example' -H 'Access-Control-Request-Method: GET'
	assert_equal "$status" 204
	run grep -i '^access-control-' <<<"$headers"
	assert_failure
}

@test "the api group allows any origin" {
	req OPTIONS /call/alice/proj -H 'Origin: http://anything.example' \
		-H 'Access-Control-Request-Method: POST'
	assert_equal "$status" 204
	assert_equal "$(header Access-Control-Allow-Origin)" '*'
	run header Access-Control-Allow-Headers
	assert_output --partial x-payment-key
}

@test "an allowed origin on an ordinary request gets the CORS response headers" {
	req GET /health -H 'Origin: https://ui.example:8443'
	assert_equal "$status" 200
	assert_equal "$(header Access-Control-Allow-Origin)" https://ui.example:8443
	run header Access-Control-Expose-Headers
	assert_output --partial X-Request-ID
	req GET /health -H 'Origin: https://ui.example'
	run header Access-Control-Allow-Origin
	assert_failure
}
