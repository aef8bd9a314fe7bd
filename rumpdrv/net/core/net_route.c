/*
 * net_route.c - the IPv4 routing table of a stack: an array kept ordered
 * by prefix length (longest first), so the first match is the
 * longest-prefix match.  Small tables (RT_MAX) make the linear scan cheap;
 * everything runs under the stack's ns_lock.
 */
#include "net/core/net.h"

uint32_t
in_plen2mask(int plen)
{
	if (plen <= 0)
		return 0;
	return htonl(plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> plen));
}

int
in_mask2plen(uint32_t mask)
{
	uint32_t h = ntohl(mask);
	int plen = 0;
	while (plen < 32 && (h & (0x80000000u >> plen)))
		plen++;
	if (plen < 32 && (h << plen) != 0)
		return -1;	/* holes: not a netmask */
	return plen;
}

int
rt_add(struct netstack *ns, uint32_t dst, int plen, uint32_t gw,
    struct ifnet *ifp, unsigned flags)
{
	KASSERT(mutex_owned(&ns->ns_lock));
	if (plen < 0 || plen > 32 || ifp == NULL)
		return EINVAL;
	uint32_t mask = in_plen2mask(plen);
	dst &= mask;
	int pos = ns->ns_nrt;
	for (int i = 0; i < ns->ns_nrt; i++) {
		struct rtentry *rt = &ns->ns_rt[i];
		if (rt->rt_plen == plen && rt->rt_dst == dst)
			return EEXIST;
		if (rt->rt_plen < plen && pos == ns->ns_nrt)
			pos = i;
	}
	if (ns->ns_nrt == RT_MAX)
		return ENOSPC;
	memmove(&ns->ns_rt[pos + 1], &ns->ns_rt[pos],
	    (size_t)(ns->ns_nrt - pos) * sizeof(ns->ns_rt[0]));
	struct rtentry *rt = &ns->ns_rt[pos];
	memset(rt, 0, sizeof(*rt));
	rt->rt_dst = dst;
	rt->rt_mask = mask;
	rt->rt_plen = plen;
	rt->rt_gateway = gw;
	rt->rt_ifp = ifp;
	rt->rt_flags = RTF_UP | flags | (gw != 0 ? RTF_GATEWAY : 0) |
	    (plen == 32 ? RTF_HOST : 0);
	ns->ns_nrt++;
	return 0;
}

static void
rt_remove_at(struct netstack *ns, int i)
{
	memmove(&ns->ns_rt[i], &ns->ns_rt[i + 1],
	    (size_t)(ns->ns_nrt - i - 1) * sizeof(ns->ns_rt[0]));
	ns->ns_nrt--;
}

int
rt_delete(struct netstack *ns, uint32_t dst, int plen)
{
	KASSERT(mutex_owned(&ns->ns_lock));
	dst &= in_plen2mask(plen);
	for (int i = 0; i < ns->ns_nrt; i++)
		if (ns->ns_rt[i].rt_plen == plen && ns->ns_rt[i].rt_dst == dst) {
			rt_remove_at(ns, i);
			return 0;
		}
	return ENOENT;
}

void
rt_purge_ifp(struct netstack *ns, struct ifnet *ifp)
{
	for (int i = 0; i < ns->ns_nrt; )
		if (ns->ns_rt[i].rt_ifp == ifp)
			rt_remove_at(ns, i);
		else
			i++;
}

struct rtentry *
rt_lookup(struct netstack *ns, uint32_t dst)
{
	KASSERT(mutex_owned(&ns->ns_lock));
	for (int i = 0; i < ns->ns_nrt; i++) {
		struct rtentry *rt = &ns->ns_rt[i];
		if ((dst & rt->rt_mask) == rt->rt_dst &&
		    (rt->rt_ifp->if_flags & IFF_UP)) {
			rt->rt_use++;
			return rt;
		}
	}
	return NULL;
}
