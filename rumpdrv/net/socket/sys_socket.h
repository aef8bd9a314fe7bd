/* sys_socket.h - between the socket component's files (private). */
#ifndef RUMPDRV_NET_SYS_SOCKET_H
#define RUMPDRV_NET_SYS_SOCKET_H
#include "net/socket/socketvar.h"
extern kmutex_t sel_lock;
extern kcondvar_t sel_cv;
extern uint64_t sel_gen;
extern unsigned sel_sleepers;
const struct protosw *sock_proto_find(int type, int protocol);
void sotab_init(void);
void sotab_fini(void);
/* sotab_count_stack - open sockets of stack ns. */
int sotab_count_stack(struct netstack *ns);
#endif
