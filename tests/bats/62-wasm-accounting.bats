#!/usr/bin/env bats
# Downloads without a database round trip (SPEC §3.2.5 "Download accounting is deferred"):
# each worker.fcgi process counts its downloads in memory and flushes them in one statement
# at most 250 ms after the first unflushed one and before it exits on SIGTERM; it remembers
# each checksum's content_hash and verified stat and serves from that memory while the
# file's stat matches, until a trigger's notification (an update or delete of the row) or a
# reconnect makes it forget.  Each test checks that no stale memory is used after the
# change it makes.  lighttpd runs worker.fcgi as 2 processes of 16 threads (lighttpd.conf):
# "warm" downloads many times in parallel so that both processes remember a checksum.

bats_require_minimum_version 1.5.0

load ../helpers/coord
load ../helpers/wasm

setup_file() {
	export NEAR_RPC_URL=off
	export COORD_SENDFILE=x-sendfile
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token wasm62)
	export TOKEN
}

setup() {
	coord_test_setup
	coord_psql "DELETE FROM wasm_cache"
	find "$WASM_CACHE_DIR" -mindepth 1 -delete
}

teardown() {
	coord_start_pg
	coord_psql "ALTER TABLE wasm_cache ENABLE TRIGGER ALL" -c "ALTER SYSTEM RESET log_statement" \
		-c "SELECT pg_reload_conf()" >/dev/null
	coord_test_teardown
}

# ---------------------------------------------------------------- helpers

# put CHECKSUM FILE: uploads FILE under CHECKSUM (201).
put() {
	upload "$1" "$2"
	assert_equal "$status" 201
}

# fetch N CHECKSUM...: N downloads of each CHECKSUM, 32 at a time; FETCHED names the
# "<status> <body file>" lines.  summary: "<count> <status> <sha256 of the body>" lines of
# the last fetch, sorted.  parallel N CHECKSUM...: both.
fetch() {
	local n=$1 i c k=0 args=() dir
	shift
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/par.XXXXXX")
	for c in "$@"; do
		for ((i = 0; i < n; i++)); do
			args+=(-o "$dir/$((k++))" "$BASE_URL/wasm/$c")
		done
	done
	FETCHED=$dir.list
	curl -sS --no-progress-meter --parallel --parallel-max 32 \
		-w '%{http_code} %{filename_effective}\n' -H "Authorization: Bearer $TOKEN" \
		"${args[@]}" >"$FETCHED"
}
summary() {
	awk 'NR == FNR { sha[$2] = $1; next } { print $1, sha[$2] }' \
		<(sha256sum "${FETCHED%.list}"/* 2>/dev/null) "$FETCHED" | sort | uniq -c |
		awk '{ print $1, $2, $3 }'
}
parallel() {
	fetch "$@"
	summary
}

# warm CHECKSUM FILE: 48 parallel downloads, all answered FILE's bytes.
warm() {
	assert_equal "$(parallel 48 "$1")" "48 200 $(sha "$2")"
}

# worker_pids: the worker.fcgi processes of this file's lighttpd.
worker_pids() {
	local pid
	for pid in $(coord__group_members "$(coord__web_pid)"); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == worker.fcgi ]] && echo "$pid"
	done
	return 0
}

any_alive() {
	local pid
	for pid in "$@"; do
		coord__alive "$pid" && return 0
	done
	return 1
}

# locker_waiting: the session holding the row lock has not reached its sleep yet.
locker_waiting() {
	[[ $(coord_psql "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'coord-test-locker' AND query LIKE '%pg_sleep%'") == 0 ]]
}

# stat_ns FILE: its mtime in nanoseconds.
stat_ns() {
	local t
	t=$(stat -c %.9Y "$1")
	echo $((10#${t/./}))
}

rows_of_all() { coord_psql "SELECT count(*) FROM wasm_cache"; }

# random_file FILE SIZE
random_file() { head -c "$2" /dev/urandom >"$1"; }

# ---------------------------------------------------------------- counting

@test "parallel downloads of two checksums add exactly their counts within 250 ms" {
	local a b fa=$BATS_TEST_TMPDIR/a fb=$BATS_TEST_TMPDIR/b start end ms
	a=$(cs count-a)
	b=$(cs count-b)
	random_file "$fa" 70000
	random_file "$fb" 30000
	put "$a" "$fa"
	put "$b" "$fb"
	coord_psql "UPDATE wasm_cache SET last_accessed_at = now() - interval '1 day'"
	wasm_watch_counts "$a=90" "$b=45"
	start=$(coord_psql "SELECT now()")
	fetch 45 "$a" "$b" "$a"
	end=$(date +%s%6N)
	assert_equal "$(summary | sort)" "$(printf '%s\n' "90 200 $(sha "$fa")" "45 200 $(sha "$fb")" | sort)"
	ms=$(wasm_counted_after "$end")
	echo "# counts complete $ms ms after the last download answered" >&3
	((ms <= 250)) || fail "counts seen $ms ms after the last download (bound: 250 ms)"
	# exactly: nothing more arrives later (a wait longer than the bound)
	sleep 0.5
	assert_equal "$(col "$a" access_count) $(col "$b" access_count)" "90 45"
	# last_accessed_at: the time of the newest download, not the flush's now()
	assert_equal "$(col "$a" "last_accessed_at >= '$start' AND last_accessed_at <= to_timestamp($end / 1e6)")" t
	assert_equal "$(col "$b" "last_accessed_at >= '$start' AND last_accessed_at <= to_timestamp($end / 1e6)")" t
}

@test "a steady-state download reads no row; one flush statement carries every checksum" {
	local a b fa=$BATS_TEST_TMPDIR/a fb=$BATS_TEST_TMPDIR/b log=$COORD_STACK_TMP/pg/postgres.log
	local from since reads conns flushes
	a=$(cs steady-a)
	b=$(cs steady-b)
	random_file "$fa" 5000
	random_file "$fb" 6000
	put "$a" "$fa"
	put "$b" "$fb"
	warm "$a" "$fa"
	warm "$b" "$fb"
	wasm_flushed "$a=48" "$b=48"
	coord_psql "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
	since=$(coord_psql "SELECT clock_timestamp()")
	from=$(stat -c %s "$log")
	assert_equal "$(parallel 60 "$a" "$b" | awk '{ print $1, $2 }')" $'60 200\n60 200'
	wasm_flushed "$a=108" "$b=108"
	coord_psql "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
	tail -c +"$((from + 1))" "$log" >"$BATS_TEST_TMPDIR/pg.log"
	# Served from memory: no row read, no stat recorded, no lock.  A thread whose connection
	# opened only now (one of the 32 the warm-up left idle) trusts nothing read before it
	# listened, and reads each checksum once: at most 2 reads per new connection.
	reads=$(grep -cE 'execute wasm_(row|verified|lock|delete_row):' "$BATS_TEST_TMPDIR/pg.log" || true)
	conns=$(coord_psql "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'coordinator' AND backend_start > '$since'")
	echo "# 120 downloads: $reads row reads, $conns new connections" >&3
	((reads <= 2 * conns)) || fail "$reads row reads for 120 downloads ($conns new connections)"
	# the counts went in flushes of one statement each, both checksums together in one
	flushes=$(grep -c 'execute wasmmem_flush' "$BATS_TEST_TMPDIR/pg.log" || true)
	((flushes >= 1 && flushes <= 20)) || fail "$flushes flush statements for 120 downloads"
	run grep -A1 'execute wasmmem_flush' "$BATS_TEST_TMPDIR/pg.log"
	grep -qE "$a.*$b|$b.*$a" <<<"$output" || fail "no flush carried both checksums: $output"
}

# ---------------------------------------------------------------- no stale memory

@test "a download right after a re-upload gets the new bytes" {
	local c f1=$BATS_TEST_TMPDIR/v1 f2=$BATS_TEST_TMPDIR/v2 i
	c=$(cs reupload)
	for ((i = 0; i < 3; i++)); do
		random_file "$f1" 4000
		random_file "$f2" 4000
		put "$c" "$f1"
		warm "$c" "$f1"
		put "$c" "$f2"
		assert_equal "$(parallel 32 "$c")" "32 200 $(sha "$f2")"
	done
}

@test "a download after an eviction answers 404" {
	local c f=$BATS_TEST_TMPDIR/e
	c=$(cs evicted)
	random_file "$f" 4000
	put "$c" "$f"
	warm "$c" "$f"
	run "$COORD_BUILD_DIR/bin/wasm-cache-evict" --max-bytes 1
	assert_success
	assert_equal "$(rows_of_all) $(ls "$WASM_CACHE_DIR" | wc -l)" "0 0"
	assert_equal "$(parallel 32 "$c" | awk '{ print $1, $2 }')" "32 404"
}

@test "a download after the row is deleted by SQL answers 404 (the file is not served)" {
	local c f=$BATS_TEST_TMPDIR/d
	c=$(cs deleted-by-sql)
	random_file "$f" 4000
	put "$c" "$f"
	warm "$c" "$f"
	coord_psql "DELETE FROM wasm_cache WHERE checksum = '$c'"
	assert_equal "$(parallel 32 "$c" | awk '{ print $1, $2 }')" "32 404"
	download "$c"
	assert_equal "$status $(jq -r .error <<<"$body")" "404 wasm_not_found"
	# a TRUNCATE forgets every checksum
	put "$c" "$f"
	warm "$c" "$f"
	coord_psql "TRUNCATE wasm_cache"
	assert_equal "$(parallel 32 "$c" | awk '{ print $1, $2 }')" "32 404"
}

@test "a download after the verified stat is changed by SQL checks the file again" {
	local c f=$BATS_TEST_TMPDIR/u size
	c=$(cs updated-by-sql)
	random_file "$f" 4000
	put "$c" "$f"
	warm "$c" "$f"
	size=$(col "$c" verified_size)
	# remembered values would still match the file's stat and skip the check
	coord_psql "UPDATE wasm_cache SET verified_size = 1 WHERE checksum = '$c'"
	download "$c"
	assert_equal "$status" 200
	cmp "$body_file" "$f"
	# the file was hashed again and its stat recorded
	assert_equal "$(col "$c" verified_size)" "$size"
	# a changed content_hash: the file no longer matches its row, which goes with the file
	coord_psql "UPDATE wasm_cache SET content_hash = repeat('0', 64), verified_size = 1 WHERE checksum = '$c'"
	download "$c"
	assert_equal "$status $(jq -r .error <<<"$body")" "404 wasm_not_found"
	assert_equal "$(rows_of_all)" 0
	[[ ! -e $WASM_CACHE_DIR/$c.wasm ]] || fail "corrupt file kept"
}

@test "a file replaced behind the coordinator's back: same bytes re-hashed and served, others 404" {
	local c f=$BATS_TEST_TMPDIR/r g=$BATS_TEST_TMPDIR/other p
	c=$(cs replaced)
	p=$WASM_CACHE_DIR/$c.wasm
	random_file "$f" 4000
	put "$c" "$f"
	warm "$c" "$f"
	# same bytes, new inode and mtime: re-hashed, served, its stat recorded
	cp "$f" "$p.new"
	mv "$p.new" "$p"
	assert_equal "$(parallel 32 "$c")" "32 200 $(sha "$f")"
	assert_equal "$(col "$c" "verified_inode || ' ' || verified_mtime_ns")" \
		"$(stat -c %i "$p") $(stat_ns "$p")"
	warm "$c" "$f"
	# other bytes of the same size: corrupt, file and row deleted, never served
	random_file "$g" 4000
	cp "$g" "$p.new"
	mv "$p.new" "$p"
	assert_equal "$(parallel 32 "$c" | awk '{ print $1, $2 }')" "32 404"
	assert_equal "$(rows_of_all)" 0
	[[ ! -e $p ]] || fail "corrupt file kept"
}

@test "after a PostgreSQL restart downloads get the bytes, and nothing remembered before it is used" {
	local c s f=$BATS_TEST_TMPDIR/pg sf=$BATS_TEST_TMPDIR/silent
	c=$(cs pg-restart)
	s=$(cs pg-restart-silent)
	random_file "$f" 4000
	random_file "$sf" 4000
	put "$c" "$f"
	put "$s" "$sf"
	warm "$c" "$f"
	warm "$s" "$sf"
	wasm_flushed "$c=48" "$s=48"
	# a change no connection hears of (its trigger disabled): the memory still serves it...
	coord_psql "ALTER TABLE wasm_cache DISABLE TRIGGER wasm_cache_forget_delete;
		DELETE FROM wasm_cache WHERE checksum = '$s'"
	run parallel 32 "$s"
	assert_output --partial " 200 $(sha "$sf")"
	coord_psql "ALTER TABLE wasm_cache ENABLE TRIGGER wasm_cache_forget_delete"
	# ...until the connections reopen: a thread trusts nothing remembered before its
	# connection listened again
	coord_stop_pg
	download "$c"
	assert_equal "$status $(jq -r .error <<<"$body")" "503 unavailable"
	coord_start_pg
	assert_equal "$(parallel 32 "$c")" "32 200 $(sha "$f")"
	assert_equal "$(parallel 32 "$s" | awk '{ print $1, $2 }')" "32 404"
	# the downloads served while the database was back are counted (the 503 is not)
	wasm_flushed "$c=80"
}

# ---------------------------------------------------------------- shutdown

@test "SIGTERM of the worker processes with unflushed counts: the counts are in the table after they exit" {
	local c f=$BATS_TEST_TMPDIR/t pids locker
	c=$(cs sigterm)
	random_file "$f" 4000
	put "$c" "$f"
	warm "$c" "$f"
	wasm_flushed "$c=48"
	# hold the row: no flush can add to it meanwhile, the downloads are served from memory
	PGAPPNAME=coord-test-locker psql -XqAt "$DATABASE_URL" \
		-c "BEGIN" -c "SELECT 1 FROM wasm_cache WHERE checksum = '$c' FOR UPDATE" \
		-c "SELECT pg_sleep(60)" >/dev/null 2>&1 3>&- &
	locker=$!
	coord__wait_while 10 locker_waiting || fail "the row lock was not taken"
	assert_equal "$(parallel 30 "$c")" "30 200 $(sha "$f")"
	sleep 0.5 # longer than the flush bound: whatever could be flushed has been tried
	assert_equal "$(col "$c" access_count)" 48
	mapfile -t pids < <(worker_pids)
	((${#pids[@]} >= 1)) || fail "no worker.fcgi process found"
	kill -TERM "${pids[@]}"
	# let them reach their last flush (it waits for the row), then release the row
	sleep 0.5
	coord_psql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'coord-test-locker'" >/dev/null
	wait "$locker" || true
	coord__wait_while 20 any_alive "${pids[@]}" || fail "worker.fcgi did not exit: ${pids[*]}"
	assert_equal "$(col "$c" access_count)" 78
	# lighttpd starts new processes for the next requests
	coord_restart_web
	download "$c"
	assert_equal "$status" 200
}
