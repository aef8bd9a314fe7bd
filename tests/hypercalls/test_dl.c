/*
 * test_dl - rumpuser_dl_bootstrap finds components and modules in the
 * link sets of loaded objects (a librump* shared library and the main
 * program), hands each component over exactly once, and gives the kernel
 * the dynamic symbols of the librump* objects.
 */
#include <elf.h>
#include <link.h>
#include "hyptest.h"

struct rump_component { int id; };
struct modinfo { const char *name; };

static const struct rump_component comp_main = { 201 };
__attribute__((section("link_set_rump_components"), used))
static const void *const link_comp_main = &comp_main;

int rumptest_symbol_marker(void);

static int seen[300], nmods, marker_found, nsymloads;
static const char *modname;

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
symload(void *symtab, uint64_t symsize, char *strtab, uint64_t strsize)
{
	ElfW(Sym) *s = symtab;
	nsymloads++;
	for (size_t i = 0; i < symsize / sizeof(*s); i++)
		if (s[i].st_name < strsize &&
		    strcmp(strtab + s[i].st_name, "rumptest_symbol_marker") == 0 &&
		    s[i].st_shndx != SHN_UNDEF)
			marker_found = 1;
	return 0;
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
	CHECK(nsymloads >= 1 && marker_found,
	    "symload got the librump* symbol table (%d tables)", nsymloads);
	return ht_done("test_dl");
}
