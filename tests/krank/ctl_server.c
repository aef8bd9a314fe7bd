/*
 * ctl_server - a KRANK control socket over a booted stack, for
 * test_krankctl.sh: tmpfs on / and /data, two network stacks joined by an
 * in-process wire (KRANK's side virt0 10.0.0.1, a peer 10.0.0.2), one
 * established TCP connection and a listener, and a peer that sends a UDP
 * datagram "krank-capture N" to 10.0.0.1:7777 every 20 ms so captures
 * have known frames (KRANK's side echoes each one back).  Isolates are
 * real (krank/krk_isolate.c): TICK.kx runs as the isolate "ticker" on
 * the highest core this process may use, and krankctl spawns more.
 *
 * usage: ctl_server TICK.kx SOCKET [GROUP]
 * Prints "ready" when serving; stops (krk_ctl_stop) at end of stdin.
 * The stdin lines "flood on" and "flood off" make the peer send without
 * pause (and print "did LINE" when done).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>
#include "net/krs_net.h"

#include "krk.h"
#include "krk_ctl_int.h"
#include "rdtest_net.h"

static int peer_stack;
static volatile int stop_traffic;
static volatile int flood;		/* send without pause: fill capture rings */

static void
die(const char *what)
{
	fprintf(stderr, "ctl_server: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *
traffic(void *arg)
{
	(void)arg;
	krs_net_stack_select(peer_stack);
	int s = krs_socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		die("peer udp socket");
	struct sockaddr_in to = rd_sin4("10.0.0.1", 7777);
	for (unsigned n = 0; !stop_traffic; n++) {
		char msg[64];
		int len = snprintf(msg, sizeof(msg), "krank-capture %u", n);
		krs_sendto(s, msg, (size_t)len, 0, &to, sizeof(to));
		if (flood)
			continue;
		struct timespec ts = { 0, 20000000 };
		nanosleep(&ts, NULL);
	}
	krs_close(s);
	return NULL;
}

/* Echo each datagram back, so captures see frames both ways. */
static void *
sink(void *arg)
{
	int s = *(int *)arg;
	char buf[256];
	while (!stop_traffic) {
		struct sockaddr_in from;
		uint32_t fl = sizeof(from);
		ssize_t n = krs_recvfrom(s, buf, sizeof(buf), 0, &from, &fl);
		if (n < 0 && errno != EAGAIN)
			break;
		if (n > 0)
			krs_sendto(s, buf, (size_t)n, 0, &from, fl);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	char err[256], name[32];
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: ctl_server TICK.kx SOCKET [GROUP]\n");
		return 2;
	}
	const char *tick = argv[1];
	argc--;
	argv++;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (krk_log_init(64 << 10, KRK_LOG_WARN) != 0)
		die("log init");
	if (krs_boot("vfs,tmpfs,net,ether,virtif,socket,inet", err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "ctl_server: boot: %s\n", err);
		return 1;
	}
	if (krs_mount("tmpfs", "/", "tmpfs", 0, "size=4m", 7) != 0 ||
	    krs_mkdir("/data", 0755) != 0 ||
	    krs_mount("datafs", "/data", "tmpfs", 0, "size=1m", 7) != 0)
		die("tmpfs mounts");
	int fd = krs_open("/data/file", KRS_O_CREAT | KRS_O_WRONLY, 0644);
	static char blob[256 << 10];
	if (fd < 0 || krs_write(fd, blob, sizeof(blob)) != (ssize_t)sizeof(blob))
		die("/data/file");
	krs_close(fd);

	/* KRANK's stack 0 and the peer, joined by a wire. */
	if (krs_if_virt_attach("wire:ctlw,mac=02:00:00:00:0c:01", name,
	    sizeof(name)) != 0 || krs_if_setaddr(name, "10.0.0.1/24") != 0 ||
	    krs_if_up(name, 1) != 0)
		die("stack 0 interface");
	if ((peer_stack = krs_net_stack_create("peer")) < 0)
		die("peer stack");
	krs_net_stack_select(peer_stack);
	if (krs_if_virt_attach("wire:ctlw,mac=02:00:00:00:0c:02", name,
	    sizeof(name)) != 0 || krs_if_setaddr(name, "10.0.0.2/24") != 0 ||
	    krs_if_up(name, 1) != 0)
		die("peer interface");

	/* A listener on KRANK's side and one connection to it. */
	krs_net_stack_select(0);
	int l = krs_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = rd_sin4("10.0.0.1", 80);
	if (l < 0 || krs_bind(l, &a, sizeof(a)) != 0 || krs_listen(l, 8) != 0)
		die("listener");
	int u = krs_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = rd_sin4("10.0.0.1", 7777);
	struct timeval tv = { 0, 200000 };
	if (u < 0 || krs_bind(u, &ua, sizeof(ua)) != 0 ||
	    krs_setsockopt(u, KRS_SOL_SOCKET, KRS_SO_RCVTIMEO, &tv,
	    sizeof(tv)) != 0)
		die("udp sink");
	krs_net_stack_select(peer_stack);
	int c = krs_socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || krs_connect(c, &a, sizeof(a)) != 0)
		die("connect");
	krs_net_stack_select(0);
	int acc = krs_accept(l, NULL, NULL);
	if (acc < 0)
		die("accept");

	pthread_t tt, st;
	pthread_create(&tt, NULL, traffic, NULL);
	pthread_create(&st, NULL, sink, &u);

	krk_log(KRK_LOG_INFO, "ctl_server: booted; a \"quoted\" word, a "
	    "back\\slash and a\ttab");
	int id, e;
	cpu_set_t cpus;
	struct krk_isolate_cfg cfg = { .name = "ticker", .elf = (char *)tick,
	    .core = 0, .heap = 64u << 20, .fds = 1024 };
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		for (int k = 0; k < CPU_SETSIZE; k++)
			if (CPU_ISSET(k, &cpus))
				cfg.core = k;
	if ((e = krk_isolates_init()) != 0) {
		fprintf(stderr, "ctl_server: krk_isolates_init: %s\n",
		    strerror(e));
		return 1;
	}
	if (krk_isolate_spawn(&cfg, &id, err, sizeof(err)) != 0) {
		fprintf(stderr, "ctl_server: spawn ticker: %s\n", err);
		return 1;
	}
	if (krk_ctl_start(argv[1], argc > 2 ? argv[2] : NULL, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "ctl_server: %s\n", err);
		return 1;
	}
	/* A second start in one process is refused. */
	if (krk_ctl_start(argv[1], NULL, err, sizeof(err)) != EBUSY) {
		fprintf(stderr, "ctl_server: a second krk_ctl_start was not "
		    "refused\n");
		return 1;
	}
	printf("ready\n");
	char line[64];
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strcmp(line, "flood on\n") == 0)
			flood = 1;
		else if (strcmp(line, "flood off\n") == 0)
			flood = 0;
		printf("did %s", line);
	}
	krk_ctl_stop();
	stop_traffic = 1;
	pthread_join(tt, NULL);
	pthread_join(st, NULL);
	printf("stopped: %llu requests, %llu malformed, %llu refused\n",
	    (unsigned long long)krk_ctl_stats.requests,
	    (unsigned long long)krk_ctl_stats.malformed,
	    (unsigned long long)krk_ctl_stats.refused);
	krk_isolates_fini();
	krs_close(acc);
	krs_close(c);
	return 0;
}
