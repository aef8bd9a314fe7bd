/*
 * net_krs.c - the krs_ calls of the "net" component: stacks, interface
 * addresses, MTU, up/down, routes and interface counters, with the small
 * dotted-quad parser they need.
 */
#include "net/core/net.h"
#include "net/krs_net.h"

/* net_parse_addr - "A.B.C.D" to network order; 0 or EINVAL. */
static int
net_parse_addr(const char *s, const char **endp, uint32_t *addr)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		unsigned v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return EINVAL;
		a = a << 8 | v;
		if (i < 3 && *s++ != '.')
			return EINVAL;
	}
	*addr = htonl(a);
	*endp = s;
	return 0;
}

static int
net_parse_cidr(const char *s, uint32_t *addr, int *plen)
{
	const char *e;
	if (s == NULL)
		return EFAULT;
	if (net_parse_addr(s, &e, addr) != 0)
		return EINVAL;
	if (*e == '\0') {
		*plen = 32;
		return 0;
	}
	if (*e++ != '/')
		return EINVAL;
	int p = 0, digits = 0;
	while (*e >= '0' && *e <= '9' && digits < 3) {
		p = p * 10 + (*e++ - '0');
		digits++;
	}
	if (digits == 0 || *e != '\0' || p > 32)
		return EINVAL;
	*plen = p;
	return 0;
}

static struct ifnet *
krs_ifp(const char *name, int *errp)
{
	struct netstack *ns = netstack_cur();
	if (ns == NULL) {
		*errp = ENXIO;
		return NULL;
	}
	if (name == NULL) {
		*errp = EFAULT;
		return NULL;
	}
	mutex_enter(&ns->ns_lock);
	struct ifnet *ifp = if_byname(ns, name);
	mutex_exit(&ns->ns_lock);
	if (ifp == NULL)
		*errp = ENXIO;
	return ifp;
}

KRS_EXPORT int
krs_net_stack_create(const char *name)
{
	struct netstack *ns;
	if (netstack_cur() == NULL)	/* stack 0 first, so ids are stable */
		return krs_fail(ENXIO);
	int rv = netstack_create(name != NULL ? name : "stack", &ns);
	if (rv != 0)
		return krs_fail(rv);
	return ns->ns_id;
}

KRS_EXPORT int
krs_net_stack_select(int id)
{
	if (netstack_cur() == NULL)
		return krs_fail(ENXIO);
	int rv = netstack_select(id);
	return rv != 0 ? krs_fail(rv) : 0;
}

KRS_EXPORT int
krs_if_setaddr(const char *ifname, const char *cidr)
{
	int err;
	uint32_t addr;
	int plen;
	struct ifnet *ifp = krs_ifp(ifname, &err);
	if (ifp == NULL)
		return krs_fail(err);
	if ((err = net_parse_cidr(cidr, &addr, &plen)) != 0)
		return krs_fail(err);
	uint32_t host = ntohl(addr) & ~ntohl(in_plen2mask(plen));
	if (addr == 0)
		plen = 0;
	else if (plen == 0 || (plen < 31 && (host == 0 ||
	    host == ~ntohl(in_plen2mask(plen)))))
		/* no host part, or the broadcast address of its net */
		return krs_fail(EINVAL);
	err = if_setaddr(ifp, addr, in_plen2mask(plen));
	return err != 0 ? krs_fail(err) : 0;
}

KRS_EXPORT int
krs_if_setmtu(const char *ifname, unsigned mtu)
{
	int err;
	struct ifnet *ifp = krs_ifp(ifname, &err);
	if (ifp == NULL)
		return krs_fail(err);
	if (ifp->if_type == IFT_ETHER && mtu > 9000)
		return krs_fail(EINVAL);
	err = if_setmtu(ifp, mtu);
	return err != 0 ? krs_fail(err) : 0;
}

KRS_EXPORT int
krs_if_rename(const char *ifname, const char *newname)
{
	struct netstack *ns = netstack_cur();
	size_t n;
	int err = 0;
	if (ns == NULL)
		return krs_fail(ENXIO);
	if (ifname == NULL || newname == NULL)
		return krs_fail(EFAULT);
	n = strlen(newname);
	if (n == 0 || n >= IFNAMSIZ || strcspn(newname, "/ \t\n:") != n)
		return krs_fail(EINVAL);
	mutex_enter(&ns->ns_lock);
	struct ifnet *ifp = if_byname(ns, ifname);
	if (ifp == NULL)
		err = ENXIO;
	else if (strcmp(ifname, newname) != 0 && if_byname(ns, newname) != NULL)
		err = EEXIST;
	else
		memcpy(ifp->if_xname, newname, n + 1);
	mutex_exit(&ns->ns_lock);
	return err ? krs_fail(err) : 0;
}

KRS_EXPORT int
krs_if_up(const char *ifname, int up)
{
	int err;
	struct ifnet *ifp = krs_ifp(ifname, &err);
	if (ifp == NULL)
		return krs_fail(err);
	return if_setup(ifp, up != 0);
}

KRS_EXPORT int
krs_route_add(const char *cidr, const char *gateway, const char *ifname)
{
	struct netstack *ns = netstack_cur();
	uint32_t dst, gw = 0;
	int plen, err;
	const char *e;
	if (ns == NULL)
		return krs_fail(ENXIO);
	if ((err = net_parse_cidr(cidr, &dst, &plen)) != 0)
		return krs_fail(err);
	if (gateway != NULL && (net_parse_addr(gateway, &e, &gw) != 0 || *e))
		return krs_fail(EINVAL);
	mutex_enter(&ns->ns_lock);
	struct ifnet *ifp = NULL;
	if (ifname != NULL)
		ifp = if_byname(ns, ifname);
	else if (gw != 0) {
		struct rtentry *rt = rt_lookup(ns, gw);
		if (rt != NULL && !(rt->rt_flags & RTF_GATEWAY))
			ifp = rt->rt_ifp;
	}
	if (ifp == NULL)
		err = ifname != NULL ? ENXIO : ENETUNREACH;
	else
		err = rt_add(ns, dst, plen, gw, ifp, 0);
	mutex_exit(&ns->ns_lock);
	return err != 0 ? krs_fail(err) : 0;
}

KRS_EXPORT int
krs_route_delete(const char *cidr)
{
	struct netstack *ns = netstack_cur();
	uint32_t dst;
	int plen, err;
	if (ns == NULL)
		return krs_fail(ENXIO);
	if ((err = net_parse_cidr(cidr, &dst, &plen)) != 0)
		return krs_fail(err);
	mutex_enter(&ns->ns_lock);
	err = rt_delete(ns, dst, plen);
	mutex_exit(&ns->ns_lock);
	return err != 0 ? krs_fail(err) : 0;
}

KRS_EXPORT int
krs_if_stats(const char *ifname, struct krs_if_stats *st)
{
	int err;
	struct ifnet *ifp = krs_ifp(ifname, &err);
	if (ifp == NULL)
		return krs_fail(err);
	if (st == NULL)
		return krs_fail(EFAULT);
	const struct if_data *d = &ifp->if_data;
#define LD(f) __atomic_load_n(&d->f, __ATOMIC_RELAXED)
	st->ipackets = LD(ifi_ipackets);
	st->ierrors = LD(ifi_ierrors);
	st->opackets = LD(ifi_opackets);
	st->oerrors = LD(ifi_oerrors);
	st->ibytes = LD(ifi_ibytes);
	st->obytes = LD(ifi_obytes);
	st->iqdrops = LD(ifi_iqdrops);
	st->oqdrops = LD(ifi_oqdrops);
	st->noproto = LD(ifi_noproto);
#undef LD
	return 0;
}

KRS_EXPORT int
krs_if_queue_stats(const char *ifname, uint64_t *rx, unsigned max)
{
	int err;
	struct ifnet *ifp = krs_ifp(ifname, &err);
	if (ifp == NULL)
		return krs_fail(err);
	if (rx == NULL && max > 0)
		return krs_fail(EFAULT);
	if (ifp->if_rxqueues == NULL)
		return 0;
	return (int)ifp->if_rxqueues(ifp, rx, max);
}
