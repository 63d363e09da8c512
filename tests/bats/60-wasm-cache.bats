#!/usr/bin/env bats
# The WASM cache routes (SPEC §3.2.5, §3.4.3): POST /wasm/upload, GET /wasm/:checksum
# (X-Sendfile and streamed), GET /wasm/exists/:checksum, GET /public/wasm/exists/:checksum,
# GET /public/wasm/info; checksum validation, body caps (§1.3), integrity by stat
# fingerprint, and re-upload against concurrent downloads.  Eviction: 61-wasm-evict.bats.
#
# Every test runs in the mode the shipped lighttpd.conf and ./dev use
# (COORD_SENDFILE=x-sendfile), except the last section, which restarts lighttpd once with
# COORD_SENDFILE=off (use_mode restarts only when the mode changes: a restart is slow).

bats_require_minimum_version 1.5.0

load ../helpers/coord
load ../helpers/cgi
load ../helpers/wasm

setup_file() {
	export NEAR_RPC_URL=off
	export COORD_SENDFILE=x-sendfile
	# The cache two levels below a private root, with a sibling "etc" directory: an
	# upload that wrote to "<dir>/../../etc/passwd.wasm" would land, visibly, in
	# $WASM_TEST_ROOT/etc/passwd.wasm.  The programs create the "wasm" directory itself.
	WASM_TEST_ROOT=$(mktemp -d /tmp/coord-wasm60.XXXXXX)
	mkdir -p "$WASM_TEST_ROOT/x/y" "$WASM_TEST_ROOT/etc"
	export WASM_TEST_ROOT WASM_CACHE_DIR=$WASM_TEST_ROOT/x/y/wasm
	coord_start_stack || return 1
	printf '%s\n' x-sendfile >"$COORD_STACK_TMP/sendfile-mode"
	TOKEN=$(coord_worker_token wasm60)
	export TOKEN
}

teardown_file() {
	coord_stop_stack
	rm -rf "$WASM_TEST_ROOT"
}

# ---------------------------------------------------------------- helpers

# upload_form CURL-ARGS...: an upload with exactly the given form parts.
upload_form() {
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN" "$@"
}

err() { jq -r .error <<<"$body"; }

rows_of() { coord_psql "SELECT count(*) FROM wasm_cache WHERE checksum = '$1'"; }

# Everything below the private root (the cache and its "../.." neighbours) with size,
# mtime and inode: two snapshots are equal iff nothing was created, changed or removed.
tree_snapshot() {
	(cd "$WASM_TEST_ROOT" && find . -printf '%p %y %s %T@ %i\n' | sort)
}

# mp_body OUT BOUNDARY PART...: writes a multipart/form-data body.  PART is NAME=VALUE
# (a field) or NAME@FILE (a file part, filename "m.wasm", type application/wasm).
mp_body() {
	local out=$1 bd=$2 p
	shift 2
	: >"$out"
	for p in "$@"; do
		if [[ $p == *@* && ${p%%@*} != *=* ]]; then
			printf -- '--%s\r\nContent-Disposition: form-data; name="%s"; filename="m.wasm"\r\nContent-Type: application/wasm\r\n\r\n' \
				"$bd" "${p%%@*}" >>"$out"
			cat "${p#*@}" >>"$out"
		else
			printf -- '--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s' \
				"$bd" "${p%%=*}" "${p#*=}" >>"$out"
		fi
		printf '\r\n' >>"$out"
	done
	printf -- '--%s--\r\n' "$bd" >>"$out"
}

# upload_body BOUNDARY BODY-FILE: posts a hand-made multipart body.
upload_body() {
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN" \
		-H "Content-Type: multipart/form-data; boundary=$1" --data-binary @"$2"
}

# cgi_raw VAR=VALUE... PROGRAM [< body]: runs PROGRAM as plain CGI (SPEC §0.4) keeping the
# body's exact bytes; sets cgi_status (the Status line), headers (CRs removed, so that
# `header` works) and cgi_body (file).
cgi_raw() {
	local -a vars=()
	while [[ $# -gt 1 && $1 == *=* ]]; do
		vars+=("$1")
		shift
	done
	local out=$BATS_TEST_TMPDIR/cgi-out
	env "${vars[@]}" "$COORD_BUILD_DIR/fcgi/$1" >"$out" 2>/dev/null 3>&-
	cgi_body=$BATS_TEST_TMPDIR/cgi-body
	perl -e 'local $/; my $d = <STDIN>; my $i = index($d, "\r\n\r\n");
		$i = length($d) - 4 if $i < 0;
		open my $h, ">", $ARGV[0] or die; print $h substr($d, 0, $i + 2);
		open my $b, ">", $ARGV[1] or die; print $b substr($d, $i + 4);' \
		"$BATS_TEST_TMPDIR/cgi-head" "$cgi_body" <"$out"
	headers=$(tr -d '\r' <"$BATS_TEST_TMPDIR/cgi-head")
	cgi_status=$(head -n 1 <<<"$headers")
}

# use_mode x-sendfile|off: runs lighttpd (and so worker.fcgi) with that COORD_SENDFILE.
use_mode() {
	[[ $(cat "$COORD_STACK_TMP/sendfile-mode") == "$1" ]] && return 0
	export COORD_SENDFILE=$1
	coord_restart_web
	printf '%s\n' "$1" >"$COORD_STACK_TMP/sendfile-mode"
}

# gen_nul_crlf OUT: 5 MiB of NULs, CRLFs, "--" and other bytes (fixed seed).
gen_nul_crlf() {
	perl -e 'srand(60); my $s = "";
		while (length($s) < 5 * 1048576) {
			my $r = int(rand(5));
			$s .= $r == 0 ? "\0" x int(rand(400))
			    : $r == 1 ? "\r\n" x (1 + int(rand(4)))
			    : $r == 2 ? "\r\n--\r\n\0\r"
			    : $r == 3 ? "\n\r\0\n"
			    : chr(int(rand(256))) x (1 + int(rand(3)));
		}
		print substr($s, 0, 5 * 1048576);' >"$1"
}

# gen_dashes OUT: "--" runs, dash runs as long as curl's boundary prefix after CRLF, and a
# final CRLF "--".
gen_dashes() {
	perl -e 'for my $i (0 .. 3000) {
			print "\r\n--", "-" x ($i % 41), "\r\n", "x" x ($i % 7), "--", "\r\n--\r\n";
			print "--\r\n" if $i % 3 == 0;
		}
		print "\r\n--";' >"$1"
}

# gen_near_boundary OUT BOUNDARY: proper prefixes of CRLF "--" BOUNDARY at every alignment,
# BOUNDARY in mid-line, near misses, and a prefix of the delimiter at the very end.
gen_near_boundary() {
	perl -e 'my $bd = $ARGV[0];
		for my $i (0 .. 2500) {
			print "\r\n--", substr($bd, 0, $i % length($bd)), "\r\n";
			print "y" x (1 + $i % 13), "--$bd", "\r\n-$bd\r\n";
			print "\r\n--", substr($bd, 0, -1), "X\r\n";
			print "\r" if $i % 5 == 0;
		}
		print "\r\n--", substr($bd, 0, -1);' "$2" >"$1"
}

# gen_random OUT SIZE KEY: SIZE pseudo-random bytes (AES-CTR keystream of KEY).
gen_random() {
	head -c "$2" /dev/zero |
		openssl enc -aes-128-ctr -nosalt -K "$3" -iv 00000000000000000000000000000000 >"$1"
}

# flip_byte FILE OFFSET: inverts one byte in place (same size, same inode, new mtime).
flip_byte() {
	perl -e 'open my $h, "+<", $ARGV[0] or die "$ARGV[0]: $!"; binmode $h;
		seek $h, $ARGV[1], 0; read $h, my $c, 1; seek $h, $ARGV[1], 0;
		print $h chr(ord($c) ^ 0xff); close $h or die;' "$1" "$2"
}

# check_download CHECKSUM FILE: GET /wasm/CHECKSUM answers FILE's bytes (SPEC §3.2.5, §1.1).
check_download() {
	download "$1"
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/octet-stream
	assert_equal "$(header Content-Length)" "$(stat -c %s "$2")"
	assert_equal "$(header Cache-Control)" no-store
	header X-Request-ID
	# lighttpd consumes X-Sendfile; it never reaches the client
	run header X-Sendfile
	assert_failure
	cmp "$body_file" "$2"
}

# ---------------------------------------------------------------- upload and download

# §3.2.5 upload steps: 201 empty (§1.1 "empty": Content-Length 0, no Content-Type); file
# <checksum>.wasm written with mode 0640 in WASM_CACHE_DIR (created 0750, §2.2); row with
# all columns, content_hash = SHA-256 of the stored bytes, build_target default
# wasm32-wasip1, verified_* = stat of the renamed file; no temp file left.
@test "upload of a 1-byte file: 201 empty, file, row and verified stat recorded" {
	local c f=$BATS_TEST_TMPDIR/one
	c=$(cs one-byte)
	printf 'A' >"$f"
	upload "$c" "$f"
	assert_equal "$status" 201
	assert_equal "$body" ""
	assert_equal "$(header Content-Length)" 0
	run header Content-Type
	assert_failure
	header X-Request-ID

	assert_equal "$(stat -c %a "$WASM_CACHE_DIR")" 750
	cmp "$WASM_CACHE_DIR/$c.wasm" "$f"
	assert_equal "$(stat -c %a "$WASM_CACHE_DIR/$c.wasm")" 640
	run compgen -G "$WASM_CACHE_DIR/.tmp-*"
	assert_failure

	assert_equal "$(col "$c" "repo_url || ' ' || commit_hash || ' ' || build_target")" \
		"https://github.com/a/b abc wasm32-wasip1"
	assert_equal "$(col "$c" file_size)" 1
	assert_equal "$(col "$c" content_hash)" "$(sha "$f")"
	assert_equal "$(col "$c" access_count)" 0
	local mtime_ns
	mtime_ns=$(stat -c %.9Y "$WASM_CACHE_DIR/$c.wasm")
	mtime_ns=${mtime_ns/./}
	mtime_ns=$((10#$mtime_ns))
	assert_equal "$(col "$c" "verified_size || ' ' || verified_mtime_ns || ' ' || verified_inode")" \
		"$(stat -c '%s' "$WASM_CACHE_DIR/$c.wasm") $mtime_ns $(stat -c '%i' "$WASM_CACHE_DIR/$c.wasm")"
}

# §3.2.5 GET: 200 application/octet-stream with the bytes and Content-Length; the access is
# counted (access_count += 1, last_accessed_at = its time) by the process's next flush.
# (X-Sendfile through lighttpd: the client gets the bytes; the streamed mode is checked in
# the last section; the flush itself in 62-wasm-accounting.bats.)
@test "download of the 1-byte file is byte-identical and counts the access" {
	local c f=$BATS_TEST_TMPDIR/one
	c=$(cs one-byte-dl)
	printf 'A' >"$f"
	use_mode x-sendfile
	upload "$c" "$f"
	assert_equal "$status" 201
	coord_psql "UPDATE wasm_cache SET last_accessed_at = now() - interval '1 hour' WHERE checksum = '$c'"
	check_download "$c" "$f"
	wasm_flushed "$c=1"
	assert_equal "$(col "$c" "last_accessed_at > now() - interval '1 minute'")" t
	check_download "$c" "$f"
	wasm_flushed "$c=2"
}

# §3.2.5: the stored bytes are exactly the file part's bytes, whatever they contain.
@test "a 5 MiB binary full of NULs and CRLFs round-trips byte for byte" {
	local c f=$BATS_TEST_TMPDIR/nulcrlf
	c=$(cs nul-crlf)
	gen_nul_crlf "$f"
	assert_equal "$(stat -c %s "$f")" 5242880
	use_mode x-sendfile
	upload "$c" "$f"
	assert_equal "$status" 201
	cmp "$WASM_CACHE_DIR/$c.wasm" "$f"
	assert_equal "$(col "$c" file_size)" 5242880
	assert_equal "$(col "$c" content_hash)" "$(sha "$f")"
	check_download "$c" "$f"
}

# §3.2.5 / RFC 2046: only CRLF "--" boundary ends a part; "--" runs, dash runs as long as
# curl's boundary prefix, and a trailing CRLF "--" inside the file are data.
@test "a file full of boundary-like -- sequences round-trips (curl's boundary)" {
	local c f=$BATS_TEST_TMPDIR/dashes
	c=$(cs dashes-curl)
	gen_dashes "$f"
	upload "$c" "$f"
	assert_equal "$status" 201
	cmp "$WASM_CACHE_DIR/$c.wasm" "$f"
	check_download "$c" "$f"
}

# Same, with a boundary we know: the data holds proper prefixes of the delimiter at every
# alignment, the boundary itself in mid-line, and ends with a prefix of the delimiter
# right before the real one.  Parts may come in any order; the file part's filename and
# content type are ignored; unknown parts are ignored (§3.2.5).
@test "a file holding prefixes of the real boundary round-trips (hand-made body)" {
	local c bd=XyZzY-b0undary f=$BATS_TEST_TMPDIR/near b=$BATS_TEST_TMPDIR/body
	c=$(cs dashes-known)
	gen_near_boundary "$f" "$bd"
	mp_body "$b" "$bd" "wasm_file@$f" "note=ignored" "checksum=$c" \
		"repo_url=https://github.com/a/b" "commit_hash=abc"
	upload_body "$bd" "$b"
	assert_equal "$status" 201
	cmp "$WASM_CACHE_DIR/$c.wasm" "$f"
	assert_equal "$(col "$c" file_size)" "$(stat -c %s "$f")"
	check_download "$c" "$f"
}

# Files whose last bytes look like the start of a delimiter.
@test "files ending in CR, CRLF, '-' or CRLF-- round-trip" {
	local c i=0 content f=$BATS_TEST_TMPDIR/edge
	for content in '\r' '\r\n' '-' '\r\n--' '\r\n\r\n' '--'; do
		i=$((i + 1))
		c=$(cs "edge-$i")
		printf "x$content" >"$f"
		upload "$c" "$f"
		assert_equal "$status" 201
		cmp "$WASM_CACHE_DIR/$c.wasm" "$f"
		check_download "$c" "$f"
	done
	# a file of only a CR
	c=$(cs edge-cr-only)
	printf '\r' >"$f"
	upload "$c" "$f"
	assert_equal "$status" 201
	check_download "$c" "$f"
}

# §1.3: the worker body cap is 10 MiB; a body just under it is accepted.
@test "an upload of a file just under the 10 MiB body cap succeeds" {
	local c f=$BATS_TEST_TMPDIR/big
	c=$(cs almost-cap)
	gen_random "$f" $((10485760 - 4096)) 0f0e0d0c0b0a09080706050403020100
	upload "$c" "$f"
	assert_equal "$status" 201
	check_download "$c" "$f"
}

# §3.2.5 upsert: on conflict update file_size, content_hash, last_accessed_at, verified_*;
# keep repo_url, commit_hash, build_target, created_at, access_count.  rename() replaces
# the file (new inode).  §7: "Re-uploading a cached checksum updates its recorded size
# together with its content hash".
@test "re-upload of a checksum replaces the file and keeps the row's identity" {
	local c f1=$BATS_TEST_TMPDIR/v1 f2=$BATS_TEST_TMPDIR/v2
	c=$(cs reupload)
	printf 'version one' >"$f1"
	printf 'the second, longer version' >"$f2"
	upload_form -F "checksum=$c" -F repo_url=https://github.com/o/first -F commit_hash=c1 \
		-F build_target=wasm32-unknown-unknown -F "wasm_file=@$f1"
	assert_equal "$status" 201
	download "$c"
	assert_equal "$status" 200
	coord_psql "UPDATE wasm_cache SET created_at = now() - interval '2 days',
		last_accessed_at = now() - interval '1 day' WHERE checksum = '$c'"
	local created inode1
	created=$(col "$c" created_at)
	inode1=$(stat -c %i "$WASM_CACHE_DIR/$c.wasm")

	upload_form -F "checksum=$c" -F repo_url=https://github.com/o/second -F commit_hash=c2 \
		-F "wasm_file=@$f2"
	assert_equal "$status" 201
	cmp "$WASM_CACHE_DIR/$c.wasm" "$f2"
	assert_equal "$(col "$c" "file_size || ' ' || content_hash")" "$(stat -c %s "$f2") $(sha "$f2")"
	assert_equal "$(col "$c" "repo_url || ' ' || commit_hash || ' ' || build_target")" \
		"https://github.com/o/first c1 wasm32-unknown-unknown"
	assert_equal "$(col "$c" created_at)" "$created"
	wasm_flushed "$c=1"
	assert_equal "$(col "$c" "last_accessed_at > now() - interval '1 minute'")" t
	local inode2
	inode2=$(stat -c %i "$WASM_CACHE_DIR/$c.wasm")
	assert_equal "$(col "$c" "verified_size || ' ' || verified_inode")" "$(stat -c %s "$f2") $inode2"
	check_download "$c" "$f2"
	[[ $inode1 != "$inode2" ]] || fail "the file was rewritten in place (inode $inode1 kept), not renamed"
}

# §3.2.5 / §7 "uploads are atomic": rename() onto <checksum>.wasm, and the download's
# integrity re-check under the cache lock never mistakes a racing re-upload for
# corruption.  Two contents of different sizes are uploaded alternately while another
# loop downloads: every download answers 200 with exactly A's or B's bytes.
reupload_race() {
	local c=$1 a=$BATS_TEST_TMPDIR/A b=$BATS_TEST_TMPDIR/B dir=$BATS_TEST_TMPDIR
	gen_random "$a" 2097152 000102030405060708090a0b0c0d0e0f
	gen_random "$b" $((2097152 + 4099)) 101112131415161718191a1b1c1d1e1f
	local sa sb
	sa=$(sha "$a")
	sb=$(sha "$b")
	upload "$c" "$a"
	assert_equal "$status" 201
	rm -f "$dir/up.done"
	(
		for ((i = 0; i < 24; i++)); do
			f=$a
			((i % 2 == 0)) && f=$b
			curl -sS --max-time 60 -o /dev/null -w '%{http_code}\n' \
				-H "Authorization: Bearer $TOKEN" -F "checksum=$c" \
				-F repo_url=https://github.com/a/b -F commit_hash=abc -F "wasm_file=@$f" \
				"$BASE_URL/wasm/upload"
		done >"$dir/up.log" 2>&1
		: >"$dir/up.done"
	) 3>&- &
	local up=$!
	(
		n=0
		while [[ ! -e $dir/up.done ]] && ((n < 3000)); do
			code=$(curl -sS --max-time 60 -o "$dir/dl" -w '%{http_code}' \
				-H "Authorization: Bearer $TOKEN" "$BASE_URL/wasm/$c" 2>&1)
			printf '%s %s\n' "$code" "$(sha256sum "$dir/dl" | cut -c1-64)"
			n=$((n + 1))
		done >"$dir/dl.log"
	) 3>&- &
	local dl=$!
	wait "$up"
	wait "$dl"
	run grep -cvx 201 "$dir/up.log"
	assert_output 0
	local total
	total=$(wc -l <"$dir/dl.log")
	echo "# $total downloads: $(grep -c " $sa" "$dir/dl.log") A, $(grep -c " $sb" "$dir/dl.log") B" >&3
	((total >= 5)) || fail "only $total downloads overlapped the uploads"
	run grep -vxE "200 ($sa|$sb)" "$dir/dl.log"
	assert_output ""
	# the last upload was A; the row describes the file on disk
	cmp "$WASM_CACHE_DIR/$c.wasm" "$a"
	assert_equal "$(col "$c" "file_size || ' ' || content_hash")" "$(stat -c %s "$a") $sa"
	check_download "$c" "$a"
	run compgen -G "$WASM_CACHE_DIR/.tmp-*"
	assert_failure
}

@test "re-upload racing downloads: each download is the old or the new file (X-Sendfile)" {
	use_mode x-sendfile
	reupload_race "$(cs race-sendfile)"
}

# ---------------------------------------------------------------- sendfile vs streamed (CGI)

# §3.2.5 / §2.2 COORD_SENDFILE: x-sendfile answers an empty body and
# "X-Sendfile: <absolute path>"; off streams the bytes with Content-Length.
@test "plain CGI: X-Sendfile header with x-sendfile, the bytes with off" {
	local c f=$BATS_TEST_TMPDIR/cgi
	c=$(cs cgi-modes)
	gen_nul_crlf "$f"
	upload "$c" "$f"
	assert_equal "$status" 201

	cgi_raw COORD_SENDFILE=x-sendfile REQUEST_METHOD=GET REQUEST_URI="/wasm/$c" \
		HTTP_AUTHORIZATION="Bearer $TOKEN" worker.fcgi </dev/null
	assert_equal "$cgi_status" "Status: 200 OK"
	assert_equal "$(header X-Sendfile)" "$WASM_CACHE_DIR/$c.wasm"
	assert_equal "$(header Content-Type)" application/octet-stream
	assert_equal "$(stat -c %s "$cgi_body")" 0
	# a CGI process flushes its count before it exits (SPEC §3.2.5)
	assert_equal "$(col "$c" access_count)" 1

	cgi_raw COORD_SENDFILE=off REQUEST_METHOD=GET REQUEST_URI="/wasm/$c" \
		HTTP_AUTHORIZATION="Bearer $TOKEN" worker.fcgi </dev/null
	assert_equal "$cgi_status" "Status: 200 OK"
	run header X-Sendfile
	assert_failure
	assert_equal "$(header Content-Type)" application/octet-stream
	assert_equal "$(header Content-Length)" 5242880
	cmp "$cgi_body" "$f"
	assert_equal "$(col "$c" access_count)" 2
}

# ---------------------------------------------------------------- exists and info

# §3.2.5 GET /wasm/exists/:checksum and §3.4.3 GET /public/wasm/exists/:checksum:
# {"exists":bool,"created_at":ts|null}; does not touch last_accessed_at.
@test "exists (worker and public) reports row+file and does not touch the access time" {
	local c u f=$BATS_TEST_TMPDIR/e
	c=$(cs exists-yes)
	u=$(cs exists-never)
	printf 'exists' >"$f"
	upload "$c" "$f"
	assert_equal "$status" 201
	coord_psql "UPDATE wasm_cache SET last_accessed_at = '2020-01-02T03:04:05.678Z' WHERE checksum = '$c'"
	local ts
	ts=$(col "$c" "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")

	req GET "/wasm/exists/$c" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" "{\"exists\":true,\"created_at\":\"$ts\"}"
	req GET "/public/wasm/exists/$c"
	assert_equal "$status" 200
	assert_equal "$body" "{\"exists\":true,\"created_at\":\"$ts\"}"
	assert_equal "$(col "$c" "access_count || ' ' || (last_accessed_at = '2020-01-02T03:04:05.678Z')::int")" "0 1"

	req GET "/wasm/exists/$u" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 200
	assert_equal "$body" '{"exists":false,"created_at":null}'
	req GET "/public/wasm/exists/$u"
	assert_equal "$status" 200
	assert_equal "$body" '{"exists":false,"created_at":null}'

	# §1.6: the worker route needs the token; the public one does not
	req GET "/wasm/exists/$c"
	assert_equal "$status" 401
	# §0.2: HEAD is accepted on public GET routes only
	req HEAD "/public/wasm/exists/$c"
	assert_equal "$status" 200
	req HEAD "/wasm/exists/$c" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 405
}

# §3.2.5: exists = row and file both present; a row without file is deleted.  A file
# without row does not exist either.
@test "exists: a row without file is deleted; a file without row is not reported" {
	local c1 c2 c3 f=$BATS_TEST_TMPDIR/e
	c1=$(cs exists-nofile-worker)
	c2=$(cs exists-nofile-public)
	c3=$(cs exists-norow)
	printf 'exists' >"$f"
	upload "$c1" "$f"
	upload "$c2" "$f"
	rm "$WASM_CACHE_DIR/$c1.wasm" "$WASM_CACHE_DIR/$c2.wasm"
	req GET "/wasm/exists/$c1" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 200
	assert_equal "$body" '{"exists":false,"created_at":null}'
	assert_equal "$(rows_of "$c1")" 0
	req GET "/public/wasm/exists/$c2"
	assert_equal "$status" 200
	assert_equal "$body" '{"exists":false,"created_at":null}'
	assert_equal "$(rows_of "$c2")" 0

	cp "$f" "$WASM_CACHE_DIR/$c3.wasm"
	req GET "/public/wasm/exists/$c3"
	assert_equal "$body" '{"exists":false,"created_at":null}'
	req GET "/wasm/exists/$c3" -H "Authorization: Bearer $TOKEN"
	assert_equal "$body" '{"exists":false,"created_at":null}'
	# and such a file is never served (§3.2.5 "a file without row is never served")
	download "$c3"
	assert_equal "$status" 404
	assert_equal "$(err)" wasm_not_found
	rm "$WASM_CACHE_DIR/$c3.wasm"
}

# §3.4.3 GET /public/wasm/info: exact match on (repo_url, commit_hash, build_target),
# build_target default wasm32-wasip1; key order exists, checksum, file_size, created_at.
@test "public wasm info finds the row by repo, commit and build target" {
	local c1 c2 f=$BATS_TEST_TMPDIR/i
	c1=$(cs info-default-target)
	c2=$(cs info-other-target)
	printf 'info!' >"$f"
	upload_form -F "checksum=$c1" -F repo_url=https://github.com/info/repo -F commit_hash=deadbeef \
		-F "wasm_file=@$f"
	assert_equal "$status" 201
	printf 'other target' >"$f.2"
	upload_form -F "checksum=$c2" -F repo_url=https://github.com/info/repo -F commit_hash=deadbeef \
		-F build_target=wasm32-unknown-unknown -F "wasm_file=@$f.2"
	assert_equal "$status" 201
	local ts1
	ts1=$(col "$c1" "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")

	req GET '/public/wasm/info?repo_url=https%3A%2F%2Fgithub.com%2Finfo%2Frepo&commit_hash=deadbeef'
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$body" "{\"exists\":true,\"checksum\":\"$c1\",\"file_size\":5,\"created_at\":\"$ts1\"}"
	req GET '/public/wasm/info?repo_url=https://github.com/info/repo&commit_hash=deadbeef&build_target=wasm32-unknown-unknown'
	assert_equal "$status" 200
	assert_equal "$(jq -r '.checksum + " " + (.file_size | tostring)' <<<"$body")" "$c2 12"

	req GET '/public/wasm/info?repo_url=https://github.com/info/repo&commit_hash=DEADBEEF'
	assert_equal "$status" 200
	assert_equal "$body" '{"exists":false,"checksum":null,"file_size":null,"created_at":null}'
	req GET '/public/wasm/info?repo_url=https://github.com/info/repo&commit_hash=deadbeef&build_target=wasm32-wasi'
	assert_equal "$body" '{"exists":false,"checksum":null,"file_size":null,"created_at":null}'
	# an empty build_target counts as given (§0.2): no row has it
	req GET '/public/wasm/info?repo_url=https://github.com/info/repo&commit_hash=deadbeef&build_target='
	assert_equal "$body" '{"exists":false,"checksum":null,"file_size":null,"created_at":null}'
	# info does not count as an access
	assert_equal "$(col "$c1" access_count)" 0
}

# §3.4.3: answered from the newest matching row (created_at descending, then checksum)
# whose file exists; rows without file are deleted as in §3.2.5.
@test "public wasm info skips (and deletes) the newest row when its file is gone" {
	local old new t1 t2 f=$BATS_TEST_TMPDIR/i
	old=$(cs info-old)
	new=$(cs info-new)
	printf 'old' >"$f"
	upload_form -F "checksum=$old" -F repo_url=r-order -F commit_hash=c -F "wasm_file=@$f"
	printf 'newer' >"$f"
	upload_form -F "checksum=$new" -F repo_url=r-order -F commit_hash=c -F "wasm_file=@$f"
	coord_psql "UPDATE wasm_cache SET created_at = now() - interval '1 hour' WHERE checksum = '$old'"
	req GET '/public/wasm/info?repo_url=r-order&commit_hash=c'
	assert_equal "$(jq -r .checksum <<<"$body")" "$new"
	rm "$WASM_CACHE_DIR/$new.wasm"
	req GET '/public/wasm/info?repo_url=r-order&commit_hash=c'
	assert_equal "$status" 200
	assert_equal "$(jq -r '.exists|tostring' <<<"$body") $(jq -r .checksum <<<"$body") $(jq -r .file_size <<<"$body")" \
		"true $old 3"
	assert_equal "$(rows_of "$new")" 0
	rm "$WASM_CACHE_DIR/$old.wasm"
	req GET '/public/wasm/info?repo_url=r-order&commit_hash=c'
	assert_equal "$body" '{"exists":false,"checksum":null,"file_size":null,"created_at":null}'
	assert_equal "$(rows_of "$old")" 0

	# equal created_at: the lower checksum first ("then checksum", read as ascending)
	t1=$(cs info-tie-1)
	t2=$(cs info-tie-2)
	upload_form -F "checksum=$t1" -F repo_url=r-tie -F commit_hash=c -F "wasm_file=@$f"
	upload_form -F "checksum=$t2" -F repo_url=r-tie -F commit_hash=c -F "wasm_file=@$f"
	coord_psql "UPDATE wasm_cache SET created_at = '2024-01-01T00:00:00Z' WHERE repo_url = 'r-tie'"
	req GET '/public/wasm/info?repo_url=r-tie&commit_hash=c'
	assert_equal "$(jq -r .checksum <<<"$body")" "$(printf '%s\n' "$t1" "$t2" | LC_ALL=C sort | head -n 1)"
}

# §3.4.3: repo_url and commit_hash required (absent or empty → 400 invalid_parameter).
@test "public wasm info without repo_url or commit_hash answers 400 invalid_parameter" {
	local q
	for q in 'commit_hash=c' 'repo_url=r' 'repo_url=&commit_hash=c' 'repo_url=r&commit_hash=' \
		'repo_url=r&commit_hash' ''; do
		req GET "/public/wasm/info?$q"
		assert_equal "$status" 400
		assert_equal "$(err)" invalid_parameter
	done
}

# ---------------------------------------------------------------- errors

# §3.2.5: row absent → 404 wasm_not_found.
@test "download of an unknown checksum answers 404 wasm_not_found" {
	download "$(cs never-uploaded)"
	assert_equal "$status" 404
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(err)" wasm_not_found
}

# §1.6: worker routes need the token; §0.3: authentication comes before the body.
@test "the worker WASM routes answer 401 without a token, and write nothing" {
	local c f=$BATS_TEST_TMPDIR/t before
	c=$(cs no-token)
	printf 'x' >"$f"
	before=$(tree_snapshot)
	req POST /wasm/upload -F "checksum=$c" -F repo_url=r -F commit_hash=c -F "wasm_file=@$f"
	assert_equal "$status" 401
	assert_equal "$(err)" unauthorized
	req GET "/wasm/$c"
	assert_equal "$status" 401
	assert_equal "$(tree_snapshot)" "$before"
	assert_equal "$(rows_of "$c")" 0
}

# §0.2: literal segment beats parameter; Allow lists the matched route's methods; HEAD
# is a 405 outside public.fcgi.
@test "method errors: GET /wasm/upload, POST /wasm/:checksum, HEAD /wasm/:checksum" {
	req GET /wasm/upload -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 405
	assert_equal "$(header Allow)" POST
	assert_equal "$(err)" method_not_allowed
	req POST "/wasm/$(cs m)" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 405
	assert_equal "$(header Allow)" GET
	req HEAD "/wasm/$(cs m)" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 405
	req POST "/wasm/exists/$(cs m)" -H "Authorization: Bearer $TOKEN"
	assert_equal "$status" 405
	assert_equal "$(header Allow)" GET
}

# §3.2.5: every :checksum path parameter must match ^[0-9a-f]{64}$, else 400
# invalid_checksum, checked before any file-system access; lighttpd hands /wasm/... to
# worker.fcgi by the raw path (§0.1), whatever its %2F and dot segments decode to.
@test "bad checksums in the path answer 400 invalid_checksum on every route" {
	local good bad before
	good=$(cs path-check)
	before=$(tree_snapshot)
	for bad in "${good^^}" "${good:0:63}" "${good}0" "${good:0:63}g" "${good:0:63}%2E" \
		"${good:0:62}%20a" "%41${good:1}" exists; do
		req GET "/wasm/$bad" -H "Authorization: Bearer $TOKEN"
		assert_equal "$status $(err) /wasm/$bad" "400 invalid_checksum /wasm/$bad"
		req GET "/wasm/exists/$bad" -H "Authorization: Bearer $TOKEN"
		assert_equal "$status $(err)" "400 invalid_checksum"
		req GET "/public/wasm/exists/$bad"
		assert_equal "$status $(err)" "400 invalid_checksum"
	done
	for bad in "..%2F..%2Fetc%2Fpasswd" "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd" "..%2f..%2fhealth"; do
		req GET "/wasm/$bad" -H "Authorization: Bearer $TOKEN"
		assert_equal "$status $(err) /wasm/$bad" "400 invalid_checksum /wasm/$bad"
		req GET "/wasm/exists/$bad" -H "Authorization: Bearer $TOKEN"
		assert_equal "$status $(err)" "400 invalid_checksum"
		req GET "/public/wasm/exists/$bad"
		assert_equal "$status $(err)" "400 invalid_checksum"
	done
	assert_equal "$(tree_snapshot)" "$before"
}

# The same against worker.fcgi directly, as a server that does not route on the raw path
# (TRAPS.md) would hand it over: the program itself must not decode its way out of /wasm/.
@test "plain CGI: GET /wasm/..%2F..%2Fetc%2Fpasswd answers 400 invalid_checksum" {
	local p
	for p in "/wasm/..%2F..%2Fetc%2Fpasswd" "/wasm/exists/..%2F..%2Fetc%2Fpasswd" \
		"/wasm/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd"; do
		cgi REQUEST_METHOD=GET REQUEST_URI="$p" HTTP_AUTHORIZATION="Bearer $TOKEN" worker.fcgi
		assert_line --index 0 "Status: 400 Bad Request"
		assert_output --partial '"error":"invalid_checksum"'
	done
	cgi REQUEST_METHOD=GET REQUEST_URI="/public/wasm/exists/..%2F..%2Fetc%2Fpasswd" public.fcgi
	assert_line --index 0 "Status: 400 Bad Request"
	assert_output --partial '"error":"invalid_checksum"'
}

# §3.2.5: every upload field checksum must match ^[0-9a-f]{64}$, else 400
# invalid_checksum, checked before any file-system access: no temp file, no file, no row
# (a path such as ../../etc/passwd would land in $WASM_TEST_ROOT/etc if it were used).
@test "bad checksum fields in an upload answer 400 invalid_checksum and touch nothing" {
	local good bad before f=$BATS_TEST_TMPDIR/w
	good=$(cs upload-field-check)
	printf 'payload' >"$f"
	before=$(tree_snapshot)
	for bad in ../../etc/passwd ../../etc/passwd.wasm "${good^^}" "${good:0:63}" "${good}0" \
		"${good:0:63}G" "../${good:3}" "/tmp/${good:5}"; do
		# the file part first, so that an implementation streaming it to disk is caught
		upload_form -F "wasm_file=@$f" -F "checksum=$bad" -F repo_url=r -F commit_hash=c
		assert_equal "$status $(err)" "400 invalid_checksum"
	done
	assert_equal "$(tree_snapshot)" "$before"
	assert_equal "$(coord_psql "SELECT count(*) FROM wasm_cache WHERE repo_url = 'r'")" 0
	[[ ! -e $WASM_TEST_ROOT/etc/passwd.wasm ]]
}

# Same, seen from inside: strace of worker.fcgi run as plain CGI with a bad checksum after
# the file part shows no file-system call on a path inside the cache (no temp file) and
# none naming etc/passwd.wasm.  Baseline: the same run without a token (401 before any
# route work) shows what start-up itself touches.
@test "plain CGI under strace: a bad upload checksum causes no file-system access" {
	command -v strace >/dev/null || skip "strace is not installed"
	local f=$BATS_TEST_TMPDIR/w b=$BATS_TEST_TMPDIR/body bd=strace-bd good
	good=$(cs strace)
	printf 'payload' >"$f"
	mp_body "$b" "$bd" "wasm_file@$f" "checksum=../../etc/passwd" "repo_url=r" "commit_hash=c"
	local -a vars=(REQUEST_METHOD=POST REQUEST_URI=/wasm/upload
		"CONTENT_TYPE=multipart/form-data; boundary=$bd" "CONTENT_LENGTH=$(stat -c %s "$b")")
	env "${vars[@]}" strace -f -qq -e trace=%file,%desc -o "$BATS_TEST_TMPDIR/base.trace" \
		"$COORD_BUILD_DIR/fcgi/worker.fcgi" <"$b" >"$BATS_TEST_TMPDIR/base.out" 2>/dev/null 3>&-
	run head -n 1 "$BATS_TEST_TMPDIR/base.out"
	assert_output $'Status: 401 Unauthorized\r'
	env "${vars[@]}" HTTP_AUTHORIZATION="Bearer $TOKEN" strace -f -qq -e trace=%file,%desc \
		-o "$BATS_TEST_TMPDIR/bad.trace" "$COORD_BUILD_DIR/fcgi/worker.fcgi" <"$b" \
		>"$BATS_TEST_TMPDIR/bad.out" 2>/dev/null 3>&-
	run head -n 1 "$BATS_TEST_TMPDIR/bad.out"
	assert_output $'Status: 400 Bad Request\r'
	run grep -c invalid_checksum "$BATS_TEST_TMPDIR/bad.out"
	assert_output 1
	# paths inside the cache (or named like the bad checksum) that each run touched
	local pat="\"($WASM_CACHE_DIR/[^\"]*|[^\"]*passwd\\.wasm|[^\"]*\\.tmp-[^\"]*)\""
	local base bad
	base=$(grep -oE "$pat" "$BATS_TEST_TMPDIR/base.trace" | sort -u)
	bad=$(grep -oE "$pat" "$BATS_TEST_TMPDIR/bad.trace" | sort -u)
	assert_equal "$bad" "$base"
}

# §3.2.5 upload steps ("write the bytes to a new temporary file in WASM_CACHE_DIR
# (.tmp-<random>, O_EXCL, mode 0640), fsync, compute content_hash, rename onto
# <checksum>.wasm (atomic replace), fsync the directory"), seen in the system calls of
# worker.fcgi run as plain CGI (strace -y shows the path behind each descriptor).  The
# final file is never opened for writing.
@test "plain CGI under strace: upload = O_EXCL 0640 temp file, fsync, rename, directory fsync" {
	command -v strace >/dev/null || skip "strace is not installed"
	local c f=$BATS_TEST_TMPDIR/w b=$BATS_TEST_TMPDIR/body bd=strace-up t=$BATS_TEST_TMPDIR/up.trace
	c=$(cs strace-upload)
	gen_random "$f" 100000 3f3e3d3c3b3a39383736353433323130
	mp_body "$b" "$bd" "checksum=$c" "repo_url=r-strace" "commit_hash=c" "wasm_file@$f"
	env REQUEST_METHOD=POST REQUEST_URI=/wasm/upload "CONTENT_TYPE=multipart/form-data; boundary=$bd" \
		"CONTENT_LENGTH=$(stat -c %s "$b")" HTTP_AUTHORIZATION="Bearer $TOKEN" \
		strace -f -qq -y -e trace=open,openat,creat,fsync,fdatasync,rename,renameat,renameat2 \
		-o "$t" "$COORD_BUILD_DIR/fcgi/worker.fcgi" <"$b" >"$BATS_TEST_TMPDIR/up.out" 2>/dev/null 3>&-
	run head -n 1 "$BATS_TEST_TMPDIR/up.out"
	assert_output $'Status: 201 Created\r'
	cmp "$WASM_CACHE_DIR/$c.wasm" "$f"
	assert_equal "$(col "$c" content_hash)" "$(sha "$f")"
	run awk -v dir="$WASM_CACHE_DIR" -v final="$c.wasm" '
		function has(s) { return index($0, s) > 0 }
		step == 0 && /open/ && has(".tmp-") && has("O_CREAT") && has("O_EXCL") && / 0640\)/ { step = 1; next }
		step == 1 && /f(data)?sync\([0-9]+</ && has(".tmp-") { step = 2; next }
		step == 2 && /rename/ && has(".tmp-") && has(final) { step = 3; next }
		step == 3 && /f(data)?sync\([0-9]+</ && has("<" dir ">") { step = 4; next }
		/open/ && has(final "\"") && /O_(WRONLY|RDWR|CREAT|TRUNC)/ { print "final file opened for writing: " $0 }
		END { print "steps " step }' "$t"
	assert_output "steps 4"
}

# §3.2.5: multipart/form-data with a boundary, anything else → 400 invalid_upload.
@test "an upload that is not multipart answers 400 invalid_upload" {
	local before
	before=$(tree_snapshot)
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data '{"checksum":"x"}'
	assert_equal "$status $(err)" "400 invalid_upload"
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN" \
		--data "checksum=$(cs form)&repo_url=r&commit_hash=c&wasm_file=abc"
	assert_equal "$status $(err)" "400 invalid_upload"
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN" -H 'Content-Type: multipart/form-data' \
		--data-binary $'--b\r\nContent-Disposition: form-data; name="checksum"\r\n\r\nx\r\n--b--\r\n'
	assert_equal "$status $(err)" "400 invalid_upload"
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN"
	assert_equal "$status $(err)" "400 invalid_upload"
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: multipart/form-data; boundary=zz' --data-binary 'no parts at all'
	assert_equal "$status $(err)" "400 invalid_upload"
	# a body cut before the closing delimiter is malformed
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: multipart/form-data; boundary=zz' \
		--data-binary $'--zz\r\nContent-Disposition: form-data; name="wasm_file"; filename="a"\r\n\r\nabc'
	assert_equal "$status $(err)" "400 invalid_upload"
	assert_equal "$(tree_snapshot)" "$before"
}

# §3.2.5: checksum, repo_url, commit_hash required and non-empty; wasm_file required and
# non-empty; a repeated part → 400 invalid_upload.  Nothing is written.
@test "missing, empty or repeated parts answer 400 invalid_upload and write nothing" {
	local c f=$BATS_TEST_TMPDIR/p empty=$BATS_TEST_TMPDIR/empty before
	c=$(cs parts)
	printf 'bytes' >"$f"
	: >"$empty"
	before=$(tree_snapshot)
	local -a base=(-F "checksum=$c" -F repo_url=r-parts -F commit_hash=c -F "wasm_file=@$f")
	local skip i
	for skip in 0 2 4 6; do
		local -a args=()
		for ((i = 0; i < ${#base[@]}; i += 2)); do
			((i == skip)) || args+=("${base[i]}" "${base[i + 1]}")
		done
		upload_form "${args[@]}"
		assert_equal "$status $(err) (without ${base[skip + 1]%%=*})" \
			"400 invalid_upload (without ${base[skip + 1]%%=*})"
	done
	upload_form -F "checksum=$c" -F repo_url= -F commit_hash=c -F "wasm_file=@$f"
	assert_equal "$status $(err)" "400 invalid_upload"
	upload_form -F "checksum=$c" -F repo_url=r-parts -F commit_hash= -F "wasm_file=@$f"
	assert_equal "$status $(err)" "400 invalid_upload"
	upload_form -F "checksum=$c" -F repo_url=r-parts -F commit_hash=c -F "wasm_file=@$empty"
	assert_equal "$status $(err)" "400 invalid_upload"
	# repeated parts
	upload_form "${base[@]}" -F "checksum=$c"
	assert_equal "$status $(err)" "400 invalid_upload"
	upload_form "${base[@]}" -F "wasm_file=@$f"
	assert_equal "$status $(err)" "400 invalid_upload"
	upload_form "${base[@]}" -F repo_url=r-parts
	assert_equal "$status $(err)" "400 invalid_upload"
	upload_form "${base[@]}" -F build_target=a -F build_target=a
	assert_equal "$status $(err)" "400 invalid_upload"
	# an empty checksum is a bad checksum or a missing part: 400 either way
	upload_form -F checksum= -F repo_url=r-parts -F commit_hash=c -F "wasm_file=@$f"
	assert_equal "$status" 400
	assert_equal "$(tree_snapshot)" "$before"
	assert_equal "$(coord_psql "SELECT count(*) FROM wasm_cache WHERE repo_url = 'r-parts'")" 0

	# unknown parts are ignored
	upload_form "${base[@]}" -F extra=1 -F "other=@$f"
	assert_equal "$status" 201
}

# §3.2.5 field bounds: repo_url ≤ 512, commit_hash ≤ 256, build_target ≤ 64 bytes.
@test "field length limits: at the limit accepted, one byte over 400" {
	local c f=$BATS_TEST_TMPDIR/l r512 h256 t64
	c=$(cs lengths)
	printf 'len' >"$f"
	r512=$(printf 'r%.0s' {1..512})
	h256=$(printf 'h%.0s' {1..256})
	t64=$(printf 't%.0s' {1..64})
	upload_form -F "checksum=$c" -F "repo_url=${r512}x" -F commit_hash=c -F "wasm_file=@$f"
	assert_equal "$status $(err)" "400 invalid_upload"
	upload_form -F "checksum=$c" -F repo_url=r -F "commit_hash=${h256}x" -F "wasm_file=@$f"
	assert_equal "$status $(err)" "400 invalid_upload"
	upload_form -F "checksum=$c" -F repo_url=r -F commit_hash=c -F "build_target=${t64}x" -F "wasm_file=@$f"
	assert_equal "$status $(err)" "400 invalid_upload"
	assert_equal "$(rows_of "$c")" 0
	[[ ! -e $WASM_CACHE_DIR/$c.wasm ]]
	upload_form -F "checksum=$c" -F "repo_url=$r512" -F "commit_hash=$h256" -F "build_target=$t64" \
		-F "wasm_file=@$f"
	assert_equal "$status" 201
	assert_equal "$(col "$c" "length(repo_url) || ' ' || length(commit_hash) || ' ' || build_target")" \
		"512 256 $t64"
}

# §1.3: 10 MiB cap on worker routes, checked on CONTENT_LENGTH before reading, 413
# payload_too_large from the application (JSON, X-Request-ID), nothing written.
@test "an upload above the 10 MiB body cap answers 413 from the application" {
	local c f=$BATS_TEST_TMPDIR/huge before
	c=$(cs too-big)
	head -c 10485760 /dev/zero >"$f"
	before=$(tree_snapshot)
	upload "$c" "$f"
	assert_equal "$status" 413
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(err)" payload_too_large
	header X-Request-ID
	assert_equal "$(tree_snapshot)" "$before"
	assert_equal "$(rows_of "$c")" 0

	cgi REQUEST_METHOD=POST REQUEST_URI=/wasm/upload CONTENT_LENGTH=10485761 \
		"CONTENT_TYPE=multipart/form-data; boundary=x" HTTP_AUTHORIZATION="Bearer $TOKEN" \
		worker.fcgi </dev/null
	assert_line --index 0 "Status: 413 Payload Too Large"
	# §1.3: fewer bytes than announced → 400 invalid_request
	cgi REQUEST_METHOD=POST REQUEST_URI=/wasm/upload CONTENT_LENGTH=1000 \
		"CONTENT_TYPE=multipart/form-data; boundary=x" HTTP_AUTHORIZATION="Bearer $TOKEN" \
		worker.fcgi <<<"--x"
	assert_line --index 0 "Status: 400 Bad Request"
	assert_output --partial '"error":"invalid_request"'
	assert_equal "$(tree_snapshot)" "$before"
}

# ---------------------------------------------------------------- integrity

# §3.2.5: stat differs from verified_* → hash again; mismatch (confirmed under the cache
# lock) → delete file and row, 404 wasm_not_found.
modified_case() {
	local mode=$1 c f=$BATS_TEST_TMPDIR/m
	gen_random "$f" 70000 2f2e2d2c2b2a29282726252423222120
	use_mode "$mode"
	{
		c=$(cs "modified-$mode")
		upload "$c" "$f"
		assert_equal "$status" 201
		check_download "$c" "$f"
		# same size, one byte changed in place (mtime changes)
		flip_byte "$WASM_CACHE_DIR/$c.wasm" 1234
		download "$c"
		assert_equal "$status $(err) ($mode)" "404 wasm_not_found ($mode)"
		[[ ! -e $WASM_CACHE_DIR/$c.wasm ]] || fail "corrupt file kept ($mode)"
		assert_equal "$(rows_of "$c")" 0
		download "$c"
		assert_equal "$status" 404

		# a file replaced by another of a different size
		c=$(cs "resized-$mode")
		upload "$c" "$f"
		printf 'short' >"$WASM_CACHE_DIR/$c.wasm"
		download "$c"
		assert_equal "$status $(err) ($mode)" "404 wasm_not_found ($mode)"
		assert_equal "$(rows_of "$c")" 0
		[[ ! -e $WASM_CACHE_DIR/$c.wasm ]]
	}
}

@test "a file modified behind the coordinator's back answers 404 and loses file and row" {
	modified_case x-sendfile
}

# §3.2.5: file absent → delete the row, 404.
deleted_case() {
	local mode=$1 c f=$BATS_TEST_TMPDIR/d
	printf 'to be deleted' >"$f"
	use_mode "$mode"
	{
		c=$(cs "deleted-$mode")
		upload "$c" "$f"
		assert_equal "$status" 201
		rm "$WASM_CACHE_DIR/$c.wasm"
		download "$c"
		assert_equal "$status $(err) ($mode)" "404 wasm_not_found ($mode)"
		assert_equal "$(rows_of "$c")" 0
	}
}

@test "a file deleted behind the coordinator's back answers 404 and loses its row" {
	deleted_case x-sendfile
}

# §3.2.5: a changed stat with the same content → served, and the new stat recorded as
# verified (mtime by touch; inode by replacing the file with a copy).
@test "a touched or copied file with the same bytes is served and its new stat recorded" {
	local c f=$BATS_TEST_TMPDIR/t p
	c=$(cs touched)
	printf 'stable content' >"$f"
	upload "$c" "$f"
	p=$WASM_CACHE_DIR/$c.wasm
	touch -d @981173106.123456789 "$p"
	check_download "$c" "$f"
	assert_equal "$(col "$c" verified_mtime_ns)" 981173106123456789
	cp -p "$p" "$p.new"
	mv "$p.new" "$p"
	check_download "$c" "$f"
	assert_equal "$(col "$c" "verified_inode || ' ' || verified_size")" "$(stat -c %i "$p") 14"
	wasm_flushed "$c=2"
}

# ---------------------------------------------------------------- streamed mode (COORD_SENDFILE=off)
# From here on lighttpd runs the programs with COORD_SENDFILE=off: worker.fcgi streams the
# bytes itself (§2.2, §3.2.5); every download must still be byte-identical, with
# Content-Length.

@test "streamed mode: 1-byte, 5 MiB NUL/CRLF and boundary-like files download byte-identical" {
	use_mode off
	local c f=$BATS_TEST_TMPDIR/s n=0 gen
	for gen in "printf A" gen_nul_crlf gen_dashes "gen_near_boundary_x" "printf \\r"; do
		n=$((n + 1))
		c=$(cs "streamed-$n")
		case $gen in
		printf*) $gen >"$f" ;;
		gen_near_boundary_x) gen_near_boundary "$f" XyZzY-b0undary ;;
		*) $gen "$f" ;;
		esac
		upload "$c" "$f"
		assert_equal "$status" 201
		check_download "$c" "$f"
		wasm_flushed "$c=1"
	done
	# files uploaded while lighttpd ran with X-Sendfile are streamed as well
	c=$(cs nul-crlf)
	if [[ $(rows_of "$c") == 1 ]]; then
		gen_nul_crlf "$f"
		check_download "$c" "$f"
	fi
}

@test "streamed mode: re-upload racing downloads: each download is the old or the new file" {
	use_mode off
	reupload_race "$(cs race-streamed)"
}

@test "streamed mode: a file modified behind the coordinator's back answers 404, row gone" {
	modified_case off
}

@test "streamed mode: a file deleted behind the coordinator's back answers 404, row gone" {
	deleted_case off
}
