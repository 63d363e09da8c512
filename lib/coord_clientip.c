#include <stdio.h>
#include <string.h>

#include "coord_clientip.h"
#include "coord_parse.h"
#include "banned.h"

enum coord_err coord_cidr_parse(const char *s, struct coord_cidr *out)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(addr))
		return COORD_ERR_INVALID;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
	} else {
		return COORD_ERR_INVALID;
	}
	if (slash) {
		int64_t p;
		if (coord_parse_i64(slash + 1, strlen(slash + 1), 0, out->prefix, &p) != COORD_OK)
			return COORD_ERR_INVALID;
		out->prefix = (unsigned)p;
	}
	return COORD_OK;
}

bool coord_cidr_contains(const struct coord_cidr *c, int family, const unsigned char *addr)
{
	if (c->family != family)
		return false;
	unsigned bits = c->prefix, i = 0;
	for (; bits >= 8; bits -= 8, i++)
		if (c->addr[i] != addr[i])
			return false;
	if (bits) {
		unsigned char mask = (unsigned char)(0xFF << (8 - bits));
		if ((c->addr[i] & mask) != (addr[i] & mask))
			return false;
	}
	return true;
}

static bool parse_ip(const char *s, size_t len, int *family, unsigned char addr[16])
{
	char tmp[INET6_ADDRSTRLEN + 8];
	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, tmp, addr) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

static bool trusted(const struct coord_config *cfg, int family, const unsigned char *addr)
{
	for (size_t i = 0; i < cfg->n_trusted_proxies; i++)
		if (coord_cidr_contains(&cfg->trusted_proxies[i], family, addr))
			return true;
	return false;
}

static void canonical(int family, const unsigned char *addr, char out[static INET6_ADDRSTRLEN])
{
	if (!inet_ntop(family, addr, out, INET6_ADDRSTRLEN))
		out[0] = '\0';
}

void coord_client_ip(const struct coord_config *cfg, const char *remote_addr,
		     const char *forwarded_for, char out[static INET6_ADDRSTRLEN])
{
	int family;
	unsigned char addr[16];

	out[0] = '\0';
	if (!remote_addr || !parse_ip(remote_addr, strlen(remote_addr), &family, addr)) {
		snprintf(out, INET6_ADDRSTRLEN, "%s", remote_addr ? remote_addr : "");
		return;
	}
	canonical(family, addr, out);
	if (!trusted(cfg, family, addr) || !forwarded_for)
		return;
	/* right to left: skip trusted hops; the first untrusted one is the client */
	const char *end = forwarded_for + strlen(forwarded_for);
	while (end > forwarded_for) {
		const char *start = end;
		while (start > forwarded_for && start[-1] != ',')
			start--;
		const char *a = start, *b = end;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		end = start > forwarded_for ? start - 1 : forwarded_for;
		if (a == b)
			continue;
		int f2;
		unsigned char a2[16];
		if (!parse_ip(a, (size_t)(b - a), &f2, a2))
			return; /* unparsable: keep the last trusted hop */
		canonical(f2, a2, out);
		if (!trusted(cfg, f2, a2))
			return;
	}
	/* every entry trusted: out holds the leftmost one */
}

