/*
 * uipc_socket.c - the "socket" component's kernel half: the protocol
 * switch registry, socket buffers for datagrams, and wakeups of blocked
 * callers and pollers.  Socket fields are under their stack's ns_lock;
 * the registry under proto_lock; the poll generation under sel_lock
 * (taken after ns_lock, never before).
 */
#include "net/socket/socketvar.h"
#include "net/socket/sys_socket.h"

#define NPROTO 8
static kmutex_t proto_lock;
static const struct protosw *protos[NPROTO];

kmutex_t sel_lock;
kcondvar_t sel_cv;
uint64_t sel_gen;		/* sel_lock */

int
sock_proto_register(const struct protosw *pr)
{
	mutex_enter(&proto_lock);
	for (int i = 0; i < NPROTO; i++)
		if (protos[i] == NULL) {
			protos[i] = pr;
			mutex_exit(&proto_lock);
			return 0;
		}
	mutex_exit(&proto_lock);
	return ENOSPC;
}

void
sock_proto_unregister(const struct protosw *pr)
{
	mutex_enter(&proto_lock);
	for (int i = 0; i < NPROTO; i++)
		if (protos[i] == pr)
			protos[i] = NULL;
	mutex_exit(&proto_lock);
}

const struct protosw *
sock_proto_find(int type, int protocol)
{
	const struct protosw *found = NULL;
	mutex_enter(&proto_lock);
	for (int i = 0; i < NPROTO && found == NULL; i++)
		if (protos[i] != NULL && protos[i]->pr_type == type &&
		    (protocol == 0 || protos[i]->pr_protocol == protocol))
			found = protos[i];
	mutex_exit(&proto_lock);
	return found;
}

int
sbappendaddr(struct sockbuf *sb, const struct sockaddr_in_k *from,
    struct mbuf *m)
{
	int len = m_length(m);
	if (sb->sb_cc + len > sb->sb_hiwat)
		return ENOBUFS;
	struct mbuf *n = m_get(M_DONTWAIT, MT_SONAME);
	if (n == NULL)
		return ENOBUFS;
	memcpy(n->m_data, from, sizeof(*from));
	n->m_len = sizeof(*from);
	n->m_next = m;
	n->m_nextpkt = NULL;
	if (sb->sb_lastrec != NULL)
		sb->sb_lastrec->m_nextpkt = n;
	else
		sb->sb_mb = n;
	sb->sb_lastrec = n;
	sb->sb_cc += len;
	return 0;
}

void
sbflush(struct sockbuf *sb)
{
	m_freem_list(sb->sb_mb);
	sb->sb_mb = sb->sb_lastrec = NULL;
	sb->sb_cc = 0;
}

void
selnotify(void)
{
	mutex_enter(&sel_lock);
	sel_gen++;
	cv_broadcast(&sel_cv);
	mutex_exit(&sel_lock);
}

void
sowakeup(struct socket *so)
{
	cv_broadcast(&so->so_cv);
	selnotify();
}

static int
socket_init(void)
{
	mutex_init(&proto_lock, MUTEX_DEFAULT, IPL_NONE);
	mutex_init(&sel_lock, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&sel_cv, "select");
	sotab_init();
	return 0;
}

static void
socket_fini(void)
{
	sotab_fini();
	cv_destroy(&sel_cv);
	mutex_destroy(&sel_lock);
	mutex_destroy(&proto_lock);
}

RUMPDRV_COMPONENT(socket, "socket", "net", socket_init, socket_fini);
