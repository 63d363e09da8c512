/*
 * multipart/form-data (RFC 7578 over RFC 2046) for POST /wasm/upload
 * (SPEC §3.2.5). The body is already in memory: the parser works in place
 * over (body, len), never reads past len, never copies part data, and
 * allocates only the part array and the name/filename strings, from the
 * caller's arena (released with it; nothing to free one by one).
 *
 * What is accepted, precisely (B is the boundary, NL the body's line ending):
 * - NL is fixed by the line that ends the opening delimiter: CRLF, or a bare
 *   LF (some clients). The whole body is then held to that one NL: in a CRLF
 *   body a bare LF is part data ("x\n--B" does not end a part) but malformed
 *   in headers and delimiter lines; in an LF body a CR is part data (a CR
 *   before "\n--B" belongs to the data) but malformed in headers and
 *   delimiter lines.
 * - Preamble: everything before the first "--B" that starts the body or a
 *   line (follows an LF) and is a delimiter (next point); ignored.
 * - "--B" is a delimiter only when followed by SP, HT, CR, LF or "--";
 *   "--BX" (a longer boundary) is ordinary text. A delimiter line is then
 *   "--B", optional SP/HT padding, NL; the close delimiter is "--B--", and
 *   everything after it (padding, epilogue) is ignored. A delimiter line
 *   that goes wrong after "--B" is an error, not data.
 * - At least one part (RFC 2046): a close delimiter first is an error.
 * - After a delimiter line come the part headers: lines ending in NL, up to
 *   an empty line. Each line (without NL) is at most
 *   COORD_MULTIPART_MAX_HEADER_LINE bytes, a part's header block (every line
 *   with its NL, and the empty line) at most COORD_MULTIPART_MAX_HEADERS.
 *   A line is token ":" OWS value OWS (no space before ':'; no obs-fold
 *   continuation lines); the value holds HT, SP, VCHAR and bytes >= 0x80,
 *   no other control byte, so never a NUL. Header names are
 *   case-insensitive; headers other than Content-Disposition are ignored.
 * - Content-Disposition, exactly once per part: "form-data" (any case),
 *   then *(OWS ";" OWS [param]) (empty parameters allowed, RFC 9110); a
 *   param is token "=" (token / quoted-string), no spaces around '=';
 *   names case-insensitive. A quoted-string may hold backslash escapes
 *   ("\x" stands for x), removed in the result. "name" is required (it may
 *   be empty), "filename" optional; each at most once; others (filename*
 *   too) ignored. No percent- or RFC 2231 decoding.
 * - A part's data starts after the empty line and ends at the NL of the
 *   next delimiter; that NL must lie inside the data (so data that starts
 *   with "--B" is data). Data may hold anything else: NULs, CRs, LFs, "--",
 *   "--B" not preceded by NL, "NL--BX".
 */
#ifndef COORD_MULTIPART_H
#define COORD_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "coord_err.h"
#include "coord_mem.h"

#define COORD_MULTIPART_MAX_PARTS 32
#define COORD_MULTIPART_MAX_BOUNDARY 70       /* RFC 2046 */
#define COORD_MULTIPART_MAX_HEADER_LINE 1024  /* bytes of one line, without NL */
#define COORD_MULTIPART_MAX_HEADERS 8192      /* bytes of one part's header block */

struct coord_multipart_part {
	const char *name;     /* Content-Disposition name, unescaped, NUL-terminated (arena) */
	const char *filename; /* filename, likewise, or NULL when absent */
	const char *data;     /* points into the body: binary-safe, not NUL-terminated */
	size_t len;
};

/*
 * Extracts the boundary from a Content-Type header value:
 * OWS "multipart/form-data" *(OWS ";" OWS [param]) OWS, the media type and
 * parameter names case-insensitive, empty parameters allowed (RFC 9110).
 * A param is token "=" value with no spaces around '='. The boundary value
 * is a quoted-string (quotes and backslash escapes removed) or a bare run of
 * RFC 2046 bcharsnospace (this also lets through ( ) , / : = ? unquoted,
 * which RFC 9110 would want quoted: mail-style clients send "----=_Part");
 * other parameters (charset, ...) are token or quoted-string and ignored.
 * The boundary must appear once, be 1..70 bchars and not end in a space.
 * Writes it NUL-terminated to out; on failure out is "".
 * COORD_ERR_INVALID when content_type is NULL, not multipart/form-data, or
 * the boundary is missing, repeated or bad.
 */
enum coord_err coord_multipart_boundary(const char *content_type,
					char out[static COORD_MULTIPART_MAX_BOUNDARY + 1]);

/*
 * Parses body (len bytes; need not be NUL-terminated) with boundary (as
 * given by coord_multipart_boundary; checked again) under the rules above.
 * On COORD_OK, *parts (arena, never NULL) holds *nparts parts in body
 * order, 1..COORD_MULTIPART_MAX_PARTS, whose data point into body (keep
 * body alive as long as the parts), and *why is NULL. On COORD_ERR_INVALID, *parts is NULL,
 * *nparts 0 and *why (when why is not NULL) a static human-readable reason:
 * bad boundary, no opening delimiter, no parts, truncated body (no close
 * delimiter; cut in headers or data), malformed delimiter line, malformed
 * or oversized headers, missing or repeated Content-Disposition, missing
 * name, more than COORD_MULTIPART_MAX_PARTS parts. On both, the arena may
 * hold allocations until it is released. Repeated part names are not an
 * error here (see coord_multipart_find).
 */
enum coord_err coord_multipart_parse(struct coord_arena *arena, const char *boundary,
				     const char *body, size_t len,
				     struct coord_multipart_part **parts, size_t *nparts,
				     const char **why);

/*
 * The first part named name (exact, case-sensitive), or NULL. When
 * duplicate is not NULL, *duplicate says whether another part has the same
 * name, so a route can refuse a repeated part.
 */
const struct coord_multipart_part *coord_multipart_find(const struct coord_multipart_part *parts,
							size_t n, const char *name,
							bool *duplicate);

#endif
