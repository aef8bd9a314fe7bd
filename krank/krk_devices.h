/*
 * krk_devices.h - the PCI network and storage devices of this machine as
 * KRANK sees them before taking one: what Linux has bound to each, and
 * whether Linux is using it.  `krank devices` prints the list; a backend
 * that takes a device (the DPDK host) asks krk_device_claimable first.
 */
#ifndef KRK_DEVICES_H
#define KRK_DEVICES_H

#include <stddef.h>

#define KRK_DEV_ADDRLEN 16		/* "0000:00:03.0" and NUL */

struct krk_device {
	char addr[KRK_DEV_ADDRLEN];	/* domain:bus:slot.function */
	unsigned vendor_id, device_id;
	unsigned class_code;		/* 24-bit PCI class, e.g. 0x020000 */
	const char *kind;		/* "net" or "storage" */
	char vendor[96], device[128];	/* pci.ids names, or "" */
	char driver[32];		/* Linux driver bound, "" if none */
	int user_driver;		/* driver is vfio-pci or a uio one */
	char ifaces[256];		/* net interfaces / block devices */
	char in_use[512];		/* why Linux uses it, "" if it does not */
};

/*
 * krk_devices_list - every PCI device of class network (0x02) or mass
 * storage (0x01), in bus order.  *devsp is malloc'd (free it); *np its
 * length.  Returns 0, ENODEV when the machine has no PCI bus (err says
 * so), or another errno with err naming what failed.
 */
int krk_devices_list(struct krk_device **devsp, size_t *np, char *err,
    size_t errlen);

/*
 * krk_device_claimable - may KRANK take the device at addr away from
 * Linux?  Returns 0 when it may; EBUSY when Linux is using it (why says
 * what: "0000:00:03.0: in use by Linux: interface eth0 is up, has
 * 192.0.2.2"); ENODEV when there is no network or storage device at addr;
 * EINVAL for a malformed address.  why is always a one-line message.
 */
int krk_device_claimable(const char *addr, char *why, size_t whylen);

/* `krank devices [--json] [--check ADDR]`: exit status as krank(8) says. */
int krk_devices_main(int argc, char **argv);

#endif
