/* KRANK isolate libc: IPv4 text conversion (AF_INET only). */
#ifndef _KRANK_ARPA_INET_H
#define _KRANK_ARPA_INET_H
#include <netinet/in.h>
int inet_pton(int, const char *, void *);
const char *inet_ntop(int, const void *, char *, socklen_t);
in_addr_t inet_addr(const char *);
int inet_aton(const char *, struct in_addr *);
#endif
