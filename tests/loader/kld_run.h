/*
 * For the loader's tests and benchmarks: one start of an isolate file -
 * read it, load it (verify, relocate, bind, initialisers), call its main,
 * unload it.  main's status, or -1 if the file could not be read or
 * loaded or has no main.  kld_run_quiet() gives the isolate libc a host
 * that discards what the programs write and allocates with malloc.
 */
#ifndef KLD_RUN_H
#define KLD_RUN_H

#include <stdlib.h>

#include "krank/kld.h"

static inline long
kld_run_to_null(int fd, const void *p, size_t n)
{
	(void)fd;
	(void)p;
	return (long)n;
}

static inline void
kld_run_quiet(void)
{
	struct kld_libc_host host = { .write = kld_run_to_null, .malloc = malloc,
	    .free = free, .realloc = realloc };

	kld_libc_set_host(&host);
}

static inline int
kld_run_file(const char *path, const struct kld_symtab *tab, unsigned flags)
{
	struct kld_object *o;
	int (*entry)(int, char **);
	char *argv[] = { (char *)path, NULL };
	void *buf;
	size_t len;
	int rc;

	if (kld_read_file(path, &buf, &len, NULL) != 0)
		return -1;
	rc = kld_load(buf, len, path, tab, flags, NULL, &o);
	free(buf);
	if (rc != 0)
		return -1;
	entry = (int (*)(int, char **))kld_sym(o, "main");
	rc = entry != NULL ? entry(1, argv) : -1;
	kld_unload(o);
	return rc;
}

#endif
