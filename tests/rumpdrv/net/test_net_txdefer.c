/*
 * test_net_txdefer.c - no host send with the stack lock held: a tap's
 * write (the host-call table's writev, replaced here) is made to block,
 * and while it is blocked another thread's loopback traffic on the same
 * stack still flows and its frames for the tap queue up; when the write
 * returns, every queued frame goes out in order with no further send to
 * push it; and two threads sending faster than a slow host takes frames
 * are paced, not dropped.  Runs in a private network namespace (root,
 * /dev/net/tun).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <krank/hyp_posix.h>
#include <krank/krs.h>
#include "net/krs_net.h"
#include "rdtest.h"
#include "rdtest_net.h"
#include "../../testclock.h"

#define IFADDR	"10.77.0.1"
#define BCAST	"10.77.0.255"
#define NLATE	10		/* frames queued behind the blocked one */

static ssize_t (*real_writev)(int, const struct iovec *, int);
static pthread_mutex_t hk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hk_cv = PTHREAD_COND_INITIALIZER;
static int hk_blocked, hk_release;
static int hk_seen[64], hk_nseen;	/* marker numbers, in send order */
/* The blast: two threads' markers BLAST+i and 2*BLAST+i. */
#define BLAST	100000
#define NBLAST	2000
static int hk_next[2], hk_blast, hk_disorder;

static int
is_tun(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	    st.st_rdev == makedev(10, 200);
}

/* The tap's writev: note the marker ("TXD" and a number) of each UDP
 * frame, block on marker 0 until released, and report the frame sent. */
static ssize_t
hook_writev(int fd, const struct iovec *iov, int cnt)
{
	if (!is_tun(fd))
		return real_writev(fd, iov, cnt);
	char buf[2048];
	size_t len = 0, total = 0;
	for (int i = 0; i < cnt; i++) {
		size_t n = iov[i].iov_len;
		if (len < sizeof(buf)) {
			size_t c = n < sizeof(buf) - len ? n : sizeof(buf) - len;
			memcpy(buf + len, iov[i].iov_base, c);
			len += c;
		}
		total += n;
	}
	char *p = memmem(buf, len, "TXD", 3);
	if (p == NULL)
		return (ssize_t)total;
	int mark = atoi(p + 3);
	if (mark >= BLAST) {
		/* A slow host: about 20 us a frame. */
		uint64_t until = now_us() + 20;
		while (now_us() < until)
			;
		int who = mark >= 2 * BLAST, seq = mark - BLAST * (1 + who);
		pthread_mutex_lock(&hk_lock);
		if (seq != hk_next[who])
			hk_disorder++;
		hk_next[who] = seq + 1;
		hk_blast++;
		pthread_mutex_unlock(&hk_lock);
		return (ssize_t)total;
	}
	pthread_mutex_lock(&hk_lock);
	if (hk_nseen < 64)
		hk_seen[hk_nseen++] = mark;
	if (mark == 0) {
		hk_blocked = 1;
		pthread_cond_broadcast(&hk_cv);
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 30;	/* never hang the test run */
		while (!hk_release &&
		    pthread_cond_timedwait(&hk_cv, &hk_lock, &dl) == 0)
			;
	}
	pthread_mutex_unlock(&hk_lock);
	return (ssize_t)total;
}

static int
udp_socket(const char *addr, int port)
{
	int s = krs_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0, "socket");
	struct sockaddr_in a = rd_sin4(addr, port);
	CHECK(krs_bind(s, &a, sizeof(a)) == 0, "bind %s:%d", addr, port);
	int on = 1;
	CHECK(krs_setsockopt(s, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) == 0,
	    "SO_BROADCAST");
	struct timeval tv = { 5, 0 };
	CHECK(krs_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0,
	    "SO_RCVTIMEO");
	return s;
}

static void
send_mark(int s, int mark)
{
	char msg[16];
	int n = snprintf(msg, sizeof(msg), "TXD%d", mark);
	struct sockaddr_in to = rd_sin4(BCAST, 9);
	CHECK(krs_sendto(s, msg, (size_t)n, 0, &to, sizeof(to)) == n,
	    "sendto marker %d", mark);
}

static int s_block, s_late, s_loa, s_lob;
static volatile int t2_done;

static void *
blocked_sender(void *arg)
{
	(void)arg;
	send_mark(s_block, 0);		/* returns once the write does */
	return NULL;
}

/* While the first thread is inside the host's write: loopback traffic
 * through the same stack, then frames for the tap behind the blocked one. */
static void *
other_sender(void *arg)
{
	(void)arg;
	char buf[64];
	struct sockaddr_in to = rd_sin4("127.0.0.1", 7101);
	CHECK(krs_sendto(s_loa, "ping", 4, 0, &to, sizeof(to)) == 4, "lo send");
	CHECK(krs_recv(s_lob, buf, sizeof(buf), 0) == 4 &&
	    memcmp(buf, "ping", 4) == 0, "lo receive");
	for (int i = 1; i <= NLATE; i++)
		send_mark(s_late, i);
	__atomic_store_n(&t2_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* One of two threads sending datagrams as fast as it can. */
static void *
blaster(void *arg)
{
	int who = (int)(intptr_t)arg;
	int s = who ? s_late : s_block;
	for (int i = 0; i < NBLAST; i++)
		send_mark(s, BLAST * (1 + who) + i);
	return NULL;
}

int
main(void)
{
	char err[256], name[32];
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("SKIP: needs root and /dev/net/tun (a tap)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("SKIP: no private network namespace (%s)\n",
		    strerror(errno));
		return 77;
	}
	real_writev = hyp_posix_hostcall("writev", (void *)hook_writev);
	CHECK(real_writev != NULL, "writev replaced in the host-call table");
	CHECK(krs_boot("vfs,net,ether,virtif,socket,inet", err, sizeof(err)) == 0,
	    "boot: %s", err);
	CHECK(krs_if_virt_attach("tap:ktxdefer0", name, sizeof(name)) == 0,
	    "attach tap");
	CHECK(krs_if_setaddr(name, IFADDR "/24") == 0 && krs_if_up(name, 1) == 0,
	    "%s up", name);
	s_block = udp_socket(IFADDR, 7000);
	s_late = udp_socket(IFADDR, 7001);
	s_loa = udp_socket("127.0.0.1", 7100);
	s_lob = udp_socket("127.0.0.1", 7101);

	pthread_t t1, t2;
	CHECK(pthread_create(&t1, NULL, blocked_sender, NULL) == 0, "thread 1");
	uint64_t dl = now_ms() + 5000;
	pthread_mutex_lock(&hk_lock);
	while (!hk_blocked && now_ms() < dl) {
		pthread_mutex_unlock(&hk_lock);
		usleep(1000);
		pthread_mutex_lock(&hk_lock);
	}
	int blocked = hk_blocked;
	pthread_mutex_unlock(&hk_lock);
	CHECK(blocked, "the tap write of marker 0 is blocked in the host");
	PASS("a send to the tap is blocked inside the host's writev");

	CHECK(pthread_create(&t2, NULL, other_sender, NULL) == 0, "thread 2");
	dl = now_ms() + 5000;
	while (!__atomic_load_n(&t2_done, __ATOMIC_ACQUIRE) && now_ms() < dl)
		usleep(1000);
	CHECK(__atomic_load_n(&t2_done, __ATOMIC_ACQUIRE),
	    "loopback traffic and %d sends proceed while the write is blocked "
	    "(the stack lock is not held across the host call)", NLATE);
	pthread_mutex_lock(&hk_lock);
	int during = hk_nseen;
	pthread_mutex_unlock(&hk_lock);
	CHECK(during == 1, "frames behind the blocked one wait (%d sent)", during);
	PASS("another thread used the stack while a host send was blocked");

	pthread_mutex_lock(&hk_lock);
	hk_release = 1;
	pthread_cond_broadcast(&hk_cv);
	pthread_mutex_unlock(&hk_lock);
	CHECK(pthread_join(t1, NULL) == 0 && pthread_join(t2, NULL) == 0, "join");
	/* No send after this: the thread that held the write hands out the
	 * frames queued behind it before it returns. */
	pthread_mutex_lock(&hk_lock);
	int n = hk_nseen;
	pthread_mutex_unlock(&hk_lock);
	CHECK(n == 1 + NLATE, "all %d queued frames sent, none stranded (%d)",
	    NLATE, n - 1);
	for (int i = 0; i < n; i++)
		CHECK(hk_seen[i] == i, "frame %d in order (got marker %d)", i,
		    hk_seen[i]);
	PASS("queued frames left in order once the write returned, with no "
	    "later send to push them");

	/* Two threads sending faster than the host takes frames: paced, not
	 * dropped (holding ns_lock across the write used to pace them). */
	pthread_t b0, b1;
	CHECK(pthread_create(&b0, NULL, blaster, (void *)0) == 0 &&
	    pthread_create(&b1, NULL, blaster, (void *)1) == 0, "blasters");
	CHECK(pthread_join(b0, NULL) == 0 && pthread_join(b1, NULL) == 0,
	    "join blasters");
	pthread_mutex_lock(&hk_lock);
	int blast = hk_blast, disorder = hk_disorder;
	pthread_mutex_unlock(&hk_lock);
	CHECK(blast == 2 * NBLAST, "all %d datagrams of two fast senders "
	    "written to a slow host (%d)", 2 * NBLAST, blast);
	CHECK(disorder == 0, "each sender's frames in order (%d out)", disorder);
	PASS("two senders faster than the host: paced, none dropped, in order");

	struct krs_if_stats st;
	CHECK(krs_if_stats(name, &st) == 0 && st.oqdrops == 0 &&
	    st.opackets >= (uint64_t)(1 + NLATE), "counters: %llu out, %llu "
	    "queue drops", (unsigned long long)st.opackets,
	    (unsigned long long)st.oqdrops);
	CHECK(krs_if_virt_detach(name) == 0, "detach");
	DONE();
}
