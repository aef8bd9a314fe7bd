/*
 * vfs_mount.c - file system types, the mount table, krs_mount,
 * krs_unmount, krs_statvfs, krs_mounts, and the "vfs" component itself.
 */
#include <string.h>

#include "vfs/vfs_int.h"

kmutex_t mountlist_lock;
bool vfs_up;
struct mount *mount_list;
struct vnode *rootvnode;		/* referenced; mountlist_lock */
static struct rmtable *vfs_types;	/* fstype name -> struct vfsops */
static uint64_t next_mnt_id = 1;	/* mountlist_lock */

int
vfs_register(const struct vfsops *vops)
{
	if (vfs_types == NULL)
		return ENXIO;
	return rmtable_insert(vfs_types, vops->vfs_name, (void *)(uintptr_t)vops);
}

int
vfs_unregister(const struct vfsops *vops)
{
	mutex_enter(&mountlist_lock);
	for (struct mount *mp = mount_list; mp; mp = mp->mnt_next) {
		if (mp->mnt_op == vops) {
			mutex_exit(&mountlist_lock);
			return EBUSY;
		}
	}
	mutex_exit(&mountlist_lock);
	return rmtable_remove(vfs_types, vops->vfs_name);
}

static int
do_mount(const char *source, const char *target, const char *fstype,
    int flags, const void *data, size_t datalen)
{
	const struct vfsops *vops;
	struct vnode *covered = NULL, *root;
	struct mount *mp;
	int error;

	if (kauth_cred_get()->cr_uid != 0)
		return EPERM;
	if (fstype == NULL || target == NULL)
		return EINVAL;
	vops = rmtable_lookup(vfs_types, fstype, NULL, NULL);
	if (vops == NULL) {
		klog(LOG_WARNING, "mount %s on %s: unknown file system type %s",
		    source ? source : "-", target, fstype);
		return ENODEV;
	}
	mutex_enter(&mountlist_lock);
	bool noroot = rootvnode == NULL;
	mutex_exit(&mountlist_lock);
	if (!(noroot && strcmp(target, "/") == 0)) {
		struct nameidata nd = { .nd_dirfd = KRS_AT_FDCWD,
		    .nd_path = target, .nd_flags = NL_FOLLOW };
		if ((error = namei(&nd)) != 0)
			return error;
		covered = nd.nd_vp;
		if (covered->v_type != VDIR) {
			vrele(covered);
			return ENOTDIR;
		}
	}
	mp = kmem_zalloc(sizeof(*mp), KM_SLEEP);
	mp->mnt_op = vops;
	mp->mnt_flag = flags & MNT_RDONLY;
	rw_init(&mp->mnt_nslock);
	strlcpy_k(mp->mnt_stat_from, source ? source : fstype,
	    sizeof(mp->mnt_stat_from));
	error = vops->vfs_mount(mp, source, flags, data, datalen);
	if (error == 0) {
		error = vfs_root_vnode(mp, &root);
		if (error)
			vops->vfs_unmount(mp, MNT_FORCE);
	}
	if (error) {
		klog(LOG_WARNING, "mount %s on %s (%s): error %d",
		    mp->mnt_stat_from, target, fstype, error);
		rw_destroy(&mp->mnt_nslock);
		kmem_free(mp, sizeof(*mp));
		if (covered)
			vrele(covered);
		return error;
	}
	mutex_enter(&mountlist_lock);
	if (covered != NULL ? vnode_mountedhere(covered) != NULL : rootvnode != NULL) {
		mutex_exit(&mountlist_lock);
		vrele(root);
		vflush(mp, NULL);
		vops->vfs_unmount(mp, MNT_FORCE);
		rw_destroy(&mp->mnt_nslock);
		kmem_free(mp, sizeof(*mp));
		if (covered)
			vrele(covered);
		return EBUSY;
	}
	mp->mnt_id = next_mnt_id++;
	mp->mnt_vnodecovered = covered;	/* keeps the reference */
	mp->mnt_next = mount_list;
	mount_list = mp;
	if (covered != NULL) {
		__atomic_store_n(&covered->v_mountedhere, mp, __ATOMIC_RELEASE);
		vrele(root);
	} else {
		rootvnode = root;	/* keeps the reference */
	}
	mutex_exit(&mountlist_lock);
	if (covered != NULL) {
		char *cwd = kmem_alloc(VFS_PATH_MAX, KM_SLEEP);
		if (vfs_getcwd(covered, cwd, VFS_PATH_MAX) == 0)
			strlcpy_k(mp->mnt_stat_on, cwd, sizeof(mp->mnt_stat_on));
		kmem_free(cwd, VFS_PATH_MAX);
	} else {
		strlcpy_k(mp->mnt_stat_on, "/", sizeof(mp->mnt_stat_on));
	}
	klog(LOG_INFO, "mounted %s on %s (%s%s)", mp->mnt_stat_from,
	    mp->mnt_stat_on, fstype, (mp->mnt_flag & MNT_RDONLY) ? ", ro" : "");
	return 0;
}

KRS_EXPORT int
krs_mount(const char *source, const char *target, const char *fstype,
    int flags, const void *data, size_t datalen)
{
	VFS_ENTER();
	int error = do_mount(source, target, fstype, flags, data, datalen);
	return error ? krs_fail(error) : 0;
}

static int
do_unmount(const char *target, int flags)
{
	struct nameidata nd = { .nd_dirfd = KRS_AT_FDCWD, .nd_path = target,
	    .nd_flags = NL_FOLLOW };
	struct mount *mp;
	struct vnode *vp;
	int error;

	if (kauth_cred_get()->cr_uid != 0)
		return EPERM;
	if ((error = namei(&nd)) != 0)
		return error;
	vp = nd.nd_vp;
	if (!vnode_is_mroot(vp)) {
		vrele(vp);
		return EINVAL;
	}
	mp = vp->v_mount;
	mutex_enter(&mountlist_lock);
	for (struct mount *o = mount_list; o; o = o->mnt_next) {
		if (o->mnt_vnodecovered && o->mnt_vnodecovered->v_mount == mp) {
			mutex_exit(&mountlist_lock);
			vrele(vp);
			return EBUSY;
		}
	}
	/*
	 * Detach from the name space first, so no new lookup can enter the
	 * mount; lookups already inside hold vnodes (vflush sees them) or
	 * mnt_refcnt (cross_mounts).  Restored if the mount turns out busy.
	 */
	bool isroot = rootvnode == vp;
	if (isroot)
		rootvnode = NULL;
	else if (mp->mnt_vnodecovered != NULL)
		__atomic_store_n(&mp->mnt_vnodecovered->v_mountedhere, NULL, __ATOMIC_RELEASE);
	mutex_exit(&mountlist_lock);
	if (isroot)
		vrele(vp);		/* rootvnode's reference */
	vrele(vp);
	if (__atomic_load_n(&mp->mnt_refcnt, __ATOMIC_ACQUIRE) != 0 ||
	    vflush(mp, NULL) != 0) {
		error = EBUSY;
		goto busy;
	}
	if ((error = mp->mnt_op->vfs_unmount(mp, flags)) != 0)
		goto busy;
	mutex_enter(&mountlist_lock);
	for (struct mount **pp = &mount_list; *pp; pp = &(*pp)->mnt_next) {
		if (*pp == mp) {
			*pp = mp->mnt_next;
			break;
		}
	}
	mutex_exit(&mountlist_lock);
	klog(LOG_INFO, "unmounted %s from %s", mp->mnt_stat_from, mp->mnt_stat_on);
	if (mp->mnt_vnodecovered)
		vrele(mp->mnt_vnodecovered);
	rw_destroy(&mp->mnt_nslock);
	kmem_free(mp, sizeof(*mp));
	return 0;
busy:
	if (isroot) {
		struct vnode *r;
		if (vfs_root_vnode(mp, &r) == 0) {
			mutex_enter(&mountlist_lock);
			rootvnode = r;
			mutex_exit(&mountlist_lock);
		}
	} else if (mp->mnt_vnodecovered != NULL) {
		mutex_enter(&mountlist_lock);
		__atomic_store_n(&mp->mnt_vnodecovered->v_mountedhere, mp, __ATOMIC_RELEASE);
		mutex_exit(&mountlist_lock);
	}
	return error;
}

KRS_EXPORT int
krs_unmount(const char *target, int flags)
{
	VFS_ENTER();
	int error = do_unmount(target, flags);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_statvfs(const char *path, struct krs_statvfs *sv)
{
	VFS_ENTER();
	struct nameidata nd = { .nd_dirfd = KRS_AT_FDCWD, .nd_path = path,
	    .nd_flags = NL_FOLLOW };
	int error = sv == NULL ? EFAULT : namei(&nd);
	if (error)
		return krs_fail(error);
	struct mount *mp = nd.nd_vp->v_mount;
	memset(sv, 0, sizeof(*sv));
	error = mp->mnt_op->vfs_statvfs(mp, sv);
	sv->f_fsid = mp->mnt_id;
	sv->f_flag = (mp->mnt_flag & MNT_RDONLY) ? KRS_MNT_RDONLY : 0;
	if (sv->f_namemax == 0)
		sv->f_namemax = VFS_NAME_MAX;
	strlcpy_k(sv->f_fstypename, mp->mnt_op->vfs_name, sizeof(sv->f_fstypename));
	strlcpy_k(sv->f_mntonname, mp->mnt_stat_on, sizeof(sv->f_mntonname));
	strlcpy_k(sv->f_mntfromname, mp->mnt_stat_from, sizeof(sv->f_mntfromname));
	vrele(nd.nd_vp);
	return error ? krs_fail(error) : 0;
}

KRS_EXPORT int
krs_mounts(struct krs_mntent *ents, size_t n)
{
	VFS_ENTER();
	if (ents == NULL && n > 0)
		return krs_fail(EFAULT);
	size_t i = 0;
	mutex_enter(&mountlist_lock);
	for (struct mount *mp = mount_list; mp; mp = mp->mnt_next, i++) {
		if (i >= n)
			continue;
		struct krs_mntent *e = &ents[i];
		memset(e, 0, sizeof(*e));
		e->mnt_id = mp->mnt_id;
		e->mnt_flag = (mp->mnt_flag & MNT_RDONLY) ? KRS_MNT_RDONLY : 0;
		strlcpy_k(e->mnt_fstype, mp->mnt_op->vfs_name, sizeof(e->mnt_fstype));
		strlcpy_k(e->mnt_on, mp->mnt_stat_on, sizeof(e->mnt_on));
		strlcpy_k(e->mnt_from, mp->mnt_stat_from, sizeof(e->mnt_from));
	}
	mutex_exit(&mountlist_lock);
	return i > INT32_MAX ? INT32_MAX : (int)i;
}

static const struct proc_vfs_hooks vfs_hooks = {
	.ph_fork = vfs_proc_fork,
	.ph_exit = vfs_proc_exit,
};

static int
vfs_init(void)
{
	int error;
	mutex_init(&mountlist_lock, MUTEX_DEFAULT, IPL_NONE);
	if ((error = rmtable_create(&vfs_types)) != 0)
		return error;
	vcache_init();
	fdlist_init();
	if ((error = vfs_init_proc0()) != 0)
		return error;
	proc_set_vfs_hooks(&vfs_hooks);
	__atomic_store_n(&vfs_up, true, __ATOMIC_RELEASE);
	return 0;
}

static void
vfs_fini(void)
{
	__atomic_store_n(&vfs_up, false, __ATOMIC_RELEASE);
	/* Close proc0's files and unmount everything, innermost first. */
	vfs_proc_exit(&proc0);
	vfs_init_proc0();
	for (;;) {
		mutex_enter(&mountlist_lock);
		struct mount *mp = mount_list;
		mutex_exit(&mountlist_lock);
		if (mp == NULL)
			break;
		if (do_unmount(mp->mnt_stat_on, MNT_FORCE) != 0) {
			klog(LOG_WARNING, "vfs: %s still busy at shutdown",
			    mp->mnt_stat_on);
			break;
		}
	}
	vfs_proc_exit(&proc0);
	proc_set_vfs_hooks(NULL);
	rmtable_destroy(vfs_types);
	vfs_types = NULL;
	fdlist_fini();
}

RUMPDRV_COMPONENT(vfs, "vfs", "", vfs_init, vfs_fini);
