/*
 * How a FastCGI program gets its listening socket (SPEC §0.4): the one its web server
 * passed on fd 0 (lighttpd, mod_fcgid), one it opens itself (--listen <path>|<host>:<port>),
 * or one adopted from systemd socket activation (LISTEN_PID = our pid, LISTEN_FDS >= 1:
 * fd 3). Also the program's command line: --help, --version, --routes.
 */
#ifndef COORD_LISTEN_H
#define COORD_LISTEN_H

#include <stdbool.h>

#include "coord_http.h"

struct coord_listen {
	const char *address; /* --listen value, NULL if none */
	int fd;              /* the listening socket; FCGI_LISTENSOCK_FILENO when inherited */
	bool daemon;         /* serving on a socket of our own (--listen or systemd), not fd 0 */
	char unix_path[108]; /* a socket file we created: removed at exit */
};

/*
 * Parses the command line. Returns -1 to go on serving, or the exit status after
 * --help/--version/--routes (0) or a usage error (64, usage text on stderr). Under
 * plain CGI (GATEWAY_INTERFACE set) argv is not read: a server may put query words there.
 */
int coord_listen_options(struct coord_listen *l, const struct coord_program *prog,
			 const char *program, int argc, char **argv);
/*
 * Opens the --listen socket, or adopts a systemd-activated one (the LISTEN_* variables
 * are then removed from the environment). Returns -1 on success, else the exit status
 * after one line on stderr (64: a malformed address; 69: it cannot be bound).
 */
int coord_listen_open(struct coord_listen *l, const char *program);
/* Closes a socket of our own and removes the socket file we created. */
void coord_listen_close(struct coord_listen *l);

#endif
