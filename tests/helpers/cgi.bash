# shellcheck shell=bash
# cgi VAR=VALUE... PROGRAM [< body]: runs a FastCGI program of the build as plain CGI
# (SPEC §0.4) with the given CGI variables, like bats' run: sets status, output and
# lines (CRs removed, the program's stderr log line dropped).
cgi() {
	local -a vars=()
	while [[ $# -gt 1 && $1 == *=* ]]; do
		vars+=("$1")
		shift
	done
	run bash -c 'env "$@" 2>/dev/null | tr -d "\r"; exit "${PIPESTATUS[0]}"' _ "${vars[@]}" \
		"$COORD_BUILD_DIR/fcgi/$1"
}
