#!/usr/bin/env bats
# make install (issue 12 part 6): `make install DESTDIR=...` puts the programs, the FastCGI
# programs, the migrations, the configurations, the cron file, the man pages and the OpenAPI
# document where the build's directories say; the installed programs run from there
# (coord-migrate finds the installed migrations by itself; a FastCGI program serves
# requests); `make uninstall` removes every file again.

load ../helpers/coord

# make -C build print-VAR: the value of an installation directory in the build's Makefile.
build_var() {
	make -s --no-print-directory -C "$COORD_BUILD_DIR" -f Makefile -f - "print-$1" <<'MK'
print-%:
	@echo '$($*)'
MK
}

setup_file() {
	coord_start_stack || return 1
	export DEST=$COORD_STACK_TMP/dest
	local v
	for v in prefix bindir libexecdir datadir pkgdatadir docdir sysconfdir mandir; do
		export "I_$v=$(build_var "$v")"
	done
	make -s --no-print-directory -C "$COORD_BUILD_DIR" install DESTDIR="$DEST" >"$COORD_STACK_TMP/install.log" 2>&1 || {
		cat "$COORD_STACK_TMP/install.log" >&2
		return 1
	}
}

@test "the tree: programs, FastCGI programs, migrations, configurations, cron file, man pages, openapi" {
	local f p
	# shown with the test (TAP comments) for the record
	(cd "$DEST" && find . -type f | sort)
	# every bin_PROGRAMS of Makefile.am
	for p in $(sed -n '/^bin_PROGRAMS *=/,/[^\\]$/p' "$COORD_REPO/Makefile.am" | tr ' \t\\' '\n\n\n' |
		sed -n 's|^bin/||p'); do
		[[ -x $DEST$I_bindir/$p ]] || fail "$I_bindir/$p is not installed"
	done
	for p in worker api public admin secrets; do
		[[ -x $DEST$I_libexecdir/coordinator/$p.fcgi ]] || fail "$I_libexecdir/coordinator/$p.fcgi is not installed"
	done
	assert_equal "$(cd "$DEST$I_datadir/coordinator/sql" && ls)" "$(cd "$COORD_REPO/sql" && ls ./*.sql | sed 's|^\./||')"
	for f in "$COORD_REPO"/sql/*.sql; do
		cmp "$f" "$DEST$I_datadir/coordinator/sql/${f##*/}"
	done
	cmp "$COORD_REPO/lighttpd.conf" "$DEST$I_pkgdatadir/lighttpd.conf"
	cmp "$COORD_REPO/doc/examples/coordinator.conf" "$DEST$I_docdir/examples/coordinator.conf"
	cmp "$COORD_REPO/doc/openapi.yaml" "$DEST$I_docdir/openapi.yaml"
	for f in "$COORD_REPO"/doc/man/*.8; do
		cmp "$f" "$DEST$I_mandir/man8/${f##*/}"
	done
	# the cron file, @bindir@ substituted
	f=$DEST$I_sysconfdir/cron.d/coordinator
	[[ -f $f ]] || fail "$I_sysconfdir/cron.d/coordinator is not installed"
	run grep -c '@bindir@' "$f"
	assert_output 0
	run grep -F "[ -x $I_bindir/coord-reap ] && $I_bindir/coord-reap --quiet" "$f"
	assert_success
	# the hosting files of contrib/: Apache site files as shipped, systemd units with their
	# @…@ paths filled in
	for f in "$COORD_REPO"/contrib/apache/*; do
		cmp "$f" "$DEST$I_pkgdatadir/apache/${f##*/}"
	done
	for f in "$COORD_REPO"/contrib/systemd/*; do
		f=${f##*/}
		[[ -f $DEST$I_prefix/lib/systemd/system/${f%.in} ]] || fail "systemd unit ${f%.in} is not installed"
	done
	run grep -l '@[a-z]*@' "$DEST$I_prefix"/lib/systemd/system/*
	assert_output ''
	# nothing else: no stray file outside these directories
	run bash -c "cd '$DEST' && find . -type f | grep -Ev '^\\.($I_bindir|$I_libexecdir/coordinator|$I_datadir/coordinator|$I_docdir|$I_mandir/man8|$I_sysconfdir/cron\\.d|$I_prefix/lib/systemd/system)/'"
	assert_output ''
}

@test "the installed coord-migrate applies and lists the installed migrations" {
	local migrate=$DEST$I_bindir/coord-migrate n
	run "$migrate" --help
	assert_success
	assert_output --partial "(default $I_datadir/coordinator/sql, else ./sql)"
	n=$(ls "$COORD_REPO"/sql/*.sql | wc -l)
	run "$migrate" --status --dir "$DEST$I_datadir/coordinator/sql"
	assert_success
	assert_equal "$(grep -c ' applied$' <<<"$output")" "$n"
	run "$migrate" --version
	assert_output --regexp '^coord-migrate \(coordinator\) [0-9]'
}

@test "installed where it was built for, coord-migrate finds the migrations without --dir" {
	# A private mount namespace shows the DESTDIR tree at the real prefix, as a package
	# install would.
	unshare -m true 2>/dev/null || skip "unshare -m is not permitted here (needs root): the --dir run above covers the files"
	run unshare -m bash -c 'mount --bind "$1$2" "$2" && cd / && "$2/bin/coord-migrate" --status' _ "$DEST" "$I_prefix"
	assert_success
	assert_equal "$(grep -c ' applied$' <<<"$output")" "$(ls "$COORD_REPO"/sql/*.sql | wc -l)"
	# and a fresh database gets them all from there
	psql -XqAt "host=$COORD_STACK_TMP/pg port=$COORD_PG_PORT user=postgres dbname=postgres" \
		-c 'CREATE DATABASE installed' >/dev/null
	run unshare -m bash -c 'mount --bind "$1$2" "$2" && cd / && "$2/bin/coord-migrate" -d "$3"' _ "$DEST" "$I_prefix" \
		"host=$COORD_STACK_TMP/pg port=$COORD_PG_PORT user=postgres dbname=installed"
	assert_success
	assert_line 'applied 001_workers.sql'
}

@test "the installed FastCGI programs serve requests, with the example configuration" {
	local fcgi=$DEST$I_libexecdir/coordinator token
	run env REQUEST_METHOD=GET REQUEST_URI=/health "$fcgi/public.fcgi" </dev/null
	assert_success
	assert_line --index 0 $'Status: 200 OK\r'
	# a database-backed route, configured by the installed example file (the environment
	# still wins for what the test stack needs)
	token=$(coord_worker_token installed)
	run env COORD_CONFIG="$DEST$I_docdir/examples/coordinator.conf" REQUEST_METHOD=GET \
		REQUEST_URI=/workers/block-cursor HTTP_AUTHORIZATION="Bearer $token" "$fcgi/worker.fcgi" </dev/null
	assert_success
	assert_line --index 0 $'Status: 200 OK\r'
	assert_output --partial '{"block_height":null}'
	run "$fcgi/admin.fcgi" --version </dev/null
	assert_success
	assert_output --regexp '^admin\.fcgi \(coordinator\) [0-9]'
	run "$fcgi/secrets.fcgi" --routes
	assert_success
	assert_line 'POST /secrets/pubkey'
}

# fcgi_get SOCKET URI: one FastCGI GET request on a Unix socket; prints the CGI response.
fcgi_get() {
	python3 - "$1" "$2" <<'PY'
import socket, struct, sys
def rec(t, body, rid=1):
    return struct.pack('>BBHHBx', 1, t, rid, len(body), 0) + body
def nv(k, v):
    k, v = k.encode(), v.encode()
    return bytes([len(k)]) + bytes([len(v)]) + k + v
params = b''.join(nv(k, v) for k, v in [('REQUEST_METHOD', 'GET'), ('REQUEST_URI', sys.argv[2]),
    ('SCRIPT_NAME', sys.argv[2]), ('SERVER_PROTOCOL', 'HTTP/1.1'), ('REMOTE_ADDR', '127.0.0.1'), ('CONTENT_LENGTH', '0')])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(rec(1, struct.pack('>HB5x', 1, 0)) + rec(4, params) + rec(4, b'') + rec(5, b''))
buf, out = b'', b''
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    while len(buf) >= 8:
        _, t, _, n, pad = struct.unpack('>BBHHB', buf[:7])
        if len(buf) < 8 + n + pad:
            break
        if t == 6:
            out += buf[8:8 + n]
        buf = buf[8 + n + pad:]
        if t == 3:
            sys.stdout.write(out.decode().replace('\r', ''))
            sys.exit(0)
sys.exit(1)
PY
}

@test "an installed FastCGI program serves as a daemon of its own (--listen) and stops on SIGTERM" {
	local sock=$COORD_STACK_TMP/public.sock pid i
	WASM_CACHE_DIR=$COORD_STACK_TMP/wasm "$DEST$I_libexecdir/coordinator/public.fcgi" --listen "$sock" \
		</dev/null 2>>"$COORD_STACK_TMP/daemon.log" 3>&- &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -S $sock ]] && break
		sleep 0.1
	done
	run fcgi_get "$sock" /health
	assert_success
	assert_line --index 0 'Status: 200 OK'
	assert_line OK
	run fcgi_get "$sock" /public/wasm/exists/0000000000000000000000000000000000000000000000000000000000000000
	assert_success
	assert_output --partial '{"exists":false,"created_at":null}'
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "public.fcgi still runs 10 s after SIGTERM"; }
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
}

@test "make uninstall removes every installed file" {
	local d=$COORD_STACK_TMP/dest2
	make -s --no-print-directory -C "$COORD_BUILD_DIR" install DESTDIR="$d" >/dev/null 2>&1
	make -s --no-print-directory -C "$COORD_BUILD_DIR" uninstall DESTDIR="$d" >/dev/null 2>&1
	run find "$d" -type f
	assert_output ''
}
