/*
 * rdtest_net.h - the socket address helper shared by the network tests
 * and benchmarks that talk to KRANK's stack (rumpdrv/net, krank, bench).
 */
#ifndef RDTEST_NET_H
#define RDTEST_NET_H
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>

/* An IPv4 socket address; an address that does not parse is left 0.0.0.0,
 * which the caller's bind or connect then reports. */
static inline struct sockaddr_in
rd_sin4(const char *addr, int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, addr, &s.sin_addr);
	return s;
}

#endif
