/*
 * ELF parsing for the loader, with libelf: the file header, program
 * headers and section headers of an untrusted object are checked here,
 * once, before anything is mapped.  Structural damage is EINVAL; a well
 * formed object that breaks an isolate rule is reported and counted, and
 * parsing goes on so that every violation is listed.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kld_int.h"

#define PG 4096ULL

static pthread_once_t kld_elf_once = PTHREAD_ONCE_INIT;

static void
kld_elf_init(void)
{
	(void)elf_version(EV_CURRENT);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sort resync points: LSD radix sort by bytes, only as many passes as the
 * largest value needs (a 1 MiB program has 10,000 function symbols, and
 * qsort was an eighth of its load time); qsort for short arrays or when
 * the scratch array cannot be had. */
static void
sort_u64(uint64_t *v, size_t n)
{
	uint64_t *tmp, *src = v, *dst, max = 0;

	if (n < 64 || (tmp = malloc(n * sizeof(*v))) == NULL) {
		qsort(v, n, sizeof(*v), cmp_u64);
		return;
	}
	dst = tmp;
	for (size_t i = 0; i < n; i++)
		max |= v[i];
	for (unsigned sh = 0; sh < 64 && (max >> sh) != 0; sh += 8) {
		size_t cnt[257] = { 0 };
		uint64_t *t;

		for (size_t i = 0; i < n; i++)
			cnt[((src[i] >> sh) & 255) + 1]++;
		for (unsigned d = 0; d < 256; d++)
			cnt[d + 1] += cnt[d];
		for (size_t i = 0; i < n; i++)
			dst[cnt[(src[i] >> sh) & 255]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
}

static const char *
pflags(uint32_t f, char *b)
{
	b[0] = f & PF_R ? 'R' : '-';
	b[1] = f & PF_W ? 'W' : '-';
	b[2] = f & PF_X ? 'X' : '-';
	b[3] = '\0';
	return b;
}

/* Is vaddr inside an executable PT_LOAD? */
static bool
in_exec(const struct kld_stage *st, uint64_t va)
{
	for (unsigned i = 0; i < st->nseg; i++)
		if ((st->seg[i].flags & PF_X) && va >= st->seg[i].vaddr &&
		    va - st->seg[i].vaddr < st->seg[i].memsz)
			return true;
	return false;
}

static int
parse_phdrs(struct kld_stage *st, Elf *elf)
{
	const char *nm = st->name;
	struct kld_diag *d = st->diag;
	size_t phnum, i;
	bool stack = false;
	char fb[4];

	if (elf_getphdrnum(elf, &phnum) != 0) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: bad program header "
		    "table: %s", nm, elf_errmsg(-1));
		return EINVAL;
	}
	/* libelf clamps the count to what fits in the file: a header that
	 * promises more than that lies. */
	if ((st->eh.e_phnum != PN_XNUM && phnum != st->eh.e_phnum) ||
	    st->eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    st->eh.e_phoff > st->len ||
	    phnum > (st->len - st->eh.e_phoff) / sizeof(Elf64_Phdr)) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: program header table "
		    "out of file: %zu entries of %u bytes at offset %llu in a "
		    "%zu-byte file", nm, (size_t)st->eh.e_phnum,
		    st->eh.e_phentsize,
		    (unsigned long long)st->eh.e_phoff, st->len);
		return EINVAL;
	}
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) == NULL) {
			kld_report(d, KLD_ERROR, "krank-ld: %s: program header "
			    "%zu unreadable: %s", nm, i, elf_errmsg(-1));
			return EINVAL;
		}
		switch (ph.p_type) {
		case PT_LOAD: {
			struct kld_seg *s;

			if (st->nseg == KLD_MAX_SEGS) {
				kld_report(d, KLD_ERROR, "krank-ld: %s: more "
				    "than %d PT_LOAD segments", nm,
				    KLD_MAX_SEGS);
				return EINVAL;
			}
			if (ph.p_filesz > ph.p_memsz ||
			    ph.p_offset > st->len ||
			    ph.p_filesz > st->len - ph.p_offset ||
			    ph.p_vaddr > UINT64_MAX - ph.p_memsz - PG ||
			    ph.p_memsz > KLD_MAX_SPAN) {
				kld_report(d, KLD_ERROR, "krank-ld: %s: segment "
				    "%zu lies: offset %#llx filesz %#llx memsz "
				    "%#llx vaddr %#llx in a %zu-byte file", nm,
				    i, (unsigned long long)ph.p_offset,
				    (unsigned long long)ph.p_filesz,
				    (unsigned long long)ph.p_memsz,
				    (unsigned long long)ph.p_vaddr, st->len);
				return EINVAL;
			}
			if (ph.p_memsz == 0)
				break;
			if (st->nseg > 0) {
				const struct kld_seg *p = &st->seg[st->nseg - 1];
				uint64_t pend = (p->vaddr + p->memsz + PG - 1) &
				    ~(PG - 1);

				if ((ph.p_vaddr & ~(PG - 1)) < pend) {
					kld_report(d, KLD_ERROR, "krank-ld: %s: "
					    "segment %zu (vaddr %#llx) overlaps "
					    "or precedes the previous one (ends "
					    "%#llx): PT_LOAD must be ascending "
					    "and on separate pages", nm, i,
					    (unsigned long long)ph.p_vaddr,
					    (unsigned long long)pend);
					return EINVAL;
				}
			}
			/* Every executable byte is decoded: code must come
			 * from the file, not from zero fill (a 1 GiB
			 * zero-filled code segment took seconds to sweep). */
			if ((ph.p_flags & PF_X) && ph.p_memsz > ((ph.p_vaddr +
			    ph.p_filesz + PG - 1) & ~(PG - 1)) - ph.p_vaddr) {
				kld_report(d, KLD_ERROR, "krank-ld: %s: segment "
				    "%zu (vaddr %#llx) is executable but %llu "
				    "of its %llu bytes are zero fill past the "
				    "page of its last file byte: code must come "
				    "from the file", nm, i,
				    (unsigned long long)ph.p_vaddr,
				    (unsigned long long)(ph.p_memsz -
				    ph.p_filesz), (unsigned long long)ph.p_memsz);
				return EINVAL;
			}
			if ((ph.p_flags & PF_W) && (ph.p_flags & PF_X))
				kld_report(d, KLD_ERROR, "krank-ld: %s: segment "
				    "%zu (vaddr %#llx) is writable and "
				    "executable (%s)", nm, i,
				    (unsigned long long)ph.p_vaddr,
				    pflags(ph.p_flags, fb));
			s = &st->seg[st->nseg++];
			s->vaddr = ph.p_vaddr;
			s->memsz = ph.p_memsz;
			s->off = ph.p_offset;
			s->filesz = ph.p_filesz;
			s->flags = ph.p_flags & (PF_R | PF_W | PF_X);
			break;
		}
		case PT_INTERP:
			kld_report(d, KLD_ERROR, "krank-ld: %s: has PT_INTERP "
			    "(asks for a Linux dynamic linker): link with "
			    "-Wl,--no-dynamic-linker or use krank-cc", nm);
			break;
		case PT_TLS:
			kld_report(d, KLD_ERROR, "krank-ld: %s: has PT_TLS: "
			    "thread-local storage is not supported in "
			    "isolates", nm);
			break;
		case PT_GNU_STACK:
			stack = true;
			if (ph.p_flags & PF_X)
				kld_report(d, KLD_ERROR, "krank-ld: %s: asks "
				    "for an executable stack (PT_GNU_STACK "
				    "%s)", nm, pflags(ph.p_flags, fb));
			break;
		case PT_GNU_RELRO:
			st->relro_vaddr = ph.p_vaddr;
			st->relro_memsz = ph.p_memsz;
			break;
		case PT_DYNAMIC:
			st->dyn_vaddr = ph.p_vaddr;
			st->dyn_memsz = ph.p_memsz;
			st->dyn.has_dyn = true;
			break;
		default:
			break;
		}
	}
	if (st->nseg == 0) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: no loadable segment",
		    nm);
		return EINVAL;
	}
	if (!stack)
		kld_report(d, KLD_ERROR, "krank-ld: %s: no PT_GNU_STACK, "
		    "which means an executable stack: link with "
		    "-z noexecstack", nm);
	st->lo = st->seg[0].vaddr & ~(PG - 1);
	st->hi = (st->seg[st->nseg - 1].vaddr + st->seg[st->nseg - 1].memsz +
	    PG - 1) & ~(PG - 1);
	if (st->hi - st->lo > KLD_MAX_SPAN) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: segments span %llu "
		    "bytes, more than the %llu allowed", nm,
		    (unsigned long long)(st->hi - st->lo),
		    (unsigned long long)KLD_MAX_SPAN);
		return EINVAL;
	}
	return 0;
}

static int
add_funcs(struct kld_stage *st, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n, i;
	uint64_t *v;

	if (data == NULL || sh->sh_entsize != sizeof(Elf64_Sym))
		return 0;
	n = data->d_size / sizeof(Elf64_Sym);
	if (n == 0)
		return 0;
	v = realloc(st->funcs, (st->nfuncs + n) * sizeof(*v));
	if (v == NULL)
		return ENOMEM;
	st->funcs = v;
	for (i = 0; i < n; i++) {
		GElf_Sym sym;

		if (gelf_getsym(data, (int)i, &sym) == NULL)
			break;
		if (GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
		    sym.st_shndx != SHN_UNDEF && in_exec(st, sym.st_value))
			st->funcs[st->nfuncs++] = sym.st_value;
	}
	return 0;
}

static int
parse_sections(struct kld_stage *st, Elf *elf)
{
	const char *nm = st->name;
	size_t shnum, shstrndx, n = 0;
	Elf_Scn *scn = NULL;
	int error;

	if (elf_getshdrnum(elf, &shnum) != 0)
		shnum = 0;		/* no or unreadable sections: segments rule */
	if (shnum == 0)
		return 0;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		shstrndx = SHN_UNDEF;
	st->scn = calloc(shnum, sizeof(*st->scn));
	if (st->scn == NULL)
		return ENOMEM;
	while ((scn = elf_nextscn(elf, scn)) != NULL && n < shnum) {
		GElf_Shdr sh;
		const char *s = NULL;

		if (gelf_getshdr(scn, &sh) == NULL)
			continue;
		if (shstrndx != SHN_UNDEF)
			s = elf_strptr(elf, shstrndx, sh.sh_name);
		if (s == NULL)
			s = "?";
		if ((sh.sh_flags & SHF_WRITE) && (sh.sh_flags & SHF_EXECINSTR))
			kld_report(st->diag, KLD_ERROR, "krank-ld: %s: section "
			    "%s is writable and executable", nm, s);
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			if ((error = add_funcs(st, scn, &sh)) != 0)
				return error;
		}
		if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_size == 0)
			continue;
		/* Code sections start instructions too: resync there. */
		if ((sh.sh_flags & SHF_EXECINSTR) && in_exec(st, sh.sh_addr)) {
			uint64_t *v = realloc(st->funcs, (st->nfuncs + 1) *
			    sizeof(*v));

			if (v == NULL)
				return ENOMEM;
			st->funcs = v;
			st->funcs[st->nfuncs++] = sh.sh_addr;
		}
		/* A bounded copy, not snprintf: this runs for every section
		 * of every load, and vfprintf's stack frame alone is a page
		 * the load would otherwise touch. */
		{
			size_t l = strnlen(s, sizeof(st->scn[n].name) - 1);

			memcpy(st->scn[n].name, s, l);
			st->scn[n].name[l] = '\0';
		}
		st->scn[n].addr = sh.sh_addr;
		st->scn[n].size = sh.sh_size;
		st->scn[n].flags = sh.sh_flags;
		st->scn[n].type = sh.sh_type;
		n++;
	}
	st->nscn = n;
	if (st->nfuncs > 1) {
		size_t j = 0;

		sort_u64(st->funcs, st->nfuncs);
		for (size_t i = 0; i < st->nfuncs; i++)
			if (j == 0 || st->funcs[j - 1] != st->funcs[i])
				st->funcs[j++] = st->funcs[i];
		st->nfuncs = j;
	}
	return 0;
}

int
kld_elf_parse(struct kld_stage *st)
{
	const char *nm = st->name;
	struct kld_diag *d = st->diag;
	Elf *elf;
	int error;

	pthread_once(&kld_elf_once, kld_elf_init);
	if (st->len < sizeof(Elf64_Ehdr)) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: truncated: %zu bytes, "
		    "an ELF64 header needs %zu", nm, st->len,
		    sizeof(Elf64_Ehdr));
		return EINVAL;
	}
	if (memcmp(st->img, ELFMAG, SELFMAG) != 0) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: not an ELF file (bad "
		    "magic)", nm);
		return EINVAL;
	}
	if (st->img[EI_CLASS] != ELFCLASS64 || st->img[EI_DATA] != ELFDATA2LSB) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: not ELF64 "
		    "little-endian (class %u, data %u): only x86-64 objects "
		    "are accepted", nm, st->img[EI_CLASS], st->img[EI_DATA]);
		return EINVAL;
	}
	/* libelf only reads: the image is never written through elf. */
	elf = elf_memory((char *)(uintptr_t)st->img, st->len);
	if (elf == NULL || elf_kind(elf) != ELF_K_ELF) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: libelf cannot read it: "
		    "%s", nm, elf_errmsg(-1));
		if (elf != NULL)
			elf_end(elf);
		return EINVAL;
	}
	if (gelf_getehdr(elf, (GElf_Ehdr *)&st->eh) == NULL) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: bad ELF header: %s",
		    nm, elf_errmsg(-1));
		error = EINVAL;
		goto out;
	}
	if (st->eh.e_machine != EM_X86_64) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: machine %u is not "
		    "x86-64 (%u)", nm, st->eh.e_machine, EM_X86_64);
		error = EINVAL;
		goto out;
	}
	if (st->eh.e_type != ET_DYN) {
		kld_report(d, KLD_ERROR, "krank-ld: %s: %s: only position-"
		    "independent objects (ET_DYN: PIE programs, shared "
		    "objects) can be loaded; build with -fPIE -pie or "
		    "krank-cc", nm, st->eh.e_type == ET_EXEC ?
		    "non-PIE executable (ET_EXEC)" : st->eh.e_type == ET_REL ?
		    "relocatable object (ET_REL)" : "wrong ELF type");
		error = EACCES;
		goto out;
	}
	if ((error = parse_phdrs(st, elf)) != 0)
		goto out;
	error = parse_sections(st, elf);
out:
	elf_end(elf);
	return error;
}

void
kld_stage_fini(struct kld_stage *st)
{
	free(st->scn);
	free(st->funcs);
	st->scn = NULL;
	st->funcs = NULL;
}

const char *
kld_where(const struct kld_stage *st, uint64_t va, char *buf, size_t len)
{
	for (size_t i = 0; i < st->nscn; i++)
		if (va >= st->scn[i].addr && va - st->scn[i].addr <
		    st->scn[i].size) {
			snprintf(buf, len, "%s+%#llx", st->scn[i].name,
			    (unsigned long long)(va - st->scn[i].addr));
			return buf;
		}
	for (unsigned i = 0; i < st->nseg; i++)
		if (va >= st->seg[i].vaddr && va - st->seg[i].vaddr <
		    st->seg[i].memsz) {
			snprintf(buf, len, "segment%u+%#llx", i,
			    (unsigned long long)(va - st->seg[i].vaddr));
			return buf;
		}
	snprintf(buf, len, "%#llx", (unsigned long long)va);
	return buf;
}
