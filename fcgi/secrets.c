/*
 * secrets.fcgi: the keystore proxy (SPEC §3.6). Its routes come with the
 * secrets issue; until then every path answers the standard 404.
 */
#include "coord_http.h"
#include "banned.h"

static const struct coord_program program = {
	.group = "secrets",
	.routes = NULL,
	.nroutes = 0,
};

int main(int argc, char **argv)
{
	return coord_serve(&program, argc, argv);
}
