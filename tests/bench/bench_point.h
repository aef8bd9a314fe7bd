/*
 * bench_point.h - the one machine-readable line every benchmark prints per
 * measured point, beside its own human-readable table, so that
 * tests/bench/run (make bench) can repeat benchmarks, take medians and
 * write docs/PERFORMANCE.md without knowing each benchmark's layout:
 *
 *   @point id=ID krank=K base=B unit=U better=lower|higher ratio=R goal=G what=TEXT
 *
 * ID is stable across runs (letters, digits, '.', '_', '-'); K and B are
 * KRANK's value and the Linux baseline's, measured in the same run; R is
 * how many times better KRANK is (B/K when lower is better, K/B when
 * higher is); G is the goal for R, 0 when none.  Shell
 * benchmarks print the same line (tests/bench/point.sh).
 */
#ifndef BENCH_POINT_H
#define BENCH_POINT_H

#include <stdio.h>

static inline void
bench_point(const char *id, double krank, double base, const char *unit,
    int lower_better, double goal, const char *what)
{
	double r = 0;
	if (krank > 0 && base > 0)
		r = lower_better ? base / krank : krank / base;
	printf("@point id=%s krank=%.6g base=%.6g unit=%s better=%s ratio=%.4g "
	    "goal=%g what=%s\n", id, krank, base, unit, lower_better ? "lower" :
	    "higher", r, goal, what);
	fflush(stdout);
}

#endif
