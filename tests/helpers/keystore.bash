# shellcheck shell=bash
# A fake TEE keystore (tests/helpers/fake-keystore.py) for tests/bats/*.bats:
#   load ../helpers/keystore   (at the top of the file, after coord)
#
#   setup_file() {
#       keystore_start                  # exports KEYSTORE_BASE_URL and KEYSTORE_FAKE_DIR
#       export KEYSTORE_AUTH_TOKEN=...
#       coord_start_stack
#   }
#   teardown_file() { coord_stop_stack; keystore_stop; }
#
# keystore_start, keystore_stop, keystore_mode MODE [ARG] (normal, error, reject [STATUS],
# reject-text [STATUS], garbage, incomplete, hangup, slow [SECONDS]; see fake-keystore.py),
# keystore_script MODE... (the next requests answer in these modes, one each, then
# keystore_mode's applies again), keystore_status STATUS (the status of normal answers),
# keystore_reset (mode normal, status 200, empty script and request log),
# keystore_requests [PATH] (the logged requests, one JSON object a line:
# seq, time, method, path, authorization, content_type, body), keystore_request_count [PATH],
# keystore_last [PATH] (the last logged request).

# shellcheck source=fake.bash
source "$(dirname "${BASH_SOURCE[0]}")/fake.bash"

keystore_start() {
	fake__start fake-keystore.py || return 1
	export KEYSTORE_FAKE_DIR=$FAKE_DIR KEYSTORE_BASE_URL=$FAKE_URL
}

keystore_stop() { fake__stop "${KEYSTORE_FAKE_DIR:-}"; }

keystore_mode() {
	case $1 in
	normal | error | garbage | incomplete | hangup) ;;
	reject | reject-text) echo "${2:-403}" >"$KEYSTORE_FAKE_DIR/reject_status" ;;
	slow) echo "${2:-15}" >"$KEYSTORE_FAKE_DIR/slow_seconds" ;;
	*)
		fake__say "unknown keystore mode $1"
		return 1
		;;
	esac
	echo "$1" >"$KEYSTORE_FAKE_DIR/mode"
}

keystore_script() { printf '%s\n' "$@" >"$KEYSTORE_FAKE_DIR/script"; }

keystore_status() { echo "$1" >"$KEYSTORE_FAKE_DIR/status"; }

keystore_reset() {
	echo normal >"$KEYSTORE_FAKE_DIR/mode"
	: >"$KEYSTORE_FAKE_DIR/script"
	: >"$KEYSTORE_FAKE_DIR/requests.log"
	rm -f "$KEYSTORE_FAKE_DIR/status" "$KEYSTORE_FAKE_DIR/reject_status" \
		"$KEYSTORE_FAKE_DIR/slow_seconds"
}

keystore_requests() {
	if [[ -z ${1:-} ]]; then
		cat "$KEYSTORE_FAKE_DIR/requests.log"
	else
		jq -c --arg p "$1" 'select(.path == $p)' "$KEYSTORE_FAKE_DIR/requests.log"
	fi
}

keystore_request_count() { keystore_requests "${1:-}" | wc -l | tr -d ' '; }

keystore_last() { keystore_requests "${1:-}" | tail -n 1; }
