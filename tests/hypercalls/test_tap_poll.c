/*
 * test_tap_poll - run to completion on a tap (HYP_PKT_CAP_POLL), against
 * Linux's own stack in a network namespace of the test's own (unshare:
 * nothing outside it is touched).  Linux sends UDP datagrams into the
 * tap; while the pollers' beat moves, the polling thread receives them in
 * its own thread (counted in rx_polled) and the receive thread stands
 * aside; once the poller sleeps the receive thread takes every frame that
 * follows.  Hostile frames through the poller (longer than the port's
 * MTU yet not merged, sent by a packet socket once Linux's MTU is raised)
 * are counted in rx_bad and never handed up.  A poller that begins while
 * the receive thread sleeps on the tap kicks it out once, and the frames
 * it polls then do not wake that thread each.  Needs root (skips).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <krank/hyp.h>
#include "hyptest.h"
#include "../testclock.h"

#define TAP "ktpoll0"
#define PORT 9999

static pthread_t rc_main;
static unsigned rc_mine, rc_theirs, rc_big;	/* atomic */

/* Our datagrams only (IPv4, UDP to PORT): Linux may send others. */
static int
ours(const unsigned char *f, size_t len)
{
	return len >= 14 + 20 + 8 && f[12] == 0x08 && f[13] == 0x00 &&
	    f[14 + 9] == 17 && f[14 + 20 + 2] == PORT >> 8 &&
	    f[14 + 20 + 3] == (PORT & 0xff);
}

static void
rc_rx(void *arg, struct hyp_pkt_frame *fr, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fr[i].len > 1500 + 18)
			__atomic_add_fetch(&rc_big, 1, __ATOMIC_RELAXED);
		if (ours(fr[i].data, fr[i].len)) {
			if (pthread_equal(pthread_self(), rc_main))
				__atomic_add_fetch(&rc_mine, 1, __ATOMIC_RELAXED);
			else
				__atomic_add_fetch(&rc_theirs, 1,
				    __ATOMIC_RELAXED);
		}
		hyp_pkt_frame_free(arg, &fr[i]);
	}
}

static unsigned
total(void)
{
	return __atomic_load_n(&rc_mine, __ATOMIC_RELAXED) +
	    __atomic_load_n(&rc_theirs, __ATOMIC_RELAXED);
}

/* The thread of this process named name, or -1. */
static pid_t
task_named(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	pid_t tid = -1;
	while (d != NULL && tid < 0 && (de = readdir(d)) != NULL) {
		char path[300], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
		    de->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, name, strlen(name)) == 0 &&
		    comm[strlen(name)] == '\n')
			tid = (pid_t)atoi(de->d_name);
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	return tid;
}

/* Context switches of thread tid so far (voluntary and not), or -1. */
static long
task_switches(pid_t tid)
{
	char path[64], line[128];
	long n = 0;
	int got = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		long v;
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1) {
			n += v;
			got++;
		}
	}
	fclose(f);
	return got == 2 ? n : -1;
}

/* Sends 100 datagrams, each once the one before was handed up. */
struct sender {
	int s, cpu, stop;
	struct sockaddr_in to;
	unsigned base, sent;
};

static void *
sender(void *arg)
{
	struct sender *sd = arg;
	if (sd->cpu >= 0) {
		cpu_set_t c;
		CPU_ZERO(&c);
		CPU_SET(sd->cpu, &c);
		(void)sched_setaffinity(0, sizeof(c), &c);
	}
	for (unsigned i = 0; i < 100 && !__atomic_load_n(&sd->stop,
	    __ATOMIC_RELAXED); i++) {
		if (sendto(sd->s, &i, sizeof(i), 0, (struct sockaddr *)&sd->to,
		    sizeof(sd->to)) != (ssize_t)sizeof(i))
			break;
		sd->sent++;
		while (total() < sd->base + sd->sent &&
		    !__atomic_load_n(&sd->stop, __ATOMIC_RELAXED))
			;
	}
	return NULL;
}

static int
sh(const char *cmd)
{
	int rv = system(cmd);
	if (rv != 0)
		printf("info: '%s' exited %d\n", cmd, rv);
	return rv;
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: needs root (a tap in a network namespace)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("SKIP: no network namespace: %s\n", strerror(errno));
		return 77;
	}
	if (sh("ip link set lo up") != 0) {
		printf("SKIP: ip(8) does not work here\n");
		return 77;
	}
	ht_init(1);

	struct hyp_pkt *p;
	struct hyp_pkt_info info;
	struct hyp_pkt_host_stats hs;
	struct hyp_pkt_stats st;
	uint32_t beat = 0;
	int rv = hyp_pkt_open("tap:" TAP, &p);
	CHECK(rv == 0, "tap:" TAP " opens (error %d)", rv);
	if (rv != 0)
		return 1;
	hyp_pkt_info(p, &info);
	CHECK(info.caps & HYP_PKT_CAP_POLL, "a tap may be polled by any thread "
	    "(HYP_PKT_CAP_POLL)");
	CHECK(hyp_pkt_rx_poll(p) == 0, "hyp_pkt_rx_poll outside callback mode "
	    "hands up nothing");
	if (sh("ip addr add 10.89.0.1/24 dev " TAP " && ip link set " TAP
	    " up && ip neigh add 10.89.0.2 lladdr 02:00:00:00:00:02 dev " TAP
	    " nud permanent") != 0) {
		CHECK(0, "configure " TAP);
		return 1;
	}
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET,
	    .sin_port = htons(PORT) };
	inet_pton(AF_INET, "10.89.0.2", &to.sin_addr);

	rc_main = pthread_self();
	hyp_pkt_rx_park(p, &beat);
	CHECK(hyp_pkt_set_rx(p, rc_rx, p) == 0, "callback mode");
	unsigned lost = 0;
	for (unsigned i = 0; i < 200; i++) {
		__atomic_add_fetch(&beat, HYP_PKT_POLL_BEGIN, __ATOMIC_RELAXED);
		if (sendto(s, &i, sizeof(i), 0, (struct sockaddr *)&to,
		    sizeof(to)) != (ssize_t)sizeof(i)) {
			lost++;
			continue;
		}
		uint64_t end = now_ms() + 2000;
		while (total() < i + 1 - lost && now_ms() < end)
			(void)hyp_pkt_rx_poll(p);
	}
	unsigned mine = __atomic_load_n(&rc_mine, __ATOMIC_RELAXED);
	hyp_pkt_host_stats(p, &hs);
	CHECK(lost == 0 && total() == 200 && mine >= 100 &&
	    hs.rx_polled >= mine, "while the beat moved the poller read %u of "
	    "200 datagrams from the tap in its own thread (%llu frames counted "
	    "rx_polled), the receive thread %u", mine,
	    (unsigned long long)hs.rx_polled,
	    __atomic_load_n(&rc_theirs, __ATOMIC_RELAXED));

	/* Hostile frames through the poller: Linux's MTU raised behind the
	 * port's back, frames of 3000 bytes not marked merged. */
	hyp_pkt_stats(p, &st);
	uint64_t bad0 = st.rx_bad;
	int ps = -1;
	if (sh("ip link set " TAP " mtu 4000") == 0)
		ps = socket(AF_PACKET, SOCK_RAW, 0);
	if (ps >= 0) {
		struct sockaddr_ll ll = { .sll_family = AF_PACKET,
		    .sll_ifindex = (int)if_nametoindex(TAP), .sll_halen = 6,
		    .sll_addr = { 2, 0, 0, 0, 0, 2 } };
		unsigned char big[3000];
		memset(big, 0x5a, sizeof(big));
		memcpy(big, ll.sll_addr, 6);
		big[12] = 0x08;
		big[13] = 0x00;
		unsigned sent = 0;
		for (int i = 0; i < 5; i++)
			sent += sendto(ps, big, sizeof(big), 0,
			    (struct sockaddr *)&ll, sizeof(ll)) ==
			    (ssize_t)sizeof(big);
		uint64_t end = now_ms() + 2000;
		do {
			__atomic_add_fetch(&beat, HYP_PKT_POLL_BEGIN,
			    __ATOMIC_RELAXED);
			(void)hyp_pkt_rx_poll(p);
			hyp_pkt_stats(p, &st);
		} while (st.rx_bad - bad0 < sent && now_ms() < end);
		CHECK(sent == 5 && st.rx_bad - bad0 == 5 &&
		    __atomic_load_n(&rc_big, __ATOMIC_RELAXED) == 0,
		    "5 frames of 3000 bytes past the port's MTU of %u: %llu "
		    "counted rx_bad, none handed up", info.mtu,
		    (unsigned long long)(st.rx_bad - bad0));
		close(ps);
		sh("ip link set " TAP " mtu 1500");
	} else
		CHECK(0, "a packet socket on " TAP ": %s", strerror(errno));

	/* The poller goes to sleep: the receive thread takes over. */
	unsigned theirs0 = __atomic_load_n(&rc_theirs, __ATOMIC_RELAXED);
	mine = __atomic_load_n(&rc_mine, __ATOMIC_RELAXED);
	__atomic_add_fetch(&beat, HYP_PKT_POLL_SLEEP, __ATOMIC_RELEASE);
	hyp_word_wake(&beat, 1 << 30);
	for (unsigned i = 0; i < 20; i++)
		lost += sendto(s, &i, sizeof(i), 0, (struct sockaddr *)&to,
		    sizeof(to)) != (ssize_t)sizeof(i);
	uint64_t end = now_ms() + 5000;
	while (__atomic_load_n(&rc_theirs, __ATOMIC_RELAXED) - theirs0 < 20 &&
	    now_ms() < end) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	CHECK(lost == 0 && __atomic_load_n(&rc_theirs, __ATOMIC_RELAXED) -
	    theirs0 == 20 && __atomic_load_n(&rc_mine, __ATOMIC_RELAXED) ==
	    mine, "once the poller slept, the receive thread took all 20 "
	    "datagrams that followed");

	/* The receive thread now sleeps in the host's poll on the tap.  A
	 * poller that begins kicks it out once (rx_kicks); the frames it
	 * polls after that must not wake the thread each.  As in a
	 * deployment, the poller and the receive thread share a core and
	 * the frames come from another (before the kick, each frame woke
	 * the thread, which preempted the poller as it answered). */
	pid_t rxtid = task_named("krank-pktrx");
	cpu_set_t one, all;
	int pinned = sched_getaffinity(0, sizeof(all), &all) == 0 &&
	    CPU_COUNT(&all) >= 2 && rxtid > 0;
	if (pinned) {
		CPU_ZERO(&one);
		CPU_SET(1, &one);
		pinned = sched_setaffinity(0, sizeof(one), &one) == 0 &&
		    sched_setaffinity(rxtid, sizeof(one), &one) == 0;
	}
	struct sender sd = { .s = s, .to = to, .cpu = pinned ? 0 : -1 };
	hyp_pkt_host_stats(p, &hs);
	uint64_t kicks0 = hs.rx_kicks;
	/* Until it is asleep there (its switches stop moving), at most 2 s. */
	long sw0 = task_switches(rxtid), sw;
	end = now_ms() + 2000;
	do {
		struct timespec ms = { 0, 5000000 };
		nanosleep(&ms, NULL);
		sw = sw0;
		sw0 = task_switches(rxtid);
	} while (sw0 != sw && now_ms() < end);
	uint64_t t0 = now_ms();
	mine = __atomic_load_n(&rc_mine, __ATOMIC_RELAXED);
	sd.base = total();
	pthread_t st_th;
	__atomic_add_fetch(&beat, HYP_PKT_POLL_BEGIN, __ATOMIC_RELAXED);
	(void)hyp_pkt_rx_poll(p);
	int started = pthread_create(&st_th, NULL, sender, &sd) == 0;
	end = now_ms() + 5000;
	while (started && total() < sd.base + 100 && now_ms() < end) {
		__atomic_add_fetch(&beat, HYP_PKT_POLL_BEGIN, __ATOMIC_RELAXED);
		(void)hyp_pkt_rx_poll(p);
	}
	__atomic_store_n(&sd.stop, 1, __ATOMIC_RELAXED);
	if (started)
		pthread_join(st_th, NULL);
	long dsw = task_switches(rxtid) - sw0;
	uint64_t ms = now_ms() - t0;
	if (pinned)
		(void)sched_setaffinity(0, sizeof(all), &all);
	hyp_pkt_host_stats(p, &hs);
	/* Once, and again only if the thread took the port back meanwhile:
	 * that needs the poller off its core for a whole look (1 ms), which
	 * other load on the machine can make happen. */
	uint64_t kicks = hs.rx_kicks - kicks0;
	CHECK(rxtid > 0 && kicks >= 1 && kicks <= 1 + ms, "a poller that "
	    "began while the receive thread slept on the tap kicked it out "
	    "(%llu kicks in %llu ms; at most one more a millisecond)",
	    (unsigned long long)kicks, (unsigned long long)ms);
	/* Parked, the thread still looks at the beat once a millisecond. */
	CHECK(started && sd.sent == 100 && __atomic_load_n(&rc_mine,
	    __ATOMIC_RELAXED) - mine >= 90 && dsw >= 0 &&
	    (uint64_t)dsw <= 4 + 2 * ms, "the poller took %u of 100 "
	    "datagrams sent from %s in %llu ms; the receive thread was "
	    "switched to %ld times meanwhile (not once a frame)",
	    __atomic_load_n(&rc_mine, __ATOMIC_RELAXED) - mine,
	    pinned ? "the other core" : "another thread",
	    (unsigned long long)ms, dsw);
	__atomic_add_fetch(&beat, HYP_PKT_POLL_SLEEP, __ATOMIC_RELEASE);
	hyp_word_wake(&beat, 1 << 30);
	CHECK(hyp_pkt_set_rx(p, NULL, NULL) == 0, "callback mode stops");
	hyp_pkt_rx_park(p, NULL);
	close(s);
	hyp_pkt_close(p);
	printf("%s\n", ht_failures == 0 ? "PASS" : "FAIL");
	return ht_failures == 0 ? 0 : 1;
}
