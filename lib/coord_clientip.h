/* The client address of a request (SPEC §1.7, TRUSTED_PROXIES). */
#ifndef COORD_CLIENTIP_H
#define COORD_CLIENTIP_H

#include <arpa/inet.h>

#include <stdbool.h>

#include "coord_config.h"
#include "coord_err.h"

/* An IP address or CIDR block (v4 or v6): "10.0.0.0/8", "::1". */
enum coord_err coord_cidr_parse(const char *s, struct coord_cidr *out);
bool coord_cidr_contains(const struct coord_cidr *c, int family, const unsigned char *addr);

/*
 * REMOTE_ADDR, unless it is a trusted proxy: then X-Forwarded-For is read
 * right to left, skipping trusted hops. IPv6 in canonical inet_ntop form.
 */
void coord_client_ip(const struct coord_config *cfg, const char *remote_addr,
		     const char *forwarded_for, char out[static INET6_ADDRSTRLEN]);

#endif
