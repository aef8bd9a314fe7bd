/*
 * libkrank-loader: the verifying ELF loader of KRANK (krank-ld).
 * Reads ELF64 x86-64 ET_DYN objects with libelf, verifies every executable
 * byte with the Zydis decoder, maps the object at a random base, relocates
 * it, binds its imports to an export table the host supplies, and runs its
 * initialisers.  Also the JIT API: code regions that are never writable and
 * executable at once.  See docs/loader.md for the rules and threat model.
 *
 * Errors: functions return 0 or a positive errno value and never set the
 * host's errno.  Every problem found in an object is reported as one line
 * ("krank-ld: FILE: what: why") through a struct kld_diag.
 */
#ifndef KRANK_KLD_H
#define KRANK_KLD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for kld_verify, kld_load and kld_jit_seal. */
#define KLD_STRICT	0x1	/* hidden syscall/int 0x80 byte patterns are errors */
#define KLD_NO_INIT	0x2	/* kld_load: run no initialisers, nor finalisers at unload */
#define KLD_DEFER_INIT	0x4	/* kld_load: keep them for kld_run_init/fini */

enum kld_severity { KLD_ERROR = 0, KLD_WARNING = 1, KLD_INFO = 2 };

/* Receives one finished diagnostic line (no trailing newline). */
typedef void kld_diag_fn(void *arg, enum kld_severity sev, const char *line);

/*
 * Diagnostics sink.  Zero it, optionally set fn/arg, pass it to the calls
 * below.  nerrors/nwarnings count what was reported; first holds the first
 * error line (empty if none).  A NULL struct kld_diag pointer is allowed
 * everywhere and discards the messages.
 */
struct kld_diag {
	kld_diag_fn *fn;
	void *arg;
	unsigned nerrors;
	unsigned nwarnings;
	char first[256];
};

/*
 * kld_verify - check an ELF image against the isolate rules without
 * loading it: ELF64 x86-64 ET_DYN, no PT_INTERP, no PT_TLS, no W+X segment
 * or section, no executable stack, no text relocations, only implemented
 * relocation types, and every executable byte decodes to an allowed
 * instruction.  Reports every violation, not just the first.
 *   image, len: the file contents (not modified).  name: used in messages.
 *   flags: KLD_STRICT.
 * Returns 0 if the object is acceptable, EINVAL if it is not an ELF
 * object KRANK can use (malformed, wrong class or type), EACCES if it is
 * well formed but breaks a rule, ENOMEM.  Thread-safe.
 */
int kld_verify(const void *image, size_t len, const char *name,
    unsigned flags, struct kld_diag *diag);

/*
 * kld_verify_code - the instruction rules alone, over raw machine code
 * (used by kld_jit_seal and the verifier).  addr is the address shown in
 * messages; where names the region.  Returns 0 or EACCES.
 */
int kld_verify_code(const void *code, size_t len, uint64_t addr,
    const char *where, unsigned flags, struct kld_diag *diag);
/*
 * kld_verify_set_parallel - how the sweep of a large executable region is
 * spread over threads: it is cut at resync points (function starts) into
 * up to 8 chunks per thread, taken in turn by `threads` threads (0: one
 * per online CPU, the caller's included), when it is at least min_len
 * bytes (default 256 KiB); the findings are reported in address
 * order, exactly as one serial sweep would.  kld_verify_code's raw code
 * has no resync points and is always swept serially.  For tests and
 * benchmarks; not thread-safe against running verifications.
 */
void kld_verify_set_parallel(unsigned threads, size_t min_len);

/* Export table: the names an isolate may import and what they bind to. */
struct kld_export {
	const char *name;
	void *addr;
};
struct kld_symtab;

/*
 * kld_symtab_create - an empty export table.  kld_symtab_add copies the
 * entries' pointers (names must outlive the table); a later entry with the
 * same name replaces an earlier one.  Not thread-safe while being built;
 * read-only and shareable once loads start.  Return 0 or ENOMEM.
 */
int kld_symtab_create(struct kld_symtab **tabp);
int kld_symtab_add(struct kld_symtab *tab, const struct kld_export *v,
    size_t n);
void *kld_symtab_lookup(const struct kld_symtab *tab, const char *name);
void kld_symtab_destroy(struct kld_symtab *tab);

/* The small isolate libc (memory, strings, ctype, strto*, snprintf family,
 * qsort/bsearch, errno, stdio on top of the host hooks below). */
extern const struct kld_export kld_libc_exports[];
extern const size_t kld_libc_nexports;

/*
 * Host hooks the isolate libc calls for what needs the system.  Any member
 * may be NULL: write then fails with EIO, allocation with ENOMEM, exit
 * aborts the process.  Set before loading isolates; not thread-safe.
 */
struct kld_libc_host {
	long (*write)(int fd, const void *buf, size_t len);
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*realloc)(void *, size_t);
	void (*exit)(int status);	/* must not return */
};
void kld_libc_set_host(const struct kld_libc_host *host);
/* kld_libc_errno_location - the calling thread's isolate errno (what an
 * isolate's `errno` names); the syscall shims store failures there. */
int *kld_libc_errno_location(void);

/* A loaded object. */
struct kld_object;

/*
 * kld_load - verify image, map it at a random base, apply its relocations,
 * bind its imports against exports, make RELRO read-only and run DT_INIT
 * and DT_INIT_ARRAY (unless KLD_NO_INIT).  All unresolved names are listed
 * in one error.  On failure nothing is left mapped.
 * Returns 0 and sets *objp, or EINVAL/EACCES (see kld_verify), ENOENT
 * (unresolved imports), ENOMEM.  Thread-safe.
 */
int kld_load(const void *image, size_t len, const char *name,
    const struct kld_symtab *exports, unsigned flags, struct kld_diag *diag,
    struct kld_object **objp);

/* kld_read_file - read a whole file into a malloc'd buffer (for callers
 * of kld_verify/kld_load).  Returns 0 or an errno value. */
int kld_read_file(const char *path, void **bufp, size_t *lenp,
    struct kld_diag *diag);

/*
 * Where kld_load takes an object's memory from.  By default each load
 * maps fresh pages at a random address, and the object's first touches
 * fault them in.  A host that keeps memory ready (KRANK's isolate pool,
 * krank/krk_pool.c) installs these hooks:
 *   get(arg, size): size bytes (a multiple of 4096), page-aligned,
 *     read+write, resident and zeroed, for the object's whole span; or
 *     NULL, and kld_load maps fresh pages as without hooks.
 *   put(arg, p, size): the span goes back (at kld_unload, or when a load
 *     fails after get).  Its pages may carry any protection kld_load set
 *     (read-only, read+execute, none); put must make them read+write and
 *     zero them before any later get returns them.
 * The loader writes and relocates the object in place and then sets its
 * protections with mprotect, as for a fresh mapping: no page is writable
 * and executable at once.  kld_verify never uses the hooks.  NULL
 * removes them.  Call at start-up, before loads; not thread-safe against
 * running loads.
 */
struct kld_mem {
	void *(*get)(void *arg, size_t size);
	void (*put)(void *arg, void *p, size_t size);
	void *arg;
};
void kld_set_mem(const struct kld_mem *mem);

/*
 * kld_set_park - keep up to n unloaded objects ready ("parked") for the
 * next kld_load of the same image; 0 (the default) turns parking off
 * and frees what is parked and idle.  A parked object keeps its mapping
 * with its final protections (code read+execute, RELRO read-only), a
 * private copy of the image bytes it was loaded from and of its
 * writable pages as they were after relocation, before initialisers.
 * kld_load of an image byte-for-byte equal to a parked one, with the same
 * export table (unchanged since: kld_symtab_add makes it another table)
 * and the same flags, takes that object: it copies the saved writable
 * pages back and runs the initialisers - no verification, no system
 * call, no page fault, no page ever writable and executable (the code
 * pages were verified and have not been writable since).  The price is
 * the address: a program started again from a parked object runs at
 * the base of its previous run, not at a new random one.  Least recently
 * unloaded objects are freed first.  Thread-safe.
 */
void kld_set_park(unsigned n);
/*
 * kld_set_park_fresh - with fresh on, parking never starts a program
 * twice at one place: at kld_unload, after the finalisers, the parked
 * object's span is given back (to kld_set_mem's put, or unmapped) and
 * the same image is loaded again - a new random place, verified (or its
 * verdict found in the verdict cache), relocated and protected as by any
 * kld_load - and parked unused.  The next kld_load of that image takes
 * it with no system call, page fault or reset.  The cost of a load moves
 * from the start to the unload before it; kld_unload of a parked object
 * is as slow as a load then (unless deferred: kld_set_park_defer).  The reload binds against the export table
 * the object was loaded with: do not destroy a table while an object
 * loaded against it may be unloading; objects whose table was destroyed
 * before their unload are freed instead.  Turning fresh on frees idle
 * objects that have run.  Thread-safe.
 */
void kld_set_park_fresh(int fresh);
/*
 * kld_set_park_defer - with fresh parking, take the reload off
 * kld_unload's path: kld_unload runs the finalisers and queues the
 * object (it stays busy: never taken, never freed by the limit), and the
 * host does the queued work by calling kld_park_work from a thread of
 * its choosing - KRANK's supervisor, after it has told the run's waiters
 * that it ended, so that a start right after a stop does not pay for it.
 * So that such a start does not find its program's object still
 * reloading, a program kept in one object gets a second ("twin"): when
 * a load takes or makes an object and nothing else loaded from the same
 * first load (its group) is idle, queued for a reload or being prepared,
 * one more object of that image is queued, loaded like a reload (new
 * place, verdict cache, W^X) and parked unused.  Bound: a group holds
 * at most one object more than it has running at once (two for a
 * program run by one isolate at a time), and idle objects of all
 * groups are at most kld_set_park's n (twins included; queued ones are
 * counted in `pending` until their reload parks them).
 *   notify(arg): called after work was queued, from the thread of the
 *     kld_load or kld_unload that queued it, with no loader lock held;
 *     it must not call into the loader.  NULL turns deferral off (work
 *     already queued waits for kld_park_work or kld_park_settle).
 * Thread-safe.
 */
void kld_set_park_defer(void (*notify)(void *arg), void *arg);
/*
 * kld_park_work - do the queued work in the calling thread: reloads of
 * stopped objects (or their freeing, when parking was turned off or
 * their export table destroyed meanwhile) and twins.  Returns how many
 * queued records it handled; 0 at once if another thread is doing the
 * work (that thread empties the queue, including what is queued
 * meanwhile).  kld_park_settle - return once nothing is queued or in
 * progress, doing the work itself when no other thread is: for tests
 * and counters (kld_park_stats_get right after an unload), and for
 * shutdown.  kld_set_park(0) settles (queued objects are freed), and
 * kld_symtab_destroy waits for a reload in progress against that
 * table.  Thread-safe.
 */
unsigned kld_park_work(void);
void kld_park_settle(void);
struct kld_park_stats {
	uint64_t taken;			/* loads served from a parked object */
	uint64_t kept;			/* objects that became parkable */
	uint64_t refused;		/* loads not parkable (layout, memory) */
	uint64_t freed;			/* parked objects freed (limit, off) */
	uint64_t parked;		/* idle parked objects now */
	uint64_t refreshed;		/* loaded again at unload (fresh) */
	uint64_t twins;			/* second objects prepared (deferred) */
	uint64_t pending;		/* queued work now (deferred) */
};
void kld_park_stats_get(struct kld_park_stats *st);

/* kld_sym - address of a defined dynamic symbol of obj, or NULL. */
void *kld_sym(const struct kld_object *obj, const char *name);
/* kld_entry - the address of a function to call: like kld_sym, but NULL
 * unless the symbol is a function (or untyped) and lies in the object's
 * executable pages, which are the ones the verifier checked.  Callers
 * jump only to what this returns. */
void *kld_entry(const struct kld_object *obj, const char *name);

/*
 * kld_addr_sym - name the address addr inside obj as "symbol+0xOFF" (the
 * nearest defined dynamic function or object at or below it; "+0xOFF"
 * from the load base when none).  Returns 0, ENOENT (not inside the
 * object), EINVAL.  Async-signal-safe apart from snprintf's formatting of
 * integers and strings.
 */
int kld_addr_sym(const struct kld_object *obj, uintptr_t addr, char *buf,
    size_t len);

/* kld_base - where the object was mapped; kld_span its size in bytes. */
uintptr_t kld_base(const struct kld_object *obj);
size_t kld_span(const struct kld_object *obj);

/*
 * kld_run_init - run the initialisers of an object loaded with
 * KLD_DEFER_INIT (DT_INIT, then DT_INIT_ARRAY) in the calling thread;
 * once.  kld_run_fini - its finalisers (DT_FINI_ARRAY reversed, DT_FINI),
 * once; kld_unload then runs none.  kld_forget_fini - drop the
 * finalisers without running them (an object whose program faulted).
 */
void kld_run_init(struct kld_object *obj);
void kld_run_fini(struct kld_object *obj);
void kld_forget_fini(struct kld_object *obj);

/* kld_unload - run DT_FINI_ARRAY (reverse) and DT_FINI, unmap everything. */
void kld_unload(struct kld_object *obj);

/*
 * kld_info - describe an object (headers, segments, sections, dynamic
 * entries, imports) one line at a time through diag as KLD_INFO.
 * Returns 0 or EINVAL.
 */
int kld_info(const void *image, size_t len, const char *name,
    struct kld_diag *diag);

/*
 * JIT API.  A region is created writable and not executable.  Sealing
 * fills the bytes past `used` with int3 (0xcc), makes the region read-only,
 * verifies all of it with kld_verify_code, and only then makes it
 * read+execute; unsealing switches it back to read+write.
 * No page of a region is ever writable and executable at once.
 *   kld_jit_alloc: size rounded up to pages.  Returns 0, EINVAL, ENOMEM.
 *   kld_jit_seal: returns 0, EACCES (verification failed; the region
 *     stays writable), EINVAL (used > size or already sealed).
 *   kld_jit_unseal: returns 0 or EINVAL (not sealed).
 * A region is used by one thread at a time.
 */
struct kld_jit;
int kld_jit_alloc(size_t size, struct kld_jit **jitp);
void *kld_jit_code(const struct kld_jit *jit);
size_t kld_jit_size(const struct kld_jit *jit);
int kld_jit_seal(struct kld_jit *jit, size_t used, unsigned flags,
    struct kld_diag *diag);
int kld_jit_unseal(struct kld_jit *jit);
void kld_jit_free(struct kld_jit *jit);

/* Counters of untrusted input seen and refused, since process start. */
struct kld_stats {
	uint64_t objects_checked;	/* kld_verify/kld_load calls */
	uint64_t objects_rejected;	/* ... that failed */
	uint64_t violations;		/* error lines reported */
	uint64_t warnings;		/* warning lines reported */
	uint64_t loads;			/* successful loads */
	uint64_t unloads;
	uint64_t jit_seals_refused;
};
void kld_stats_get(struct kld_stats *st);

/*
 * Verdict cache: code that passed the instruction rules once is not
 * decoded again.  The key is the SHA-256 of the executable pages as
 * staged for this load (re-hashed at every load, never a path or a
 * time), where they lie, the resync points inside them and the mode
 * (KLD_STRICT); only accepted verdicts are kept.  Everything else
 * kld_load checks (headers, segments, relocations) runs every time.
 * kld_vcache_enable turns the cache on for every later kld_verify and
 * kld_load of the process: in memory, and also in the directory dir
 * unless dir is NULL.  dir is created mode 0700 if missing; it must be
 * a directory (not a symlink) owned by the effective user and closed to
 * group and others, else EPERM (the memory cache stays on).  Each entry
 * is one file named by its key, written atomically, holding the key,
 * the verifier's version and a SHA-256 of itself; a truncated, tampered,
 * foreign or stale (other verifier) entry is counted, reported as a
 * warning and ignored: the code is verified afresh.
 * Returns 0, EPERM, or an errno value of mkdir/open.  Not thread-safe
 * against loads running at the same time; call it at start-up.
 */
int kld_vcache_enable(const char *dir, struct kld_diag *diag);
/* Turn the cache off and forget the memory entries (files stay). */
void kld_vcache_disable(void);
struct kld_vcache_stats {
	uint64_t lookups;		/* loads that asked the cache */
	uint64_t hits_memory, hits_disk;
	uint64_t misses;		/* verified afresh */
	uint64_t stores, store_errors;	/* verdicts kept; files not written */
	uint64_t bad_truncated;		/* entry of the wrong size */
	uint64_t bad_tampered;		/* checksum, magic, key or mode wrong */
	uint64_t bad_stale;		/* written by another verifier version */
	uint64_t bad_foreign;		/* not a regular file of ours, 0600 */
};
void kld_vcache_stats_get(struct kld_vcache_stats *st);
/* The verifier's version as recorded in cache entries. */
const char *kld_verifier_version(void);

#ifdef __cplusplus
}
#endif
#endif /* KRANK_KLD_H */
