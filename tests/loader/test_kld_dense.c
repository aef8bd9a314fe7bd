/*
 * test_kld_dense - the verifier over pathological code: a megabyte in
 * which every byte starts an instruction or a forbidden encoding.  Each
 * pattern's verdict and error count are checked (the count is what the
 * rules say it must be, whatever the cap on printed lines), and each
 * verification must end: before, the cost grew with the square of the
 * number of findings (a minute per megabyte).  The time per pattern is
 * printed for the record, not asserted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <krank/kld.h>

#define MB (1u << 20)

static unsigned failures;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sink(void *arg, enum kld_severity sev, const char *line)
{
	(void)arg;
	(void)sev;
	(void)line;
}

/* Fill buf with `pat` repeated; return buf. */
static unsigned char *
fill(unsigned char *buf, const unsigned char *pat, size_t plen)
{
	for (size_t i = 0; i < MB; i++)
		buf[i] = pat[i % plen];
	return buf;
}

static void
check(const char *name, const unsigned char *code, size_t len,
    unsigned flags, int want_rv, unsigned want_errors, unsigned want_warnings)
{
	struct kld_diag d = { .fn = sink };
	double t0 = now_s();
	int rv = kld_verify_code(code, len, 0x400000, name, flags, &d);
	double dt = now_s() - t0;
	int ok = rv == want_rv && d.nerrors == want_errors &&
	    d.nwarnings == want_warnings;

	printf("%s: %s: verdict %d, %u errors, %u warnings (want %d, %u, %u) "
	    "in %.3f s\n", ok ? "ok" : "FAIL", name, rv, d.nerrors,
	    d.nwarnings, want_rv, want_errors, want_warnings, dt);
	if (!ok)
		failures++;
}

int
main(void)
{
	unsigned char *buf = malloc(MB);
	static const unsigned char sysc[] = { 0x0f, 0x05 };
	static const unsigned char int80[] = { 0xcd, 0x80 };
	/* mov eax, 0x90050f90: a syscall hidden at offset 2 of each. */
	static const unsigned char hidden[] = { 0xb8, 0x90, 0x0f, 0x05, 0x90 };
	static const unsigned char nop[] = { 0x90 };
	static const unsigned char bad[] = { 0x06 };	/* push es: invalid */
	/* in al, dx: privileged I/O, every other byte */
	static const unsigned char io[] = { 0xec, 0x90 };

	if (buf == NULL)
		return 99;
	/* Every instruction a syscall: each one an error. */
	check("syscall-every-2-bytes", fill(buf, sysc, 2), MB, 0, EACCES,
	    MB / 2, 0);
	check("int80-every-2-bytes", fill(buf, int80, 2), MB, 0, EACCES,
	    MB / 2, 0);
	/* Hidden inside immediates: warnings, errors under --strict (whole
	 * copies only: a cut one would be undecodable). */
	check("hidden-syscall", fill(buf, hidden, 5), MB / 5 * 5, 0, 0, 0,
	    MB / 5);
	check("hidden-syscall-strict", fill(buf, hidden, 5), MB / 5 * 5,
	    KLD_STRICT, EACCES, MB / 5, 0);
	check("privileged-every-2-bytes", fill(buf, io, 2), MB, 0, EACCES,
	    MB / 2, 0);
	/* One error per run of undecodable bytes. */
	check("undecodable", fill(buf, bad, 1), MB, 0, EACCES, 1, 0);
	check("nops", fill(buf, nop, 1), MB, 0, 0, 0, 0);
	free(buf);
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
