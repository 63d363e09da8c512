/*
 * api.fcgi: paying HTTPS clients (SPEC §3.3). Its routes come with the
 * HTTPS-call issue; until then every path answers the standard 404.
 */
#include "coord_http.h"
#include "banned.h"

static const struct coord_program program = {
	.group = "api",
	.routes = NULL,
	.nroutes = 0,
	.cors_any = true,
};

int main(int argc, char **argv)
{
	return coord_serve(&program, argc, argv);
}
