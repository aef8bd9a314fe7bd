/*
 * krq_client.c - the client side of the shared-memory queues (krank/krq.h,
 * part of libkrank): mapping a region, posting requests, ringing KRANK's
 * bell, taking responses, and attaching over KRANK's control socket.  The
 * client trusts KRANK but still bounds what it reads (a length never
 * steers a copy past a slot), so a bug shows as EPROTO, not a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <krank/krq.h>
#include "krq_bell.h"
#include "krk_ctl_proto.h"

/* One ring pair as the client drives it; the indices it owns are kept
 * here and only published to the region. */
struct krq_cring {
	struct krq_ring_ctl *req, *resp;
	uint32_t req_head;		/* ours: next request slot */
	uint32_t resp_tail;		/* ours: next response to take */
	int reserved;			/* krq_reserve without commit */
	struct krq_spin spin;		/* this ring's adaptive budget */
};

struct krq {
	void *base;
	size_t len;
	uint32_t nrings, nslots, mask, slot_size, cap;
	uint64_t ring_size, area_off, area_len;
	uint64_t spin_ns;
	uint32_t features;
	int ctlfd;			/* krq_attach's connection, or -1 */
	struct krq_cring rings[];
};

static int
hdr_check(const struct krq_hdr *h, uint64_t file_len)
{
	if (h->magic != KRQ_MAGIC || h->version != KRQ_VERSION ||
	    h->hdr_size != sizeof(*h))
		return EPROTO;
	if (h->nrings < 1 || h->nrings > KRQ_MAX_RINGS ||
	    h->nslots < KRQ_MIN_SLOTS || h->nslots > KRQ_MAX_SLOTS ||
	    (h->nslots & (h->nslots - 1)) != 0 ||
	    h->slot_size < KRQ_MIN_SLOT_SIZE ||
	    h->slot_size > KRQ_MAX_SLOT_SIZE || h->slot_size % KRQ_LINE != 0 ||
	    h->rings_off != KRQ_PAGE ||
	    h->ring_size != krq_ring_size(h->nslots, h->slot_size) ||
	    h->area_off != krq_area_off(h->nrings, h->nslots, h->slot_size) ||
	    h->area_len > KRQ_MAX_AREA || h->area_len % KRQ_PAGE != 0 ||
	    h->region_len != h->area_off + h->area_len ||
	    h->region_len != file_len)
		return EINVAL;
	return 0;
}

int
krq_map(int memfd, struct krq **qp)
{
	struct stat st;
	if (fstat(memfd, &st) != 0)
		return errno;
	if (st.st_size < (off_t)KRQ_PAGE)
		return EPROTO;
	struct krq_hdr h;
	void *p = mmap(NULL, KRQ_PAGE, PROT_READ, MAP_SHARED, memfd, 0);
	if (p == MAP_FAILED)
		return errno;
	memcpy(&h, p, sizeof(h));
	munmap(p, KRQ_PAGE);
	int e = hdr_check(&h, (uint64_t)st.st_size);
	if (e != 0)
		return e;
	struct krq *q = calloc(1, sizeof(*q) + h.nrings * sizeof(q->rings[0]));
	if (q == NULL)
		return ENOMEM;
	q->base = mmap(NULL, h.region_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, memfd, 0);
	if (q->base == MAP_FAILED) {
		e = errno;
		free(q);
		return e;
	}
	q->len = h.region_len;
	q->nrings = h.nrings;
	q->nslots = h.nslots;
	q->mask = h.nslots - 1;
	q->slot_size = h.slot_size;
	q->cap = h.slot_size - KRQ_SLOT_HDR;
	q->ring_size = h.ring_size;
	q->area_off = h.area_off;
	q->area_len = h.area_len;
	q->spin_ns = h.spin_ns;
	q->features = h.features;
	q->ctlfd = -1;
	for (unsigned r = 0; r < q->nrings; r++) {
		struct krq_cring *cr = &q->rings[r];
		cr->req = krq_ring_ctl_at(q->base, q->ring_size, 2 * r);
		cr->resp = krq_ring_ctl_at(q->base, q->ring_size, 2 * r + 1);
		/* Attach to a live region where a previous user left it. */
		cr->req_head = __atomic_load_n(&cr->req->head, __ATOMIC_ACQUIRE);
		cr->resp_tail = __atomic_load_n(&cr->resp->tail,
		    __ATOMIC_ACQUIRE);
	}
	*qp = q;
	return 0;
}

void
krq_unmap(struct krq *q)
{
	if (q == NULL)
		return;
	munmap(q->base, q->len);
	if (q->ctlfd >= 0)
		close(q->ctlfd);
	free(q);
}

unsigned
krq_nrings(const struct krq *q)
{
	return q->nrings;
}

size_t
krq_slot_cap(const struct krq *q)
{
	return q->cap;
}

void *
krq_area(const struct krq *q, size_t *lenp)
{
	if (lenp != NULL)
		*lenp = q->area_len;
	return q->area_len ? (char *)q->base + q->area_off : NULL;
}

unsigned
krq_features(const struct krq *q)
{
	return q->features;
}

void
krq_set_spin(struct krq *q, uint64_t spin_ns)
{
	q->spin_ns = spin_ns;
}

static inline bool
q_dead(const struct krq *q)
{
	const struct krq_hdr *h = q->base;
	return __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != KRQ_STATE_LIVE;
}

int
krq_status(const struct krq *q, char *reason, size_t len)
{
	const struct krq_hdr *h = q->base;
	if (!q_dead(q)) {
		if (len > 0)
			reason[0] = '\0';
		return 0;
	}
	if (len > 0) {
		size_t n = len - 1 < sizeof(h->reason) ? len - 1 :
		    sizeof(h->reason) - 1;
		memcpy(reason, h->reason, n);
		reason[n] = '\0';
	}
	return EPIPE;
}

unsigned
krq_outstanding(const struct krq *q, unsigned ring)
{
	if (ring >= q->nrings)
		return 0;
	return q->rings[ring].req_head - q->rings[ring].resp_tail;
}

void *
krq_reserve(struct krq *q, unsigned ring, size_t *capp)
{
	if (ring >= q->nrings || q_dead(q))
		return NULL;
	struct krq_cring *cr = &q->rings[ring];
	if (cr->req_head - cr->resp_tail >= q->nslots)
		return NULL;
	cr->reserved = 1;
	if (capp != NULL)
		*capp = q->cap;
	return krq_slot_at(cr->req, q->slot_size, cr->req_head, q->mask)->data;
}

int
krq_commit(struct krq *q, unsigned ring, size_t len)
{
	if (ring >= q->nrings || !q->rings[ring].reserved)
		return EINVAL;
	if (len > q->cap)
		return EMSGSIZE;
	struct krq_cring *cr = &q->rings[ring];
	struct krq_slot *s = krq_slot_at(cr->req, q->slot_size, cr->req_head,
	    q->mask);
	__atomic_store_n(&s->len, (uint32_t)len, __ATOMIC_RELAXED);
	/* The tag publishes the message (krq_layout.h), then the head. */
	__atomic_store_n(&s->flags, KRQ_SLOT_TAG(cr->req_head),
	    __ATOMIC_RELEASE);
	cr->reserved = 0;
	cr->req_head++;
	__atomic_store_n(&cr->req->head, cr->req_head, __ATOMIC_RELEASE);
	return 0;
}

int
krq_post(struct krq *q, unsigned ring, const void *msg, size_t len)
{
	if (ring >= q->nrings)
		return EINVAL;
	if (len > q->cap)
		return EMSGSIZE;
	if (q_dead(q))
		return EPIPE;
	size_t cap;
	void *d = krq_reserve(q, ring, &cap);
	if (d == NULL)
		return EAGAIN;
	memcpy(d, msg, len);
	return krq_commit(q, ring, len);
}

void
krq_bell(struct krq *q, unsigned ring)
{
	if (ring < q->nrings)
		krq_bell_ring(q->rings[ring].req);
}

/* One response if there is one: 0, EAGAIN (none), or a final error. */
static int
take_one(struct krq *q, struct krq_cring *cr, void *buf, size_t cap,
    size_t *lenp)
{
	struct krq_slot *s = krq_slot_at(cr->resp, q->slot_size, cr->resp_tail,
	    q->mask);
	uint32_t flags = __atomic_load_n(&s->flags, __ATOMIC_ACQUIRE);
	if ((flags & KRQ_SLOT_TAG_MASK) != KRQ_SLOT_TAG(cr->resp_tail))
		return EAGAIN;
	uint32_t len = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
	if (len > q->cap)
		return EPROTO;
	*lenp = len;
	if (len > cap)
		return EMSGSIZE;
	memcpy(buf, s->data, len);
	cr->resp_tail++;
	__atomic_store_n(&cr->resp->tail, cr->resp_tail, __ATOMIC_RELEASE);
	if ((flags & KRQ_SLOT_REJECTED) && len == 0)
		return EBADMSG;
	return 0;
}

int
krq_take(struct krq *q, unsigned ring, void *buf, size_t cap, size_t *lenp,
    int64_t timeout_ns)
{
	if (ring >= q->nrings)
		return EINVAL;
	struct krq_cring *cr = &q->rings[ring];
	if (cr->req_head == cr->resp_tail)
		return ENOMSG;
	int e = take_one(q, cr, buf, cap, lenp);
	if (e != EAGAIN)
		return e;
	if (timeout_ns == 0)
		return q_dead(q) ? EPIPE : EAGAIN;

	/* Spin on the next response slot's line: no system call while
	 * KRANK answers within the budget, and none for KRANK either (our
	 * bell says awake).  The budget adapts (krq_bell.h) and is 0 when
	 * KRANK's server thread runs on our CPU; it is looked up after a
	 * few turns only, so that an answer already on its way costs
	 * nothing more.  The clock is first read after 256 turns (one read
	 * may cost 100 ns under a hypervisor), so the budgets start that
	 * late. */
	const struct krq_slot *next = krq_slot_at(cr->resp, q->slot_size,
	    cr->resp_tail, q->mask);
	uint64_t budget = q->spin_ns, deadline = UINT64_MAX, spin_end = 0;
	for (unsigned i = 1; budget > 0; i++) {
		if (krq_slot_ready(next, cr->resp_tail)) {
			krq_spin_result(&cr->spin, budget, q->spin_ns, true);
			return take_one(q, cr, buf, cap, lenp);
		}
		krq_cpu_relax();
		if (i == KRQ_SPIN_LOOKUP) {
			uint32_t me = krq_my_cpu();
			krq_cpu_publish(cr->resp, me);
			budget = krq_spin_budget(&cr->spin, q->spin_ns,
			    __atomic_load_n(&cr->req->cpu, __ATOMIC_RELAXED),
			    me);
		}
		if ((i & 255) == 0) {
			uint64_t now = krq_now_ns();
			if (spin_end == 0) {
				if (timeout_ns > 0)
					deadline = now + (uint64_t)timeout_ns;
				spin_end = now + budget;
				if (spin_end > deadline)
					spin_end = deadline;
			} else if (now >= spin_end) {
				krq_spin_result(&cr->spin, budget, q->spin_ns,
				    false);
				break;
			}
			if (q_dead(q))
				return EPIPE;
		}
	}
	if (spin_end == 0 && timeout_ns > 0)
		deadline = krq_now_ns() + (uint64_t)timeout_ns;
	for (;;) {
		e = take_one(q, cr, buf, cap, lenp);
		if (e != EAGAIN)
			return e;
		if (q_dead(q))
			return EPIPE;
		uint64_t now = krq_now_ns();
		if (now >= deadline)
			return ETIMEDOUT;
		if (!krq_bell_announce(cr->resp, next, cr->resp_tail))
			continue;
		int64_t left = deadline == UINT64_MAX ? -1 :
		    (int64_t)(deadline - now);
		krq_futex_wait(&cr->resp->bell, KRQ_BELL_SLEEPING, left, true);
		__atomic_store_n(&cr->resp->bell, KRQ_BELL_AWAKE,
		    __ATOMIC_RELAXED);
	}
}

/* ---- attaching over the control socket ---- */

static __thread char attach_err[512];

const char *
krq_attach_error(void)
{
	return attach_err;
}

/* The control socket: ctlsock, $KRANK_SOCKET, or the only *.sock in
 * KRK_CTL_RUN_DIR (as krankctl finds it). */
static int
find_socket(const char *ctlsock, char *path, size_t len)
{
	if (ctlsock == NULL)
		ctlsock = getenv("KRANK_SOCKET");
	if (ctlsock != NULL && ctlsock[0] != '\0') {
		if (strlen(ctlsock) >= len)
			return ENAMETOOLONG;
		strcpy(path, ctlsock);
		return 0;
	}
	DIR *d = opendir(KRK_CTL_RUN_DIR);
	if (d == NULL)
		return ENOENT;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".sock") != 0)
			continue;
		if (n++ == 0 && snprintf(path, len, "%s/%s", KRK_CTL_RUN_DIR,
		    de->d_name) >= (int)len)
			n = 2;	/* unusable: treat as ambiguous */
	}
	closedir(d);
	return n == 1 ? 0 : n == 0 ? ENOENT : ENOTUNIQ;
}

/* Read the answer line ("ok\n" or "error: ...\n") and, with "ok", the
 * memfd that came with it. */
static int
read_answer(int fd, int *memfdp)
{
	char line[512];
	size_t len = 0;
	*memfdp = -1;
	while (len < sizeof(line) - 1) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { line + len, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm != NULL;
		    cm = CMSG_NXTHDR(&m, cm)) {
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS &&
			    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
				int mfd;
				memcpy(&mfd, CMSG_DATA(cm), sizeof(int));
				if (*memfdp >= 0)
					close(*memfdp);
				*memfdp = mfd;
			}
		}
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	if (strcmp(line, "ok\n") == 0 && *memfdp >= 0)
		return 0;
	if (*memfdp >= 0) {
		close(*memfdp);
		*memfdp = -1;
	}
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	snprintf(attach_err, sizeof(attach_err), "%s",
	    strncmp(line, "error: ", 7) == 0 ? line + 7 :
	    len ? line : "KRANK closed the connection without an answer");
	return EIO;
}

int
krq_attach(const char *ctlsock, unsigned nrings, struct krq **qp)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	attach_err[0] = '\0';
	int e = find_socket(ctlsock, a.sun_path, sizeof(a.sun_path));
	if (e != 0)
		return e;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		e = errno;
		close(fd);
		return e;
	}
	/* The request: argv strings, then an empty one (krk_ctl_proto.h). */
	char req[64];
	int n = nrings ? snprintf(req, sizeof(req), "attach%c%u%c%c", 0,
	    nrings, 0, 0) : snprintf(req, sizeof(req), "attach%c%c", 0, 0);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		e = errno ? errno : EIO;
		close(fd);
		return e;
	}
	int memfd;
	e = read_answer(fd, &memfd);
	if (e != 0) {
		close(fd);
		return e;
	}
	struct krq *q;
	e = krq_map(memfd, &q);
	close(memfd);
	if (e != 0) {
		close(fd);
		return e;
	}
	q->ctlfd = fd;
	*qp = q;
	return 0;
}

int
krq_chan_map(const char *ctlsock, const char *name, void **basep,
    size_t *sizep)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char req[160];
	struct stat st;
	int fd, memfd, n, e;

	attach_err[0] = '\0';
	if (name == NULL || strlen(name) > 100)
		return EINVAL;
	if ((e = find_socket(ctlsock, a.sun_path, sizeof(a.sun_path))) != 0)
		return e;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		e = errno;
		close(fd);
		return e;
	}
	n = snprintf(req, sizeof(req), "chanpool%c%s%c%c", 0, name, 0, 0);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		e = errno ? errno : EIO;
		close(fd);
		return e;
	}
	e = read_answer(fd, &memfd);
	close(fd);
	if (e != 0)
		return e;
	if (fstat(memfd, &st) != 0 || st.st_size <= 0) {
		e = errno ? errno : EPROTO;
		close(memfd);
		return e;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, memfd, 0);
	e = errno;
	close(memfd);
	if (p == MAP_FAILED)
		return e;
	*basep = p;
	*sizep = (size_t)st.st_size;
	return 0;
}
