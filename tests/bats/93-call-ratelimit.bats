#!/usr/bin/env bats
# Rate limits of the api group (SPEC §1.9): class `api` (100 per client IP and minute, on
# POST /call/*, GET /calls/*, GET /payment-keys/balance) and class `key` (per payment key, on
# POST /call only, counted after the key verified).  127.0.0.1 is a trusted proxy (§1.7), so
# each test is its own client through X-Forwarded-For and the windows never need waiting for.

load ../helpers/coord
load ../helpers/billing

setup_file() {
	export NEAR_RPC_URL=off TRUSTED_PROXIES=127.0.0.1 PAYMENT_KEY_RATE_LIMIT_PER_MINUTE=5
	coord_start_stack || return 1
	billing_init || return 1
	bproject dev.near/app >/dev/null || return 1
	KEY=$(bkey rl.near 1 1000000) || return 1
	export KEY
}

@test "the 101st api-class request in a minute from one client is 429 with Retry-After; another client is 200" {
	local i ip=198.51.100.1 retry n
	# 95 at once (a loaded machine must not stretch them across the 60 s window), then 5 more
	n=$(seq 1 95 | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
		-H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip" "$BASE_URL/payment-keys/balance" |
		sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
	assert_equal "$n" "200:95 "
	for ((i = 96; i <= 100; i++)); do
		req GET /payment-keys/balance -H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip"
		[[ $status == 200 ]] || { echo "request $i: $status $body"; false; }
		assert_equal "$(header RateLimit-Policy)" '"api";q=100;w=60'
		[[ $(header RateLimit) =~ ^\"api\"\;r=$((100 - i))\;t=([1-5]?[0-9]|60)$ ]] ||
			{ echo "request $i: RateLimit: $(header RateLimit)"; false; }
	done
	req GET /payment-keys/balance -H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip"
	expect_error 429 rate_limited
	assert_equal "$(jq -r .message <<<"$body")" 'Rate limit exceeded: 100 requests/minute allowed. Try again later.'
	retry=$(header Retry-After)
	((retry >= 1 && retry <= 60))
	assert_equal "$(header RateLimit-Policy)" '"api";q=100;w=60'
	assert_equal "$(header RateLimit)" "\"api\";r=0;t=$retry"
	# every route of the class shares the bucket
	req POST /call/dev.near/app -H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip" \
		-H 'Content-Type: application/json' --data-binary '{"input":1,"async":true}'
	expect_error 429 rate_limited
	req GET "/calls/$(cat /proc/sys/kernel/random/uuid)" -H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip"
	expect_error 429 rate_limited
	# the limit comes before the payment key
	req GET /payment-keys/balance -H "X-Forwarded-For: $ip"
	expect_error 429 rate_limited
	assert_equal "$(coord_psql "SELECT count(*) FROM https_calls")" 0
	# another client
	req GET /payment-keys/balance -H "X-Payment-Key: $KEY" -H 'X-Forwarded-For: 198.51.100.2'
	assert_equal "$status" 200
	[[ $(header RateLimit) == '"api";r=99;t='* ]]
	# the bucket is the client's, by SPEC's key name
	assert_equal "$(coord_redis GET rl:api:198.51.100.1)" 104
	local ttl
	ttl=$(coord_redis TTL rl:api:198.51.100.1)
	((ttl > 0 && ttl <= 60))
}

@test "the api class counts refused requests too (bad key, unknown call) and the public routes are not in it" {
	local i ip=198.51.100.3
	for ((i = 1; i <= 100; i++)); do
		req GET /payment-keys/balance -H "X-Forwarded-For: $ip"
		assert_equal "$status" 401
	done
	req GET /payment-keys/balance -H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip"
	expect_error 429 rate_limited
	req GET /public/payment-keys/rl.near/1/balance -H "X-Forwarded-For: $ip"
	assert_equal "$status" 200
	run header RateLimit
	assert_failure
}

@test "the limit is shared by every process: the counter lives in Redis" {
	local ip=198.51.100.4 n
	# as if other api.fcgi processes had counted 99 requests of this client
	coord_redis SET rl:api:$ip 99 EX 60 >/dev/null
	req GET /payment-keys/balance -H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip"
	assert_equal "$status" 200
	assert_equal "$(header RateLimit | sed 's/;t=.*//')" '"api";r=0'
	req GET /payment-keys/balance -H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip"
	expect_error 429 rate_limited
	# concurrent requests on all serving threads: exactly the limit is admitted
	ip=198.51.100.5
	n=$(seq 1 130 | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
		-H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip" "$BASE_URL/payment-keys/balance" |
		sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
	assert_equal "$n" "200:100 429:30 "
	assert_equal "$(coord_redis GET rl:api:$ip)" 130
}

@test "a script flushed from Redis (NOSCRIPT) is loaded again; Redis down fails open without headers" {
	local ip=198.51.100.6 st rl
	coord_redis SCRIPT FLUSH >/dev/null
	req GET /payment-keys/balance -H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip"
	assert_equal "$status" 200
	[[ $(header RateLimit) == '"api";r=99;t='* ]]
	coord_stop_redis
	req GET /payment-keys/balance -H "X-Payment-Key: $KEY" -H "X-Forwarded-For: $ip"
	st=$status
	rl=$(header RateLimit || echo none)
	coord_start_redis
	assert_equal "$st $rl" "200 none"
}

@test "class key: counted per payment key after verification only, on POST /call only; 429 with both classes' headers" {
	local i k ip
	k=$(bkey rlk.near 1 1000000 "project_ids = '{other.near/x}'")
	# requests with a wrong secret are not counted
	for ((i = 1; i <= 7; i++)); do
		req POST /call/dev.near/app -H "X-Payment-Key: rlk.near:1:$(printf 'b%.0s' {1..64})" \
			-H "X-Forwarded-For: 203.0.113.$i" -H 'Content-Type: application/json' --data-binary '{"input":1}'
		expect_error 401 invalid_payment_key
	done
	run coord_redis EXISTS pk_rate:rlk.near:1
	assert_output 0
	# GET routes are not in the class
	for ((i = 1; i <= 7; i++)); do
		req GET /payment-keys/balance -H "X-Payment-Key: $k" -H "X-Forwarded-For: 203.0.113.$i"
		assert_equal "$status" 200
	done
	# the key's budget is 5 whatever the client: step 8 refuses them, but they count (step 6)
	for ((i = 1; i <= 5; i++)); do
		req POST /call/dev.near/app -H "X-Payment-Key: $k" -H "X-Forwarded-For: 203.0.113.$((20 + i))" \
			-H 'Content-Type: application/json' --data-binary '{"input":1}'
		expect_error 403 project_not_allowed
		assert_equal "$(header RateLimit-Policy)" '"api";q=100;w=60, "key";q=5;w=60'
		[[ $(header RateLimit) =~ ^\"api\"\;r=99\;t=[0-9]+,\ \"key\"\;r=$((5 - i))\;t=[0-9]+$ ]]
	done
	req POST /call/dev.near/app -H "X-Payment-Key: $k" -H 'X-Forwarded-For: 203.0.113.99' \
		-H 'Content-Type: application/json' --data-binary '{"input":1}'
	expect_error 429 rate_limited
	assert_equal "$(jq -r .message <<<"$body")" 'Rate limit exceeded: 5 requests/minute allowed. Try again later.'
	[[ $(header Retry-After) =~ ^[0-9]+$ ]]
	assert_equal "$(header RateLimit-Policy)" '"api";q=100;w=60, "key";q=5;w=60'
	[[ $(header RateLimit) =~ ^\"api\"\;r=99\;t=[0-9]+,\ \"key\"\;r=0\;t=[0-9]+$ ]]
	assert_equal "$(coord_redis GET pk_rate:rlk.near:1)" 6
	# another key of the same owner has its own budget
	k=$(bkey rlk.near 2 1000000)
	req POST /call/dev.near/app -H "X-Payment-Key: $k" -H 'X-Forwarded-For: 203.0.113.99' \
		-H 'Content-Type: application/json' --data-binary '{"input":1,"async":true}'
	assert_equal "$status" 200
	assert_equal "$(coord_psql "SELECT count(*) FROM https_calls WHERE owner = 'rlk.near'")" 1
}

@test "an untrusted peer's X-Forwarded-For is ignored: the bucket is the peer's" {
	local i
	for ((i = 1; i <= 3; i++)); do
		req GET /payment-keys/balance --interface 127.0.0.2 -H "X-Payment-Key: $KEY" \
			-H "X-Forwarded-For: 192.0.2.$i"
		assert_equal "$status" 200
	done
	assert_equal "$(coord_redis GET rl:api:127.0.0.2)" 3
	run coord_redis EXISTS rl:api:192.0.2.1
	assert_output 0
}
