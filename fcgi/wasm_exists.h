/* The handler worker.fcgi and public.fcgi share (wasm_exists.c). */
#ifndef COORD_FCGI_WASM_EXISTS_H
#define COORD_FCGI_WASM_EXISTS_H

#include "coord_http.h"

void wasm_exists_handler(struct coord_req *r);

#endif
