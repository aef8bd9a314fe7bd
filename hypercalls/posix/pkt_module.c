/*
 * pkt_module.c - packet backends built apart from libkrank-hypercall and
 * loaded on their first open: the dpdk: backend (krank-pkt-dpdk.so),
 * whose DPDK libraries cost every process ~14 ms of start-up and ~260
 * page faults when linked in.  A static link carries it instead
 * (libkrank-pkt-dpdk.a, pulled in by krank.pc), found here through a weak
 * reference.
 *
 * Where the module is: beside the file this code runs from, the shared
 * library or, when a program links the library's archive (krank does,
 * to start faster), that program (/proc/self/exe, not argv[0]).  The
 * installed ones (in $(libdir) or $(bindir)) take it from $(pkglibdir);
 * any other copy from its own folder: the build tree's .libs, where
 * libtool puts the library and the module, or krank/, where the build
 * links the module beside krank.  No environment variable or search
 * path is consulted, so whoever can choose the module could already
 * choose the library or the program.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hyp_pkt_int.h"

#ifdef HAVE_DPDK
/* Defined when libkrank-pkt-dpdk.a is linked in (static links). */
extern const struct pkt_backend *krank_pkt_dpdk_init(
    const struct pkt_core *core) __attribute__((weak)) HIDDEN;

static const struct pkt_core pkt_core = {
	.abi = PKT_MODULE_ABI,
	.hyp_pkt_size = sizeof(struct hyp_pkt),
	.errtrans = rumpuser__errtrans,
	.unsched = rumpkern_unsched,
	.sched = rumpkern_sched,
	.dprintf = rumpuser_dprintf,
};

static pthread_mutex_t pkt_module_mtx = PTHREAD_MUTEX_INITIALIZER;
static const struct pkt_backend *pkt_dpdk_be;	/* under pkt_module_mtx */

static int
same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The path of module file: see the top of the file. */
static void
pkt_module_path(const char *file, char *buf, size_t len)
{
	Dl_info di;
	struct link_map *lm = NULL;
	char dir[PATH_MAX], exe[PATH_MAX];
	const char *obj, *slash;
	ssize_t n;

	if (dladdr1((void *)pkt_module_path, &di, (void **)&lm,
	    RTLD_DL_LINKMAP) == 0 || di.dli_fname == NULL)
		goto installed;
	obj = di.dli_fname;
	/* In the program itself: dladdr names it by argv[0]. */
	if (lm != NULL && lm->l_name != NULL && lm->l_name[0] == '\0') {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
			goto installed;
		exe[n] = '\0';
		obj = exe;
	}
	if ((slash = strrchr(obj, '/')) == NULL ||
	    (size_t)(slash - obj) >= sizeof(dir))
		goto installed;
	memcpy(dir, obj, (size_t)(slash - obj));
	dir[slash - obj] = '\0';
	if (dir[0] == '\0' || same_dir(dir, KRANK_LIBDIR) ||
	    same_dir(dir, KRANK_BINDIR))
		goto installed;
	snprintf(buf, len, "%s/%s", dir, file);
	return;
installed:
	snprintf(buf, len, "%s/%s", KRANK_PKGLIBDIR, file);
}

static int
pkt_dpdk_load(void)
{
	char path[PATH_MAX];

	if (krank_pkt_dpdk_init != NULL) {
		pkt_dpdk_be = krank_pkt_dpdk_init(&pkt_core);
		return pkt_dpdk_be != NULL ? 0 : NB_ENOENT;
	}
	pkt_module_path(PKT_DPDK_MODULE, path, sizeof(path));
	/* Never closed: DPDK's EAL cannot be unloaded. */
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		rumpuser_dprintf("krank-hypercall: dpdk: cannot load the DPDK "
		    "packet backend %s: %s\n", path, dlerror());
		return NB_ENOENT;
	}
	const struct pkt_backend *(*init)(const struct pkt_core *);
	*(void **)&init = dlsym(h, PKT_DPDK_INIT);
	if (init == NULL) {
		rumpuser_dprintf("krank-hypercall: dpdk: %s is not a KRANK "
		    "packet backend: %s\n", path, dlerror());
		dlclose(h);
		return NB_ENOENT;
	}
	if ((pkt_dpdk_be = init(&pkt_core)) == NULL) {
		rumpuser_dprintf("krank-hypercall: dpdk: %s was built for "
		    "another version of libkrank-hypercall (module ABI %u "
		    "wanted)\n", path, PKT_MODULE_ABI);
		/* Its DPDK constructors ran: not unloaded either. */
		return NB_ENOENT;
	}
	return 0;
}
#endif

int
pkt_module_backend(const char *prefix, const struct pkt_backend **bep)
{
#ifdef HAVE_DPDK
	int rv = 0;

	if (strcmp(prefix, "dpdk") != 0)
		return NB_EINVAL;
	pthread_mutex_lock(&pkt_module_mtx);
	if (pkt_dpdk_be == NULL)
		rv = pkt_dpdk_load();
	*bep = pkt_dpdk_be;
	pthread_mutex_unlock(&pkt_module_mtx);
	return rv;
#else
	(void)prefix;
	(void)bep;
	return NB_EINVAL;
#endif
}
