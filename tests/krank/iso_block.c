/*
 * iso_block.c - an isolate that blocks forever in one call, for the kill
 * test of test_krk_sys.sh: krk_sys_run --kill-after kills the isolate
 * (krk_isolate_kill), and the shim must give the thread up within one
 * wait slice.
 *   iso_block poll|epoll|sleep|cond|mutex|print|malloc|close
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static volatile int held;

static void *
holder(void *arg)
{
	struct timespec forever = { 3600, 0 };

	(void)arg;
	pthread_mutex_lock(&m);
	held = 1;
	nanosleep(&forever, NULL);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct timespec ms = { 0, 1000000 }, forever = { 3600, 0 };

	if (argc < 2)
		return 2;
	const char *mode = argv[1];
	printf("blocking in %s\n", mode);
	if (strcmp(mode, "poll") == 0 || strcmp(mode, "epoll") == 0) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a;

		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons(7201);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0)
			return 3;
		if (mode[0] == 'p') {
			struct pollfd p = { s, POLLIN, 0 };

			poll(&p, 1, -1);
		} else {
			struct epoll_event ev = { EPOLLIN, { 0 } }, out;
			int ep = epoll_create1(0);

			if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) != 0)
				return 3;
			epoll_wait(ep, &out, 1, -1);
		}
	} else if (strcmp(mode, "sleep") == 0) {
		nanosleep(&forever, NULL);
	} else if (strcmp(mode, "cond") == 0) {
		pthread_mutex_lock(&m);
		for (;;)
			pthread_cond_wait(&c, &m);
	} else if (strcmp(mode, "print") == 0) {
		/* Not blocked: writing its console (KRANK's log) without
		 * pause, so the kill often lands inside the console write. */
		for (unsigned long i = 0;; i++)
			printf("line %lu\n", i);
	} else if (strcmp(mode, "malloc") == 0) {
		/* Busy in its heap arena: blocks past the thread caches, so
		 * most calls take the arena's lock. */
		for (unsigned long i = 0;; i++)
			free(malloc(20000 + (i % 5) * 4096));
	} else if (strcmp(mode, "close") == 0) {
		/* Closing descriptors while it has many epoll instances: each
		 * close walks KRANK's epoll table under its lock. */
		for (int i = 0; i < 200; i++)
			if (epoll_create1(0) < 0)
				return 3;
		for (;;)
			close(open("/", O_RDONLY));
	} else if (strcmp(mode, "mutex") == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, holder, NULL) != 0)
			return 3;
		for (int i = 0; i < 5000 && !held; i++)
			nanosleep(&ms, NULL);
		pthread_mutex_lock(&m);
	} else
		return 2;
	printf("returned from %s: not killed\n", mode);
	return 1;
}
