/*
 * iso_hostnet - an isolate (built by krank-cc in test_hostnet_krank.sh)
 * that uses hostnet through the plain socket calls: argv[1] a Linux echo
 * port, argv[2] a Linux port that waits for EOF, both on 127.0.0.1 and
 * allowed by the deployment.  It leaves the second connection open and
 * returns: KRANK must close it when the isolate ends.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KRS_AF_HOSTNET	19272	/* <krank/krs_hostnet.h> */

static struct sockaddr_in
lo(int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = (uint16_t)((port & 0xff) << 8 | (port >> 8 & 0xff));
	a.sin_addr.s_addr = 0x0100007f;		/* 127.0.0.1, network order */
	return a;
}

int
main(int argc, char **argv)
{
	char buf[64];
	int got = 0;

	if (argc < 3)
		return 2;
	int s = socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo(atoi(argv[1]));
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		printf("iso_hostnet: connect to the echo failed\n");
		return 1;
	}
	if (write(s, "from an isolate", 15) != 15)
		return 1;
	while (got < 15) {
		ssize_t n = read(s, buf + got, sizeof(buf) - 1 - (size_t)got);
		if (n <= 0)
			break;
		got += (int)n;
	}
	buf[got] = '\0';
	printf("iso_hostnet: echo \"%s\"\n", buf);
	close(s);
	int h = socket(KRS_AF_HOSTNET, SOCK_STREAM, 0);
	a = lo(atoi(argv[2]));
	if (h < 0 || connect(h, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    write(h, "iso\n", 4) != 4) {
		printf("iso_hostnet: connect to the holder failed\n");
		return 1;
	}
	printf("iso_hostnet: leaving a host connection open\n");
	return 0;
}
