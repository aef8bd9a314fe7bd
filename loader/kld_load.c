/*
 * Staging, relocation, binding and unloading.  An object is copied into a
 * fresh anonymous mapping at a random address, or into resident memory
 * the host hands out (kld_set_mem: KRANK's isolate pool) (read+write,
 * nothing executable), checked there - dynamic section, relocations, the
 * instruction verifier over exactly the pages that will become executable
 * - then relocated, switched to its final protections (R, RX or RW; RELRO
 * read-only) and initialised.  Any failure unmaps everything.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kld_int.h"
#include "kld_vcache.h"

#define PG 4096ULL


/* The host's memory hooks (kld_set_mem); get == NULL: none.  Set at
 * start-up, read by every load after. */
static struct kld_mem kld_mem;

void
kld_set_mem(const struct kld_mem *mem)
{
	if (mem == NULL || mem->get == NULL || mem->put == NULL)
		memset(&kld_mem, 0, sizeof(kld_mem));
	else
		kld_mem = *mem;
}

/*
 * Where loads go.  Each load gets a random base (on top of the kernel's
 * own mmap randomisation), drawn from a keyed hash (SipHash-2-4 of a
 * per-process random key and a counter): a base an isolate sees says
 * nothing about the next one.  getrandom runs once per process.
 *
 * Objects of up to KLD_WIN_OBJ_MAX bytes land at a random page of one
 * 1 GiB window, itself at a random 1 GiB-aligned place in [1 TiB, 64 TiB)
 * chosen once per process.  A never-touched PROT_NONE page at the
 * window's start keeps the kernel's upper page-table levels for the
 * window alive, so a load allocates at most a last-level page table
 * instead of three new levels at a fresh random address (measured in
 * docs/PERFORMANCE.md).  Entropy: 18 bits per load within the window,
 * 16 bits for the window per process.  Loads are placed with
 * MAP_FIXED_NOREPLACE: a taken spot is retried elsewhere (up to
 * KLD_WIN_TRIES times, then the kernel chooses) and never replaced.
 * Larger objects, and all objects if no window could be reserved, go to
 * a random page in the whole range the same way.
 */
#define KLD_WIN_SIZE	(1ULL << 30)
#define KLD_WIN_OBJ_MAX	(KLD_WIN_SIZE / 4)
#define KLD_WIN_TRIES	8

static struct {
	pthread_once_t once;
	uint64_t key[2];		/* SipHash key, from getrandom */
	uint64_t ctr;			/* atomic */
	uintptr_t win;			/* 0: no window, hints only */
} kld_place = { .once = PTHREAD_ONCE_INIT };

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);	\
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);	\
} while (0)

/* SipHash-2-4 of one 8-byte message m under key k (Aumasson and
 * Bernstein's construction, written from the paper). */
static uint64_t
siphash_u64(const uint64_t k[2], uint64_t m)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k[1] ^ 0x7465646279746573ULL;
	uint64_t b = 8ULL << 56;	/* length byte, no tail */

	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t
place_random(void)
{
	return siphash_u64(kld_place.key,
	    __atomic_fetch_add(&kld_place.ctr, 1, __ATOMIC_RELAXED));
}

static void
place_init(void)
{
	if (getrandom(kld_place.key, sizeof(kld_place.key), GRND_NONBLOCK) !=
	    sizeof(kld_place.key)) {
		/* No entropy yet (early boot): the kernel's mmap
		 * randomisation still applies; the hash hides this. */
		kld_place.key[0] = (uint64_t)(uintptr_t)&kld_place ^
		    0x9e3779b97f4a7c15ULL;
		kld_place.key[1] = (uint64_t)(uintptr_t)&place_init;
	}
#ifndef KLD_NO_RANDOM_HINT
	for (int t = 0; t < KLD_WIN_TRIES; t++) {
		uintptr_t w = (uintptr_t)((1ULL << 40) + (place_random() %
		    ((63ULL << 40) / KLD_WIN_SIZE)) * KLD_WIN_SIZE);
		void *p = mmap((void *)w, PG, PROT_NONE, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

		if (p == (void *)w) {
			kld_place.win = w;
			break;
		}
		if (p != MAP_FAILED)	/* a kernel without NOREPLACE */
			munmap(p, PG);
	}
#endif
}

/* A random page-aligned address for a new mapping of sz bytes; the
 * caller maps it with MAP_FIXED_NOREPLACE when *fixed is set. */
static void *
random_place(size_t sz, bool *fixed)
{
	uint64_t x;

	pthread_once(&kld_place.once, place_init);
	*fixed = false;
#ifdef KLD_NO_RANDOM_HINT
	return NULL;
#endif
	x = place_random();
	*fixed = true;
	if (kld_place.win != 0 && sz <= KLD_WIN_OBJ_MAX)
		/* Pages 1 .. (window - sz): past the anchor, inside. */
		return (void *)(kld_place.win + PG +
		    ((x % ((KLD_WIN_SIZE - PG - sz) / PG + 1)) * PG));
	/* No window (all tries taken, e.g. by ASan's shadow) or a large
	 * object: anywhere in [1 TiB, 64 TiB). */
	return (void *)(uintptr_t)((1ULL << 40) +
	    ((x % ((63ULL << 40) >> 12)) << 12));
}

static const struct kld_seg *seg_of(const struct kld_stage *, uint64_t,
    uint64_t);

/* Pointer to [va, va+size) of the staged object, which must lie inside
 * one segment (gaps between segments stay inaccessible after load). */
void *
kld_stage_ptr(const struct kld_stage *st, uint64_t va, uint64_t size)
{
	if (seg_of(st, va, size) == NULL)
		return NULL;
	return st->map + (va - st->lo);
}

/*
 * Objects up to KLD_SCRATCH_MAX (kld_load only).  Writing an object into a fresh
 * anonymous mapping costs a page fault per page, and setting the final
 * protections on pages that are present costs an mprotect that rewrites
 * page tables and flushes the TLB; on a paravirtualised host these take
 * ~20 us each, most of a load.  So an object of at most KLD_SCRATCH_MAX
 * bytes is staged - checked, verified, relocated for its final address -
 * in a scratch buffer that stays resident from load to load, while its
 * final place is only reserved (PROT_NONE).  Once accepted its bytes are
 * written to a new sealed memfd, which is mapped privately over the
 * reservation: the kernel copies without faults, the protections are set
 * before any page is present, and the isolate's first touches map the
 * pages a fault-around at a time.  Every load still gets a new mapping
 * at a new random place; the scratch buffer is zeroed after each use.
 * Without memfd_create the bytes are copied into an anonymous mapping
 * as before.
 */
/* 8 MiB: a large isolate (1.1 MiB of code) paid ~440 faults per start
 * staged in a fresh mapping; its pages here stay resident (issue 16). */
#define KLD_SCRATCH_MAX	(8ULL << 20)
#define KLD_SCRATCH_N	4
/* In the library's bss, not mapped per use: only the pages loads touch
 * become resident, and loading adds no mapping that outlives the object
 * (tests count them).  Busy slots: scratch_busy, under scratch_lock. */
static uint8_t scratch_mem[KLD_SCRATCH_N][KLD_SCRATCH_MAX]
    __attribute__((aligned(4096)));
static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned scratch_busy;
static bool no_memfd;			/* memfd_create failed once */

/* A scratch buffer (old contents: kld_stage_map writes every byte of
 * the span it uses), or NULL when all are in use. */
static uint8_t *
scratch_get(void)
{
	uint8_t *b = NULL;

	pthread_mutex_lock(&scratch_lock);
	for (unsigned i = 0; i < KLD_SCRATCH_N && b == NULL; i++)
		if (!(scratch_busy & (1u << i))) {
			scratch_busy |= 1u << i;
			b = scratch_mem[i];
		}
	pthread_mutex_unlock(&scratch_lock);
	return b;
}

/* Give back a buffer.  It is not zeroed here (1.8 MiB for the large
 * benchmark isolate, on the load's path after the verdict): the next
 * kld_stage_map zeroes only what it does not copy. */
static void
scratch_put(uint8_t *b)
{
	unsigned i = (unsigned)((b - scratch_mem[0]) / KLD_SCRATCH_MAX);

	pthread_mutex_lock(&scratch_lock);
	scratch_busy &= ~(1u << i);
	pthread_mutex_unlock(&scratch_lock);
}

/* Undo kld_stage_map: the mapping (or reservation) and the scratch. */
static void
stage_unmap(struct kld_stage *st)
{
	if (st->prewritten) {
		close(st->pubfd);
		st->prewritten = false;
	}
	if (st->map == NULL)
		return;
	if (st->pooled)
		st->put(st->put_arg, st->map, st->mapsz);
	else if (st->scratch) {
		munmap(st->run, st->mapsz);
		scratch_put(st->map);
	} else
		munmap(st->map, st->mapsz);
	st->map = st->run = NULL;
	st->scratch = st->pooled = false;
}

static int
publish_fd(void)
{
	int fd = -1;

	if (!__atomic_load_n(&no_memfd, __ATOMIC_RELAXED) &&
	    (fd = memfd_create("krank-ld", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) < 0)
		__atomic_store_n(&no_memfd, true, __ATOMIC_RELAXED);
	return fd;
}

/* Write the staged pages to fd at their offsets in the span: those of
 * the writable segments (w), or all the others (!w).  0 or -1. */
static int
write_pages(const struct kld_stage *st, int fd, bool w)
{
	uint64_t prev = st->lo;

	for (unsigned i = 0; i <= st->nseg; i++) {
		const struct kld_seg *s = &st->seg[i];
		uint64_t from = i < st->nseg ? s->vaddr & ~(PG - 1) : st->hi;
		uint64_t to = i < st->nseg ? (s->vaddr + s->memsz + PG - 1) &
		    ~(PG - 1) : st->hi;
		uint64_t a = w ? from : prev, b = w ? to : from;

		if (i < st->nseg && !(s->flags & PF_W))
			continue;
		while (a < b) {
			ssize_t n = pwrite(fd, st->map + (a - st->lo), b - a,
			    (off_t)(a - st->lo));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			a += (uint64_t)n;
		}
		prev = to;
	}
	return 0;
}

/*
 * While the verifier's helper threads sweep the scratch buffer, write
 * its pages that relocation will not change (all but the writable
 * segments' ones) to the memfd that stage_publish maps: that copy of a
 * large object costs about as much as a third of its sweep, and runs
 * beside it now instead of after it.  Reading the pages the helpers
 * read changes nothing for them.  Nothing is reported; on a failure the
 * publish writes everything itself as before.
 */
static void
stage_prewrite(struct kld_stage *st)
{
	int fd;

	if (!st->scratch || (fd = publish_fd()) < 0)
		return;
	if (write_pages(st, fd, false) != 0) {
		close(fd);
		return;
	}
	st->pubfd = fd;
	st->prewritten = true;
}

/* Move an accepted object from its scratch buffer to its reserved place
 * (read+write, private); afterwards map == run. */
static int
stage_publish(struct kld_stage *st)
{
	int fd = -1, error = 0;
	void *p = MAP_FAILED;
	bool pre = st->prewritten;

	if (!st->scratch)
		return 0;
	if (pre) {
		fd = st->pubfd;
		st->prewritten = false;
	} else
		fd = publish_fd();
	if (fd >= 0) {
		/* The relocated pages, or all of them. */
		bool ok = write_pages(st, fd, true) == 0 &&
		    (pre || write_pages(st, fd, false) == 0);

		/* Nobody may change the bytes once verified. */
		if (ok && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL |
		    F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK) == 0)
			p = mmap(st->run, st->mapsz, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_FIXED, fd, 0);
		close(fd);
	}
	if (p == MAP_FAILED) {
		p = mmap(st->run, st->mapsz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
		    -1, 0);
		if (p == MAP_FAILED)
			error = errno;
		else
			memcpy(st->run, st->map, st->mapsz);
	}
	if (error != 0)
		return error;		/* stage_unmap still releases both */
	scratch_put(st->map);
	st->map = st->run;
	st->scratch = false;
	return 0;
}

int
kld_stage_map(struct kld_stage *st)
{
	int fl = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	int prot = PROT_READ | PROT_WRITE;
	uint8_t *scratch = NULL;
	void *p;

	/* No MAP_POPULATE: it made a load in a process that forks (the
	 * benchmark's) ~5 us slower than faulting the pages in by copying,
	 * and no faster otherwise. */
	st->mapsz = st->hi - st->lo;
	/* Ready memory from the host (its place is the host's choice):
	 * resident and zeroed, so copying in and relocating take no page
	 * fault, and nothing needs publishing or populating after. */
	struct kld_mem mem = kld_mem;	/* one consistent copy */
	if (st->want_scratch && mem.get != NULL &&
	    (p = mem.get(mem.arg, st->mapsz)) != NULL) {
		st->map = st->run = p;
		st->pooled = true;
		st->put = mem.put;
		st->put_arg = mem.arg;
		for (unsigned i = 0; i < st->nseg; i++)
			memcpy(st->map + (st->seg[i].vaddr - st->lo),
			    st->img + st->seg[i].off, st->seg[i].filesz);
		return 0;
	}
	if (st->want_scratch && st->mapsz <= KLD_SCRATCH_MAX &&
	    (scratch = scratch_get()) != NULL)
		prot = PROT_NONE;	/* a reservation; see stage_publish */
	for (int t = 0; ; t++) {
		bool fixed;
		void *h = random_place(st->mapsz, &fixed);

		if (t == KLD_WIN_TRIES)
			fixed = false;	/* every spot taken: the kernel chooses */
		p = mmap(h, st->mapsz, prot,
		    fl | (fixed ? MAP_FIXED_NOREPLACE : 0), -1, 0);
		if (p != MAP_FAILED || !fixed || errno != EEXIST)
			break;
	}
	if (p == MAP_FAILED) {
		if (scratch != NULL)
			scratch_put(scratch);
		kld_report(st->diag, KLD_ERROR, "krank-ld: %s: cannot reserve "
		    "%zu bytes of address space", st->name, st->mapsz);
		return ENOMEM;
	}
	st->run = p;
	st->map = scratch != NULL ? scratch : p;
	st->scratch = scratch != NULL;
	if (scratch == NULL) {		/* fresh zero pages */
		for (unsigned i = 0; i < st->nseg; i++)
			memcpy(st->map + (st->seg[i].vaddr - st->lo),
			    st->img + st->seg[i].off, st->seg[i].filesz);
		return 0;
	}
	/* A used scratch buffer: every byte of the span is written, the
	 * segments' file bytes copied and everything else (gaps, bss, page
	 * tails) zeroed; segments ascend and do not overlap (kld_elf.c). */
	size_t done = 0;
	for (unsigned i = 0; i < st->nseg; i++) {
		size_t at = st->seg[i].vaddr - st->lo;

		memset(st->map + done, 0, at - done);
		memcpy(st->map + at, st->img + st->seg[i].off,
		    st->seg[i].filesz);
		done = at + st->seg[i].filesz;
	}
	memset(st->map + done, 0, st->mapsz - done);
	return 0;
}

static const struct kld_seg *
seg_of(const struct kld_stage *st, uint64_t va, uint64_t size)
{
	for (unsigned i = 0; i < st->nseg; i++) {
		const struct kld_seg *s = &st->seg[i];

		if (va >= s->vaddr && va - s->vaddr <= s->memsz &&
		    size <= s->memsz - (va - s->vaddr))
			return s;
	}
	return NULL;
}

/* Like kld_stage_ptr, but [va, va+size) must hold bytes from the file,
 * not zero fill: tables are walked entry by entry, and a walk over a
 * 1 GiB zero-filled segment would take seconds. */
static const void *
stage_file_ptr(const struct kld_stage *st, uint64_t va, uint64_t size)
{
	const struct kld_seg *s = seg_of(st, va, size);

	if (s == NULL || va - s->vaddr > s->filesz ||
	    size > s->filesz - (va - s->vaddr))
		return NULL;
	return st->map + (va - st->lo);
}

/* Number of symbols from DT_GNU_HASH: one past the highest chain end. */
static size_t
gnu_hash_count(const struct kld_stage *st, uint64_t va)
{
	const uint32_t *h = stage_file_ptr(st, va, 16), *buckets, *chain;
	uint32_t nbuckets, symoffset, bloom, maxsym = 0;

	if (h == NULL || (va & 7) != 0)
		return 0;
	nbuckets = h[0];
	symoffset = h[1];
	bloom = h[2];
	buckets = stage_file_ptr(st, va + 16 + (uint64_t)bloom * 8,
	    (uint64_t)nbuckets * 4);
	if (buckets == NULL)
		return 0;
	for (uint32_t i = 0; i < nbuckets; i++)
		if (buckets[i] > maxsym)
			maxsym = buckets[i];
	if (maxsym < symoffset)
		return symoffset;
	chain = stage_file_ptr(st, va + 16 + (uint64_t)bloom * 8 +
	    (uint64_t)nbuckets * 4, 0);
	if (chain == NULL)
		return 0;
	for (uint32_t i = maxsym; ; i++) {
		const uint32_t *c = stage_file_ptr(st, (uint64_t)(va + 16 +
		    (uint64_t)bloom * 8 + (uint64_t)nbuckets * 4 +
		    (uint64_t)(i - symoffset) * 4), 4);
		if (c == NULL)
			return 0;
		if (*c & 1)
			return (size_t)i + 1;
	}
}

int
kld_dyn_parse(struct kld_stage *st)
{
	struct kld_dyn *dy = &st->dyn;
	struct kld_diag *d = st->diag;
	const char *nm = st->name;
	const Elf64_Dyn *dyn;
	size_t n, i, bound;

	dy->syment = sizeof(Elf64_Sym);
	dy->relaent = sizeof(Elf64_Rela);
	if (!dy->has_dyn)
		return 0;		/* static PIE without dynamic: nothing to do */
	dyn = seg_of(st, st->dyn_vaddr, st->dyn_memsz) ? kld_stage_ptr(st,
	    st->dyn_vaddr, st->dyn_memsz) : NULL;
	if (dyn == NULL || ((uintptr_t)dyn & 7) != 0) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: PT_DYNAMIC (%#llx, %llu "
		    "bytes) is not inside a loaded segment", nm,
		    (unsigned long long)st->dyn_vaddr,
		    (unsigned long long)st->dyn_memsz);
		return EINVAL;
	}
	n = st->dyn_memsz / sizeof(Elf64_Dyn);
	for (i = 0; i < n && dyn[i].d_tag != DT_NULL; i++) {
		uint64_t v = dyn[i].d_un.d_val;

		switch (dyn[i].d_tag) {
		case DT_NEEDED: dy->nneeded++; break;
		case DT_SYMTAB: dy->symtab = v; break;
		case DT_STRTAB: dy->strtab = v; break;
		case DT_STRSZ: dy->strsz = v; break;
		case DT_SYMENT: dy->syment = v; break;
		case DT_RELA: dy->rela = v; break;
		case DT_RELASZ: dy->relasz = v; break;
		case DT_RELAENT: dy->relaent = v; break;
		case DT_JMPREL: dy->jmprel = v; break;
		case DT_PLTRELSZ: dy->pltrelsz = v; break;
		case DT_PLTREL: dy->pltrel = v; break;
		case DT_INIT: dy->init = v; break;
		case DT_FINI: dy->fini = v; break;
		case DT_INIT_ARRAY: dy->init_array = v; break;
		case DT_INIT_ARRAYSZ: dy->init_arraysz = v; break;
		case DT_FINI_ARRAY: dy->fini_array = v; break;
		case DT_FINI_ARRAYSZ: dy->fini_arraysz = v; break;
		case DT_HASH: dy->hash = v; break;
		case DT_GNU_HASH: dy->gnu_hash = v; break;
		case DT_FLAGS: dy->flags = v; break;
		case DT_FLAGS_1: dy->flags_1 = v; break;
		case DT_TEXTREL: dy->textrel = true; break;
		case DT_REL: case DT_RELSZ: dy->has_rel = true; break;
		case DT_PREINIT_ARRAY:
			kld_report(d, KLD_ERROR, "krank-ld: %s: DT_PREINIT_ARRAY "
			    "is not supported", nm);
			break;
		case 36: /* DT_RELR */
			kld_report(d, KLD_ERROR, "krank-ld: %s: DT_RELR packed "
			    "relocations are not implemented", nm);
			break;
		default:
			break;
		}
	}
	if (dy->textrel || (dy->flags & DF_TEXTREL))
		kld_report(d, KLD_ERROR, "krank-ld: %s: has text relocations "
		    "(DT_TEXTREL): code must be position-independent (-fPIC/"
		    "-fPIE)", nm);
	if (dy->has_rel)
		kld_report(d, KLD_ERROR, "krank-ld: %s: has REL relocations: "
		    "only RELA is implemented on x86-64", nm);
	if (dy->pltrelsz != 0 && dy->pltrel != DT_RELA)
		kld_report(d, KLD_ERROR, "krank-ld: %s: DT_PLTREL is %llu, not "
		    "DT_RELA", nm, (unsigned long long)dy->pltrel);
	if (dy->syment != sizeof(Elf64_Sym) || dy->relaent != sizeof(Elf64_Rela)) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: odd DT_SYMENT %llu or "
		    "DT_RELAENT %llu", nm, (unsigned long long)dy->syment,
		    (unsigned long long)dy->relaent);
		return EINVAL;
	}
	if ((dy->symtab != 0 && kld_stage_ptr(st, dy->symtab,
	    sizeof(Elf64_Sym)) == NULL) || (dy->symtab & 7) ||
	    (dy->strtab != 0 && kld_stage_ptr(st, dy->strtab, dy->strsz) == NULL) ||
	    (dy->relasz && (kld_stage_ptr(st, dy->rela, dy->relasz) == NULL ||
	    (dy->rela & 7))) ||
	    (dy->pltrelsz && (kld_stage_ptr(st, dy->jmprel, dy->pltrelsz) ==
	    NULL || (dy->jmprel & 7)))) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: a dynamic table (symbols "
		    "%#llx, strings %#llx+%llu, RELA %#llx+%llu, PLT %#llx+%llu) "
		    "lies outside the object", nm,
		    (unsigned long long)dy->symtab,
		    (unsigned long long)dy->strtab,
		    (unsigned long long)dy->strsz, (unsigned long long)dy->rela,
		    (unsigned long long)dy->relasz,
		    (unsigned long long)dy->jmprel,
		    (unsigned long long)dy->pltrelsz);
		return EINVAL;
	}
	if (dy->symtab == 0)
		return 0;
	{
		const struct kld_seg *sg = seg_of(st, dy->symtab, 0);

		/* Symbols come from the file: zero fill past it holds
		 * none (and would make every symbol walk long). */
		bound = dy->symtab - sg->vaddr < sg->filesz ? (sg->vaddr +
		    sg->filesz - dy->symtab) / sizeof(Elf64_Sym) : 0;
	}
	if (dy->hash != 0) {
		const uint32_t *h = kld_stage_ptr(st, dy->hash, 8);
		if (h != NULL && (dy->hash & 3) == 0)
			dy->nsyms = h[1];
	} else if (dy->gnu_hash != 0)
		dy->nsyms = gnu_hash_count(st, dy->gnu_hash);
	else if (dy->strtab > dy->symtab)
		dy->nsyms = (dy->strtab - dy->symtab) / sizeof(Elf64_Sym);
	if (dy->nsyms > bound)
		dy->nsyms = bound;
	return 0;
}

static const char *
sym_name(const struct kld_stage *st, const Elf64_Sym *s)
{
	const char *str = kld_stage_ptr(st, st->dyn.strtab, st->dyn.strsz);

	if (str == NULL || s->st_name >= st->dyn.strsz ||
	    memchr(str + s->st_name, '\0', st->dyn.strsz - s->st_name) == NULL)
		return NULL;
	return str + s->st_name;
}

static const char *
rtype_name(uint32_t t)
{
	static const char *const n[] = {
		"NONE", "64", "PC32", "GOT32", "PLT32", "COPY", "GLOB_DAT",
		"JUMP_SLOT", "RELATIVE", "GOTPCREL", "32", "32S", "16", "PC16",
		"8", "PC8", "DTPMOD64", "DTPOFF64", "TPOFF64", "TLSGD", "TLSLD",
		"DTPOFF32", "GOTTPOFF", "TPOFF32", "PC64", "GOTOFF64",
		"GOTPC32", "GOT64", "GOTPCREL64", "GOTPC64", "GOTPLT64",
		"PLTOFF64", "SIZE32", "SIZE64", "GOTPC32_TLSDESC",
		"TLSDESC_CALL", "TLSDESC", "IRELATIVE",
	};
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "unknown";
}

struct unres {
	const char **v;
	size_t n, cap;
	size_t chars;
};

static int
unres_add(struct unres *u, const char *name)
{
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->v[i], name) == 0)
			return 0;
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 8;
		const char **v = realloc(u->v, cap * sizeof(*v));

		if (v == NULL)
			return ENOMEM;
		u->v = v;
		u->cap = cap;
	}
	u->v[u->n++] = name;
	u->chars += strlen(name) + 2;
	return 0;
}

/* Check every relocation; with exports, bind and apply them too. */
static int
relocs(struct kld_stage *st, const struct kld_symtab *exports, bool apply)
{
	const struct kld_dyn *dy = &st->dyn;
	const char *nm = st->name;
	struct kld_diag *d = st->diag;
	uintptr_t base = (uintptr_t)st->run - st->lo;	/* final place */
	const Elf64_Sym *syms = dy->symtab ? kld_stage_ptr(st, dy->symtab,
	    0) : NULL;
	struct { uint64_t va, sz; } tab[2] = {
		{ dy->rela, dy->relasz }, { dy->jmprel, dy->pltrelsz } };
	struct unres u = { 0 };
	int error = 0;

	for (int t = 0; t < 2; t++) {
		const Elf64_Rela *r = kld_stage_ptr(st, tab[t].va, tab[t].sz);
		size_t n = tab[t].sz / sizeof(Elf64_Rela);

		for (size_t i = 0; r != NULL && i < n; i++) {
			uint32_t type = ELF64_R_TYPE(r[i].r_info);
			uint32_t si = ELF64_R_SYM(r[i].r_info);
			uint64_t off = r[i].r_offset, val = 0;
			const struct kld_seg *sg;
			char loc[64];

			if (type == R_X86_64_NONE)
				continue;
			if (type != R_X86_64_RELATIVE && type != R_X86_64_64 &&
			    type != R_X86_64_GLOB_DAT &&
			    type != R_X86_64_JUMP_SLOT) {
				kld_report(d, KLD_ERROR, "krank-ld: %s: "
				    "relocation R_X86_64_%s (type %u) at %#llx "
				    "is not implemented", nm, rtype_name(type),
				    type, (unsigned long long)off);
				continue;
			}
			if ((sg = seg_of(st, off, 8)) == NULL) {
				kld_report(d, KLD_ERROR, "krank-ld: %s: "
				    "relocation %zu targets %#llx, outside every "
				    "segment", nm, i, (unsigned long long)off);
				continue;
			}
			if (!(sg->flags & PF_W)) {
				kld_report(d, KLD_ERROR, "krank-ld: %s: text "
				    "relocation R_X86_64_%s at %s (%#llx): "
				    "target is not in a writable segment", nm,
				    rtype_name(type), kld_where(st, off, loc,
				    sizeof(loc)), (unsigned long long)off);
				continue;
			}
			if (type != R_X86_64_RELATIVE && si != 0) {
				const Elf64_Sym *s;
				const char *name;

				if (syms == NULL || si >= dy->nsyms) {
					kld_report(d, KLD_ERROR, "krank-ld: %s: "
					    "relocation at %#llx names symbol "
					    "%u of %zu", nm,
					    (unsigned long long)off, si,
					    dy->nsyms);
					continue;
				}
				s = &syms[si];
				if ((name = sym_name(st, s)) == NULL) {
					kld_report(d, KLD_ERROR, "krank-ld: %s: "
					    "symbol %u has a name outside the "
					    "string table", nm, si);
					continue;
				}
				if (ELF64_ST_TYPE(s->st_info) == STT_TLS ||
				    ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC) {
					kld_report(d, KLD_ERROR, "krank-ld: %s: "
					    "symbol %s is %s, not supported", nm,
					    name, ELF64_ST_TYPE(s->st_info) ==
					    STT_TLS ? "thread-local" :
					    "an indirect function (IFUNC)");
					continue;
				}
				if (s->st_shndx != SHN_UNDEF) {
					if (s->st_value >= st->hi - st->lo +
					    st->lo || s->st_value < st->lo) {
						kld_report(d, KLD_ERROR,
						    "krank-ld: %s: symbol %s "
						    "value %#llx lies outside "
						    "the object", nm, name,
						    (unsigned long long)
						    s->st_value);
						continue;
					}
					val = base + s->st_value;
				} else if (exports != NULL) {
					void *a = kld_symtab_lookup(exports,
					    name);

					if (a == NULL &&
					    ELF64_ST_BIND(s->st_info) !=
					    STB_WEAK) {
						if (unres_add(&u, name) != 0) {
							error = ENOMEM;
							goto out;
						}
						continue;
					}
					val = (uintptr_t)a;
				}
			}
			if (!apply)
				continue;
			if (type == R_X86_64_RELATIVE)
				val = base + r[i].r_addend;
			else if (type == R_X86_64_64)
				val += r[i].r_addend;
			memcpy(st->map + (off - st->lo), &val, sizeof(val));
		}
	}
	if (u.n > 0) {
		char *list = malloc(u.chars + 1);

		if (list == NULL) {
			error = ENOMEM;
			goto out;
		}
		list[0] = '\0';
		for (size_t i = 0; i < u.n; i++) {
			if (i > 0)
				strcat(list, ", ");
			strcat(list, u.v[i]);
		}
		kld_report(d, KLD_ERROR, "krank-ld: %s: %zu unresolved "
		    "symbol%s (not in the export table): %s", nm, u.n,
		    u.n == 1 ? "" : "s", list);
		free(list);
		error = ENOENT;
	}
out:
	free(u.v);
	return error;
}

int
kld_relocs_check(struct kld_stage *st, const struct kld_symtab *exports)
{
	return relocs(st, exports, false);
}

static bool
in_exec(const struct kld_stage *st, uint64_t va)
{
	const struct kld_seg *s = seg_of(st, va, 1);

	return s != NULL && (s->flags & PF_X);
}

/* Walks the span's runs of equal final protection, in address order,
 * counting those that differ from base and, with apply, setting them. */
struct prot_walk {
	struct kld_stage *st;
	int base;
	bool apply;
	unsigned nother;
	uint64_t from, to;		/* pending run, page-aligned vaddrs */
	int prot;			/* -1: none pending */
};

static int
walk_flush(struct prot_walk *w)
{
	if (w->prot < 0 || w->prot == w->base)
		return 0;
	w->nother++;
	if (w->apply && mprotect(w->st->map + (w->from - w->st->lo),
	    w->to - w->from, w->prot) != 0)
		return errno;
	return 0;
}

static int
walk_add(struct prot_walk *w, uint64_t from, uint64_t to, int prot)
{
	int error;

	if (to <= from)
		return 0;
	if (w->prot == prot && w->to == from) {
		w->to = to;
		return 0;
	}
	if ((error = walk_flush(w)) != 0)
		return error;
	w->from = from;
	w->to = to;
	w->prot = prot;
	return 0;
}

static int
protect_walk(struct prot_walk *w)
{
	const struct kld_stage *st = w->st;
	uint64_t rfrom = st->relro_vaddr & ~(PG - 1);
	uint64_t rto = (st->relro_vaddr + st->relro_memsz) & ~(PG - 1);
	uint64_t prev = st->lo;
	int error = 0;

	if (st->relro_memsz == 0 || rto <= rfrom)
		rfrom = rto = 0;
	w->nother = 0;
	w->prot = -1;
	for (unsigned i = 0; i < st->nseg && error == 0; i++) {
		const struct kld_seg *s = &st->seg[i];
		uint64_t from = s->vaddr & ~(PG - 1);
		uint64_t to = (s->vaddr + s->memsz + PG - 1) & ~(PG - 1);
		uint64_t a = from, b = from;
		int prot = PROT_READ;	/* final: R, RX or RW, never X alone */

		prot |= s->flags & PF_W ? PROT_WRITE : 0;
		prot |= s->flags & PF_X ? PROT_EXEC : 0;
		if (rto > rfrom && rfrom < to && rto > from) {
			a = rfrom > from ? rfrom : from;	/* RELRO */
			b = rto < to ? rto : to;
		}
		/* gap (inaccessible), segment, its RELRO part, the rest */
		if ((error = walk_add(w, prev, from, PROT_NONE)) != 0 ||
		    (error = walk_add(w, from, a, prot)) != 0 ||
		    (error = walk_add(w, a, b, PROT_READ)) != 0 ||
		    (error = walk_add(w, b, to, prot)) != 0)
			break;
		prev = to;
	}
	return error != 0 ? error : walk_flush(w);
}

/*
 * Final protections: R, RX or RW per segment (never X alone, never W and
 * X), RELRO read-only, gaps between segments inaccessible.  The span is
 * cut into runs of equal protection; the protection that leaves the
 * fewest runs to change is set over the whole span in one call (none if
 * it is the current read+write) and each other run gets its own.  A
 * program linked with -z separate-code -z relro (R, RX, R, RW all
 * RELRO) takes two mprotect calls instead of five.
 */
static int
protect(struct kld_stage *st)
{
	static const int cand[] = { PROT_READ | PROT_WRITE, PROT_READ,
	    PROT_READ | PROT_EXEC, PROT_NONE };
	struct prot_walk w = { .st = st };
	unsigned best_cost = ~0u;
	int best = PROT_READ | PROT_WRITE;

	for (unsigned c = 0; c < sizeof(cand) / sizeof(cand[0]); c++) {
		unsigned cost;

		w.base = cand[c];
		(void)protect_walk(&w);
		cost = w.nother + (cand[c] != (PROT_READ | PROT_WRITE));
		if (cost < best_cost) {
			best_cost = cost;
			best = cand[c];
		}
	}
	if (best != (PROT_READ | PROT_WRITE) &&
	    mprotect(st->map, st->mapsz, best) != 0)
		return errno;
	w.base = best;
	w.apply = true;
	return protect_walk(&w);
}

typedef void (*kld_initfn)(int, char **, char **);

/* Validate an array of code pointers (already relocated). */
static bool
check_fnarray(struct kld_stage *st, uint64_t va, uint64_t sz, const char *what)
{
	const uint64_t *a;
	uintptr_t base = (uintptr_t)st->run - st->lo;

	if (sz == 0)
		return true;
	if ((a = kld_stage_ptr(st, va, sz)) == NULL || (va & 7) || (sz & 7)) {
		kld_report(st->diag, KLD_ERROR, "krank-ld: %s: %s (%#llx, %llu "
		    "bytes) lies outside the object", st->name, what,
		    (unsigned long long)va, (unsigned long long)sz);
		return false;
	}
	for (size_t i = 0; i < sz / 8; i++) {
		uint64_t f;

		memcpy(&f, &a[i], 8);
		if (f == 0 || f == UINT64_MAX)
			continue;
		if (f < base || !in_exec(st, f - base)) {
			kld_report(st->diag, KLD_ERROR, "krank-ld: %s: %s entry "
			    "%zu (%#llx) does not point into the object's "
			    "code", st->name, what, i, (unsigned long long)f);
			return false;
		}
	}
	return true;
}

static void
run_fnarray(uintptr_t arr, size_t n, bool reverse)
{
	for (size_t k = 0; k < n; k++) {
		uint64_t f;

		memcpy(&f, (const void *)(arr + 8 * (reverse ? n - 1 - k : k)),
		    8);
		if (f != 0 && f != UINT64_MAX)
			((kld_initfn)(uintptr_t)f)(0, NULL, NULL);
	}
}

/*
 * The instruction rules over st's executable pages, or their verdict from
 * the cache (kld_vcache.c), keyed by a hash of exactly the staged bytes
 * that will be made executable.  Only an acceptance is stored.
 */
static int
verify_sweep(struct kld_stage *st)
{
	struct kld_vjob *job;
	int error;

	if ((error = kld_verify_begin(st, &job)) != 0)
		return error;
	stage_prewrite(st);
	return kld_verify_end(job);
}

static int
verify_cached(struct kld_stage *st)
{
	uint8_t key[KLD_SHA256_LEN];
	unsigned nwarn, w0;
	int error;

	if (!kld_vcache_active())
		return verify_sweep(st);
	kld_vcache_key(st, key);
	if (kld_vcache_lookup(key, st->flags, st->name, st->diag, &nwarn)) {
		if (nwarn != 0)
			kld_report(st->diag, KLD_WARNING, "krank-ld: %s: %u "
			    "warning%s when this code was verified (verdict "
			    "from the cache)", st->name, nwarn,
			    nwarn == 1 ? "" : "s");
		return 0;
	}
	w0 = st->diag->nwarnings;
	if ((error = verify_sweep(st)) == 0)
		kld_vcache_store(key, st->flags, st->diag->nwarnings - w0,
		    st->name, st->diag);
	return error;
}

/* Stage, check, optionally relocate.  On error the mapping is gone. */
static int
prepare(const void *image, size_t len, const char *name, unsigned flags,
    struct kld_diag *d, const struct kld_symtab *exports, bool apply,
    struct kld_stage *st)
{
	unsigned before = d->nerrors;
	int error, e2;

	memset(st, 0, sizeof(*st));
	st->name = name != NULL ? name : "(memory)";
	st->img = image;
	st->len = len;
	st->flags = flags;
	st->diag = d;
	st->want_scratch = apply;
	kld_stat_add(KLD_ST_CHECKED, 1);
	if ((error = kld_elf_parse(st)) != 0)
		goto fail;
	/* RELRO becomes an mprotect range: it must lie inside a segment. */
	if (st->relro_memsz != 0 && seg_of(st, st->relro_vaddr,
	    st->relro_memsz) == NULL) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: PT_GNU_RELRO (%#llx, "
		    "%llu bytes) is not inside a loaded segment", st->name,
		    (unsigned long long)st->relro_vaddr,
		    (unsigned long long)st->relro_memsz);
		error = EINVAL;
		goto fail;
	}
	if ((error = kld_stage_map(st)) != 0)
		goto fail;
	if ((error = kld_dyn_parse(st)) != 0)
		goto fail;
	error = verify_cached(st);
	e2 = relocs(st, exports, apply);
	if (e2 == ENOMEM || (error == 0 && e2 != 0))
		error = e2;
	if (error == 0 && apply &&
	    (!check_fnarray(st, st->dyn.init_array, st->dyn.init_arraysz,
	    "DT_INIT_ARRAY") || !check_fnarray(st, st->dyn.fini_array,
	    st->dyn.fini_arraysz, "DT_FINI_ARRAY")))
		error = EINVAL;
	if (error == 0 && ((st->dyn.init && !in_exec(st, st->dyn.init)) ||
	    (st->dyn.fini && !in_exec(st, st->dyn.fini)))) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: DT_INIT or DT_FINI "
		    "does not point into the object's code", st->name);
		error = EINVAL;
	}
	if (error == 0 && d->nerrors != before)
		error = EACCES;
	if (error == 0)
		return 0;
fail:
	stage_unmap(st);
	kld_stage_fini(st);
	kld_stat_add(KLD_ST_REJECTED, 1);
	return error;
}

int
kld_verify(const void *image, size_t len, const char *name, unsigned flags,
    struct kld_diag *diag)
{
	struct kld_diag local = { 0 };
	struct kld_stage st;
	int error;

	error = prepare(image, len, name, flags, diag ? diag : &local, NULL,
	    false, &st);
	if (error == 0) {
		stage_unmap(&st);
		kld_stage_fini(&st);
	}
	return error;
}

/*
 * Touch every page of a freshly loaded object once - read each page of
 * its segments, write back a byte of each page that stays writable -
 * so that the first instructions of its run find them mapped.  On a
 * host whose hypervisor fills its own page tables lazily (this PVM
 * guest: ~12-25 us per page at first touch after a mapping or
 * protection change, not a page fault the guest counts) that moves the
 * cost from the next start to the unload that prepared it.
 */
static void
touch(const struct kld_stage *st, const struct kld_object *o)
{
	for (unsigned i = 0; i < st->nseg; i++) {
		uint64_t from = st->seg[i].vaddr & ~(PG - 1);
		uint64_t to = (st->seg[i].vaddr + st->seg[i].memsz + PG - 1) &
		    ~(PG - 1);

		for (uint64_t va = from; va < to; va += PG)
			(void)*(volatile const uint8_t *)(st->map +
			    (va - st->lo));
	}
	if (o->park != NULL)
		kld_park_touch_rw(o->park, o->map);
}

/* kld_load's work; fresh: a new load for kld_park.c, which neither takes
 * a parked object nor runs initialisers. */
static int
load(const void *image, size_t len, const char *name,
    const struct kld_symtab *exports, unsigned flags, struct kld_diag *diag,
    bool fresh, struct kld_object **objp)
{
	struct kld_diag local = { 0 };
	struct kld_diag *d = diag ? diag : &local;
	struct kld_symtab *empty = NULL;
	const struct kld_symtab *given = exports;
	struct kld_object *o;
	struct kld_stage st;
	uint64_t exports_id = kld_symtab_id(exports);
	unsigned nwarn;
	bool published;
	int error;

	if (!fresh &&
	    (o = kld_park_take(image, len, exports_id, flags, d)) != NULL)
		goto ready;
	if (exports == NULL) {
		if ((error = kld_symtab_create(&empty)) != 0)
			return error;
		exports = empty;
	}
	nwarn = d->nwarnings;
	error = prepare(image, len, name, flags, d, exports, true, &st);
	kld_symtab_destroy(empty);
	if (error != 0)
		return error;
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		error = ENOMEM;
		goto fail;
	}
	published = st.scratch;
	/* A copy of the dynamic symbols and strings, taken from the scratch
	 * buffer: kld_sym then finds main without touching the object's
	 * first page, whose first touch costs a fault (~25 us on the VM)
	 * that the isolate itself never needs. */
	if (published && st.dyn.symtab != 0) {
		const void *sy = kld_stage_ptr(&st, st.dyn.symtab, 0);
		const void *sr = kld_stage_ptr(&st, st.dyn.strtab, st.dyn.strsz);
		size_t a = st.dyn.nsyms * sizeof(Elf64_Sym);

		if (sy != NULL && sr != NULL &&
		    (o->own = malloc(a + st.dyn.strsz + 1)) != NULL) {
			memcpy(o->own, sy, a);
			memcpy((char *)o->own + a, sr, st.dyn.strsz);
		}
	}
	if ((error = stage_publish(&st)) != 0) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: cannot map the object "
		    "at its place: %s", st.name, strerror(error));
		goto fail;
	}
	if ((error = protect(&st)) != 0) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: cannot set segment "
		    "protections: %s", st.name, strerror(error));
		goto fail;
	}
	/* Map the pages now, in one call, rather than one fault at a time
	 * in the isolate's first instructions (measured: ~30 us less). */
	if (published)
		(void)madvise(st.map, st.mapsz, MADV_POPULATE_READ);
	o->map = st.map;
	o->mapsz = st.mapsz;
	o->pooled = st.pooled;
	o->put = st.put;
	o->put_arg = st.put_arg;
	o->lo = st.lo;
	o->hi = st.hi;
	o->base = (uintptr_t)st.map - st.lo;
	for (unsigned i = 0; i < st.nseg; i++)
		if (st.seg[i].flags & PF_X) {
			o->x[o->nx].lo = st.seg[i].vaddr & ~4095ULL;
			o->x[o->nx].hi = (st.seg[i].vaddr + st.seg[i].memsz +
			    4095) & ~4095ULL;
			o->nx++;
		}
	if (st.dyn.symtab != 0) {
		o->syms = o->own ? o->own : kld_stage_ptr(&st, st.dyn.symtab,
		    0);
		o->nsyms = st.dyn.nsyms;
		o->strtab = o->own ? (const char *)o->own + st.dyn.nsyms *
		    sizeof(Elf64_Sym) : kld_stage_ptr(&st, st.dyn.strtab,
		    st.dyn.strsz);
		o->strsz = o->strtab ? st.dyn.strsz : 0;
	}
	/*
	 * KLD_NO_INIT: neither initialisers now nor finalisers at unload.
	 * KLD_DEFER_INIT: both are kept for kld_run_init/kld_run_fini, which
	 * the caller runs in the thread that should own them.
	 */
	o->fini = st.dyn.fini && !(flags & KLD_NO_INIT) ?
	    o->base + st.dyn.fini : 0;
	o->fini_array = st.dyn.fini_arraysz && !(flags & KLD_NO_INIT) ?
	    o->base + st.dyn.fini_array : 0;
	o->nfini_array = st.dyn.fini_arraysz / 8;
	if (!(flags & KLD_NO_INIT)) {
		o->init = st.dyn.init ? o->base + st.dyn.init : 0;
		o->init_array = st.dyn.init_arraysz ?
		    o->base + st.dyn.init_array : 0;
		o->ninit_array = st.dyn.init_arraysz / 8;
	}
	kld_park_keep(o, &st, image, len, given, exports_id, flags,
	    d->nwarnings - nwarn, !fresh);
	if (!fresh && o->park != NULL)
		kld_park_loaded(o->park);
	if (fresh)
		touch(&st, o);
	kld_stage_fini(&st);
	if (fresh) {
		*objp = o;
		return 0;
	}
ready:
	kld_stat_add(KLD_ST_LOADS, 1);
	if (!(flags & (KLD_NO_INIT | KLD_DEFER_INIT)))
		kld_run_init(o);
	*objp = o;
	return 0;
fail:
	if (o != NULL)
		free(o->own);
	free(o);
	stage_unmap(&st);
	kld_stage_fini(&st);
	kld_stat_add(KLD_ST_REJECTED, 1);
	return error;
}

int
kld_load(const void *image, size_t len, const char *name,
    const struct kld_symtab *exports, unsigned flags, struct kld_diag *diag,
    struct kld_object **objp)
{
	return load(image, len, name, exports, flags, diag, false, objp);
}

int
kld_load_fresh(const void *image, size_t len, const char *name,
    const struct kld_symtab *exports, unsigned flags,
    struct kld_object **objp)
{
	return load(image, len, name, exports, flags, NULL, true, objp);
}

void *
kld_sym(const struct kld_object *o, const char *name)
{
	for (size_t i = 1; i < o->nsyms; i++) {
		const Elf64_Sym *s = &o->syms[i];

		if (s->st_shndx == SHN_UNDEF || s->st_name >= o->strsz ||
		    s->st_value < o->lo || s->st_value >= o->hi)
			continue;
		size_t nl = strlen(name);

		if (nl < o->strsz - s->st_name &&
		    memcmp(o->strtab + s->st_name, name, nl + 1) == 0)
			return (void *)(o->base + s->st_value);
	}
	return NULL;
}

void *
kld_entry(const struct kld_object *o, const char *name)
{
	for (size_t i = 1; i < o->nsyms; i++) {
		const Elf64_Sym *s = &o->syms[i];
		unsigned t = ELF64_ST_TYPE(s->st_info);
		size_t nl = strlen(name);

		if (s->st_shndx == SHN_UNDEF || s->st_name >= o->strsz ||
		    nl >= o->strsz - s->st_name ||
		    memcmp(o->strtab + s->st_name, name, nl + 1) != 0)
			continue;
		if (t != STT_FUNC && t != STT_NOTYPE)
			return NULL;
		for (unsigned j = 0; j < o->nx; j++)
			if (s->st_value >= o->x[j].lo && s->st_value < o->x[j].hi)
				return (void *)(o->base + s->st_value);
		return NULL;
	}
	return NULL;
}

int
kld_addr_sym(const struct kld_object *o, uintptr_t addr, char *buf,
    size_t len)
{
	const Elf64_Sym *best = NULL;
	uintptr_t off;

	if (len == 0)
		return EINVAL;
	buf[0] = '\0';
	if (addr < (uintptr_t)o->map || addr - (uintptr_t)o->map >= o->mapsz)
		return ENOENT;
	off = addr - o->base;
	for (size_t i = 1; i < o->nsyms; i++) {
		const Elf64_Sym *s = &o->syms[i];

		if (s->st_shndx == SHN_UNDEF || s->st_name >= o->strsz ||
		    s->st_value < o->lo || s->st_value >= o->hi ||
		    s->st_value > off)
			continue;
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC &&
		    ELF64_ST_TYPE(s->st_info) != STT_OBJECT)
			continue;
		if (best == NULL || s->st_value > best->st_value)
			best = s;
	}
	if (best == NULL) {
		snprintf(buf, len, "+0x%lx", (unsigned long)off);
		return 0;
	}
	snprintf(buf, len, "%.*s+0x%lx", (int)strnlen(o->strtab + best->st_name,
	    o->strsz - best->st_name), o->strtab + best->st_name,
	    (unsigned long)(off - best->st_value));
	return 0;
}

uintptr_t
kld_base(const struct kld_object *o)
{
	return (uintptr_t)o->map;
}

size_t
kld_span(const struct kld_object *o)
{
	return o->mapsz;
}

void
kld_run_init(struct kld_object *o)
{
	uintptr_t init = o->init, arr = o->init_array;

	o->init = o->init_array = 0;	/* once */
	if (init)
		((kld_initfn)init)(0, NULL, NULL);
	if (arr)
		run_fnarray(arr, o->ninit_array, false);
}

void
kld_run_fini(struct kld_object *o)
{
	uintptr_t fini = o->fini, arr = o->fini_array;

	o->fini = o->fini_array = 0;	/* once; unload runs none after */
	if (arr)
		run_fnarray(arr, o->nfini_array, true);
	if (fini)
		((void (*)(void))fini)();
}

void
kld_forget_fini(struct kld_object *o)
{
	o->fini = o->fini_array = 0;
}

void
kld_unload(struct kld_object *o)
{
	if (o == NULL)
		return;
	if (o->fini_array)
		run_fnarray(o->fini_array, o->nfini_array, true);
	if (o->fini)
		((void (*)(void))o->fini)();
	kld_stat_add(KLD_ST_UNLOADS, 1);
	if (o->park != NULL) {
		kld_park_release(o);
		return;
	}
	kld_obj_unmap(o);
	free(o->own);
	free(o);
}

void
kld_obj_unmap(const struct kld_object *o)
{
	if (o->pooled)
		o->put(o->put_arg, o->map, o->mapsz);
	else
		munmap(o->map, o->mapsz);
}

int
kld_read_file(const char *path, void **bufp, size_t *lenp,
    struct kld_diag *d)
{
	struct stat sb;
	uint8_t *buf;
	size_t got = 0;
	int fd, error;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = errno;
		kld_report(d, KLD_ERROR, "krank-ld: %s: cannot open: %s", path,
		    strerror(error));
		return error;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size > KLD_MAX_SPAN) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: not a regular file of "
		    "at most %llu bytes", path,
		    (unsigned long long)KLD_MAX_SPAN);
		close(fd);
		return EINVAL;
	}
	if ((buf = malloc(sb.st_size ? (size_t)sb.st_size : 1)) == NULL) {
		close(fd);
		return ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);

		if (r <= 0) {
			error = r < 0 ? errno : EIO;
			if (error == EINTR)
				continue;
			kld_report(d, KLD_ERROR, "krank-ld: %s: read failed "
			    "after %zu bytes: %s", path, got, strerror(error));
			free(buf);
			close(fd);
			return error;
		}
		got += (size_t)r;
	}
	close(fd);
	*bufp = buf;
	*lenp = got;
	return 0;
}
