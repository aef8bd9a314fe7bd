/*
 * tmpfs.c - a memory file system: nodes hold regular-file data in 4 KiB
 * pages (holes are absent pages), directories as lists of entries, links as
 * strings.  Vnodes are keyed by node address.  Locking follows
 * vfs_driver.h; tm_lock additionally protects the per-mount counters and
 * node list, shared between vnodes.  Mount data: "size=BYTES[k|m|g]".
 */
#include <string.h>
#include <time.h>

#include "vfs/vfs_driver.h"

#define TMPFS_PAGE	4096
/* Pages of a file are a flat array of slots; 32 GiB keeps it <= 64 MiB. */
#define TMPFS_MAXFILE	((uint64_t)1 << 35)
#define TMPFS_DEFAULT_SIZE ((uint64_t)1 << 30)

struct tmpfs_node;

struct tmpfs_dirent {
	struct tmpfs_dirent *td_next;	/* dir's entries, cookie order */
	struct tmpfs_node *td_node;
	int64_t td_cookie;
	uint16_t td_namelen;
	char td_name[];
};

struct tmpfs_node {
	struct tmpfs_node *tn_next, *tn_prev;	/* tm_nodes; tm_lock */
	enum vtype tn_type;
	uint32_t tn_mode, tn_uid, tn_gid, tn_nlink;
	uint64_t tn_ino;
	uint64_t tn_size;
	struct timespec tn_atime, tn_mtime, tn_ctime, tn_btime;
	union {
		struct {			/* VREG */
			char **pages;
			size_t npages;		/* slots in pages[] */
		} reg;
		struct {			/* VDIR */
			struct tmpfs_dirent *head, *tail;
			struct tmpfs_node *parent;	/* NULL once removed */
			int64_t next_cookie;
		} dir;
		struct {			/* VLNK */
			char *target;
		} lnk;
	} tn_u;
};

struct tmpfs_mount {
	kmutex_t tm_lock;		/* protects everything below */
	struct tmpfs_node *tm_nodes;
	uint64_t tm_next_ino;
	uint64_t tm_pages, tm_pages_max;
	uint64_t tm_nnodes, tm_nodes_max;
	struct tmpfs_node *tm_root;
};

static const struct vnodeops tmpfs_vnodeops;

#define VTON(vp) ((struct tmpfs_node *)(vp)->v_data)
#define VTOTM(vp) ((struct tmpfs_mount *)(vp)->v_mount->mnt_data)

static void
tmpfs_now(struct timespec *ts)
{
	getnanotime(ts);
}

static struct tmpfs_node *
tmpfs_node_alloc(struct tmpfs_mount *tm, enum vtype type, const struct vattr *va,
    int *errorp)
{
	struct tmpfs_node *n;

	mutex_enter(&tm->tm_lock);
	if (tm->tm_nnodes >= tm->tm_nodes_max) {
		mutex_exit(&tm->tm_lock);
		*errorp = ENOSPC;
		return NULL;
	}
	tm->tm_nnodes++;
	uint64_t ino = tm->tm_next_ino++;
	mutex_exit(&tm->tm_lock);

	n = kmem_zalloc(sizeof(*n), KM_SLEEP);
	n->tn_type = type;
	n->tn_ino = ino;
	n->tn_mode = va ? va->va_mode & 07777 : 0755;
	n->tn_uid = va ? va->va_uid : 0;
	n->tn_gid = va ? va->va_gid : 0;
	n->tn_nlink = type == VDIR ? 2 : 1;
	tmpfs_now(&n->tn_btime);
	n->tn_atime = n->tn_mtime = n->tn_ctime = n->tn_btime;
	if (type == VDIR)
		n->tn_u.dir.next_cookie = 2;

	mutex_enter(&tm->tm_lock);
	n->tn_next = tm->tm_nodes;
	if (tm->tm_nodes)
		tm->tm_nodes->tn_prev = n;
	tm->tm_nodes = n;
	mutex_exit(&tm->tm_lock);
	return n;
}

/* Free the data of a regular file beyond newsize; caller holds v_lock. */
static void
tmpfs_reg_shrink(struct tmpfs_mount *tm, struct tmpfs_node *n, uint64_t newsize)
{
	size_t keep = (size_t)((newsize + TMPFS_PAGE - 1) / TMPFS_PAGE);
	uint64_t freed = 0;
	for (size_t i = keep; i < n->tn_u.reg.npages; i++) {
		if (n->tn_u.reg.pages[i] != NULL) {
			kmem_free(n->tn_u.reg.pages[i], TMPFS_PAGE);
			n->tn_u.reg.pages[i] = NULL;
			freed++;
		}
	}
	/* Zero the tail of the last kept page so a later extension reads 0. */
	if (newsize % TMPFS_PAGE != 0 && keep > 0 && keep <= n->tn_u.reg.npages &&
	    n->tn_u.reg.pages[keep - 1] != NULL) {
		size_t o = (size_t)(newsize % TMPFS_PAGE);
		memset(n->tn_u.reg.pages[keep - 1] + o, 0, TMPFS_PAGE - o);
	}
	if (freed) {
		mutex_enter(&tm->tm_lock);
		tm->tm_pages -= freed;
		mutex_exit(&tm->tm_lock);
	}
}

static void
tmpfs_node_free(struct tmpfs_mount *tm, struct tmpfs_node *n)
{
	switch (n->tn_type) {
	case VREG:
		tmpfs_reg_shrink(tm, n, 0);
		if (n->tn_u.reg.pages)
			kmem_free(n->tn_u.reg.pages,
			    sizeof(char *) * n->tn_u.reg.npages);
		break;
	case VDIR: {
		struct tmpfs_dirent *d, *next;
		for (d = n->tn_u.dir.head; d; d = next) {
			next = d->td_next;
			kmem_free(d, sizeof(*d) + d->td_namelen);
		}
		break;
	}
	case VLNK:
		kmem_strfree(n->tn_u.lnk.target);
		break;
	default:
		break;
	}
	mutex_enter(&tm->tm_lock);
	if (n->tn_prev)
		n->tn_prev->tn_next = n->tn_next;
	else
		tm->tm_nodes = n->tn_next;
	if (n->tn_next)
		n->tn_next->tn_prev = n->tn_prev;
	tm->tm_nnodes--;
	mutex_exit(&tm->tm_lock);
	kmem_free(n, sizeof(*n));
}

/* ---- directories ---- */

static struct tmpfs_dirent *
tmpfs_dir_find(struct tmpfs_node *dn, const char *name, size_t len,
    struct tmpfs_dirent ***prevp)
{
	struct tmpfs_dirent **pp = &dn->tn_u.dir.head, *d;
	for (; (d = *pp) != NULL; pp = &d->td_next) {
		if (d->td_namelen == len && memcmp(d->td_name, name, len) == 0) {
			if (prevp)
				*prevp = pp;
			return d;
		}
	}
	return NULL;
}

static void
tmpfs_dir_attach(struct tmpfs_node *dn, const char *name, size_t len,
    struct tmpfs_node *n)
{
	struct tmpfs_dirent *d = kmem_alloc(sizeof(*d) + len, KM_SLEEP);
	d->td_next = NULL;
	d->td_node = n;
	d->td_cookie = dn->tn_u.dir.next_cookie++;
	d->td_namelen = (uint16_t)len;
	memcpy(d->td_name, name, len);
	if (dn->tn_u.dir.tail)
		dn->tn_u.dir.tail->td_next = d;
	else
		dn->tn_u.dir.head = d;
	dn->tn_u.dir.tail = d;
	tmpfs_now(&dn->tn_mtime);
	dn->tn_ctime = dn->tn_mtime;
}

static void
tmpfs_dir_detach(struct tmpfs_node *dn, struct tmpfs_dirent *d,
    struct tmpfs_dirent **pp)
{
	*pp = d->td_next;
	if (dn->tn_u.dir.tail == d) {
		struct tmpfs_dirent *t = dn->tn_u.dir.head;
		while (t && t->td_next)
			t = t->td_next;
		dn->tn_u.dir.tail = t;
	}
	kmem_free(d, sizeof(*d) + d->td_namelen);
	tmpfs_now(&dn->tn_mtime);
	dn->tn_ctime = dn->tn_mtime;
}

static int
tmpfs_lookup(struct vnode *dvp, const char *name, size_t len,
    struct vnode **vpp)
{
	struct tmpfs_node *dn = VTON(dvp), *n;
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		n = dn->tn_u.dir.parent;
		if (n == NULL)
			return ENOENT;
	} else {
		struct tmpfs_dirent *d = tmpfs_dir_find(dn, name, len, NULL);
		if (d == NULL)
			return ENOENT;
		n = d->td_node;
	}
	return vcache_get(dvp->v_mount, (uint64_t)(uintptr_t)n, vpp);
}

static int
tmpfs_mknode(struct vnode *dvp, const char *name, size_t len,
    const struct vattr *va, enum vtype type, const char *target,
    struct vnode **vpp)
{
	struct tmpfs_mount *tm = VTOTM(dvp);
	struct tmpfs_node *dn = VTON(dvp), *n;
	int error;

	if (dn->tn_nlink == 0)
		return ENOENT;		/* directory was removed */
	if (type == VDIR && dn->tn_nlink >= 65000)
		return EMLINK;
	if ((n = tmpfs_node_alloc(tm, type, va, &error)) == NULL)
		return error;
	if (type == VDIR) {
		n->tn_u.dir.parent = dn;
		dn->tn_nlink++;
	} else if (type == VLNK) {
		n->tn_u.lnk.target = kmem_strdup(target, KM_SLEEP);
		n->tn_size = strlen(target);
	}
	tmpfs_dir_attach(dn, name, len, n);
	return vcache_get(dvp->v_mount, (uint64_t)(uintptr_t)n, vpp);
}

static int
tmpfs_create(struct vnode *dvp, const char *name, size_t len,
    const struct vattr *va, struct vnode **vpp)
{
	return tmpfs_mknode(dvp, name, len, va, VREG, NULL, vpp);
}

static int
tmpfs_mkdir(struct vnode *dvp, const char *name, size_t len,
    const struct vattr *va, struct vnode **vpp)
{
	return tmpfs_mknode(dvp, name, len, va, VDIR, NULL, vpp);
}

static int
tmpfs_symlink(struct vnode *dvp, const char *name, size_t len,
    const struct vattr *va, const char *target, struct vnode **vpp)
{
	return tmpfs_mknode(dvp, name, len, va, VLNK, target, vpp);
}

static int
tmpfs_remove(struct vnode *dvp, struct vnode *vp, const char *name, size_t len)
{
	struct tmpfs_node *dn = VTON(dvp), *n = VTON(vp);
	struct tmpfs_dirent **pp;
	struct tmpfs_dirent *d = tmpfs_dir_find(dn, name, len, &pp);
	if (d == NULL || d->td_node != n)
		return ENOENT;
	tmpfs_dir_detach(dn, d, pp);
	n->tn_nlink--;
	tmpfs_now(&n->tn_ctime);
	return 0;
}

static int
tmpfs_rmdir(struct vnode *dvp, struct vnode *vp, const char *name, size_t len)
{
	struct tmpfs_node *dn = VTON(dvp), *n = VTON(vp);
	struct tmpfs_dirent **pp;
	if (n->tn_u.dir.head != NULL)
		return ENOTEMPTY;
	struct tmpfs_dirent *d = tmpfs_dir_find(dn, name, len, &pp);
	if (d == NULL || d->td_node != n)
		return ENOENT;
	tmpfs_dir_detach(dn, d, pp);
	dn->tn_nlink--;
	n->tn_nlink = 0;
	n->tn_u.dir.parent = NULL;
	return 0;
}

static int
tmpfs_link(struct vnode *dvp, struct vnode *vp, const char *name, size_t len)
{
	struct tmpfs_node *dn = VTON(dvp), *n = VTON(vp);
	if (dn->tn_nlink == 0)
		return ENOENT;
	if (n->tn_nlink == 0)
		return ENOENT;
	if (n->tn_nlink >= 65000)
		return EMLINK;
	tmpfs_dir_attach(dn, name, len, n);
	n->tn_nlink++;
	tmpfs_now(&n->tn_ctime);
	return 0;
}

static int
tmpfs_rename(struct vnode *fdvp, struct vnode *fvp, const char *fname,
    size_t flen, struct vnode *tdvp, struct vnode *tvp, const char *tname,
    size_t tlen)
{
	struct tmpfs_node *fdn = VTON(fdvp), *tdn = VTON(tdvp), *n = VTON(fvp);
	struct tmpfs_dirent **fpp, **tpp;
	struct tmpfs_dirent *fd = tmpfs_dir_find(fdn, fname, flen, &fpp), *td;

	if (fd == NULL || fd->td_node != n)
		return ENOENT;
	if (tdn->tn_nlink == 0)
		return ENOENT;
	if (tvp != NULL) {
		struct tmpfs_node *tn = VTON(tvp);
		if (tn->tn_type == VDIR && tn->tn_u.dir.head != NULL)
			return ENOTEMPTY;
		td = tmpfs_dir_find(tdn, tname, tlen, &tpp);
		if (td == NULL || td->td_node != tn)
			return ENOENT;
		/* Replace: the target entry now names n. */
		td->td_node = n;
		if (tn->tn_type == VDIR) {
			tn->tn_nlink = 0;
			tn->tn_u.dir.parent = NULL;
			tdn->tn_nlink--;
		} else {
			tn->tn_nlink--;
		}
		tmpfs_now(&tn->tn_ctime);
		tmpfs_now(&tdn->tn_mtime);
		tdn->tn_ctime = tdn->tn_mtime;
	} else {
		tmpfs_dir_attach(tdn, tname, tlen, n);
	}
	/* Re-find the source: attaching may not move it, but be exact. */
	fd = tmpfs_dir_find(fdn, fname, flen, &fpp);
	if (fd != NULL && fd->td_node == n)
		tmpfs_dir_detach(fdn, fd, fpp);
	if (n->tn_type == VDIR && fdn != tdn) {
		n->tn_u.dir.parent = tdn;
		fdn->tn_nlink--;
		tdn->tn_nlink++;
	}
	tmpfs_now(&n->tn_ctime);
	return 0;
}

static int
tmpfs_readdir(struct vnode *vp, int64_t *offp, vfs_filldir_t fill, void *arg,
    bool *eofp)
{
	struct tmpfs_node *dn = VTON(vp);
	int64_t off = *offp;

	*eofp = false;
	if (off == 0) {
		if (fill(arg, ".", 1, dn->tn_ino, VDIR, 1))
			return 0;
		*offp = off = 1;
	}
	if (off == 1) {
		struct tmpfs_node *p = dn->tn_u.dir.parent ? dn->tn_u.dir.parent : dn;
		if (fill(arg, "..", 2, p->tn_ino, VDIR, 2))
			return 0;
		*offp = off = 2;
	}
	struct tmpfs_dirent *d = dn->tn_u.dir.head;
	while (d != NULL && d->td_cookie < off)
		d = d->td_next;
	for (; d != NULL; d = d->td_next) {
		int64_t next = d->td_next ? d->td_next->td_cookie :
		    dn->tn_u.dir.next_cookie;
		if (fill(arg, d->td_name, d->td_namelen, d->td_node->tn_ino,
		    d->td_node->tn_type, next))
			return 0;
		*offp = next;
	}
	*offp = dn->tn_u.dir.next_cookie;
	*eofp = true;
	return 0;
}

/* ---- files ---- */

static int
tmpfs_read(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct tmpfs_node *n = VTON(vp);
	(void)ioflag;
	if (uio->uio_offset < 0)
		return EINVAL;
	while (uio->uio_resid > 0 && (uint64_t)uio->uio_offset < n->tn_size) {
		uint64_t off = (uint64_t)uio->uio_offset;
		size_t pg = (size_t)(off / TMPFS_PAGE), po = (size_t)(off % TMPFS_PAGE);
		size_t cnt = TMPFS_PAGE - po;
		if (cnt > n->tn_size - off)
			cnt = (size_t)(n->tn_size - off);
		if (cnt > uio->uio_resid)
			cnt = uio->uio_resid;
		char *page = pg < n->tn_u.reg.npages ? n->tn_u.reg.pages[pg] : NULL;
		if (page != NULL) {
			uiomove(page + po, cnt, uio);
		} else {
			static const char zeroes[TMPFS_PAGE];
			uiomove((void *)(uintptr_t)zeroes, cnt, uio);
		}
	}
	return 0;
}

static int
tmpfs_reg_grow_slots(struct tmpfs_node *n, size_t need)
{
	if (need <= n->tn_u.reg.npages)
		return 0;
	size_t nn = n->tn_u.reg.npages ? n->tn_u.reg.npages : 4;
	while (nn < need)
		nn *= 2;
	char **np = kmem_zalloc(sizeof(char *) * nn, KM_NOSLEEP);
	if (np == NULL)
		return ENOSPC;
	if (n->tn_u.reg.pages) {
		memcpy(np, n->tn_u.reg.pages, sizeof(char *) * n->tn_u.reg.npages);
		kmem_free(n->tn_u.reg.pages, sizeof(char *) * n->tn_u.reg.npages);
	}
	n->tn_u.reg.pages = np;
	n->tn_u.reg.npages = nn;
	return 0;
}

static int
tmpfs_write(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct tmpfs_mount *tm = VTOTM(vp);
	struct tmpfs_node *n = VTON(vp);
	int error = 0;

	if (ioflag & IO_APPEND)
		uio->uio_offset = (int64_t)n->tn_size;
	if (uio->uio_offset < 0)
		return EINVAL;
	if (uio->uio_resid == 0)
		return 0;
	if ((uint64_t)uio->uio_offset >= TMPFS_MAXFILE)
		return EFBIG;
	while (uio->uio_resid > 0) {
		uint64_t off = (uint64_t)uio->uio_offset;
		if (off >= TMPFS_MAXFILE) {
			error = EFBIG;
			break;
		}
		size_t pg = (size_t)(off / TMPFS_PAGE), po = (size_t)(off % TMPFS_PAGE);
		size_t cnt = TMPFS_PAGE - po;
		if (cnt > uio->uio_resid)
			cnt = uio->uio_resid;
		if ((error = tmpfs_reg_grow_slots(n, pg + 1)) != 0)
			break;
		char *page = n->tn_u.reg.pages[pg];
		if (page == NULL) {
			mutex_enter(&tm->tm_lock);
			if (tm->tm_pages >= tm->tm_pages_max) {
				mutex_exit(&tm->tm_lock);
				error = ENOSPC;
				break;
			}
			tm->tm_pages++;
			mutex_exit(&tm->tm_lock);
			page = kmem_alloc(TMPFS_PAGE, KM_SLEEP);
			/* Zero what this write does not cover. */
			if (po > 0)
				memset(page, 0, po);
			if (po + cnt < TMPFS_PAGE)
				memset(page + po + cnt, 0, TMPFS_PAGE - po - cnt);
			n->tn_u.reg.pages[pg] = page;
		}
		uiomove(page + po, cnt, uio);
		if ((uint64_t)uio->uio_offset > n->tn_size)
			n->tn_size = (uint64_t)uio->uio_offset;
	}
	tmpfs_now(&n->tn_mtime);
	n->tn_ctime = n->tn_mtime;
	return error;
}

static int
tmpfs_readlink(struct vnode *vp, struct uio *uio)
{
	struct tmpfs_node *n = VTON(vp);
	size_t len = (size_t)n->tn_size;
	return uiomove(n->tn_u.lnk.target, len < uio->uio_resid ? len :
	    uio->uio_resid, uio);
}

static int
tmpfs_getattr(struct vnode *vp, struct vattr *va)
{
	struct tmpfs_node *n = VTON(vp);
	uint64_t pages = 0;
	va->va_type = n->tn_type;
	va->va_mode = n->tn_mode;
	va->va_nlink = n->tn_nlink;
	va->va_uid = n->tn_uid;
	va->va_gid = n->tn_gid;
	va->va_fileid = n->tn_ino;
	va->va_size = n->tn_type == VDIR ? TMPFS_PAGE : n->tn_size;
	if (n->tn_type == VREG)
		for (size_t i = 0; i < n->tn_u.reg.npages; i++)
			pages += n->tn_u.reg.pages[i] != NULL;
	va->va_bytes = pages * TMPFS_PAGE;
	va->va_blocksize = TMPFS_PAGE;
	va->va_atime = n->tn_atime;
	va->va_mtime = n->tn_mtime;
	va->va_ctime = n->tn_ctime;
	va->va_birthtime = n->tn_btime;
	return 0;
}

static int
tmpfs_setattr(struct vnode *vp, const struct vattr *va)
{
	struct tmpfs_node *n = VTON(vp);
	if (va->va_mask & VA_SIZE) {
		if (n->tn_type != VREG)
			return n->tn_type == VDIR ? EISDIR : EINVAL;
		if (va->va_size > TMPFS_MAXFILE)
			return EFBIG;
		if (va->va_size < n->tn_size)
			tmpfs_reg_shrink(VTOTM(vp), n, va->va_size);
		n->tn_size = va->va_size;
		tmpfs_now(&n->tn_mtime);
	}
	if (va->va_mask & VA_MODE)
		n->tn_mode = va->va_mode & 07777;
	if (va->va_mask & VA_UID)
		n->tn_uid = va->va_uid;
	if (va->va_mask & VA_GID)
		n->tn_gid = va->va_gid;
	if (va->va_mask & VA_ATIME)
		n->tn_atime = va->va_atime;
	if (va->va_mask & VA_MTIME)
		n->tn_mtime = va->va_mtime;
	tmpfs_now(&n->tn_ctime);
	return 0;
}

static int
tmpfs_fsync(struct vnode *vp, int flags)
{
	(void)vp; (void)flags;
	return 0;			/* memory is the backing store */
}

static int
tmpfs_inactive(struct vnode *vp, bool *recyclep)
{
	*recyclep = VTON(vp)->tn_nlink == 0;
	return 0;
}

static int
tmpfs_reclaim(struct vnode *vp)
{
	struct tmpfs_node *n = VTON(vp);
	if (n != NULL && n->tn_nlink == 0)
		tmpfs_node_free(VTOTM(vp), n);
	vp->v_data = NULL;
	return 0;
}

static const struct vnodeops tmpfs_vnodeops = {
	.vop_lookup = tmpfs_lookup,
	.vop_create = tmpfs_create,
	.vop_mkdir = tmpfs_mkdir,
	.vop_symlink = tmpfs_symlink,
	.vop_remove = tmpfs_remove,
	.vop_rmdir = tmpfs_rmdir,
	.vop_link = tmpfs_link,
	.vop_rename = tmpfs_rename,
	.vop_readlink = tmpfs_readlink,
	.vop_getattr = tmpfs_getattr,
	.vop_setattr = tmpfs_setattr,
	.vop_read = tmpfs_read,
	.vop_write = tmpfs_write,
	.vop_readdir = tmpfs_readdir,
	.vop_fsync = tmpfs_fsync,
	.vop_inactive = tmpfs_inactive,
	.vop_reclaim = tmpfs_reclaim,
};

/* ---- mount ---- */

/* Parse "size=N[k|m|g]"; unknown options are an error. */
static int
tmpfs_parse(const char *data, size_t len, uint64_t *sizep)
{
	char buf[64];
	if (data == NULL || len == 0)
		return 0;
	if (len >= sizeof(buf))
		return EINVAL;
	memcpy(buf, data, len);
	buf[len] = '\0';
	if (strncmp(buf, "size=", 5) != 0)
		return EINVAL;
	uint64_t v = 0;
	const char *p = buf + 5;
	if (*p < '0' || *p > '9')
		return EINVAL;
	while (*p >= '0' && *p <= '9') {
		if (v > UINT64_MAX / 10 - 10)
			return EINVAL;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	switch (*p) {
	case 'k': v <<= 10; p++; break;
	case 'm': v <<= 20; p++; break;
	case 'g': v <<= 30; p++; break;
	default: break;
	}
	if (*p != '\0' || v < TMPFS_PAGE)
		return EINVAL;
	*sizep = v;
	return 0;
}

static int
tmpfs_mount(struct mount *mp, const char *source, int flags, const void *data,
    size_t datalen)
{
	uint64_t size = TMPFS_DEFAULT_SIZE;
	int error;
	(void)source; (void)flags;

	if ((error = tmpfs_parse(data, datalen, &size)) != 0) {
		klog(LOG_WARNING, "tmpfs: bad mount options (want size=N[k|m|g])");
		return error;
	}
	struct tmpfs_mount *tm = kmem_zalloc(sizeof(*tm), KM_SLEEP);
	mutex_init(&tm->tm_lock, MUTEX_DEFAULT, IPL_NONE);
	tm->tm_next_ino = 2;
	tm->tm_pages_max = size / TMPFS_PAGE;
	tm->tm_nodes_max = size / 128;
	struct vattr va;
	vattr_null(&va);
	va.va_mode = 01777;
	tm->tm_root = tmpfs_node_alloc(tm, VDIR, &va, &error);
	if (tm->tm_root == NULL) {
		mutex_destroy(&tm->tm_lock);
		kmem_free(tm, sizeof(*tm));
		return error;
	}
	tm->tm_root->tn_u.dir.parent = tm->tm_root;
	mp->mnt_data = tm;
	return 0;
}

static int
tmpfs_unmount(struct mount *mp, int flags)
{
	struct tmpfs_mount *tm = mp->mnt_data;
	(void)flags;
	while (tm->tm_nodes != NULL)
		tmpfs_node_free(tm, tm->tm_nodes);
	mutex_destroy(&tm->tm_lock);
	kmem_free(tm, sizeof(*tm));
	mp->mnt_data = NULL;
	return 0;
}

static int
tmpfs_root(struct mount *mp, struct vnode **vpp)
{
	struct tmpfs_mount *tm = mp->mnt_data;
	return vcache_get(mp, (uint64_t)(uintptr_t)tm->tm_root, vpp);
}

static int
tmpfs_statvfs(struct mount *mp, struct krs_statvfs *sv)
{
	struct tmpfs_mount *tm = mp->mnt_data;
	mutex_enter(&tm->tm_lock);
	sv->f_bsize = sv->f_frsize = TMPFS_PAGE;
	sv->f_blocks = tm->tm_pages_max;
	sv->f_bfree = sv->f_bavail = tm->tm_pages_max - tm->tm_pages;
	sv->f_files = tm->tm_nodes_max;
	sv->f_ffree = sv->f_favail = tm->tm_nodes_max - tm->tm_nnodes;
	sv->f_namemax = 255;
	mutex_exit(&tm->tm_lock);
	return 0;
}

static int
tmpfs_sync(struct mount *mp, int waitfor)
{
	(void)mp; (void)waitfor;
	return 0;
}

static int
tmpfs_loadvnode(struct mount *mp, struct vnode *vp, uint64_t key)
{
	struct tmpfs_node *n = (struct tmpfs_node *)(uintptr_t)key;
	(void)mp;
	vp->v_data = n;
	vp->v_type = n->tn_type;
	vp->v_op = &tmpfs_vnodeops;
	return 0;
}

static const struct vfsops tmpfs_vfsops = {
	.vfs_name = "tmpfs",
	.vfs_mount = tmpfs_mount,
	.vfs_unmount = tmpfs_unmount,
	.vfs_root = tmpfs_root,
	.vfs_statvfs = tmpfs_statvfs,
	.vfs_sync = tmpfs_sync,
	.vfs_loadvnode = tmpfs_loadvnode,
};

static int
tmpfs_init(void)
{
	return vfs_register(&tmpfs_vfsops);
}

static void
tmpfs_fini(void)
{
	vfs_unregister(&tmpfs_vfsops);
}

RUMPDRV_COMPONENT(tmpfs, "tmpfs", "vfs", tmpfs_init, tmpfs_fini);
