/*
 * test_krk_exports.c - what an isolate's imports are bound to (issue 14:
 * isolates get no pointers into the host's libc or ld.so).  Every name of
 * the isolate libc (loader/libc/exports.def) and of the system calls
 * (krank/krk_sys_exports.def), in the table ordinary isolates bind and in
 * the one hardened isolates bind (krk_gate_exports), must resolve to code
 * of this program or of KRANK's own libraries (libkrank-loader.so when
 * libtool links it shared) - never into libc.so, ld.so or any other
 * shared object (dladdr names the object an address lies in).  The
 * hardened table must bind every system call to a gate stub, not to the
 * shim itself.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <krank/kld.h>

#include "krk.h"
#include "krk_gate.h"

static int nfail, nchecked;

static void
check_own(const char *table, const char *name, void *addr, const char *self)
{
	Dl_info di;

	nchecked++;
	if (addr == NULL) {
		printf("FAIL: %s: %s is not bound\n", table, name);
		nfail++;
		return;
	}
	const char *base = NULL;
	if (dladdr(addr, &di) != 0 && di.dli_fname != NULL) {
		base = strrchr(di.dli_fname, '/');
		base = base ? base + 1 : di.dli_fname;
	}
	/* KRANK's code: this program, or KRANK's own shared libraries
	 * when libtool links the loader dynamically (libkrank-loader.so). */
	if (base == NULL || (strcmp(di.dli_fname, self) != 0 &&
	    strncmp(base, "libkrank", 8) != 0)) {
		printf("FAIL: %s: %s -> %p lies in %s, not in KRANK\n", table,
		    name, addr, di.dli_fname ? di.dli_fname : "(unknown)");
		nfail++;
	}
}

int
main(void)
{
	struct kld_symtab *direct, *hard;
	Dl_info me;
	static const char *const sys_names[] = {
#define KLD_EXPORT(name, fn) #name,
#include "krk_sys_exports.def"
#undef KLD_EXPORT
	};
	size_t nsys = sizeof(sys_names) / sizeof(sys_names[0]);

	if (dladdr((void *)main, &me) == 0 || me.dli_fname == NULL) {
		printf("FAIL: dladdr cannot name this program\n");
		return 1;
	}
	if (kld_symtab_create(&direct) != 0 || kld_symtab_create(&hard) != 0 ||
	    krk_sys_exports(direct) != 0 || krk_gate_exports(hard) != 0) {
		printf("FAIL: cannot build the export tables\n");
		return 1;
	}
	for (size_t i = 0; i < kld_libc_nexports; i++)
		check_own("libc", kld_libc_exports[i].name,
		    kld_libc_exports[i].addr, me.dli_fname);
	size_t nstub = 0;
	for (size_t i = 0; i < nsys; i++) {
		void *d = kld_symtab_lookup(direct, sys_names[i]);
		void *h = kld_symtab_lookup(hard, sys_names[i]);
		check_own("system calls", sys_names[i], d, me.dli_fname);
		check_own("hardened system calls", sys_names[i], h,
		    me.dli_fname);
		if (d != NULL && h != NULL && d != h)
			nstub++;
		else {
			printf("FAIL: hardened %s is bound to the shim itself\n",
			    sys_names[i]);
			nfail++;
		}
	}
	if (nfail == 0) {
		printf("ok: %zu libc and %zu system-call names, in both "
		    "tables, resolve into KRANK's code (none into libc.so or "
		    "ld.so)\n", kld_libc_nexports, nsys);
		printf("ok: the hardened table binds all %zu system calls to "
		    "gate stubs\n", nstub);
	}
	kld_symtab_destroy(direct);
	kld_symtab_destroy(hard);
	if (nfail != 0) {
		printf("FAIL: %d of %d checks\n", nfail, nchecked);
		return 1;
	}
	printf("PASS: %d checks\n", nchecked);
	return 0;
}
