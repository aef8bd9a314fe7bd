/*
 * test_dpdk_queues - a dpdk: port of several queues (queues=N) on the
 * DPDK host.  The test makes a ring port of two looped queue pairs
 * (rte_eth_from_rings: transmit queue i feeds receive queue i), so the
 * queue a frame arrives on says which transmit queue sent it.  Checked:
 * a sender uses its core's transmit queue (two senders pinned to CPUs of
 * different parity, at once, land on different queues, every frame
 * intact and in order per sender); hyp_pkt_recv and callback mode (a
 * receive thread per queue) take frames from both queues; a poller takes
 * its core's queue first and the other when its own is empty; bad
 * queues= values (0, 17, not a number, more than the device has, on a
 * backend without queues) are refused with a line saying why.
 */
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sched.h>
#include <krank/hyp.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>
#include "hyptest.h"
#include "../testclock.h"

#define NPER 300			/* frames per sender */

static struct hyp_pkt *port;
static int cpus[2];			/* of different parity */

/* Frame: sender id at 14, sequence at 15..18, the rest a pattern. */
static void
mkframe(unsigned char *f, size_t len, unsigned who, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (unsigned char)(i * 5 + seq + who);
	f[14] = (unsigned char)who;
	memcpy(f + 15, &seq, 4);
}

static int
frame_ok(const unsigned char *f, size_t len, unsigned *who, uint32_t *seq)
{
	if (len < 64 || f[14] > 1)
		return 0;
	*who = f[14];
	memcpy(seq, f + 15, 4);
	for (size_t i = 19; i < len; i++)
		if (f[i] != (unsigned char)(i * 5 + *seq + *who))
			return 0;
	return 1;
}

struct sender {
	unsigned who;
	int cpu, pinned;
	unsigned lost;
	pthread_barrier_t *go;
};

static void *
send_thread(void *arg)
{
	struct sender *s = arg;
	unsigned char f[256];

	s->pinned = hyp_cpu_pin(s->cpu) == 0 && sched_getcpu() == s->cpu;
	pthread_barrier_wait(s->go);
	for (uint32_t i = 0; i < NPER; i++) {
		size_t len = 64 + (i % 7) * 24;
		mkframe(f, len, s->who, i);
		struct rumpuser_iovec iov = { f, len };
		s->lost += hyp_pkt_send(port, &iov, 1) != 0;
	}
	return NULL;
}

/* Two senders at once, on cpus[0] and cpus[1]. */
static void
send_both(struct sender s[2])
{
	pthread_barrier_t go;
	pthread_t t[2];

	pthread_barrier_init(&go, NULL, 2);
	for (unsigned i = 0; i < 2; i++) {
		s[i] = (struct sender){ .who = i, .cpu = cpus[i], .go = &go };
		pthread_create(&t[i], NULL, send_thread, &s[i]);
	}
	for (unsigned i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
}

/* What arrived: per sender, frames in order and intact. */
static uint32_t next_seq[2];
static unsigned nbad, ngot;		/* atomic in callback mode */

static void
take(const struct hyp_pkt_frame *fr)
{
	unsigned who;
	uint32_t seq;

	if (!frame_ok(fr->data, fr->len, &who, &seq) ||
	    seq != next_seq[who]) {
		__atomic_add_fetch(&nbad, 1, __ATOMIC_RELAXED);
		return;
	}
	next_seq[who]++;
	__atomic_add_fetch(&ngot, 1, __ATOMIC_RELEASE);
}

/* Callback mode: a receive thread per queue; each sender's frames come
 * on one queue, so per sender they are taken by one thread, in order. */
static unsigned offcore;		/* frames handed up off their queue's
					 * cores (atomic) */
static int check_core;			/* count them (no pollers) */

static void
rx_cb(void *arg, struct hyp_pkt_frame *fr, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const unsigned char *d = fr[i].data;
		/* Sender w's frames come on queue cpus[w] % 2, whose receive
		 * thread runs on the cores of that parity. */
		if (check_core && fr[i].len > 14 && d[14] <= 1 &&
		    sched_getcpu() % 2 != cpus[d[14]] % 2)
			__atomic_add_fetch(&offcore, 1, __ATOMIC_RELAXED);
		take(&fr[i]);
		hyp_pkt_frame_free(arg, &fr[i]);
	}
}

static void
reset_rx(void)
{
	next_seq[0] = next_seq[1] = 0;
	__atomic_store_n(&nbad, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ngot, 0, __ATOMIC_RELAXED);
}

static unsigned
got(void)
{
	return __atomic_load_n(&ngot, __ATOMIC_ACQUIRE);
}

/* Open spec expecting an error; 1 when refused with EINVAL and a line on
 * stderr containing want. */
static int
refused(const char *spec, const char *want)
{
	char path[] = "/tmp/test_dpdk_queuesXXXXXX", buf[1024] = "";
	int fd = mkstemp(path), save = dup(2);
	struct hyp_pkt *p = NULL;

	fflush(stderr);
	dup2(fd, 2);
	int rv = hyp_pkt_open(spec, &p);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	if (rv == 0)
		hyp_pkt_close(p);
	if (buf[0] != '\0')
		printf("  said: %s", buf);
	return rv == 22 && strstr(buf, want) != NULL;
}

int
main(void)
{
	struct hyp_pkt_queue_stats qs[4];
	struct sender s[2];
	char spec[RTE_ETH_NAME_MAX_LEN + 32];

	setenv("KRANK_DPDK_MEM", "64", 1);
	ht_init(2);
	/* Two CPUs of different parity this process may run on. */
	cpu_set_t set;
	int n = 0;
	cpus[0] = cpus[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
			if (CPU_ISSET(c, &set) && (n == 0 || c % 2 != cpus[0] % 2))
				cpus[n++] = c;
	if (n < 2) {
		printf("SKIP: needs two CPUs of different parity (one queue "
		    "per core cannot be told apart on one)\n");
		return 77;
	}
	struct rte_ring *r[2] = {
		rte_ring_create("kq0", 1024, SOCKET_ID_ANY, 0),
		rte_ring_create("kq1", 1024, SOCKET_ID_ANY, 0),
	};
	CHECK(r[0] != NULL && r[1] != NULL, "two rings");
	int pid = rte_eth_from_rings("kq2", r, 2, r, 2, SOCKET_ID_ANY);
	CHECK(pid >= 0, "a ring port of two looped queue pairs (%d)", pid);
	char pname[RTE_ETH_NAME_MAX_LEN] = "";
	if (pid >= 0)
		rte_eth_dev_get_name_by_port((uint16_t)pid, pname);

	/* Bad input first (a refused open leaves the device alone). */
	snprintf(spec, sizeof(spec), "dpdk:%s,queues=0", pname);
	CHECK(refused(spec, "1 to 16"), "queues=0 is refused, said");
	snprintf(spec, sizeof(spec), "dpdk:%s,queues=17", pname);
	CHECK(refused(spec, "1 to 16"), "queues=17 is refused, said");
	snprintf(spec, sizeof(spec), "dpdk:%s,queues=two", pname);
	CHECK(refused(spec, "not a number"), "queues=two is refused, said");
	snprintf(spec, sizeof(spec), "dpdk:%s,queues=-1", pname);
	CHECK(refused(spec, "not a number"), "queues=-1 is refused, said");
	snprintf(spec, sizeof(spec), "dpdk:%s,queues=3", pname);
	CHECK(refused(spec, "at most 2 receive"), "queues=3 on a device of "
	    "2 queues is refused, said");
	CHECK(refused("wire:kq,queues=2", "only dpdk"), "queues=2 on a wire "
	    "is refused, said");

	snprintf(spec, sizeof(spec), "dpdk:%s,queues=2", pname);
	int rv = hyp_pkt_open(spec, &port);
	CHECK(rv == 0, "%s opens (%d)", spec, rv);
	if (rv != 0)
		return ht_done("test_dpdk_queues");
	CHECK(hyp_pkt_queue_stats(port, qs, 4) == 2, "the port has 2 queues");
	unsigned q0 = (unsigned)cpus[0] % 2, q1 = (unsigned)cpus[1] % 2;

	/* 1. Two senders at once, polled by hyp_pkt_recv. */
	send_both(s);
	CHECK(s[0].pinned && s[1].pinned && s[0].lost + s[1].lost == 0,
	    "two senders pinned to CPUs %d and %d sent %d frames each at once",
	    cpus[0], cpus[1], NPER);
	reset_rx();
	uint64_t end = now_ms() + 5000;
	ht_schedule();
	while (got() + nbad < 2 * NPER && now_ms() < end) {
		struct hyp_pkt_frame fr[32];
		unsigned k = 0;
		if (hyp_pkt_wait(port, 500) != 0 ||
		    hyp_pkt_recv(port, fr, 32, &k) != 0)
			continue;
		for (unsigned i = 0; i < k; i++) {
			take(&fr[i]);
			hyp_pkt_frame_free(port, &fr[i]);
		}
	}
	ht_unschedule();
	hyp_pkt_queue_stats(port, qs, 4);
	CHECK(got() == 2 * NPER && nbad == 0, "hyp_pkt_recv took all %u "
	    "frames from both queues, each sender's intact and in order "
	    "(%u bad)", got(), nbad);
	CHECK(qs[q0].rx_frames == NPER && qs[q1].rx_frames == NPER,
	    "each sender's frames came on its core's queue: CPU %d's on "
	    "queue %u (%llu), CPU %d's on queue %u (%llu)", cpus[0], q0,
	    (unsigned long long)qs[q0].rx_frames, cpus[1], q1,
	    (unsigned long long)qs[q1].rx_frames);

	/* 2. Callback mode: a receive thread per queue. */
	reset_rx();
	/* The receive threads start with this thread's CPUs: they can keep
	 * to their queue's cores only when it has both. */
	cpu_set_t mine;
	check_core = pthread_getaffinity_np(pthread_self(), sizeof(mine),
	    &mine) == 0 && CPU_ISSET(cpus[0], &mine) && CPU_ISSET(cpus[1], &mine);
	CHECK(hyp_pkt_set_rx(port, rx_cb, port) == 0, "callback mode with "
	    "a receive thread per queue");
	send_both(s);
	end = now_ms() + 5000;
	while (got() + nbad < 2 * NPER && now_ms() < end) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	hyp_pkt_queue_stats(port, qs, 4);
	CHECK(s[0].lost + s[1].lost == 0 && got() == 2 * NPER && nbad == 0 &&
	    qs[q0].rx_frames == 2 * NPER && qs[q1].rx_frames == 2 * NPER,
	    "the receive threads took all %u frames, in order per sender, "
	    "%d more on each queue (%u bad)", got(), NPER, nbad);
	if (check_core)
		CHECK(offcore == 0, "each queue's receive thread ran on its "
		    "cores (CPU index modulo 2 = the queue): %u frames handed "
		    "up elsewhere", offcore);
	else
		printf("info: this thread may not run on CPUs %d and %d both: "
		    "where the receive threads run is not checked\n", cpus[0],
		    cpus[1]);
	check_core = 0;

	/* 3. Run to completion: a poller on cpus[1] (beat moving) takes its
	 * own queue's frames first, and the other queue's too. */
	CHECK(hyp_pkt_set_rx(port, NULL, NULL) == 0, "callback mode stops");
	uint32_t beat = 0;
	hyp_pkt_rx_park(port, &beat);
	reset_rx();
	CHECK(hyp_pkt_set_rx(port, rx_cb, port) == 0, "callback mode again, "
	    "with pollers");
	struct hyp_pkt_queue_stats before[2];
	hyp_pkt_queue_stats(port, before, 2);
	CHECK(hyp_cpu_pin(cpus[1]) == 0, "the poller runs on CPU %d (queue %u)",
	    cpus[1], q1);
	unsigned char f[256];
	unsigned lost = 0;
	for (uint32_t i = 0; i < NPER; i++) {
		__atomic_add_fetch(&beat, HYP_PKT_POLL_BEGIN, __ATOMIC_RELAXED);
		mkframe(f, 64, 1, i);
		struct rumpuser_iovec iov = { f, 64 };
		if (hyp_pkt_send(port, &iov, 1) != 0) {
			lost++;
			continue;
		}
		end = now_ms() + 2000;
		while (got() < i + 1 - lost && now_ms() < end)
			(void)hyp_pkt_rx_poll(port);
	}
	hyp_pkt_queue_stats(port, qs, 2);
	uint64_t own = qs[q1].rx_polled - before[q1].rx_polled;
	CHECK(lost == 0 && got() == NPER && own >= NPER / 2, "the poller took "
	    "%llu of the %d frames its core's queue %u received in its own "
	    "thread", (unsigned long long)own, NPER, q1);
	/* The other queue's frames: a sender on cpus[0], the poller here. */
	next_seq[0] = 0;
	unsigned got0 = got();
	struct sender one = { .who = 0, .cpu = cpus[0] };
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 1);
	one.go = &go;
	pthread_t t;
	pthread_create(&t, NULL, send_thread, &one);
	end = now_ms() + 5000;
	while (got() - got0 < NPER - one.lost && now_ms() < end) {
		__atomic_add_fetch(&beat, HYP_PKT_POLL_BEGIN, __ATOMIC_RELAXED);
		(void)hyp_pkt_rx_poll(port);
	}
	pthread_join(t, NULL);
	hyp_pkt_queue_stats(port, qs, 2);
	uint64_t other = qs[q0].rx_polled - before[q0].rx_polled;
	CHECK(one.lost == 0 && got() - got0 == NPER && nbad == 0 && other > 0,
	    "frames on the other queue %u were all received too, %llu of them "
	    "by the poller when its own queue was empty", q0,
	    (unsigned long long)other);
	__atomic_add_fetch(&beat, HYP_PKT_POLL_SLEEP, __ATOMIC_RELEASE);
	hyp_word_wake(&beat, 1 << 30);
	CHECK(hyp_pkt_set_rx(port, NULL, NULL) == 0, "callback mode stops");
	hyp_pkt_rx_park(port, NULL);
	pthread_barrier_destroy(&go);

	struct hyp_pkt_stats st;
	hyp_pkt_stats(port, &st);
	CHECK(st.tx_errors == 0 && st.rx_bad == 0, "no send errors, nothing "
	    "dropped");
	hyp_pkt_close(port);
	unsetenv("KRANK_DPDK_MEM");
	return ht_done("test_dpdk_queues");
}
