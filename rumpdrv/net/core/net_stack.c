/*
 * net_stack.c - stack instances and the "net" component.  A stack is a
 * full set of interfaces, routes and protocol state; components hang
 * their per-stack state off ns_slot[] through registered hooks.  Threads
 * pick the stack their socket calls create sockets in (default: stack 0).
 */
#include "net/core/net.h"

#define NET_MAXSTACKS	8
#define NET_MAXHOOKS	NS_SLOTS
#define NET_MAXSEL	128

/* net_lock protects the stack and hook registries and the selections. */
static kmutex_t net_lock;
static struct netstack *netstacks[NET_MAXSTACKS];
static const struct netstack_hooks *net_hooks[NET_MAXHOOKS];
static struct { struct lwp *l; int id; } net_sel[NET_MAXSEL];
static bool net_up;

static void
net_inet_input_stub(struct ifnet *ifp, struct mbuf *m)
{
	NET_ATOMIC_INC(&ifp->if_data.ifi_noproto);
	m_freem(m);
}
void (*net_inet_input)(struct ifnet *, struct mbuf *) = net_inet_input_stub;

static void
netstack_timer(void *arg)
{
	struct netstack *ns = arg;
	mutex_enter_clock(&ns->ns_lock);
	ns->ns_ticks++;
	for (int i = 0; i < NET_MAXHOOKS; i++) {
		const struct netstack_hooks *h = net_hooks[i];
		if (h != NULL && h->nh_slowtimo != NULL &&
		    ns->ns_slot[h->nh_slot] != NULL)
			h->nh_slowtimo(ns);
	}
	bool dying = ns->ns_dying;
	mutex_exit(&ns->ns_lock);
	if (!dying)
		callout_schedule(&ns->ns_timer, 100);
}

int
netstack_register(const struct netstack_hooks *h)
{
	mutex_enter(&net_lock);
	int i;
	for (i = 0; i < NET_MAXHOOKS && net_hooks[i] != NULL; i++)
		;
	if (i == NET_MAXHOOKS) {
		mutex_exit(&net_lock);
		return ENOSPC;
	}
	net_hooks[i] = h;
	int rv = 0;
	for (int s = 0; s < NET_MAXSTACKS && rv == 0; s++) {
		struct netstack *ns = netstacks[s];
		if (ns == NULL)
			continue;
		mutex_enter(&ns->ns_lock);
		rv = h->nh_attach(ns);
		mutex_exit(&ns->ns_lock);
	}
	mutex_exit(&net_lock);
	return rv;
}

void
netstack_unregister(const struct netstack_hooks *h)
{
	mutex_enter(&net_lock);
	for (int s = 0; s < NET_MAXSTACKS; s++) {
		struct netstack *ns = netstacks[s];
		if (ns == NULL || ns->ns_slot[h->nh_slot] == NULL)
			continue;
		if (h->nh_stop != NULL)
			h->nh_stop(ns);
		mutex_enter(&ns->ns_lock);
		h->nh_detach(ns);
		ns->ns_slot[h->nh_slot] = NULL;
		mutex_exit(&ns->ns_lock);
	}
	for (int i = 0; i < NET_MAXHOOKS; i++)
		if (net_hooks[i] == h)
			net_hooks[i] = NULL;
	mutex_exit(&net_lock);
}

static int
netstack_create_locked(const char *name, struct netstack **nsp)
{
	int id;
	for (id = 0; id < NET_MAXSTACKS && netstacks[id] != NULL; id++)
		;
	if (id == NET_MAXSTACKS)
		return ENOSPC;
	struct netstack *ns = kmem_zalloc(sizeof(*ns), KM_SLEEP);
	mutex_init(&ns->ns_lock, MUTEX_DEFAULT, IPL_NONE);
	mutex_sethooks(&ns->ns_lock, &netisr_lock_hooks);
	mutex_defer_wakes(&ns->ns_lock);
	ns->ns_id = id;
	strlcpy_k(ns->ns_name, name, sizeof(ns->ns_name));
	int rv = 0;
	mutex_enter(&ns->ns_lock);
	for (int i = 0; i < NET_MAXHOOKS && rv == 0; i++)
		if (net_hooks[i] != NULL)
			rv = net_hooks[i]->nh_attach(ns);
	mutex_exit(&ns->ns_lock);
	if (rv == 0)
		rv = loop_attach(ns, &ns->ns_loif);
	if (rv != 0) {
		mutex_enter(&ns->ns_lock);
		for (int i = NET_MAXHOOKS - 1; i >= 0; i--) {
			const struct netstack_hooks *h = net_hooks[i];
			if (h != NULL && ns->ns_slot[h->nh_slot] != NULL)
				h->nh_detach(ns);
		}
		mutex_exit(&ns->ns_lock);
		mutex_destroy(&ns->ns_lock);
		kmem_free(ns, sizeof(*ns));
		return rv;
	}
	callout_init(&ns->ns_timer, 0);
	callout_setfunc(&ns->ns_timer, netstack_timer, ns);
	callout_schedule(&ns->ns_timer, 100);
	netstacks[id] = ns;
	*nsp = ns;
	return 0;
}

int
netstack_create(const char *name, struct netstack **nsp)
{
	if (!net_up)
		return ENXIO;
	mutex_enter(&net_lock);
	int rv = netstack_create_locked(name, nsp);
	mutex_exit(&net_lock);
	return rv;
}

void
netstack_destroy(struct netstack *ns)
{
	mutex_enter(&ns->ns_lock);
	ns->ns_dying = true;
	mutex_exit(&ns->ns_lock);
	callout_halt(&ns->ns_timer);
	callout_destroy(&ns->ns_timer);
	/* Interfaces first (their drivers stop delivering), then protocols. */
	for (int i = NS_MAXIF - 1; i >= 0; i--) {
		struct ifnet *ifp = ns->ns_ifnet[i];
		if (ifp == NULL)
			continue;
		if (ifp == ns->ns_loif)
			loop_detach(ifp);
		else if (ifp->if_destroy != NULL)
			ifp->if_destroy(ifp);	/* the driver's detach */
		else
			if_detach(ifp);
	}
	/* No input can come now.  Threads that noted some of ns's run it
	 * when they let go of the stack lock they hold, which is soon. */
	while (__atomic_load_n(&ns->ns_pendrefs, __ATOMIC_ACQUIRE) != 0)
		kpause_ns(100000);
	mutex_enter(&net_lock);
	for (int i = NET_MAXHOOKS - 1; i >= 0; i--) {
		const struct netstack_hooks *h = net_hooks[i];
		if (h != NULL && h->nh_stop != NULL &&
		    ns->ns_slot[h->nh_slot] != NULL)
			h->nh_stop(ns);
	}
	mutex_enter(&ns->ns_lock);
	for (int i = NET_MAXHOOKS - 1; i >= 0; i--) {
		const struct netstack_hooks *h = net_hooks[i];
		if (h != NULL && ns->ns_slot[h->nh_slot] != NULL) {
			h->nh_detach(ns);
			ns->ns_slot[h->nh_slot] = NULL;
		}
	}
	mutex_exit(&ns->ns_lock);
	netstacks[ns->ns_id] = NULL;
	for (int i = 0; i < NET_MAXSEL; i++)
		if (net_sel[i].l != NULL && net_sel[i].id == ns->ns_id)
			net_sel[i].l = NULL;
	mutex_exit(&net_lock);
	mutex_destroy(&ns->ns_lock);
	kmem_free(ns, sizeof(*ns));
}

struct netstack *
netstack_byid(int id)
{
	if (id < 0 || id >= NET_MAXSTACKS)
		return NULL;
	mutex_enter(&net_lock);
	struct netstack *ns = netstacks[id];
	mutex_exit(&net_lock);
	return ns;
}

struct netstack *
netstack_cur(void)
{
	struct lwp *l = curlwp;
	if (!net_up)
		return NULL;
	mutex_enter(&net_lock);
	int id = 0;
	for (int i = 0; i < NET_MAXSEL; i++)
		if (net_sel[i].l == l) {
			id = net_sel[i].id;
			break;
		}
	struct netstack *ns = netstacks[id];
	if (ns == NULL && id == 0)
		(void)netstack_create_locked("stack0", &ns);
	mutex_exit(&net_lock);
	return ns;
}

int
netstack_select(int id)
{
	struct lwp *l = curlwp;
	mutex_enter(&net_lock);
	if (id < 0 || id >= NET_MAXSTACKS || netstacks[id] == NULL) {
		mutex_exit(&net_lock);
		return ENOENT;
	}
	int freei = -1;
	for (int i = 0; i < NET_MAXSEL; i++) {
		if (net_sel[i].l == l) {
			net_sel[i].id = id;
			mutex_exit(&net_lock);
			return 0;
		}
		if (net_sel[i].l == NULL && freei < 0)
			freei = i;
	}
	if (freei < 0) {
		mutex_exit(&net_lock);
		return ENOSPC;
	}
	net_sel[freei].l = l;
	net_sel[freei].id = id;
	mutex_exit(&net_lock);
	return 0;
}

static int
net_init(void)
{
	mutex_init(&net_lock, MUTEX_DEFAULT, IPL_NONE);
	int rv = netisr_init();
	if (rv != 0)
		return rv;
	net_up = true;
	return 0;
}

static void
net_fini(void)
{
	for (int i = NET_MAXSTACKS - 1; i >= 0; i--)
		if (netstacks[i] != NULL)
			netstack_destroy(netstacks[i]);
	net_up = false;
	netisr_fini();
	m_jcl_drain();
	memset(net_sel, 0, sizeof(net_sel));
	mutex_destroy(&net_lock);
}

RUMPDRV_COMPONENT(net, "net", "", net_init, net_fini);
