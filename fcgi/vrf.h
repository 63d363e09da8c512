/* GET /vrf/pubkey of public.fcgi (SPEC §3.4.7). */
#ifndef COORD_FCGI_VRF_H
#define COORD_FCGI_VRF_H

#include "coord_http.h"

void vrf_pubkey(struct coord_req *r);

#endif
