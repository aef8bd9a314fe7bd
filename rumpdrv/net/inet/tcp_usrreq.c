/*
 * tcp_usrreq.c - TCP's side of the socket layer (bind, listen, connect,
 * send, window updates after reads, shutdown, close, TCP_NODELAY) and the
 * per-stack TCP state with its timer callout.  A TCP socket is referenced
 * by its control block until the connection is gone, so data and FIN
 * still go out after close (and TIME_WAIT lasts 2*MSL).  ns_lock held.
 */
#include "net/inet/tcp_var.h"
#include "net/krs_net.h"

static int
tcp_attach(struct socket *so)
{
	struct netstack *ns = so->so_stack;
	struct tcp_stack *ts = tcp_stack(ns);
	struct inpcb *inp = kmem_zalloc(sizeof(*inp), KM_SLEEP);
	inp->inp_socket = so;
	so->so_pcb = inp;
	so->so_rcv.sb_hiwat = TCP_BUFSIZE;
	so->so_snd.sb_hiwat = TCP_BUFSIZE;
	struct tcpcb *tp = tcp_newtcpcb(ns, so, inp);
	if (tp == NULL) {
		kmem_free(inp, sizeof(*inp));
		so->so_pcb = NULL;
		return ENOBUFS;
	}
	tcp_pcb_insert(ts, inp);
	soref(so);		/* the protocol's reference, see tcp_close */
	return 0;
}

static struct tcpcb *
sototcpcb(struct socket *so)
{
	struct inpcb *inp = so->so_pcb;
	return inp != NULL ? intotcpcb(inp) : NULL;
}

/* Start the close of our side (RFC 9293 3.10.4). */
static struct tcpcb *
tcp_usrclosed(struct tcpcb *tp)
{
	switch (tp->t_state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
		return tcp_close(tp);
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
		tp->t_state = TCPS_FIN_WAIT_1;
		break;
	case TCPS_CLOSE_WAIT:
		tp->t_state = TCPS_LAST_ACK;
		break;
	default:
		break;
	}
	return tp;
}

/*
 * SO_LINGER with a timeout: close waits until the peer acknowledged all
 * data and our FIN, or the connection went; when the time runs out the
 * connection is reset (like BSD's abort, not Linux's carrying on in the
 * background).  Blocks even on a non-blocking socket, as Linux does.
 */
static void
tcp_linger(struct socket *so)
{
	struct netstack *ns = so->so_stack;
	uint64_t deadline = kern_uptime_ns() +
	    (uint64_t)so->so_linger * 1000000000ull;
	struct tcpcb *tp;
	while ((tp = sototcpcb(so)) != NULL) {
		/* Our FIN acknowledged: every byte before it was too.  (In
		 * LAST_ACK that closes the connection: tp goes.) */
		if (tp->t_state == TCPS_FIN_WAIT_2 ||
		    tp->t_state == TCPS_TIME_WAIT || tp->t_state == TCPS_CLOSED)
			return;
		uint64_t now = kern_uptime_ns();
		if (now >= deadline) {
			tcp_stack(ns)->ts_stat.tcps_lingerdrops++;
			tcp_drop(tp, ETIMEDOUT);
			return;
		}
		(void)cv_timedwait_ns(&so->so_cv, &ns->ns_lock, deadline - now);
	}
}

static void
tcp_detach(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL)
		return;
	tp->t_flags |= TF_DETACHED;
	if (tp->t_state == TCPS_LISTEN) {
		/* Abort what the listener had not handed out. */
		while (so->so_q0 != NULL || so->so_q != NULL) {
			struct socket *c = so->so_q0 != NULL ? so->so_q0 : so->so_q;
			struct tcpcb *ctp = sototcpcb(c);
			if (ctp == NULL)
				break;
			tcp_drop(ctp, ECONNABORTED);
		}
		tcp_close(tp);
		return;
	}
	if ((so->so_rcv.sb_cc > 0 || so->so_linger == 0) &&
	    TCPS_HAVEESTABLISHED(tp->t_state)) {
		/* Unread data (RFC 2525 2.17) or SO_LINGER with a zero
		 * timeout: an abortive close, RST instead of FIN. */
		tcp_drop(tp, ECONNRESET);
		return;
	}
	if ((tp = tcp_usrclosed(tp)) != NULL) {
		tcp_output(tp);
		if (tp->t_state == TCPS_FIN_WAIT_2)
			tcp_timer_set(tp, TCPT_2MSL, 2 * TCP_MSL_MS);
		if (so->so_linger > 0)
			tcp_linger(so);
	}
}

static int
tcp_bind(struct socket *so, const struct sockaddr_in_k *sin)
{
	struct netstack *ns = so->so_stack;
	struct inpcb *inp = so->so_pcb;
	if (inp == NULL)
		return EINVAL;
	if (inp->inp_lport != 0)
		return EINVAL;
	if (sin->sin_addr != INADDR_ANY && !IN_LOOPBACK(sin->sin_addr) &&
	    in_ifaddr_lookup(ns, sin->sin_addr) == NULL)
		return EADDRNOTAVAIL;
	return in_pcbbind_port(&tcp_stack(ns)->ts_pcbs, inp, sin->sin_addr,
	    sin->sin_port, (so->so_options & SO_REUSEADDR_F) != 0);
}

static int
tcp_listen(struct socket *so, int backlog)
{
	(void)backlog;
	struct tcpcb *tp = sototcpcb(so);
	struct inpcb *inp = so->so_pcb;
	if (tp == NULL)
		return EINVAL;
	if (inp->inp_lport == 0) {
		int rv = in_pcbbind_port(&tcp_stack(so->so_stack)->ts_pcbs, inp,
		    INADDR_ANY, 0, false);
		if (rv != 0)
			return rv;
	}
	if (tp->t_state != TCPS_CLOSED && tp->t_state != TCPS_LISTEN)
		return EINVAL;
	tp->t_state = TCPS_LISTEN;
	tcp_pcb_listen(tcp_stack(so->so_stack), inp);
	return 0;
}

static int
tcp_connect(struct socket *so, const struct sockaddr_in_k *sin)
{
	struct netstack *ns = so->so_stack;
	struct tcp_stack *ts = tcp_stack(ns);
	struct inpcb *inp = so->so_pcb;
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL)
		return EINVAL;
	if (sin->sin_family != AF_INET || sin->sin_port == 0)
		return sin->sin_family != AF_INET ? EAFNOSUPPORT : EADDRNOTAVAIL;
	if (sin->sin_addr == INADDR_ANY || sin->sin_addr == INADDR_BROADCAST ||
	    IN_MULTICAST(sin->sin_addr))
		return EADDRNOTAVAIL;
	if (tp->t_state != TCPS_CLOSED)
		return EISCONN;
	uint32_t src;
	int rv = ip_srcaddr(ns, sin->sin_addr, &src);
	if (rv != 0)
		return rv;
	if (inp->inp_lport == 0 &&
	    (rv = in_pcbbind_port(&ts->ts_pcbs, inp, INADDR_ANY, 0, false)) != 0)
		return rv;
	if (inp->inp_laddr == INADDR_ANY)
		inp->inp_laddr = src;
	/* The 4-tuple must be unused. */
	if (tcp_pcb_lookup(ts, inp->inp_laddr, inp->inp_lport, sin->sin_addr,
	    sin->sin_port) != NULL)
		return EADDRINUSE;
	inp->inp_faddr = sin->sin_addr;
	inp->inp_fport = sin->sin_port;
	tcp_pcb_hash(ts, inp);
	tp->iss = tcp_new_isn(ns, inp->inp_laddr, inp->inp_lport,
	    inp->inp_faddr, inp->inp_fport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_recover = tp->iss;
	tp->t_maxseg = tcp_mss_for(ns, inp->inp_faddr);
	tcp_rscale(tp);		/* SO_RCVBUF may have changed since attach */
	tp->t_state = TCPS_SYN_SENT;
	tcp_timer_set(tp, TCPT_KEEP, TCP_CONNTIMEO_MS);
	ts->ts_stat.tcps_connattempt++;
	soisconnecting(so);
	so->so_error = 0;
	return tcp_output(tp);
}

static int
tcp_disconnect(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp != NULL && (tp = tcp_usrclosed(tp)) != NULL)
		tcp_output(tp);
	return 0;
}

static int
tcp_send(struct socket *so, struct mbuf *m, const struct sockaddr_in_k *to)
{
	(void)to;
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL || !TCPS_HAVEESTABLISHED(tp->t_state) ||
	    tp->t_state > TCPS_CLOSE_WAIT) {
		m_freem(m);
		return tp == NULL ? EPIPE : ENOTCONN;
	}
	m->m_flags &= ~M_PKTHDR;
	sbappendstream(&so->so_snd, m);
	tcp_output(tp);
	return 0;
}

static void
tcp_rcvd(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp != NULL && TCPS_HAVEESTABLISHED(tp->t_state))
		tcp_output(tp);
}

static int
tcp_shutdown(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp != NULL && (tp = tcp_usrclosed(tp)) != NULL)
		tcp_output(tp);
	return 0;
}

static int
tcp_setopt(struct socket *so, int name, int val)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL)
		return EINVAL;
	switch (name) {
	case KRS_TCP_NODELAY:
		if (val)
			tp->t_flags |= TF_NODELAY;
		else
			tp->t_flags &= ~TF_NODELAY;
		if (val && TCPS_HAVEESTABLISHED(tp->t_state))
			tcp_output(tp);
		return 0;
	default:
		return ENOPROTOOPT;
	}
}

static int
tcp_getopt(struct socket *so, int name, int *val)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL)
		return EINVAL;
	switch (name) {
	case KRS_TCP_NODELAY:
		*val = (tp->t_flags & TF_NODELAY) != 0;
		return 0;
	case KRS_TCP_MAXSEG:
		*val = (int)tp->t_maxseg;
		return 0;
	default:
		return ENOPROTOOPT;
	}
}

static void
tcp_sockaddr(struct socket *so, struct sockaddr_in_k *sin)
{
	struct inpcb *inp = so->so_pcb;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inp != NULL) {
		sin->sin_port = inp->inp_lport;
		sin->sin_addr = inp->inp_laddr;
	}
}

static void
tcp_peeraddr(struct socket *so, struct sockaddr_in_k *sin)
{
	struct inpcb *inp = so->so_pcb;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inp != NULL) {
		sin->sin_port = inp->inp_fport;
		sin->sin_addr = inp->inp_faddr;
	}
}

const struct protosw tcp_protosw = {
	.pr_type = SOCK_STREAM,
	.pr_protocol = IPPROTO_TCP,
	.pr_attach = tcp_attach,
	.pr_detach = tcp_detach,
	.pr_bind = tcp_bind,
	.pr_connect = tcp_connect,
	.pr_disconnect = tcp_disconnect,
	.pr_send = tcp_send,
	.pr_sockaddr = tcp_sockaddr,
	.pr_peeraddr = tcp_peeraddr,
	.pr_listen = tcp_listen,
	.pr_rcvd = tcp_rcvd,
	.pr_shutdown = tcp_shutdown,
	.pr_setopt = tcp_setopt,
	.pr_getopt = tcp_getopt,
};

/* ---- per-stack state ---- */

static int
tcp_stack_attach(struct netstack *ns)
{
	struct tcp_stack *ts = kmem_zalloc(sizeof(*ts), KM_SLEEP);
	/* Secrets: ISNs, the connection hash, SYN cookies. */
	uint8_t *keys[] = { ts->ts_isn_key, ts->ts_hash_key, ts->ts_sc_key };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (cprng_strong(keys[i], 16) != 0) {
			uint64_t a = cprng_fast64(), b = cprng_fast64();
			memcpy(keys[i], &a, 8);
			memcpy(keys[i] + 8, &b, 8);
		}
	ts->ts_ns = ns;
	ts->ts_wtick = kern_uptime_ns() / (TCP_TICK_MS * 1000000ull);
	ns->ns_slot[NS_SLOT_TCP] = ts;
	callout_init(&ts->ts_timer, 0);
	callout_setfunc(&ts->ts_timer, tcp_timer_tick, ts);
	callout_schedule(&ts->ts_timer, TCP_TICK_MS);
	return 0;
}

static void
tcp_stack_stop(struct netstack *ns)
{
	struct tcp_stack *ts = tcp_stack(ns);
	if (ts == NULL)
		return;
	mutex_enter(&ns->ns_lock);
	ts->ts_dying = true;
	mutex_exit(&ns->ns_lock);
	callout_halt(&ts->ts_timer);
}

static void
tcp_stack_detach(struct netstack *ns)
{
	struct tcp_stack *ts = tcp_stack(ns);
	while (ts->ts_tcbs != NULL) {
		struct tcpcb *tp = ts->ts_tcbs;
		tp->t_socket->so_pr = NULL;	/* open descriptors go dead */
		tp->t_socket->so_state |= SS_CANTRCVMORE | SS_CANTSENDMORE;
		tcp_close(tp);
	}
	callout_destroy(&ts->ts_timer);
	kmem_free(ts, sizeof(*ts));
}

const struct netstack_hooks tcp_hooks = {
	.nh_name = "tcp",
	.nh_slot = NS_SLOT_TCP,
	.nh_attach = tcp_stack_attach,
	.nh_detach = tcp_stack_detach,
	.nh_stop = tcp_stack_stop,
};
