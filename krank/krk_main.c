/*
 * krk_main.c - the krank command: `krank run DEPLOYMENT`, `krank check
 * DEPLOYMENT`, `krank components`, `krank devices` (krk_devices.c),
 * --help, --version.  The work is in
 * krk_config.c (the file), krk_boot.c (the node) and krk_isolate.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <krank/krs.h>

#include "krk.h"
#include "krk_devices.h"

/*
 * When this process started, on CLOCK_MONOTONIC, for the boot report's
 * "time to ready": now, less the time the task has run and waited for a
 * core since it was created (/proc/self/schedstat, ns), so exec, the
 * dynamic loader and the deployment's parsing all count.  Time it slept
 * before this point (none, unless a page of the binary came from disk)
 * is not seen.  The first of krank's constructors.
 */
__attribute__((constructor(101))) static void
start_clock(void)
{
	struct timespec ts;
	char buf[96], *end;
	unsigned long long run, wait;
	ssize_t n;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	krk_start_ns = (uint64_t)ts.tv_sec * 1000000000ull +
	    (uint64_t)ts.tv_nsec;
	/* read(2), not stdio: no FILE, no scanf (~0.3 ms of every start). */
	if ((fd = open("/proc/self/schedstat", O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	run = strtoull(buf, &end, 10);
	if (end == buf || *end != ' ')
		return;
	wait = strtoull(end, &end, 10);
	if ((*end == ' ' || *end == '\n') && run + wait < krk_start_ns)
		krk_start_ns -= run + wait;
}

static void
usage(FILE *out)
{
	fprintf(out,
"NAME\n"
"    krank - run a KRANK node from a deployment file\n"
"\n"
"SYNOPSIS\n"
"    krank run [-v | -q] DEPLOYMENT.yaml\n"
"    krank check [-v] DEPLOYMENT.yaml\n"
"    krank components\n"
"    krank devices [--json] [--check ADDRESS]\n"
"    krank --help | --version\n"
"\n"
"DESCRIPTION\n"
"    KRANK is a real-time operating system in Linux user space.  One\n"
"    krank process per node takes the cores, memory, network interfaces\n"
"    and disks a deployment names away from Linux, boots exactly the\n"
"    driver components it lists (file systems, TCP/IP), and runs its\n"
"    isolates: verified ELF programs built with krank-cc, run as threads\n"
"    on their own cores, whose system calls are plain function calls\n"
"    into KRANK.\n"
"\n"
"COMMANDS\n"
"    run DEPLOYMENT.yaml\n"
"        Check the deployment, take its resources, boot, start its\n"
"        isolates, print a boot report (what was taken, what could not\n"
"        be and why, time to ready, resident memory) ending in a line\n"
"        containing \"ready\", then serve until SIGTERM or SIGINT, and\n"
"        tear down.  Interfaces of backend tap are created when they do\n"
"        not exist; when the deployment gives host_address, Linux's\n"
"        side gets that address and is brought up.  The control socket\n"
"        (krankctl(8)) is opened before the isolates start.\n"
"    check DEPLOYMENT.yaml\n"
"        Parse and check the file, components included, without taking\n"
"        anything.  Prints \"ok\" (with -v: the effective deployment with\n"
"        every default filled in) or one line per error:\n"
"        FILE:LINE:COLUMN: KEY: expected WHAT, found WHAT.\n"
"    components\n"
"        The driver components linked into this krank and what each\n"
"        needs.\n"
"    devices [--json] [--check ADDRESS]\n"
"        The PCI network and storage devices: address, kind, vendor and\n"
"        device, the Linux driver bound, whether vfio-pci or uio is,\n"
"        their interfaces or disks, and whether Linux uses them (an\n"
"        interface up or addressed, a disk mounted, swap or held).\n"
"        --json prints the same as a JSON array; --check tells whether\n"
"        KRANK may take the device at ADDRESS (exit 0) or why not (1).\n"
"\n"
"OPTIONS\n"
"    -v  More: info lines on standard error while running (-vv: debug);\n"
"        with check, print the effective deployment.\n"
"    -q  Errors only.\n"
"\n"
"FILES\n"
"    /run/krank/NAME.sock  the default control socket of deployment NAME\n"
"    /sys/fs/cgroup/krank-PID  the cpuset partition of a running krank\n"
"\n"
"EXIT STATUS\n"
"    0 success (run: stopped by a signal after ready); 1 the deployment\n"
"    is invalid or the node could not boot (the reason is printed);\n"
"    2 usage error.\n"
"\n"
"SEE ALSO\n"
"    krank-deployment(5), krankctl(8), krank-cc(1), krank-ld(1)\n");
}

static int
cmd_components(void)
{
	const char *names[64], *needs[64];
	size_t n = krs_components(names, needs, 64);
	printf("%-10s %s\n", "COMPONENT", "NEEDS");
	for (size_t i = 0; i < n && i < 64; i++)
		printf("%-10s %s\n", names[i], needs[i][0] ? needs[i] : "-");
	return 0;
}

static int
load(const char *path, struct krk_config **cfgp)
{
	static char err[16384];
	char order[512];
	int rv = krk_config_load(path, cfgp, err, sizeof(err));
	if (rv != 0) {
		size_t n = strlen(err);
		fprintf(stderr, "%s%s", err, n && err[n - 1] == '\n' ? "" : "\n");
		return rv;
	}
	if ((rv = krk_check_components(*cfgp, order, sizeof(order), err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "%s\n", err);
		krk_config_free(*cfgp);
		*cfgp = NULL;
	}
	return rv;
}

int
main(int argc, char **argv)
{
	struct krk_config *cfg = NULL;
	int verbosity = 1, i, rv;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("krank %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "components") == 0)
		return cmd_components();
	if (strcmp(argv[1], "devices") == 0)
		return krk_devices_main(argc, argv);
	if (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "krank: unknown command '%s' (try krank --help)\n",
		    argv[1]);
		return 2;
	}
	for (i = 2; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbosity++;
		else if (strcmp(argv[i], "-vv") == 0)
			verbosity += 2;
		else if (strcmp(argv[i], "-q") == 0)
			verbosity = 0;
		else {
			fprintf(stderr, "krank %s: unknown option '%s'\n",
			    argv[1], argv[i]);
			return 2;
		}
	}
	if (i != argc - 1) {
		fprintf(stderr, "krank %s: give exactly one deployment file "
		    "(try krank --help)\n", argv[1]);
		return 2;
	}
	if ((rv = load(argv[i], &cfg)) != 0)
		return 1;
	if (strcmp(argv[1], "check") == 0) {
		if (verbosity > 1)
			krk_config_print(cfg, stdout);
		else
			printf("%s: ok\n", argv[i]);
		krk_config_free(cfg);
		return 0;
	}
	krk_queues_register(cfg);
	rv = krk_run(cfg, verbosity);
	krk_config_free(cfg);
	return rv;
}
