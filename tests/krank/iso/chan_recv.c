/* The receiving isolate of test_krk_chan: creates channel argv[1] of
 * argv[2] buffers of argv[3] bytes, takes messages until end of stream,
 * checks each one's length and bytes (as chan_send.c writes them) and
 * releases it.  argv[4]: "block" (recv waits), "poll" (poll() first, on
 * an O_NONBLOCK end) or "epoll" (epoll_wait first).  Prints the count;
 * exit 0 when every message was right and argv[5] (if given) arrived. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <krank/chan.h>

int
main(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	unsigned bufsize = (unsigned)atoi(argv[3]);
	int fd = krank_chan_create(argv[1], (unsigned)atoi(argv[2]), bufsize);
	if (fd < 0) {
		printf("chan_recv: create %s: errno %d\n", argv[1], errno);
		return 3;
	}
	const char *mode = argv[4];
	int ep = -1;
	if (strcmp(mode, "block") != 0)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	if (strcmp(mode, "epoll") == 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };
		ep = epoll_create1(0);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			return 4;
	}
	long n = 0, bad = 0, waits = 0;
	for (;;) {
		void *p;
		size_t len;
		if (krank_chan_recv(fd, &p, &len) != 0) {
			if (errno != EAGAIN || strcmp(mode, "block") == 0) {
				printf("chan_recv: recv: errno %d\n", errno);
				return 5;
			}
			waits++;
			if (ep >= 0) {
				struct epoll_event ev;
				if (epoll_wait(ep, &ev, 1, 10000) != 1 ||
				    ev.data.u64 != 7)
					return 6;
			} else {
				struct pollfd pf = { fd, POLLIN, 0 };
				if (poll(&pf, 1, 10000) != 1 ||
				    !(pf.revents & POLLIN))
					return 6;
			}
			continue;
		}
		if (len == 0 && p == NULL)
			break;			/* end of stream */
		const unsigned char *b = p;
		size_t want = 1 + ((size_t)n * 7919u) % bufsize;
		if (len != want || b[0] != (unsigned char)n ||
		    b[len - 1] != (unsigned char)(n + len - 1) ||
		    b[len / 2] != (unsigned char)(n + len / 2))
			bad++;
		if (krank_chan_release(fd, p) != 0)
			bad++;
		n++;
	}
	printf("chan_recv: %ld messages, %ld bad, %ld waits (%s)\n", n, bad,
	    waits, mode);
	close(fd);
	if (argc > 5 && n != atol(argv[5]))
		return 7;
	return bad ? 1 : 0;
}
