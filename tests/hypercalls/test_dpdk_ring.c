/*
 * test_dpdk_ring - packet I/O on the DPDK host through a DPDK virtual
 * device: net_ring0 (KRANK_DPDK_EAL_ARGS=--vdev=net_ring0, whose transmit
 * ring is its receive ring) opened as dpdk:net_ring0 on the EAL that
 * rumpuser_init started.  Frames sent come back intact and in order,
 * handed up in the port's mbufs (in DPDK's memory); an unknown device is
 * ENOENT, an oversized frame EMSGSIZE, never a crash.  Run to completion:
 * a thread polling the port receives in its own thread while the port's
 * receive thread stands aside, and the receive thread takes over when
 * the poller stops.  Kernel threads
 * (rumpuser_thread_create) are EAL threads: each gets an lcore id of its
 * own for its life, and cpuidx pins it to an EAL lcore's CPU.
 */
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <krank/hyp.h>
#include <sched.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include "hyptest.h"

#define NFRAMES 32

static void
mkframe(unsigned char *f, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (unsigned char)(i * 7 + seq);
	memcpy(f + 14, &seq, 4);
}

/* Run to completion: who received each frame, the test's thread (by
 * hyp_pkt_rx_poll) or the port's receive thread. */
static pthread_t rc_main;
static unsigned rc_mine, rc_theirs;	/* atomic */

static void
rc_rx(void *arg, struct hyp_pkt_frame *fr, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (pthread_equal(pthread_self(), rc_main))
			__atomic_add_fetch(&rc_mine, 1, __ATOMIC_RELAXED);
		else
			__atomic_add_fetch(&rc_theirs, 1, __ATOMIC_RELAXED);
		hyp_pkt_frame_free(arg, &fr[i]);
	}
}

static unsigned
rc_total(void)
{
	return __atomic_load_n(&rc_mine, __ATOMIC_RELAXED) +
	    __atomic_load_n(&rc_theirs, __ATOMIC_RELAXED);
}

/*
 * While pollers keep coming (the beat moves) the receive thread stands
 * aside and the poller receives in its own thread; when one stops to
 * sleep (a wake on the beat) the receive thread takes the port back.
 */
static void
check_run_to_completion(struct hyp_pkt *p)
{
	unsigned char f[128];
	struct rumpuser_iovec iov = { f, 64 };
	struct hyp_pkt_info info;
	struct hyp_pkt_host_stats hs;
	uint32_t beat = 0;

	hyp_pkt_info(p, &info);
	CHECK(info.caps & HYP_PKT_CAP_POLL, "a DPDK port may be polled by any "
	    "thread (HYP_PKT_CAP_POLL)");
	CHECK(hyp_pkt_rx_poll(p) == 0, "hyp_pkt_rx_poll outside callback mode "
	    "hands up nothing");
	rc_main = pthread_self();
	hyp_pkt_rx_park(p, &beat);
	CHECK(hyp_pkt_set_rx(p, rc_rx, p) == 0, "callback mode");
	unsigned lost = 0;
	for (unsigned i = 0; i < 200; i++) {
		__atomic_add_fetch(&beat, HYP_PKT_POLL_BEGIN, __ATOMIC_RELAXED);
		mkframe(f, 64, i);
		if (hyp_pkt_send(p, &iov, 1) != 0) {
			lost++;
			continue;
		}
		uint64_t end = ht_now_ms() + 2000;
		while (rc_total() < i + 1 - lost && ht_now_ms() < end)
			(void)hyp_pkt_rx_poll(p);
	}
	unsigned mine = __atomic_load_n(&rc_mine, __ATOMIC_RELAXED);
	hyp_pkt_host_stats(p, &hs);
	CHECK(lost == 0 && rc_total() == 200 && mine >= 100 &&
	    hs.rx_polled == mine, "while the beat moved the poller received "
	    "%u of 200 frames in its own thread (%llu counted rx_polled), the "
	    "receive thread %u", mine, (unsigned long long)hs.rx_polled,
	    __atomic_load_n(&rc_theirs, __ATOMIC_RELAXED));
	/* The poller goes to sleep: the receive thread takes over. */
	unsigned theirs0 = __atomic_load_n(&rc_theirs, __ATOMIC_RELAXED);
	__atomic_add_fetch(&beat, HYP_PKT_POLL_SLEEP, __ATOMIC_RELEASE);
	hyp_word_wake(&beat, 1 << 30);
	for (unsigned i = 0; i < 20; i++) {
		mkframe(f, 64, i);
		lost += hyp_pkt_send(p, &iov, 1) != 0;
	}
	uint64_t end = ht_now_ms() + 5000;
	while (rc_total() < 220 && ht_now_ms() < end) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	CHECK(lost == 0 && __atomic_load_n(&rc_theirs, __ATOMIC_RELAXED) -
	    theirs0 == 20 && __atomic_load_n(&rc_mine, __ATOMIC_RELAXED) == mine,
	    "once the poller slept, the receive thread took all 20 frames that "
	    "followed");
	CHECK(hyp_pkt_set_rx(p, NULL, NULL) == 0, "callback mode stops");
	hyp_pkt_rx_park(p, NULL);
}

struct where { unsigned lcore; int cpu; };

static void *
lcore_probe(void *arg)
{
	struct where *w = arg;
	w->lcore = rte_lcore_id();
	w->cpu = sched_getcpu();
	return NULL;
}

/* 200 threads one after another (more than RTE_MAX_LCORE): each has an
 * lcore id, so each gave its id back; the pinned ones run on the first
 * EAL lcore's CPU. */
static void
check_lcore_threads(void)
{
	int with_id = 0, on_cpu = 0, want = (int)rte_lcore_to_cpu_id(
	    (int)rte_get_main_lcore());
	for (int i = 0; i < 200; i++) {
		struct where w = { LCORE_ID_ANY, -1 };
		void *c;
		if (rumpuser_thread_create(lcore_probe, &w, "lc", 1, 0, 0, &c) != 0 ||
		    rumpuser_thread_join(c) != 0)
			break;
		with_id += w.lcore != LCORE_ID_ANY && w.lcore != rte_get_main_lcore();
		on_cpu += w.cpu == want;
	}
	CHECK(with_id == 200, "each of 200 kernel threads in turn had an EAL "
	    "lcore id of its own (%d; ids go back at exit)", with_id);
	CHECK(on_cpu == 200 && hyp_cpu_host(0) == want, "cpuidx 0 pins to the "
	    "first EAL lcore's CPU %d (%d of 200)", want, on_cpu);
}

int
main(void)
{
	unsigned char f[2048], want[2048];
	struct hyp_pkt *p = NULL, *q = NULL;
	struct hyp_pkt_frame fr[NFRAMES];
	struct hyp_pkt_stats st;
	int bad = 0, inmem = 0;

	setenv("KRANK_DPDK_EAL_ARGS", "--vdev=net_ring0", 1);
	setenv("KRANK_DPDK_MEM", "64", 1);
	ht_init(1);
	ht_schedule();
	check_lcore_threads();
	ht_unschedule();
	int rv = hyp_pkt_open("dpdk:net_ring0", &p);
	CHECK(rv == 0, "dpdk:net_ring0 opens on the host's EAL (%d)", rv);
	if (rv != 0)
		return ht_done("test_dpdk_ring");
	CHECK(hyp_pkt_open("dpdk:net_nosuch0", &q) == 2,
	    "an unknown DPDK device gives ENOENT");

	for (uint32_t i = 0; i < NFRAMES; i++) {
		size_t len = 60 + i * 40;
		mkframe(f, len, i);
		struct rumpuser_iovec iov[2] = { { f, 20 }, { f + 20, len - 20 } };
		bad += hyp_pkt_send(p, iov, 2) != 0;
	}
	CHECK(bad == 0, "%d frames of 60 to %d bytes sent", NFRAMES,
	    60 + (NFRAMES - 1) * 40);
	memset(f, 0, sizeof(f));
	struct rumpuser_iovec big = { f, 1600 };
	CHECK(hyp_pkt_send(p, &big, 1) == 40, "a 1600-byte frame (MTU 1500) gives EMSGSIZE");

	unsigned got = 0, n;
	bad = 0;
	ht_schedule();
	while (got < NFRAMES && hyp_pkt_wait(p, 2000) == 0) {
		if (hyp_pkt_recv(p, fr, NFRAMES, &n) != 0)
			break;
		for (unsigned i = 0; i < n; i++, got++) {
			size_t len = 60 + got * 40;
			mkframe(want, len, got);
			bad += fr[i].len != len || memcmp(fr[i].data, want, len) != 0;
			inmem += rte_mem_virt2memseg_list(fr[i].data) != NULL;
			hyp_pkt_frame_free(p, &fr[i]);
		}
	}
	ht_unschedule();
	CHECK(got == NFRAMES && bad == 0, "%u of %d frames came back through "
	    "the ring, intact and in order (%d bad)", got, NFRAMES, bad);
	CHECK(inmem == NFRAMES, "every received frame lies in DPDK's memory "
	    "(handed up in its mbuf, not copied)");
	hyp_pkt_stats(p, &st);
	CHECK(st.tx_frames == NFRAMES && st.rx_frames == NFRAMES,
	    "counters: %llu sent, %llu received", (unsigned long long)st.tx_frames,
	    (unsigned long long)st.rx_frames);
	check_run_to_completion(p);
	hyp_pkt_close(p);
	unsetenv("KRANK_DPDK_EAL_ARGS");
	unsetenv("KRANK_DPDK_MEM");
	return ht_done("test_dpdk_ring");
}
