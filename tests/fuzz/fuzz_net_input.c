/*
 * fuzz_net_input.c - libFuzzer on the stack's input path from
 * ether_input up (Ethernet, ARP, IPv4 with options and reassembly, ICMP,
 * UDP to a bound socket, TCP to a listener and the connections it makes).  An input is one or more frames, each prefixed
 * by a 2-byte length; the first byte's low bits ask the harness to fix up
 * the IPv4 header (bit 0) and ICMP/UDP (bit 1) checksums so the fuzzer
 * gets past them.  Frames arrive in external storage, as from a port.
 */
#include "net/ether/if_ether.h"
#include "net/inet/in_var.h"
#include "net/krs_net.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ifnet *fz_if;
static struct netstack *fz_ns;
static int fz_sock, fz_lsock;
static const uint8_t fz_mac[6] = { 2, 0, 0, 0, 0, 1 };

static void
fz_start(struct ifnet *ifp)
{
	struct mbuf *m;
	while ((m = ifq_dequeue(&ifp->if_snd)) != NULL)
		m_freem(m);	/* what the stack answers goes nowhere */
}

static void
fz_free(void *buf, size_t size, void *arg, void *arg2)
{
	(void)arg;
	(void)arg2;
	kmem_free(buf, size);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[128];
	(void)argc;
	(void)argv;
	if (krs_boot("vfs,net,ether,socket,inet", err, sizeof(err)) != 0)
		return 1;
	fz_ns = netstack_cur();
	fz_if = kmem_zalloc(sizeof(*fz_if), KM_SLEEP);
	ether_ifattach(fz_if, fz_mac);
	fz_if->if_start = fz_start;
	if_attach(fz_ns, fz_if, "fz");
	if_setup(fz_if, true);
	if_setaddr(fz_if, htonl(0x0a010001), in_plen2mask(24));
	fz_sock = krs_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in_k a = { .sin_family = AF_INET, .sin_port = htons(9) };
	krs_bind(fz_sock, &a, sizeof(a));
	/* A TCP listener on port 80: SYNs open connections, later frames of
	 * the same input drive them. */
	fz_lsock = krs_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a.sin_port = htons(80);
	krs_bind(fz_lsock, &a, sizeof(a));
	krs_listen(fz_lsock, 16);
	return 0;
}

static uint16_t
sum16(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
fixup(uint8_t *f, size_t len, int how)
{
	if (len < 34 || f[12] != 8 || f[13] != 0)
		return;
	uint8_t *ip = f + 14;
	size_t hl = (size_t)(ip[0] & 15) * 4;
	if (hl < 20 || 14 + hl > len)
		return;
	size_t tot = (size_t)(ip[2] << 8 | ip[3]);
	if (tot > len - 14)
		tot = len - 14;
	if ((how & 2) && tot > hl && !(ip[6] & 0x3f) && !ip[7]) {
		uint8_t *l4 = ip + hl;
		size_t l4len = tot - hl;
		if (ip[9] == 1 && l4len >= 4) {
			l4[2] = l4[3] = 0;
			uint16_t s = sum16(l4, l4len, 0);
			l4[2] = (uint8_t)(s >> 8);
			l4[3] = (uint8_t)s;
		} else if (ip[9] == 6 && l4len >= 20) {
			uint32_t ph = 0;
			ph += (uint32_t)(ip[12] << 8 | ip[13]) + (uint32_t)(ip[14] << 8 | ip[15]);
			ph += (uint32_t)(ip[16] << 8 | ip[17]) + (uint32_t)(ip[18] << 8 | ip[19]);
			ph += 6 + (uint32_t)l4len;
			l4[16] = l4[17] = 0;
			uint16_t s = sum16(l4, l4len, ph);
			l4[16] = (uint8_t)(s >> 8);
			l4[17] = (uint8_t)s;
		} else if (ip[9] == 17 && l4len >= 8) {
			uint32_t ph = 0;
			ph += (uint32_t)(ip[12] << 8 | ip[13]) + (uint32_t)(ip[14] << 8 | ip[15]);
			ph += (uint32_t)(ip[16] << 8 | ip[17]) + (uint32_t)(ip[18] << 8 | ip[19]);
			ph += 17 + (uint32_t)l4len;
			l4[6] = l4[7] = 0;
			uint16_t s = sum16(l4, l4len, ph);
			l4[6] = (uint8_t)(s >> 8);
			l4[7] = (uint8_t)s;
		}
	}
	if (how & 1) {
		ip[10] = ip[11] = 0;
		uint16_t s = sum16(ip, hl, 0);
		ip[10] = (uint8_t)(s >> 8);
		ip[11] = (uint8_t)s;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_if == NULL || size < 1)
		return 0;
	int how = data[0] & 3;
	size_t off = 1;
	for (int nf = 0; nf < 16 && off + 2 <= size; nf++) {
		size_t len = (size_t)(data[off] << 8 | data[off + 1]);
		off += 2;
		if (len > size - off)
			len = size - off;
		if (len > 9018)
			len = 9018;
		uint8_t *buf = kmem_alloc(len + 1, KM_SLEEP);
		memcpy(buf, data + off, len);
		off += len;
		fixup(buf, len, how);
		struct mbuf *m = m_gethdr(M_WAIT, MT_DATA);
		m_extadd(m, buf, len + 1, fz_free, NULL, NULL);
		m->m_len = m->m_pkthdr.len = (int)len;
		m->m_pkthdr.rcvif = fz_if;
		mutex_enter(&fz_ns->ns_lock);
		ether_input(fz_if, m);
		mutex_exit(&fz_ns->ns_lock);
	}
	char rb[256];
	while (krs_recv(fz_sock, rb, sizeof(rb), KRS_MSG_DONTWAIT) >= 0)
		;
	/* Accept and close what connected, so state does not pile up. */
	int c;
	while ((c = krs_accept(fz_lsock, NULL, NULL)) >= 0) {
		while (krs_recv(c, rb, sizeof(rb), KRS_MSG_DONTWAIT) > 0)
			;
		krs_close(c);
	}
	return 0;
}
