#!/usr/bin/env bats
# WASM cache eviction (SPEC §6.2 wasm-cache-evict, §3.2.5 post-upload pass, §5.1 lock
# 7364002, §2.2 WASM_CACHE_MAX_SIZE_GB / WASM_CACHE_MAX_SIZE_BYTES, §6.1 common rules):
# rows without file, orphan and temp files, LRU order under a cap, -n, --verify,
# --max-bytes, the advisory lock, and the eviction pass after an upload crossing the cap.
#
# The stack runs with WASM_CACHE_MAX_SIZE_BYTES=100000; every test starts from an empty
# cache and keeps below that cap unless it tests the post-upload pass.

bats_require_minimum_version 1.5.0

load ../helpers/coord
load ../helpers/wasm

CAP=100000

setup_file() {
	export NEAR_RPC_URL=off
	export COORD_SENDFILE=x-sendfile
	export WASM_CACHE_MAX_SIZE_BYTES=$CAP
	coord_start_stack || return 1
	TOKEN=$(coord_worker_token wasm61)
	export TOKEN
}

setup() {
	coord_test_setup
	coord_psql "DELETE FROM wasm_cache"
	find "$WASM_CACHE_DIR" -mindepth 1 -delete
}

# ---------------------------------------------------------------- helpers

# put CHECKSUM SIZE: uploads SIZE bytes (content derived from CHECKSUM) under CHECKSUM.
put() {
	local f=$BATS_TEST_TMPDIR/put-$1
	head -c "$2" /dev/zero | openssl enc -aes-128-ctr -nosalt -K "${1:0:32}" \
		-iv 00000000000000000000000000000000 >"$f"
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN" -F "checksum=$1" \
		-F repo_url=https://github.com/a/b -F commit_hash=abc -F "wasm_file=@$f"
	assert_equal "$status" 201
}

# accessed CHECKSUM AGO: sets last_accessed_at to now() - AGO (an interval).
accessed() {
	coord_psql "UPDATE wasm_cache SET last_accessed_at = now() - interval '$2' WHERE checksum = '$1'"
}

has_row() { [[ $(coord_psql "SELECT count(*) FROM wasm_cache WHERE checksum = '$1'") == 1 ]]; }
has_file() { [[ -e $WASM_CACHE_DIR/$1.wasm ]]; }

# present C...: each has row and file.  gone C...: each has neither.
present() {
	local c
	for c in "$@"; do
		has_row "$c" || fail "row of $c is gone"
		has_file "$c" || fail "file of $c is gone"
	done
}
gone() {
	local c
	for c in "$@"; do
		! has_row "$c" || fail "row of $c is still there"
		! has_file "$c" || fail "file of $c is still there"
	done
}

# The whole observable state: rows (every column) and the cache directory's entries.
state() {
	coord_psql "SELECT * FROM wasm_cache ORDER BY checksum"
	(cd "$WASM_CACHE_DIR" && find . -printf '%p %y %s %T@ %i %m\n' | sort)
}

# evict ARGS...: runs wasm-cache-evict like bats' run, stdout and stderr apart.
evict() {
	run --separate-stderr "$COORD_BUILD_DIR/bin/wasm-cache-evict" "$@"
}

# mtime_ns FILE
mtime_ns() {
	local t
	t=$(stat -c %.9Y "$1")
	t=${t/./}
	printf '%s\n' $((10#$t))
}

# corrupt_keep_stat FILE: inverts one byte in place and restores the mtime: size, inode
# and mtime (the stat fingerprint of §3.2.5) are unchanged, the content is not.
corrupt_keep_stat() {
	local t
	t=$(stat -c %.9Y "$1")
	perl -e 'open my $h, "+<", $ARGV[0] or die; binmode $h; read $h, my $c, 1;
		seek $h, 0, 0; print $h chr(ord($c) ^ 0xff); close $h or die;' "$1"
	touch -d "@$t" "$1"
}

# hold_lock / release_lock: a separate session holding wasm-cache-evict's advisory lock.
hold_lock() {
	mkfifo "$BATS_TEST_TMPDIR/lock.in"
	psql -XqAt "$DATABASE_URL" <"$BATS_TEST_TMPDIR/lock.in" >"$BATS_TEST_TMPDIR/lock.out" 2>&1 3>&- &
	LOCK_PID=$!
	exec 7>"$BATS_TEST_TMPDIR/lock.in"
	echo "SELECT 'locked:' || pg_advisory_lock(7364002)::text;" >&7
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '^locked:' "$BATS_TEST_TMPDIR/lock.out" && return 0
		sleep 0.1
	done
	fail "could not take the advisory lock: $(cat "$BATS_TEST_TMPDIR/lock.out")"
}
release_lock() {
	echo '\q' >&7
	exec 7>&-
	wait "$LOCK_PID"
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------- wasm-cache-evict

# §6.2 step (1): rows whose file is missing are deleted; §6.1: a maintenance program
# prints nothing on success and exits 0.
@test "evict: rows whose file is missing are deleted, silently" {
	local a b
	a=$(cs keep)
	b=$(cs file-missing)
	put "$a" 1000
	put "$b" 1000
	rm "$WASM_CACHE_DIR/$b.wasm"
	evict
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	present "$a"
	gone "$b"
}

# §6.2 step (2): files named <64 hex>.wasm without a row and .tmp-* files are deleted
# when older than one hour; other files are never touched; files with a row are kept.
@test "evict: orphan and temp files older than one hour are deleted, nothing else" {
	local old young kept h
	old=$(cs orphan-old)
	young=$(cs orphan-young)
	kept=$(cs with-row)
	h=$(cs other)
	put "$kept" 1000
	local d=$WASM_CACHE_DIR
	printf x >"$d/$old.wasm"
	printf x >"$d/$young.wasm"
	printf x >"$d/.tmp-old"
	printf x >"$d/.tmp-young"
	local -a others=(README "${h:0:63}.wasm" "${h^^}.wasm" "$h.wasm.bak" "$h.WASM" "x$h.wasm"
		foo.wasm tmp-x .tmpx "x.tmp-1" ".tmp")
	local o
	for o in "${others[@]}"; do printf x >"$d/$o"; done
	mkdir "$d/subdir" "$d/$h.wasm"
	touch -d '2 hours ago' "$d/$old.wasm" "$d/.tmp-old" "$d/$kept.wasm" "$d/subdir" "$d/$h.wasm"
	for o in "${others[@]}"; do touch -d '3 hours ago' "$d/$o"; done
	touch -d '59 minutes ago' "$d/$young.wasm" "$d/.tmp-young"

	evict
	assert_success
	assert_equal "$output$stderr" ""
	[[ ! -e $d/$old.wasm ]] || fail "old orphan kept"
	[[ ! -e $d/.tmp-old ]] || fail "old temp file kept"
	[[ -e $d/$young.wasm ]] || fail "young orphan deleted"
	[[ -e $d/.tmp-young ]] || fail "young temp file deleted"
	for o in "${others[@]}" subdir "$h.wasm"; do
		[[ -e $d/$o ]] || fail "$o was deleted"
	done
	present "$kept"
}

# §6.2 step (3): above the cap, rows go in last_accessed_at order (file first, then row);
# §3.2.5: a download refreshes last_accessed_at (once its count is flushed; eviction reads it
# as flushed), exists does not touch it.
@test "evict: LRU order; a download refreshes recency, exists does not" {
	local c1 c2 c3 c4 c5
	c1=$(cs lru-1) c2=$(cs lru-2) c3=$(cs lru-3) c4=$(cs lru-4) c5=$(cs lru-5)
	put "$c1" 1000
	put "$c2" 1000
	put "$c3" 1000
	put "$c4" 1000
	put "$c5" 1000
	accessed "$c1" '5 hours'
	accessed "$c2" '4 hours'
	accessed "$c3" '3 hours'
	accessed "$c4" '2 hours'
	accessed "$c5" '1 hour'
	req GET "/wasm/$c1" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 200
	wasm_flushed "$c1=1"
	req GET "/wasm/exists/$c2" -H "Authorization: Bearer $TOKEN"
	assert_equal "$(jq -r .exists <<<"$body")" true
	req GET "/public/wasm/exists/$c2"
	assert_equal "$(jq -r .exists <<<"$body")" true

	# 5000 bytes, cap 3000: the two least recently used go (c2, c3), c1 stays
	evict --max-bytes 3000
	assert_success
	assert_equal "$output$stderr" ""
	gone "$c2" "$c3"
	present "$c1" "$c4" "$c5"
}

# §6.2 step (3): "last_accessed_at, then checksum, ascending ... until the freed bytes
# reach the excess"; a SUM equal to the cap does not exceed it.
@test "evict: ties go by checksum, and eviction stops once the excess is freed" {
	local t1 t2 n lo hi
	t1=$(cs tie-a) t2=$(cs tie-b) n=$(cs tie-newer)
	put "$t1" 1000
	put "$t2" 1000
	put "$n" 1000
	coord_psql "UPDATE wasm_cache SET last_accessed_at = '2024-05-05T05:05:05Z' WHERE checksum IN ('$t1', '$t2')"
	accessed "$n" '1 minute'
	lo=$(printf '%s\n' "$t1" "$t2" | LC_ALL=C sort | head -n 1)
	hi=$(printf '%s\n' "$t1" "$t2" | LC_ALL=C sort | tail -n 1)
	evict --max-bytes 3000
	assert_success
	present "$t1" "$t2" "$n"
	evict --max-bytes 2999
	assert_success
	gone "$lo"
	present "$hi" "$n"

	# excess 500: the oldest (500 bytes) is enough; the next (2000) stays
	local x y z
	x=$(cs stop-x) y=$(cs stop-y) z=$(cs stop-z)
	coord_psql "DELETE FROM wasm_cache"
	find "$WASM_CACHE_DIR" -mindepth 1 -delete
	put "$x" 500
	put "$y" 2000
	put "$z" 1000
	accessed "$x" '3 hours'
	accessed "$y" '2 hours'
	accessed "$z" '1 hour'
	evict --max-bytes 3000
	assert_success
	gone "$x"
	present "$y" "$z"
}

# §6.2: step (1) runs before step (3): a row whose file is missing no longer counts.
@test "evict: the cap is checked after rows without file are gone" {
	local m g1 g2 g3
	m=$(cs missing-old) g1=$(cs g1) g2=$(cs g2) g3=$(cs g3)
	put "$m" 1000
	put "$g1" 1000
	put "$g2" 1000
	put "$g3" 1000
	accessed "$m" '9 hours'
	accessed "$g1" '3 hours'
	accessed "$g2" '2 hours'
	accessed "$g3" '1 hour'
	rm "$WASM_CACHE_DIR/$m.wasm"
	evict --max-bytes 3000
	assert_success
	gone "$m"
	present "$g1" "$g2" "$g3"
}

# §6.2 step (3) cap: --max-bytes, else WASM_CACHE_MAX_SIZE_BYTES, else
# WASM_CACHE_MAX_SIZE_GB × 2^30; 0 = no cap (§2.2: BYTES overrides GB when set).
@test "evict: cap from --max-bytes, WASM_CACHE_MAX_SIZE_BYTES, WASM_CACHE_MAX_SIZE_GB; 0 = none" {
	local a b c
	a=$(cs cap-a) b=$(cs cap-b) c=$(cs cap-c)
	put "$a" 1000
	put "$b" 1000
	put "$c" 1000
	accessed "$a" '3 hours'
	accessed "$b" '2 hours'
	accessed "$c" '1 hour'
	# the environment of this file (100000): nothing to do
	evict
	assert_success
	present "$a" "$b" "$c"
	WASM_CACHE_MAX_SIZE_BYTES=2500 evict
	assert_success
	gone "$a"
	present "$b" "$c"
	WASM_CACHE_MAX_SIZE_BYTES=1500 evict --max-bytes 0
	assert_success
	present "$b" "$c"
	WASM_CACHE_MAX_SIZE_BYTES=100000 evict --max-bytes 1500
	assert_success
	gone "$b"
	present "$c"

	# GiB caps, with the row's recorded size made larger than 1 GiB
	coord_psql "UPDATE wasm_cache SET file_size = 1073741825 WHERE checksum = '$c'"
	WASM_CACHE_MAX_SIZE_BYTES=0 WASM_CACHE_MAX_SIZE_GB=1 evict
	assert_success
	present "$c"
	run env -u WASM_CACHE_MAX_SIZE_BYTES WASM_CACHE_MAX_SIZE_GB=0 \
		"$COORD_BUILD_DIR/bin/wasm-cache-evict"
	assert_success
	present "$c"
	run env -u WASM_CACHE_MAX_SIZE_BYTES "$COORD_BUILD_DIR/bin/wasm-cache-evict"
	assert_success
	present "$c"
	run env -u WASM_CACHE_MAX_SIZE_BYTES WASM_CACHE_MAX_SIZE_GB=1 \
		"$COORD_BUILD_DIR/bin/wasm-cache-evict"
	assert_success
	gone "$c"
}

# §6.2: "-n prints what would be deleted"; §6.1 -n/--dry-run: nothing changes, for every
# step (missing file, orphan, temp file, LRU, --verify).
@test "evict -n prints what would be deleted and changes nothing" {
	local miss orphan lru keep bad stale
	miss=$(cs n-missing) orphan=$(cs n-orphan) lru=$(cs n-lru) keep=$(cs n-keep)
	bad=$(cs n-corrupt) stale=$(cs n-stale)
	put "$miss" 1000
	put "$lru" 1000
	put "$keep" 1000
	put "$bad" 1000
	put "$stale" 1000
	rm "$WASM_CACHE_DIR/$miss.wasm"
	printf x >"$WASM_CACHE_DIR/$orphan.wasm"
	printf x >"$WASM_CACHE_DIR/.tmp-n-test"
	touch -d '2 hours ago' "$WASM_CACHE_DIR/$orphan.wasm" "$WASM_CACHE_DIR/.tmp-n-test"
	accessed "$lru" '5 hours'
	accessed "$bad" '1 hour'
	corrupt_keep_stat "$WASM_CACHE_DIR/$bad.wasm"
	coord_psql "UPDATE wasm_cache SET verified_mtime_ns = 0 WHERE checksum = '$stale'"
	local before
	before=$(state)

	evict -n --verify --max-bytes 3500
	assert_success
	assert_equal "$(state)" "$before"
	# §6.1 "Data goes to stdout"; the corrupt file may be named on either ("reported on
	# stderr", §6.2 step 4)
	local all="$output$stderr"
	[[ $output == *"$miss"* ]] || fail "-n does not name the row without file on stdout"
	[[ $output == *"$orphan"* ]] || fail "-n does not name the orphan file on stdout"
	[[ $output == *".tmp-n-test"* ]] || fail "-n does not name the temp file on stdout"
	[[ $output == *"$lru"* ]] || fail "-n does not name the LRU victim on stdout"
	[[ $all == *"$bad"* ]] || fail "-n --verify does not name the corrupt file"
	[[ $all != *"$keep"* && $all != *"$stale"* ]] || fail "-n names a file that stays"
	evict --dry-run --max-bytes 3500
	assert_success
	assert_equal "$(state)" "$before"

	# the same without -n does it
	evict --verify --max-bytes 3500
	assert_success
	gone "$miss" "$lru" "$bad"
	present "$keep" "$stale"
	[[ ! -e $WASM_CACHE_DIR/$orphan.wasm && ! -e $WASM_CACHE_DIR/.tmp-n-test ]]
}

# §6.2 step (4) and §3.2.5: a download trusts an unchanged stat (one stat, no read);
# --verify re-hashes every file whatever its stat says: a mismatch deletes file and row
# (reported on stderr), a match records the current stat as verified.
@test "evict --verify deletes a file corrupted behind an unchanged stat, re-records good ones" {
	local bad good
	bad=$(cs verify-bad)
	good=$(cs verify-good)
	put "$bad" 5000
	put "$good" 5000
	corrupt_keep_stat "$WASM_CACHE_DIR/$bad.wasm"
	coord_psql "UPDATE wasm_cache SET verified_mtime_ns = 1, verified_inode = 2 WHERE checksum = '$good'"
	# unchanged stat: served as it is (SPEC: "served without re-reading it")
	req GET "/wasm/$bad" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 200
	evict
	assert_success
	present "$bad" "$good"

	evict --verify
	assert_success
	[[ $stderr == *"$bad"* ]] || fail "the mismatch is not reported on stderr: $stderr"
	gone "$bad"
	present "$good"
	local p=$WASM_CACHE_DIR/$good.wasm
	assert_equal "$(coord_psql "SELECT verified_size || ' ' || verified_mtime_ns || ' ' || verified_inode
		FROM wasm_cache WHERE checksum = '$good'")" "$(stat -c %s "$p") $(mtime_ns "$p") $(stat -c %i "$p")"
	req GET "/wasm/$bad" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status $(jq -r .error <<<"$body")" "404 wasm_not_found"
	req GET "/wasm/$good" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 200
	cmp "$body_file" "$BATS_TEST_TMPDIR/put-$good"
}

# §6.1: take pg_try_advisory_lock(7364002) before any work and exit 0 silently when
# another run holds it.
@test "evict: another session holding lock 7364002 → exit 0, silent, nothing changed" {
	local miss orphan lru
	miss=$(cs lock-missing) orphan=$(cs lock-orphan) lru=$(cs lock-lru)
	put "$miss" 1000
	put "$lru" 1000
	rm "$WASM_CACHE_DIR/$miss.wasm"
	printf x >"$WASM_CACHE_DIR/$orphan.wasm"
	touch -d '2 hours ago' "$WASM_CACHE_DIR/$orphan.wasm"
	local before
	before=$(state)
	hold_lock
	evict --max-bytes 1 --verify
	local rc=$status out="$output$stderr"
	release_lock
	assert_equal "$rc" 0
	assert_equal "$out" ""
	assert_equal "$(state)" "$before"
	evict --max-bytes 1
	assert_success
	gone "$miss" "$lru"
}

# §6.1 shared options and exit codes: -h/-V exit 0 on stdout; 64 usage error; 65 a value
# that does not validate; -v one summary line; -q silent.
@test "evict: options and exit codes" {
	evict --help
	assert_success
	[[ -n $output ]] || fail "--help prints nothing on stdout"
	evict -h
	assert_success
	evict --version
	assert_success
	assert_output --regexp '^wasm-cache-evict \(coordinator\) [^ ]+$'
	evict -V
	assert_success
	assert_output --regexp '^wasm-cache-evict \(coordinator\) '

	evict --no-such-option
	assert_equal "$status" 64
	[[ -n $stderr ]] || fail "no usage text on stderr"
	evict --max-bytes
	assert_equal "$status" 64
	evict extra-argument
	assert_equal "$status" 64
	local v
	for v in abc -1 1.5 '' 9223372036854775808; do
		evict --max-bytes "$v"
		assert_equal "$status (--max-bytes '$v')" "65 (--max-bytes '$v')"
	done

	put "$(cs opt)" 10
	evict -v
	assert_success
	local all
	all=$(printf '%s%s' "$output" "${stderr:+$'\n'$stderr}")
	assert_equal "$(grep -c . <<<"$all")" 1
	evict -q
	assert_success
	assert_equal "$output$stderr" ""
	evict --quiet --max-bytes 0 --verify --dry-run
	assert_success
}

# §6.1: 69 when PostgreSQL cannot be reached; --database-url / -d overrides DATABASE_URL;
# diagnostics are one line prefixed "wasm-cache-evict: ".
@test "evict: PostgreSQL unreachable → 69; --database-url overrides DATABASE_URL" {
	local dead="host=$BATS_TEST_TMPDIR port=1 user=postgres dbname=coordinator connect_timeout=2"
	DATABASE_URL=$dead evict
	assert_equal "$status" 69
	assert_regex "$stderr" '^wasm-cache-evict: '
	evict -d "$dead"
	assert_equal "$status" 69
	# the override works the other way too
	DATABASE_URL=$dead evict --database-url "$DATABASE_URL"
	assert_success
}

# §2.2 WASM_CACHE_DIR: absolute path, created with mode 0750 when missing; §2.1: an
# invalid value → one line "<program>: config: <VARIABLE>: ..." and exit 78.
@test "evict: configuration of the cache directory and the caps" {
	WASM_CACHE_DIR=$BATS_TEST_TMPDIR/new-cache evict
	assert_success
	assert_equal "$(stat -c %a "$BATS_TEST_TMPDIR/new-cache")" 750
	WASM_CACHE_DIR=relative/dir evict
	assert_equal "$status" 78
	assert_regex "$stderr" '^wasm-cache-evict: config: WASM_CACHE_DIR: '
	assert_equal "${#stderr_lines[@]}" 1
	WASM_CACHE_MAX_SIZE_BYTES=-1 evict
	assert_equal "$status" 78
	assert_regex "$stderr" '^wasm-cache-evict: config: WASM_CACHE_MAX_SIZE_BYTES: '
	WASM_CACHE_MAX_SIZE_GB=1048577 evict
	assert_equal "$status" 78
	assert_regex "$stderr" '^wasm-cache-evict: config: WASM_CACHE_MAX_SIZE_GB: '
}

# ---------------------------------------------------------------- post-upload pass

# §3.2.5: "After the response has been sent, if a cap is set (not 0) and SUM(file_size)
# exceeds it, one eviction pass runs (§6)".  Cap 100000: three 30000-byte files fit, the
# fourth upload crosses the cap and the least recently used file goes.
@test "an upload crossing WASM_CACHE_MAX_SIZE_BYTES triggers one eviction pass" {
	local p1 p2 p3 p4
	p1=$(cs post-1) p2=$(cs post-2) p3=$(cs post-3) p4=$(cs post-4)
	put "$p1" 30000
	put "$p2" 30000
	put "$p3" 30000
	accessed "$p1" '3 hours'
	accessed "$p2" '2 hours'
	accessed "$p3" '1 hour'
	# below the cap: nothing goes
	sleep 1
	present "$p1" "$p2" "$p3"
	put "$p4" 30000
	wait_until 15 eval '! has_row "$p1"' || fail "no eviction pass within 15 s"
	wait_until 5 eval '! has_file "$p1"' || fail "the evicted row's file is still there"
	sleep 1
	gone "$p1"
	present "$p2" "$p3" "$p4"
	assert_equal "$(coord_psql "SELECT sum(file_size) FROM wasm_cache")" 90000
	# the response came first: the upload itself answered 201 (put asserts it)
}

# §3.2.5 / §5.1: the post-upload pass takes lock 7364002 too and is skipped when it is
# held (not run later when the lock is released).
@test "the post-upload pass is skipped while another run holds its lock" {
	local p1 p2 p3 p4
	p1=$(cs skip-1) p2=$(cs skip-2) p3=$(cs skip-3) p4=$(cs skip-4)
	put "$p1" 30000
	put "$p2" 30000
	put "$p3" 30000
	accessed "$p1" '3 hours'
	accessed "$p2" '2 hours'
	accessed "$p3" '1 hour'
	hold_lock
	put "$p4" 30000
	sleep 2
	present "$p1" "$p2" "$p3" "$p4"
	release_lock
	sleep 2
	present "$p1" "$p2" "$p3" "$p4"
	# the cron run then does it
	evict
	assert_success
	gone "$p1"
	present "$p2" "$p3" "$p4"
}

# More rows than one page of the LRU walk (500): the excess measured at the start is freed in
# full, oldest first, by -n (report) and by the real run alike.
@test "evict: an excess spanning several pages of rows is freed in full, oldest first" {
	local i c sql=""
	for ((i = 0; i < 1200; i++)); do
		c=$(printf '%064x' "$((i + 1))")
		printf '0123456789' >"$WASM_CACHE_DIR/$c.wasm"
	done
	coord_psql "INSERT INTO wasm_cache (checksum, repo_url, commit_hash, file_size, content_hash,
			last_accessed_at, verified_size, verified_mtime_ns, verified_inode)
		SELECT lpad(to_hex(i), 64, '0'), 'https://github.com/a/b', 'abc', 10, repeat('0', 64),
			now() - (1300 - i) * interval '1 minute', 10, 0, 0
		FROM generate_series(1, 1200) AS i"
	# 12000 bytes against a cap of 1000: the 1100 oldest go
	evict -n --max-bytes 1000
	assert_success
	assert_equal "$(grep -c '^evict ' <<<"$output")" 1100
	assert_equal "$(coord_psql "SELECT count(*) FROM wasm_cache")" 1200
	evict --max-bytes 1000
	assert_success
	assert_equal "$(coord_psql "SELECT count(*), min(checksum), max(checksum) FROM wasm_cache")" \
		"100|$(printf '%064x' 1101)|$(printf '%064x' 1200)"
	assert_equal "$(find "$WASM_CACHE_DIR" -name '*.wasm' | wc -l)" 100
}
