/*
 * krk_sys_exports.c - the isolate-visible system calls as an export table
 * for kld_load, from the one list krk_sys_exports.def (which also feeds
 * the link stub krank-cc links against).
 */
#include <krank/kld.h>

#include "krk.h"

/* The shims' prototypes differ from one another; the table only needs
 * their addresses, so each is declared here as a plain function. */
#define KLD_EXPORT(name, fn) void fn(void);
#include "krk_sys_exports.def"
#undef KLD_EXPORT

#define KLD_EXPORT(name, fn) { #name, (void *)fn },
static const struct kld_export krk_sys_table[] = {
#include "krk_sys_exports.def"
};
#undef KLD_EXPORT

int
krk_sys_exports(struct kld_symtab *tab)
{
	return kld_symtab_add(tab, krk_sys_table,
	    sizeof(krk_sys_table) / sizeof(krk_sys_table[0]));
}
