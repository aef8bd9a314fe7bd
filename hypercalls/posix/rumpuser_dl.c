/*
 * rumpuser_dl.c - rumpuser_dl_bootstrap: walk every loaded object, hand
 * the kernel the dynamic symbols of the rump kernel's objects and the main
 * program (for modules), then its kernel modules (link_set_modules) and
 * components (link_set_rump_components).  Objects are read from their
 * loaded dynamic sections; nothing is opened or parsed from disk.
 *
 * The symbols go to the kernel as NetBSD's kernel expects them
 * (rump_kernelfsym_load -> ksyms_addsyms_explicit): in ONE call, as one
 * table and one string table that are a private heap copy - the kernel
 * sorts and rewrites the entries in place and keeps both pointers for its
 * lifetime, so they are never freed - with st_value absolute (load base
 * added) and st_name an offset into the merged string table.  Only
 * defined global symbols are kept.  A second call would be refused by the
 * kernel (EBUSY) and its symbols lost.
 */
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include "rumpuser_int.h"

struct dlobj {
	const char *name;
	ElfW(Addr) base;
	const ElfW(Sym) *symtab;
	const char *strtab;
	size_t strsz;
	size_t nsyms;
};

/* Number of symbols from a DT_GNU_HASH table: the highest chain end. */
static size_t
gnuhash_nsyms(const uint32_t *h)
{
	uint32_t nbuckets = h[0], symoffset = h[1], bloomsz = h[2];
	const uint32_t *buckets = h + 4 + bloomsz * (sizeof(ElfW(Addr)) / 4);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t last = 0;

	for (uint32_t i = 0; i < nbuckets; i++)
		if (buckets[i] > last)
			last = buckets[i];
	if (last < symoffset)
		return symoffset;
	while ((chain[last - symoffset] & 1) == 0)
		last++;
	return last + 1;
}

/* Dynamic section addresses are relocated by glibc except on a few arches. */
static const void *
dyn_ptr(ElfW(Addr) base, ElfW(Addr) v)
{
	return (const void *)(v < base ? base + v : v);
}

static int
dlobj_fill(struct dl_phdr_info *info, struct dlobj *o)
{
	const ElfW(Dyn) *dyn = NULL;

	memset(o, 0, sizeof(*o));
	o->name = info->dlpi_name;
	o->base = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const void *)(info->dlpi_addr +
			    info->dlpi_phdr[i].p_vaddr);
	if (dyn == NULL)
		return -1;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			o->symtab = dyn_ptr(o->base, dyn->d_un.d_ptr);
			break;
		case DT_STRTAB:
			o->strtab = dyn_ptr(o->base, dyn->d_un.d_ptr);
			break;
		case DT_STRSZ:
			o->strsz = dyn->d_un.d_val;
			break;
		case DT_HASH:
			o->nsyms = ((const uint32_t *)dyn_ptr(o->base,
			    dyn->d_un.d_ptr))[1];
			break;
		case DT_GNU_HASH:
			if (o->nsyms == 0)
				o->nsyms = gnuhash_nsyms(dyn_ptr(o->base,
				    dyn->d_un.d_ptr));
			break;
		}
	}
	return o->symtab && o->strtab && o->nsyms ? 0 : -1;
}

static const void *
dlobj_lookup(const struct dlobj *o, const char *name)
{
	for (size_t i = 1; i < o->nsyms; i++) {
		const ElfW(Sym) *s = &o->symtab[i];
		/* ELF32_ST_BIND and ELF64_ST_BIND are the same: info >> 4. */
		if (s->st_shndx == SHN_UNDEF || s->st_name >= o->strsz)
			continue;
		if (strcmp(o->strtab + s->st_name, name) == 0)
			return (const void *)(o->base + s->st_value);
	}
	return NULL;
}

/* The merged symbol table being built (pass 0). */
struct symacc {
	ElfW(Sym) *syms;
	size_t n, cap;
	char *str;
	size_t slen, scap;
	int nomem;
};

static int
grow(void **p, size_t *cap, size_t need, size_t elsz)
{
	size_t n = *cap ? *cap : 256;
	void *q;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return 0;
	if ((q = realloc(*p, n * elsz)) == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

static void
symacc_add_object(struct symacc *a, const struct dlobj *o)
{
	for (size_t i = 1; i < o->nsyms && !a->nomem; i++) {
		const ElfW(Sym) *s = &o->symtab[i];
		const char *name;
		size_t nl;

		/* ELF32_ST_BIND and ELF64_ST_BIND are the same: info >> 4. */
		if (s->st_shndx == SHN_UNDEF ||
		    ELF64_ST_BIND(s->st_info) != STB_GLOBAL ||
		    s->st_name == 0 || s->st_name >= o->strsz)
			continue;
		name = o->strtab + s->st_name;
		nl = strnlen(name, o->strsz - s->st_name);
		if (nl == o->strsz - s->st_name)
			continue;	/* not terminated inside the table */
		if (grow((void **)&a->syms, &a->cap, a->n + 1,
		    sizeof(*a->syms)) != 0 ||
		    grow((void **)&a->str, &a->scap, a->slen + nl + 1, 1) != 0) {
			a->nomem = 1;
			return;
		}
		a->syms[a->n] = *s;
		a->syms[a->n].st_name = (ElfW(Word))a->slen;
		if (s->st_shndx != SHN_ABS)
			a->syms[a->n].st_value += o->base;
		a->n++;
		memcpy(a->str + a->slen, name, nl + 1);
		a->slen += nl + 1;
	}
}

struct dlwalk {
	struct symacc acc;
	rump_modinit_fn modinit;
	rump_symload_fn symload;
	rump_compload_fn compload;
	int pass;			/* 0 symbols, 1 modules, 2 components */
	const void **seen;		/* components already loaded */
	size_t nseen, maxseen;
};

static int
seen_add(struct dlwalk *w, const void *p)
{
	for (size_t i = 0; i < w->nseen; i++)
		if (w->seen[i] == p)
			return 0;
	if (w->nseen == w->maxseen) {
		size_t n = w->maxseen ? w->maxseen * 2 : 32;
		const void **s = realloc(w->seen, n * sizeof(*s));
		if (s == NULL)
			return 0;
		w->seen = s;
		w->maxseen = n;
	}
	w->seen[w->nseen++] = p;
	return 1;
}

static int
dl_visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct dlwalk *w = arg;
	struct dlobj o;

	if (dlobj_fill(info, &o) != 0)
		return 0;
	if (w->pass == 0) {
		/* The rump kernel's own objects and the main program. */
		const char *base = strrchr(o.name, '/');
		base = base ? base + 1 : o.name;
		if (o.name[0] == '\0' || strncmp(base, "librump", 7) == 0)
			symacc_add_object(&w->acc, &o);
		return 0;
	}
	const char *startname = w->pass == 1 ? "__start_link_set_modules" :
	    "__start_link_set_rump_components";
	const char *stopname = w->pass == 1 ? "__stop_link_set_modules" :
	    "__stop_link_set_rump_components";
	const void *const *start = dlobj_lookup(&o, startname);
	const void *const *stop = dlobj_lookup(&o, stopname);
	if (start == NULL || stop == NULL || stop <= start)
		return 0;
	if (w->pass == 1) {
		if (w->modinit && seen_add(w, start))
			w->modinit((const struct modinfo *const *)start,
			    (size_t)(stop - start));
	} else {
		for (const void *const *c = start; c < stop; c++)
			if (w->compload && *c != NULL && seen_add(w, *c))
				w->compload(*c);
	}
	return 0;
}

/*
 * A static link keeps link sets in the main program, whose __start_ and
 * __stop_ symbols need not be in its dynamic symbol table.
 */
extern const void *const __start_link_set_modules[] __attribute__((weak));
extern const void *const __stop_link_set_modules[] __attribute__((weak));
extern const void *const __start_link_set_rump_components[] __attribute__((weak));
extern const void *const __stop_link_set_rump_components[] __attribute__((weak));

void
rumpuser_dl_bootstrap(rump_modinit_fn domodinit, rump_symload_fn dosymload,
    rump_compload_fn docompload)
{
	struct dlwalk w = { .modinit = domodinit, .symload = dosymload,
	    .compload = docompload };

	if (dosymload != NULL) {
		w.acc.str = malloc(1);
		if (w.acc.str != NULL) {
			w.acc.str[0] = '\0';	/* offset 0: the empty name */
			w.acc.slen = w.acc.scap = 1;
			dl_iterate_phdr(dl_visit, &w);
		}
		/* Without memory the kernel gets no symbols (as with
		 * NetBSD's librumpuser): modules that need them fail to
		 * link, and say so; the rest works. */
		if (w.acc.str != NULL && !w.acc.nomem && w.acc.n > 0)
			dosymload(w.acc.syms, w.acc.n * sizeof(ElfW(Sym)),
			    w.acc.str, w.acc.slen);
		else {
			free(w.acc.syms);
			free(w.acc.str);
		}
		/* Otherwise the kernel owns both now, for good. */
	}
	w.pass = 1;
	const void *const *mstart = __start_link_set_modules;
	const void *const *mstop = __stop_link_set_modules;
	if (mstart != NULL && mstop > mstart && domodinit &&
	    seen_add(&w, mstart))
		domodinit((const struct modinfo *const *)mstart,
		    (size_t)(mstop - mstart));
	dl_iterate_phdr(dl_visit, &w);
	w.pass = 2;
	const void *const *cstart = __start_link_set_rump_components;
	const void *const *cstop = __stop_link_set_rump_components;
	if (cstart != NULL && docompload)
		for (const void *const *c = cstart; c < cstop; c++)
			if (*c != NULL && seen_add(&w, *c))
				docompload(*c);
	dl_iterate_phdr(dl_visit, &w);
	free(w.seen);
}
