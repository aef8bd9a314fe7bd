/*
 * test_kbr_fdtab - the preload library's descriptor table and epoll
 * shadow lists alone (bridge/kbr_fdtab.c, built with ASan+UBSan): table
 * bounds, set/get/clear, fork's dead marks, EPOLL_CTL semantics,
 * level-triggered, EPOLLET (with re-arming by a read that ran dry) and
 * EPOLLONESHOT reporting, rotation, and forgetting a closed descriptor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kbr_fdtab.h"

static int failures;

#define CHECK(cond, ...) do {						\
	int ok_ = (cond);						\
	printf("%s: ", ok_ ? "ok" : "FAIL");				\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!ok_)							\
		failures++;						\
} while (0)

static void
table(void)
{
	int kfd;
	uint32_t fl;

	CHECK(!kbr_fdtab_get(3, &kfd, &fl), "empty: descriptor 3 is Linux's");
	CHECK(!kbr_fdtab_any(), "empty: no placeholder made yet");
	CHECK(kbr_fdtab_init(64) == 0 && kbr_fdtab_size() == 64,
	    "a table of 64 descriptors");
	CHECK(kbr_fdtab_init(128) == 0 && kbr_fdtab_size() == 64,
	    "init is idempotent");
	CHECK(kbr_fdtab_set(64, 1, 0) == EBADF, "set beyond the table: EBADF");
	CHECK(kbr_fdtab_set(-1, 1, 0) == EBADF, "set of -1: EBADF");
	CHECK(kbr_fdtab_set(5, -1, 0) == EBADF, "KRANK descriptor -1: EBADF");
	CHECK(!kbr_fdtab_get(64, NULL, NULL) && !kbr_fdtab_get(-5, NULL, NULL),
	    "get outside the table: not ours");
	CHECK(kbr_fdtab_set(5, 0, KBR_FD_SOCK) == 0 && kbr_fdtab_any(),
	    "placeholder 5 -> KRANK 0");
	CHECK(kbr_fdtab_get(5, &kfd, &fl) && kfd == 0 && fl == KBR_FD_SOCK,
	    "get 5: KRANK 0, a socket (got %d, %#x)", kfd, fl);
	kbr_fdtab_flags_set(5, KBR_FD_CLOEXEC);
	CHECK(kbr_fdtab_get(5, NULL, &fl) && fl == (KBR_FD_SOCK |
	    KBR_FD_CLOEXEC), "flags_set adds FD_CLOEXEC");
	kbr_fdtab_flags_clear(5, KBR_FD_CLOEXEC);
	CHECK(kbr_fdtab_get(5, NULL, &fl) && fl == KBR_FD_SOCK,
	    "flags_clear removes it");
	CHECK(kbr_fdtab_set(63, 9, 0) == 0 && kbr_fdtab_get(63, &kfd, NULL) &&
	    kfd == 9, "the last entry works");
	CHECK(kbr_fdtab_mark_dead() == 2, "mark_dead marks both placeholders");
	CHECK(kbr_fdtab_get(5, NULL, &fl) && (fl & KBR_FD_DEAD),
	    "5 is dead after a fork");
	kbr_fdtab_clear(5);
	kbr_fdtab_clear(63);
	CHECK(!kbr_fdtab_get(5, NULL, NULL) && !kbr_fdtab_get(63, NULL, NULL),
	    "cleared entries are Linux's again");
}

static struct epoll_event
ev(uint32_t events, uint64_t data)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = events;
	e.data.u64 = data;
	return e;
}

/* Poll results as KRANK would give them: revents by KRANK descriptor. */
static int
wait_with(struct kbr_esh *sh, const short *rev_by_kfd,
    struct epoll_event *out, int max)
{
	struct pollfd kp[16];
	int fds[16];
	size_t n = kbr_esh_snapshot(sh, kp, fds, 16);

	for (size_t i = 0; i < n; i++)
		kp[i].revents = rev_by_kfd[kp[i].fd] & (kp[i].events |
		    POLLERR | POLLHUP | POLLNVAL);
	return kbr_esh_collect(sh, kp, fds, n, out, max);
}

static void
shadows(void)
{
	struct kbr_esh *sh;
	struct epoll_event e, out[8];
	short rev[8] = { 0 };
	int n;

	CHECK(kbr_esh_find(40, false) == NULL, "no shadow before one is made");
	sh = kbr_esh_find(40, true);
	CHECK(sh != NULL && kbr_esh_find(40, false) == sh,
	    "a shadow for epoll 40, found again");
	for (int fd = 10; fd < 13; fd++)
		kbr_fdtab_set(fd, fd - 10, KBR_FD_SOCK);
	e = ev(EPOLLIN, 100);
	CHECK(kbr_esh_ctl(sh, EPOLL_CTL_ADD, 10, 0, &e) == 0, "ADD 10");
	CHECK(kbr_esh_ctl(sh, EPOLL_CTL_ADD, 10, 0, &e) == EEXIST,
	    "ADD 10 again: EEXIST");
	CHECK(kbr_esh_ctl(sh, EPOLL_CTL_MOD, 11, 1, &e) == ENOENT,
	    "MOD of 11 (not added): ENOENT");
	CHECK(kbr_esh_ctl(sh, EPOLL_CTL_DEL, 11, 1, NULL) == ENOENT,
	    "DEL of 11 (not added): ENOENT");
	e = ev(EPOLLIN | EPOLLEXCLUSIVE, 0);
	CHECK(kbr_esh_ctl(sh, EPOLL_CTL_ADD, 11, 1, &e) == EINVAL,
	    "EPOLLEXCLUSIVE: EINVAL");
	CHECK(kbr_esh_ctl(sh, 99, 11, 1, &e) == EINVAL, "op 99: EINVAL");
	e = ev(EPOLLOUT | EPOLLET, 101);
	CHECK(kbr_esh_ctl(sh, EPOLL_CTL_ADD, 11, 1, &e) == 0, "ADD 11 ET");
	e = ev(EPOLLIN | EPOLLONESHOT, 102);
	CHECK(kbr_esh_ctl(sh, EPOLL_CTL_ADD, 12, 2, &e) == 0,
	    "ADD 12 ONESHOT");
	CHECK(kbr_esh_count(sh) == 3, "three registered");

	n = wait_with(sh, rev, out, 8);
	CHECK(n == 0, "nothing ready: no events (%d)", n);

	/* Level-triggered: reported at every wait while ready. */
	rev[0] = POLLIN;
	n = wait_with(sh, rev, out, 8);
	CHECK(n == 1 && out[0].data.u64 == 100 && out[0].events == EPOLLIN,
	    "LT: 10 readable is reported");
	n = wait_with(sh, rev, out, 8);
	CHECK(n == 1 && out[0].data.u64 == 100, "LT: and again while ready");
	rev[0] = POLLHUP;
	n = wait_with(sh, rev, out, 8);
	CHECK(n == 1 && out[0].events == EPOLLHUP,
	    "LT: a hang-up is reported unasked");
	rev[0] = 0;

	/* Edge-triggered: once per rise, again after a write filled up. */
	rev[1] = POLLOUT;
	n = wait_with(sh, rev, out, 8);
	CHECK(n == 1 && out[0].data.u64 == 101 && out[0].events == EPOLLOUT,
	    "ET: 11 writable is reported once");
	n = wait_with(sh, rev, out, 8);
	CHECK(n == 0, "ET: not again while it stays writable (%d)", n);
	kbr_fdtab_flags_set(11, KBR_FD_REARM_OUT);
	n = wait_with(sh, rev, out, 8);
	CHECK(n == 1 && out[0].data.u64 == 101,
	    "ET: again after a write ran into EAGAIN");
	CHECK(kbr_fdtab_get(11, NULL, NULL) && wait_with(sh, rev, out, 8) == 0,
	    "ET: the re-arm is used up");
	{
		struct pollfd kp[16];
		int fds[16];
		size_t k = kbr_esh_snapshot(sh, kp, fds, 16), i;
		for (i = 0; i < k && fds[i] != 11; i++)
			;
		CHECK(i < k && kp[i].events == 0, "ET: a reported level is "
		    "not polled for again until re-armed (events %#x)",
		    i < k ? kp[i].events : -1);
	}
	kbr_fdtab_flags_set(11, KBR_FD_REARM_OUT);
	rev[1] = 0;
	CHECK(wait_with(sh, rev, out, 8) == 0,
	    "ET: re-armed while not writable: nothing");
	rev[1] = POLLOUT;
	CHECK(wait_with(sh, rev, out, 8) == 1,
	    "ET: then writable again: reported");
	rev[1] = 0;

	/* One-shot: reported once, then off until MOD. */
	rev[2] = POLLIN;
	n = wait_with(sh, rev, out, 8);
	CHECK(n == 1 && out[0].data.u64 == 102, "ONESHOT: 12 reported");
	CHECK(wait_with(sh, rev, out, 8) == 0, "ONESHOT: then disabled");
	e = ev(EPOLLIN | EPOLLONESHOT, 103);
	CHECK(kbr_esh_ctl(sh, EPOLL_CTL_MOD, 12, 2, &e) == 0 &&
	    (n = wait_with(sh, rev, out, 8)) == 1 && out[0].data.u64 == 103,
	    "ONESHOT: MOD re-enables it with the new data");
	rev[2] = 0;

	/* A full events array: rotation lets the others through. */
	rev[0] = rev[2] = POLLIN;
	e = ev(EPOLLIN, 102);
	kbr_esh_ctl(sh, EPOLL_CTL_MOD, 12, 2, &e);
	uint64_t seen = 0;
	for (int i = 0; i < 4; i++)
		if (wait_with(sh, rev, out, 1) == 1)
			seen |= 1u << (out[0].data.u64 - 100);
	CHECK(seen == ((1u << 0) | (1u << 2)),
	    "with room for one event, both ready descriptors get turns");
	rev[0] = rev[2] = 0;

	/* A descriptor closed: gone from every shadow. */
	struct kbr_esh *sh2 = kbr_esh_find(41, true);
	e = ev(EPOLLIN, 200);
	kbr_esh_ctl(sh2, EPOLL_CTL_ADD, 10, 0, &e);
	kbr_esh_forget_fd(10);
	CHECK(kbr_esh_count(sh) == 2 && kbr_esh_count(sh2) == 0,
	    "forget_fd(10) takes it out of both shadows");
	CHECK(kbr_esh_ctl(sh, EPOLL_CTL_DEL, 10, 0, NULL) == ENOENT,
	    "DEL after forget: ENOENT");

	/* Deleted between snapshot and collect: skipped. */
	struct pollfd kp[16];
	int fds[16];
	kbr_fdtab_flags_set(11, KBR_FD_REARM_OUT);	/* 11 is ET */
	size_t k = kbr_esh_snapshot(sh, kp, fds, 16);
	kbr_esh_ctl(sh, EPOLL_CTL_DEL, 12, 2, NULL);
	for (size_t i = 0; i < k; i++)
		kp[i].revents = POLLIN | POLLOUT;
	n = kbr_esh_collect(sh, kp, fds, k, out, 8);
	CHECK(n == 1 && out[0].data.u64 == 101,
	    "an entry deleted during the wait is not reported (%d)", n);

	kbr_esh_linux(sh, 1);
	kbr_esh_linux(sh, 1);
	kbr_esh_linux(sh, -1);
	CHECK(kbr_esh_linux_count(sh) == 1, "Linux members counted");
	kbr_esh_linux(sh, -1);
	kbr_esh_linux(sh, -1);
	CHECK(kbr_esh_linux_count(sh) == 0, "and never below zero");

	kbr_esh_destroy(40);
	CHECK(kbr_esh_find(40, false) == NULL, "destroy: epoll 40 has none");
	kbr_esh_reset();
	CHECK(kbr_esh_find(41, false) == NULL, "reset: no shadows left");
	CHECK(kbr_poll_to_ev(POLLNVAL, EPOLLIN) == EPOLLERR &&
	    kbr_poll_to_ev(POLLHUP, EPOLLIN | EPOLLRDHUP) ==
	    (EPOLLHUP | EPOLLRDHUP) && kbr_poll_to_ev(POLLOUT, EPOLLIN) == 0,
	    "poll bits -> epoll bits");
}

/* Held data: bytes and an error a poll fetched, read in order, shared by
 * a dup, gone with the last descriptor, not a fork child's. */
static void
held(void)
{
	char b[16];
	int e = 0;

	CHECK(!kbr_held_reserve(20, 8), "reserve on a Linux descriptor: no");
	CHECK(kbr_held_avail(20) == 0 && kbr_held_take(20, b, 4, false,
	    &e) == 0, "a Linux descriptor holds nothing");
	kbr_fdtab_set(20, 3, KBR_FD_SOCK | KBR_FD_STREAM);
	CHECK(kbr_held_reserve(20, 8) && kbr_held_avail(20) == 0,
	    "reserve: room, nothing held yet");
	CHECK(kbr_held_add(20, "abcdef", 6, 0) == 0 && kbr_held_avail(20) == 6,
	    "6 bytes held");
	CHECK(kbr_held_take(20, b, 2, true, &e) == 2 && memcmp(b, "ab", 2) ==
	    0 && kbr_held_avail(20) == 6, "peek 2: ab, still 6 held");
	CHECK(kbr_held_take(20, b, 4, false, &e) == 4 &&
	    memcmp(b, "abcd", 4) == 0 && kbr_held_avail(20) == 2,
	    "take 4: abcd, 2 left");
	/* More than reserved (a second poll raced): it grows. */
	CHECK(kbr_held_add(20, "0123456789", 10, 0) == 0 &&
	    kbr_held_avail(20) == 12, "10 more appended past the reservation");
	kbr_fdtab_set(21, 4, KBR_FD_SOCK | KBR_FD_STREAM);
	kbr_held_share(20, 21);
	CHECK(kbr_held_take(21, b, 3, false, &e) == 3 &&
	    memcmp(b, "ef0", 3) == 0, "the dup reads on from the original");
	kbr_fdtab_clear(20);
	CHECK(kbr_held_avail(20) == 0 && kbr_held_avail(21) == 9,
	    "closing the original leaves the dup its 9 bytes");
	CHECK(kbr_held_add(21, NULL, 0, ECONNRESET) == 0 &&
	    kbr_held_avail(21) == 10, "an error after them counts one");
	CHECK(kbr_held_take(21, b, 16, false, &e) == 9 &&
	    memcmp(b, "123456789", 9) == 0, "the bytes come before the error");
	e = 0;
	CHECK(kbr_held_take(21, b, 16, true, &e) == -1 && e == ECONNRESET &&
	    kbr_held_avail(21) == 1, "peek at the error: kept");
	e = 0;
	CHECK(kbr_held_take(21, b, 16, false, &e) == -1 && e == ECONNRESET &&
	    kbr_held_avail(21) == 0, "then the error, once");
	CHECK(kbr_held_take(21, b, 16, false, &e) == 0, "then nothing");
	CHECK(kbr_held_add(21, "zz", 2, 0) == 0, "zz held");
	kbr_fdtab_clear(21);
	kbr_fdtab_set(21, 5, KBR_FD_SOCK | KBR_FD_STREAM);
	CHECK(kbr_held_avail(21) == 0, "a new descriptor on the number holds "
	    "nothing of the closed one's");
	kbr_fdtab_set(22, 6, KBR_FD_SOCK | KBR_FD_STREAM);
	CHECK(kbr_held_reserve(21, 4) && kbr_held_add(21, "q", 1, 0) == 0 &&
	    (kbr_held_share(21, 22), kbr_fdtab_mark_dead() >= 2) &&
	    (kbr_held_fork_child(), kbr_held_avail(21) == 0) &&
	    kbr_held_avail(22) == 0,
	    "a fork child does not see the parent's held bytes (shared ones "
	    "neither)");
	kbr_fdtab_clear(21);
	kbr_fdtab_clear(22);
}

int
main(void)
{
	table();
	shadows();
	held();
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
