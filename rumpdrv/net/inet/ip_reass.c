/*
 * ip_reass.c - IPv4 reassembly (RFC 791 section 3.2, RFC 815) with hard
 * limits: at most IPQ_MAXQUEUES datagrams, IPQ_MAXFRAGS fragments each,
 * IPQ_MAXBYTES held in all, IPQ_TTL_TICKS to complete.  Overlapping
 * fragments drop the whole datagram (as RFC 5722 requires for IPv6; an
 * overlap is either an attack or a broken sender); exact duplicates, which
 * a lossy path produces, are dropped alone.  ns_lock held throughout.
 */
#include "net/inet/in_var.h"

struct fraginfo {
	int off, len;		/* payload offset and length */
	bool mf;
	int hlen;
};

static void
frag_info(const struct mbuf *m, struct fraginfo *fi)
{
	const struct ip *ip = mtod(m, const struct ip *);
	fi->hlen = IP_HL(ip);
	fi->off = (ntohs(ip->ip_off) & IP_OFFMASK) * 8;
	fi->mf = (ntohs(ip->ip_off) & IP_MF) != 0;
	fi->len = ntohs(ip->ip_len) - fi->hlen;
}

static void
ipq_free(struct inet_stack *is, struct ipq *q)
{
	for (struct ipq **pp = &is->is_ipq; *pp != NULL; pp = &(*pp)->ipq_next)
		if (*pp == q) {
			*pp = q->ipq_next;
			break;
		}
	is->is_ipq_bytes -= q->ipq_bytes;
	is->is_nipq--;
	is->is_ip.ips_fragdropped += q->ipq_nfrags;
	m_freem_list(q->ipq_frags);
	kmem_free(q, sizeof(*q));
}

/* The queue that expires first: the victim when a limit is hit. */
static struct ipq *
ipq_oldest(struct inet_stack *is, struct ipq *except)
{
	struct ipq *old = NULL;
	for (struct ipq *q = is->is_ipq; q != NULL; q = q->ipq_next)
		if (q != except && (old == NULL || q->ipq_expire < old->ipq_expire))
			old = q;
	return old;
}

struct mbuf *
ip_reass(struct netstack *ns, struct mbuf *m)
{
	struct inet_stack *is = inet_stack(ns);
	struct ipstat *st = &is->is_ip;
	const struct ip *ip = mtod(m, const struct ip *);
	struct fraginfo fi;
	struct ipq *q;

	frag_info(m, &fi);
	if (fi.len <= 0 || (fi.mf && (fi.len & 7) != 0) ||
	    fi.off + fi.len > IP_MAXPACKET - fi.hlen) {
		st->ips_badlen++;
		st->ips_fragdropped++;
		m_freem(m);
		return NULL;
	}
	for (q = is->is_ipq; q != NULL; q = q->ipq_next)
		if (q->ipq_id == ip->ip_id && q->ipq_src == ip->ip_src &&
		    q->ipq_dst == ip->ip_dst && q->ipq_p == ip->ip_p)
			break;
	if (q == NULL) {
		if (is->is_nipq >= IPQ_MAXQUEUES)
			ipq_free(is, ipq_oldest(is, NULL));
		q = kmem_zalloc(sizeof(*q), KM_NOSLEEP);
		if (q == NULL) {
			st->ips_fragdropped++;
			m_freem(m);
			return NULL;
		}
		q->ipq_src = ip->ip_src;
		q->ipq_dst = ip->ip_dst;
		q->ipq_id = ip->ip_id;
		q->ipq_p = ip->ip_p;
		q->ipq_expire = ns->ns_ticks + IPQ_TTL_TICKS;
		q->ipq_next = is->is_ipq;
		is->is_ipq = q;
		is->is_nipq++;
	}
	/* Memory: evict other datagrams, then give up on this fragment. */
	while (is->is_ipq_bytes + fi.len > IPQ_MAXBYTES) {
		struct ipq *old = ipq_oldest(is, q);
		if (old == NULL)
			break;
		ipq_free(is, old);
	}
	if (is->is_ipq_bytes + fi.len > IPQ_MAXBYTES ||
	    q->ipq_nfrags >= IPQ_MAXFRAGS) {
		st->ips_fragdropped++;
		m_freem(m);
		ipq_free(is, q);
		return NULL;
	}
	/* Find the place by offset and check both neighbours. */
	struct mbuf **pp = &q->ipq_frags, *prev = NULL;
	struct fraginfo pfi, nfi;
	while (*pp != NULL) {
		frag_info(*pp, &nfi);
		if (nfi.off >= fi.off)
			break;
		prev = *pp;
		pp = &(*pp)->m_nextpkt;
	}
	if (*pp != NULL) {
		frag_info(*pp, &nfi);
		if (nfi.off == fi.off && nfi.len == fi.len && nfi.mf == fi.mf) {
			st->ips_fragdropped++;	/* duplicate */
			m_freem(m);
			return NULL;
		}
		if (fi.off + fi.len > nfi.off)
			goto overlap;
	}
	if (prev != NULL) {
		frag_info(prev, &pfi);
		if (pfi.off + pfi.len > fi.off)
			goto overlap;
	}
	/* A fragment past the end, or a second different end. */
	for (struct mbuf *f = q->ipq_frags; f != NULL; f = f->m_nextpkt) {
		frag_info(f, &nfi);
		if ((!nfi.mf && fi.off + fi.len > nfi.off + nfi.len) ||
		    (!fi.mf && nfi.off + nfi.len > fi.off + fi.len))
			goto overlap;
	}
	m->m_nextpkt = *pp;
	*pp = m;
	q->ipq_nfrags++;
	q->ipq_bytes += fi.len;
	is->is_ipq_bytes += fi.len;

	/* Complete when the pieces are contiguous from 0 to a last one. */
	int next = 0;
	struct mbuf *f;
	for (f = q->ipq_frags; f != NULL; f = f->m_nextpkt) {
		frag_info(f, &nfi);
		if (nfi.off != next)
			return NULL;
		next += nfi.len;
		if (!nfi.mf)
			break;
	}
	if (f == NULL)
		return NULL;

	struct mbuf *head = q->ipq_frags;
	struct fraginfo hfi;
	frag_info(head, &hfi);
	struct mbuf *rest = head->m_nextpkt;
	head->m_nextpkt = NULL;
	while (rest != NULL) {
		struct mbuf *n = rest->m_nextpkt;
		rest->m_nextpkt = NULL;
		frag_info(rest, &nfi);
		m_adj(rest, nfi.hlen);
		m_cat(head, rest);
		rest = n;
	}
	q->ipq_frags = NULL;
	q->ipq_nfrags = 0;
	ipq_free(is, q);
	head->m_pkthdr.len = m_length(head);
	struct ip *hip = mtod(head, struct ip *);
	hip->ip_len = htons((uint16_t)(hfi.hlen + next));
	hip->ip_off = 0;
	hip->ip_sum = 0;
	hip->ip_sum = in_cksum_buf(hip, (size_t)hfi.hlen);
	return head;

overlap:
	st->ips_fragoverlap++;
	st->ips_fragdropped++;
	m_freem(m);
	ipq_free(is, q);
	return NULL;
}

void
ip_reass_slowtimo(struct netstack *ns)
{
	struct inet_stack *is = inet_stack(ns);
	struct ipq *q = is->is_ipq, *next;
	for (; q != NULL; q = next) {
		next = q->ipq_next;
		if (q->ipq_expire > ns->ns_ticks)
			continue;
		is->is_ip.ips_fragtimeout++;
		/* RFC 792: time exceeded (reassembly) when we have the first
		 * fragment, which identifies the datagram to its sender. */
		struct mbuf *first = q->ipq_frags;
		struct fraginfo fi;
		if (first != NULL) {
			frag_info(first, &fi);
			if (fi.off == 0) {
				q->ipq_frags = first->m_nextpkt;
				first->m_nextpkt = NULL;
				q->ipq_nfrags--;
				q->ipq_bytes -= fi.len;
				is->is_ipq_bytes -= fi.len;
				icmp_error(ns, first, ICMP_TIMXCEED,
				    ICMP_TIMXCEED_REASS, false);
			}
		}
		ipq_free(is, q);
	}
}

void
ip_reass_drain(struct netstack *ns)
{
	struct inet_stack *is = inet_stack(ns);
	while (is->is_ipq != NULL)
		ipq_free(is, is->is_ipq);
}
