/*
 * net_if.c - interfaces: attach/detach, the input and output queues, the
 * netisr workqueue that runs deferred input (loopback), input and output
 * deferred in the calling thread until it holds no stack lock, and
 * address, MTU and up/down configuration.  See net.h for the locking rules.
 */
#include "net/core/net.h"

static struct workqueue *netisr_wq;

/*
 * Input deferred in the calling thread (NetBSD's softint, Linux's softirq
 * at local_bh_enable).  The in-process wire delivers a frame in the
 * sending thread, which holds its own stack's ns_lock; running the
 * receiving stack's input there could deadlock (two stacks sending to
 * each other would take the locks in opposite orders) or recurse.  So the
 * driver queues the frame on if_rcv and if_input_defer marks the stack
 * (ns_inpending) and notes it in the thread's lwp; when the thread lets go
 * of its last stack lock (the ns_lock hooks below) it runs the input of
 * every noted stack, in order.  Input that this produces is noted again
 * and run by the same loop, never by recursion.
 *
 * Running a stack's input takes its ns_lock with mutex_tryenter only.
 * When the lock is busy, its holder runs the input as it lets go (the
 * exit hook sees ns_inpending; Linux's socket backlog works the same way
 * at release_sock), so no thread ever sleeps on a lock to deliver input.
 * The flag is set before the try and read after the release, with full
 * fences, so one of the two threads always sees the other.
 *
 * Output to a host-backed interface (if_txdefer) is deferred the same
 * way, so that no thread makes a host call (a tap write, an AF_PACKET
 * send) while others wait on ns_lock: if_transmit queues the frame on
 * if_snd, sets the interface's bit in ns_outpend and notes the stack; the
 * noting thread hands the frames to the driver after the stack's input,
 * with no lock held (ns_output_run).  if_sndbusy lets one thread at a
 * time run an interface's if_start, so frames leave in the order they
 * were queued (ns_lock gave that order); a thread that finds it busy
 * leaves its frames to the one running, which
 * looks at if_snd again after it clears the flag (the handshake of
 * ns_inpending), so no frame waits for a later send.  if_snd stays
 * bounded (IFQ_MAXLEN; overflow counted in ifi_oqdrops), and a thread
 * that finds it half full waits for its turn to send instead of queueing
 * more (if_snd_run), the pacing ns_lock used to give.
 *
 * Each noted stack holds an ns_pendrefs reference; netstack_destroy waits
 * for them.  A thread draining output counts itself in ns_outbusy while it
 * uses the interfaces in ns_ifnet[]; if_detach waits for that to reach 0.
 * The per-thread state is in the lwp (l_nslocks, l_nspend).
 */
#define NETISR_PENDMAX	((unsigned)(sizeof(((struct lwp *)0)->l_nspend) / \
	sizeof(void *)))

static void
netisr_note(struct lwp *l, struct netstack *ns)
{
	for (unsigned i = 0; i < l->l_nspend_n; i++)
		if (l->l_nspend[(l->l_nspend_head + i) % NETISR_PENDMAX] == ns)
			return;
	/* There are fewer stacks than slots. */
	KASSERT(l->l_nspend_n < NETISR_PENDMAX);
	__atomic_add_fetch(&ns->ns_pendrefs, 1, __ATOMIC_ACQ_REL);
	l->l_nspend[(l->l_nspend_head + l->l_nspend_n) % NETISR_PENDMAX] = ns;
	l->l_nspend_n++;
}

/*
 * Drain ifp's input queue; ns_lock held.  The queue is taken in batches
 * under ns_lock, so a batch another thread takes cannot overtake one
 * taken before it.
 */
static void
if_input_locked(struct ifnet *ifp)
{
	struct mbuf *m;
	while ((m = ifq_dequeue_all(&ifp->if_rcv)) != NULL) {
		while (m != NULL) {
			struct mbuf *n = m->m_nextpkt;
			m->m_nextpkt = NULL;
			if (!(ifp->if_flags & IFF_UP)) {
				NET_ATOMIC_INC(&ifp->if_data.ifi_iqdrops);
				m_freem(m);
			} else
				ifp->if_input(ifp, m);
			m = n;
		}
	}
}

/* Drain the input queues of ns's interfaces; ns_lock held. */
static void
ns_input_locked(struct netstack *ns)
{
	for (int i = 0; i < NS_MAXIF; i++)
		if (ns->ns_ifnet[i] != NULL)
			if_input_locked(ns->ns_ifnet[i]);
}

/* Run ns's deferred input here, or leave it to the lock's holder. */
static void
ns_input_run(struct netstack *ns)
{
	while (__atomic_load_n(&ns->ns_inpending, __ATOMIC_SEQ_CST)) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!mutex_tryenter(&ns->ns_lock))
			return;		/* its holder runs it as it lets go */
		__atomic_store_n(&ns->ns_inpending, 0, __ATOMIC_SEQ_CST);
		ns_input_locked(ns);
		mutex_exit(&ns->ns_lock);
	}
}

#define IF_SND_SPINS	64		/* waits for a half-full if_snd */
#define IF_SND_PAUSE_NS	20000

/* A snapshot of q's length, without its lock (written under it with
 * atomic stores). */
static int
ifq_length(struct ifqueue *q)
{
	return __atomic_load_n(&q->ifq_len, __ATOMIC_SEQ_CST);
}

/*
 * Hand ifp's if_snd to the driver here, or leave it to the thread that
 * is doing so (it looks again after it lets go).  Leaving it is back-
 * pressure-free, so a thread that finds the queue half full waits (with
 * no lock held) for the sender to finish and takes over: without that,
 * threads sending faster than the host takes frames would overflow
 * if_snd, where holding ns_lock across the send used to pace them.
 */
static void
if_snd_run(struct ifnet *ifp)
{
	for (unsigned spins = 0;; spins++) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_exchange_n(&ifp->if_sndbusy, 1, __ATOMIC_SEQ_CST)) {
			int len = ifq_length(&ifp->if_snd);
			if (len == 0 || len < ifp->if_snd.ifq_maxlen / 2)
				return;
			/* Half a queue takes the sender a while: leave it
			 * the CPU rather than spin against it. */
			if (spins < IF_SND_SPINS)
				hyp_cpu_relax();
			else
				kpause_ns(IF_SND_PAUSE_NS);
			continue;
		}
		ifp->if_start(ifp);
		__atomic_store_n(&ifp->if_sndbusy, 0, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (ifq_length(&ifp->if_snd) == 0)
			return;
	}
}

/*
 * Run ns's deferred output; no stack lock held.  The interfaces marked in
 * ns_outpend are handed to their drivers; so is any whose if_snd is half
 * full, even when another thread took the mark first, so that every
 * thread that queued there meets the back-pressure of if_snd_run.
 */
static void
ns_output_run(struct netstack *ns)
{
	/* Set before such an interface can queue, cleared after it is gone
	 * from ns_ifnet[]: a stack without one has nothing to walk. */
	if (__atomic_load_n(&ns->ns_ntxdefer, __ATOMIC_ACQUIRE) == 0)
		return;
	unsigned bits = __atomic_exchange_n(&ns->ns_outpend, 0, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&ns->ns_outbusy, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < NS_MAXIF; i++) {
		/* Seen after the count is up, or if_detach sees the count. */
		struct ifnet *ifp = __atomic_load_n(&ns->ns_ifnet[i],
		    __ATOMIC_SEQ_CST);
		if (ifp == NULL || !ifp->if_txdefer)
			continue;
		if ((bits & (1u << i)) || ifq_length(&ifp->if_snd) >=
		    ifp->if_snd.ifq_maxlen / 2)
			if_snd_run(ifp);
	}
	__atomic_sub_fetch(&ns->ns_outbusy, 1, __ATOMIC_RELEASE);
}

static void
netisr_drain(struct lwp *l)
{
	l->l_nsdraining = true;
	while (l->l_nspend_n > 0) {
		struct netstack *ns = l->l_nspend[l->l_nspend_head];
		l->l_nspend_head = (l->l_nspend_head + 1) % NETISR_PENDMAX;
		l->l_nspend_n--;
		ns_input_run(ns);
		ns_output_run(ns);
		__atomic_sub_fetch(&ns->ns_pendrefs, 1, __ATOMIC_RELEASE);
	}
	l->l_nsdraining = false;
}

void
if_input_defer(struct ifnet *ifp)
{
	struct netstack *ns = ifp->if_stack;
	struct lwp *l = curlwp;
	if (l->l_nslocks == 0 && !l->l_nsdraining) {
		/* Not inside any stack (a sender outside the kernel): no
		 * release will come to run it here. */
		if_input_schedule(ifp);
		return;
	}
	__atomic_store_n(&ns->ns_inpending, 1, __ATOMIC_SEQ_CST);
	netisr_note(l, ns);
}

static void
netisr_lock_enter(kmutex_t *m)
{
	(void)m;
	curlwp->l_nslocks++;
}

static void
netisr_lock_exit(kmutex_t *m)
{
	struct netstack *ns = (struct netstack *)((char *)m -
	    offsetof(struct netstack, ns_lock));
	struct lwp *l = curlwp;
	l->l_nslocks--;
	/* Input others left to us because we held the lock. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ns->ns_inpending, __ATOMIC_SEQ_CST))
		netisr_note(l, ns);
	if (l->l_nslocks == 0 && l->l_nspend_n > 0 && !l->l_nsdraining)
		netisr_drain(l);
}

const struct kmutex_hooks netisr_lock_hooks = {
	.mh_enter = netisr_lock_enter,
	.mh_exit = netisr_lock_exit,
};

void
ifq_init(struct ifqueue *q, int maxlen)
{
	memset(q, 0, sizeof(*q));
	q->ifq_maxlen = maxlen;
}

int
ifq_enqueue(struct ifqueue *q, struct mbuf *m)
{
	kspin_enter(&q->ifq_lock);
	if (q->ifq_len >= q->ifq_maxlen) {
		q->ifq_drops++;
		kspin_exit(&q->ifq_lock);
		m_freem(m);
		return ENOBUFS;
	}
	m->m_nextpkt = NULL;
	if (q->ifq_tail != NULL)
		q->ifq_tail->m_nextpkt = m;
	else
		q->ifq_head = m;
	q->ifq_tail = m;
	__atomic_store_n(&q->ifq_len, q->ifq_len + 1, __ATOMIC_RELAXED);
	kspin_exit(&q->ifq_lock);
	return 0;
}

struct mbuf *
ifq_dequeue(struct ifqueue *q)
{
	kspin_enter(&q->ifq_lock);
	struct mbuf *m = q->ifq_head;
	if (m != NULL) {
		q->ifq_head = m->m_nextpkt;
		if (q->ifq_head == NULL)
			q->ifq_tail = NULL;
		__atomic_store_n(&q->ifq_len, q->ifq_len - 1, __ATOMIC_RELAXED);
		m->m_nextpkt = NULL;
	}
	kspin_exit(&q->ifq_lock);
	return m;
}

struct mbuf *
ifq_dequeue_all(struct ifqueue *q)
{
	kspin_enter(&q->ifq_lock);
	struct mbuf *m = q->ifq_head;
	q->ifq_head = q->ifq_tail = NULL;
	__atomic_store_n(&q->ifq_len, 0, __ATOMIC_RELAXED);
	kspin_exit(&q->ifq_lock);
	return m;
}

void
ifq_purge(struct ifqueue *q)
{
	m_freem_list(ifq_dequeue_all(q));
}

static void
netisr_work(struct work *wk, void *arg)
{
	(void)arg;
	struct ifnet *ifp = (struct ifnet *)((char *)wk -
	    offsetof(struct ifnet, if_rcvwork));
	__atomic_store_n(&ifp->if_rcvwork_busy, 0, __ATOMIC_RELEASE);
	if_input_process(ifp);
}

int
netisr_init(void)
{
	return workqueue_create(&netisr_wq, "netisr", netisr_work, NULL, 0,
	    IPL_NONE, 0);
}

void
netisr_fini(void)
{
	if (netisr_wq != NULL)
		workqueue_destroy(netisr_wq);
	netisr_wq = NULL;
}

int
if_attach(struct netstack *ns, struct ifnet *ifp, const char *prefix)
{
	mutex_enter(&ns->ns_lock);
	unsigned i, unit = 0;
	for (i = 0; i < NS_MAXIF && ns->ns_ifnet[i] != NULL; i++)
		;
	if (i == NS_MAXIF) {
		mutex_exit(&ns->ns_lock);
		return ENOSPC;
	}
	/* Lowest unit number not used by this prefix. */
	for (;;) {
		char name[IFNAMSIZ];
		snprintf(name, sizeof(name), "%s%u", prefix, unit);
		if (if_byname(ns, name) == NULL) {
			strlcpy_k(ifp->if_xname, name, sizeof(ifp->if_xname));
			break;
		}
		unit++;
	}
	ifp->if_index = i + 1;
	ifp->if_stack = ns;
	ifq_init(&ifp->if_snd, IFQ_MAXLEN);
	ifq_init(&ifp->if_rcv, IFQ_MAXLEN);
	if (ifp->if_txdefer)
		__atomic_add_fetch(&ns->ns_ntxdefer, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ns->ns_ifnet[i], ifp, __ATOMIC_RELEASE);
	mutex_exit(&ns->ns_lock);
	klog(LOG_INFO, "net: %s: %s attached", ns->ns_name, ifp->if_xname);
	return 0;
}

/*
 * Run to completion (kern_poll_set).  Pollers find interfaces in
 * if_pollv without a lock and count themselves in the interface's
 * if_pollbusy while inside its if_poll, so that an interface leaving
 * waits only for those (if_poll_unregister): a poller counts itself and
 * then looks at the slot again, the leaver empties the slot and then
 * looks at the count, so one of them sees the other.
 */
static struct ifnet *if_pollv[IF_POLLMAX];	/* atomic slots */
static unsigned if_polln;			/* atomic: registered */

static int
if_poll_all(void)
{
	int n = 0;
	for (int i = 0; i < IF_POLLMAX; i++) {
		struct ifnet *ifp = __atomic_load_n(&if_pollv[i],
		    __ATOMIC_ACQUIRE);
		if (ifp == NULL)
			continue;
		__atomic_add_fetch(&ifp->if_pollbusy, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&if_pollv[i], __ATOMIC_SEQ_CST) == ifp)
			n += ifp->if_poll(ifp);
		__atomic_sub_fetch(&ifp->if_pollbusy, 1, __ATOMIC_RELEASE);
	}
	return n;
}

int
if_poll_register(struct ifnet *ifp)
{
	KASSERT(ifp->if_poll != NULL && !ifp->if_polled);
	for (int i = 0; i < IF_POLLMAX; i++) {
		struct ifnet *none = NULL;
		if (__atomic_compare_exchange_n(&if_pollv[i], &none, ifp, false,
		    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
			ifp->if_polled = true;
			if (__atomic_add_fetch(&if_polln, 1, __ATOMIC_SEQ_CST) == 1)
				kern_poll_set(if_poll_all);
			return 0;
		}
	}
	return ENOSPC;
}

static void
if_poll_unregister(struct ifnet *ifp)
{
	if (!ifp->if_polled)
		return;
	for (int i = 0; i < IF_POLLMAX; i++)
		if (__atomic_load_n(&if_pollv[i], __ATOMIC_RELAXED) == ifp)
			__atomic_store_n(&if_pollv[i], NULL, __ATOMIC_SEQ_CST);
	if (__atomic_sub_fetch(&if_polln, 1, __ATOMIC_SEQ_CST) == 0)
		kern_poll_set(NULL);
	ifp->if_polled = false;
	while (__atomic_load_n(&ifp->if_pollbusy, __ATOMIC_SEQ_CST) != 0)
		hyp_cpu_relax();
}

void
if_detach(struct ifnet *ifp)
{
	struct netstack *ns = ifp->if_stack;
	if_poll_unregister(ifp);
	if (ifp->if_stop != NULL)
		ifp->if_stop(ifp);
	if (netisr_wq != NULL)
		workqueue_wait(netisr_wq, &ifp->if_rcvwork);
	mutex_enter(&ns->ns_lock);
	ifp->if_flags &= ~(IFF_UP | IFF_RUNNING);
	rt_purge_ifp(ns, ifp);
	if (ifp->if_detach_l2 != NULL)
		ifp->if_detach_l2(ifp);
	__atomic_store_n(&ns->ns_ifnet[ifp->if_index - 1], NULL,
	    __ATOMIC_SEQ_CST);
	if (ifp->if_txdefer)
		__atomic_sub_fetch(&ns->ns_ntxdefer, 1, __ATOMIC_SEQ_CST);
	mutex_exit(&ns->ns_lock);
	/* A thread handing out deferred output may still use ifp. */
	while (__atomic_load_n(&ns->ns_outbusy, __ATOMIC_SEQ_CST) != 0)
		hyp_cpu_relax();
	ifq_purge(&ifp->if_snd);
	ifq_purge(&ifp->if_rcv);
}

struct ifnet *
if_byname(struct netstack *ns, const char *name)
{
	for (int i = 0; i < NS_MAXIF; i++)
		if (ns->ns_ifnet[i] != NULL &&
		    strcmp(ns->ns_ifnet[i]->if_xname, name) == 0)
			return ns->ns_ifnet[i];
	return NULL;
}

void
if_input_enqueue(struct ifnet *ifp, struct mbuf *m)
{
	m->m_pkthdr.rcvif = ifp;
	if (ifq_enqueue(&ifp->if_rcv, m) != 0)
		NET_ATOMIC_INC(&ifp->if_data.ifi_iqdrops);
}

void
if_input_process(struct ifnet *ifp)
{
	struct netstack *ns = ifp->if_stack;
	mutex_enter(&ns->ns_lock);
	if_input_locked(ifp);
	mutex_exit(&ns->ns_lock);
}

void
if_input_schedule(struct ifnet *ifp)
{
	if (__atomic_exchange_n(&ifp->if_rcvwork_busy, 1, __ATOMIC_ACQ_REL) == 0)
		workqueue_enqueue(netisr_wq, &ifp->if_rcvwork, NULL);
}

int
if_transmit(struct ifnet *ifp, struct mbuf *m)
{
	if (!(ifp->if_flags & IFF_UP)) {
		NET_ATOMIC_INC(&ifp->if_data.ifi_oerrors);
		m_freem(m);
		return ENETDOWN;
	}
	if (ifq_enqueue(&ifp->if_snd, m) != 0) {
		NET_ATOMIC_INC(&ifp->if_data.ifi_oqdrops);
		return ENOBUFS;
	}
	if (!ifp->if_txdefer) {
		ifp->if_start(ifp);	/* serialised by ns_lock */
		return 0;
	}
	struct lwp *l = curlwp;
	if (l->l_nslocks == 0) {
		if_snd_run(ifp);	/* no stack lock to wait for */
		return 0;
	}
	struct netstack *ns = ifp->if_stack;
	__atomic_fetch_or(&ns->ns_outpend, 1u << (ifp->if_index - 1),
	    __ATOMIC_SEQ_CST);
	netisr_note(l, ns);
	return 0;
}

int
if_setaddr(struct ifnet *ifp, uint32_t addr, uint32_t mask)
{
	struct netstack *ns = ifp->if_stack;
	int plen = in_mask2plen(mask);
	if (plen < 0 || (addr == 0 && mask != 0))
		return EINVAL;
	mutex_enter(&ns->ns_lock);
	if (ifp->if_addr != 0) {
		int oplen = in_mask2plen(ifp->if_netmask);
		rt_delete(ns, ifp->if_addr & ifp->if_netmask, oplen);
	}
	ifp->if_addr = addr;
	ifp->if_netmask = mask;
	ifp->if_broadaddr = addr == 0 ? 0 : (addr | ~mask);
	int rv = 0;
	if (addr != 0 && plen < 32)
		rv = rt_add(ns, addr & mask, plen, 0, ifp, RTF_CONNECTED);
	if (rv == EEXIST)
		rv = 0;		/* another interface on the same net keeps it */
	if (rv == 0 && ifp->if_addrchanged != NULL && (ifp->if_flags & IFF_UP))
		ifp->if_addrchanged(ifp);
	mutex_exit(&ns->ns_lock);
	return rv;
}

int
if_setmtu(struct ifnet *ifp, unsigned mtu)
{
	if (mtu < 68 || mtu > 65535)
		return EINVAL;
	mutex_enter(&ifp->if_stack->ns_lock);
	ifp->if_mtu = mtu;
	mutex_exit(&ifp->if_stack->ns_lock);
	return 0;
}

int
if_setup(struct ifnet *ifp, bool up)
{
	mutex_enter(&ifp->if_stack->ns_lock);
	bool was = ifp->if_flags & IFF_UP;
	if (up)
		ifp->if_flags |= IFF_UP | IFF_RUNNING;
	else
		ifp->if_flags &= ~(IFF_UP | IFF_RUNNING);
	if (up && !was && ifp->if_addr != 0 && ifp->if_addrchanged != NULL)
		ifp->if_addrchanged(ifp);
	mutex_exit(&ifp->if_stack->ns_lock);
	if (!up)
		ifq_purge(&ifp->if_snd);
	return 0;
}

struct ifnet *
in_ifaddr_lookup(struct netstack *ns, uint32_t addr)
{
	for (int i = 0; i < NS_MAXIF; i++) {
		struct ifnet *ifp = ns->ns_ifnet[i];
		if (ifp != NULL && ifp->if_addr == addr && addr != 0)
			return ifp;
	}
	return NULL;
}
