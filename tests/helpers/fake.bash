# shellcheck shell=bash
# Starting and stopping the fake servers of tests/helpers (fake-near.py, fake-keystore.py),
# loaded by near.bash and keystore.bash.  Each fake serves 127.0.0.1 on a free port from a
# control directory of its own under /tmp (see tests/helpers/fakeserver.py).
#
#   fake__start SCRIPT      starts tests/helpers/SCRIPT and waits until it answers; sets
#                           FAKE_DIR (its control directory) and FAKE_URL (http://127.0.0.1:P)
#   fake__stop DIR          stops the fake of DIR and removes DIR (COORD_KEEP_TMP=1 keeps it)
#
# Environment read: FAKE_PYTHON (the interpreter; default /usr/bin/python3 if present).

FAKE_HELPERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The system interpreter when there is one: a version manager's shim (pyenv) costs more
# than a second per call.
if [[ -z ${FAKE_PYTHON:-} ]]; then
	for FAKE_PYTHON in /usr/bin/python3 /usr/local/bin/python3 python3; do
		command -v "$FAKE_PYTHON" >/dev/null 2>&1 && break
	done
fi

fake__say() { printf '# fake: %s\n' "$*" >&2; }

fake__start() {
	local script=$1 dir i port
	dir=$(mktemp -d "/tmp/${script%.py}.XXXXXX") || return 1
	echo normal >"$dir/mode"
	: >"$dir/requests.log"
	: >"$dir/script"
	# --watch-pid $$: the bats file's process; the server exits with it if teardown is skipped.
	"$FAKE_PYTHON" "$FAKE_HELPERS_DIR/$script" --dir "$dir" --port 0 --watch-pid "$$" \
		</dev/null >"$dir/server.log" 2>&1 3>&- &
	echo $! >"$dir/pid"
	FAKE_DIR=$dir
	for ((i = 0; i < 100; i++)); do
		port=$(cat "$dir/port" 2>/dev/null) || port=
		if [[ -n $port ]] && curl -sf --max-time 2 "http://127.0.0.1:$port/__fake_ping" >/dev/null 2>&1; then
			FAKE_URL=http://127.0.0.1:$port
			return 0
		fi
		if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	fake__say "$script did not start:"
	cat "$dir/server.log" >&2
	fake__stop "$dir"
	return 1
}

fake__stop() {
	local dir=${1:-} pid i
	[[ -n $dir && -d $dir ]] || return 0
	pid=$(cat "$dir/pid" 2>/dev/null)
	if [[ $pid =~ ^[0-9]+$ ]]; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [[ -z ${COORD_KEEP_TMP:-} ]]; then
		rm -rf "$dir"
	else
		fake__say "kept $dir"
	fi
}
