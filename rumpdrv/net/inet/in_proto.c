/*
 * in_proto.c - the "inet" component: per-stack IPv4/ICMP/UDP state, the
 * slow timer (reassembly timeouts, ICMP rate-limit refill), and the
 * registration of IPv4 input and the UDP protocol switch entry.
 */
#include "net/inet/tcp_var.h"

extern const struct netstack_hooks tcp_hooks;

static int
inet_attach(struct netstack *ns)
{
	struct inet_stack *is = kmem_zalloc(sizeof(*is), KM_SLEEP);
	is->is_ip_id = (uint16_t)cprng_fast32();
	is->is_icmp_tokens = ICMP_ERRS_PER_SEC / 10;
	ns->ns_slot[NS_SLOT_INET] = is;
	return 0;
}

static void
inet_detach(struct netstack *ns)
{
	struct inet_stack *is = inet_stack(ns);
	ip_reass_drain(ns);
	/* Sockets still open lose their protocol: their calls fail from now
	 * on, and closing them frees only the socket. */
	while (is->is_udb != NULL) {
		struct inpcb *inp = is->is_udb;
		is->is_udb = inp->inp_next;
		inp->inp_socket->so_pcb = NULL;
		inp->inp_socket->so_pr = NULL;
		inp->inp_socket->so_state |= SS_CANTRCVMORE | SS_CANTSENDMORE;
		sowakeup(inp->inp_socket);
		kmem_free(inp, sizeof(*inp));
	}
	kmem_free(is, sizeof(*is));
}

static void
inet_slowtimo(struct netstack *ns)
{
	ip_reass_slowtimo(ns);
	icmp_slowtimo(ns);
}

static const struct netstack_hooks inet_hooks = {
	.nh_name = "inet",
	.nh_slot = NS_SLOT_INET,
	.nh_attach = inet_attach,
	.nh_detach = inet_detach,
	.nh_slowtimo = inet_slowtimo,
};

static void (*inet_prev_input)(struct ifnet *, struct mbuf *);

static int
inet_init(void)
{
	int rv = netstack_register(&inet_hooks);
	if (rv != 0)
		return rv;
	if ((rv = netstack_register(&tcp_hooks)) != 0) {
		netstack_unregister(&inet_hooks);
		return rv;
	}
	inet_prev_input = net_inet_input;
	net_inet_input = ip_input;
	if ((rv = sock_proto_register(&udp_protosw)) != 0)
		return rv;
	return sock_proto_register(&tcp_protosw);
}

static void
inet_fini(void)
{
	sock_proto_unregister(&tcp_protosw);
	sock_proto_unregister(&udp_protosw);
	net_inet_input = inet_prev_input;
	netstack_unregister(&tcp_hooks);
	netstack_unregister(&inet_hooks);
}

RUMPDRV_COMPONENT(inet, "inet", "net,ether,socket", inet_init, inet_fini);
