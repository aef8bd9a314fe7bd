/*
 * in_show.c - netstat for the current stack: interfaces with counters,
 * routes, ARP entries, UDP sockets and every protocol counter, as text
 * (krs_net_dump) or one counter by name (krs_net_counter).  Takes ns_lock.
 */
#include "net/inet/tcp_var.h"
#include "net/ether/if_ether.h"
#include "net/krs_net.h"

enum { C_IP, C_ICMP, C_UDP, C_ETHER, C_TCP, C_MBUF };
struct counter_def {
	const char *name;
	int where;
	size_t off;
};
#define CIP(n, f)	{ "ip." n, C_IP, offsetof(struct ipstat, f) }
#define CICMP(n, f)	{ "icmp." n, C_ICMP, offsetof(struct icmpstat, f) }
#define CUDP(n, f)	{ "udp." n, C_UDP, offsetof(struct udpstat, f) }
#define CTCP(n, f)	{ "tcp." n, C_TCP, offsetof(struct tcpstat, f) }
#define CETH(n, f)	{ n, C_ETHER, offsetof(struct etherstat, f) }
/* The process's mbufs (every stack's): what the stack holds in memory. */
#define CMBUF(n, f)	{ "mbuf." n, C_MBUF, offsetof(struct mbstat, f) }
static const struct counter_def counters[] = {
	CIP("total", ips_total), CIP("badsum", ips_badsum),
	CIP("tooshort", ips_tooshort), CIP("toosmall", ips_toosmall),
	CIP("badhlen", ips_badhlen), CIP("badlen", ips_badlen),
	CIP("badvers", ips_badvers), CIP("badoptions", ips_badoptions),
	CIP("badaddr", ips_badaddr), CIP("ownsrc", ips_ownsrc),
	CIP("fragments", ips_fragments),
	CIP("fragdropped", ips_fragdropped), CIP("fragtimeout", ips_fragtimeout),
	CIP("fragoverlap", ips_fragoverlap), CIP("reassembled", ips_reassembled),
	CIP("noproto", ips_noproto), CIP("delivered", ips_delivered),
	CIP("cantforward", ips_cantforward), CIP("localout", ips_localout),
	CIP("noroute", ips_noroute), CIP("fragmented", ips_fragmented),
	CIP("ofragments", ips_ofragments), CIP("cantfrag", ips_cantfrag),
	CIP("odropped", ips_odropped),
	CICMP("in", icps_in), CICMP("badsum", icps_badsum),
	CICMP("tooshort", icps_tooshort), CICMP("badcode", icps_badcode),
	CICMP("echo", icps_echo), CICMP("reply", icps_reply),
	CICMP("error", icps_error), CICMP("oldicmp", icps_oldicmp),
	CICMP("ratelim", icps_ratelim), CICMP("unreach_in", icps_unreach_in),
	CUDP("ipackets", udps_ipackets), CUDP("hdrops", udps_hdrops),
	CUDP("badsum", udps_badsum), CUDP("badlen", udps_badlen),
	CUDP("noport", udps_noport), CUDP("noportbcast", udps_noportbcast),
	CUDP("fullsock", udps_fullsock), CUDP("opackets", udps_opackets),
	CETH("ether.runt", es_runt), CETH("ether.notours", es_notours),
	CETH("ether.mcast", es_mcast), CETH("ether.noproto", es_noproto),
	CETH("arp.rx", arp_rx), CETH("arp.tx", arp_tx), CETH("arp.bad", arp_bad),
	CETH("arp.dupaddr", arp_dupaddr), CETH("arp.timeouts", arp_timeouts),
	CETH("arp.holddrops", arp_holddrops), CETH("arp.expired", arp_expired),
	CETH("arp.gratuitous", arp_gratuitous),
	CTCP("connattempt", tcps_connattempt), CTCP("accepts", tcps_accepts),
	CTCP("connects", tcps_connects), CTCP("drops", tcps_drops),
	CTCP("conndrops", tcps_conndrops), CTCP("closed", tcps_closed),
	CTCP("timeoutdrop", tcps_timeoutdrop), CTCP("rexmttimeo", tcps_rexmttimeo),
	CTCP("persisttimeo", tcps_persisttimeo), CTCP("keepdrops", tcps_keepdrops),
	CTCP("sndtotal", tcps_sndtotal), CTCP("sndpack", tcps_sndpack),
	CTCP("sndbyte", tcps_sndbyte), CTCP("sndrexmitpack", tcps_sndrexmitpack),
	CTCP("sndrexmitbyte", tcps_sndrexmitbyte), CTCP("sndacks", tcps_sndacks),
	CTCP("sndrst", tcps_sndrst), CTCP("rcvtotal", tcps_rcvtotal),
	CTCP("rcvpack", tcps_rcvpack), CTCP("rcvbyte", tcps_rcvbyte),
	CTCP("rcvbadsum", tcps_rcvbadsum), CTCP("rcvbadoff", tcps_rcvbadoff),
	CTCP("rcvshort", tcps_rcvshort), CTCP("rcvduppack", tcps_rcvduppack),
	CTCP("rcvoopack", tcps_rcvoopack), CTCP("rcvoodrop", tcps_rcvoodrop),
	CTCP("rcvafterwin", tcps_rcvafterwin), CTCP("rcvdupack", tcps_rcvdupack),
	CTCP("rcvacktoomuch", tcps_rcvacktoomuch), CTCP("rcvackpack", tcps_rcvackpack),
	CTCP("rcvwinupd", tcps_rcvwinupd), CTCP("badsyn", tcps_badsyn),
	CTCP("noport", tcps_noport), CTCP("fastrexmit", tcps_fastrexmit),
	CTCP("challengeack", tcps_challengeack), CTCP("listendrop", tcps_listendrop),
	CTCP("pawsdrop", tcps_pawsdrop), CTCP("badopt", tcps_badopt),
	CTCP("delack", tcps_delack),
	CTCP("challengeack_limited", tcps_challengeack_limited),
	CTCP("ackskipped", tcps_ackskipped), CTCP("rst_limited", tcps_rstlimited),
	CTCP("timewait_reuse", tcps_timewait_reuse),
	CTCP("sack_sndblocks", tcps_sack_sndblocks),
	CTCP("sack_rcvblocks", tcps_sack_rcvblocks),
	CTCP("sack_badblocks", tcps_sack_badblocks),
	CTCP("sack_recovery", tcps_sack_recovery),
	CTCP("sack_rexmits", tcps_sack_rexmits),
	CTCP("lingerdrops", tcps_lingerdrops), CTCP("tlp", tcps_tlp),
	CTCP("limitedxmit", tcps_limitedxmit),
	CTCP("sack_lostrexmit", tcps_sack_lostrexmit),
	CTCP("syncookies_sent", tcps_sc_sent),
	CTCP("syncookies_recvd", tcps_sc_recvd),
	CTCP("syncookies_failed", tcps_sc_failed),
	CTCP("listenoverflow", tcps_listenoverflow),
	CMBUF("mbufs", m_mbufs), CMBUF("clusters", m_clusters),
	CMBUF("ext", m_ext), CMBUF("drops", m_drops),
};

static uint64_t
counter_value(struct netstack *ns, const struct counter_def *c)
{
	struct inet_stack *is = inet_stack(ns);
	const char *base;
	switch (c->where) {
	case C_IP: base = (const char *)&is->is_ip; break;
	case C_ICMP: base = (const char *)&is->is_icmp; break;
	case C_UDP: base = (const char *)&is->is_udp; break;
	case C_TCP: base = (const char *)&tcp_stack(ns)->ts_stat; break;
	case C_MBUF: {
		const int64_t *p = (const int64_t *)((const char *)&mbstat +
		    c->off);
		return (uint64_t)__atomic_load_n(p, __ATOMIC_RELAXED);
	}
	default: base = (const char *)etherstat_get(ns); break;
	}
	uint64_t v;
	memcpy(&v, base + c->off, sizeof(v));
	return v;
}

KRS_EXPORT int64_t
krs_net_counter(const char *name)
{
	struct netstack *ns = netstack_cur();
	if (ns == NULL)
		return krs_fail(ENXIO);
	if (name == NULL)
		return krs_fail(EFAULT);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (strcmp(counters[i].name, name) == 0) {
			mutex_enter(&ns->ns_lock);
			int64_t v = (int64_t)counter_value(ns, &counters[i]);
			mutex_exit(&ns->ns_lock);
			return v;
		}
	return krs_fail(ENOENT);
}

#define A4(a) ((const uint8_t *)&(a))[0], ((const uint8_t *)&(a))[1], \
	((const uint8_t *)&(a))[2], ((const uint8_t *)&(a))[3]

KRS_EXPORT ssize_t
krs_net_dump(char *buf, size_t len)
{
	struct netstack *ns = netstack_cur();
	if (ns == NULL)
		return krs_fail(ENXIO);
	if (buf == NULL || len == 0)
		return krs_fail(EINVAL);
	size_t off = 0;
#define OUT(...) do { if (off < len) { int n_ = snprintf(buf + off, \
	len - off, __VA_ARGS__); if (n_ > 0) off += (size_t)n_; } } while (0)
	mutex_enter(&ns->ns_lock);
	OUT("stack %d %s\n", ns->ns_id, ns->ns_name);
	for (int i = 0; i < NS_MAXIF; i++) {
		struct ifnet *ifp = ns->ns_ifnet[i];
		if (ifp == NULL)
			continue;
		int plen = in_mask2plen(ifp->if_netmask);
		const struct if_data *d = &ifp->if_data;
		OUT("if %s %s mtu %u inet %u.%u.%u.%u/%d "
		    "ether %02x:%02x:%02x:%02x:%02x:%02x ipackets %llu "
		    "ierrors %llu iqdrops %llu opackets %llu oerrors %llu "
		    "ibytes %llu obytes %llu noproto %llu\n", ifp->if_xname,
		    (ifp->if_flags & IFF_UP) ? "up" : "down", ifp->if_mtu,
		    A4(ifp->if_addr), plen, ifp->if_lladdr[0], ifp->if_lladdr[1],
		    ifp->if_lladdr[2], ifp->if_lladdr[3], ifp->if_lladdr[4],
		    ifp->if_lladdr[5], (unsigned long long)d->ifi_ipackets,
		    (unsigned long long)d->ifi_ierrors,
		    (unsigned long long)(d->ifi_iqdrops),
		    (unsigned long long)d->ifi_opackets,
		    (unsigned long long)d->ifi_oerrors,
		    (unsigned long long)d->ifi_ibytes,
		    (unsigned long long)d->ifi_obytes,
		    (unsigned long long)d->ifi_noproto);
	}
	for (int i = 0; i < ns->ns_nrt; i++) {
		const struct rtentry *rt = &ns->ns_rt[i];
		OUT("route %u.%u.%u.%u/%d", A4(rt->rt_dst), rt->rt_plen);
		if (rt->rt_flags & RTF_GATEWAY)
			OUT(" via %u.%u.%u.%u", A4(rt->rt_gateway));
		OUT(" dev %s%s use %llu\n", rt->rt_ifp->if_xname,
		    (rt->rt_flags & RTF_CONNECTED) ? " connected" : "",
		    (unsigned long long)rt->rt_use);
	}
	for (int i = 0; i < NS_MAXIF; i++) {
		struct ifnet *ifp = ns->ns_ifnet[i];
		if (ifp != NULL && ifp->if_type == IFT_ETHER && ifp->if_l2 && off < len)
			off += arp_dump(ifp, buf + off, len - off);
	}
	for (struct inpcb *inp = inet_stack(ns)->is_udb; inp; inp = inp->inp_next)
		OUT("udp %u.%u.%u.%u:%u %u.%u.%u.%u:%u rcvq %d\n",
		    A4(inp->inp_laddr), ntohs(inp->inp_lport), A4(inp->inp_faddr),
		    ntohs(inp->inp_fport), inp->inp_socket->so_rcv.sb_cc);
	static const char *const tstates[] = { "CLOSED", "LISTEN", "SYN_SENT",
	    "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1",
	    "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT" };
	for (struct tcpcb *tp = tcp_stack(ns)->ts_tcbs; tp; tp = tp->t_next) {
		struct inpcb *inp = tp->t_inpcb;
		OUT("tcp %u.%u.%u.%u:%u %u.%u.%u.%u:%u %s rcvq %d sndq %d "
		    "cwnd %u srtt %lldus rto %ums%s%s%s\n", A4(inp->inp_laddr),
		    ntohs(inp->inp_lport), A4(inp->inp_faddr),
		    ntohs(inp->inp_fport), tstates[tp->t_state],
		    tp->t_socket->so_rcv.sb_cc, tp->t_socket->so_snd.sb_cc,
		    tp->snd_cwnd, (long long)tp->t_srtt, tp->t_rto_ms,
		    (tp->t_flags & TF_SACK_PERMIT) ? " sack" : "",
		    (tp->t_flags & TF_RCVD_TSTMP) ? " ts" : "",
		    (tp->t_flags & TF_RCVD_SCALE) ? " wscale" : "");
	}
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		OUT("counter %s %llu\n", counters[i].name,
		    (unsigned long long)counter_value(ns, &counters[i]));
	mutex_exit(&ns->ns_lock);
	if (off >= len)
		off = len - 1;
	buf[off] = '\0';
	return (ssize_t)off;
}
