/*
 * Table-driven tests of coord_client_ip (SPEC §1.7): REMOTE_ADDR unless it
 * is a trusted proxy; then X-Forwarded-For read right to left, trusted
 * hops skipped, the first untrusted entry wins, all trusted gives the
 * leftmost, an unparsable entry stops the walk at the last trusted hop.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "coord_config.h"
#include "coord_clientip.h"
#include "tap.h"
#include "banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const proxies[] = { "10.0.0.0/8", "192.168.1.1", "::1", "fd00::/8" };

static const struct {
	bool with_proxies; /* false: TRUSTED_PROXIES empty */
	const char *remote;
	const char *xff; /* NULL: no header */
	const char *want;
} ip_cases[] = {
	/* untrusted REMOTE_ADDR: X-Forwarded-For is ignored */
	{ true, "203.0.113.5", "1.2.3.4", "203.0.113.5" },
	{ true, "203.0.113.5", NULL, "203.0.113.5" },
	{ true, "192.168.1.2", "1.2.3.4", "192.168.1.2" },
	{ true, "11.0.0.1", "1.2.3.4, 10.0.0.2", "11.0.0.1" },
	{ true, "2001:db8::9", "1.2.3.4", "2001:db8::9" },
	{ true, "::2", "1.2.3.4", "::2" },
	{ false, "10.0.0.1", "1.2.3.4", "10.0.0.1" },
	{ false, "::1", "1.2.3.4", "::1" },
	/* trusted REMOTE_ADDR without a usable header */
	{ true, "10.0.0.1", NULL, "10.0.0.1" },
	{ true, "10.0.0.1", "", "10.0.0.1" },
	{ true, "10.0.0.1", "   ", "10.0.0.1" },
	/* the rightmost untrusted entry is the client */
	{ true, "10.0.0.1", "1.2.3.4", "1.2.3.4" },
	{ true, "192.168.1.1", "1.2.3.4", "1.2.3.4" },
	{ true, "10.0.0.1", "1.2.3.4, 10.0.0.2", "1.2.3.4" },
	{ true, "10.0.0.1", "1.2.3.4,10.0.0.2", "1.2.3.4" },
	{ true, "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4" },
	{ true, "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2, 192.168.1.1", "1.2.3.4" },
	{ true, "10.0.0.1", "1.2.3.4, 10.0.0.2, 5.6.7.8", "5.6.7.8" },
	{ true, "::1", "1.2.3.4", "1.2.3.4" },
	{ true, "fd00::5", "2001:db8::7, fd00::6", "2001:db8::7" },
	{ true, "10.0.0.1", "2001:db8::7, 10.0.0.2", "2001:db8::7" },
	/* every entry trusted: the leftmost */
	{ true, "10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3" },
	{ true, "10.0.0.1", "10.0.0.3", "10.0.0.3" },
	{ true, "10.0.0.1", "::1, 10.0.0.2, 192.168.1.1", "::1" },
	/* an unparsable entry stops the walk: the last trusted hop is used */
	{ true, "10.0.0.1", "1.2.3.4, garbage, 10.0.0.2", "10.0.0.2" },
	{ true, "10.0.0.1", "1.2.3.4, 10.0.0.2, unknown", "10.0.0.1" },
	{ true, "10.0.0.1", "garbage", "10.0.0.1" },
	{ true, "10.0.0.1", "1.2.3.4:5678", "10.0.0.1" },
	{ true, "10.0.0.1", "[2001:db8::7]", "10.0.0.1" },
	{ true, "10.0.0.1", "1.2.3.4, 10.0.0.3 10.0.0.2", "10.0.0.1" },
	{ true, "10.0.0.1", "1.2.3.4, 10.0.0.3, 999.0.0.1, 10.0.0.2", "10.0.0.2" },
	{ true, "10.0.0.1", "1.2.3.4, 10.0.0.3, 1.2.3, 10.0.0.2", "10.0.0.2" },
	{ true, "10.0.0.1",
	  "1.2.3.4, 10.0.0.3, 1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa, 10.0.0.2",
	  "10.0.0.2" },
	{ true, "10.0.0.1", "1.2.3.4, 10.0.0.3, caf\xc3\xa9, 10.0.0.2", "10.0.0.2" },
	{ true, "10.0.0.1", "1.2.3.4, 10.0.0.3, \xff\xfe, 10.0.0.2", "10.0.0.2" },
	/* IPv6 in canonical inet_ntop form */
	{ true, "0:0:0:0:0:0:0:1", NULL, "::1" },
	{ true, "2001:DB8:0:0:0:0:0:1", NULL, "2001:db8::1" },
	{ true, "0:0:0:0:0:0:0:1", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
	{ true, "10.0.0.1", "FD00:0:0:0:0:0:0:7, ::1", "fd00::7" },
	{ true, "10.0.0.1", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
	{ true, "10.0.0.1", "::FFFF:1.2.3.4", "::ffff:1.2.3.4" },
	/* spaces and tabs around entries */
	{ true, "10.0.0.1", "  1.2.3.4  ,   10.0.0.2  ", "1.2.3.4" },
	{ true, "10.0.0.1", "\t1.2.3.4\t,\t10.0.0.2\t", "1.2.3.4" },
	{ true, "10.0.0.1", " 2001:DB8::1 ", "2001:db8::1" },
	{ true, "10.0.0.1", "10.0.0.3 ,10.0.0.2", "10.0.0.3" },
};

static void test_client_ip(void)
{
	struct coord_config with, without;
	struct coord_cidr cidrs[N(proxies)];
	bool setup = true;

	memset(&with, 0, sizeof(with));
	memset(&without, 0, sizeof(without));
	for (size_t i = 0; i < N(proxies); i++)
		if (coord_cidr_parse(proxies[i], &cidrs[i]) != COORD_OK)
			setup = false;
	with.trusted_proxies = cidrs;
	with.n_trusted_proxies = N(proxies);
	ok(setup, "TRUSTED_PROXIES parsed");

	for (size_t i = 0; i < N(ip_cases); i++) {
		char out[INET6_ADDRSTRLEN];
		memset(out, 'X', sizeof(out));
		coord_client_ip(ip_cases[i].with_proxies ? &with : &without, ip_cases[i].remote,
				ip_cases[i].xff, out);
		bool good = memchr(out, '\0', sizeof(out)) && strcmp(out, ip_cases[i].want) == 0;
		ok(good, "client_ip #%zu REMOTE_ADDR=%s X-Forwarded-For=%s%s%s -> %s (got %.*s)", i,
		   ip_cases[i].remote, ip_cases[i].xff ? "\"" : "",
		   ip_cases[i].xff ? show(ip_cases[i].xff, strlen(ip_cases[i].xff)) : "(none)", ip_cases[i].xff ? "\"" : "",
		   ip_cases[i].want, (int)sizeof(out), out);
	}
}

int main(void)
{
	test_client_ip();
	return tap_done();
}
