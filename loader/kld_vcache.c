/*
 * The verdict cache: an object's code that passed the instruction rules
 * once is not decoded again (decoding was most of a large isolate's
 * start).  The key is the SHA-256 of what the verdict depends on - the
 * executable pages exactly as staged for this load, their addresses, the
 * resync points inside them and the mode - computed afresh at every
 * load: a path, a time or a file's identity is never trusted.  Only
 * accepted verdicts are kept, so a lost or refused entry costs a
 * verification, never lets unverified code run.
 *
 * Entries live in memory (a direct-mapped table) and optionally in a
 * directory only KRANK's user can write: one 128-byte file per key,
 * named by the key's hex, written to a temporary name and renamed into
 * place.  A file is believed only if it is a regular file of ours that
 * nobody else may write, exactly 128 bytes, carries our magic, the key
 * we asked for, the mode, the current verifier version and a correct
 * SHA-256 of its first 96 bytes.  The checksum catches corruption; the
 * directory's owner and mode keep others out (an attacker who can write
 * as KRANK's user can also replace KRANK itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Zydis/Zydis.h>

#include "kld_int.h"
#include "kld_vcache.h"

#define VC_MAGIC	"KLDVC\0\0\1"
#define VC_VERLEN	48
#define VC_SIZE		128
#define VC_SUMMED	96		/* bytes covered by the checksum */
#define VC_SLOTS	4096		/* memory entries (direct-mapped) */

struct vc_file {
	char magic[8];
	char version[VC_VERLEN];
	uint8_t key[KLD_SHA256_LEN];
	uint32_t mode;			/* flags & KLD_STRICT */
	uint32_t nwarn;
	uint8_t sum[KLD_SHA256_LEN];
};
_Static_assert(sizeof(struct vc_file) == VC_SIZE, "cache entry layout");

struct vc_slot {
	uint8_t key[KLD_SHA256_LEN];
	uint32_t nwarn;
	bool used;
};

static pthread_mutex_t vc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vc_slot *vc_mem;
#define VC_MEMLEN	(VC_SLOTS * sizeof(struct vc_slot))
static int vc_dirfd = -1;
static bool vc_on;
static _Atomic uint64_t vc_st[10];
enum { ST_LOOKUPS, ST_HITMEM, ST_HITDISK, ST_MISSES, ST_STORES, ST_STOREERR,
	ST_TRUNC, ST_TAMPER, ST_STALE, ST_FOREIGN };
static _Atomic unsigned vc_tmpseq;

/* A hash of the verifier's sources, generated at build time
 * (loader/local_vcache.mk); weak so that builds from the bare sources
 * (the fuzzer) link and call their verifier "unknown". */
extern const char kld_verifier_id[] __attribute__((weak));

static char vc_version[VC_VERLEN];
static pthread_once_t vc_version_once = PTHREAD_ONCE_INIT;

/* The verifier's sources (their hash, taken at build time) and the
 * Zydis library actually loaded decide what is accepted: a change to
 * either makes every stored entry stale. */
static void
version_fill(void)
{
	ZyanU64 z = ZydisGetVersion();

	char v[96] = { 0 };

	snprintf(v, sizeof(v), "kld-%.16s zydis-%u.%u.%u.%u",
	    kld_verifier_id != NULL ? kld_verifier_id : "unknown",
	    (unsigned)ZYDIS_VERSION_MAJOR(z),
	    (unsigned)ZYDIS_VERSION_MINOR(z), (unsigned)ZYDIS_VERSION_PATCH(z),
	    (unsigned)ZYDIS_VERSION_BUILD(z));
	memcpy(vc_version, v, sizeof(vc_version) - 1);	/* fits: < 48 */
}

const char *
kld_verifier_version(void)
{
	pthread_once(&vc_version_once, version_fill);
	return vc_version;
}

bool
kld_vcache_active(void)
{
	return __atomic_load_n(&vc_on, __ATOMIC_ACQUIRE);
}

void
kld_vcache_stats_get(struct kld_vcache_stats *s)
{
	s->lookups = vc_st[ST_LOOKUPS];
	s->hits_memory = vc_st[ST_HITMEM];
	s->hits_disk = vc_st[ST_HITDISK];
	s->misses = vc_st[ST_MISSES];
	s->stores = vc_st[ST_STORES];
	s->store_errors = vc_st[ST_STOREERR];
	s->bad_truncated = vc_st[ST_TRUNC];
	s->bad_tampered = vc_st[ST_TAMPER];
	s->bad_stale = vc_st[ST_STALE];
	s->bad_foreign = vc_st[ST_FOREIGN];
}

int
kld_vcache_enable(const char *dir, struct kld_diag *diag)
{
	struct stat sb;
	int fd, error;

	pthread_mutex_lock(&vc_lock);
	/* Mapped, not calloc'ed: a page of slots is zeroed by the kernel
	 * when first touched, where calloc cleared all 160 KiB at KRANK's
	 * boot (a lookup touches one page). */
	if (vc_mem == NULL) {
		void *m = mmap(NULL, VC_MEMLEN, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			pthread_mutex_unlock(&vc_lock);
			return ENOMEM;
		}
		vc_mem = m;
	}
	if (vc_dirfd >= 0) {
		close(vc_dirfd);
		vc_dirfd = -1;
	}
	__atomic_store_n(&vc_on, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vc_lock);
	(void)kld_verifier_version();
	if (dir == NULL)
		return 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		error = errno;
		kld_report(diag, KLD_ERROR, "krank-ld: verdict cache %s: cannot "
		    "create: %s", dir, strerror(error));
		return error;
	}
	/* O_NOFOLLOW: a symlink in the last component is refused; the
	 * descriptor then names this directory for good. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		error = errno;
		kld_report(diag, KLD_ERROR, "krank-ld: verdict cache %s: %s",
		    dir, error == ELOOP || error == ENOTDIR ?
		    "not a directory (a symlink?)" : strerror(error));
		return error == ELOOP || error == ENOTDIR ? EPERM : error;
	}
	if (fstat(fd, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
		kld_report(diag, KLD_ERROR, "krank-ld: verdict cache %s: must "
		    "be a directory owned by uid %u with mode 0700 (is uid %u, "
		    "mode %04o); using memory only", dir, (unsigned)geteuid(),
		    (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
		close(fd);
		return EPERM;
	}
	pthread_mutex_lock(&vc_lock);
	vc_dirfd = fd;
	pthread_mutex_unlock(&vc_lock);
	return 0;
}

void
kld_vcache_disable(void)
{
	pthread_mutex_lock(&vc_lock);
	__atomic_store_n(&vc_on, false, __ATOMIC_RELEASE);
	if (vc_mem != NULL)
		munmap(vc_mem, VC_MEMLEN);
	vc_mem = NULL;
	if (vc_dirfd >= 0)
		close(vc_dirfd);
	vc_dirfd = -1;
	pthread_mutex_unlock(&vc_lock);
}

static void
put_u64(struct kld_sha256 *c, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	kld_sha256_update(c, b, 8);
}

void
kld_vcache_key(const struct kld_stage *st, uint8_t key[KLD_SHA256_LEN])
{
	static const char domain[] = "krank-ld verdict key 1";
	struct kld_sha256 c = { .portable = false };
	size_t fi = 0;

	kld_sha256_init(&c);
	kld_sha256_update(&c, domain, sizeof(domain));
	put_u64(&c, st->flags & KLD_STRICT);
	for (unsigned i = 0; i < st->nseg; i++) {
		const struct kld_seg *s = &st->seg[i];
		uint64_t from = s->vaddr & ~4095ULL;
		uint64_t to = (s->vaddr + s->memsz + 4095) & ~4095ULL;
		size_t f0;

		if (!(s->flags & PF_X))
			continue;
		/* The same pages and resync points kld_verify_stage
		 * sweeps: whatever the verdict depends on. */
		while (fi < st->nfuncs && st->funcs[fi] < from)
			fi++;
		for (f0 = fi; fi < st->nfuncs && st->funcs[fi] < to; fi++)
			;
		put_u64(&c, from);
		put_u64(&c, to - from);
		put_u64(&c, fi - f0);
		for (size_t k = f0; k < fi; k++)
			put_u64(&c, st->funcs[k]);
		kld_sha256_update(&c, st->map + (from - st->lo), to - from);
		fi = f0;	/* segments may share resync points */
	}
	kld_sha256_final(&c, key);
}

static void
hexkey(const uint8_t key[KLD_SHA256_LEN], char out[2 * KLD_SHA256_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";

	for (int i = 0; i < KLD_SHA256_LEN; i++) {
		out[2 * i] = hx[key[i] >> 4];
		out[2 * i + 1] = hx[key[i] & 15];
	}
	out[2 * KLD_SHA256_LEN] = '\0';
}

static size_t
slot_of(const uint8_t key[KLD_SHA256_LEN], unsigned flags)
{
	uint32_t v;

	memcpy(&v, key, sizeof(v));
	return (v ^ (flags & KLD_STRICT)) % VC_SLOTS;
}

/* The key already covers the mode; it is compared again because the
 * slot index does not. */
static bool
mem_lookup(const uint8_t key[KLD_SHA256_LEN], unsigned flags,
    unsigned *nwarn)
{
	bool hit = false;

	pthread_mutex_lock(&vc_lock);
	if (vc_mem != NULL) {
		const struct vc_slot *s = &vc_mem[slot_of(key, flags)];

		if (s->used && memcmp(s->key, key, KLD_SHA256_LEN) == 0) {
			*nwarn = s->nwarn;
			hit = true;
		}
	}
	pthread_mutex_unlock(&vc_lock);
	return hit;
}

static void
mem_store(const uint8_t key[KLD_SHA256_LEN], unsigned flags, unsigned nwarn)
{
	pthread_mutex_lock(&vc_lock);
	if (vc_mem != NULL) {
		struct vc_slot *s = &vc_mem[slot_of(key, flags)];

		memcpy(s->key, key, KLD_SHA256_LEN);
		s->nwarn = nwarn;
		s->used = true;
	}
	pthread_mutex_unlock(&vc_lock);
}

static void
bad_entry(int which, const char *hex, const char *name, const char *why,
    struct kld_diag *d)
{
	vc_st[which]++;
	kld_report(d, KLD_WARNING, "krank-ld: %s: verdict cache entry %.16s "
	    "ignored (%s); verifying afresh", name, hex, why);
}

/* Read the entry file of key: true with *nwarn on a good entry. */
static bool
disk_lookup(int dirfd, const uint8_t key[KLD_SHA256_LEN], unsigned flags,
    const char *name, struct kld_diag *d, unsigned *nwarn)
{
	char hex[2 * KLD_SHA256_LEN + 1];
	uint8_t buf[VC_SIZE + 1], sum[KLD_SHA256_LEN];
	struct vc_file e;
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd;

	hexkey(key, hex);
	if ((fd = openat(dirfd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) < 0) {
		if (errno == ELOOP)
			bad_entry(ST_FOREIGN, hex, name, "a symlink", d);
		else if (errno != ENOENT)
			bad_entry(ST_FOREIGN, hex, name, strerror(errno), d);
		return false;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid() || (sb.st_mode & 022) != 0) {
		close(fd);
		bad_entry(ST_FOREIGN, hex, name, "not a regular file of ours "
		    "closed to writes by others", d);
		return false;
	}
	/* One byte more than an entry: a longer file is caught too. */
	while (got < sizeof(buf) && (n = read(fd, buf + got,
	    sizeof(buf) - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != VC_SIZE) {
		bad_entry(ST_TRUNC, hex, name, got < VC_SIZE ? "truncated" :
		    "too long", d);
		return false;
	}
	memcpy(&e, buf, sizeof(e));
	kld_sha256(buf, VC_SUMMED, sum);
	if (memcmp(e.magic, VC_MAGIC, sizeof(e.magic)) != 0 ||
	    memcmp(e.sum, sum, sizeof(sum)) != 0) {
		bad_entry(ST_TAMPER, hex, name, "bad magic or checksum", d);
		return false;
	}
	if (memcmp(e.key, key, KLD_SHA256_LEN) != 0 ||
	    e.mode != (flags & KLD_STRICT)) {
		bad_entry(ST_TAMPER, hex, name, "holds another key or mode", d);
		return false;
	}
	if (strncmp(e.version, kld_verifier_version(), VC_VERLEN) != 0) {
		bad_entry(ST_STALE, hex, name, "written by another verifier "
		    "version", d);
		return false;
	}
	*nwarn = e.nwarn;
	return true;
}

bool
kld_vcache_lookup(const uint8_t key[KLD_SHA256_LEN], unsigned flags,
    const char *name, struct kld_diag *d, unsigned *nwarn)
{
	int dirfd;

	vc_st[ST_LOOKUPS]++;
	if (mem_lookup(key, flags, nwarn)) {
		vc_st[ST_HITMEM]++;
		return true;
	}
	/* Unlocked: kld_vcache_enable/disable run at start-up only, not
	 * while loads are under way (kld.h). */
	dirfd = __atomic_load_n(&vc_dirfd, __ATOMIC_ACQUIRE);
	if (dirfd >= 0 && disk_lookup(dirfd, key, flags, name, d, nwarn)) {
		vc_st[ST_HITDISK]++;
		mem_store(key, flags, *nwarn);
		return true;
	}
	vc_st[ST_MISSES]++;
	return false;
}

static int
disk_store(int dirfd, const uint8_t key[KLD_SHA256_LEN], unsigned flags,
    unsigned nwarn)
{
	char hex[2 * KLD_SHA256_LEN + 1], tmp[96];
	struct vc_file e;
	size_t done = 0;
	int fd, error = 0;

	memset(&e, 0, sizeof(e));
	memcpy(e.magic, VC_MAGIC, sizeof(e.magic));
	memcpy(e.version, kld_verifier_version(), sizeof(e.version));
	memcpy(e.key, key, KLD_SHA256_LEN);
	e.mode = flags & KLD_STRICT;
	e.nwarn = nwarn;
	kld_sha256(&e, VC_SUMMED, e.sum);
	hexkey(key, hex);
	snprintf(tmp, sizeof(tmp), ".tmp.%ld.%u", (long)getpid(),
	    vc_tmpseq++);
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return errno;
	while (done < sizeof(e)) {
		ssize_t w = write(fd, (const char *)&e + done,
		    sizeof(e) - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			error = w < 0 ? errno : EIO;
			break;
		}
		done += (size_t)w;
	}
	if (close(fd) != 0 && error == 0)
		error = errno;
	/* rename replaces any bad entry of the same key in one step:
	 * readers see the old file or the new one, never a part. */
	if (error == 0 && renameat(dirfd, tmp, dirfd, hex) != 0)
		error = errno;
	if (error != 0)
		(void)unlinkat(dirfd, tmp, 0);
	return error;
}

void
kld_vcache_store(const uint8_t key[KLD_SHA256_LEN], unsigned flags,
    unsigned nwarn, const char *name, struct kld_diag *d)
{
	int dirfd, error;

	mem_store(key, flags, nwarn);
	vc_st[ST_STORES]++;
	dirfd = __atomic_load_n(&vc_dirfd, __ATOMIC_ACQUIRE);
	if (dirfd >= 0 && (error = disk_store(dirfd, key, flags, nwarn)) != 0) {
		vc_st[ST_STOREERR]++;
		kld_report(d, KLD_INFO, "krank-ld: %s: verdict not written to "
		    "the cache directory: %s", name, strerror(error));
	}
}
