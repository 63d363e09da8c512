# shellcheck shell=bash
# Route tables for tests/bats/115-docs.bats: one "METHOD PATTERN" line per route,
# patterns with :param segments as in the programs' route tables.
#
#   routes_from_source FILE.c   the entries of "static const struct coord_route routes[]"
#   routes_from_program PROG    PROG --routes (fails unless every line is a route)
#   routes_of PROGRAM_NAME      worker|api|public|admin|secrets: --routes of the built
#                               program (SPEC §0.4)
#   routes_from_openapi FILE    "PROGRAM METHOD PATTERN" for each operation of an OpenAPI
#                               document but HEAD, {param} written :param, PROGRAM the
#                               first word of the operation's tag (worker, api, public, ...)

routes_from_source() {
	python3 - "$1" <<'PY'
import re, sys
src = open(sys.argv[1], encoding='utf-8').read()
src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
m = re.search(r'struct\s+coord_route\s+routes\s*\[\s*\]\s*=\s*\{(.*?)\n\};', src, re.S)
if m:
    for meth, pat in re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"', m.group(1)):
        print(meth, pat)
PY
}

routes_from_program() {
	local out
	# (a program that lacked --routes would serve one CGI request instead: keep it off
	# the default WASM cache directory)
	out=$(env -i PATH="$PATH" WASM_CACHE_DIR="${BATS_TEST_TMPDIR:-/tmp}/routes-wasm" \
		"$1" --routes </dev/null 2>/dev/null) || return 1
	# (an empty table prints nothing: api.fcgi before its routes existed)
	[[ -n $out ]] || return 0
	grep -Evq '^(GET|POST|DELETE) /[^ ]*$' <<<"$out" && return 1
	printf '%s\n' "$out"
}

routes_of() {
	local name=$1
	routes_from_program "$COORD_BUILD_DIR/fcgi/$name.fcgi" || {
		echo "$COORD_BUILD_DIR/fcgi/$name.fcgi --routes failed" >&2
		return 1
	}
}

routes_from_openapi() {
	python3 - "$1" <<'PY'
import sys, re, yaml
d = yaml.load(open(sys.argv[1], encoding='utf-8'), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
for path, item in d['paths'].items():
    for meth in item:
        if meth in ('get', 'post', 'put', 'patch', 'delete', 'options', 'trace'):
            prog = item[meth]['tags'][0].split(':')[0]
            print(prog, meth.upper(), re.sub(r'\{(\w+)\}', r':\1', path))
PY
}
