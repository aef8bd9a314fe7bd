/*
 * mbuf.h - packet buffers in NetBSD's shape: chains of small mbufs, each
 * holding data inline or in external storage (a cluster, or a frame the
 * hypercall packet layer lent us, freed through a callback).  External
 * storage is reference counted, so m_copym shares it instead of copying.
 * The kernel base (rumpdrv/kern) has no mbufs yet; when it gains them this
 * file should give way to kern's.
 */
#ifndef RUMPDRV_NET_MBUF_H
#define RUMPDRV_NET_MBUF_H

#include <stdio.h>
#include <string.h>

#include "kern/kern.h"

#define MSIZE		256
#define MCLBYTES	2048

#define MT_FREE		0
#define MT_DATA		1
#define MT_HEADER	2
#define MT_SONAME	3
#define MT_CONTROL	4

#define M_EXT		0x0001	/* data in external storage */
#define M_PKTHDR	0x0002	/* first mbuf of a packet */
#define M_EOR		0x0004
#define M_BCAST		0x0100	/* link-level broadcast */
#define M_MCAST		0x0200	/* link-level multicast */
#define M_LOOP		0x0400	/* came in over the loopback */

#define M_DONTWAIT	KM_NOSLEEP
#define M_WAIT		KM_SLEEP
#define M_NOWAIT	KM_NOSLEEP

#define M_COPYALL	1000000000

struct ifnet;

struct pkthdr {
	struct ifnet *rcvif;		/* receiving interface */
	int len;			/* total packet length */
	int csum_flags;			/* M_CSUM_* */
	int csum_data;			/* M_CSUM_TCPv4: offset of the checksum
					 * field in the transport header */
	int segsz;			/* M_CSUM_TSOv4: payload bytes per
					 * segment */
};

/*
 * Checksum offload (csum_flags).  M_CSUM_TCPv4 on output: the TCP checksum
 * field holds only the pseudo-header sum; ip_output completes it unless
 * the interface has IFCAP_CSUM_TCPv4_Tx.  M_CSUM_DATA_OK on input: the
 * frame came from a sender in this process that left its checksums
 * undone, or from a host that checked them or left them undone itself
 * (a tap's virtio-net header), so TCP and UDP do not verify them.
 */
#define M_CSUM_TCPv4	0x0001
/* M_CSUM_TSOv4 (with M_CSUM_TCPv4) on output: one TCP segment longer than
 * the MTU that the interface (IFCAP_TSOv4) cuts into segments of segsz
 * payload bytes. */
#define M_CSUM_TSOv4	0x0002
#define M_CSUM_DATA_OK	0x0100

/* External storage; shared by every mbuf pointing into it (ext_refcnt is
 * atomic).  ext_free runs when the last reference goes. */
struct m_extstor {
	unsigned ext_refcnt;
	char *ext_buf;
	size_t ext_size;
	void (*ext_free)(void *buf, size_t size, void *arg, void *arg2);
	void *ext_arg;
	void *ext_arg2;
};

struct mbuf {
	struct mbuf *m_next;		/* next mbuf of this packet */
	struct mbuf *m_nextpkt;		/* next packet in a queue */
	char *m_data;
	int m_len;
	int m_flags;
	int m_type;
	struct m_extstor *m_ext;	/* M_EXT */
	struct pkthdr m_pkthdr;		/* M_PKTHDR */
	char m_dat[];			/* inline data, MLEN bytes */
};

/* Every mbuf carries room for a packet header, so MHLEN == MLEN. */
#define MLEN		((int)(MSIZE - sizeof(struct mbuf)))
#define MHLEN		MLEN

#define mtod(m, t)	((t)((m)->m_data))

/* Space before m_data / after m_data + m_len in this mbuf's storage. */
int m_leadingspace(const struct mbuf *m);
int m_trailingspace(const struct mbuf *m);
#define M_LEADINGSPACE(m)	m_leadingspace(m)
#define M_TRAILINGSPACE(m)	m_trailingspace(m)

struct mbuf *m_get(int how, int type);
struct mbuf *m_gethdr(int how, int type);
/* m_getcl - an mbuf with a cluster of MCLBYTES attached. */
struct mbuf *m_getcl(int how, int type, int flags);
/* m_clget - attach a cluster; 0 or ENOBUFS. */
int m_clget(struct mbuf *m, int how);
/*
 * m_extadd - make buf (size bytes, not owned by the mbuf allocator) the
 * mbuf's storage; freefn(buf, size, arg, arg2) runs when the last
 * reference is dropped.  0 or ENOBUFS (then the caller still owns buf).
 */
int m_extadd(struct mbuf *m, void *buf, size_t size,
    void (*freefn)(void *, size_t, void *, void *), void *arg, void *arg2);
struct mbuf *m_free(struct mbuf *m);	/* returns m->m_next */
void m_freem(struct mbuf *m);
/* Free a queue linked through m_nextpkt. */
void m_freem_list(struct mbuf *m);

int m_length(const struct mbuf *m);
/* m_copydata - copy len bytes at off out of the chain (KASSERT: in range). */
void m_copydata(const struct mbuf *m, int off, int len, void *vp);
/* m_copyback - write len bytes at off, extending the chain; 0 or ENOBUFS. */
int m_copyback(struct mbuf *m, int off, int len, const void *vp);
/* m_copym - a new chain for [off, off+len) sharing external storage. */
struct mbuf *m_copym(struct mbuf *m, int off, int len, int how);
/* m_dup - a deep copy (contiguous where it fits a cluster). */
struct mbuf *m_dup(struct mbuf *m, int off, int len, int how);
/* m_pullup - make the first len bytes contiguous; frees m and returns NULL
 * when it cannot (too short, no memory). */
struct mbuf *m_pullup(struct mbuf *m, int len);
/* m_adj - trim len bytes from the head (len > 0) or tail (len < 0). */
void m_adj(struct mbuf *m, int len);
/* m_prepend - room for len bytes in front; frees m and returns NULL on
 * failure.  M_PREPEND does the same in place. */
struct mbuf *m_prepend(struct mbuf *m, int len, int how);
#define M_PREPEND(m, plen, how) do {					\
	if (M_LEADINGSPACE(m) >= (plen)) {				\
		(m)->m_data -= (plen);					\
		(m)->m_len += (plen);					\
		if ((m)->m_flags & M_PKTHDR)				\
			(m)->m_pkthdr.len += (plen);			\
	} else								\
		(m) = m_prepend((m), (plen), (how));			\
} while (0)
/* m_cat - append n to m (packet header of n is dropped). */
void m_cat(struct mbuf *m, struct mbuf *n);
/*
 * m_copyin - a packet holding a copy of len bytes of buf, with lead bytes
 * (at most 128) free in front of the data for headers.  Data past a small
 * mbuf goes into clusters of up to M_JCLBYTES, so a 64 KiB send is a
 * couple of mbufs, not 32 clusters.  NULL only without M_WAIT.
 */
#define M_JCLBYTES	(64 * 1024)
struct mbuf *m_copyin(const void *buf, size_t len, int lead, int how);
/* m_getroom - the same packet, its len bytes not yet written (for a
 * caller that fills the data in place: krs_send_fill). */
struct mbuf *m_getroom(size_t len, int lead, int how);
/* m_jcl_drain - give the large clusters kept for reuse back (shutdown). */
void m_jcl_drain(void);
/* m_devget - a packet made by copying len bytes of buf. */
struct mbuf *m_devget(const void *buf, int len, int off0, struct ifnet *ifp);
/* m_align - place len bytes of data at the end of a fresh mbuf. */
void m_align(struct mbuf *m, int len);

/* Counters (atomic): mbufs and clusters in use; for leak checks. */
struct mbstat {
	int64_t m_mbufs;
	int64_t m_clusters;
	int64_t m_ext;
	uint64_t m_drops;		/* allocation failures */
};
extern struct mbstat mbstat;

#endif /* RUMPDRV_NET_MBUF_H */
