#!/usr/bin/env bats
# The stack the helpers start answers through lighttpd: public.fcgi's /health and the
# catch-all JSON 404.

load ../helpers/coord

@test "GET /health answers 200 text/plain OK" {
	req GET /health
	assert_equal "$status" 200
	assert_equal "$body" OK
	run header Content-Type
	assert_success
	assert_output --regexp '^text/plain'
}

@test "an unknown path answers the JSON 404 of public.fcgi" {
	req GET /nope
	assert_equal "$status" 404
	run header content-type
	assert_output --regexp '^application/json'
	assert_equal "$(jq -r .error <<<"$body")" not_found
	assert_equal "$(jq -r '.message | type' <<<"$body")" string
}
