#!/usr/bin/env bats
# Documentation (issue 12 part 5): the man pages in doc/man pass mandoc -Tlint and match the
# programs' --help; every program has a page; doc/openapi.yaml passes a real OpenAPI 3.1
# validator and describes exactly the routes of the five programs' route tables.
# No stack is needed.

load ../helpers/coord
load ../helpers/routes

setup_file() { :; }
teardown_file() { :; }
setup() { :; }
teardown() { :; }

MAN=$COORD_REPO/doc/man
OPENAPI=$COORD_REPO/doc/openapi.yaml
PROGRAMS=(worker api public admin secrets)

# The validator ./dev installs into .tools/ (COORD_OPENAPI_VALIDATOR overrides).
validator() {
	local v=${COORD_OPENAPI_VALIDATOR:-$COORD_REPO/.tools/node_modules/.bin/validate-api}
	[[ -x $v ]] || v=$(command -v validate-api) || {
		echo "no OpenAPI validator: run ./dev (as root) or: npm install --prefix .tools @seriousme/openapi-schema-validator@2.11.0" >&2
		return 1
	}
	printf '%s\n' "$v"
}

# The bin/ programs: the bin_PROGRAMS of Makefile.am.
bin_programs() {
	sed -n '/^bin_PROGRAMS *=/,/[^\\]$/p' "$COORD_REPO/Makefile.am" | tr ' \t\\' '\n\n\n' |
		sed -n 's|^bin/||p'
}

@test "every man page passes mandoc -Tlint, cross-references included" {
	local dir=$BATS_TEST_TMPDIR/man
	mkdir -p "$dir/man8"
	cp "$MAN"/*.8 "$dir/man8/"
	# the pages find each other through a mandoc.db of their own
	makewhatis "$dir"
	run bash -c 'cd "$1/man8" && MANPATH="$1" mandoc -Tlint *.8 2>&1' _ "$dir"
	assert_output ''
	assert_success
	# and a reader gets the text
	run mandoc -Tascii "$MAN/grant-payment-key.8"
	assert_success
	assert_output --partial 'dry run: granted 5000000 to alice.near:1; initial_balance=5000000'
}

@test "every bin/ program and every program of SPEC §6.2 has a page, and Makefile.am installs every page" {
	local p pages
	for p in $(bin_programs) coord-migrate coord-worker-token coord-project grant-payment-key \
		coord-audit coord-reap coord-requeue wasm-cache-evict tee-challenge-cleanup \
		payment-key-cleanup; do
		[[ -f $MAN/$p.8 ]] || fail "no doc/man/$p.8 for $p"
	done
	for p in "$COORD_REPO"/bin/*.c; do
		p=$(basename "$p" .c)
		[[ -f $MAN/$p.8 ]] || fail "no doc/man/$p.8 for bin/$p.c"
	done
	for p in "${PROGRAMS[@]}"; do
		grep -qx "\.Nm $p\.fcgi\( ,\)\{0,1\}" "$MAN/coordinator-fcgi.8" || fail "coordinator-fcgi.8 does not name $p.fcgi"
	done
	pages=$(cd "$MAN" && ls ./*.8 | sed 's|^\./|doc/man/|' | sort)
	assert_equal "$(sed -n '/^dist_man8_MANS *=/,/[^\\]$/p' "$COORD_REPO/Makefile.am" |
		tr ' \t\\' '\n\n\n' | grep '^doc/man/' | sort)" "$pages"
}

@test "each page documents exactly the long options of its program's --help" {
	local p prog help page missing=0
	for p in $(bin_programs); do
		prog=$COORD_BUILD_DIR/bin/$p
		[[ -x $prog ]] || fail "$prog is not built"
		help=$("$prog" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
		page=$(grep -o 'Fl \\-[a-z][a-z-]*' "$MAN/$p.8" | sed 's/^Fl \\-/--/' | sort -u)
		if [[ $help != "$page" ]]; then
			echo "# $p: --help vs page:"
			diff <(echo "$help") <(echo "$page") | sed 's/^/#   /'
			missing=1
		fi
	done
	((missing == 0))
}

@test "doc/openapi.yaml is a valid OpenAPI 3.1 document" {
	local v
	v=$(validator)
	run "$v" "$OPENAPI"
	assert_success
	assert_output --partial '"valid": true'
	run python3 -c 'import sys, yaml; d = yaml.load(open(sys.argv[1]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)); print(d["openapi"], d["info"]["version"])' "$OPENAPI"
	# the package version of configure.ac
	assert_output "3.1.0 $(sed -n 's/^AC_INIT(\[coordinator\], \[\([^]]*\)\].*/\1/p' "$COORD_REPO/configure.ac")"
}

@test "the validator rejects a broken document (it really validates)" {
	local v broken=$BATS_TEST_TMPDIR/broken.yaml
	v=$(validator)
	# a response without its required description
	python3 - "$OPENAPI" "$broken" <<'PY'
import sys, yaml
d = yaml.load(open(sys.argv[1]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
del d['paths']['/health']['get']['responses']['200']['description']
yaml.safe_dump(d, open(sys.argv[2], 'w'))
PY
	run "$v" "$broken"
	assert_failure
	assert_output --partial '"valid": false'
}

@test "every operation answers with the error body and declares its path parameters" {
	run python3 - "$OPENAPI" <<'PY'
import re, sys, yaml
d = yaml.load(open(sys.argv[1]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
comp = d['components']
def resolve(x, kind):
    if '$ref' in x:
        return comp[kind][x['$ref'].rsplit('/', 1)[1]]
    return x
bad = []
for path, item in d['paths'].items():
    want = set(re.findall(r'\{(\w+)\}', path))
    for meth, op in item.items():
        got = {resolve(p, 'parameters')['name'] for p in op.get('parameters', []) if resolve(p, 'parameters')['in'] == 'path'}
        if got != want:
            bad.append(f'{meth} {path}: path parameters {sorted(got)} != {sorted(want)}')
        if meth == 'head':
            continue
        codes = [c for c in op['responses'] if not c.startswith(('2', '3'))]
        if not codes:
            bad.append(f'{meth} {path}: no error response')
        for c in codes:
            r = resolve(op['responses'][c], 'responses')
            s = r.get('content', {}).get('application/json', {}).get('schema', {})
            # SPEC §3.4.1: an unhealthy /health/detailed answers 503 with its own body
            if s.get('$ref') != '#/components/schemas/Error' and (path, c) != ('/health/detailed', '503'):
                bad.append(f'{meth} {path}: {c} is not the Error body')
print('\n'.join(bad))
PY
	assert_success
	assert_output ''
}

@test "drift: openapi.yaml's method+path set equals the five programs' route tables" {
	local p tables
	# per program: an operation's first tag word names the program that serves it
	tables=$(for p in "${PROGRAMS[@]}"; do
		routes_of "$p" | sed "s/^/$p /" || exit 1
	done | sort) || fail "a program's --routes failed"
	run diff <(routes_from_openapi "$OPENAPI" | sort) <(echo "$tables")
	if [[ $status -ne 0 ]]; then
		echo "# < only in doc/openapi.yaml, > only in the route tables:"
		printf '#   %s\n' "${lines[@]}"
	fi
	assert_success
}

@test "HEAD is documented exactly for the GET routes of public.fcgi" {
	run diff <(python3 -c '
import re, sys, yaml
d = yaml.load(open(sys.argv[1]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
for p, item in d["paths"].items():
    if "head" in item: print(re.sub(r"\{(\w+)\}", r":\1", p))' "$OPENAPI" | sort) \
		<(routes_of public | sed -n 's/^GET //p' | sort)
	assert_success
}

@test "the programs' --routes print their route tables as the sources declare them" {
	local p prog
	for p in "${PROGRAMS[@]}"; do
		prog=$COORD_BUILD_DIR/fcgi/$p.fcgi
		routes_from_program "$prog" >/dev/null || fail "$prog --routes failed"
		assert_equal "$(routes_from_program "$prog" | sort)" "$(routes_from_source "$COORD_REPO/fcgi/$p.c" | sort)"
	done
}

@test "coordinator-fcgi.8 documents exactly the options of the FastCGI programs' --help" {
	local p out help page
	page=$(grep -o 'Fl \\-[a-z][a-z-]*' "$MAN/coordinator-fcgi.8" | sed 's/^Fl \\-/--/' | sort -u)
	for p in "${PROGRAMS[@]}"; do
		out=$(env -i PATH="$PATH" "$COORD_BUILD_DIR/fcgi/$p.fcgi" --help </dev/null) ||
			fail "$p.fcgi --help failed"
		help=$(grep -o -- '--[a-z][a-z-]*' <<<"$out" | sort -u)
		assert_equal "$help" "$page"
	done
}
