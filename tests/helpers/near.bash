# shellcheck shell=bash
# A fake NEAR JSON-RPC server (tests/helpers/fake-near.py) and ed25519 key helpers for
# tests/bats/*.bats:  load ../helpers/near   (at the top of the file, after coord)
#
#   setup_file() {
#       near_start                       # exports NEAR_RPC_URL and NEAR_FAKE_DIR
#       export OPERATOR_ACCOUNT_ID=operator.testnet
#       coord_start_stack
#   }
#   teardown_file() { coord_stop_stack; near_stop; }
#
# Fake server:  near_start, near_stop, near_register KEY [ACCOUNT], near_unregister KEY,
# near_mode normal|error|rpc-error|garbage|slow [SECONDS], near_script MODE... (the next
# requests answer in these modes, one each, then near_mode's applies again), near_reset
# (mode normal, empty script, empty request log; keys are kept), near_requests [FILTER]
# (the logged requests, one JSON line each, see fake-near.py; FILTER is a request_type or
# a method), near_request_bodies [FILTER] (only the raw bodies), near_request_count [FILTER],
# near_view METHOD JSON [ARGS_JSON] (the contract's view METHOD answers JSON: for calls whose
# args equal ARGS_JSON, or for every call without ARGS_JSON), near_view_clear [METHOD].
#
# Keys:  tee_keygen FILE (a new ed25519 key pair in PEM), tee_pubkey_hex FILE,
# tee_pubkey_near FILE (ed25519:<base58>), tee_sign_hex FILE CHALLENGE,
# tee_sign_near FILE CHALLENGE (signature over the 32 raw bytes of the hex CHALLENGE, as 128
# hex characters or ed25519:<base58>), tee_sign_text_hex FILE CHALLENGE (over the 64 ASCII
# characters instead: a wrong signature), tee_verify_hex PUBHEX CHALLENGE SIGHEX (openssl's
# own check), b58encode HEX, b58decode BASE58 (→ hex).
#
# Environment read: NEAR_PYTHON (the interpreter of the key helpers; default FAKE_PYTHON of
# fake.bash).

FAKE_PYTHON=${FAKE_PYTHON:-${NEAR_PYTHON:-}}
# shellcheck source=fake.bash
source "$(dirname "${BASH_SOURCE[0]}")/fake.bash"
NEAR_PYTHON=${NEAR_PYTHON:-$FAKE_PYTHON}

near__say() { printf '# near: %s\n' "$*" >&2; }

# near_start: starts the fake server in a new temp dir and waits until it answers.
near_start() {
	fake__start fake-near.py || return 1
	: >"$FAKE_DIR/keys"
	export NEAR_FAKE_DIR=$FAKE_DIR NEAR_RPC_URL=$FAKE_URL
}

# near_stop: stops the server started by near_start and removes its dir (idempotent).
near_stop() { fake__stop "${NEAR_FAKE_DIR:-}"; }

# near_register KEY [ACCOUNT]: KEY (ed25519:<base58>) becomes an access key of ACCOUNT
# (default: of every account).
near_register() { printf '%s\n' "${2:+$2 }$1" >>"$NEAR_FAKE_DIR/keys"; }

# near_unregister KEY: removes KEY from every account.
near_unregister() {
	local tmp=$NEAR_FAKE_DIR/keys.tmp
	awk -v k="$1" '$NF != k' "$NEAR_FAKE_DIR/keys" >"$tmp" && mv "$tmp" "$NEAR_FAKE_DIR/keys"
}

near__check_mode() {
	case $1 in
	normal | error | rpc-error | garbage | slow) ;;
	*)
		near__say "unknown mode $1"
		return 1
		;;
	esac
}

# near_mode normal|error|rpc-error|garbage|slow [SECONDS]: SECONDS is the slow mode's delay
# (default 10).
near_mode() {
	near__check_mode "$1" || return 1
	[[ -z ${2:-} ]] || echo "$2" >"$NEAR_FAKE_DIR/slow_seconds"
	echo "$1" >"$NEAR_FAKE_DIR/mode"
}

# near_script MODE...: the next requests answer in these modes, one each, in order.
near_script() {
	local m
	for m in "$@"; do near__check_mode "$m" || return 1; done
	printf '%s\n' "$@" >"$NEAR_FAKE_DIR/script"
}

# near_view METHOD JSON [ARGS_JSON]: the view call METHOD answers JSON (any JSON value,
# null included) when its args equal ARGS_JSON, or, without ARGS_JSON, when no args entry
# matches.  Unset views answer NO_CONTRACT_CODE.
near_view() {
	local f=$NEAR_FAKE_DIR/views/$1.json tmp
	mkdir -p "$NEAR_FAKE_DIR/views"
	[[ -f $f ]] || echo '{"by_args":[]}' >"$f"
	tmp=$f.tmp
	if (($# >= 3)); then
		jq -c --argjson a "$3" --argjson v "$2" \
			'.by_args = ([.by_args[] | select(.[0] != $a)] + [[$a, $v]])' "$f" >"$tmp"
	else
		jq -c --argjson v "$2" '.default = $v' "$f" >"$tmp"
	fi && mv "$tmp" "$f"
}

# near_view_clear [METHOD]: forgets the answers of METHOD (of every view without METHOD).
near_view_clear() {
	if [[ -n ${1:-} ]]; then
		rm -f "$NEAR_FAKE_DIR/views/$1.json"
	else
		rm -rf "$NEAR_FAKE_DIR/views"
	fi
}

# near_reset: normal mode, empty script, empty request log (keys are kept).
near_reset() {
	echo normal >"$NEAR_FAKE_DIR/mode"
	: >"$NEAR_FAKE_DIR/script"
	rm -f "$NEAR_FAKE_DIR/slow_seconds"
	: >"$NEAR_FAKE_DIR/requests.log"
}

# near_requests [FILTER]: the logged requests, one JSON object a line.  FILTER is a
# request_type of "query" (view_access_key, call_function) or a method (block).
near_requests() {
	local f=${1:-}
	if [[ -z $f ]]; then
		cat "$NEAR_FAKE_DIR/requests.log"
		return
	fi
	jq -c --arg f "$f" '
		select((.body | fromjson? // {}) as $b
			| ($b.method == $f) or ($b.params.request_type? == $f))' "$NEAR_FAKE_DIR/requests.log"
}

# near_request_bodies [FILTER]: the raw body of each logged request, one a line.
near_request_bodies() { near_requests "${1:-}" | jq -r .body; }

# near_request_count [FILTER]
near_request_count() { near_requests "${1:-}" | wc -l | tr -d ' '; }

# ---------------------------------------------------------------- ed25519 keys

# b58encode HEX: Bitcoin-alphabet base58 of the bytes HEX (leading zero bytes → "1").
b58encode() {
	"$NEAR_PYTHON" -c '
import sys
A = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
b = bytes.fromhex(sys.argv[1])
n = int.from_bytes(b, "big")
s = ""
while n:
    n, r = divmod(n, 58)
    s = A[r] + s
print("1" * (len(b) - len(b.lstrip(b"\0"))) + s)' "$1"
}

# b58decode BASE58: the bytes as lower-case hex.
b58decode() {
	"$NEAR_PYTHON" -c '
import sys
A = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
s = sys.argv[1]
n = 0
for c in s:
    n = n * 58 + A.index(c)
body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
print(("00" * (len(s) - len(s.lstrip("1")))) + body.hex())' "$1"
}

# tee_keygen FILE: a new ed25519 private key (PEM) in FILE.
tee_keygen() { openssl genpkey -algorithm ed25519 -out "$1" 2>/dev/null; }

# tee_pubkey_hex FILE: the raw 32-byte public key, 64 lower-case hex characters (the last
# 32 bytes of the SubjectPublicKeyInfo DER).
tee_pubkey_hex() {
	openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 32 | xxd -p -c 64
}

# tee_pubkey_near FILE: the public key as ed25519:<base58>.
tee_pubkey_near() { printf 'ed25519:%s\n' "$(b58encode "$(tee_pubkey_hex "$1")")"; }

# tee__sign FILE MESSAGE-FILE: the 64-byte signature as hex.
tee__sign() {
	openssl pkeyutl -sign -rawin -inkey "$1" -in "$2" 2>/dev/null | xxd -p -c 128
}

tee__tmp() { mktemp "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/tee-msg.XXXXXX"; }

# tee_sign_hex FILE CHALLENGE: signature over the 32 bytes of the hex CHALLENGE (128 hex).
tee_sign_hex() {
	local msg sig
	msg=$(tee__tmp) || return 1
	printf '%s' "$2" | xxd -r -p >"$msg"
	sig=$(tee__sign "$1" "$msg")
	rm -f "$msg"
	[[ ${#sig} == 128 ]] || return 1
	printf '%s\n' "$sig"
}

# tee_sign_near FILE CHALLENGE: the same signature as ed25519:<base58>.
tee_sign_near() {
	local sig
	sig=$(tee_sign_hex "$1" "$2") || return 1
	printf 'ed25519:%s\n' "$(b58encode "$sig")"
}

# tee_sign_text_hex FILE CHALLENGE: signature over the 64 ASCII hex characters (wrong).
tee_sign_text_hex() {
	local msg sig
	msg=$(tee__tmp) || return 1
	printf '%s' "$2" >"$msg"
	sig=$(tee__sign "$1" "$msg")
	rm -f "$msg"
	printf '%s\n' "$sig"
}

# tee_verify_hex PUBHEX CHALLENGE SIGHEX: exit 0 when the signature verifies (a self-check
# of these helpers, independent of the coordinator).
tee_verify_hex() {
	local d rc=0
	d=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/tee-verify.XXXXXX") || return 1
	# SubjectPublicKeyInfo for ed25519: 302a300506032b6570032100 || key
	printf '302a300506032b6570032100%s' "$1" | xxd -r -p >"$d/pub.der"
	printf '%s' "$2" | xxd -r -p >"$d/msg"
	printf '%s' "$3" | xxd -r -p >"$d/sig"
	openssl pkeyutl -verify -rawin -pubin -keyform DER -inkey "$d/pub.der" -in "$d/msg" \
		-sigfile "$d/sig" >/dev/null 2>&1 || rc=1
	rm -rf "$d"
	return "$rc"
}
