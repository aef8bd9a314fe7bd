/*
 * krk_devices.c - `krank devices`: the PCI network and storage devices
 * (libpciaccess for the bus and the pci.ids names), the Linux driver bound
 * to each and whether it is vfio-pci or uio (sysfs), and whether Linux is
 * using it: a network interface that is up or has an address, a block
 * device (or a partition of it) that is mounted (/proc/self/mountinfo),
 * swapped on or held by device-mapper/md.  krk_device_claimable refuses a
 * device in use so that a backend never pulls a disk or NIC from under
 * Linux.  Interfaces and mounts are those of krank's own network and mount
 * namespaces (sysfs and mountinfo show no others).
 */
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <pciaccess.h>

#include "krk_devices.h"

#define SYS_PCI "/sys/bus/pci/devices"

/* Append a formatted piece to a bounded string, with sep when non-empty. */
static void
cat(char *s, size_t len, const char *sep, const char *fmt, ...)
{
	size_t n = strlen(s);
	va_list ap;

	if (n + 1 >= len)
		return;
	if (n && sep)
		n += (size_t)snprintf(s + n, len - n, "%s", sep);
	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(s + n, len - n, fmt, ap);
	va_end(ap);
}

/* The last component of the symlink at path, or "" when there is none. */
static void
link_base(const char *path, char *out, size_t outlen)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *b = strrchr(buf, '/');
	b = b ? b + 1 : buf;
	size_t l = strlen(b);
	if (l >= outlen)
		l = outlen - 1;		/* driver names are short; cut if not */
	memcpy(out, b, l);
	out[l] = '\0';
}

/* The first line of a small sysfs file, trimmed; -1 if unreadable. */
static int
read_line(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return -1;
	if (fgets(out, (int)outlen, f) == NULL)
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

/*
 * Normalise "0000:00:03.0" or "00:03.0" into out; EINVAL if malformed.
 */
static int
addr_norm(const char *in, char *out)
{
	unsigned dom = 0, bus, slot, fn;
	char extra;

	if (in == NULL)
		return EINVAL;
	if (sscanf(in, "%x:%x:%x.%x%c", &dom, &bus, &slot, &fn, &extra) != 4) {
		dom = 0;
		if (sscanf(in, "%x:%x.%x%c", &bus, &slot, &fn, &extra) != 3)
			return EINVAL;
	}
	if (dom > 0xffff || bus > 0xff || slot > 0x1f || fn > 7)
		return EINVAL;
	snprintf(out, KRK_DEV_ADDRLEN, "%04x:%02x:%02x.%x", dom, bus, slot, fn);
	return 0;
}

/*
 * Is the sysfs object /sys/class/CLASS/NAME below the PCI device addr?
 * Its real path goes through /sys/devices/pci.../ADDR/ (for virtio
 * through ADDR/virtioN/ too).
 */
static int
below_device(const char *cls, const char *name, const char *addr)
{
	char path[PATH_MAX], real[PATH_MAX], needle[KRK_DEV_ADDRLEN + 2];

	snprintf(path, sizeof(path), "/sys/class/%s/%s", cls, name);
	if (realpath(path, real) == NULL)
		return 0;
	snprintf(needle, sizeof(needle), "/%s/", addr);
	return strstr(real, needle) != NULL;
}

/* Interfaces of the device: names; up or addressed ones: why. */
static void
net_users(const char *addr, struct krk_device *d)
{
	DIR *dir = opendir("/sys/class/net");
	struct dirent *e;
	struct ifaddrs *ifa = NULL;

	if (dir == NULL)
		return;
	if (getifaddrs(&ifa) != 0)
		ifa = NULL;
	while ((e = readdir(dir)) != NULL) {
		char path[PATH_MAX], flags[32], why[256] = "";
		if (e->d_name[0] == '.' || !below_device("net", e->d_name, addr))
			continue;
		cat(d->ifaces, sizeof(d->ifaces), ",", "%s", e->d_name);
		snprintf(path, sizeof(path), "/sys/class/net/%s/flags", e->d_name);
		if (read_line(path, flags, sizeof(flags)) == 0 &&
		    (strtoul(flags, NULL, 16) & IFF_UP))
			cat(why, sizeof(why), NULL, "interface %s is up", e->d_name);
		for (struct ifaddrs *a = ifa; a; a = a->ifa_next) {
			char txt[INET6_ADDRSTRLEN];
			const void *src;
			if (a->ifa_addr == NULL || strcmp(a->ifa_name, e->d_name) != 0)
				continue;
			if (a->ifa_addr->sa_family == AF_INET)
				src = &((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr;
			else if (a->ifa_addr->sa_family == AF_INET6)
				src = &((struct sockaddr_in6 *)(void *)a->ifa_addr)->sin6_addr;
			else
				continue;
			if (inet_ntop(a->ifa_addr->sa_family, src, txt, sizeof(txt)) == NULL)
				continue;
			if (why[0] == '\0')
				cat(why, sizeof(why), NULL, "interface %s has %s",
				    e->d_name, txt);
			else
				cat(why, sizeof(why), strstr(why, " has ") ? ", " :
				    ", has ", "%s", txt);
		}
		if (why[0])
			cat(d->in_use, sizeof(d->in_use), "; ", "%s", why);
	}
	if (ifa)
		freeifaddrs(ifa);
	closedir(dir);
}

/* Mount points of the block device maj:min, from /proc/self/mountinfo. */
static void
mounts_of(const char *majmin, char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	out[0] = '\0';
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		char dev[64], mnt[PATH_MAX];
		/* id parent maj:min root mountpoint ... */
		if (sscanf(line, "%*s %*s %63s %*s %4095s", dev, mnt) == 2 &&
		    strcmp(dev, majmin) == 0)
			cat(out, outlen, ", ", "%s", mnt);
	}
	fclose(f);
}

static int
is_swap(const char *name)
{
	FILE *f = fopen("/proc/swaps", "re");
	char line[1024], dev[PATH_MAX + 8];
	int found = 0;

	if (f == NULL)
		return 0;
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, dev, strlen(dev)) == 0 &&
		    (line[strlen(dev)] == ' ' || line[strlen(dev)] == '\t');
	fclose(f);
	return found;
}

/* Block devices and partitions of the device: mounted, swap, held. */
static void
block_users(const char *addr, struct krk_device *d)
{
	DIR *dir = opendir("/sys/class/block");
	struct dirent *e;

	if (dir == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		char path[PATH_MAX], majmin[64], mnts[1024];
		if (e->d_name[0] == '.' || !below_device("block", e->d_name, addr))
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/partition",
		    e->d_name);
		if (access(path, F_OK) != 0)	/* whole disks only in the list */
			cat(d->ifaces, sizeof(d->ifaces), ",", "%s", e->d_name);
		snprintf(path, sizeof(path), "/sys/class/block/%s/dev", e->d_name);
		if (read_line(path, majmin, sizeof(majmin)) == 0) {
			mounts_of(majmin, mnts, sizeof(mnts));
			if (mnts[0])
				cat(d->in_use, sizeof(d->in_use), "; ",
				    "%s is mounted on %s", e->d_name, mnts);
		}
		if (is_swap(e->d_name))
			cat(d->in_use, sizeof(d->in_use), "; ", "%s is swap",
			    e->d_name);
		snprintf(path, sizeof(path), "/sys/class/block/%s/holders",
		    e->d_name);
		DIR *h = opendir(path);
		struct dirent *he;
		while (h && (he = readdir(h)) != NULL)
			if (he->d_name[0] != '.')
				cat(d->in_use, sizeof(d->in_use), "; ",
				    "%s is held by %s", e->d_name, he->d_name);
		if (h)
			closedir(h);
	}
	closedir(dir);
}

static int
addr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct krk_device *)a)->addr,
	    ((const struct krk_device *)b)->addr);
}

int
krk_devices_list(struct krk_device **devsp, size_t *np, char *err,
    size_t errlen)
{
	struct pci_device_iterator *it;
	struct pci_device *pd;
	struct krk_device *devs = NULL;
	size_t n = 0, cap = 0;
	int rv;

	*devsp = NULL;
	*np = 0;
	if (access(SYS_PCI, F_OK) != 0) {
		snprintf(err, errlen, "krank devices: no PCI bus on this "
		    "machine (%s: %s)", SYS_PCI, strerror(errno));
		return ENODEV;
	}
	if ((rv = pci_system_init()) != 0) {
		snprintf(err, errlen, "krank devices: libpciaccess cannot read "
		    "the PCI bus (%s)", strerror(rv));
		return rv;
	}
	if ((it = pci_slot_match_iterator_create(NULL)) == NULL) {
		pci_system_cleanup();
		snprintf(err, errlen, "krank devices: libpciaccess: no iterator "
		    "(out of memory)");
		return ENOMEM;
	}
	while ((pd = pci_device_next(it)) != NULL) {
		unsigned base = (pd->device_class >> 16) & 0xff;
		struct krk_device *d;
		char path[PATH_MAX];
		const char *s;

		if (base != 0x01 && base != 0x02)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *p = realloc(devs, ncap * sizeof(*devs));
			if (p == NULL) {
				free(devs);
				pci_iterator_destroy(it);
				pci_system_cleanup();
				snprintf(err, errlen, "krank devices: out of memory");
				return ENOMEM;
			}
			devs = p;
			cap = ncap;
		}
		d = &devs[n++];
		memset(d, 0, sizeof(*d));
		snprintf(d->addr, sizeof(d->addr), "%04x:%02x:%02x.%x",
		    (unsigned)pd->domain, (unsigned)pd->bus, (unsigned)pd->dev,
		    (unsigned)pd->func);
		d->vendor_id = pd->vendor_id;
		d->device_id = pd->device_id;
		d->class_code = pd->device_class & 0xffffff;
		d->kind = base == 0x02 ? "net" : "storage";
		if ((s = pci_device_get_vendor_name(pd)) != NULL)
			snprintf(d->vendor, sizeof(d->vendor), "%s", s);
		if ((s = pci_device_get_device_name(pd)) != NULL)
			snprintf(d->device, sizeof(d->device), "%s", s);
		snprintf(path, sizeof(path), SYS_PCI "/%s/driver", d->addr);
		link_base(path, d->driver, sizeof(d->driver));
		d->user_driver = strcmp(d->driver, "vfio-pci") == 0 ||
		    strcmp(d->driver, "uio_pci_generic") == 0 ||
		    strcmp(d->driver, "igb_uio") == 0;
		/* A device bound to vfio/uio has no Linux interfaces to use. */
		net_users(d->addr, d);
		block_users(d->addr, d);
	}
	pci_iterator_destroy(it);
	pci_system_cleanup();
	if (n > 1)
		qsort(devs, n, sizeof(*devs), addr_cmp);
	*devsp = devs;
	*np = n;
	return 0;
}

int
krk_device_claimable(const char *addr, char *why, size_t whylen)
{
	char a[KRK_DEV_ADDRLEN], err[512];
	struct krk_device *devs;
	size_t n;
	int rv;

	if (addr_norm(addr, a) != 0) {
		snprintf(why, whylen, "%s: not a PCI address (expected "
		    "DOMAIN:BUS:SLOT.FN, e.g. 0000:00:03.0)", addr ? addr : "(null)");
		return EINVAL;
	}
	if ((rv = krk_devices_list(&devs, &n, err, sizeof(err))) != 0) {
		snprintf(why, whylen, "%s: %s", a, err);
		return rv;
	}
	rv = ENODEV;
	snprintf(why, whylen, "%s: no PCI network or storage device at this "
	    "address", a);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(devs[i].addr, a) != 0)
			continue;
		if (devs[i].in_use[0]) {
			snprintf(why, whylen, "%s: in use by Linux: %s", a,
			    devs[i].in_use);
			rv = EBUSY;
		} else {
			snprintf(why, whylen, "%s: claimable (%s)", a,
			    devs[i].driver[0] ? devs[i].driver : "no driver bound");
			rv = 0;
		}
		break;
	}
	free(devs);
	return rv;
}

/* A JSON string: quotes, backslash and control characters escaped. */
static void
json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void
print_json(FILE *out, const struct krk_device *devs, size_t n)
{
	fprintf(out, "[");
	for (size_t i = 0; i < n; i++) {
		const struct krk_device *d = &devs[i];
		char ids[16], cls[8];
		fprintf(out, "%s\n  {\"address\": ", i ? "," : "");
		json_str(out, d->addr);
		fprintf(out, ", \"kind\": ");
		json_str(out, d->kind);
		snprintf(ids, sizeof(ids), "%04x", d->vendor_id);
		fprintf(out, ", \"vendor_id\": ");
		json_str(out, ids);
		snprintf(ids, sizeof(ids), "%04x", d->device_id);
		fprintf(out, ", \"device_id\": ");
		json_str(out, ids);
		snprintf(cls, sizeof(cls), "%06x", d->class_code);
		fprintf(out, ", \"class\": ");
		json_str(out, cls);
		fprintf(out, ", \"vendor\": ");
		json_str(out, d->vendor);
		fprintf(out, ", \"device\": ");
		json_str(out, d->device);
		fprintf(out, ", \"driver\": ");
		json_str(out, d->driver);
		fprintf(out, ", \"userspace_driver\": %s",
		    d->user_driver ? "true" : "false");
		fprintf(out, ", \"names\": [");
		char names[sizeof(d->ifaces)], *save = NULL, *tok;
		snprintf(names, sizeof(names), "%s", d->ifaces);
		int first = 1;
		for (tok = strtok_r(names, ",", &save); tok;
		    tok = strtok_r(NULL, ",", &save)) {
			fprintf(out, "%s", first ? "" : ", ");
			json_str(out, tok);
			first = 0;
		}
		fprintf(out, "], \"in_use\": %s, \"in_use_by\": ",
		    d->in_use[0] ? "true" : "false");
		json_str(out, d->in_use);
		fprintf(out, "}");
	}
	fprintf(out, "%s]\n", n ? "\n" : "");
}

static void
print_table(FILE *out, const struct krk_device *devs, size_t n)
{
	fprintf(out, "%-12s  %-7s  %-9s  %-12s  %-9s  %-12s  %s\n", "ADDRESS",
	    "KIND", "ID", "DRIVER", "USERSPACE", "NAMES", "VENDOR / DEVICE");
	for (size_t i = 0; i < n; i++) {
		const struct krk_device *d = &devs[i];
		char ids[16];
		snprintf(ids, sizeof(ids), "%04x:%04x", d->vendor_id, d->device_id);
		fprintf(out, "%-12s  %-7s  %-9s  %-12s  %-9s  %-12s  %s%s%s\n",
		    d->addr, d->kind, ids, d->driver[0] ? d->driver : "-",
		    d->user_driver ? d->driver : "no",
		    d->ifaces[0] ? d->ifaces : "-",
		    d->vendor[0] ? d->vendor : "(unknown vendor)",
		    " / ", d->device[0] ? d->device : "(unknown device)");
		if (d->in_use[0])
			fprintf(out, "    in use by Linux, not claimable: %s\n",
			    d->in_use);
		else
			fprintf(out, "    not used by Linux: claimable\n");
	}
}

int
krk_devices_main(int argc, char **argv)
{
	const char *check = NULL;
	int json = 0;
	char err[1024];

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--check") == 0 && i + 1 < argc)
			check = argv[++i];
		else {
			fprintf(stderr, "krank devices: unknown argument '%s' "
			    "(usage: krank devices [--json] [--check ADDRESS])\n",
			    argv[i]);
			return 2;
		}
	}
	if (check) {
		int rv = krk_device_claimable(check, err, sizeof(err));
		fprintf(rv == 0 ? stdout : stderr, "krank devices: %s\n", err);
		return rv == 0 ? 0 : 1;
	}
	struct krk_device *devs;
	size_t n;
	if (krk_devices_list(&devs, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (json)
		print_json(stdout, devs, n);
	else
		print_table(stdout, devs, n);
	free(devs);
	return 0;
}
