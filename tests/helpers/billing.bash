# shellcheck shell=bash
# Shared setup of the HTTPS-call tests (tests/bats/90-95):  load ../helpers/billing  (after
# coord).  A simulated worker drives calls through the worker routes as a real one does:
# GET /executions/poll -> POST /jobs/claim -> POST /jobs/complete -> POST /https-calls/complete
# (SPEC §3.1, §3.2.3, §3.2.4, §3.2.9).
#
# Call billing_init once in setup_file after coord_start_stack: it creates a worker token
# (exported as TOKEN) and caches the binary that claims name, so that a claim with only the
# execution capability gets an execute job (row E7 of §3.2.3).
#
# Functions:
#   bproject OWNER/NAME [UUID]          a local project (§4.3, always wins); prints its uuid
#   bkey OWNER NONCE BALANCE [SQL SET]  a live key (coord_payment_key) plus extra columns,
#                                       e.g. "project_ids='{a/b}', max_per_call=5000";
#                                       prints OWNER:NONCE:SECRET
#   call KEY OWNER/NAME BODY [curl args]        POST /call/OWNER/NAME (JSON body)
#   acall KEY OWNER/NAME [curl args]            async call with input {"n":1}; sets CALL_ID
#   getcall KEY CALL_ID                 GET /calls/CALL_ID
#   balance KEY                         GET /payment-keys/balance
#   wpost PATH JSON                     POST with the worker token
#   wpoll                               GET /executions/poll?timeout=0&capabilities=execution
#   wclaim PAYLOAD [CAPS]               claims the polled HTTPS item; sets JOB_ID ("" when none)
#   wjob_complete JOB_ID JSON-MEMBERS   POST /jobs/complete {"job_id":..,MEMBERS}
#   hcomplete CALL_ID JSON-MEMBERS      POST /https-calls/complete {"call_id":..,MEMBERS}
#   worker_take CALL_ID [compile]       poll until CALL_ID's item comes, claim it (with the
#                                       compilation capability too when "compile"); sets JOB_ID
#   worker_finish CALL_ID JSON-MEMBERS  worker_take, /jobs/complete, /https-calls/complete
#   bal OWNER NONCE                     "spent|reserved" of the balance row ("none" if absent)
#   audit_clean                         coord-audit exits 0 with no output
#   err                                 .error of the last body
#   expect_error STATUS CODE

BILLING_CODE_SOURCE='{"type":"GitHub","repo":"https://github.com/dev/app","commit":"c1","build_target":"wasm32-wasip1"}'

billing_sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

billing_init() {
	TOKEN=$(coord_worker_token billing-worker) || return 1
	export TOKEN
	local checksum
	checksum=$(billing_sha "https://github.com/dev/app:c1:wasm32-wasip1")
	mkdir -p "$WASM_CACHE_DIR"
	: >"$WASM_CACHE_DIR/$checksum.wasm"
	coord_psql "INSERT INTO wasm_cache (checksum, repo_url, commit_hash, file_size, content_hash,
		verified_size, verified_mtime_ns, verified_inode)
		VALUES ('$checksum', 'r', 'c', 0, '$(billing_sha '')', 0, 0, 0) ON CONFLICT DO NOTHING"
}

bproject() {
	local uuid=${2:-$(cat /proc/sys/kernel/random/uuid)}
	coord_psql "INSERT INTO local_projects (project_id, uuid, active_version)
		VALUES ('$1', '$uuid', 'v1') ON CONFLICT (project_id) DO NOTHING" || return 1
	coord_psql "SELECT uuid FROM local_projects WHERE project_id = '$1'"
}

bkey() {
	local k
	k=$(coord_payment_key "$1" "$2" "$3") || return 1
	if [[ -n ${4:-} ]]; then
		coord_psql "UPDATE payment_keys SET $4 WHERE owner = '$1' AND nonce = $2" || return 1
	fi
	printf '%s\n' "$k"
}

call() {
	local key=$1 path=$2 json=$3
	shift 3
	req POST "/call/$path" -H "X-Payment-Key: $key" -H 'Content-Type: application/json' \
		--data-binary "$json" "$@"
}

acall() {
	local key=$1 path=$2
	shift 2
	call "$key" "$path" '{"input":{"n":1},"async":true}' "$@"
	CALL_ID=$(jq -r '.call_id // empty' <<<"$body" 2>/dev/null)
}

getcall() { req GET "/calls/$2" -H "X-Payment-Key: $1"; }
balance() { req GET /payment-keys/balance -H "X-Payment-Key: $1"; }

wpost() {
	req POST "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "$2"
}

wpoll() { req GET '/executions/poll?timeout=0&capabilities=execution' -H "Authorization: Bearer $TOKEN"; }

wclaim() {
	local payload=$1 caps=${2:-'["execution"]'} b cs=$BILLING_CODE_SOURCE
	# with the compilation capability: a source whose binary is not cached (row C1)
	[[ $caps != *compilation* ]] || cs=${cs/\"c1\"/\"c2\"}
	b=$(jq -c --argjson cs "$cs" --argjson caps "$caps" \
		'{request_id, data_id, worker_id:"worker-1", code_source:$cs,
		  resource_limits, capabilities:$caps, project_uuid, project_id}' <<<"$payload") || return 1
	wpost /jobs/claim "$b"
	JOB_ID=$(jq -r '.jobs[0].job_id // empty' <<<"$body" 2>/dev/null)
}

wjob_complete() { wpost /jobs/complete "{\"job_id\":$1${2:+,$2}}"; }
hcomplete() { wpost /https-calls/complete "{\"call_id\":\"$1\"${2:+,$2}}"; }

# worker_take CALL_ID [compile]: polls (timeout 0) until the item of CALL_ID is handed out
# (other items are left leased), then claims it.
worker_take() {
	local id=$1 caps=${2:-} i payload cj='["execution"]'
	[[ -z $caps ]] || cj='["compilation","execution"]'
	JOB_ID=
	for ((i = 0; i < 50; i++)); do
		req GET "/executions/poll?timeout=0&capabilities=${caps:+compilation,}execution" \
			-H "Authorization: Bearer $TOKEN"
		[[ $status == 200 ]] || return 1
		payload=$body
		[[ $(jq -r .data_id <<<"$payload") == "$id" ]] || continue
		WORKER_PAYLOAD=$payload
		wclaim "$payload" "$cj"
		[[ $status == 200 ]] || return 1
		return 0
	done
	return 1
}

# worker_finish CALL_ID MEMBERS: MEMBERS are the /https-calls/complete members after call_id
# (success, output, instructions, time_ms, refund_usd ...); the job is completed with the same
# success, time_ms and instructions.
worker_finish() {
	local id=$1 members=$2 job_members
	worker_take "$id" || return 1
	[[ -n $JOB_ID ]] || return 1
	job_members=$(jq -c '{success, time_ms:(.time_ms // 0), instructions:(.instructions // 0)}
		| del(..|nulls) | tostring | .[1:-1]' -r <<<"{$members}")
	wjob_complete "$JOB_ID" "$job_members"
	[[ $status == 200 ]] || return 1
	hcomplete "$id" "$members,\"job_id\":$JOB_ID"
}

bal() {
	local r
	r=$(coord_psql "SELECT spent || '|' || reserved FROM payment_key_balances
		WHERE owner = '$1' AND nonce = $2")
	printf '%s\n' "${r:-none}"
}

audit_clean() {
	local out rc=0
	out=$("$COORD_BUILD_DIR/bin/coord-audit" 2>&1) || rc=$?
	if [[ $rc != 0 || -n $out ]]; then
		printf '# coord-audit exit %s:\n%s\n' "$rc" "$out" >&2
		return 1
	fi
}

err() { jq -r .error <<<"$body"; }

expect_error() {
	assert_equal "$status" "$1"
	assert_equal "$(err)" "$2"
}
