/*
 * bench_machine - what a system call and a fresh page fault cost on this
 * machine, so that every ratio in docs/PERFORMANCE.md can be read across
 * machines (under a hypervisor with page-table isolation both are many
 * times dearer than on bare metal, and KRANK's gains grow with them).
 * Prints one human line and "@machine syscall_ns=N pagefault_ns=N".
 * Medians of 7 runs of 200,000 calls and 4,096 faults; with --quick the
 * short measurement every benchmark makes at its start (bench_point.h),
 * which shell benchmarks get from here.  Not part of make check.
 */
#include <stdio.h>
#include <string.h>

#include "bench_point.h"

int
main(int argc, char **argv)
{
	double sc, pf;

	if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
		bench_machine_costs();
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: bench_machine [--quick]\n");
		return 2;
	}
	if (bench_machine_measure(7, 200000, 4096, &sc, &pf) != 0)
		return 1;
	bench_machine_print(sc, pf, "medians of 7 runs");
	return 0;
}
