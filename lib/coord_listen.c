#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include <fastcgi.h>

#include "coord_listen.h"
#include "coord_parse.h"
#include "banned.h"

#define LISTEN_BACKLOG 1024
#define SD_LISTEN_FDS_START 3

static void usage(FILE *out, const char *program)
{
	fprintf(out,
		"usage: %s [--listen <unix path>|<host>:<port>]\n"
		"       %s --routes | --help | --version\n"
		"\n"
		"A FastCGI program of the coordinator (SPEC §0.4). Without --listen it serves on the\n"
		"socket its web server passed on fd 0 (lighttpd, mod_fcgid), on a socket passed by\n"
		"systemd socket activation (LISTEN_PID, LISTEN_FDS: fd 3), or, started as plain CGI,\n"
		"one request. Configuration comes from the environment and COORD_CONFIG (SPEC §2).\n"
		"\n"
		"  -l, --listen ADDR  serve FastCGI on ADDR as a daemon of its own: an absolute path\n"
		"                     (Unix socket, created with the process umask; a stale socket\n"
		"                     file is replaced), or host:port ([v6 literal]:port; :port is\n"
		"                     every address)\n"
		"      --routes       print one line \"METHOD PATTERN\" per route and exit\n"
		"  -h, --help         print this text and exit\n"
		"  -V, --version      print the version and exit\n"
		"\n"
		"SIGTERM, SIGINT or SIGUSR1: requests in flight finish, then the process exits 0.\n",
		program, program);
}

int coord_listen_options(struct coord_listen *l, const struct coord_program *prog,
			 const char *program, int argc, char **argv)
{
	enum { OPT_ROUTES = 256 };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "routes", no_argument, NULL, OPT_ROUTES },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(l, 0, sizeof(*l));
	l->fd = FCGI_LISTENSOCK_FILENO;
	if (getenv("GATEWAY_INTERFACE") != NULL || argc < 2)
		return -1;
	opterr = 0; /* our messages name the program, not its full path */
	while ((opt = getopt_long(argc, argv, ":l:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			l->address = optarg;
			break;
		case OPT_ROUTES:
			for (size_t i = 0; i < prog->nroutes; i++)
				printf("%s %s\n", prog->routes[i].method, prog->routes[i].pattern);
			return fflush(stdout) == 0 ? 0 : EX_IOERR;
		case 'h':
			usage(stdout, program);
			return 0;
		case 'V':
			printf("%s (coordinator) %s\n", program, PACKAGE_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "%s: option %s needs an argument\n", program, argv[optind - 1]);
			usage(stderr, program);
			return EX_USAGE;
		default:
			fprintf(stderr, "%s: unknown option %s\n", program, argv[optind - 1]);
			usage(stderr, program);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument %s\n", program, argv[optind]);
		usage(stderr, program);
		return EX_USAGE;
	}
	return -1;
}

/* A socket file left by a process that is gone: nothing accepts on it. */
static bool stale_unix_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(sa->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool stale = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 &&
		     errno == ECONNREFUSED;
	close(fd);
	return stale;
}

static int open_unix(struct coord_listen *l, const char *program)
{
	struct sockaddr_un sa;
	size_t len = strlen(l->address);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (len >= sizeof(sa.sun_path) || len >= sizeof(l->unix_path)) {
		fprintf(stderr, "%s: --listen: socket path longer than %zu bytes\n", program,
			sizeof(sa.sun_path) - 1);
		return EX_USAGE;
	}
	memcpy(sa.sun_path, l->address, len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (stale_unix_socket(&sa))
		unlink(sa.sun_path);
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	memcpy(l->unix_path, sa.sun_path, len + 1);
	if (listen(fd, LISTEN_BACKLOG) != 0)
		goto fail;
	l->fd = fd;
	return -1;
fail:
	fprintf(stderr, "%s: --listen %s: %s\n", program, l->address, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (l->unix_path[0] != '\0')
		unlink(l->unix_path);
	l->unix_path[0] = '\0';
	return EX_UNAVAILABLE;
}

static int open_tcp(struct coord_listen *l, const char *program)
{
	char host[256];
	const char *colon = strrchr(l->address, ':');
	const char *h = l->address;
	size_t hlen = (size_t)(colon - l->address);
	int64_t port;

	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host) ||
	    coord_parse_i64(colon + 1, strlen(colon + 1), 1, 65535, &port) != COORD_OK) {
		fprintf(stderr, "%s: --listen %s: expected <unix path> or <host>:<port>\n", program,
			l->address);
		return EX_USAGE;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int gai = getaddrinfo(hlen > 0 ? host : NULL, colon + 1, &hints, &res);
	if (gai != 0) {
		fprintf(stderr, "%s: --listen %s: %s\n", program, l->address, gai_strerror(gai));
		return EX_USAGE;
	}
	int err = 0, fd = -1;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "%s: --listen %s: %s\n", program, l->address, strerror(err));
		return EX_UNAVAILABLE;
	}
	l->fd = fd;
	return -1;
}

/* sd_listen_fds(3) without libsystemd: LISTEN_PID must name us, the first fd is 3. */
static bool systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int64_t p, n;
	if (pid == NULL || fds == NULL)
		return false;
	if (coord_parse_i64(pid, strlen(pid), 1, INT32_MAX, &p) != COORD_OK || p != getpid() ||
	    coord_parse_i64(fds, strlen(fds), 1, INT32_MAX, &n) != COORD_OK)
		return false;
	return true;
}

int coord_listen_open(struct coord_listen *l, const char *program)
{
	if (l->address == NULL) {
		if (!systemd_socket())
			return -1;
		/* the variables were for us, not for what we might start */
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		int type = 0;
		socklen_t len = sizeof(type);
		if (getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    type != SOCK_STREAM) {
			fprintf(stderr, "%s: socket activation: fd 3 is not a stream socket\n", program);
			return EX_UNAVAILABLE;
		}
		fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
		l->fd = SD_LISTEN_FDS_START;
		l->daemon = true;
		return -1;
	}
	l->daemon = true;
	if (l->address[0] == '/')
		return open_unix(l, program);
	if (strrchr(l->address, ':') != NULL)
		return open_tcp(l, program);
	fprintf(stderr, "%s: --listen %s: expected <unix path> or <host>:<port>\n", program,
		l->address);
	return EX_USAGE;
}

void coord_listen_close(struct coord_listen *l)
{
	if (!l->daemon)
		return;
	close(l->fd);
	if (l->unix_path[0] != '\0')
		unlink(l->unix_path);
}
