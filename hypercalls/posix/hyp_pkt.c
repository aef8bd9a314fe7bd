/*
 * hyp_pkt.c - packet I/O ports: spec parsing, receive buffer pools,
 * counters, polling and callback reception.  Backends live in pkt_*.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "hyp_pkt_int.h"

#define PKT_NBUFS 1024
#define PKT_MAXMTU 9000

static const struct pkt_backend *const pkt_backends[] = {
	&pkt_wire_backend, &pkt_tap_backend, &pkt_afpacket_backend,
};

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)
		return -1;		/* multicast is not a station address */
	return 0;
}

static int
parse_percent(const char *s, double *out)
{
	char *end;
	double d = strtod(s, &end);
	if (end == s || *end != '\0' || !(d >= 0.0 && d <= 100.0))
		return -1;
	*out = d / 100.0;
	return 0;
}

/* "key=value,key=value" after the name.  Modifies opts. */
static int
parse_opts(char *s, struct pkt_opts *o)
{
	char *save = NULL;

	for (char *kv = strtok_r(s, ",", &save); kv != NULL;
	    kv = strtok_r(NULL, ",", &save)) {
		char *val = strchr(kv, '=');
		if (val == NULL)
			return -1;
		*val++ = '\0';
		if (strcmp(kv, "mac") == 0) {
			if (parse_mac(val, o->mac) != 0)
				return -1;
			o->has_mac = 1;
		} else if (strcmp(kv, "mtu") == 0) {
			char *end;
			unsigned long m = strtoul(val, &end, 10);
			if (*end != '\0' || m < 68 || m > PKT_MAXMTU)
				return -1;
			o->mtu = (unsigned)m;
		} else if (strcmp(kv, "loss") == 0) {
			if (parse_percent(val, &o->loss) != 0)
				return -1;
		} else if (strcmp(kv, "dup") == 0) {
			if (parse_percent(val, &o->dup) != 0)
				return -1;
		} else if (strcmp(kv, "reorder") == 0) {
			if (parse_percent(val, &o->reorder) != 0)
				return -1;
		} else if (strcmp(kv, "seed") == 0) {
			char *end;
			o->seed = strtoull(val, &end, 0);
			if (*end != '\0')
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static int
pkt_pool_init(struct hyp_pkt *p)
{
	/* Room for a VLAN tag, rounded to a cache line. */
	size_t frame = p->info.mtu + HYP_PKT_HDRLEN + 4;
	p->bufsz = (sizeof(struct pktbuf) + frame + 63) & ~(size_t)63;
	int rv = hyp_arena_create(p->bufsz * PKT_NBUFS,
	    HYP_ARENA_HUGE | HYP_ARENA_LOCKED, &p->arena);
	if (rv != 0)
		return rv;
	pthread_mutex_init(&p->bufmtx, NULL);
	p->freebufs = NULL;
	for (unsigned i = 0; i < PKT_NBUFS; i++) {
		struct pktbuf *b = (void *)((char *)p->arena.base + i * p->bufsz);
		b->port = p;
		b->next = p->freebufs;
		p->freebufs = b;
	}
	p->nfree = PKT_NBUFS;
	p->info.nbufs = PKT_NBUFS;
	return 0;
}

struct pktbuf *
pkt_buf_get(struct hyp_pkt *p)
{
	pthread_mutex_lock(&p->bufmtx);
	struct pktbuf *b = p->freebufs;
	if (b != NULL) {
		p->freebufs = b->next;
		p->nfree--;
	}
	pthread_mutex_unlock(&p->bufmtx);
	if (b == NULL)
		atomic_fetch_add(&p->rx_nobuf, 1);
	return b;
}

void
pkt_buf_put(struct hyp_pkt *p, struct pktbuf *b)
{
	pthread_mutex_lock(&p->bufmtx);
	b->next = p->freebufs;
	p->freebufs = b;
	p->nfree++;
	pthread_mutex_unlock(&p->bufmtx);
}

void
pkt_frame_set(struct hyp_pkt *p, struct hyp_pkt_frame *f, struct pktbuf *b,
    size_t len)
{
	f->data = b->data;
	f->len = len;
	f->buf = b;
	atomic_fetch_add(&p->rx_frames, 1);
	atomic_fetch_add(&p->rx_bytes, len);
}

int
pkt_fd_wait(struct hyp_pkt *p, int timeout_ms, int wrap)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	int rv = 0, e = 0, nlocks = 0;

	if (wrap)
		rumpkern_unsched(&nlocks, NULL);
	do {
		rv = poll(&pfd, 1, timeout_ms);
	} while (rv == -1 && errno == EINTR);
	e = errno;
	if (wrap)
		rumpkern_sched(nlocks, NULL);
	if (rv == -1)
		return rumpuser__errtrans(e);
	return rv == 0 ? NB_ETIMEDOUT : 0;
}

int
pkt_ifmtu(const char *ifname, unsigned *mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s == -1)
		return rumpuser__errtrans(errno);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int rv = ioctl(s, SIOCGIFMTU, &ifr);
	int e = errno;
	close(s);
	if (rv == -1)
		return rumpuser__errtrans(e);
	*mtu = (unsigned)ifr.ifr_mtu;
	return 0;
}

int
hyp_pkt_open(const char *spec, struct hyp_pkt **pp)
{
	struct pkt_opts o;
	const struct pkt_backend *be = NULL;
	struct hyp_pkt *p;
	char buf[HYP_PKT_NAMELEN + 128];
	char *name, *opts;
	int rv;

	if (spec == NULL || pp == NULL || strlen(spec) >= sizeof(buf))
		return NB_EINVAL;
	strcpy(buf, spec);
	name = strchr(buf, ':');
	if (name == NULL)
		return NB_EINVAL;
	*name++ = '\0';
	for (size_t i = 0; i < sizeof(pkt_backends) / sizeof(pkt_backends[0]); i++)
		if (strcmp(buf, pkt_backends[i]->prefix) == 0)
			be = pkt_backends[i];
	if (be == NULL)
		return NB_EINVAL;
	memset(&o, 0, sizeof(o));
	if ((opts = strchr(name, ',')) != NULL) {
		*opts++ = '\0';
		if (parse_opts(opts, &o) != 0)
			return NB_EINVAL;
	}
	if (name[0] == '\0' || strlen(name) >= IFNAMSIZ)
		return NB_EINVAL;
	if (o.mtu && be != &pkt_wire_backend)
		return NB_EINVAL;	/* host interfaces have their own MTU */
	if ((o.loss || o.dup || o.reorder) && be != &pkt_wire_backend)
		return NB_EINVAL;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NB_ENOMEM;
	p->be = be;
	p->fd = -1;
	snprintf(p->info.name, sizeof(p->info.name), "%s", spec);
	if (o.has_mac) {
		memcpy(p->info.lladdr, o.mac, 6);
	} else {
		/* Locally administered unicast: 02:xx:xx:xx:xx:xx. */
		size_t got = 0;
		if (rumpuser_getrandom(p->info.lladdr, 6, 0, &got) != 0 || got != 6)
			memset(p->info.lladdr, 0x5a, 6);
		p->info.lladdr[0] = 0x02;
	}
	if ((rv = be->open(p, name, &o)) != 0) {
		free(p);
		return rv;
	}
	if (p->info.mtu < 68 || p->info.mtu > PKT_MAXMTU)
		p->info.mtu = p->info.mtu < 68 ? 68 : PKT_MAXMTU;
	if ((rv = pkt_pool_init(p)) != 0) {
		be->close(p);
		free(p);
		return rv;
	}
	*pp = p;
	return 0;
}

void
hyp_pkt_close(struct hyp_pkt *p)
{
	if (p == NULL)
		return;
	hyp_pkt_set_rx(p, NULL, NULL);
	p->be->close(p);
	if (p->nfree != p->info.nbufs)
		rumpuser_dprintf("krank-hypercall: %s closed with %u receive "
		    "buffers still held\n", p->info.name, p->info.nbufs - p->nfree);
	hyp_arena_destroy(&p->arena);
	pthread_mutex_destroy(&p->bufmtx);
	free(p);
}

void
hyp_pkt_info(struct hyp_pkt *p, struct hyp_pkt_info *info)
{
	*info = p->info;
}

void
hyp_pkt_stats(struct hyp_pkt *p, struct hyp_pkt_stats *st)
{
	st->tx_frames = atomic_load(&p->tx_frames);
	st->tx_bytes = atomic_load(&p->tx_bytes);
	st->tx_errors = atomic_load(&p->tx_errors);
	st->rx_frames = atomic_load(&p->rx_frames);
	st->rx_bytes = atomic_load(&p->rx_bytes);
	st->rx_nobuf = atomic_load(&p->rx_nobuf);
	st->rx_bad = atomic_load(&p->rx_bad);
}

int
hyp_pkt_send(struct hyp_pkt *p, const struct rumpuser_iovec *iov,
    size_t iovcnt)
{
	size_t len = 0;

	if (iov == NULL || iovcnt == 0 || iovcnt > 64)
		return NB_EINVAL;
	for (size_t i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len < HYP_PKT_HDRLEN || len > p->info.mtu + HYP_PKT_HDRLEN + 4) {
		atomic_fetch_add(&p->tx_errors, 1);
		return NB_EMSGSIZE;
	}
	int rv = p->be->send(p, (const struct iovec *)(const void *)iov,
	    (int)iovcnt, len);
	if (rv == 0) {
		atomic_fetch_add(&p->tx_frames, 1);
		atomic_fetch_add(&p->tx_bytes, len);
	} else {
		atomic_fetch_add(&p->tx_errors, 1);
	}
	return rv;
}

int
hyp_pkt_recv(struct hyp_pkt *p, struct hyp_pkt_frame *frames, unsigned max,
    unsigned *np)
{
	if (frames == NULL || np == NULL)
		return NB_EINVAL;
	*np = 0;
	if (max == 0)
		return 0;
	return p->be->recv(p, frames, max, np);
}

void
hyp_pkt_frame_free(struct hyp_pkt *p, struct hyp_pkt_frame *f)
{
	if (f == NULL || f->buf == NULL)
		return;
	pkt_buf_put(p, f->buf);
	f->buf = NULL;
	f->data = NULL;
}

int
hyp_pkt_wait(struct hyp_pkt *p, int timeout_ms)
{
	return p->be->wait(p, timeout_ms, 1);
}

#define RX_BATCH 32

static void *
pkt_rx_thread(void *arg)
{
	struct hyp_pkt *p = arg;
	struct hyp_pkt_frame frames[RX_BATCH];
	unsigned n;

	while (!atomic_load(&p->rxstop)) {
		if (p->be->recv(p, frames, RX_BATCH, &n) == 0 && n > 0) {
			p->rxfn(p->rxarg, frames, n);
			continue;
		}
		/* Wake at least every 50 ms to notice a stop request. */
		p->be->wait(p, 50, 0);
	}
	return NULL;
}

int
hyp_pkt_set_rx(struct hyp_pkt *p, hyp_pkt_rx_fn fn, void *arg)
{
	if (fn == NULL) {
		if (p->rxrunning) {
			atomic_store(&p->rxstop, 1);
			pthread_join(p->rxthread, NULL);
			p->rxrunning = 0;
		}
		return 0;
	}
	if (p->rxrunning)
		return NB_EBUSY;
	p->rxfn = fn;
	p->rxarg = arg;
	atomic_store(&p->rxstop, 0);
	int rv = pthread_create(&p->rxthread, NULL, pkt_rx_thread, p);
	if (rv != 0)
		return rumpuser__errtrans(rv);
	pthread_setname_np(p->rxthread, "krank-pktrx");
	p->rxrunning = 1;
	return 0;
}
