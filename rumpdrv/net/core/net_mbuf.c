/*
 * net_mbuf.c - mbuf chains over kmem: allocation, external storage with
 * reference counts (clusters and frames lent by the packet hypercalls),
 * and the chain operations the protocols use.  No locks: an mbuf belongs
 * to one thread at a time; only ext_refcnt and mbstat are shared (atomic).
 */
#include "net/core/mbuf.h"

struct mbstat mbstat;

#define ATOMIC_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)

static struct mbuf *
m_alloc(int how, int type, int flags)
{
	struct mbuf *m = kmem_alloc(MSIZE, how == M_WAIT ? KM_SLEEP : KM_NOSLEEP);
	if (m == NULL) {
		ATOMIC_ADD(&mbstat.m_drops, 1);
		return NULL;
	}
	m->m_next = m->m_nextpkt = NULL;
	m->m_data = m->m_dat;
	m->m_len = 0;
	m->m_flags = flags;
	m->m_type = type;
	m->m_ext = NULL;
	m->m_pkthdr.rcvif = NULL;
	m->m_pkthdr.len = 0;
	m->m_pkthdr.csum_flags = 0;
	m->m_pkthdr.csum_data = 0;
	ATOMIC_ADD(&mbstat.m_mbufs, 1);
	return m;
}

struct mbuf *
m_get(int how, int type)
{
	return m_alloc(how, type, 0);
}

struct mbuf *
m_gethdr(int how, int type)
{
	return m_alloc(how, type, M_PKTHDR);
}

int
m_leadingspace(const struct mbuf *m)
{
	if (m->m_flags & M_EXT) {
		/* Shared storage is read-only. */
		if (__atomic_load_n(&m->m_ext->ext_refcnt, __ATOMIC_RELAXED) > 1)
			return 0;
		return (int)(m->m_data - m->m_ext->ext_buf);
	}
	return (int)(m->m_data - m->m_dat);
}

int
m_trailingspace(const struct mbuf *m)
{
	if (m->m_flags & M_EXT) {
		if (__atomic_load_n(&m->m_ext->ext_refcnt, __ATOMIC_RELAXED) > 1)
			return 0;
		return (int)(m->m_ext->ext_buf + m->m_ext->ext_size -
		    (m->m_data + m->m_len));
	}
	return (int)(m->m_dat + MLEN - (m->m_data + m->m_len));
}

int
m_extadd(struct mbuf *m, void *buf, size_t size,
    void (*freefn)(void *, size_t, void *, void *), void *arg, void *arg2)
{
	struct m_extstor *e = kmem_alloc(sizeof(*e), KM_NOSLEEP);
	if (e == NULL) {
		ATOMIC_ADD(&mbstat.m_drops, 1);
		return ENOBUFS;
	}
	KASSERT(!(m->m_flags & M_EXT));
	e->ext_refcnt = 1;
	e->ext_buf = buf;
	e->ext_size = size;
	e->ext_free = freefn;
	e->ext_arg = arg;
	e->ext_arg2 = arg2;
	m->m_ext = e;
	m->m_flags |= M_EXT;
	m->m_data = buf;
	ATOMIC_ADD(&mbstat.m_ext, 1);
	return 0;
}

static void
m_clfree(void *buf, size_t size, void *arg, void *arg2)
{
	(void)arg;
	(void)arg2;
	kmem_free(buf, size);
	ATOMIC_ADD(&mbstat.m_clusters, -1);
}

int
m_clget(struct mbuf *m, int how)
{
	void *buf = kmem_alloc(MCLBYTES, how == M_WAIT ? KM_SLEEP : KM_NOSLEEP);
	if (buf == NULL) {
		ATOMIC_ADD(&mbstat.m_drops, 1);
		return ENOBUFS;
	}
	if (m_extadd(m, buf, MCLBYTES, m_clfree, NULL, NULL) != 0) {
		kmem_free(buf, MCLBYTES);
		return ENOBUFS;
	}
	ATOMIC_ADD(&mbstat.m_clusters, 1);
	return 0;
}

/*
 * Large clusters, for big sends: a power of two from 4 KiB to M_JCLBYTES.
 * kmem hands sizes past 4 KiB to the host allocator, which would map and
 * unmap them over and over; freed ones are kept on a list per size (up to
 * M_JCLCACHE bytes each, under m_jcl_lock) for the next send.
 */
#define M_JCLSHIFT0	12
#define M_JCLCLASSES	5		/* 4, 8, 16, 32, 64 KiB */
#define M_JCLCACHE	(8u << 20)

struct m_jclfree {
	struct m_jclfree *next;
};
static kspin_t m_jcl_lock;
static struct m_jclfree *m_jcl_list[M_JCLCLASSES];	/* m_jcl_lock */
static size_t m_jcl_bytes[M_JCLCLASSES];		/* m_jcl_lock */

static unsigned
m_jclclass(size_t size)
{
	unsigned c = 0;
	while (((size_t)1 << (M_JCLSHIFT0 + c)) < size)
		c++;
	KASSERT(c < M_JCLCLASSES && ((size_t)1 << (M_JCLSHIFT0 + c)) == size);
	return c;
}

static void
m_jclfree(void *buf, size_t size, void *arg, void *arg2)
{
	(void)arg;
	(void)arg2;
	unsigned c = m_jclclass(size);
	ATOMIC_ADD(&mbstat.m_clusters, -1);
	kspin_enter(&m_jcl_lock);
	if (m_jcl_bytes[c] + size <= M_JCLCACHE) {
		struct m_jclfree *f = buf;
		f->next = m_jcl_list[c];
		m_jcl_list[c] = f;
		m_jcl_bytes[c] += size;
		buf = NULL;
	}
	kspin_exit(&m_jcl_lock);
	if (buf != NULL)
		kmem_free(buf, size);
}

static int
m_jclget(struct mbuf *m, size_t size, int how)
{
	unsigned c = m_jclclass(size);
	kspin_enter(&m_jcl_lock);
	void *buf = m_jcl_list[c];
	if (buf != NULL) {
		m_jcl_list[c] = m_jcl_list[c]->next;
		m_jcl_bytes[c] -= size;
	}
	kspin_exit(&m_jcl_lock);
	if (buf == NULL)
		buf = kmem_alloc(size, how == M_WAIT ? KM_SLEEP : KM_NOSLEEP);
	if (buf == NULL) {
		ATOMIC_ADD(&mbstat.m_drops, 1);
		return ENOBUFS;
	}
	if (m_extadd(m, buf, size, m_jclfree, NULL, NULL) != 0) {
		ATOMIC_ADD(&mbstat.m_clusters, 1);
		m_jclfree(buf, size, NULL, NULL);
		return ENOBUFS;
	}
	ATOMIC_ADD(&mbstat.m_clusters, 1);
	return 0;
}

void
m_jcl_drain(void)
{
	for (unsigned c = 0; c < M_JCLCLASSES; c++) {
		kspin_enter(&m_jcl_lock);
		struct m_jclfree *f = m_jcl_list[c];
		m_jcl_list[c] = NULL;
		m_jcl_bytes[c] = 0;
		kspin_exit(&m_jcl_lock);
		while (f != NULL) {
			struct m_jclfree *n = f->next;
			kmem_free(f, (size_t)1 << (M_JCLSHIFT0 + c));
			f = n;
		}
	}
}

struct mbuf *
m_getroom(size_t len, int lead, int how)
{
	KASSERT(lead >= 0 && lead <= 128);
	struct mbuf *top = m_gethdr(how, MT_DATA);
	if (top == NULL)
		return NULL;
	struct mbuf *m = top;
	size_t done = 0;
	/* The first mbuf: inline when everything fits, else a cluster. */
	if (len + (size_t)lead > (size_t)MHLEN) {
		size_t want = len + (size_t)lead, csz = MCLBYTES;
		while (csz < want && csz < M_JCLBYTES)
			csz <<= 1;
		if ((csz == MCLBYTES ? m_clget(m, how) : m_jclget(m, csz, how))
		    != 0) {
			m_freem(top);
			return NULL;
		}
	}
	m->m_data += lead;
	for (;;) {
		size_t room = (size_t)M_TRAILINGSPACE(m);
		size_t n = len - done < room ? len - done : room;
		m->m_len = (int)n;
		done += n;
		if (done == len)
			break;
		size_t csz = MCLBYTES;
		while (csz < len - done && csz < M_JCLBYTES)
			csz <<= 1;
		struct mbuf *nm = m_get(how, MT_DATA);
		if (nm == NULL || (csz == MCLBYTES ? m_clget(nm, how) :
		    m_jclget(nm, csz, how)) != 0) {
			if (nm != NULL)
				m_free(nm);
			m_freem(top);
			return NULL;
		}
		m->m_next = nm;
		m = nm;
	}
	top->m_pkthdr.len = (int)len;
	return top;
}

struct mbuf *
m_copyin(const void *buf, size_t len, int lead, int how)
{
	struct mbuf *top = m_getroom(len, lead, how);
	size_t done = 0;

	for (struct mbuf *m = top; m != NULL; m = m->m_next) {
		memcpy(m->m_data, (const char *)buf + done, (size_t)m->m_len);
		done += (size_t)m->m_len;
	}
	return top;
}

struct mbuf *
m_getcl(int how, int type, int flags)
{
	struct mbuf *m = m_alloc(how, type, flags);
	if (m == NULL)
		return NULL;
	if (m_clget(m, how) != 0) {
		m_free(m);
		return NULL;
	}
	return m;
}

static void
m_ext_release(struct m_extstor *e)
{
	if (__atomic_sub_fetch(&e->ext_refcnt, 1, __ATOMIC_ACQ_REL) == 0) {
		e->ext_free(e->ext_buf, e->ext_size, e->ext_arg, e->ext_arg2);
		kmem_free(e, sizeof(*e));
		ATOMIC_ADD(&mbstat.m_ext, -1);
	}
}

struct mbuf *
m_free(struct mbuf *m)
{
	struct mbuf *n = m->m_next;
	if (m->m_flags & M_EXT)
		m_ext_release(m->m_ext);
	kmem_free(m, MSIZE);
	ATOMIC_ADD(&mbstat.m_mbufs, -1);
	return n;
}

void
m_freem(struct mbuf *m)
{
	while (m != NULL)
		m = m_free(m);
}

void
m_freem_list(struct mbuf *m)
{
	while (m != NULL) {
		struct mbuf *n = m->m_nextpkt;
		m_freem(m);
		m = n;
	}
}

int
m_length(const struct mbuf *m)
{
	int len = 0;
	for (; m != NULL; m = m->m_next)
		len += m->m_len;
	return len;
}

void
m_copydata(const struct mbuf *m, int off, int len, void *vp)
{
	char *cp = vp;
	KASSERT(off >= 0 && len >= 0);
	while (off > 0) {
		KASSERTMSG(m != NULL, "m_copydata: offset past the chain");
		if (off < m->m_len)
			break;
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0) {
		KASSERTMSG(m != NULL, "m_copydata: length past the chain");
		int n = m->m_len - off < len ? m->m_len - off : len;
		memcpy(cp, m->m_data + off, (size_t)n);
		cp += n;
		len -= n;
		off = 0;
		m = m->m_next;
	}
}

int
m_copyback(struct mbuf *m0, int off, int len, const void *vp)
{
	const char *cp = vp;
	struct mbuf *m = m0;
	int total = off + len;

	while (off > m->m_len) {
		off -= m->m_len;
		if (m->m_next == NULL) {
			struct mbuf *n = m_get(M_DONTWAIT, m->m_type);
			if (n == NULL)
				return ENOBUFS;
			n->m_len = off < MLEN ? off : MLEN;
			memset(n->m_data, 0, (size_t)n->m_len);
			m->m_next = n;
		}
		m = m->m_next;
	}
	while (len > 0) {
		/* Room in this mbuf: up to its length, or its trailing space
		 * when it is the last one. */
		int room = m->m_len - off;
		if (m->m_next == NULL) {
			int tr = M_TRAILINGSPACE(m);
			if (room < len && tr > 0) {
				int grow = len - room < tr ? len - room : tr;
				m->m_len += grow;
				room += grow;
			}
		}
		int n = room < len ? room : len;
		if (n > 0) {
			memcpy(m->m_data + off, cp, (size_t)n);
			cp += n;
			len -= n;
		}
		off = 0;
		if (len == 0)
			break;
		if (m->m_next == NULL) {
			struct mbuf *nm = m_get(M_DONTWAIT, m->m_type);
			if (nm == NULL)
				return ENOBUFS;
			m->m_next = nm;
		}
		m = m->m_next;
	}
	if ((m0->m_flags & M_PKTHDR) && m0->m_pkthdr.len < total)
		m0->m_pkthdr.len = total;
	return 0;
}

struct mbuf *
m_copym(struct mbuf *m, int off, int len, int how)
{
	struct mbuf *top = NULL, **np = &top;
	int copyhdr = (off == 0 && (m->m_flags & M_PKTHDR));

	KASSERT(off >= 0 && len >= 0);
	while (off > 0 && m != NULL && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0 && m != NULL) {
		struct mbuf *n = copyhdr ? m_gethdr(how, m->m_type) :
		    m_get(how, m->m_type);
		if (n == NULL)
			goto fail;
		if (copyhdr) {
			n->m_pkthdr = m->m_pkthdr;
			n->m_pkthdr.len = len == M_COPYALL ?
			    m->m_pkthdr.len : len;
			n->m_flags |= m->m_flags & (M_BCAST | M_MCAST | M_LOOP);
			copyhdr = 0;
		}
		int cnt = m->m_len - off < len ? m->m_len - off : len;
		if (m->m_flags & M_EXT) {
			n->m_ext = m->m_ext;
			n->m_flags |= M_EXT;
			__atomic_add_fetch(&m->m_ext->ext_refcnt, 1,
			    __ATOMIC_RELAXED);
			n->m_data = m->m_data + off;
		} else
			memcpy(n->m_data, m->m_data + off, (size_t)cnt);
		n->m_len = cnt;
		if (len != M_COPYALL)
			len -= cnt;
		off = 0;
		*np = n;
		np = &n->m_next;
		m = m->m_next;
	}
	if (len != M_COPYALL && len > 0)
		goto fail;		/* the chain was shorter */
	return top;
fail:
	m_freem(top);
	return NULL;
}

struct mbuf *
m_dup(struct mbuf *m, int off, int len, int how)
{
	if (len == M_COPYALL)
		len = m_length(m) - off;
	struct mbuf *top = NULL, **np = &top;
	int done = 0;
	while (done < len) {
		struct mbuf *n = top == NULL ? m_gethdr(how, MT_DATA) :
		    m_get(how, MT_DATA);
		if (n == NULL)
			goto fail;
		*np = n;
		np = &n->m_next;
		int room = MLEN;
		if (len - done > MLEN) {
			if (m_clget(n, how) != 0)
				goto fail;
			room = MCLBYTES;
		}
		int cnt = len - done < room ? len - done : room;
		m_copydata(m, off + done, cnt, n->m_data);
		n->m_len = cnt;
		done += cnt;
	}
	if (top == NULL && (top = m_gethdr(how, MT_DATA)) == NULL)
		return NULL;
	if (m->m_flags & M_PKTHDR)
		top->m_pkthdr.rcvif = m->m_pkthdr.rcvif;
	top->m_pkthdr.len = len;
	return top;
fail:
	m_freem(top);
	return NULL;
}

struct mbuf *
m_pullup(struct mbuf *m, int len)
{
	if (m->m_len >= len)
		return m;
	if (len > MHLEN || m_length(m) < len) {
		m_freem(m);
		return NULL;
	}
	struct mbuf *n = m_gethdr(M_DONTWAIT, m->m_type);
	if (n == NULL) {
		m_freem(m);
		return NULL;
	}
	if (m->m_flags & M_PKTHDR) {
		n->m_pkthdr = m->m_pkthdr;
		n->m_flags = m->m_flags & ~M_EXT;
	} else
		n->m_pkthdr.len = m_length(m);
	m_copydata(m, 0, len, n->m_data);
	n->m_len = len;
	/* Drop the copied bytes from the old chain and keep the rest. */
	int skip = len;
	while (m != NULL && skip >= m->m_len) {
		skip -= m->m_len;
		m = m_free(m);
	}
	if (m != NULL) {
		m->m_data += skip;
		m->m_len -= skip;
	}
	n->m_next = m;
	return n;
}

void
m_adj(struct mbuf *mp, int req_len)
{
	struct mbuf *m;
	int len = req_len;

	if (mp == NULL)
		return;
	if (len >= 0) {
		for (m = mp; m != NULL && len > 0; m = m->m_next) {
			int n = m->m_len < len ? m->m_len : len;
			m->m_len -= n;
			m->m_data += n;
			len -= n;
		}
		if (mp->m_flags & M_PKTHDR)
			mp->m_pkthdr.len -= req_len - len;
	} else {
		len = -len;
		int total = m_length(mp);
		int keep = total - len < 0 ? 0 : total - len;
		int left = keep;
		for (m = mp; m != NULL; m = m->m_next) {
			if (m->m_len >= left) {
				m->m_len = left;
				left = 0;
				for (struct mbuf *r = m->m_next; r; r = r->m_next)
					r->m_len = 0;
				break;
			}
			left -= m->m_len;
		}
		if (mp->m_flags & M_PKTHDR)
			mp->m_pkthdr.len = keep;
	}
}

struct mbuf *
m_prepend(struct mbuf *m, int len, int how)
{
	KASSERT(len <= MHLEN);
	struct mbuf *mn = m_gethdr(how, m->m_type);
	if (mn == NULL) {
		m_freem(m);
		return NULL;
	}
	if (m->m_flags & M_PKTHDR) {
		mn->m_pkthdr = m->m_pkthdr;
		mn->m_flags = m->m_flags & ~M_EXT;
		m->m_flags &= ~M_PKTHDR;
	} else
		mn->m_pkthdr.len = m_length(m);
	mn->m_next = m;
	m_align(mn, len);
	mn->m_len = len;
	mn->m_pkthdr.len += len;
	return mn;
}

void
m_align(struct mbuf *m, int len)
{
	KASSERT(!(m->m_flags & M_EXT) && len <= MLEN);
	m->m_data = m->m_dat + ((MLEN - len) & ~7);
}

void
m_cat(struct mbuf *m, struct mbuf *n)
{
	while (m->m_next != NULL)
		m = m->m_next;
	m->m_next = n;
	if (n != NULL)
		n->m_flags &= ~M_PKTHDR;
}

struct mbuf *
m_devget(const void *buf, int len, int off0, struct ifnet *ifp)
{
	struct mbuf *top = NULL, **np = &top;
	const char *cp = (const char *)buf + off0;
	int done = 0;
	while (done < len || top == NULL) {
		struct mbuf *n = top == NULL ? m_gethdr(M_DONTWAIT, MT_DATA) :
		    m_get(M_DONTWAIT, MT_DATA);
		if (n == NULL)
			goto fail;
		*np = n;
		np = &n->m_next;
		int room = MLEN;
		if (len - done > MLEN) {
			if (m_clget(n, M_DONTWAIT) != 0)
				goto fail;
			room = MCLBYTES;
		}
		int cnt = len - done < room ? len - done : room;
		memcpy(n->m_data, cp + done, (size_t)cnt);
		n->m_len = cnt;
		done += cnt;
	}
	top->m_pkthdr.rcvif = ifp;
	top->m_pkthdr.len = len;
	return top;
fail:
	m_freem(top);
	return NULL;
}
