/* The sending isolate of test_krk_chan: opens the send end of channel
 * argv[1], sends argv[2] messages (message i: 1 + i*7919 % bufsize bytes,
 * byte j is i + j), closes.  Exit 0 when all were sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <krank/chan.h>

int
main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int fd = krank_chan_open(argv[1], KRANK_CHAN_SEND);
	if (fd < 0) {
		printf("chan_send: open %s: errno %d\n", argv[1], errno);
		return 3;
	}
	long count = atol(argv[2]);
	for (long i = 0; i < count; i++) {
		void *p;
		long cap = krank_chan_buf(fd, &p);
		if (cap <= 0) {
			printf("chan_send: buf: errno %d\n", errno);
			return 4;
		}
		size_t len = 1 + ((size_t)i * 7919u) % (size_t)cap;
		unsigned char *b = p;
		b[0] = (unsigned char)i;
		b[len / 2] = (unsigned char)(i + len / 2);
		b[len - 1] = (unsigned char)(i + len - 1);
		if (krank_chan_send(fd, p, len) != 0) {
			printf("chan_send: send: errno %d\n", errno);
			return 5;
		}
	}
	close(fd);
	return 0;
}
