/*
 * null.fcgi: the do-nothing FastCGI responder of bench/run, the floor the coordinator's programs
 * are measured against.  Same process model as the real programs (lib/coord_http.c): libfcgi's
 * fcgiapp.h, COORD_THREADS threads (default 16) sharing the listen socket, each with its own
 * FCGX_Request, signals waited for by the main thread.  Every request gets
 * 200 {} with Content-Type application/json; nothing is read or logged.
 *
 * With NULL_FCGI_SENDFILE=<absolute path> (bench/wasm-run's ceiling), every request gets
 * instead 200, Content-Type application/octet-stream and "X-Sendfile: <path>", no body: the
 * web server sends the file.  The answer is built once at start; a path that is not absolute,
 * is longer than 4000 bytes or holds CR or LF is refused (one line on stderr, exit status 1).
 *
 * Build: cc -std=c11 -Wall -Wextra -O2 -pthread $(pkg-config --cflags fcgi) \
 *            -o null.fcgi null.c $(pkg-config --libs fcgi)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <fcgiapp.h>

static const char json_answer[] = "Status: 200 OK\r\n"
				  "Content-Type: application/json\r\n"
				  "Content-Length: 2\r\n"
				  "\r\n"
				  "{}";
static const char *answer = json_answer;
static int answer_len = (int)sizeof(json_answer) - 1;

/* NULL_FCGI_SENDFILE set: the X-Sendfile answer instead of {}.  0, or -1 on a bad path. */
static int sendfile_answer(void)
{
	static char buf[4200];
	const char *path = getenv("NULL_FCGI_SENDFILE");
	if (!path)
		return 0;
	if (path[0] != '/' || strlen(path) > 4000 || strpbrk(path, "\r\n")) {
		fputs("null.fcgi: NULL_FCGI_SENDFILE must be an absolute path of at most 4000 bytes "
		      "without CR or LF\n",
		      stderr);
		return -1;
	}
	answer_len = snprintf(buf, sizeof(buf),
			      "Status: 200 OK\r\n"
			      "Content-Type: application/octet-stream\r\n"
			      "X-Sendfile: %s\r\n"
			      "\r\n",
			      path);
	answer = buf;
	return 0;
}

static void *serve(void *arg)
{
	(void)arg;
	FCGX_Request req;
	if (FCGX_InitRequest(&req, 0, 0) != 0)
		return NULL;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(answer, answer_len, req.out);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	return NULL;
}

static void noop_handler(int sig)
{
	(void)sig;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (sendfile_answer() != 0)
		return 1;
	if (FCGX_Init() != 0) {
		fputs("null.fcgi: cannot initialise libfcgi\n", stderr);
		return 1;
	}
	if (FCGX_IsCGI()) { /* run by hand: answer once, as CGI */
		fwrite(answer, 1, (size_t)answer_len, stdout);
		return 0;
	}

	long n = 16;
	const char *env = getenv("COORD_THREADS");
	if (env && *env) {
		char *end;
		n = strtol(env, &end, 10);
		if (*end || n < 1 || n > 1024) {
			fputs("null.fcgi: COORD_THREADS must be 1-1024\n", stderr);
			return 1;
		}
	}

	/* worker threads never see the signals; this thread waits for them */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noop_handler;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	pthread_t *threads = calloc((size_t)n, sizeof(*threads));
	if (!threads)
		return 1;
	long started = 0;
	for (long i = 0; i < n; i++) {
		if (pthread_create(&threads[i], NULL, serve, NULL) != 0)
			break;
		started++;
	}
	if (started == 0) {
		fputs("null.fcgi: cannot start threads\n", stderr);
		return 1;
	}

	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	FCGX_ShutdownPending();
	/* wakes the threads idle in accept(); requests in flight finish first */
	shutdown(0, SHUT_RDWR);
	for (long i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	return 0;
}
