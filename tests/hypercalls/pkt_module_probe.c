/*
 * pkt_module_probe - for test_pkt_module.sh: starts the hypercall layer
 * (POSIX host), opens each port spec of argv (closing it again) and says
 * after each step whether DPDK's libraries and the dpdk: backend's module
 * are mapped into the process:
 *   start: rte=no module=no
 *   open wire:w0: 0 rte=no module=no
 */
#include <stdio.h>
#include <string.h>
#include <krank/hyp.h>
#include "hyptest.h"

static void
mapped(const char *step)
{
	char line[4096];
	int rte = 0, mod = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "/librte_") != NULL)
			rte = 1;
		if (strstr(line, "/krank-pkt-dpdk.so") != NULL)
			mod = 1;
	}
	if (f != NULL)
		fclose(f);
	printf("%s rte=%s module=%s\n", step, rte ? "yes" : "no",
	    mod ? "yes" : "no");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	char step[256];

	ht_init(1);
	ht_schedule();
	mapped("start:");
	for (int i = 1; i < argc; i++) {
		struct hyp_pkt *p = NULL;
		int rv = hyp_pkt_open(argv[i], &p);
		if (rv == 0)
			hyp_pkt_close(p);
		snprintf(step, sizeof(step), "open %s: %d", argv[i], rv);
		mapped(step);
	}
	ht_unschedule();
	return 0;
}
