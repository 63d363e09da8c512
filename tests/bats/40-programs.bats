#!/usr/bin/env bats
# The programs themselves: plain CGI mode, SIGTERM, configuration errors (SPEC §0.4, §2),
# coord-migrate and coord-worker-token (SPEC §6).

load ../helpers/coord
load ../helpers/cgi

# Runs a FastCGI program as lighttpd would: fd 0 a listening Unix socket.
spawn_fcgi() {
	local prog=$1 sock=$2
	python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[2]); s.listen(16)
os.dup2(s.fileno(), 0)
os.execv(sys.argv[1], [sys.argv[1]])
' "$prog" "$sock" 3>&- &
	spawned_pid=$!
}

@test "a program run as plain CGI serves one request from the environment" {
	cgi REQUEST_METHOD=GET REQUEST_URI=/health public.fcgi </dev/null
	assert_success
	assert_line --index 0 "Status: 200 OK"
	assert_line "Content-Type: text/plain"
	assert_line OK

	cgi REQUEST_METHOD=GET REQUEST_URI=/nope worker.fcgi </dev/null
	assert_success
	assert_line --index 0 "Status: 404 Not Found"
	assert_line '{"error":"not_found","message":"Unknown endpoint"}'
}

@test "a CGI request reads its body from stdin up to CONTENT_LENGTH" {
	token=$(coord_worker_token cgi-body)
	cgi REQUEST_METHOD=GET REQUEST_URI=/workers/block-cursor HTTP_AUTHORIZATION="Bearer $token" \
		CONTENT_LENGTH=10 worker.fcgi <<<"short"
	assert_line --index 0 "Status: 400 Bad Request"
	assert_output --partial '"error":"invalid_request"'
}

@test "SIGTERM ends an idle FastCGI program with status 0" {
	export COORD_THREADS=4
	spawn_fcgi "$COORD_BUILD_DIR/fcgi/public.fcgi" "$BATS_TEST_TMPDIR/p.sock"
	# ready once it runs its threads (signal handling is set up before they start)
	for _ in $(seq 100); do
		[[ $(ls "/proc/$spawned_pid/task" 2>/dev/null | wc -l) -ge 5 ]] && break
		sleep 0.1
	done
	assert_equal "$(readlink "/proc/$spawned_pid/exe")" "$(readlink -f "$COORD_BUILD_DIR/fcgi/public.fcgi")"
	kill -TERM "$spawned_pid"
	for _ in $(seq 50); do
		kill -0 "$spawned_pid" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$spawned_pid"
	assert_failure
	wait "$spawned_pid"
}

@test "a bad configuration value exits 78 with one line on stderr" {
	run env PORT=0 "$COORD_BUILD_DIR/fcgi/worker.fcgi" </dev/null
	assert_equal "$status" 78
	assert_equal "${#lines[@]}" 1
	assert_output "worker.fcgi: config: PORT: out of range"

	run env REQUIRE_AUTH=maybe "$COORD_BUILD_DIR/fcgi/public.fcgi" </dev/null
	assert_equal "$status" 78
	assert_output --regexp '^public.fcgi: config: REQUIRE_AUTH: '

	run env REDIS_URL=http://x "$COORD_BUILD_DIR/bin/coord-worker-token" list
	assert_equal "$status" 78
	assert_output --regexp '^coord-worker-token: config: REDIS_URL: '

	run env POLL_LEASE_SECONDS=600 JOB_LEASE_SECONDS=300 "$COORD_BUILD_DIR/fcgi/admin.fcgi" </dev/null
	assert_equal "$status" 78
	assert_output --regexp '^admin.fcgi: config: POLL_LEASE_SECONDS: '
}

@test "COORD_CONFIG: values are read, an unknown key exits 78" {
	printf '# comment\n\n  COORD_PATH_PREFIX =/api  \nREQUIRE_AUTH=false\r\n' >"$BATS_TEST_TMPDIR/ok.conf"
	cgi COORD_CONFIG="$BATS_TEST_TMPDIR/ok.conf" REQUEST_METHOD=GET REQUEST_URI=/api/health \
		public.fcgi </dev/null
	assert_line --index 0 "Status: 200 OK"
	cgi COORD_CONFIG="$BATS_TEST_TMPDIR/ok.conf" REQUEST_METHOD=GET REQUEST_URI=/health \
		public.fcgi </dev/null
	assert_line --index 0 "Status: 404 Not Found"
	# the environment wins over the file
	cgi COORD_CONFIG="$BATS_TEST_TMPDIR/ok.conf" COORD_PATH_PREFIX=/v2 REQUEST_METHOD=GET \
		REQUEST_URI=/v2/health public.fcgi </dev/null
	assert_line --index 0 "Status: 200 OK"

	printf 'NOT_A_SETTING=1\n' >"$BATS_TEST_TMPDIR/bad.conf"
	run env COORD_CONFIG="$BATS_TEST_TMPDIR/bad.conf" "$COORD_BUILD_DIR/fcgi/public.fcgi" </dev/null
	assert_equal "$status" 78
	assert_equal "${#lines[@]}" 1
	assert_output --regexp "^public.fcgi: config: COORD_CONFIG: line 1: unknown key"
	run env COORD_CONFIG="$BATS_TEST_TMPDIR/missing.conf" "$COORD_BUILD_DIR/fcgi/public.fcgi" </dev/null
	assert_equal "$status" 78
}

@test "coord-migrate a second time is a no-op" {
	run "$COORD_BUILD_DIR/bin/coord-migrate" --dir "$COORD_REPO/sql"
	assert_success
	assert_output ""
	run "$COORD_BUILD_DIR/bin/coord-migrate" --dir "$COORD_REPO/sql" --status
	assert_success
	refute_output --partial pending
	n=$(ls "$COORD_REPO"/sql/*.sql | wc -l)
	assert_equal "${#lines[@]}" "$n"
	assert_line --index 0 --regexp '^001 [a-z_]+ applied$'
}

@test "coord-migrate applies into an empty database and refuses a changed applied file" {
	coord_psql "CREATE DATABASE migrate_check"
	url="${DATABASE_URL/dbname=coordinator/dbname=migrate_check}"
	cp -r "$COORD_REPO/sql" "$BATS_TEST_TMPDIR/sql"
	run "$COORD_BUILD_DIR/bin/coord-migrate" -d "$url" --dir "$BATS_TEST_TMPDIR/sql" -n
	assert_success
	assert_line --index 0 "would apply 001_workers.sql"
	run "$COORD_BUILD_DIR/bin/coord-migrate" -d "$url" --dir "$BATS_TEST_TMPDIR/sql" --status
	assert_success
	assert_line --index 0 --regexp '^001.*pending'
	# neither -n nor --status writes anything, not even schema_migrations
	run psql -XAtq "$url" -c "SELECT to_regclass('public.schema_migrations') IS NULL"
	assert_output t
	run "$COORD_BUILD_DIR/bin/coord-migrate" -d "$url" --dir "$BATS_TEST_TMPDIR/sql"
	assert_success
	assert_line --index 0 "applied 001_workers.sql"
	run psql -XAtq "$url" -c "SELECT count(*) FROM schema_migrations"
	assert_output "$(ls "$COORD_REPO"/sql/*.sql | wc -l)"

	echo "-- changed" >>"$BATS_TEST_TMPDIR/sql/002_queue.sql"
	run "$COORD_BUILD_DIR/bin/coord-migrate" -d "$url" --dir "$BATS_TEST_TMPDIR/sql"
	assert_equal "$status" 65
	assert_output --regexp '^coord-migrate: 002_queue.sql was changed after it was applied'

	# a gap in the versions
	git -C "$COORD_REPO" show HEAD:sql/002_queue.sql >"$BATS_TEST_TMPDIR/sql/002_queue.sql" 2>/dev/null ||
		cp "$COORD_REPO/sql/002_queue.sql" "$BATS_TEST_TMPDIR/sql/002_queue.sql"
	echo "SELECT 1;" >"$BATS_TEST_TMPDIR/sql/099_gap.sql"
	run "$COORD_BUILD_DIR/bin/coord-migrate" -d "$url" --dir "$BATS_TEST_TMPDIR/sql"
	assert_equal "$status" 65
	assert_output --partial gap
	coord_psql "DROP DATABASE migrate_check"
}

@test "coord-worker-token: create, list, add from stdin, revoke by hash prefix" {
	run "$COORD_BUILD_DIR/bin/coord-worker-token" create --name rt-worker --json
	assert_success
	token=$(jq -r .token <<<"$output")
	prefix=$(jq -r .token_hash_prefix <<<"$output")
	assert_equal "$(jq -r .worker_name <<<"$output")" rt-worker
	[[ $token =~ ^[0-9a-f]{64}$ ]]
	assert_equal "$prefix" "$(printf '%s' "$token" | sha256sum | cut -c1-12)"
	# only the hash is stored
	run coord_psql "SELECT count(*) FROM worker_auth_tokens WHERE token_hash = '$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)'"
	assert_output 1
	run coord_psql "SELECT count(*) FROM worker_auth_tokens WHERE token_hash = '$token'"
	assert_output 0

	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 200

	run "$COORD_BUILD_DIR/bin/coord-worker-token" list --json
	assert_success
	assert_equal "$(jq -r --arg p "$prefix" '.[] | select(.token_hash_prefix == $p) | .worker_name' <<<"$output")" rt-worker

	run "$COORD_BUILD_DIR/bin/coord-worker-token" add --name rt-added <<<"my-existing-token"
	assert_success
	req GET /workers/block-cursor -H "Authorization: Bearer my-existing-token"
	assert_equal "$status" 200
	run "$COORD_BUILD_DIR/bin/coord-worker-token" add --name rt-added <<<"my-existing-token"
	assert_equal "$status" 65

	run "$COORD_BUILD_DIR/bin/coord-worker-token" revoke --hash "$prefix"
	assert_success
	req GET /workers/block-cursor -H "Authorization: Bearer $token"
	assert_equal "$status" 401
	run "$COORD_BUILD_DIR/bin/coord-worker-token" list
	refute_output --partial "$prefix"
	run "$COORD_BUILD_DIR/bin/coord-worker-token" list --all
	assert_output --partial "$prefix"

	run "$COORD_BUILD_DIR/bin/coord-worker-token" revoke --name nobody-has-this
	assert_equal "$status" 65
	run "$COORD_BUILD_DIR/bin/coord-worker-token" revoke --hash abc
	assert_equal "$status" 65
}

@test "coord-worker-token: usage errors exit 64, --help and --version exit 0" {
	run "$COORD_BUILD_DIR/bin/coord-worker-token"
	assert_equal "$status" 64
	run "$COORD_BUILD_DIR/bin/coord-worker-token" create
	assert_equal "$status" 64
	run "$COORD_BUILD_DIR/bin/coord-worker-token" create --name x --bogus
	assert_equal "$status" 64
	run "$COORD_BUILD_DIR/bin/coord-worker-token" revoke --name a --hash abcdefgh
	assert_equal "$status" 64
	run "$COORD_BUILD_DIR/bin/coord-worker-token" --version
	assert_success
	assert_output --regexp '^coord-worker-token \(coordinator\) [0-9]'
	run "$COORD_BUILD_DIR/bin/coord-worker-token" --help
	assert_success
	assert_output --partial "Usage: coord-worker-token"
	run "$COORD_BUILD_DIR/bin/coord-migrate" --version
	assert_output --regexp '^coord-migrate \(coordinator\) [0-9]'
}

@test "programs cannot reach the database: exit 69" {
	run "$COORD_BUILD_DIR/bin/coord-worker-token" -d "host=/nonexistent port=1 dbname=x" list
	assert_equal "$status" 69
	assert_output --regexp '^coord-worker-token: '
}

@test "program diagnostics are one line each, prefixed with the program's name (§6.1)" {
	run "$COORD_BUILD_DIR/bin/coord-reap" --bogus
	assert_equal "$status" 64
	assert_line --index 0 "coord-reap: unknown option, or an option without its argument"
	run "$COORD_BUILD_DIR/bin/coord-reap" -x
	assert_equal "$status" 64
	assert_line --index 0 "coord-reap: unknown option -x, or it needs an argument"
	run "$COORD_BUILD_DIR/bin/coord-reap" --database-url
	assert_equal "$status" 64
	assert_line --index 0 --regexp '^coord-reap: '
	# verbose, database unreachable: the failure is the only line
	run "$COORD_BUILD_DIR/bin/coord-reap" -v -d "host=/nonexistent port=1 dbname=x"
	assert_equal "$status" 69
	assert_output "coord-reap: cannot reach the database"
}
