/*
 * krk_config.h - a KRANK deployment as parsed from its YAML file
 * (krank-deployment(5)).  krk_config_load parses and checks a file with
 * libyaml; every error names file:line:column, the key, what was expected
 * and what was found.  The parsed structure is plain data; krank run acts
 * on it (krk_boot.c), krank check only prints it.
 */
#ifndef KRK_CONFIG_H
#define KRK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KRK_MAX_CORES	256		/* core ids 0..255 */
#define KRK_NAME_MAX	32		/* isolate and interface names */

/* Where a value stood in the file (1-based), for messages after parsing. */
struct krk_loc {
	unsigned line;
	unsigned col;
};

enum krk_hugepages { KRK_HUGE_AUTO = 0, KRK_HUGE_YES, KRK_HUGE_NO };
enum krk_backend { KRK_BE_TAP = 0, KRK_BE_AFPACKET, KRK_BE_WIRE, KRK_BE_DPDK };
enum krk_restart { KRK_RESTART_NEVER = 0, KRK_RESTART_ON_FAILURE,
	KRK_RESTART_ALWAYS };

struct krk_iface_cfg {
	char name[KRK_NAME_MAX];	/* KRANK's name for it; default device */
	enum krk_backend backend;
	char *device;			/* tap/afpacket: Linux ifname; wire: wire
					 * name; dpdk: port spec.  Required. */
	bool has_mac;
	uint8_t mac[6];
	char *address;			/* "A.B.C.D/N", checked; required */
	char *host_address;		/* tap only: Linux's side, "A.B.C.D/N"
					 * (NULL: leave Linux's side alone) */
	char *gateway;			/* "A.B.C.D" or NULL */
	unsigned mtu;			/* 68..65535; default 1500 */
	unsigned queues;		/* dpdk only: 1..16 receive and transmit
					 * queues; 0: the port's default */
	struct krk_loc loc;
};

struct krk_disk_cfg {
	char *path;			/* image file or block device (absolute
					 * after loading) */
	char *fs;			/* "ext2" */
	char *mount;			/* absolute mount point in KRANK's VFS */
	bool readonly;			/* default false */
	struct krk_loc loc;
};

struct krk_tmpfs_cfg {
	char *mount;			/* absolute */
	uint64_t size;			/* bytes; default 64 MiB */
	struct krk_loc loc;
};

/* A host directory served by hostfs (docs/hostfs.md). */
struct krk_hostfs_cfg {
	char *path;			/* host directory (absolute after
					 * loading); must exist at boot */
	char *mount;			/* absolute mount point in KRANK's VFS */
	bool readonly;			/* default false */
	bool cross_mounts;		/* default false: mount points below
					 * path are not crossed (EXDEV) */
	struct krk_loc loc;
};

struct krk_isolate_cfg {
	char name[KRK_NAME_MAX];	/* unique; [A-Za-z0-9_.-], default the
					 * ELF's base name */
	char *elf;			/* host path of the isolate object
					 * (absolute after loading) */
	char **argv;			/* NULL-terminated; default { name } */
	size_t argc;
	char **env;			/* NULL-terminated "K=V" list */
	size_t envc;
	char *cwd;			/* in KRANK's VFS; default "/" */
	char *root;			/* default "/" */
	int core;			/* -1: KRANK's first core */
	uint64_t heap;			/* bytes; default 64 MiB */
	unsigned fds;			/* descriptor limit; default 1024 */
	uint32_t uid, gid;		/* credentials inside KRANK; default 0 */
	enum krk_restart restart;	/* default never */
	uint64_t backoff_ns;		/* first restart delay; default 100 ms,
					 * doubling to backoff_max_ns */
	uint64_t backoff_max_ns;	/* default 10 s */
	bool hardened;			/* threads under a seccomp filter, KRANK
					 * calls through a gate (krk_gate.h) */
	bool lax;			/* the loader only warns about syscall
					 * encodings hidden inside other
					 * instructions (default: refuses) */
	struct krk_loc loc;
};

struct krk_config {
	char *path;			/* the file as given */
	char *dir;			/* its directory: base of relative paths */
	char *name;			/* deployment name; default file stem */

	unsigned ncores;
	int cores[KRK_MAX_CORES];	/* ascending, distinct */
	bool sched_fifo;		/* default false */
	int fifo_priority;		/* 1..99, default 10 */

	uint64_t mem_size;		/* budget in bytes; default 256 MiB */
	enum krk_hugepages hugepages;	/* default auto */
	bool mlock;			/* default true */
	uint64_t isolate_pool;		/* bytes of pre-faulted memory for
					 * isolate code and data
					 * (krk_pool.c); default 2 MiB,
					 * 0: none */

	char **components;		/* NULL-terminated, as listed */
	struct krk_loc *component_locs;	/* where each one was named */
	size_t ncomponents;
	struct krk_loc components_loc;	/* the components key */

	struct krk_iface_cfg *ifaces;
	size_t nifaces;
	struct krk_disk_cfg *disks;
	size_t ndisks;
	struct krk_tmpfs_cfg *tmpfs;
	size_t ntmpfs;
	struct krk_isolate_cfg *isolates;
	size_t nisolates;

	char *control_socket;		/* default /run/krank/NAME.sock */
	char *control_group;		/* NULL: mode 0600, else 0660 + group */

	char *attach_socket;		/* default /run/krank/NAME.attach */
	uint32_t *attach_uids;		/* Linux users allowed to attach
					 * (names resolved with getpwnam) */
	size_t nattach_uids;
	/* Limits of each attachment (a foreign isolate, krk_foreign.c). */
	unsigned attach_fds;		/* KRANK descriptors open; default 1024 */
	unsigned attach_rings;		/* most ring pairs; 0 (default): as
					 * many as queues.rings allows */
	unsigned attach_max;		/* attachments at once; default 64 */
	char *attach_preload;		/* the preload library for spawn
					 * --foreign; NULL: $KRANK_PRELOAD,
					 * else the installed one */

	uint64_t log_size;		/* log ring bytes; default 1 MiB */

	/* The system-call queues of attached clients (krank-deployment(5),
	 * queues). */
	uint64_t queue_spin_ns;		/* poll before sleeping; default 50 us */
	uint64_t queue_client_spin_ns;	/* the clients' spin for responses
					 * (hdr.spin_ns); UINT64_MAX
					 * (default): queue_spin_ns */
	unsigned queue_slots;		/* per ring, power of two; default 256 */
	uint64_t queue_area;		/* buffer area per client; default 4 MiB */
	unsigned queue_rings;		/* per client; 0 (default): one per CPU
					 * the client's host has online */

	/* hostnet (krank-deployment(5), docs/hostnet.md): the host
	 * destinations isolates may reach through KRS_AF_HOSTNET sockets,
	 * each checked with krs_hostnet_rule_parse; none: deny all. */
	bool has_hostnet;		/* the key was given */
	struct krk_loc hostnet_loc;
	char **hostnet_allow;		/* NULL-terminated entries */
	struct krk_loc *hostnet_allow_locs;
	size_t nhostnet_allow;
	unsigned hostnet_max;		/* host sockets at once; default 256 */
	struct krk_hostfs_cfg *hostfs;	/* host directories (hostfs) */
	size_t nhostfs;
};

/*
 * krk_config_load - read, parse and check the deployment file at path.
 * On success returns 0 and *cfgp (free with krk_config_free).  On failure
 * returns an errno value (ENOENT, EACCES, EINVAL for any error in the
 * content, ENOMEM) and writes one or more lines, each
 * "FILE:LINE:COL: KEY: expected WHAT, found WHAT", into err (errlen bytes,
 * NUL-terminated, truncated if need be).
 */
int krk_config_load(const char *path, struct krk_config **cfgp,
    char *err, size_t errlen);
/* krk_config_parse - the same over a buffer already in memory (fuzzing,
 * tests); name is used in messages and as the base of relative paths. */
int krk_config_parse(const char *name, const char *buf, size_t len,
    struct krk_config **cfgp, char *err, size_t errlen);
void krk_config_free(struct krk_config *cfg);

/* krk_config_print - the effective deployment, defaults filled in, as
 * YAML a later krank check accepts (krank check -v). */
void krk_config_print(const struct krk_config *cfg, FILE *out);

/* Parsers shared with krankctl: sizes ("64M", "1G", "4096"), durations
 * ("100ms", "2s", "1500us"), core lists ("0-3,6"). 0 or EINVAL/ERANGE. */
int krk_parse_size(const char *s, uint64_t *out);
int krk_parse_duration(const char *s, uint64_t *ns);
/* krk_parse_cores - "0-3,6" into cores[] (KRK_MAX_CORES entries,
 * ascending) and *ncores.  0, EINVAL (syntax), ERANGE (a core >= 256) or
 * EEXIST (a core named twice). */
int krk_parse_cores(const char *s, int *cores, unsigned *ncores);

#endif
