/* Public storage and project usage of public.fcgi (SPEC §3.4.4). */
#ifndef COORD_FCGI_PUBLIC_STORAGE_H
#define COORD_FCGI_PUBLIC_STORAGE_H

#include "coord_http.h"

void public_storage_get(struct coord_req *r);
void public_storage_batch(struct coord_req *r);
void public_project_storage(struct coord_req *r);

#endif
