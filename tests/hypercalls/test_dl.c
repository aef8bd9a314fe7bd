/*
 * test_dl - rumpuser_dl_bootstrap finds components and modules in the
 * link sets of loaded objects (a librump* shared library and the main
 * program), hands each component over exactly once, and gives the kernel
 * the dynamic symbols of the librump* objects and the main program.
 *
 * symload here behaves as NetBSD's kernel does (rump_kernelfsym_load ->
 * ksyms_addsyms_explicit): the first call is taken and every later one
 * refused with EBUSY (its symbols would be lost); the entries are sorted
 * and rewritten in place, and the pointers are kept and read again after
 * bootstrap has returned.  Reading the tables only, as the first version
 * of this test did, passed while a real NetBSD kernel crashed.
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include "hyptest.h"

struct rump_component { int id; };
struct modinfo { const char *name; };

static const struct rump_component comp_main = { 201 };
__attribute__((section("link_set_rump_components"), used))
static const void *const link_comp_main = &comp_main;

int rumptest_symbol_marker(void);
/* A symbol of the main program (exported by --export-dynamic). */
int test_dl_main_marker(void);
int
test_dl_main_marker(void)
{
	return 7;
}

static int seen[300], nmods, nsymloads, nrefused;
static const char *modname;
/* What the "kernel" keeps. */
static ElfW(Sym) *k_syms;
static size_t k_nsyms;
static char *k_str;
static uint64_t k_strsize;

static void
compload(const struct rump_component *c)
{
	if (c->id > 0 && c->id < 300)
		seen[c->id]++;
}

static void
modinit(const struct modinfo *const *mi, size_t n)
{
	nmods += (int)n;
	if (n > 0)
		modname = mi[0]->name;
}

static int
by_value(const void *a, const void *b)
{
	const ElfW(Sym) *x = a, *y = b;

	return x->st_value < y->st_value ? -1 : x->st_value > y->st_value;
}

static int
symload(void *symtab, uint64_t symsize, char *strtab, uint64_t strsize)
{
	ElfW(Sym) *s = symtab;
	size_t n = symsize / sizeof(*s);

	nsymloads++;
	if (k_syms != NULL) {		/* ksyms: one table per kernel */
		nrefused++;
		return EBUSY;
	}
	/* The kernel writes into both (sorting, its own flags), so they
	 * must be writable copies: a table in a mapped ELF file's
	 * read-only dynamic segment faults right here. */
	qsort(s, n, sizeof(*s), by_value);
	for (size_t i = 0; i < n; i++)
		s[i].st_other |= 0x80;
	if (strsize > 0)
		strtab[0] = '\0';
	k_syms = s;
	k_nsyms = n;
	k_str = strtab;
	k_strsize = strsize;
	return 0;
}

/* The kept table's entry for name, or NULL. */
static const ElfW(Sym) *
k_lookup(const char *name)
{
	for (size_t i = 0; i < k_nsyms; i++)
		if (k_syms[i].st_name < k_strsize &&
		    strcmp(k_str + k_syms[i].st_name, name) == 0)
			return &k_syms[i];
	return NULL;
}

int
main(void)
{
	ht_init(1);
	CHECK(rumptest_symbol_marker() == 42, "librumptest_comp is loaded");
	rumpuser_dl_bootstrap(modinit, symload, compload);
	CHECK(seen[101] == 1 && seen[102] == 1,
	    "both components of librumptest_comp.so were loaded once");
	CHECK(seen[201] == 1, "the main program's component was loaded once");
	CHECK(nmods == 1 && modname && strcmp(modname, "rumptest_mod") == 0,
	    "the module rumptest_mod was handed to modinit");
	CHECK(nsymloads == 1 && nrefused == 0,
	    "symload was called exactly once (%d calls, %d refused)",
	    nsymloads, nrefused);
	/* After bootstrap: the kept pointers still hold what was sent. */
	const ElfW(Sym) *lib = k_lookup("rumptest_symbol_marker");
	const ElfW(Sym) *mainsym = k_lookup("test_dl_main_marker");
	CHECK(lib != NULL && lib->st_value ==
	    (uintptr_t)&rumptest_symbol_marker,
	    "the librump* object's symbol carries its real address "
	    "(%#lx, want %p)", lib ? (unsigned long)lib->st_value : 0UL,
	    (void *)&rumptest_symbol_marker);
	CHECK(mainsym != NULL && mainsym->st_value ==
	    (uintptr_t)&test_dl_main_marker,
	    "the main program's symbol carries its real address (%#lx, "
	    "want %p)", mainsym ? (unsigned long)mainsym->st_value : 0UL,
	    (void *)&test_dl_main_marker);
	size_t bad = 0, rewritten = 0;
	for (size_t i = 0; i < k_nsyms; i++) {
		if (k_syms[i].st_shndx == SHN_UNDEF ||
		    ELF64_ST_BIND(k_syms[i].st_info) != STB_GLOBAL ||
		    k_syms[i].st_name == 0 || k_syms[i].st_name >= k_strsize ||
		    memchr(k_str + k_syms[i].st_name, '\0',
		    k_strsize - k_syms[i].st_name) == NULL)
			bad++;
		rewritten += (k_syms[i].st_other & 0x80) != 0;
	}
	CHECK(k_nsyms > 2 && bad == 0 && rewritten == k_nsyms,
	    "all %zu entries are defined, global, named inside the one "
	    "string table, and kept the kernel's rewrites (%zu bad)",
	    k_nsyms, bad);
	CHECK(k_lookup("rumpuser_dl_bootstrap") == NULL,
	    "objects not named librump* (libkrank-hypercall) are left out");
	return ht_done("test_dl");
}
