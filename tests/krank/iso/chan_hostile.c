/* Hostile and unlucky uses of a channel, for test_krk_chan.  argv[1] the
 * mode, argv[2] the channel's name:
 *  abuse    - open the send end and try everything that must be refused
 *             (EINVAL, never a crash); send one good message; exit with
 *             the number of surprises.
 *  rabuse   - create the channel (8 buffers of 256 bytes), take the good
 *             message, write it to a file straight from the buffer (and
 *             fail to once released), try bad releases; exit with the
 *             number of surprises.
 *  hold N   - create the channel (8 x 256), take N messages without
 *             releasing them, say so, then wait to be killed.
 *  fill     - open the send end, send until the pool is empty and a
 *             buffer is waited for; on EPIPE (the receiver died) say so
 *             and wait to be killed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <krank/chan.h>

static int surprises;

static void
expect(int rv, int err, const char *what)
{
	if (rv != -1 || errno != err) {
		printf("chan_hostile: %s: got %d errno %d, wanted errno %d\n",
		    what, rv, errno, err);
		surprises++;
	}
}

static void
wait_forever(void)
{
	for (;;)
		poll(NULL, 0, 1000);
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1], *name = argv[2];
	char local[64];
	void *p, *q;
	size_t len;

	if (strcmp(mode, "abuse") == 0) {
		int fd = krank_chan_open(name, KRANK_CHAN_SEND);
		if (fd < 0)
			return 100;
		expect(krank_chan_open(name, KRANK_CHAN_SEND), EBUSY,
		    "a second send end");
		expect(krank_chan_open(name, KRANK_CHAN_RECV), EBUSY,
		    "the creator's receive end");
		expect(krank_chan_open("no-such-channel", KRANK_CHAN_SEND),
		    ENOENT, "open unknown");
		expect(krank_chan_create(name, 4, 64), EEXIST, "create twice");
		char *heap = malloc(64);
		expect(krank_chan_send(fd, heap, 8), EINVAL, "send heap memory");
		expect(krank_chan_send(fd, local, 8), EINVAL, "send stack memory");
		expect(krank_chan_send(fd, NULL, 8), EINVAL, "send NULL");
		expect(krank_chan_send(fd, (void *)0x1000, 8), EINVAL,
		    "send a wild pointer");
		expect(krank_chan_release(fd, heap), EINVAL, "release heap");
		if (krank_chan_buf(fd, &p) != 256)
			return 101;
		expect(krank_chan_send(fd, (char *)p + 1, 8), EINVAL,
		    "send inside a buffer");
		expect(krank_chan_send(fd, p, 0), EINVAL, "send 0 bytes");
		expect(krank_chan_send(fd, p, 257), EINVAL, "send too long");
		if (krank_chan_release(fd, p) != 0)
			surprises++;
		expect(krank_chan_release(fd, p), EINVAL, "double release");
		expect(krank_chan_send(fd, p, 8), EINVAL, "send a released one");
		if (krank_chan_buf(fd, &q) != 256)
			return 102;
		expect(krank_chan_recv(fd, &p, &len), EBADF,
		    "recv on the send end");
		memcpy(q, "hello", 6);
		if (krank_chan_send(fd, q, 6) != 0)
			surprises++;
		expect(krank_chan_send(fd, q, 6), EINVAL, "send twice");
		expect(krank_chan_release(fd, q), EINVAL,
		    "release what was sent (the receiver's now)");
		free(heap);
		close(fd);
		printf("chan_hostile abuse: %d surprises\n", surprises);
		return surprises;
	}
	if (strcmp(mode, "rabuse") == 0) {
		int fd = krank_chan_create(name, 8, 256);
		if (fd < 0)
			return 100;
		if (krank_chan_recv(fd, &p, &len) != 0 || len != 6 ||
		    strcmp(p, "hello") != 0)
			return 101;
		expect(krank_chan_release(fd, (char *)p + 64), EINVAL,
		    "release inside a buffer");
		expect(krank_chan_release(fd, (char *)p + 256), EINVAL,
		    "release the next buffer (not held)");
		/* A buffer it holds is its memory for other calls too. */
		int f = open("/chan-msg", O_CREAT | O_WRONLY | O_TRUNC, 0600);
		if (f < 0 || write(f, p, 6) != 6) {
			printf("chan_hostile: write a held buffer: errno %d\n",
			    errno);
			surprises++;
		}
		expect(krank_chan_send(fd, p, 6), EBADF, "send on receive end");
		expect(krank_chan_buf(fd, &q), EBADF, "buf on receive end");
		if (krank_chan_release(fd, p) != 0)
			surprises++;
		expect(krank_chan_release(fd, p), EINVAL, "double release");
		expect(write(f, p, 6), EFAULT, "write a released buffer");
		close(f);
		if (krank_chan_recv(fd, &p, &len) != 0 || len != 0 || p != NULL)
			surprises++;		/* end of stream */
		expect(krank_chan_recv(-5, &p, &len), EBADF,
		    "recv on a bad descriptor");
		close(fd);
		printf("chan_hostile rabuse: %d surprises\n", surprises);
		return surprises;
	}
	if (strcmp(mode, "hold") == 0 && argc > 3) {
		int n = atoi(argv[3]);
		int fd = krank_chan_create(name, 8, 256);
		if (fd < 0)
			return 100;
		for (int i = 0; i < n; i++)
			if (krank_chan_recv(fd, &p, &len) != 0 || len == 0)
				return 101;
		printf("chan_hostile: holding %d\n", n);
		wait_forever();
	}
	if (strcmp(mode, "fill") == 0) {
		int fd = krank_chan_open(name, KRANK_CHAN_SEND);
		if (fd < 0)
			return 100;
		for (;;) {
			if (krank_chan_buf(fd, &p) < 0) {
				if (errno != EPIPE)
					return 101;
				break;
			}
			if (krank_chan_send(fd, p, 1) != 0)
				return 102;
		}
		printf("chan_hostile: EPIPE after the receiver died\n");
		wait_forever();
	}
	return 2;
}
