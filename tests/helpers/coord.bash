# shellcheck shell=bash
# Helpers for tests/bats/*.bats:  load ../helpers/coord
#
# Each .bats file gets its own stack, started once by setup_file and stopped by
# teardown_file even when a test failed: a temp dir under /tmp, a private PostgreSQL 15
# cluster on a Unix socket in it (database "coordinator", migrations applied), a private
# Redis on a Unix socket, and lighttpd with the shipped lighttpd.conf on 127.0.0.1 and an
# unused port.  A file that needs a particular configuration defines its own setup_file,
# exports the variables, then calls coord_start_stack:
#
#   setup_file() { export COORD_SENDFILE=x-sendfile; coord_start_stack; }
#
# Exported for tests: BASE_URL DATABASE_URL REDIS_URL WASM_CACHE_DIR COORD_STATE_DIR
# ADMIN_BEARER_TOKEN COORD_STACK_TMP COORD_BUILD_DIR COORD_REPO.
#
# Functions: coord_start_stack coord_stop_stack coord_start_pg coord_stop_pg
# coord_start_redis coord_stop_redis coord_restart_web coord_psql coord_redis
# coord_worker_token coord_payment_key req header coord_fcgi_log coord_fcgi_log_since_test.
#
# Environment read: COORD_BUILD_DIR (default <repo>/build), COORD_PG_TEMPLATE (initdb
# template dir; tests/run sets one per suite run), COORD_KEEP_TMP=1 (keep the temp dir),
# COORD_TEST_KEEP_ENV=1 (keep the caller's SPEC §2.2 variables; by default a file starts
# from none of them, so that a shell prepared with `./dev env` cannot leak into a test).

COORD_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
COORD_BUILD_DIR=${COORD_BUILD_DIR:-$COORD_REPO/build}
case $COORD_BUILD_DIR in /*) ;; *) COORD_BUILD_DIR=$PWD/$COORD_BUILD_DIR ;; esac
export COORD_REPO COORD_BUILD_DIR

COORD_PG_BINDIR=${COORD_PG_BINDIR:-/usr/lib/postgresql/15/bin}

if declare -F bats_load_library >/dev/null; then
	bats_load_library bats-support
	bats_load_library bats-assert
fi

# Every variable of SPEC §2.2, including the ones accepted and ignored.
COORD_SPEC_VARS=(
	DATABASE_URL REDIS_URL HOST PORT CORS_ALLOWED_ORIGINS NEAR_RPC_URL NEAR_RPC_TIMEOUT_SECONDS
	OFFCHAINVM_CONTRACT_ID OPERATOR_ACCOUNT_ID WASM_CACHE_DIR WASM_CACHE_MAX_SIZE_GB
	WASM_CACHE_MAX_SIZE_BYTES KEYSTORE_BASE_URL KEYSTORE_AUTH_TOKEN REQUIRE_AUTH
	ADMIN_BEARER_TOKEN REQUIRE_TEE_SESSION TEE_SESSION_TTL_SECONDS STABLECOIN_CONTRACT
	STABLECOIN_DECIMALS DEFAULT_COMPUTE_LIMIT MIN_COMPUTE_LIMIT HTTPS_CALL_TIMEOUT_SECONDS
	PAYMENT_KEY_RATE_LIMIT_PER_MINUTE RATE_LIMIT_API_PER_MINUTE
	RATE_LIMIT_PUBLIC_STORAGE_PER_MINUTE RATE_LIMIT_SECRETS_PER_MINUTE TRUSTED_PROXIES
	REDIS_QUEUE_COMPILE REDIS_QUEUE_EXECUTE JOB_LEASE_SECONDS POLL_LEASE_SECONDS
	JOB_MAX_ATTEMPTS PAYMENT_KEY_STALE_SECONDS IDEMPOTENCY_TTL_SECONDS COORD_CONFIG
	COORD_THREADS COORD_PATH_PREFIX COORD_SENDFILE COORD_LOG_FORMAT COORD_LOG_LEVEL
	DB_POOL_SIZE LRU_EVICTION_CHECK_INTERVAL_SECONDS TASK_POLL_TIMEOUT_SECONDS
	LOCK_DEFAULT_TTL_SECONDS MAX_CONCURRENT_CALLS_PER_KEY EXPECTED_WORKER_MEASUREMENT
	STABLECOIN_SYMBOL
)

# Loaded first in the file's own process (before setup_file and the file's top-level
# code) and again in every test process; the stack's variables, exported by setup_file,
# are inherited by the tests, so only clear while no stack runs.
if [[ -z ${COORD_STACK_TMP:-} && -z ${COORD_TEST_KEEP_ENV:-} ]]; then
	unset "${COORD_SPEC_VARS[@]}"
fi

coord__say() { printf '# coord: %s\n' "$*" >&2; }

# PostgreSQL refuses to run as root: as root, run its programs as postgres.
coord__as_pg() {
	if ((EUID == 0)); then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

coord__chown_pg() {
	((EUID != 0)) || chown postgres: "$@"
}

# True when PID names a live process (a zombie counts as gone).
coord__alive() {
	local pid=$1 stat
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# Live, non-zombie processes of process group PGID, one pid per line (one ps, not a
# process per /proc entry: that scan took seconds on a loaded machine).
coord__group_members() {
	ps -e -o pid=,pgid=,stat= | awk -v g="$1" '$2 == g && $3 !~ /^Z/ { print $1 }'
}

# Waits up to SECONDS (tenths allowed) until CHECK-COMMAND... fails.
coord__wait_while() {
	local now deadline
	now=$(date +%s%N)
	deadline=$((now / 1000000 + ${1%.*} * 1000)) && shift
	while "$@"; do
		now=$(date +%s%N)
		((now / 1000000 >= deadline)) && return 1
		sleep 0.1
	done
	return 0
}

coord__group_alive() { [[ -n $(coord__group_members "$1") ]]; }

# Stops PID (and, with a second argument "group", every process of its process group):
# SIGTERM, then SIGKILL after TIMEOUT seconds.  Reaps PID when it is our child.
coord__terminate() {
	local pid=$1 group=${2:-} timeout=${3:-15}
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	if ! coord__wait_while "$timeout" coord__alive "$pid"; then
		coord__say "pid $pid did not stop after ${timeout}s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		coord__wait_while 5 coord__alive "$pid" || true
	fi
	wait "$pid" 2>/dev/null || true
	if [[ $group == group ]] && coord__group_alive "$pid"; then
		kill -TERM -- "-$pid" 2>/dev/null || true
		if ! coord__wait_while "$timeout" coord__group_alive "$pid"; then
			coord__say "process group $pid did not stop after ${timeout}s: SIGKILL"
			kill -KILL -- "-$pid" 2>/dev/null || true
			coord__wait_while 5 coord__group_alive "$pid" || true
		fi
	fi
	return 0
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
coord__free_port() {
	local port i
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	return 1
}

# ---------------------------------------------------------------- PostgreSQL

# Fills DEST (absent) with a fresh cluster, copied from an initdb template made once:
# by tests/run per suite run (COORD_PG_TEMPLATE), else cached under /tmp per PostgreSQL
# version.  A template is created in a private dir and renamed into place, so concurrent
# files never see a half-made one; a file that loses the race discards its own.
coord__pg_make_data() {
	local dest=$1 version tpl tmp
	version=$("$COORD_PG_BINDIR/initdb" --version 2>/dev/null | awk '{print $3}')
	tpl=${COORD_PG_TEMPLATE:-/tmp/coord-pgtemplate-$(id -u)-${version:-unknown}}
	if [[ ! -f $tpl/complete ]]; then
		tmp=$(mktemp -d "${tpl}.tmp.XXXXXX") || return 1
		chmod 755 "$tmp"
		mkdir "$tmp/data" || return 1
		coord__chown_pg "$tmp/data" && chmod 700 "$tmp/data" || return 1
		if ! coord__as_pg "$COORD_PG_BINDIR/initdb" -D "$tmp/data" -A trust -U postgres \
			-E UTF8 --locale=C --no-sync >"$tmp/initdb.log" 2>&1 3>&-; then
			coord__say "initdb failed:"
			cat "$tmp/initdb.log" >&2
			rm -rf "$tmp"
			return 1
		fi
		: >"$tmp/complete"
		if ! mv -T "$tmp" "$tpl" 2>/dev/null; then
			if [[ -f $tpl/complete ]]; then
				rm -rf "$tmp"
			else
				# An unusable leftover at $tpl: use this fresh cluster directly.
				cp -a "$tmp/data" "$dest" || return 1
				rm -rf "$tmp"
				return 0
			fi
		fi
	fi
	cp -a "$tpl/data" "$dest"
}

coord_start_pg() {
	local run=$COORD_STACK_TMP/pg
	if [[ -f $COORD_STACK_TMP/pgdata/postmaster.pid ]] &&
		coord__alive "$(head -1 "$COORD_STACK_TMP/pgdata/postmaster.pid")"; then
		return 0
	fi
	if ! coord__as_pg "$COORD_PG_BINDIR/pg_ctl" -D "$COORD_STACK_TMP/pgdata" \
		-l "$run/postgres.log" -w -t 60 \
		-o "-k $run -p $COORD_PG_PORT -c listen_addresses='' -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c TimeZone=UTC" \
		start </dev/null >"$run/pg_ctl.out" 2>&1 3>&-; then
		coord__say "PostgreSQL did not start:"
		cat "$run/pg_ctl.out" "$run/postgres.log" >&2 2>/dev/null
		return 1
	fi
}

coord_stop_pg() {
	local data=$COORD_STACK_TMP/pgdata pid
	[[ -f $data/postmaster.pid ]] || return 0
	pid=$(head -1 "$data/postmaster.pid" 2>/dev/null)
	coord__as_pg "$COORD_PG_BINDIR/pg_ctl" -D "$data" -m fast -w -t 30 stop \
		</dev/null >/dev/null 2>&1 3>&- || true
	if coord__alive "$pid"; then
		coord__say "PostgreSQL $pid did not stop: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		coord__wait_while 5 coord__alive "$pid" || true
	fi
	rm -f "$data/postmaster.pid"
}

# ---------------------------------------------------------------- Redis

coord_start_redis() {
	local sock=$COORD_STACK_TMP/redis.sock
	if [[ -S $sock ]] && [[ $(redis-cli -s "$sock" ping 2>/dev/null) == PONG ]]; then
		return 0
	fi
	rm -f "$sock"
	# mod_fcgid runs the programs as www-data when the tests run as root
	local perm=700
	[[ ${COORD_SERVER:-} == apache-fcgid ]] && ((EUID == 0)) && perm=777
	if ! redis-server --port 0 --unixsocket "$sock" --unixsocketperm "$perm" --save '' \
		--appendonly no --daemonize yes --dir "$COORD_STACK_TMP" \
		--pidfile "$COORD_STACK_TMP/redis.pid" --logfile "$COORD_STACK_TMP/redis.log" \
		</dev/null >/dev/null 2>&1 3>&-; then
		coord__say "redis-server failed to start"
		return 1
	fi
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(redis-cli -s "$sock" ping 2>/dev/null) == PONG ]] && return 0
		sleep 0.1
	done
	coord__say "Redis did not answer PING:"
	cat "$COORD_STACK_TMP/redis.log" >&2 2>/dev/null
	return 1
}

coord_stop_redis() {
	local pidfile=$COORD_STACK_TMP/redis.pid pid
	[[ -f $pidfile ]] || return 0
	pid=$(cat "$pidfile" 2>/dev/null)
	redis-cli -s "$COORD_STACK_TMP/redis.sock" shutdown nosave >/dev/null 2>&1 || true
	coord__terminate "$pid" "" 10
	rm -f "$pidfile" "$COORD_STACK_TMP/redis.sock"
}

# ---------------------------------------------------------------- the web server
#
# COORD_SERVER picks it, as for ./dev: lighttpd (default, the shipped lighttpd.conf),
# apache-fcgid or apache-proxy (contrib/apache/run-standalone: Apache 2.4 with
# coordinator-fcgid.conf, or with coordinator-proxy.conf and the five programs started
# with --listen).  Either way it leads a process group holding every process of the server.

coord__web_pid() {
	local pid
	pid=$(cat "$COORD_STACK_TMP/lighttpd.launch" 2>/dev/null) ||
		pid=$(cat "$COORD_STATE_DIR/lighttpd.pid" 2>/dev/null) || return 1
	printf '%s\n' "$pid"
}

# Sets coord__web_cmd to the command that runs the server in the foreground.
coord__web_command() {
	case ${COORD_SERVER:-lighttpd} in
	lighttpd) coord__web_cmd=(lighttpd -D -f "$COORD_REPO/lighttpd.conf") ;;
	apache-fcgid | apache-proxy)
		coord__web_cmd=("$COORD_REPO/contrib/apache/run-standalone" "${COORD_SERVER#apache-}")
		if [[ $COORD_SERVER == apache-fcgid ]] && ((EUID == 0)); then
			# the programs run as www-data: they create and write the cache
			mkdir -p "$WASM_CACHE_DIR" && chown www-data: "$WASM_CACHE_DIR"
		fi
		;;
	*)
		coord__say "COORD_SERVER=$COORD_SERVER: expected lighttpd, apache-fcgid or apache-proxy"
		return 1
		;;
	esac
}

coord__web_logs() {
	local f
	for f in "$COORD_STACK_TMP/lighttpd.out" "$COORD_STATE_DIR/lighttpd-error.log" \
		"$COORD_STATE_DIR/fcgi-stderr.log"; do
		[[ -s $f ]] || continue
		printf '# --- %s (last 40 lines)\n' "$f" >&2
		tail -n 40 "$f" >&2
	done
}

# Starts lighttpd on $PORT (exported) and waits until GET /health answers 200.
# Returns 2 when the port was taken, 1 on any other failure.
coord__web_launch() {
	local pid code i
	local -a coord__web_cmd
	coord__web_command || return 1
	rm -f "$COORD_STATE_DIR/lighttpd.pid"
	: >"$COORD_STACK_TMP/lighttpd.out"
	# setsid: the server leads a process group that its FastCGI programs join, so that
	# coord_stop_stack can find every one of them.
	setsid "${coord__web_cmd[@]}" \
		</dev/null >>"$COORD_STACK_TMP/lighttpd.out" 2>&1 3>&- 4>&- &
	pid=$!
	printf '%s\n' "$pid" >"$COORD_STACK_TMP/lighttpd.launch"
	for ((i = 0; i < 600; i++)); do
		if ! coord__alive "$pid"; then
			wait "$pid" 2>/dev/null || true
			if grep -qs 'Address already in use' "$COORD_STACK_TMP/lighttpd.out" \
				"$COORD_STATE_DIR/lighttpd-error.log" "$COORD_STATE_DIR/fcgi-stderr.log"; then
				return 2
			fi
			coord__say "${COORD_SERVER:-lighttpd} exited:"
			coord__web_logs
			return 1
		fi
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/health" 2>/dev/null) || true
		[[ $code == 200 ]] && return 0
		sleep 0.1
	done
	coord__say "GET /health did not answer 200 within 60s (last status: ${code:-none})"
	coord__web_logs
	coord_stop_web
	return 1
}

coord_start_web() {
	local attempt rc
	mkdir -p "$COORD_STATE_DIR/htdocs"
	for ((attempt = 0; attempt < 5; attempt++)); do
		if [[ -z ${PORT:-} ]]; then
			PORT=$(coord__free_port) || return 1
		fi
		export PORT HOST=127.0.0.1
		export BASE_URL=http://127.0.0.1:$PORT
		printf '%s\n' "$PORT" >"$COORD_STACK_TMP/port"
		rc=0
		coord__web_launch || rc=$?
		[[ $rc == 2 ]] || return "$rc"
		coord__say "port $PORT is taken; trying another"
		unset PORT
	done
	return 1
}

coord_stop_web() {
	local pid
	pid=$(coord__web_pid) || return 0
	coord__terminate "$pid" group 20
	rm -f "$COORD_STATE_DIR/lighttpd.pid" "$COORD_STACK_TMP/lighttpd.launch"
}

# Restarts lighttpd on the same port so that the programs see the variables exported now.
coord_restart_web() {
	coord_stop_web
	PORT=$(cat "$COORD_STACK_TMP/port") || return 1
	coord__web_launch
}

# ---------------------------------------------------------------- the stack

coord_start_stack() {
	local f
	for f in bin/coord-migrate fcgi/worker.fcgi fcgi/api.fcgi fcgi/public.fcgi fcgi/admin.fcgi \
		fcgi/secrets.fcgi; do
		if [[ ! -x $COORD_BUILD_DIR/$f ]]; then
			coord__say "$COORD_BUILD_DIR/$f is missing: build first (COORD_BUILD_DIR=$COORD_BUILD_DIR)"
			return 1
		fi
	done

	COORD_STACK_TMP=$(mktemp -d /tmp/coord-test.XXXXXX) || return 1
	export COORD_STACK_TMP
	# PostgreSQL runs as postgres and must traverse the temp dir.
	chmod 755 "$COORD_STACK_TMP"
	if [[ -n ${COORD_TEST_REGISTRY:-} && -d ${COORD_TEST_REGISTRY:-} ]]; then
		# tests/run stops whatever a killed bats run left behind.
		printf '%s\n' "$COORD_STACK_TMP" >"$COORD_TEST_REGISTRY/${COORD_STACK_TMP##*/}"
	fi

	export COORD_STATE_DIR=$COORD_STACK_TMP/state
	export COORD_FCGI_DIR=$COORD_BUILD_DIR/fcgi
	mkdir -p "$COORD_STATE_DIR/htdocs" "$COORD_STACK_TMP/pg"
	coord__chown_pg "$COORD_STACK_TMP/pg"

	COORD_PG_PORT=$(coord__free_port) || return 1
	export COORD_PG_PORT
	export DATABASE_URL="host=$COORD_STACK_TMP/pg port=$COORD_PG_PORT user=postgres dbname=coordinator"
	export REDIS_URL="unix://$COORD_STACK_TMP/redis.sock"
	export WASM_CACHE_DIR=${WASM_CACHE_DIR:-$COORD_STACK_TMP/wasm}
	export ADMIN_BEARER_TOKEN=${ADMIN_BEARER_TOKEN:-test-admin-token-5f1c2a}

	if ! coord__pg_make_data "$COORD_STACK_TMP/pgdata" || ! coord_start_pg; then
		coord_stop_stack
		return 1
	fi
	if ! psql -XqAt -v ON_ERROR_STOP=1 "host=$COORD_STACK_TMP/pg port=$COORD_PG_PORT user=postgres dbname=postgres" \
		-c 'CREATE DATABASE coordinator' >&2; then
		coord__say "CREATE DATABASE failed"
		coord_stop_stack
		return 1
	fi
	if ! "$COORD_BUILD_DIR/bin/coord-migrate" --dir "$COORD_REPO/sql" --quiet >&2 3>&-; then
		coord__say "coord-migrate failed"
		coord_stop_stack
		return 1
	fi
	if ! coord_start_redis || ! coord_start_web; then
		coord_stop_stack
		return 1
	fi
}

# Stops everything (idempotent).  Fails when a program wrote a sanitizer report.
coord_stop_stack() {
	local rc=0 log
	[[ -n ${COORD_STACK_TMP:-} && -d ${COORD_STACK_TMP:-} ]] || return 0
	: "${COORD_STATE_DIR:=$COORD_STACK_TMP/state}"
	coord_stop_web
	coord_stop_redis
	coord_stop_pg
	log=$COORD_STATE_DIR/fcgi-stderr.log
	if grep -Eqs 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
		coord__say "sanitizer report in the programs' stderr ($log):"
		grep -E -A 40 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" | head -n 200 >&2
		rc=1
	fi
	if [[ -n ${COORD_TEST_REGISTRY:-} ]]; then
		rm -f "$COORD_TEST_REGISTRY/${COORD_STACK_TMP##*/}"
	fi
	if [[ -z ${COORD_KEEP_TMP:-} ]]; then
		rm -rf "$COORD_STACK_TMP"
	else
		coord__say "kept $COORD_STACK_TMP"
	fi
	return "$rc"
}

# Default per-file and per-test hooks; a file may define its own (and call these).
setup_file() { coord_start_stack; }
teardown_file() { coord_stop_stack; }
setup() { coord_test_setup; }
teardown() { coord_test_teardown; }

# Remembers where the programs' log stands, so that a failing test shows its own lines.
coord_test_setup() {
	COORD__LOG_OFFSET=$(stat -c %s "$COORD_STATE_DIR/fcgi-stderr.log" 2>/dev/null || echo 0)
}

coord_test_teardown() {
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		coord_fcgi_log
	fi
	return 0
}

# Prints what the programs wrote to stderr since the test started, whole.
coord_fcgi_log_since_test() {
	local log=$COORD_STATE_DIR/fcgi-stderr.log
	[[ -s $log ]] || return 0
	tail -c +"$((${COORD__LOG_OFFSET:-0} + 1))" "$log"
}

# Prints the last 100 of those lines under a heading (shown when a test fails).
coord_fcgi_log() {
	local text
	text=$(coord_fcgi_log_since_test | tail -n 100)
	[[ -n $text ]] || return 0
	printf '# --- programs stderr during this test:\n%s\n' "$text"
}

# ---------------------------------------------------------------- test helpers

# coord_psql SQL [psql args...]: runs SQL against the test database; rows on stdout.
coord_psql() {
	local sql=$1
	shift
	psql -XqAt -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$sql" "$@"
}

# coord_redis ARGS...: redis-cli on the test Redis.
coord_redis() {
	redis-cli -s "$COORD_STACK_TMP/redis.sock" "$@"
}

# coord_payment_key OWNER NONCE [INITIAL_BALANCE] [SECRET]: inserts a live payment key (or
# replaces the row of OWNER:NONCE) whose key_hash is the SHA-256 of SECRET (64 lower-case hex;
# default: derived from OWNER and NONCE) and prints the X-Payment-Key value OWNER:NONCE:SECRET.
coord_payment_key() {
	local owner=${1//\'/\'\'} nonce=$2 balance=${3:-0} secret=${4:-} hash
	[[ -n $secret ]] || secret=$(printf 'secret:%s:%s' "$1" "$2" | sha256sum | cut -d' ' -f1)
	hash=$(printf %s "$secret" | sha256sum | cut -d' ' -f1)
	coord_psql "INSERT INTO payment_keys (owner, nonce, key_hash, initial_balance)
		VALUES ('$owner', $nonce, '$hash', $balance)
		ON CONFLICT (owner, nonce) DO UPDATE SET key_hash = EXCLUDED.key_hash,
		initial_balance = EXCLUDED.initial_balance, is_grant = false, deleted_at = NULL" || return 1
	printf '%s:%s:%s\n' "$1" "$2" "$secret"
}

# coord_worker_token NAME: prints a new worker token.
coord_worker_token() {
	"$COORD_BUILD_DIR/bin/coord-worker-token" create --name "$1"
}

# req METHOD PATH [curl args...]
# Sends one request to $BASE_URL (PATH sent as is: no dot-segment removal, no globbing) and
# sets: status (HTTP code, 000 when no answer), body, body_file (exact bytes), headers
# (the final response's header block), headers_file.  Extra curl arguments come last and
# win (e.g. --max-time 10; the default limit, 150 s, outlasts the longest wait of a poll).
# lighttpd itself answers a POST without Content-Length with 411 and a GET or HEAD with a
# body with 400 (text/html, the programs never see them): a POST without a body argument
# gets "Content-Length: 0" as real clients send it; test body limits on POST routes.
req() {
	local method=$1 path=$2 dir arg has_body=
	shift 2
	for arg in "$@"; do
		case $arg in
		-d | --data* | -F | --form* | -T | --upload-file | --json | -[dFT]?* | [Cc]ontent-[Ll]ength:*)
			has_body=1 ;;
		esac
	done
	local -a extra=()
	[[ $method == POST && -z $has_body ]] && extra=(-H 'Content-Length: 0')
	dir=${BATS_TEST_TMPDIR:-${COORD_STACK_TMP:-/tmp}}
	body_file=$dir/req-body
	headers_file=$dir/req-headers
	: >"$body_file"
	: >"$headers_file"
	local -a verb=(-X "$method" -o "$body_file")
	# curl -X HEAD would wait for the body that Content-Length announces
	[[ $method == HEAD ]] && verb=(--head -o /dev/null)
	status=$(curl -sS --path-as-is -g --max-time 150 "${verb[@]}" -D "$headers_file" \
		-w '%{http_code}' "${extra[@]}" "$@" "$BASE_URL$path") || true
	[[ -n $status ]] || status=000
	body=$(
		cat "$body_file"
		printf x
	)
	body=${body%x}
	# Keep only the last header block (a 100 Continue comes first) and drop the CRs.
	headers=$(awk '/^HTTP\//{block=""} {sub(/\r$/, ""); block = block $0 "\n"} END{printf "%s", block}' "$headers_file")
}

# header NAME: prints the value(s) of response header NAME of the last req (case-
# insensitive, one line per occurrence); fails when absent.
header() {
	awk -v want="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
		index($0, ":") > 0 {
			name = tolower(substr($0, 1, index($0, ":") - 1))
			if (name == want) {
				v = substr($0, index($0, ":") + 1)
				sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
				print v; found = 1
			}
		}
		END { exit found ? 0 : 1 }' <<<"$headers"
}
