/*
 * rdtest.h - tiny assertion helpers for the rumpdrv component tests: each
 * check prints what it verified; the first failure exits 1.
 */
#ifndef RDTEST_H
#define RDTEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Tests of kernel internals use NetBSD errno values (kern_errno.h); the
 * host's <errno.h> would clash, so only krs_ tests get errno checks. */
#ifndef RUMPDRV_KERN_ERRNO_H
#include <errno.h>
#define RD_ERRNO errno
#else
#define RD_ERRNO 0
#endif

static int rd_checks;
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);	\
		printf(__VA_ARGS__);					\
		printf(" (errno %d)\n", RD_ERRNO);			\
		exit(1);						\
	}								\
	rd_checks++;							\
} while (0)
#define CHECK_ERR(expr, err) do {					\
	errno = 0;							\
	long rd_rv_ = (long)(expr);					\
	if (rd_rv_ != -1 || errno != (err)) {				\
		printf("FAIL %s:%d: %s: want -1/%s, got %ld/%s\n",	\
		    __FILE__, __LINE__, #expr, strerror(err), rd_rv_,	\
		    strerror(errno));					\
		exit(1);						\
	}								\
	rd_checks++;							\
} while (0)
#define PASS(what) printf("ok: %s\n", what)
#define DONE() do { printf("PASS: %d checks\n", rd_checks); return 0; } while (0)
#endif
