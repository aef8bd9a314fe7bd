/* KRANK isolate libc: TCP socket options. */
#ifndef _KRANK_NETINET_TCP_H
#define _KRANK_NETINET_TCP_H
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#endif
