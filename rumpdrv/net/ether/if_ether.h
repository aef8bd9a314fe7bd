/*
 * if_ether.h - Ethernet framing and ARP, between the ether component and
 * the drivers (virtif) and protocols above.  Everything runs under the
 * stack's ns_lock unless noted.
 */
#ifndef RUMPDRV_NET_IF_ETHER_H
#define RUMPDRV_NET_IF_ETHER_H

#include "net/core/net.h"

#define ETHER_ADDR_LEN	6
#define ETHER_HDR_LEN	14
#define ETHERMTU	1500
#define ETHERTYPE_IP	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_VLAN	0x8100

struct ether_header {
	uint8_t ether_dhost[ETHER_ADDR_LEN];
	uint8_t ether_shost[ETHER_ADDR_LEN];
	uint16_t ether_type;
} __attribute__((packed));

/* RFC 826 packet for IPv4 over Ethernet. */
struct ether_arp {
	uint16_t ar_hrd;		/* 1: Ethernet */
	uint16_t ar_pro;		/* 0x0800 */
	uint8_t ar_hln;			/* 6 */
	uint8_t ar_pln;			/* 4 */
	uint16_t ar_op;			/* 1 request, 2 reply */
	uint8_t arp_sha[ETHER_ADDR_LEN];
	uint8_t arp_spa[4];
	uint8_t arp_tha[ETHER_ADDR_LEN];
	uint8_t arp_tpa[4];
} __attribute__((packed));
#define ARPOP_REQUEST	1
#define ARPOP_REPLY	2

/* Per-stack counters of the ether component (NS_SLOT_ETHER); ns_lock. */
struct etherstat {
	uint64_t es_runt;		/* shorter than a header */
	uint64_t es_notours;		/* unicast to another address */
	uint64_t es_mcast;		/* multicast: not joined */
	uint64_t es_noproto;		/* unknown ethertype, VLAN */
	uint64_t arp_rx, arp_tx;
	uint64_t arp_bad;		/* malformed or unsupported */
	uint64_t arp_dupaddr;		/* someone else claims our address */
	uint64_t arp_timeouts;		/* incomplete entries given up */
	uint64_t arp_holddrops;		/* pending packets dropped */
	uint64_t arp_expired;
	uint64_t arp_gratuitous;
};

/* Tunables (units of the 100 ms slow timer). */
#define ARP_KEEP_TICKS		(1200 * 10)	/* reachable entry lifetime */
#define ARP_RETRY_TICKS		10		/* re-ask an incomplete entry */
#define ARP_MAXTRIES		5
#define ARP_MAXHOLD		16		/* pending packets per entry */
#define ARP_MAXENTRIES		512		/* per interface */

/*
 * ether_ifattach - make ifp an Ethernet interface with address lla: sets
 * if_output/if_input/if_addrchanged and the ARP table.  Call before
 * if_attach.  0 or ENOMEM.
 */
int ether_ifattach(struct ifnet *ifp, const uint8_t *lla);
void ether_input(struct ifnet *ifp, struct mbuf *m);
int ether_output(struct ifnet *ifp, struct mbuf *m, uint32_t nexthop);
/* Frame m for dst and queue it; consumes m. */
int ether_output_frame(struct ifnet *ifp, struct mbuf *m,
    const uint8_t *dst, uint16_t type);

/* ARP (if_arp.c) */
int arp_ifattach(struct ifnet *ifp);
void arp_ifdetach(struct ifnet *ifp);
void arp_input(struct ifnet *ifp, struct mbuf *m);
/* arpresolve - 0 and dst filled, or m is consumed (held: EWOULDBLOCK). */
int arpresolve(struct ifnet *ifp, uint32_t nexthop, struct mbuf *m,
    uint8_t *dst);
void arp_request(struct ifnet *ifp, uint32_t sip, uint32_t tip);
void arp_ifaddr_changed(struct ifnet *ifp);	/* gratuitous ARP */
void arp_slowtimo(struct netstack *ns);
/* arp_dump - one line per entry into buf; returns bytes written. */
size_t arp_dump(struct ifnet *ifp, char *buf, size_t len);
/* arp_lookup_test - for tests: 1 when addr resolves (mac filled). */
int arp_lookup(struct ifnet *ifp, uint32_t addr, uint8_t *mac);
struct etherstat *etherstat_get(struct netstack *ns);

extern const uint8_t etherbroadcastaddr[ETHER_ADDR_LEN];

#endif /* RUMPDRV_NET_IF_ETHER_H */
