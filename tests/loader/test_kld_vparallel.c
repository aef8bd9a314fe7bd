/*
 * The parallel sweep gives the serial verdict and findings:
 *   test_kld_vparallel PROGRAM.kx...
 * Every program is verified (strict and lax) serially and cut into 2, 3,
 * 4, 7 and 16 chunks (threads), and every diagnostic line must be the
 * same, in the same order, with the same return value.  Besides the
 * programs as built, mutated copies: random bytes changed, syscalls and
 * runs of undecodable bytes written across function starts (where the
 * chunks begin: an undecodable run that straddles a chunk start must be
 * one error, as in the serial sweep), privileged instructions.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krank/kld.h"

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

struct lines {
	char *s;
	size_t n, cap;
};

static void
collect(void *arg, enum kld_severity sev, const char *line)
{
	struct lines *l = arg;
	size_t k = strlen(line) + 3;

	if (l->n + k + 1 > l->cap) {
		l->cap = (l->n + k + 1) * 2;
		l->s = realloc(l->s, l->cap);
		if (l->s == NULL)
			abort();
	}
	l->n += (size_t)sprintf(l->s + l->n, "%d %s\n", (int)sev, line);
}

/* Verify with threads chunks; the lines and counts into out. */
static int
run(const uint8_t *img, size_t len, unsigned flags, unsigned threads,
    struct lines *out, struct kld_diag *d)
{
	out->n = 0;
	if (out->s != NULL)
		out->s[0] = '\0';
	memset(d, 0, sizeof(*d));
	d->fn = collect;
	d->arg = out;
	kld_verify_set_parallel(threads, 0);
	return kld_verify(img, len, "prog", flags, d);
}

static void
compare(const char *what, const uint8_t *img, size_t len)
{
	static const unsigned nt[] = { 2, 3, 4, 7, 16 };
	struct lines ser = { 0 }, par = { 0 };
	struct kld_diag ds, dp;

	for (unsigned flags = 0; flags <= KLD_STRICT; flags += KLD_STRICT) {
		int rs = run(img, len, flags, 1, &ser, &ds);

		for (size_t t = 0; t < sizeof(nt) / sizeof(nt[0]); t++) {
			int rp = run(img, len, flags, nt[t], &par, &dp);

			CHECK(rs == rp && ds.nerrors == dp.nerrors &&
			    ds.nwarnings == dp.nwarnings && ser.n == par.n &&
			    (ser.n == 0 || memcmp(ser.s, par.s, ser.n) == 0),
			    "%s, %s, %u threads: serial %d (%u errors, %u "
			    "warnings), parallel %d (%u, %u)%s", what,
			    flags ? "strict" : "lax", nt[t], rs, ds.nerrors,
			    ds.nwarnings, rp, dp.nerrors, dp.nwarnings,
			    ser.n == par.n ? ", lines differ" : "");
		}
		printf("ok   %s: %s verdict %d, %u errors, %u warnings: "
		    "same with 2-16 chunks\n", what, flags ? "strict" : "lax",
		    rs, ds.nerrors, ds.nwarnings);
	}
	free(ser.s);
	free(par.s);
}

/* File offsets of the function symbols inside the first executable
 * segment (from .symtab), and that segment's file range. */
static size_t
func_offsets(const uint8_t *img, size_t len, size_t **outp, size_t *xoff,
    size_t *xsz)
{
	const Elf64_Ehdr *eh = (const void *)img;
	const Elf64_Phdr *x = NULL;
	size_t n = 0, *out = NULL;

	*xoff = *xsz = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff +
		    i * sizeof(*ph));

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    ph->p_filesz > 64) {
			x = ph;
			break;
		}
	}
	if (x == NULL || eh->e_shoff == 0 || eh->e_shoff +
	    (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len)
		return 0;
	*xoff = x->p_offset;
	*xsz = x->p_filesz;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = (const void *)(img + eh->e_shoff +
		    i * sizeof(*sh));

		if (sh->sh_type != SHT_SYMTAB || sh->sh_offset + sh->sh_size > len)
			continue;
		for (size_t k = 0; k < sh->sh_size / sizeof(Elf64_Sym); k++) {
			const Elf64_Sym *s = (const void *)(img + sh->sh_offset +
			    k * sizeof(Elf64_Sym));

			if (ELF64_ST_TYPE(s->st_info) != STT_FUNC ||
			    s->st_value < x->p_vaddr + 8 ||
			    s->st_value + 8 >= x->p_vaddr + x->p_filesz)
				continue;
			out = realloc(out, (n + 1) * sizeof(*out));
			out[n++] = s->st_value - x->p_vaddr + x->p_offset;
		}
	}
	*outp = out;
	return n;
}

int
main(int argc, char **argv)
{
	unsigned seed = 4242;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: test_kld_vparallel PROGRAM.kx...\n");
		return 2;
	}
	for (int a = 1; a < argc; a++) {
		void *buf;
		size_t len, xoff, xsz, *fo = NULL, nf;
		uint8_t *mod;
		char what[600];

		if (kld_read_file(argv[a], &buf, &len, NULL) != 0) {
			printf("FAIL cannot read %s\n", argv[a]);
			return 1;
		}
		compare(argv[a], buf, len);
		nf = func_offsets(buf, len, &fo, &xoff, &xsz);
		if (nf == 0)
			printf("note %s: no function symbols inside its code: "
			    "not mutated\n", argv[a]);
		mod = malloc(len);
		for (int v = 0; v < 4 && nf > 0; v++) {
			memcpy(mod, buf, len);
			/* Across function starts: undecodable runs (06 is
			 * push es, invalid in 64-bit mode), or a syscall
			 * whose bytes straddle the start, or privileged
			 * instructions. */
			for (size_t i = (size_t)v; i < nf; i += 3) {
				size_t f = fo[i];

				switch ((v + i) % 4) {
				case 0:
					memset(mod + f - 3, 0x06, 6);
					break;
				case 1:
					mod[f - 1] = 0x0f;
					mod[f] = 0x05;
					break;
				case 2:
					mod[f] = 0xf4;	/* hlt */
					mod[f - 1] = 0x06;
					break;
				default:
					mod[f - 1 - (size_t)v] = 0x06;
					mod[f] = 0x06;
					break;
				}
			}
			/* And random bytes anywhere in the code. */
			for (int r = 0; r < 200; r++)
				mod[xoff + (size_t)rand_r(&seed) % xsz] =
				    (uint8_t)rand_r(&seed);
			snprintf(what, sizeof(what), "%s, mutant %d", argv[a],
			    v);
			compare(what, mod, len);
		}
		free(mod);
		free(fo);
		free(buf);
	}
	printf("%s: %d checks, %d failures\n", failures ? "FAIL" : "PASS",
	    checks, failures);
	return failures ? 1 : 0;
}
