#!/usr/bin/env bats
# Worker and admin bearer tokens (SPEC §1.6), body caps (SPEC §1.3) and the first
# authenticated routes: GET /workers/block-cursor and DELETE /admin/workers/:worker_id.

load ../helpers/coord
load ../helpers/cgi

@test "a worker route without a token answers 401 unauthorized" {
	req GET /workers/block-cursor
	assert_equal "$status" 401
	assert_equal "$(jq -r .error <<<"$body")" unauthorized
	req GET /workers/block-cursor -H 'Authorization: Basic dXNlcjpwYXNz'
	assert_equal "$status" 401
	req GET /workers/block-cursor -H 'Authorization: Bearer'
	assert_equal "$status" 401
}

@test "an unknown worker token answers 401" {
	req GET /workers/block-cursor -H "Authorization: Bearer $(printf 'f%.0s' {1..64})"
	assert_equal "$status" 401
	assert_equal "$(jq -r .error <<<"$body")" unauthorized
}

@test "a valid token is accepted, with a case-insensitive scheme and several spaces" {
	token=$(coord_worker_token block-reader)
	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 200
	assert_equal "$body" '{"block_height":null}'
	req GET /workers/block-cursor -H "Authorization: bEaReR    $token"
	assert_equal "$status" 200
	# last_used_at was recorded
	run coord_psql "SELECT count(*) FROM worker_auth_tokens WHERE worker_name = 'block-reader' AND last_used_at IS NOT NULL"
	assert_output 1
}

@test "block-cursor answers the highest event monitor block height" {
	token=$(coord_worker_token cursor)
	coord_psql "INSERT INTO worker_status (worker_id, worker_name, event_monitor_block_height) VALUES ('c1', 'cursor', 100), ('c2', 'cursor', 250), ('c3', 'cursor', NULL)"
	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 200
	assert_equal "$body" '{"block_height":250}'
	coord_psql "DELETE FROM worker_status WHERE worker_id IN ('c1', 'c2', 'c3')"
}

@test "a revoked token answers 401" {
	token=$(coord_worker_token to-revoke)
	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 200
	"$COORD_BUILD_DIR/bin/coord-worker-token" revoke --name to-revoke --quiet
	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 401
	assert_equal "$(jq -r .error <<<"$body")" unauthorized
}

@test "an admin route without a token answers 401, with a wrong token 403" {
	req DELETE /admin/workers/w1
	assert_equal "$status" 401
	assert_equal "$(jq -r .error <<<"$body")" unauthorized
	req DELETE /admin/workers/w1 -H 'Authorization: Token abc'
	assert_equal "$status" 401
	req DELETE /admin/workers/w1 -H 'Authorization: Bearer wrong-token'
	assert_equal "$status" 403
	assert_equal "$(jq -r .error <<<"$body")" forbidden
	req DELETE /admin/workers/w1 -H "Authorization: Bearer ${ADMIN_BEARER_TOKEN}x"
	assert_equal "$status" 403
}

@test "DELETE /admin/workers/:worker_id deletes the row, then answers 404" {
	coord_psql "INSERT INTO worker_status (worker_id, worker_name) VALUES ('gone/1 x', 'gone')"
	req DELETE /admin/workers/gone%2F1%20x -H "Authorization: Bearer $ADMIN_BEARER_TOKEN"
	assert_equal "$status" 200
	assert_equal "$body" ""
	assert_equal "$(header Content-Length)" 0
	run header Content-Type
	assert_failure
	run coord_psql "SELECT count(*) FROM worker_status WHERE worker_id = 'gone/1 x'"
	assert_output 0
	req DELETE /admin/workers/gone%2F1%20x -H "Authorization: Bearer $ADMIN_BEARER_TOKEN"
	assert_equal "$status" 404
	assert_equal "$(jq -r .error <<<"$body")" worker_not_found
}

@test "a body above the route's cap answers 413 from the application" {
	# through lighttpd: 1 MiB on admin routes (lighttpd refuses GET bodies itself)
	head -c $((1024 * 1024 + 1)) /dev/zero >"$BATS_TEST_TMPDIR/big"
	req DELETE /admin/workers/x -H "Authorization: Bearer $ADMIN_BEARER_TOKEN" \
		--data-binary @"$BATS_TEST_TMPDIR/big"
	assert_equal "$status" 413
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(jq -r .error <<<"$body")" payload_too_large
	header X-Request-ID
	head -c $((1024 * 1024)) /dev/zero >"$BATS_TEST_TMPDIR/big"
	req DELETE /admin/workers/x -H "Authorization: Bearer $ADMIN_BEARER_TOKEN" \
		--data-binary @"$BATS_TEST_TMPDIR/big"
	assert_equal "$status" 404

	# 10 MiB on worker routes, checked on CONTENT_LENGTH before reading (plain CGI)
	token=$(coord_worker_token big-body)
	cgi REQUEST_METHOD=GET REQUEST_URI=/workers/block-cursor CONTENT_LENGTH=10485761 \
		HTTP_AUTHORIZATION="Bearer $token" worker.fcgi </dev/null
	assert_line --index 0 "Status: 413 Payload Too Large"
	head -c 10485760 /dev/zero >"$BATS_TEST_TMPDIR/big"
	cgi REQUEST_METHOD=GET REQUEST_URI=/workers/block-cursor CONTENT_LENGTH=10485760 \
		HTTP_AUTHORIZATION="Bearer $token" worker.fcgi <"$BATS_TEST_TMPDIR/big"
	assert_line --index 0 "Status: 200 OK"
}

@test "authentication is checked before the body size" {
	cgi REQUEST_METHOD=GET REQUEST_URI=/workers/block-cursor CONTENT_LENGTH=99999999999 \
		worker.fcgi </dev/null
	assert_line --index 0 "Status: 401 Unauthorized"
	head -c $((1024 * 1024 + 1)) /dev/zero >"$BATS_TEST_TMPDIR/big"
	req DELETE /admin/workers/x --data-binary @"$BATS_TEST_TMPDIR/big"
	assert_equal "$status" 401
}

# statuses TOKEN N: N requests at once (up to 32 in flight, as many as worker.fcgi has
# threads), one HTTP status per line, sorted and counted ("64 200").
statuses() {
	local args=() i
	for ((i = 0; i < $2; i++)); do
		args+=(-o /dev/null "$BASE_URL/workers/block-cursor")
	done
	curl -s --parallel --parallel-max 32 -w '%{http_code}\n' \
		-H "Authorization: Bearer $1" "${args[@]}" | sort | uniq -c | awk '{print $1, $2}'
}

# Each serving thread remembers the tokens it validated (no database round trip on a hit);
# every change that can revoke one notifies all serving connections (sql/007_token_cache.sql).
# The token is first used on many threads at once, so that most of them remember it.
@test "a token every thread remembers stops working as soon as it is revoked, whatever revokes it" {
	token=$(coord_worker_token remembered)
	assert_equal "$(statuses "$token" 96)" "96 200"
	coord_psql "UPDATE worker_auth_tokens SET is_active = false WHERE worker_name = 'remembered'"
	assert_equal "$(statuses "$token" 96)" "96 401"

	coord_psql "UPDATE worker_auth_tokens SET is_active = true WHERE worker_name = 'remembered'"
	assert_equal "$(statuses "$token" 96)" "96 200"
	"$COORD_BUILD_DIR/bin/coord-worker-token" revoke --name remembered --quiet
	assert_equal "$(statuses "$token" 96)" "96 401"

	token=$(coord_worker_token deleted)
	assert_equal "$(statuses "$token" 96)" "96 200"
	coord_psql "DELETE FROM worker_auth_tokens WHERE worker_name = 'deleted'"
	assert_equal "$(statuses "$token" 96)" "96 401"
}
