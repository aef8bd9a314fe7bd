/*
 * Internals shared by the files of libkrank-loader: diagnostics, the
 * staged object (an ELF image copied into a private, not yet executable
 * mapping), and the checks run over it.
 */
#ifndef KLD_INT_H
#define KLD_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <elf.h>

#include "krank/kld.h"

#define KLD_MAX_SEGS	64		/* PT_LOAD entries we accept */
#define KLD_MAX_SPAN	(1ULL << 30)	/* largest address span we map */
#define KLD_MAX_REPORTS	200		/* lines printed per object */

/* A loaded object (kld_load.c; kld_park.c reuses them). */
struct kld_object {
	uint8_t *map;
	size_t mapsz;
	uintptr_t base;			/* map - lo: what st_value is added to */
	uint64_t lo, hi;
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strtab;
	uint64_t strsz;
	uintptr_t fini, fini_array;	/* absolute; validated at load */
	size_t nfini_array;
	uintptr_t init, init_array;	/* KLD_DEFER_INIT: for kld_run_init */
	size_t ninit_array;
	void *own;			/* malloc'd copy of syms and strtab */
	struct { uint64_t lo, hi; } x[KLD_MAX_SEGS];	/* verified code:
					 * the whole pages of PF_X segments */
	unsigned nx;
	bool pooled;			/* map came from kld_mem.get: */
	void (*put)(void *, void *, size_t);	/* ... goes back here */
	void *put_arg;
	struct kld_park_img *park;	/* parked image it runs in, or NULL */
};

/* diagnostics (kld_diag.c) */
void kld_report(struct kld_diag *d, enum kld_severity sev, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
void kld_stat_add(int which, uint64_t n);
enum { KLD_ST_CHECKED, KLD_ST_REJECTED, KLD_ST_VIOL, KLD_ST_WARN,
	KLD_ST_LOADS, KLD_ST_UNLOADS, KLD_ST_JITREF, KLD_ST_N };

struct kld_seg {
	uint64_t vaddr, memsz, off, filesz;
	uint32_t flags;		/* PF_R|PF_W|PF_X */
};

struct kld_scn {
	char name[32];
	uint64_t addr, size;
	uint64_t flags;
	uint32_t type;
};

/* Dynamic section facts (addresses are object-relative). */
struct kld_dyn {
	uint64_t symtab, strtab, strsz, syment;
	uint64_t rela, relasz, relaent;
	uint64_t jmprel, pltrelsz, pltrel;
	uint64_t init, fini, init_array, init_arraysz, fini_array, fini_arraysz;
	uint64_t hash, gnu_hash;
	uint64_t flags, flags_1;
	size_t nsyms;		/* bounded count of dynamic symbols */
	unsigned nneeded;
	bool has_dyn, textrel, has_rel;
};

/* An object staged in memory: mapped read+write only, relocations not
 * applied yet.  Owned by one thread. */
struct kld_stage {
	const char *name;
	const uint8_t *img;
	size_t len;
	Elf64_Ehdr eh;
	struct kld_seg seg[KLD_MAX_SEGS];
	unsigned nseg;
	uint64_t lo, hi;		/* page-aligned vaddr span */
	uint64_t relro_vaddr, relro_memsz;
	uint64_t dyn_vaddr, dyn_memsz;
	struct kld_scn *scn;
	size_t nscn;
	uint64_t *funcs;		/* sorted resync points (vaddr) */
	size_t nfuncs;
	uint8_t *map;			/* base of the staged bytes (vaddr lo) */
	size_t mapsz;
	/* kld_load of a small object stages in a resident scratch buffer
	 * (map) and reserves its final place (run) apart; kld_stage_map
	 * sets scratch then.  Otherwise run is map. */
	uint8_t *run;
	bool want_scratch, scratch;
	bool pooled;			/* map == run came from kld_set_mem's
					 * get: give back with its put */
	void (*put)(void *, void *, size_t);
	void *put_arg;
	/* The memfd holding the staged pages but the writable segments',
	 * written while the verifier ran (kld_load.c: stage_prewrite). */
	bool prewritten;
	int pubfd;
	struct kld_dyn dyn;
	unsigned flags;
	unsigned errors_before;
	struct kld_diag *diag;
};

/* kld_elf.c: parse headers into st (no mapping).  EINVAL when malformed;
 * rule violations are reported and counted in diag. */
int kld_elf_parse(struct kld_stage *st);
void kld_stage_fini(struct kld_stage *st);
const char *kld_where(const struct kld_stage *st, uint64_t vaddr,
    char *buf, size_t len);
/* kld_load.c */
int kld_stage_map(struct kld_stage *st);
int kld_dyn_parse(struct kld_stage *st);
int kld_relocs_check(struct kld_stage *st, const struct kld_symtab *exports);
void *kld_stage_ptr(const struct kld_stage *st, uint64_t vaddr, uint64_t size);
/* kld_fastlen.c: length of a common, certainly allowed instruction at
 * p, or 0 if Zydis must decide */
size_t kld_fast_len(const uint8_t *p, size_t avail);
/* kld_verify.c: check every executable segment of a staged object */
int kld_verify_stage(struct kld_stage *st);
/* The same in two steps: begin starts sweeping the large executable
 * regions on helper threads and returns; end sweeps what is left in the
 * calling thread, waits for the helpers, reports (nothing is reported
 * before) and frees the job.  Between them the staged executable pages
 * must not change (the helpers read them). */
struct kld_vjob;
int kld_verify_begin(struct kld_stage *st, struct kld_vjob **jobp);
int kld_verify_end(struct kld_vjob *job);
/* kld_symtab.c: changes whenever the table does; 0 for no table */
uint64_t kld_symtab_id(const struct kld_symtab *t);
/* kld_park.c: unloaded objects kept ready for the same image again.
 * take: a parked copy of exactly image (same exports, same flags),
 * its writable pages reset, as a new object (initialisers not run), or
 * NULL.  keep: remember o (loaded from st, protections set, no
 * initialiser run yet) for parking at its unload, in the group of the
 * parked objects of the same image if join (else a new one, which
 * kld_park.c's reload replaces).  release: at unload,
 * after the finalisers: park o's image or free it; frees o. */
struct kld_object *kld_park_take(const void *image, size_t len,
    uint64_t exports_id, unsigned flags, struct kld_diag *d);
void kld_park_keep(struct kld_object *o, const struct kld_stage *st,
    const void *image, size_t len, const struct kld_symtab *exports,
    uint64_t exports_id, unsigned flags, unsigned nwarn, bool join);
void kld_park_release(struct kld_object *o);
/* kld_load of o (not from the park) kept it as r: with deferred fresh
 * parking, queue r's twin (kld_park.c) */
void kld_park_loaded(struct kld_park_img *r);
/* write one byte back into every page of r's writable runs at map */
void kld_park_touch_rw(const struct kld_park_img *r, uint8_t *map);
/* kld_symtab_destroy: parked objects bound to t are not loaded again */
void kld_park_exports_gone(const struct kld_symtab *t);
/* kld_load.c: a new load of image (new place, full checks or the
 * verdict cache, never a parked object), initialisers not run; parked
 * at its unload if parking is on.  Diagnostics are dropped. */
int kld_load_fresh(const void *image, size_t len, const char *name,
    const struct kld_symtab *exports, unsigned flags,
    struct kld_object **objp);
/* kld_load.c: give an object's span back (pool) or unmap it */
void kld_obj_unmap(const struct kld_object *o);

#endif
