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
	int mem = MSIZE + m_chain_storage(m);	/* with the MT_SONAME one */
	if (sb->sb_cc + len > sb->sb_hiwat ||
	    sb->sb_mbcnt + mem > 2 * sb->sb_hiwat)
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
	sb->sb_mbcnt += mem;
	return 0;
}

void
sbflush(struct sockbuf *sb)
{
	m_freem_list(sb->sb_mb);
	sb->sb_mb = sb->sb_mbtail = sb->sb_lastrec = NULL;
	sb->sb_cc = 0;
	sb->sb_mbcnt = 0;
}

/* Storage an mbuf pins: itself and its external buffer. */
static int
m_storage(const struct mbuf *m)
{
	return MSIZE + ((m->m_flags & M_EXT) ? (int)m->m_ext->ext_size : 0);
}

/*
 * Appending to a stream buffer keeps its storage near its data (BSD's
 * sbcompress): an mbuf that pins more than SB_WASTE times its data (a
 * byte in a frame buffer, a segment in a jumbo one) is copied into the
 * tail's free room.  A receive buffer (sbappendstream_rcv) goes further,
 * as the peer chooses its segments: without room at the tail the data
 * goes into a fresh cluster (which later small ones then fill) or a
 * compact copy.  So a peer that sends a byte a segment to a socket
 * nobody reads fills the buffer's size, not sb_hiwat frames.
 */
#define SB_WASTE	4

static void
sbappend_compact(struct sockbuf *sb, struct mbuf *m, bool rcv)
{
	while (m != NULL) {
		struct mbuf *next = m->m_next;
		m->m_next = NULL;
		m->m_flags &= ~M_PKTHDR;
		int len = m->m_len;
		struct mbuf *t = sb->sb_mbtail;
		if (len == 0) {
			m_free(m);
			m = next;
			continue;
		}
		sb->sb_cc += len;
		if (m_storage(m) > SB_WASTE * len) {
			struct mbuf *c = NULL;
			if (t != NULL && M_TRAILINGSPACE(t) >= len) {
				memcpy(t->m_data + t->m_len, m->m_data,
				    (size_t)len);
				t->m_len += len;
				m_free(m);
				m = next;
				continue;
			}
			if (!rcv)
				c = NULL;
			else if (len <= MCLBYTES)
				c = m_getcl(M_DONTWAIT, MT_DATA, 0);
			if (c != NULL) {
				memcpy(c->m_data, m->m_data, (size_t)len);
				c->m_len = len;
				c->m_flags &= ~M_PKTHDR;
				m_free(m);
				m = c;
			} else if (rcv &&
			    (c = m_dup(m, 0, len, M_DONTWAIT)) != NULL) {
				c->m_flags &= ~M_PKTHDR;
				m_free(m);
				m = c;
			}
		}
		if (t == NULL)
			sb->sb_mb = m;
		else
			t->m_next = m;
		while (m->m_next != NULL)
			m = m->m_next;
		sb->sb_mbtail = m;
		m = next;
	}
}

void
sbappendstream(struct sockbuf *sb, struct mbuf *m)
{
	sbappend_compact(sb, m, false);
}

void
sbappendstream_rcv(struct sockbuf *sb, struct mbuf *m)
{
	sbappend_compact(sb, m, true);
}

void
sbdrop(struct sockbuf *sb, int len)
{
	KASSERT(len <= sb->sb_cc);
	sb->sb_cc -= len;
	while (len > 0 && sb->sb_mb != NULL) {
		struct mbuf *m = sb->sb_mb;
		if (m->m_len > len) {
			m->m_data += len;
			m->m_len -= len;
			break;
		}
		len -= m->m_len;
		sb->sb_mb = m_free(m);
	}
	/* Drop empty mbufs at the front. */
	while (sb->sb_mb != NULL && sb->sb_mb->m_len == 0)
		sb->sb_mb = m_free(sb->sb_mb);
	if (sb->sb_mb == NULL) {
		sb->sb_cc = 0;
		sb->sb_mbtail = NULL;
	}
}

struct socket *
sonewconn(struct socket *head)
{
	/* The accept queue is bounded here; the protocol bounds the
	 * half-open connections (TCP answers with cookies beyond). */
	if (head->so_qlen >= head->so_qlimit)
		return NULL;
	struct socket *so = kmem_zalloc(sizeof(*so), KM_NOSLEEP);
	if (so == NULL)
		return NULL;
	so->so_stack = head->so_stack;
	so->so_pr = head->so_pr;
	so->so_type = head->so_type;
	so->so_options = head->so_options & ~SO_ACCEPTCONN_F;
	so->so_rcv.sb_hiwat = head->so_rcv.sb_hiwat;
	so->so_snd.sb_hiwat = head->so_snd.sb_hiwat;
	so->so_refs = 1;		/* the protocol's, until accept */
	so->so_linger = head->so_linger;
	so->so_fd = -1;
	cv_init_adaptive(&so->so_cv, "socket");
	so->so_head = head;
	so->so_onq0 = true;
	so->so_qnext = head->so_q0;
	head->so_q0 = so;
	head->so_q0len++;
	return so;
}

static void
soqremque(struct socket *so)
{
	struct socket *head = so->so_head;
	struct socket **pp = so->so_onq0 ? &head->so_q0 : &head->so_q;
	for (; *pp != NULL; pp = &(*pp)->so_qnext)
		if (*pp == so) {
			*pp = so->so_qnext;
			break;
		}
	if (so->so_onq0)
		head->so_q0len--;
	else
		head->so_qlen--;
	so->so_qnext = NULL;
	so->so_head = NULL;
}

void
soisconnecting(struct socket *so)
{
	so->so_state = (so->so_state & ~SS_ISCONNECTED) | SS_ISCONNECTING;
}

void
soisconnected(struct socket *so)
{
	so->so_state = (so->so_state & ~SS_ISCONNECTING) | SS_ISCONNECTED;
	struct socket *head = so->so_head;
	if (head != NULL && so->so_onq0) {
		soqremque(so);
		so->so_head = head;
		so->so_onq0 = false;
		/* Append: accept takes the oldest first. */
		struct socket **pp = &head->so_q;
		while (*pp != NULL)
			pp = &(*pp)->so_qnext;
		*pp = so;
		head->so_qlen++;
		sowakeup(head);
	}
	sowakeup(so);
}

void
socantrcvmore(struct socket *so)
{
	so->so_state |= SS_CANTRCVMORE;
	sowakeup(so);
}

void
soisdisconnected(struct socket *so)
{
	so->so_state = (so->so_state & ~(SS_ISCONNECTING | SS_ISCONNECTED |
	    SS_ISDISCONNECTING)) | SS_CANTRCVMORE | SS_CANTSENDMORE;
	sowakeup(so);
}

void
sofree_pcb(struct socket *so)
{
	so->so_pcb = NULL;
	if (so->so_head != NULL)
		soqremque(so);
	sbflush(&so->so_rcv);
	sbflush(&so->so_snd);
	sowakeup(so);
	sorele(so);
}

void
selnotify(void)
{
	mutex_enter(&sel_lock);
	/* Pollers spinning in so_pollwait read it without the lock. */
	__atomic_store_n(&sel_gen, sel_gen + 1, __ATOMIC_RELEASE);
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

RUMPDRV_COMPONENT(socket, "socket", "net,vfs", socket_init, socket_fini);
