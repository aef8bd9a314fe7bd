/*
 * The verdict cache (loader/kld_vcache.c) and its SHA-256.
 *   test_kld_vcache PROGRAM.kx
 * SHA-256: the FIPS 180-4 / NIST example vectors, with the SHA extensions
 * and with the portable rounds, and both against each other on random
 * data split into random pieces.  The cache: a first verification is
 * stored, the second is a memory hit, after a restart a directory hit;
 * every bad entry (truncated, too long, checksum wrong, another key,
 * another verifier version, world-writable, a symlink) is counted and
 * the code verified afresh; one byte changed in the code is verified
 * again and gives the verdict an uncached verifier gives; a syscall
 * written into code whose verdict is cached is still refused; a cache
 * directory that others may write or that is a symlink is refused.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "krank/kld.h"
#include "kld_vcache.h"

static int failures, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

static void
hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void
sha_vector(bool portable, const char *msg, size_t reps, const char *want)
{
	struct kld_sha256 c = { .portable = portable };
	uint8_t d[32];
	char h[65];

	kld_sha256_init(&c);
	for (size_t i = 0; i < reps; i++)
		kld_sha256_update(&c, msg, strlen(msg));
	kld_sha256_final(&c, d);
	hex(d, h);
	CHECK(strcmp(h, want) == 0, "sha256(%s%.20s x%zu) = %s, want %s",
	    portable ? "portable, " : "", msg, reps, h, want);
}

static void
test_sha256(void)
{
	static const struct { const char *m; size_t reps; const char *h; } v[] = {
		{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223"
		    "b00361a396177a9cb410ff61f20015ad" },
		{ "", 1, "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    1, "248d6a61d20638b8e5c026930c3e6039"
		    "a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		    1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac4503"
		    "7afee9d1" },
		{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67"
		    "f1809a48a497200e046d39ccc7112cd0" },
	};
	uint8_t *buf = malloc(1 << 16);
	unsigned seed = 12345;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha_vector(false, v[i].m, v[i].reps, v[i].h);
		sha_vector(true, v[i].m, v[i].reps, v[i].h);
	}
	/* The extensions' rounds against the portable ones, on random
	 * lengths fed in random pieces (every padding case). */
	for (int i = 0; i < 1 << 16; i++)
		buf[i] = (uint8_t)(rand_r(&seed) >> 7);
	for (int t = 0; t < 400; t++) {
		size_t len = t < 200 ? (size_t)t : (size_t)rand_r(&seed) % (1 << 16);
		struct kld_sha256 a = { .portable = false }, b = { .portable = true };
		uint8_t da[32], db[32];
		size_t off = 0;

		kld_sha256_init(&a);
		kld_sha256_init(&b);
		while (off < len) {
			size_t k = (size_t)rand_r(&seed) % 150;

			if (k > len - off)
				k = len - off;
			kld_sha256_update(&a, buf + off, k);
			kld_sha256_update(&b, buf + off, k);
			off += k;
		}
		kld_sha256_final(&a, da);
		kld_sha256_final(&b, db);
		CHECK(memcmp(da, db, 32) == 0, "sha256 of %zu random bytes: "
		    "extensions and portable rounds differ", len);
	}
	free(buf);
	printf("ok   sha256: NIST vectors (both implementations), 400 random "
	    "lengths agree\n");
}

static struct kld_vcache_stats st0;

static void
mark(void)
{
	kld_vcache_stats_get(&st0);
}

/* Change of one counter since mark(). */
#define DELTA(f) ({ struct kld_vcache_stats s_; kld_vcache_stats_get(&s_); \
	s_.f - st0.f; })

static char cdir[256];

/* The name of the one entry in the cache directory. */
static int
entry_path(char *out, size_t len)
{
	DIR *d = opendir(cdir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			snprintf(out, len, "%s/%s", cdir, e->d_name);
			n++;
		}
	closedir(d);
	return n;
}

/* A restart: the memory entries are gone, the directory stays. */
static void
restart(void)
{
	kld_vcache_disable();
	CHECK(kld_vcache_enable(cdir, NULL) == 0, "re-enabling the cache");
}

static int
verify(const void *img, size_t len, unsigned flags)
{
	return kld_verify(img, len, "prog", flags, NULL);
}

static void
read_entry(const char *path, uint8_t e[128])
{
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0 && read(fd, e, 128) == 128, "reading %s", path);
	if (fd >= 0)
		close(fd);
}

static void
write_entry(const char *path, const void *e, size_t n)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, e, n) == (ssize_t)n, "writing %s", path);
	if (fd >= 0)
		close(fd);
}

/* Entry with its checksum made right again after a change. */
static void
resum(uint8_t e[128])
{
	kld_sha256(e, 96, e + 96);
}

/* One bad entry: counted under the right reason, verified afresh, and
 * replaced by a good entry (the next restart hits it). */
static void
bad_case(const char *what, const void *img, size_t len, const uint8_t *e,
    size_t elen, mode_t mode, bool symlink_it)
{
	char path[512], other[600];

	entry_path(path, sizeof(path));
	if (symlink_it) {
		snprintf(other, sizeof(other), "%s.target", cdir);
		write_entry(other, e, elen);
		unlink(path);
		CHECK(symlink(other, path) == 0, "symlink %s", path);
	} else {
		write_entry(path, e, elen);
		chmod(path, mode);
	}
	restart();
	mark();
	CHECK(verify(img, len, KLD_STRICT) == 0, "%s: verification failed",
	    what);
	CHECK(DELTA(misses) == 1 && DELTA(hits_disk) == 0 &&
	    DELTA(hits_memory) == 0, "%s: entry believed (misses +%llu)",
	    what, (unsigned long long)DELTA(misses));
	CHECK(DELTA(stores) == 1, "%s: fresh verdict not stored", what);
	restart();
	mark();
	CHECK(verify(img, len, KLD_STRICT) == 0 && DELTA(hits_disk) == 1,
	    "%s: the rewritten entry is not found after a restart", what);
	if (symlink_it)
		unlink(other);
}

#define BAD(what, img, len, e, elen, mode, sl, counter) do {		\
	struct kld_vcache_stats b_;					\
	kld_vcache_stats_get(&b_);					\
	bad_case(what, img, len, e, elen, mode, sl);		\
	struct kld_vcache_stats a_;					\
	kld_vcache_stats_get(&a_);					\
	CHECK(a_.counter == b_.counter + 1, "%s: not counted as %s",	\
	    what, #counter);						\
	printf("ok   bad entry, %s: counted as %s, verified afresh, "	\
	    "replaced\n", what, #counter);				\
} while (0)

/* File offset and size of the first executable segment. */
static bool
exec_range(const uint8_t *img, size_t len, size_t *off, size_t *sz)
{
	const Elf64_Ehdr *eh = (const void *)img;

	if (len < sizeof(*eh))
		return false;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff +
		    i * sizeof(Elf64_Phdr));

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    ph->p_filesz > 64) {
			*off = ph->p_offset;
			*sz = ph->p_filesz;
			return true;
		}
	}
	return false;
}

int
main(int argc, char **argv)
{
	char tmpl[] = "/tmp/test_kld_vcache.XXXXXX", path[512], other[600];
	uint8_t e[128], e2[128], *img, *mod;
	size_t len, xoff = 0, xsz = 0;
	struct kld_diag diag = { 0 };
	struct kld_symtab *tab;
	struct kld_object *obj;
	void *buf;

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_sha256();
	if (argc != 2) {
		fprintf(stderr, "usage: test_kld_vcache PROGRAM.kx\n");
		return 2;
	}
	if (kld_read_file(argv[1], &buf, &len, NULL) != 0) {
		printf("FAIL cannot read %s\n", argv[1]);
		return 1;
	}
	img = buf;
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(cdir, sizeof(cdir), "%s/cache", tmpl);

	/* Directories the cache must refuse. */
	snprintf(path, sizeof(path), "%s/open", tmpl);
	mkdir(path, 0755);
	chmod(path, 0755);
	CHECK(kld_vcache_enable(path, NULL) == EPERM, "mode 0755 accepted");
	snprintf(other, sizeof(other), "%s/link", tmpl);
	CHECK(symlink("cache", other) == 0, "symlink");
	mkdir(cdir, 0700);
	CHECK(kld_vcache_enable(other, NULL) == EPERM, "symlink accepted");
	printf("ok   cache directory: mode 0755 and a symlink refused\n");
	rmdir(cdir);

	/* Created 0700; first verification stored, second from memory,
	 * after a restart from the directory. */
	CHECK(kld_vcache_enable(cdir, NULL) == 0, "enable %s", cdir);
	{
		struct stat sb;

		CHECK(stat(cdir, &sb) == 0 && (sb.st_mode & 0777) == 0700,
		    "cache directory not created 0700");
	}
	mark();
	CHECK(verify(img, len, KLD_STRICT) == 0, "%s does not verify", argv[1]);
	CHECK(DELTA(misses) == 1 && DELTA(stores) == 1, "first verification "
	    "not a stored miss");
	CHECK(entry_path(path, sizeof(path)) == 1, "not one entry in %s", cdir);
	mark();
	CHECK(verify(img, len, KLD_STRICT) == 0 && DELTA(hits_memory) == 1,
	    "second verification not a memory hit");
	restart();
	mark();
	CHECK(verify(img, len, KLD_STRICT) == 0 && DELTA(hits_disk) == 1,
	    "after a restart not a directory hit");
	mark();
	CHECK(verify(img, len, 0) == 0 && DELTA(misses) == 1,
	    "lax mode used the strict verdict");
	printf("ok   verdicts: miss and store, memory hit, directory hit "
	    "after a restart, modes apart\n");
	/* The load path asks the cache too. */
	CHECK(kld_symtab_create(&tab) == 0 && kld_symtab_add(tab,
	    kld_libc_exports, kld_libc_nexports) == 0, "symtab");
	mark();
	CHECK(kld_load(img, len, "prog", tab, KLD_STRICT | KLD_NO_INIT, &diag,
	    &obj) == 0, "load: %s", diag.first);
	CHECK(DELTA(hits_memory) == 1, "kld_load did not use the cache");
	if (DELTA(hits_memory) == 1)
		kld_unload(obj);
	printf("ok   kld_load takes the cached verdict\n");

	/* Bad entries, one at a time (the good one re-read each time). */
	entry_path(path, sizeof(path));
	read_entry(path, e);
	BAD("truncated", img, len, e, 100, 0600, false, bad_truncated);
	BAD("empty", img, len, e, 0, 0600, false, bad_truncated);
	{
		uint8_t big[129];

		memcpy(big, e, 128);
		big[128] = 0;
		BAD("too long", img, len, big, 129, 0600, false,
		    bad_truncated);
	}
	memcpy(e2, e, 128);
	e2[92] ^= 1;		/* nwarn changed, checksum not */
	BAD("checksum", img, len, e2, 128, 0600, false, bad_tampered);
	memcpy(e2, e, 128);
	e2[0] ^= 0x20;		/* magic */
	resum(e2);
	BAD("magic", img, len, e2, 128, 0600, false, bad_tampered);
	memcpy(e2, e, 128);
	e2[60] ^= 1;		/* key */
	resum(e2);
	BAD("another key, checksum made right", img, len, e2, 128, 0600, false,
	    bad_tampered);
	memcpy(e2, e, 128);
	e2[88] ^= KLD_STRICT;	/* mode */
	resum(e2);
	BAD("another mode", img, len, e2, 128, 0600, false, bad_tampered);
	memcpy(e2, e, 128);
	e2[8 + 4] ^= 1;		/* the verifier's version */
	resum(e2);
	BAD("stale (other verifier version)", img, len, e2, 128, 0600, false,
	    bad_stale);
	BAD("world-writable", img, len, e, 128, 0666, false, bad_foreign);
	BAD("a symlink", img, len, e, 128, 0600, true, bad_foreign);

	/* Changed code is verified again, with the uncached verdict. */
	CHECK(exec_range(img, len, &xoff, &xsz), "no executable segment");
	mod = malloc(len);
	for (int t = 0; t < 8; t++) {
		size_t at = xoff + (size_t)(t + 1) * (xsz / 9);
		int cached, fresh;

		memcpy(mod, img, len);
		mod[at] ^= (uint8_t)(1u << t);
		mark();
		cached = verify(mod, len, KLD_STRICT);
		CHECK(DELTA(misses) == 1, "one byte changed at %#zx: not "
		    "verified again", at);
		kld_vcache_disable();
		fresh = verify(mod, len, KLD_STRICT);
		restart();
		CHECK(cached == fresh, "byte at %#zx: cached path says %d, "
		    "verifier %d", at, cached, fresh);
		/* The original is still a hit. */
		mark();
		CHECK(verify(img, len, KLD_STRICT) == 0 &&
		    DELTA(hits_memory) + DELTA(hits_disk) == 1,
		    "original lost its verdict");
	}
	printf("ok   one byte changed (8 places): verified again, same "
	    "verdict as without the cache\n");
	/* A syscall written into code whose verdict is cached. */
	memcpy(mod, img, len);
	mod[xoff] = 0x0f;
	mod[xoff + 1] = 0x05;
	mark();
	CHECK(verify(mod, len, KLD_STRICT) == EACCES, "syscall accepted "
	    "(strict)");
	CHECK(verify(mod, len, 0) == EACCES, "syscall accepted (lax)");
	CHECK(kld_load(mod, len, "prog", tab, KLD_NO_INIT, NULL, &obj) ==
	    EACCES, "syscall loaded");
	CHECK(DELTA(misses) == 3 && DELTA(stores) == 0, "refused code "
	    "stored or looked up wrongly");
	printf("ok   a syscall inserted into cached code: refused by "
	    "verify (strict, lax) and load, nothing stored\n");
	free(mod);
	kld_symtab_destroy(tab);
	kld_vcache_disable();
	free(buf);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			printf("note: could not remove %s\n", tmpl);
	}
	printf("%s: %d checks, %d failures\n", failures ? "FAIL" : "PASS",
	    checks, failures);
	return failures ? 1 : 0;
}
