/* Attestation handlers of public.fcgi (attestations.c). */
#ifndef COORD_FCGI_ATTESTATIONS_H
#define COORD_FCGI_ATTESTATIONS_H

#include "coord_http.h"

void attestations_post(struct coord_req *r);
void attestations_get(struct coord_req *r);

#endif
