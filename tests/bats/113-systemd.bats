#!/usr/bin/env bats
# contrib/systemd: systemd-analyze verify on every unit, and each unit's command line run
# once outside systemd: the five FastCGI daemons on a socket-activated fd 3
# (systemd-socket-activate), lighttpd as coordinator-lighttpd.service starts it, and the
# maintenance programs as their timers start them.

load ../helpers/coord

PROGRAMS=(worker api public admin secrets)

setup_file() {
	coord_start_stack || return 1
	UNITS=$COORD_STACK_TMP/units
	mkdir -p "$UNITS"
	local f
	# what make install does to them (Makefile.am), with the build tree's paths
	for f in "$COORD_REPO"/contrib/systemd/*.in; do
		sed -e "s|@fcgidir@|$COORD_BUILD_DIR/fcgi|g" -e "s|@bindir@|$COORD_BUILD_DIR/bin|g" \
			-e "s|@pkgdatadir@|$COORD_REPO|g" "$f" >"$UNITS/$(basename "${f%.in}")"
	done
	cp "$COORD_REPO"/contrib/systemd/*.timer "$UNITS/"
	export UNITS
}

# Daemons a test started: stopped even when the test failed half-way.
started() { printf '%s\n' "$1" >>"$COORD_STACK_TMP/started-pids"; }
teardown() {
	local pid
	if [[ -f $COORD_STACK_TMP/started-pids ]]; then
		while read -r pid; do
			coord__alive "$pid" && coord__terminate "$pid" group 10
		done <"$COORD_STACK_TMP/started-pids"
		rm -f "$COORD_STACK_TMP/started-pids"
	fi
	coord_test_teardown
}

# unit_line UNIT KEY INSTANCE: the value of KEY= in UNIT, %i replaced by INSTANCE.
unit_line() {
	local v
	v=$(grep -m1 "^$2=" "$UNITS/$1") || return 1
	v=${v#*=}
	printf '%s\n' "${v//%i/$3}"
}

# The maintenance programs that have a timer.
timer_programs() {
	local t
	for t in "$UNITS"/coordinator-maint@*.timer; do
		t=${t##*/coordinator-maint@}
		printf '%s\n' "${t%.timer}"
	done
}

@test "systemd-analyze verify accepts every unit" {
	if ! command -v systemd-analyze >/dev/null; then
		skip "systemd-analyze is not installed (Debian package systemd)"
	fi
	local -a units=() missing=()
	local p out rc
	for p in "${PROGRAMS[@]}"; do
		units+=("coordinator@$p.socket" "coordinator@$p.service")
	done
	units+=(coordinator-lighttpd.service)
	for p in $(timer_programs); do
		units+=("coordinator-maint@$p.timer")
		# verify checks that ExecStart exists: a program not built yet cannot be verified
		if [[ -x $COORD_BUILD_DIR/bin/$p ]]; then
			units+=("coordinator-maint@$p.service")
		else
			missing+=("$p")
		fi
	done
	((${#missing[@]} == 0)) || echo "# not built, service not verified: ${missing[*]}" >&3
	[[ -x /usr/sbin/lighttpd ]]
	for p in "${units[@]}"; do
		rc=0
		out=$(cd "$UNITS" && systemd-analyze verify --man=no "./$p" 2>&1) || rc=$?
		# a unit that cannot run or a warning (unknown key, bad value) fails the test
		if ((rc != 0)) || [[ -n $out ]]; then
			fail "systemd-analyze verify $p (status $rc): $out"
		fi
	done
}

# req_fcgi SOCKET PATH: one GET through a FastCGI client; sets status and body.
req_fcgi() {
	local out
	out=$(env -i REQUEST_METHOD=GET REQUEST_URI="$2" QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 \
		REMOTE_ADDR=127.0.0.1 GATEWAY_INTERFACE=CGI/1.1 \
		cgi-fcgi -bind -connect "$1" </dev/null) || return 1
	status=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' <<<"$out" | head -1)
	body=${out##*$'\r\n\r\n'}
}

@test "coordinator@<program>.service: the ExecStart command serves on a socket-activated fd 3" {
	command -v cgi-fcgi >/dev/null || skip "cgi-fcgi is not installed (Debian package libfcgi-bin)"
	command -v systemd-socket-activate >/dev/null ||
		skip "systemd-socket-activate is not installed (Debian package systemd)"
	local p cmd pid sock i
	for p in "${PROGRAMS[@]}"; do
		cmd=$(unit_line coordinator@.service ExecStart "$p")
		sock=$COORD_STACK_TMP/sa-$p.sock
		# the socket unit's ListenStream, here under the test's directory
		[[ $(unit_line coordinator@.socket ListenStream "$p") == "/run/coordinator/$p.sock" ]]
		# shellcheck disable=SC2086 # ExecStart is a command line
		systemd-socket-activate -l "$sock" $cmd </dev/null \
			>>"$COORD_STATE_DIR/fcgi-stderr.log" 2>&1 3>&- &
		pid=$!
		started "$pid"
		for ((i = 0; i < 50; i++)); do
			[[ -S $sock ]] && break
			sleep 0.1
		done
		req_fcgi "$sock" /no-such-route
		assert_equal "$status" 404
		assert_equal "$(jq -r .error <<<"$body")" not_found
		if [[ $p == public ]]; then
			req_fcgi "$sock" /health
			assert_equal "$status" 200
		fi
		# systemd-socket-activate exec'd the program with the socket on fd 3, as systemd does
		assert_equal "$(readlink "/proc/$pid/exe")" "$COORD_BUILD_DIR/fcgi/$p.fcgi"
		kill -TERM "$pid"
		coord__wait_while 15 coord__alive "$pid" || fail "$p.fcgi did not stop on SIGTERM"
		wait "$pid" || fail "$p.fcgi exited with status $?"
	done
}

@test "a FastCGI program adopts fd 3 only when LISTEN_PID names it" {
	# LISTEN_PID of another process: not for us, so plain CGI (one request) as before
	run env LISTEN_PID=1 LISTEN_FDS=1 REQUEST_METHOD=GET REQUEST_URI=/health \
		"$COORD_BUILD_DIR/fcgi/public.fcgi" </dev/null
	assert_success
	assert_line --index 0 $'Status: 200 OK\r'
	# --routes prints the route table (the OpenAPI drift test reads it)
	run "$COORD_BUILD_DIR/fcgi/admin.fcgi" --routes
	assert_success
	assert_line "POST /admin/grant-payment-key"
	run "$COORD_BUILD_DIR/fcgi/admin.fcgi" --no-such-option
	assert_equal "$status" 64
}

@test "coordinator-lighttpd.service: ExecStartPre checks and ExecStart serves" {
	local pre cmd port pid state code i
	pre=$(unit_line coordinator-lighttpd.service ExecStartPre x)
	cmd=$(unit_line coordinator-lighttpd.service ExecStart x)
	port=$(coord__free_port)
	state=$COORD_STACK_TMP/unit-lighttpd
	mkdir -p "$state"
	# shellcheck disable=SC2086
	PORT=$port HOST=127.0.0.1 COORD_STATE_DIR=$state run $pre
	assert_success
	# shellcheck disable=SC2086
	PORT=$port HOST=127.0.0.1 COORD_STATE_DIR=$state setsid $cmd </dev/null >"$state/out" 2>&1 3>&- &
	pid=$!
	started "$pid"
	for ((i = 0; i < 100; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/health") || true
		[[ $code == 200 ]] && break
		sleep 0.1
	done
	coord__terminate "$pid" group 20
	assert_equal "$code" 200
}

@test "coordinator-maint@<program>.service: each timer's program runs, quietly, and exits 0" {
	local p cmd
	# the timers are the cron file's schedule (SPEC §6.3)
	assert_equal "$(unit_line coordinator-maint@coord-reap.timer OnCalendar x)" '*-*-* *:*:00'
	assert_equal "$(unit_line coordinator-maint@coord-audit.timer OnCalendar x)" '*-*-* *:23:00'
	for p in $(timer_programs); do
		[[ -x $COORD_BUILD_DIR/bin/$p ]] || {
			echo "# $p is not built: not run" >&3
			continue
		}
		cmd=$(unit_line 'coordinator-maint@.service' ExecStart "$p")
		# shellcheck disable=SC2086
		run $cmd
		assert_success
		assert_output ''
	done
}

@test "--listen host:port and --listen <path>: a daemon of its own; SIGTERM exits 0 and removes its socket" {
	command -v cgi-fcgi >/dev/null || skip "cgi-fcgi is not installed (Debian package libfcgi-bin)"
	local port pid sock=$COORD_STACK_TMP/own.sock i
	port=$(coord__free_port)
	"$COORD_BUILD_DIR/fcgi/secrets.fcgi" --listen "127.0.0.1:$port" </dev/null \
		>>"$COORD_STATE_DIR/fcgi-stderr.log" 2>&1 3>&- &
	pid=$!
	started "$pid"
	for ((i = 0; i < 50; i++)); do
		req_fcgi "127.0.0.1:$port" /no-such-route 2>/dev/null && break
		sleep 0.1
	done
	assert_equal "$status" 404
	# the same address twice: 69, one line on stderr
	run "$COORD_BUILD_DIR/fcgi/secrets.fcgi" --listen "127.0.0.1:$port"
	assert_equal "$status" 69
	assert_output --partial "secrets.fcgi: --listen 127.0.0.1:$port: Address already in use"
	kill -TERM "$pid"
	wait "$pid"

	"$COORD_BUILD_DIR/fcgi/admin.fcgi" --listen "$sock" </dev/null \
		>>"$COORD_STATE_DIR/fcgi-stderr.log" 2>&1 3>&- &
	pid=$!
	started "$pid"
	for ((i = 0; i < 50; i++)); do
		[[ -S $sock ]] && break
		sleep 0.1
	done
	req_fcgi "$sock" /admin/grant-keys
	assert_equal "$status" 401
	kill -TERM "$pid"
	wait "$pid"
	[[ ! -e $sock ]] || fail "$sock left behind"

	run "$COORD_BUILD_DIR/fcgi/admin.fcgi" --listen relative.sock
	assert_equal "$status" 64
	run "$COORD_BUILD_DIR/fcgi/admin.fcgi" --listen 127.0.0.1:70000
	assert_equal "$status" 64
}
