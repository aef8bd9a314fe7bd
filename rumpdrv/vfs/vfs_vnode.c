/*
 * vfs_vnode.c - the vnode cache: vnodes hashed by (mount, key), loaded on a
 * miss through the file system's vfs_loadvnode, kept on an LRU free list
 * once unreferenced and reclaimed when the list is full, the file system
 * asks for it (unlinked file) or the mount goes away.  Also uiomove,
 * vattr_null and the permission check.
 */
#include <string.h>

#include "vfs/vfs_int.h"

#define VCACHE_HASH	4096
#define VCACHE_FREEMAX	2048

static kmutex_t vcache_lock;	/* protects the hash, free list, v_iflag
				 * (changed with atomic ops: VI_MROOT is
				 * read without the lock),
				 * usecount transitions to and from 0 */
static kcondvar_t vcache_cv;	/* loads and reclaims finishing */
static struct vnode *vcache_hash[VCACHE_HASH];
static struct vnode *vfree_head, *vfree_tail;	/* LRU: head is oldest */
static unsigned vfree_count;

static unsigned
vcache_bucket(struct mount *mp, uint64_t key)
{
	uint64_t h = (key ^ (uint64_t)(uintptr_t)mp) * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> 52) & (VCACHE_HASH - 1);
}

int
vcache_init(void)
{
	mutex_init(&vcache_lock, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&vcache_cv, "vcache");
	return 0;
}

void
vcache_fini(void)
{
	cv_destroy(&vcache_cv);
	mutex_destroy(&vcache_lock);
}

static void
vfree_remove(struct vnode *vp)
{
	if (vp->v_lruprev)
		vp->v_lruprev->v_lrunext = vp->v_lrunext;
	else
		vfree_head = vp->v_lrunext;
	if (vp->v_lrunext)
		vp->v_lrunext->v_lruprev = vp->v_lruprev;
	else
		vfree_tail = vp->v_lruprev;
	vp->v_lrunext = vp->v_lruprev = NULL;
	__atomic_fetch_and(&vp->v_iflag, ~(unsigned)VI_FREE, __ATOMIC_RELEASE);
	vfree_count--;
}

static void
vfree_append(struct vnode *vp)
{
	vp->v_lrunext = NULL;
	vp->v_lruprev = vfree_tail;
	if (vfree_tail)
		vfree_tail->v_lrunext = vp;
	else
		vfree_head = vp;
	vfree_tail = vp;
	__atomic_fetch_or(&vp->v_iflag, VI_FREE, __ATOMIC_RELEASE);
	vfree_count++;
}

static void
vhash_remove(struct vnode *vp)
{
	struct vnode **pp = &vcache_hash[vcache_bucket(vp->v_mount, vp->v_key)];
	for (; *pp != NULL; pp = &(*pp)->v_hnext) {
		if (*pp == vp) {
			*pp = vp->v_hnext;
			return;
		}
	}
}

static void
vnode_free(struct vnode *vp)
{
	rw_destroy(&vp->v_lock);
	kmem_free(vp, sizeof(*vp));
}

/* Reclaim an unreferenced vnode marked VI_RECLAIM; vcache_lock held on
 * entry and exit, dropped around the file system call. */
static void
vnode_reclaim_locked(struct vnode *vp)
{
	mutex_exit(&vcache_lock);
	if (vp->v_op != NULL && vp->v_op->vop_reclaim != NULL)
		vp->v_op->vop_reclaim(vp);
	mutex_enter(&vcache_lock);
	vhash_remove(vp);
	cv_broadcast(&vcache_cv);
	vnode_free(vp);
}

int
vcache_get(struct mount *mp, uint64_t key, struct vnode **vpp)
{
	unsigned b = vcache_bucket(mp, key);
	struct vnode *vp;
	int error;

	mutex_enter(&vcache_lock);
again:
	for (vp = vcache_hash[b]; vp != NULL; vp = vp->v_hnext)
		if (vp->v_mount == mp && vp->v_key == key)
			break;
	if (vp != NULL) {
		if (vp->v_iflag & (VI_LOADING | VI_RECLAIM)) {
			cv_wait(&vcache_cv, &vcache_lock);
			goto again;
		}
		if (vp->v_iflag & VI_FREE)
			vfree_remove(vp);
		__atomic_fetch_add(&vp->v_usecount, 1, __ATOMIC_ACQUIRE);
		mutex_exit(&vcache_lock);
		*vpp = vp;
		return 0;
	}
	vp = kmem_zalloc(sizeof(*vp), KM_SLEEP);
	rw_init(&vp->v_lock);
	vp->v_mount = mp;
	vp->v_key = key;
	vp->v_usecount = 1;
	vp->v_iflag = VI_LOADING;
	vp->v_hnext = vcache_hash[b];
	vcache_hash[b] = vp;
	mutex_exit(&vcache_lock);

	error = mp->mnt_op->vfs_loadvnode(mp, vp, key);

	mutex_enter(&vcache_lock);
	__atomic_fetch_and(&vp->v_iflag, ~(unsigned)VI_LOADING, __ATOMIC_RELEASE);
	if (error != 0) {
		vhash_remove(vp);
		vnode_free(vp);
		vp = NULL;
	}
	cv_broadcast(&vcache_cv);
	mutex_exit(&vcache_lock);
	*vpp = vp;
	return error;
}

void
vref(struct vnode *vp)
{
	unsigned old = __atomic_fetch_add(&vp->v_usecount, 1, __ATOMIC_RELAXED);
	KASSERTMSG(old > 0, "vref: vnode %p unreferenced", (void *)vp);
}

void
vrele(struct vnode *vp)
{
	unsigned cnt = __atomic_load_n(&vp->v_usecount, __ATOMIC_RELAXED);
	bool recycle = false;

	/* Fast path: not the last reference. */
	while (cnt > 1) {
		if (__atomic_compare_exchange_n(&vp->v_usecount, &cnt, cnt - 1,
		    false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return;
	}
	mutex_enter(&vcache_lock);
	if (__atomic_sub_fetch(&vp->v_usecount, 1, __ATOMIC_ACQ_REL) > 0) {
		mutex_exit(&vcache_lock);
		return;
	}
	/*
	 * Last reference: let the file system decide, outside our lock,
	 * holding a transient reference so nobody reclaims under it.  A
	 * vcache_get may take a new reference meanwhile, so inactive runs
	 * under v_lock (exclusive) to keep that new user's operations out.
	 */
	__atomic_store_n(&vp->v_usecount, 1, __ATOMIC_RELAXED);
	__atomic_fetch_or(&vp->v_iflag, VI_INACTIVE, __ATOMIC_RELEASE);
	mutex_exit(&vcache_lock);
	if (vp->v_op != NULL && vp->v_op->vop_inactive != NULL) {
		rw_enter(&vp->v_lock, RW_WRITER);
		vp->v_op->vop_inactive(vp, &recycle);
		rw_exit(&vp->v_lock);
	}
	mutex_enter(&vcache_lock);
	__atomic_fetch_and(&vp->v_iflag, ~(unsigned)VI_INACTIVE, __ATOMIC_RELEASE);
	if (__atomic_sub_fetch(&vp->v_usecount, 1, __ATOMIC_ACQ_REL) > 0) {
		mutex_exit(&vcache_lock);
		return;
	}
	if (recycle) {
		__atomic_fetch_or(&vp->v_iflag, VI_RECLAIM, __ATOMIC_RELEASE);
		vnode_reclaim_locked(vp);
	} else {
		vfree_append(vp);
		while (vfree_count > VCACHE_FREEMAX) {
			struct vnode *old = vfree_head;
			vfree_remove(old);
			__atomic_fetch_or(&old->v_iflag, VI_RECLAIM, __ATOMIC_RELEASE);
			vnode_reclaim_locked(old);
		}
	}
	mutex_exit(&vcache_lock);
}

int
vflush(struct mount *mp, struct vnode *skip)
{
	mutex_enter(&vcache_lock);
	for (unsigned b = 0; b < VCACHE_HASH; b++) {
		for (struct vnode *vp = vcache_hash[b]; vp; vp = vp->v_hnext) {
			if (vp->v_mount != mp)
				continue;
			unsigned want = vp == skip ? 1 : 0;
			if (__atomic_load_n(&vp->v_usecount, __ATOMIC_ACQUIRE) != want ||
			    (vp->v_iflag & (VI_LOADING | VI_INACTIVE))) {
				mutex_exit(&vcache_lock);
				return EBUSY;
			}
		}
	}
	/* Nothing is busy: reclaim every vnode of mp, the root included. */
restart:
	for (unsigned b = 0; b < VCACHE_HASH; b++) {
		for (struct vnode *vp = vcache_hash[b]; vp; vp = vp->v_hnext) {
			if (vp->v_mount != mp || (vp->v_iflag & VI_RECLAIM))
				continue;
			if (vp->v_iflag & VI_FREE)
				vfree_remove(vp);
			__atomic_store_n(&vp->v_usecount, 0, __ATOMIC_RELAXED);
			__atomic_fetch_or(&vp->v_iflag, VI_RECLAIM, __ATOMIC_RELEASE);
			vnode_reclaim_locked(vp);
			goto restart;
		}
	}
	mutex_exit(&vcache_lock);
	return 0;
}

int
vfs_root_vnode(struct mount *mp, struct vnode **vpp)
{
	int error = mp->mnt_op->vfs_root(mp, vpp);
	if (error == 0 && !vnode_is_mroot(*vpp)) {
		mutex_enter(&vcache_lock);
		__atomic_fetch_or(&(*vpp)->v_iflag, VI_MROOT, __ATOMIC_RELEASE);
		mutex_exit(&vcache_lock);
	}
	return error;
}

int
uiomove(void *buf, size_t n, struct uio *uio)
{
	char *cp = buf;
	while (n > 0 && uio->uio_resid > 0) {
		struct krs_iovec *iov = uio->uio_iov;
		size_t cnt = iov->iov_len;
		if (cnt == 0) {
			KASSERT(uio->uio_iovcnt > 0);
			uio->uio_iov++;
			uio->uio_iovcnt--;
			continue;
		}
		if (cnt > n)
			cnt = n;
		if (uio->uio_rw == UIO_READ)
			memcpy(iov->iov_base, cp, cnt);
		else
			memcpy(cp, iov->iov_base, cnt);
		iov->iov_base = (char *)iov->iov_base + cnt;
		iov->iov_len -= cnt;
		uio->uio_resid -= cnt;
		uio->uio_offset += (int64_t)cnt;
		cp += cnt;
		n -= cnt;
	}
	return 0;
}

void
vattr_null(struct vattr *va)
{
	memset(va, 0, sizeof(*va));
}

int
vfs_access_check(const struct vattr *va, int want, kauth_cred_t cred)
{
	uint32_t mode = va->va_mode, bits;

	if (cred->cr_uid == 0) {
		/* root: anything, except exec needs one x bit on files. */
		if ((want & VEXEC) && va->va_type != VDIR && !(mode & 0111))
			return EACCES;
		return 0;
	}
	if (cred->cr_uid == va->va_uid)
		bits = (mode >> 6) & 7;
	else {
		bool ingroup = cred->cr_gid == va->va_gid;
		for (uint32_t i = 0; !ingroup && i < cred->cr_ngroups; i++)
			ingroup = cred->cr_groups[i] == va->va_gid;
		bits = ingroup ? (mode >> 3) & 7 : mode & 7;
	}
	return ((unsigned)want & ~bits) ? EACCES : 0;
}

int
vfs_getattr(struct vnode *vp, struct vattr *va)
{
	vattr_null(va);
	rw_enter(&vp->v_lock, RW_READER);
	int error = vp->v_op->vop_getattr(vp, va);
	rw_exit(&vp->v_lock);
	return error;
}

int
vfs_access(struct vnode *vp, int want)
{
	struct vattr va;
	int error = vfs_getattr(vp, &va);
	return error ? error : vfs_access_check(&va, want, kauth_cred_get());
}
