# shellcheck shell=bash
# Helpers of the WASM cache tests (60-, 61-, 62-*.bats): load ../helpers/wasm after
# ../helpers/coord.  The worker token is $TOKEN.

# cs LABEL: a fixed, valid checksum (64 lower-case hex) derived from LABEL.
cs() { printf '%s' "$1" | sha256sum | cut -c1-64; }

# sha FILE: lower-case hex SHA-256 of FILE.
sha() { sha256sum "$1" | cut -c1-64; }

# upload CHECKSUM FILE [curl args...]: a well-formed upload by curl.
upload() {
	local c=$1 f=$2
	shift 2
	req POST /wasm/upload -H "Authorization: Bearer $TOKEN" -F "checksum=$c" \
		-F repo_url=https://github.com/a/b -F commit_hash=abc -F "wasm_file=@$f" "$@"
}

download() { req GET "/wasm/$1" -H "Authorization: Bearer $TOKEN"; }

# col CHECKSUM EXPR: a value of the checksum's wasm_cache row (empty when none).
col() { coord_psql "SELECT $2 FROM wasm_cache WHERE checksum = '$1'"; }

# Download counts are flushed by each worker.fcgi process at most 250 ms after the first
# download it has not flushed yet (SPEC §3.2.5).  A test never waits a fixed time for that:
#
#   wasm_watch_counts "$c1=80" "$c2=40"   # before the downloads
#   ... downloads ...; end=$(date +%s%6N)
#   wasm_counted_after "$end"             # milliseconds from end to the counts, or fails
#
# The watch polls inside PostgreSQL (one session, every 5 ms, at most 20 s) until the
# checksums' access_count are exactly the given values, and notes the time it saw them.
wasm_watch_counts() {
	local ids=() want=() kv
	for kv in "$@"; do
		ids+=("${kv%%=*}")
		want+=("${kv#*=}")
	done
	WASM_WATCH_OUT=$BATS_TEST_TMPDIR/count-watch.$RANDOM
	psql -XqAt -v ON_ERROR_STOP=1 "$DATABASE_URL" >"$WASM_WATCH_OUT" 2>&1 3>&- <<-SQL &
		CREATE FUNCTION pg_temp.watch(ids text[], want bigint[]) RETURNS text
		LANGUAGE plpgsql AS \$\$
		DECLARE
			got bigint[];
			deadline timestamptz := clock_timestamp() + interval '20 seconds';
		BEGIN
			LOOP
				SELECT array_agg(coalesce(w.access_count, -1) ORDER BY i.ord) INTO got
				FROM unnest(ids) WITH ORDINALITY AS i(id, ord)
				LEFT JOIN wasm_cache w ON w.checksum = i.id;
				IF got = want THEN
					RETURN (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text;
				END IF;
				IF clock_timestamp() > deadline THEN
					RETURN 'timeout: access_count ' || got::text || ', expected ' || want::text;
				END IF;
				PERFORM pg_sleep(0.005);
			END LOOP;
		END \$\$;
		SELECT pg_temp.watch('{$(IFS=,; echo "${ids[*]}")}', '{$(IFS=,; echo "${want[*]}")}');
	SQL
	WASM_WATCH_PID=$!
}

# wasm_counted_after END_US: waits for the watch; prints the milliseconds from END_US (unix
# microseconds) to the moment the counts were seen (negative: before END_US), or fails.
wasm_counted_after() {
	wait "$WASM_WATCH_PID" || fail "count watch failed: $(cat "$WASM_WATCH_OUT")"
	local seen
	seen=$(cat "$WASM_WATCH_OUT")
	[[ $seen =~ ^[0-9]+$ ]] || fail "count watch: $seen"
	echo $(((seen - $1) / 1000))
}

# wasm_flushed CHECKSUM=COUNT...: waits until the counts are in the table (flushed).
wasm_flushed() {
	wasm_watch_counts "$@"
	wasm_counted_after 0 >/dev/null
}
