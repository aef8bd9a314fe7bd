/*
 * krs_hostnet.h - hostnet: sockets that forward to the host's (Linux's)
 * TCP/IP for management traffic, such as an isolate talking to a Linux
 * service.  An isolate asks for one explicitly with the domain
 * KRS_AF_HOSTNET; its addresses are ordinary AF_INET / AF_INET6 ones, and
 * every destination must match the deployment's allow list (default
 * deny).  docs/hostnet.md has the whole story.
 *
 * Descriptors are KRANK descriptors: krs_read/write/close/poll/fcntl and
 * the krs_ socket calls of <krank/../net/krs_net.h> work on them.
 */
#ifndef KRANK_KRS_HOSTNET_H
#define KRANK_KRS_HOSTNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KRS_EXPORT
#define KRS_EXPORT __attribute__((visibility("default")))
#endif

/*
 * The socket domain of host sockets: krs_socket(KRS_AF_HOSTNET,
 * SOCK_STREAM | SOCK_DGRAM [| SOCK_NONBLOCK | SOCK_CLOEXEC], 0).  19272 is
 * 0x4b48 ("KH"): far above Linux's AF_MAX, so the value can never mean a
 * Linux family and a program passing it to Linux gets EAFNOSUPPORT.
 */
#define KRS_AF_HOSTNET		19272
#define KRS_AF_INET6		10	/* Linux's; sockaddr_in6 is Linux's */

/*
 * One allow-list entry: "ADDR[/LEN]:PORT" for IPv4, "[ADDR6[/LEN]]:PORT"
 * for IPv6; PORT is 1..65535, "LO-HI" or "*".  Host bits below LEN must
 * be zero.  IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are stored and
 * matched as IPv4, so an IPv6 rule never admits an IPv4 destination.
 */
struct krs_hostnet_rule {
	uint8_t hr_family;		/* 4 or 6 */
	uint8_t hr_plen;		/* prefix length: 0..32 / 0..128 */
	uint16_t hr_port_lo, hr_port_hi;	/* host order, inclusive */
	uint8_t hr_addr[16];		/* IPv4 in the first 4 bytes */
};

#define KRS_HOSTNET_RULE_MAX	128	/* longest entry accepted, bytes */

/*
 * krs_hostnet_rule_parse - parse one allow-list entry (NUL-terminated).
 * Returns 0, or EINVAL with *errpos the 0-based offset of the offending
 * character and *why a static reason ("expected a port 1..65535 or *").
 * Pure: usable before any boot (the deployment parser checks entries
 * with it).
 */
KRS_EXPORT int krs_hostnet_rule_parse(const char *s,
    struct krs_hostnet_rule *r, size_t *errpos, const char **why);
/* krs_hostnet_rule_format - the canonical text of r into buf. */
KRS_EXPORT void krs_hostnet_rule_format(const struct krs_hostnet_rule *r,
    char *buf, size_t len);
/* krs_hostnet_rule_match - 1 when (family 4|6, addr, port host order)
 * lies in r, else 0.  An IPv4-mapped IPv6 addr must be given as 4. */
KRS_EXPORT int krs_hostnet_rule_match(const struct krs_hostnet_rule *r,
    int family, const uint8_t *addr, uint16_t port);

/*
 * krs_hostnet_allow - replace the allow list (component "hostnet" up):
 * n entries, each parsed as above; on any error nothing changes, -1 and
 * errno EINVAL.  An empty list denies everything (the default).
 * krs_hostnet_set_max - the most host sockets open at once (default 256;
 * 1..4096); krs_socket beyond it fails with ENFILE.
 */
KRS_EXPORT int krs_hostnet_allow(const char *const *entries, size_t n);
KRS_EXPORT int krs_hostnet_set_max(unsigned max);

/* Counters since boot.  A denied destination is logged once (the first
 * KRS_HOSTNET_LOGGED distinct ones; then one line saying the rest are
 * only counted). */
#define KRS_HOSTNET_LOGGED	64
struct krs_hostnet_stats {
	uint64_t hs_open;		/* host sockets open now */
	uint64_t hs_opened;		/* opened since boot */
	uint64_t hs_connects;		/* allowed connects */
	uint64_t hs_sends;		/* allowed sendto destinations */
	uint64_t hs_denied;		/* connects/sendtos refused (EACCES) */
	uint64_t hs_rxdenied;		/* datagrams dropped: sender not allowed */
	uint64_t hs_bytes_out, hs_bytes_in;
};
KRS_EXPORT int krs_hostnet_stats(struct krs_hostnet_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* KRANK_KRS_HOSTNET_H */
