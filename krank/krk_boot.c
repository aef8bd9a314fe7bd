/*
 * krk_boot.c - `krank run`: take the node's resources for a deployment
 * (cores, memory, interfaces, disks), boot exactly the listed components,
 * mount, bring interfaces up, start the control socket and the isolates,
 * print the boot report and "ready", and tear it all down on SIGTERM.
 * Everything that could not be taken is said, with why, in the report.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include <krank/hyp.h>
#include <krank/krs.h>
#include "net/krs_net.h"

#include <krank/krs_hostnet.h>
#include "krk.h"
#include "krk_attach.h"
#include "krk_foreign.h"

struct krk_node krk_node;
uint64_t krk_start_ns;

#define REPORT_MAX 64

/* The boot report: lines kept until "ready", then printed together, each
 * with the time since krank started when that step was done; with -vv
 * also the process's CPU time and page faults so far (two more system
 * calls a line), to see where boot's work goes. */
static char *report[REPORT_MAX];
static uint64_t report_ns[REPORT_MAX];
static uint64_t report_cpu[REPORT_MAX];
static long report_faults[REPORT_MAX];
static int nreport;
static uint64_t boot_t0;
static bool report_costs;

static uint64_t mono_ns(void);
static uint64_t cpu_ns(void);
static long page_faults(void);

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	krk_log(KRK_LOG_DEBUG, "%s", s);
	if (nreport < REPORT_MAX) {
		report_ns[nreport] = mono_ns() - boot_t0;
		if (report_costs) {
			report_cpu[nreport] = cpu_ns();
			report_faults[nreport] = page_faults();
		}
		report[nreport++] = s;
	} else
		free(s);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of all of krank's threads: with the elapsed time it tells
 * boot's own work from waiting for a core shared with other programs. */
static uint64_t
cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Minor and major page faults of the whole process so far: on a VM each
 * costs tens of microseconds, and their count does not depend on what
 * else runs on the machine. */
static long
page_faults(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt + ru.ru_majflt :
	    0;
}

static int
write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rv = 0;
	if (fd < 0)
		return errno;
	if (write(fd, val, strlen(val)) < 0)
		rv = errno;
	close(fd);
	return rv;
}

static int
read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static void
cores_string(const struct krk_config *cfg, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < cfg->ncores && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d",
		    i ? "," : "", cfg->cores[i]);
}

/*
 * A KRANK that died without tearing down leaves an empty partition that
 * still holds its cores away from Linux: remove those (krank-PID whose
 * process is gone).
 */
static void
remove_stale_partitions(void)
{
	char path[320], dir[300];
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		long pid;
		if (strncmp(e->d_name, "krank-", 6) != 0 ||
		    (pid = atol(e->d_name + 6)) <= 0 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld", pid);
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s", e->d_name);
		if (access(path, F_OK) != 0 && rmdir(dir) == 0)
			krk_log(KRK_LOG_WARN, "removed the stale cpuset partition "
			    "%s of a KRANK that is gone", dir);
	}
	closedir(d);
}

/*
 * Cores: a cgroup v2 cpuset partition of KRANK's own (so Linux's other
 * tasks leave those cores), else CPU affinity only.  Either way every
 * KRANK thread is confined to the deployment's cores; isolate threads are
 * pinned to their own core in krk_isolate.c.
 */
static int
take_cores(const struct krk_config *cfg, char *err, size_t errlen)
{
	char cores[1024], buf[64], dir[128], path[192];
	cpu_set_t set;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	int rv;

	cores_string(cfg, cores, sizeof(cores));
	CPU_ZERO(&set);
	for (unsigned i = 0; i < cfg->ncores; i++) {
		if (cfg->cores[i] >= ncpu) {
			snprintf(err, errlen, "core %d: this machine has cores "
			    "0-%ld only", cfg->cores[i], ncpu - 1);
			return EINVAL;
		}
		CPU_SET(cfg->cores[i], &set);
	}

	krk_node.cores_isolated = false;
	remove_stale_partitions();
	if (read_file("/sys/fs/cgroup/cgroup.controllers", buf,
	    sizeof(buf)) != 0) {
		if (access("/sys/fs/cgroup/cpuset/cpuset.cpus", F_OK) == 0)
			snprintf(krk_node.cores_note,
			    sizeof(krk_node.cores_note), "not isolated: this "
			    "host mounts cgroup v1 (the cpuset controller is at "
			    "/sys/fs/cgroup/cpuset); cpuset partitions need the "
			    "unified cgroup v2 hierarchy "
			    "(systemd.unified_cgroup_hierarchy=1)");
		else
			snprintf(krk_node.cores_note,
			    sizeof(krk_node.cores_note), "not isolated: no "
			    "cgroup v2 hierarchy at /sys/fs/cgroup");
	} else if (strstr(buf, "cpuset") == NULL) {
		snprintf(krk_node.cores_note, sizeof(krk_node.cores_note),
		    "not isolated: cpuset controller not available in "
		    "/sys/fs/cgroup/cgroup.controllers");
	} else {
		read_file("/sys/fs/cgroup/cgroup.subtree_control", buf,
		    sizeof(buf));
		if (strstr(buf, "cpuset") == NULL &&
		    write_file("/sys/fs/cgroup/cgroup.subtree_control",
		    "+cpuset") != 0) {
			snprintf(krk_node.cores_note,
			    sizeof(krk_node.cores_note), "not isolated: cpuset "
			    "controller not enabled in /sys/fs/cgroup/cgroup."
			    "subtree_control (and enabling it failed)");
		} else {
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/krank-%d",
			    (int)getpid());
			if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
				rv = errno;
				snprintf(krk_node.cores_note,
				    sizeof(krk_node.cores_note), "not isolated: "
				    "mkdir %s: %s", dir, strerror(rv));
			} else {
				snprintf(krk_node.cgroup, sizeof(krk_node.cgroup),
				    "%s", dir);
				snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
				rv = write_file(path, cores);
				snprintf(path, sizeof(path),
				    "%s/cpuset.cpus.partition", dir);
				if (rv == 0 && write_file(path, "isolated") != 0 &&
				    write_file(path, "root") != 0)
					rv = -1;
				if (rv == 0) {
					read_file(path, buf, sizeof(buf));
					if (strncmp(buf, "root", 4) != 0 &&
					    strncmp(buf, "isolated", 8) != 0)
						rv = -1;
				}
				snprintf(path, sizeof(path), "%s/cgroup.procs",
				    dir);
				if (rv == 0 && write_file(path, "0") != 0)
					rv = -1;
				if (rv == 0) {
					krk_node.cores_isolated = true;
					snprintf(krk_node.cores_note,
					    sizeof(krk_node.cores_note),
					    "isolated: cpuset partition %s (%s)",
					    dir, buf);
				} else {
					snprintf(krk_node.cores_note,
					    sizeof(krk_node.cores_note),
					    "not isolated: the kernel refused a "
					    "cpuset partition at %s (%s: %s)", dir,
					    "cpuset.cpus.partition", buf[0] ? buf :
					    "invalid");
					rmdir(dir);
					krk_node.cgroup[0] = '\0';
				}
			}
		}
	}
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		rv = errno;
		snprintf(err, errlen, "cores %s: cannot pin KRANK to them: %s",
		    cores, strerror(rv));
		return rv;
	}
	say("cores %s: %s; KRANK's threads pinned to them%s", cores,
	    krk_node.cores_note, krk_node.cores_isolated ? "" :
	    " by affinity");
	if (cfg->sched_fifo) {
		char rt[64] = "";
		read_file("/proc/sys/kernel/sched_rt_runtime_us", rt, sizeof(rt));
		if (strcmp(rt, "-1") == 0) {
			snprintf(err, errlen, "realtime.sched_fifo: refused: "
			    "/proc/sys/kernel/sched_rt_runtime_us is -1, so a "
			    "spinning isolate could starve the node (set it "
			    "to 950000, the default)");
			return EPERM;
		}
		say("isolate threads: SCHED_FIFO priority %d; safety valve: the "
		    "kernel's RT throttling (sched_rt_runtime_us %s of 1000000)",
		    cfg->fifo_priority, rt);
	}
	return 0;
}

/* A "Key: N kB" line of a /proc file, in bytes; 0 when absent. */
static uint64_t
proc_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p == NULL ? 0 : strtoull(p + strlen(key), NULL, 10) * 1024;
}

/*
 * The kernel's heap (kmem, so mbufs and clusters, the buffer cache) and
 * the packet receive pools from 2 MiB huge pages: one MAP_HUGETLB region
 * handed to the hypercall layer before the components boot.  MAP_HUGETLB
 * needs free pages of the default size (vm.nr_hugepages), not a hugetlbfs
 * mount.  Its size: the budget less the isolates' heaps (they take huge
 * pages of their own when left), at least 2 MiB, at most what is free.
 * On failure err says why and huge_note is the report's reason.
 */
static int
take_huge_heap(const struct krk_config *cfg, char *err, size_t errlen)
{
	const uint64_t page = 2ull << 20;
	char meminfo[4096] = "";
	uint64_t want = cfg->mem_size, have, pgsz;
	int rv;

	for (size_t i = 0; i < cfg->nisolates; i++)
		want = want > cfg->isolates[i].heap ? want -
		    cfg->isolates[i].heap : 0;
	want &= ~(page - 1);
	if (want < page)
		want = page;
	read_file("/proc/meminfo", meminfo, sizeof(meminfo));
	pgsz = proc_kb(meminfo, "Hugepagesize:");
	have = (proc_kb(meminfo, "HugePages_Free:") / 1024 -
	    proc_kb(meminfo, "HugePages_Rsvd:") / 1024) * pgsz;
	if (proc_kb(meminfo, "HugePages_Rsvd:") >
	    proc_kb(meminfo, "HugePages_Free:"))
		have = 0;
	if (pgsz != page) {
		snprintf(err, errlen, "the default huge page size is %" PRIu64
		    " kB; KRANK uses 2048 kB pages", pgsz >> 10);
		return ENOTSUP;
	}
	if (have < page) {
		snprintf(err, errlen, "no free huge pages (HugePages_Free %"
		    PRIu64 ", %" PRIu64 " reserved; set vm.nr_hugepages)",
		    proc_kb(meminfo, "HugePages_Free:") / 1024,
		    proc_kb(meminfo, "HugePages_Rsvd:") / 1024);
		return ENOMEM;
	}
	krk_node.huge_want = want;
	if (want > have)
		want = have;
	if ((rv = hyp_heap_huge_init((size_t)want)) != 0) {
		snprintf(err, errlen, "mapping %" PRIu64 " MiB of huge pages: %s",
		    want >> 20, strerror(rv));
		return rv;
	}
	krk_node.huge_heap = want;
	return 0;
}

static int
take_memory(const struct krk_config *cfg, char *err, size_t errlen)
{
	char why[256] = "";
	int rv = 0;

	krk_node.mem_locked = false;
	if (cfg->mlock) {
		if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0)
			krk_node.mem_locked = true;
		else {
			struct rlimit rl;
			getrlimit(RLIMIT_MEMLOCK, &rl);
			say("memory: not locked: mlockall: %s (RLIMIT_MEMLOCK "
			    "%llu bytes)", strerror(errno),
			    (unsigned long long)rl.rlim_cur);
		}
	}
	/* After mlockall(MCL_CURRENT), which would fault in the huge
	 * pages of a mapping already there (hyp_heap.c says more). */
	if (cfg->hugepages == KRK_HUGE_NO)
		snprintf(why, sizeof(why), "the deployment says no");
	else if ((rv = take_huge_heap(cfg, why, sizeof(why))) != 0 &&
	    cfg->hugepages == KRK_HUGE_YES) {
		snprintf(err, errlen, "memory.hugepages is yes, but huge pages "
		    "cannot be had: %s", why);
		return rv;
	}
	krk_node.huge = krk_node.huge_heap != 0;
	if (krk_node.huge)
		say("memory: budget %" PRIu64 " MiB%s; hugepages yes: kernel "
		    "heap and packet buffers from %" PRIu64 " MiB of 2 MiB "
		    "pages%s%s%s, isolate heaps from huge pages while free",
		    cfg->mem_size >> 20, krk_node.mem_locked ? ", locked "
		    "(mlockall, on fault)" : "", krk_node.huge_heap >> 20,
		    krk_node.huge_heap < krk_node.huge_want ? " (of " : "",
		    krk_node.huge_heap < krk_node.huge_want ? "wanted " : "",
		    krk_node.huge_heap < krk_node.huge_want ? "more: no more "
		    "free; the rest from 4 KiB pages)" : "");
	else
		say("memory: budget %" PRIu64 " MiB%s; hugepages no: %s; "
		    "kernel heap, packet buffers and isolate heaps from 4 KiB "
		    "pages", cfg->mem_size >> 20, krk_node.mem_locked ?
		    ", locked (mlockall, on fault)" : "", why);
	/* Before any isolate: their code and data come from it. */
	krk_pool_defer_fill(true);	/* the rest after ready */
	{
		/* Fault in now what the boot's isolates take, by their
		 * files' sizes (their code and data, near enough): each
		 * page costs tens of microseconds on a VM. */
		uint64_t bytes = 0;
		struct stat st;
		for (size_t i = 0; i < cfg->nisolates; i++)
			if (stat(cfg->isolates[i].elf, &st) == 0)
				bytes += (uint64_t)st.st_size;
		krk_pool_sync_hint(bytes, (unsigned)cfg->nisolates);
	}
	int e = krk_pool_init(cfg->isolate_pool, cfg->hugepages == KRK_HUGE_YES);
	if (e != 0)
		say("memory: isolate pool of %" PRIu64 " KiB not set up (%s); "
		    "isolates get fresh pages", cfg->isolate_pool >> 10,
		    strerror(e));
	else
		say("memory: %s", krk_pool_note());
	return 0;
}

/* Linux's side of a tap: address and link up, by ioctl on the host. */
static int
host_side(const char *ifname, const char *cidr, char *err, size_t errlen)
{
	char a[32];
	const char *slash = strchr(cidr, '/');
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s, rv = 0;
	unsigned prefix;

	if (slash == NULL || (size_t)(slash - cidr) >= sizeof(a))
		return EINVAL;
	memcpy(a, cidr, (size_t)(slash - cidr));
	a[slash - cidr] = '\0';
	prefix = (unsigned)atoi(slash + 1);
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, a, &sin->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) != 0)
		rv = errno;
	sin->sin_addr.s_addr = htonl(prefix ? ~0u << (32 - prefix) : 0);
	if (rv == 0 && ioctl(s, SIOCSIFNETMASK, &ifr) != 0)
		rv = errno;
	if (rv == 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
			rv = errno;
	}
	close(s);
	if (rv != 0)
		snprintf(err, errlen, "interface %s: Linux's side %s: %s", ifname,
		    cidr, strerror(rv));
	return rv;
}

/*
 * Taps are Linux's work: creating one (TUNSETIFF) and configuring Linux's
 * side are system calls that also wait for the kernel's network lock,
 * which other programs' network changes hold.  A thread does them while
 * the components boot and the disks mount; the taps are then handed to
 * the packet layer (krs_if_virt_adopt_tap) and KRANK's side comes up as
 * before.  The thread inherits the deployment's cores.
 */
static struct {
	pthread_t thread;
	bool started;
	int *fds;			/* per interface: tap, or -1 */
	bool *host_done;		/* per interface: Linux's side is up */
	int rv;
	char err[512];
} taps;

static void *
taps_run(void *arg)
{
	const struct krk_config *cfg = arg;

	for (size_t i = 0; i < cfg->nifaces && taps.rv == 0; i++) {
		const struct krk_iface_cfg *ic = &cfg->ifaces[i];
		struct ifreq ifr;
		int fd;

		if (ic->backend != KRK_BE_TAP)
			continue;
		if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK |
		    O_CLOEXEC)) < 0) {
			/* The packet layer tries again and says why. */
			continue;
		}
		memset(&ifr, 0, sizeof(ifr));
		/* With a virtio-net header, so the packet layer can offload
		 * checksums and segmentation to Linux (pkt_tap.c). */
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ic->device);
		if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
			close(fd);
			continue;
		}
		taps.fds[i] = fd;
		if (ic->host_address) {
			taps.rv = host_side(ic->device, ic->host_address,
			    taps.err, sizeof(taps.err));
			taps.host_done[i] = taps.rv == 0;
		}
	}
	return NULL;
}

static void
taps_start(const struct krk_config *cfg)
{
	memset(&taps, 0, sizeof(taps));
	if (cfg->nifaces == 0)
		return;
	taps.fds = malloc(cfg->nifaces * sizeof(*taps.fds));
	taps.host_done = calloc(cfg->nifaces, sizeof(*taps.host_done));
	if (taps.fds == NULL || taps.host_done == NULL)
		return;			/* take_interfaces does it all */
	for (size_t i = 0; i < cfg->nifaces; i++)
		taps.fds[i] = -1;
	taps.started = pthread_create(&taps.thread, NULL, taps_run,
	    (void *)cfg) == 0;
}

/* Wait for the thread; with close_all, also close what it made. */
static void
taps_join(const struct krk_config *cfg, bool close_all)
{
	if (taps.started) {
		pthread_join(taps.thread, NULL);
		taps.started = false;
	}
	for (size_t i = 0; taps.fds != NULL && i < cfg->nifaces; i++) {
		if (close_all && taps.fds[i] >= 0) {
			close(taps.fds[i]);
			taps.fds[i] = -1;
		}
	}
}

static void
taps_free(void)
{
	free(taps.fds);
	free(taps.host_done);
	taps.fds = NULL;
	taps.host_done = NULL;
}

static int
take_interfaces(const struct krk_config *cfg, char *err, size_t errlen)
{
	static const char *const be[] = { "tap", "afpacket", "wire", "dpdk" };

	taps_join(cfg, taps.rv != 0);
	if (taps.rv != 0) {
		snprintf(err, errlen, "%s", taps.err);
		return taps.rv;
	}
	for (size_t i = 0; i < cfg->nifaces; i++) {
		const struct krk_iface_cfg *ic = &cfg->ifaces[i];
		char spec[256], name[32], mac[40] = "";
		bool host_done = taps.host_done && taps.host_done[i];
		int rv;

		if (taps.fds != NULL && taps.fds[i] >= 0) {
			if (krs_if_virt_adopt_tap(ic->device, taps.fds[i]) != 0) {
				/* Not taken: the packet layer makes the tap
				 * anew, so Linux's side too. */
				close(taps.fds[i]);
				host_done = false;
			}
			taps.fds[i] = -1;
		}

		if (ic->has_mac)
			snprintf(mac, sizeof(mac), ",mac=%02x:%02x:%02x:%02x:%02x:"
			    "%02x", ic->mac[0], ic->mac[1], ic->mac[2],
			    ic->mac[3], ic->mac[4], ic->mac[5]);
		/* Host interfaces keep their own MTU; the wire takes it. */
		char mtu[24] = "";
		if (ic->backend == KRK_BE_WIRE && ic->mtu)
			snprintf(mtu, sizeof(mtu), ",mtu=%u", ic->mtu);
		char queues[24] = "";
		if (ic->queues)
			snprintf(queues, sizeof(queues), ",queues=%u", ic->queues);
		snprintf(spec, sizeof(spec), "%s:%s%s%s%s", be[ic->backend],
		    ic->device, mac, mtu, queues);
		if (krs_if_virt_attach(spec, name, sizeof(name)) != 0) {
			rv = errno;
			snprintf(err, errlen, "interface %s: %s: %s%s", ic->name,
			    spec, strerror(rv), rv == EPERM || rv == EACCES ?
			    " (run krank as root or with CAP_NET_ADMIN)" : "");
			return rv;
		}
		if (krs_if_rename(name, ic->name) != 0) {
			rv = errno;
			snprintf(err, errlen, "interface %s: naming %s: %s",
			    ic->name, name, strerror(rv));
			return rv;
		}
		snprintf(name, sizeof(name), "%s", ic->name);
		/* Linux's side first: a tap is down until it is brought up,
		 * and what KRANK sends on it before -- the announcement of
		 * its address when its side comes up -- is refused (EIO). */
		if (ic->host_address && !host_done && (rv = host_side(ic->device,
		    ic->host_address, err, errlen)) != 0)
			return rv;
		if (krs_if_setaddr(name, ic->address) != 0 ||
		    (ic->mtu && krs_if_setmtu(name, ic->mtu) != 0) ||
		    krs_if_up(name, 1) != 0 ||
		    (ic->gateway && krs_route_add("0.0.0.0/0", ic->gateway,
		    name) != 0)) {
			rv = errno;
			snprintf(err, errlen, "interface %s: configuring %s %s: %s",
			    ic->name, name, ic->address, strerror(rv));
			return rv;
		}
		say("interface %s: %s %s, %s, mtu %u%s%s%s%s", ic->name,
		    be[ic->backend], ic->device, ic->address,
		    ic->mtu ? ic->mtu : 1500,
		    ic->gateway ? ", gateway " : "",
		    ic->gateway ? ic->gateway : "",
		    ic->host_address ? "; Linux's side " : "",
		    ic->host_address ? ic->host_address : "");
	}
	return 0;
}

/* mkdir -p inside KRANK's VFS, iteratively. */
static int
vfs_mkdirs(const char *path)
{
	char buf[1024];
	size_t n = strlen(path);
	if (n >= sizeof(buf))
		return ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (krs_mkdir(buf, 0755) != 0 && errno != EEXIST)
			return errno;
		buf[i] = c;
	}
	return 0;
}

static bool
has_root_mount(const struct krk_config *cfg)
{
	for (size_t i = 0; i < cfg->ntmpfs; i++)
		if (strcmp(cfg->tmpfs[i].mount, "/") == 0)
			return true;
	for (size_t i = 0; i < cfg->ndisks; i++)
		if (strcmp(cfg->disks[i].mount, "/") == 0)
			return true;
	for (size_t i = 0; i < cfg->nhostfs; i++)
		if (strcmp(cfg->hostfs[i].mount, "/") == 0)
			return true;
	return false;
}

static bool
has_component(const struct krk_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ncomponents; i++)
		if (strcmp(cfg->components[i], name) == 0)
			return true;
	return false;
}

static int
mount_tmpfs(const char *at, uint64_t size, char *err, size_t errlen)
{
	char data[64];
	int rv;
	snprintf(data, sizeof(data), "size=%" PRIu64, size);
	if (strcmp(at, "/") != 0 && (rv = vfs_mkdirs(at)) != 0) {
		snprintf(err, errlen, "tmpfs %s: mount point: %s", at,
		    strerror(rv));
		return rv;
	}
	if (krs_mount("tmpfs", at, "tmpfs", 0, data, strlen(data)) != 0) {
		rv = errno;
		snprintf(err, errlen, "tmpfs %s: %s", at, strerror(rv));
		return rv;
	}
	return 0;
}

/* A host directory through hostfs (docs/hostfs.md): confined to it,
 * read-only with host descriptors opened O_RDONLY when asked. */
static int
mount_hostfs(const struct krk_hostfs_cfg *h, char *err, size_t errlen)
{
	const char *opt = h->cross_mounts ? "xdev" : "";
	int rv;

	if (strcmp(h->mount, "/") != 0 && (rv = vfs_mkdirs(h->mount)) != 0) {
		snprintf(err, errlen, "hostfs %s: mount point: %s", h->mount,
		    strerror(rv));
		return rv;
	}
	if (krs_mount(h->path, h->mount, "hostfs", h->readonly ?
	    KRS_MNT_RDONLY : 0, opt, strlen(opt)) != 0) {
		rv = errno;
		snprintf(err, errlen, "hostfs %s: %s: %s%s", h->mount, h->path,
		    strerror(rv), rv == ENODEV ? " (list hostfs in components)"
		    : rv == ENOTDIR ? " (not a directory)" : "");
		return rv;
	}
	say("hostfs %s: host directory %s%s%s", h->mount, h->path,
	    h->readonly ? ", read-only" : "",
	    h->cross_mounts ? ", crossing mounts" : "");
	return 0;
}

/* A disk is opened (and locked) here and held until shutdown, so that a
 * second KRANK -- or a mount by Linux of a block device -- is refused. */
static int disk_fds[64];

/* The name of the host file system that holds path, for a report. */
static const char *
host_fs_name(const char *path)
{
	struct statfs sf;
	if (statfs(path, &sf) != 0)
		return "unknown";
	switch ((unsigned long)sf.f_type) {
	case TMPFS_MAGIC: return "tmpfs";
	case RAMFS_MAGIC: return "ramfs";
	case 0x65735546UL: return "fuse";
	case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
	case NFS_SUPER_MAGIC: return "nfs";
	case EXT4_SUPER_MAGIC: return "ext2/3/4";
	case XFS_SUPER_MAGIC: return "xfs";
	case BTRFS_SUPER_MAGIC: return "btrfs";
	default: return "this file system";
	}
}

static int
mount_disk(size_t i, const struct krk_disk_cfg *dc, char *err, size_t errlen)
{
	struct stat st;
	char how[192];
	int fd, rv, acc;

	if (stat(dc->path, &st) != 0) {
		rv = errno;
		snprintf(err, errlen, "disk %s: %s", dc->path, strerror(rv));
		return rv;
	}
	acc = (dc->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC |
	    (S_ISBLK(st.st_mode) ? O_EXCL : 0);
	/*
	 * O_DIRECT where the host's file system allows it: the image's
	 * blocks are cached once, in KRANK's buffer cache, not a second
	 * time in Linux's page cache (and writes reach the disk when KRANK
	 * writes them back).  This descriptor is the probe (and the lock);
	 * the block device gets its own and goes direct when told "direct".
	 */
	fd = open(dc->path, acc | O_DIRECT);
	if (fd >= 0)
		snprintf(how, sizeof(how), "O_DIRECT");
	else if (errno == EINVAL) {
		snprintf(how, sizeof(how), "through Linux's page cache: %s "
		    "refuses O_DIRECT", host_fs_name(dc->path));
		fd = open(dc->path, acc);
	}
	if (fd < 0) {
		rv = errno;
		snprintf(err, errlen, "disk %s: %s%s", dc->path, strerror(rv),
		    rv == EBUSY ? " (the block device is in use by Linux: "
		    "mounted or claimed)" : "");
		return rv;
	}
	/* Exclusive even when read-only: one KRANK per disk. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rv = errno;
		close(fd);
		snprintf(err, errlen, "disk %s: in use by another process (it "
		    "holds a lock on it: another KRANK?)", dc->path);
		return rv == EWOULDBLOCK ? EBUSY : rv;
	}
	if (i < sizeof(disk_fds) / sizeof(disk_fds[0]))
		disk_fds[i] = fd + 1;
	if (strcmp(dc->mount, "/") != 0 && (rv = vfs_mkdirs(dc->mount)) != 0) {
		snprintf(err, errlen, "disk %s: mount point %s: %s", dc->path,
		    dc->mount, strerror(rv));
		return rv;
	}
	/* Only ext2 reads disks today; it takes "direct". */
	bool direct = strcmp(how, "O_DIRECT") == 0;
	if (direct && strcmp(dc->fs, "ext2") != 0) {
		direct = false;
		snprintf(how, sizeof(how), "through Linux's page cache: %s has "
		    "no direct mode", dc->fs);
	}
	if (krs_mount(dc->path, dc->mount, dc->fs,
	    dc->readonly ? KRS_MNT_RDONLY : 0, direct ? "direct" : NULL,
	    direct ? 6 : 0) != 0) {
		rv = errno;
		snprintf(err, errlen, "disk %s: mount %s on %s: %s", dc->path,
		    dc->fs, dc->mount, strerror(rv));
		return rv;
	}
	say("disk %s: %s on %s%s, %s, locked against other users", dc->path,
	    dc->fs, dc->mount, dc->readonly ? " read-only" : "", how);
	return 0;
}

static int
take_filesystems(const struct krk_config *cfg, char *err, size_t errlen)
{
	int rv;

	if (!has_component(cfg, "vfs"))
		return 0;
	if (!has_root_mount(cfg)) {
		if (!has_component(cfg, "tmpfs")) {
			snprintf(err, errlen, "no root file system: list tmpfs "
			    "in components (KRANK then mounts one at /) or mount "
			    "a disk or tmpfs at /");
			return EINVAL;
		}
		if ((rv = mount_tmpfs("/", 16ull << 20, err, errlen)) != 0)
			return rv;
		say("tmpfs /: 16 MiB (the default root)");
	}
	/* Shallow mount points first, so "/" comes before "/a/b". */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < cfg->ntmpfs; i++) {
			const struct krk_tmpfs_cfg *t = &cfg->tmpfs[i];
			if ((strcmp(t->mount, "/") == 0) != (pass == 0))
				continue;
			if ((rv = mount_tmpfs(t->mount, t->size, err, errlen)))
				return rv;
			say("tmpfs %s: %" PRIu64 " MiB", t->mount, t->size >> 20);
		}
		for (size_t i = 0; i < cfg->ndisks; i++) {
			if ((strcmp(cfg->disks[i].mount, "/") == 0) != (pass == 0))
				continue;
			if ((rv = mount_disk(i, &cfg->disks[i], err, errlen)))
				return rv;
		}
		for (size_t i = 0; i < cfg->nhostfs; i++) {
			if ((strcmp(cfg->hostfs[i].mount, "/") == 0) != (pass == 0))
				continue;
			if ((rv = mount_hostfs(&cfg->hostfs[i], err, errlen)))
				return rv;
		}
	}
	return 0;
}

/* Resident memory: VmRSS, which leaves huge pages out, plus the huge
 * pages faulted in (HugetlbPages), which *hugep gets alone. */
static uint64_t
rss_bytes(uint64_t *hugep)
{
	char buf[4096];
	if (read_file("/proc/self/status", buf, sizeof(buf)) != 0)
		return 0;
	*hugep = proc_kb(buf, "HugetlbPages:");
	return proc_kb(buf, "VmRSS:") + *hugep;
}

static char *
component_list(const struct krk_config *cfg)
{
	size_t len = 1;
	for (size_t i = 0; i < cfg->ncomponents; i++)
		len += strlen(cfg->components[i]) + 1;
	char *s = calloc(1, len);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->ncomponents; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, cfg->components[i]);
	}
	return s;
}

int
krk_check_components(const struct krk_config *cfg, char *order,
    size_t orderlen, char *err, size_t errlen)
{
	char msg[256];
	char *list = component_list(cfg);
	int rv;
	if (list == NULL)
		return ENOMEM;
	rv = krs_boot_check(list, order, orderlen, msg, sizeof(msg)) == 0 ? 0 :
	    errno;
	free(list);
	if (rv == 0)
		return 0;
	/* Point at the component the message names, else at the key. */
	struct krk_loc loc = cfg->components_loc;
	for (size_t i = 0; i < cfg->ncomponents; i++) {
		const char *n = cfg->components[i];
		const char *hit = strstr(msg, n);
		size_t nl = strlen(n);
		if (hit && (hit == msg || hit[-1] == ' ') &&
		    (hit[nl] == '\0' || hit[nl] == ' ' || hit[nl] == ',')) {
			loc = cfg->component_locs[i];
			break;
		}
	}
	if (rv == ENOENT) {
		/* Say what this krank has, not how to link it. */
		const char *names[64];
		size_t n = krs_components(names, NULL, 64), off;
		char *paren = strstr(msg, " (not linked in");
		if (paren)
			*paren = '\0';
		off = strlen(msg);
		off += (size_t)snprintf(msg + off, sizeof(msg) - off,
		    " (this krank has:");	/* off < sizeof(msg): strlen */
		for (size_t i = 0; i < n && i < 64 && off < sizeof(msg); i++)
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    " %s", names[i]);
		if (off < sizeof(msg))
			snprintf(msg + off, sizeof(msg) - off, ")");
	}
	snprintf(err, errlen, "%s:%u:%u: components: %s", cfg->path, loc.line,
	    loc.col, msg);
	return rv;
}

/*
 * systemd's readiness protocol (sd_notify(3)): one datagram of
 * "KEY=VALUE" lines to the socket named by $NOTIFY_SOCKET, a path or, with
 * a leading '@', an abstract name.  It is this small, and systemd
 * documents it as stable, so krank speaks it itself rather than linking
 * libsystemd.  Without $NOTIFY_SOCKET (not started by systemd with
 * Type=notify) it does nothing; a failure to send is not krank's failure.
 */
static void
notify_systemd(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		krk_log(KRK_LOG_DEBUG, "systemd notification to %s: %s", path,
		    strerror(errno));
	close(fd);
}

/* hostnet: install the allow list (checked by the parser already) and
 * the socket limit; say what isolates may reach on the host. */
static int
take_hostnet(const struct krk_config *cfg, char *err, size_t errlen)
{
	if (!has_component(cfg, "hostnet"))
		return 0;
	if ((cfg->hostnet_max != 0 &&
	    krs_hostnet_set_max(cfg->hostnet_max) != 0) ||
	    krs_hostnet_allow((const char *const *)cfg->hostnet_allow,
	    cfg->nhostnet_allow) != 0) {
		int e = errno;
		snprintf(err, errlen, "%s:%u:%u: hostnet: %s", cfg->path,
		    cfg->hostnet_loc.line, cfg->hostnet_loc.col, strerror(e));
		return e;
	}
	if (cfg->nhostnet_allow == 0)
		say("hostnet: no destinations allowed (hostnet.allow is empty)");
	for (size_t i = 0; i < cfg->nhostnet_allow; i++)
		say("hostnet: isolates may reach %s on the host",
		    cfg->hostnet_allow[i]);
	return 0;
}

int
krk_run(struct krk_config *cfg, int verbosity)
{
	/* From the process's start when known: its CPU time too (the
	 * task's, which an exec keeps, from when it was created). */
	uint64_t t0 = krk_start_ns ? krk_start_ns : mono_ns(),
	    cpu0 = krk_start_ns ? 0 : cpu_ns();
	char err[512] = "", order[512];

	boot_t0 = t0;
	report_costs = verbosity >= KRK_LOG_DEBUG;
	int rv, stop_signal = 0;

	krk_node.cfg = cfg;
	if ((rv = krk_log_init(cfg->log_size, verbosity)) != 0) {
		fprintf(stderr, "krank: log ring of %" PRIu64 " bytes: %s\n",
		    cfg->log_size, strerror(rv));
		return 1;
	}
	if ((rv = krk_check_components(cfg, order, sizeof(order), err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "krank: %s\n", err);
		return 1;
	}
	/*
	 * SIGTERM, SIGINT and SIGHUP are for the main thread alone, which
	 * waits for them in sigwait once the node is ready.  Blocked here,
	 * before any thread exists, so every thread inherits the mask: a
	 * process-directed signal goes to any thread that does not block it,
	 * and one taken by the clock or an isolate thread would leave main
	 * waiting for ever (seen under strace, whose stops make main
	 * ineligible).  One sent during boot waits until ready, then stops
	 * the node cleanly.
	 */
	sigset_t stopset, oldset;
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stopset, &oldset);
	say("deployment %s (%s)", cfg->name, cfg->path);
	if ((rv = take_cores(cfg, err, sizeof(err))) != 0)
		goto fail;
	if ((rv = take_memory(cfg, err, sizeof(err))) != 0)
		goto fail;
	taps_start(cfg);
	if (krs_boot(order, err, sizeof(err)) != 0) {
		rv = errno;
		goto fail;
	}
	say("components: %s", order);
	if ((rv = take_filesystems(cfg, err, sizeof(err))) != 0)
		goto fail_down;
	rv = take_interfaces(cfg, err, sizeof(err));
	taps_join(cfg, true);		/* what was not handed over */
	taps_free();
	if (rv != 0)
		goto fail_down;
	if ((rv = take_hostnet(cfg, err, sizeof(err))) != 0)
		goto fail_down;
	/* The supervisor is not needed to serve: it starts after ready. */
	krk_isolates_defer_supervisor();
	if ((rv = krk_isolates_init()) != 0) {
		snprintf(err, sizeof(err), "isolates: %s", strerror(rv));
		goto fail_down;
	}
	/* The sockets are bound now, so that they exist at "ready", but
	 * their acceptor threads start after it: a client connecting before
	 * waits in the backlog. */
	krk_ctl_defer_accept();
	krk_foreign_defer_accept();
	if ((rv = krk_ctl_start(cfg->control_socket, cfg->control_group, err,
	    sizeof(err))) != 0)
		goto fail_iso;
	say("control socket %s (mode %s)", cfg->control_socket,
	    cfg->control_group ? "0660" : "0600");
	{
		char q[160];
		if (krk_ctl_attach_describe(q, sizeof(q))) {
			say("queues: processes attach over the control socket: "
			    "%s", q);
			/* The attach socket serves the same queues to the
			 * users of attach.users. */
			if ((rv = krk_foreign_start(cfg, err, sizeof(err))) != 0) {
				krk_ctl_stop();
				goto fail_iso;
			}
			char d[512];
			krk_foreign_describe(d, sizeof(d));
			say("attach socket %s", d);
		}
	}
	for (size_t i = 0; i < cfg->nisolates; i++) {
		int id;
		if ((rv = krk_isolate_spawn(&cfg->isolates[i], &id, err,
		    sizeof(err))) != 0) {
			krk_foreign_stop();
			krk_ctl_stop();
			goto fail_iso;
		}
		say("isolate %s (id %d): running on core %d", cfg->isolates[i].name,
		    id, cfg->isolates[i].core >= 0 ? cfg->isolates[i].core :
		    cfg->cores[0]);
	}
	if (krk_node.huge) {
		struct hyp_heap_huge_stats hs;
		hyp_heap_huge_stats(&hs);
		say("memory: huge-page heap: %" PRIu64 " KiB in use (kmem slabs, "
		    "clusters, packet receive pools), %" PRIu64 " requests fell "
		    "back to 4 KiB pages", hs.used >> 10, hs.nfallback);
	}
	krk_node.boot_ns = mono_ns() - t0;
	for (int i = 0; i < nreport; i++) {
		if (report_costs)
			printf("krank: [%6.2f ms, CPU %5.2f ms, %4ld faults] %s\n",
			    (double)report_ns[i] / 1e6,
			    (double)(report_cpu[i] - cpu0) / 1e6,
			    report_faults[i], report[i]);
		else
			printf("krank: [%6.2f ms] %s\n",
			    (double)report_ns[i] / 1e6, report[i]);
		free(report[i]);
	}
	nreport = 0;
	uint64_t hugetlb = 0, rss = rss_bytes(&hugetlb);
	char hugenote[64] = "";
	if (hugetlb)
		snprintf(hugenote, sizeof(hugenote), " (%.1f MiB of it huge "
		    "pages)", (double)hugetlb / 1048576.0);
	long faults = page_faults();
	printf("krank: ready in %.1f ms, resident memory %.1f MiB, CPU %.1f ms"
	    ", %ld page faults%s\n", (double)krk_node.boot_ns / 1e6,
	    (double)rss / 1048576.0, (double)(cpu_ns() - cpu0) / 1e6, faults,
	    hugenote);
	fflush(stdout);
	krk_log(KRK_LOG_INFO, "ready");
	if ((rv = krk_ctl_accept_start()) != 0 || (rv = krk_foreign_accept_start()) != 0)
		krk_log(KRK_LOG_ERR, "control and attach sockets: cannot start "
		    "their threads: %s; krankctl will not be answered",
		    strerror(rv));
	if ((rv = krk_isolates_supervisor_start()) != 0)
		krk_log(KRK_LOG_ERR, "isolates: cannot start the supervisor "
		    "thread: %s; ended isolates will not be restarted",
		    strerror(rv));
	/* Work not needed for ready, after it: on a deployment of one core
	 * it would have shared that core with the boot. */
	krk_pool_fill();
	{
		char msg[160];
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=ready in %.1f ms, "
		    "control socket %s", (double)krk_node.boot_ns / 1e6,
		    cfg->control_socket);
		notify_systemd(msg);
	}

	/* Wait for SIGTERM/SIGINT/SIGHUP; everything else runs in other
	 * threads. */
	signal(SIGPIPE, SIG_IGN);
	while (sigwait(&stopset, &stop_signal) != 0)
		;
	krk_log(KRK_LOG_INFO, "stopping on signal %d (%s)", stop_signal,
	    strsignal(stop_signal));
	notify_systemd("STOPPING=1\nSTATUS=stopping");
	krk_foreign_stop();
	krk_ctl_stop();
	krk_isolates_fini();
	krk_pool_fini();
	krs_shutdown();
	for (size_t i = 0; i < sizeof(disk_fds) / sizeof(disk_fds[0]); i++)
		if (disk_fds[i])
			close(disk_fds[i] - 1);
	if (krk_node.cgroup[0]) {
		/* Back to the parent so the partition can be removed. */
		write_file("/sys/fs/cgroup/cgroup.procs", "0");
		rmdir(krk_node.cgroup);
	}
	pthread_sigmask(SIG_SETMASK, &oldset, NULL);
	printf("krank: stopped\n");
	return 0;

fail_iso:
	krk_isolates_fini();
	krk_pool_fini();
fail_down:
	krs_shutdown();
fail:
	taps_join(cfg, true);
	taps_free();
	for (int i = 0; i < nreport; i++) {
		printf("krank: %s\n", report[i]);
		free(report[i]);
	}
	nreport = 0;
	pthread_sigmask(SIG_SETMASK, &oldset, NULL);
	fprintf(stderr, "krank: %s: boot failed: %s\n", cfg->path, err[0] ? err :
	    strerror(rv));
	{
		/* systemctl status shows why, besides the journal. */
		char msg[600];
		snprintf(msg, sizeof(msg), "STATUS=boot failed: %.500s\nERRNO=%d",
		    err[0] ? err : strerror(rv), rv > 0 ? rv : EIO);
		notify_systemd(msg);
	}
	if (krk_node.cgroup[0]) {
		write_file("/sys/fs/cgroup/cgroup.procs", "0");
		rmdir(krk_node.cgroup);
	}
	return 1;
}
