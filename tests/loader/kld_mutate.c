/*
 * Malformed ELF files against the loader: truncations, headers that lie,
 * overlapping segments, absurd sizes, relocations and symbols out of
 * range, initialisers pointing at data, and thousands of random byte
 * flips of a real gcc-built isolate (the file given as argument).  Each
 * must give a one-line error naming the object, never crash, and leave
 * nothing mapped (counted in /proc/self/maps).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krank/kld.h"

static int failures, checks, refused, loaded;
/* Under ASan the allocator maps memory as it goes: counting mappings
 * only works in the plain build. */
static int no_mapcount;
static struct kld_symtab *tab;

static int
count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;

	if (f == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Load a mutant; want_fail: it must be refused, with `why` in the error. */
static void
try_one(const char *name, const uint8_t *img, size_t len, int want_fail,
    const char *why)
{
	struct kld_diag d = { 0 };
	struct kld_object *o = NULL;
	char prefix[128];
	int before = no_mapcount ? 0 : count_maps(), after, error;

	checks++;
	error = kld_load(img, len, name, tab, KLD_NO_INIT, &d, &o);
	if (error == 0) {
		loaded++;
		kld_unload(o);
	} else
		refused++;
	after = no_mapcount ? before : count_maps();
	snprintf(prefix, sizeof(prefix), "krank-ld: %s: ", name);
	if (want_fail && error == 0) {
		failures++;
		printf("FAIL %s: loaded, must be refused (%s)\n", name, why);
	} else if (error != 0 && (d.nerrors == 0 ||
	    strncmp(d.first, prefix, strlen(prefix)) != 0)) {
		failures++;
		printf("FAIL %s: error %d without a proper message: '%s'\n",
		    name, error, d.first);
	} else if (error != 0 && why != NULL && strstr(d.first, why) == NULL) {
		failures++;
		printf("FAIL %s: refused for '%s', want '%s'\n", name, d.first,
		    why);
	} else if (before != after) {
		failures++;
		printf("FAIL %s: %d mappings before, %d after\n", name, before,
		    after);
	} else if (want_fail)
		printf("ok   %s: %s\n", name, d.first);
}

#define PG_SIZE 4096ULL

/* A legal variant: it must load (and unload, leaving nothing mapped). */
static void
must_load(const char *name, const uint8_t *img, size_t len)
{
	struct kld_diag d = { 0 };
	struct kld_object *o = NULL;
	int before = no_mapcount ? 0 : count_maps(), after;

	checks++;
	if (kld_load(img, len, name, tab, KLD_NO_INIT, &d, &o) != 0) {
		failures++;
		printf("FAIL %s: refused, must load: %s\n", name, d.first);
		return;
	}
	loaded++;
	kld_unload(o);
	after = no_mapcount ? before : count_maps();
	if (before != after) {
		failures++;
		printf("FAIL %s: %d mappings before, %d after\n", name, before,
		    after);
	} else
		printf("ok   %s: loads\n", name);
}

static uint8_t *orig, *buf;
static size_t len;
static Elf64_Ehdr *eh;

static Elf64_Phdr *
ph(int i)
{
	return (Elf64_Phdr *)(buf + eh->e_phoff) + i;
}

static void
reset(void)
{
	memcpy(buf, orig, len);
}

static Elf64_Phdr *
find_ph(uint32_t type, int nth)
{
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph(i)->p_type == type && nth-- == 0)
			return ph(i);
	return NULL;
}

static uint8_t *
at_va(uint64_t va)
{
	for (int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr *p = ph(i);

		if (p->p_type == PT_LOAD && va >= p->p_vaddr &&
		    va < p->p_vaddr + p->p_filesz)
			return buf + p->p_offset + (va - p->p_vaddr);
	}
	return NULL;
}

static Elf64_Dyn *
find_dyn(int64_t tag)
{
	Elf64_Phdr *d = find_ph(PT_DYNAMIC, 0);

	for (Elf64_Dyn *e = (Elf64_Dyn *)(buf + d->p_offset);
	    e->d_tag != DT_NULL; e++)
		if (e->d_tag == tag)
			return e;
	return NULL;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int
main(int argc, char **argv)
{
	Elf64_Rela *rela;
	Elf64_Dyn *de;
	int nrand = argc > 2 ? atoi(argv[2]) : 3000;
	FILE *f;

	if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL) {
		printf("usage: kld_mutate ISOLATE [N]\n");
		return 2;
	}
	no_mapcount = getenv("KLD_MUTATE_NO_MAPCOUNT") != NULL;
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	orig = malloc(len);
	buf = malloc(len);
	if (fread(orig, 1, len, f) != len)
		return 2;
	fclose(f);
	kld_symtab_create(&tab);
	kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports);
	reset();
	eh = (Elf64_Ehdr *)buf;
	/* The first load of a process reserves the loader's placement
	 * window (one PROT_NONE page that stays): do it before counting
	 * mappings. */
	(void)kld_verify(orig, len, "warm-up", 0, NULL);

	try_one("original", buf, len, 0, NULL);
	if (loaded != 1) {
		printf("FAIL: the unmodified isolate does not load\n");
		return 1;
	}

	/* Each load lands at its own random base. */
	{
		struct kld_object *a, *b;

		checks++;
		if (kld_load(orig, len, "base-a", tab, KLD_NO_INIT, NULL, &a) ||
		    kld_load(orig, len, "base-b", tab, KLD_NO_INIT, NULL, &b)) {
			failures++;
			printf("FAIL: two loads of the original\n");
		} else {
			if (kld_base(a) == kld_base(b) ||
			    kld_sym(a, "main") == kld_sym(b, "main")) {
				failures++;
				printf("FAIL: two loads share base %#lx\n",
				    (unsigned long)kld_base(a));
			} else
				printf("ok   two loads at different bases: %#lx, "
				    "%#lx\n", (unsigned long)kld_base(a),
				    (unsigned long)kld_base(b));
			kld_unload(a);
			kld_unload(b);
		}
	}

	/* Loads one after another (each unloaded before the next) get
	 * fresh random bases too: nothing hands an old place back. */
	{
		uintptr_t seen[16];
		int distinct = 0, bad = 0;

		checks++;
		for (int i = 0; i < 16; i++) {
			struct kld_object *o;
			int dup = 0;

			if (kld_load(orig, len, "base-seq", tab, KLD_NO_INIT,
			    NULL, &o) != 0) {
				bad = 1;
				break;
			}
			seen[i] = kld_base(o);
			kld_unload(o);
			bad |= (seen[i] & 4095) != 0;
			for (int j = 0; j < i; j++)
				dup |= seen[j] == seen[i];
			distinct += !dup;
		}
		if (bad || distinct < 15) {
			failures++;
			printf("FAIL: 16 sequential loads: %d distinct bases%s:",
			    distinct, bad ? ", a load failed or a base is not "
			    "page-aligned" : "");
			for (int i = 0; i < 16; i++)
				printf(" %#lx", (unsigned long)seen[i]);
			printf("\n");
		} else
			printf("ok   16 sequential loads at %d distinct bases "
			    "(first %#lx, last %#lx)\n", distinct,
			    (unsigned long)seen[0], (unsigned long)seen[15]);
	}

	/* Truncations. */
	try_one("empty", buf, 0, 1, "truncated");
	try_one("trunc-16", buf, 16, 1, "truncated");
	try_one("trunc-63", buf, 63, 1, "truncated");
	try_one("trunc-phdrs", buf, eh->e_phoff + 8, 1, "program header");
	for (size_t n = 64; n < len; n += 97)
		try_one("trunc-sweep", buf, n, 0, NULL);
	{
		Elf64_Phdr *last = NULL;

		for (int i = 0; i < eh->e_phnum; i++)
			if (ph(i)->p_type == PT_LOAD)
				last = ph(i);
		try_one("trunc-last-segment", buf, last->p_offset +
		    last->p_filesz - 1, 1, "lies");
	}

	/* Headers that lie. */
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	try_one("class32", buf, len, 1, "not ELF64");
	reset();
	memcpy(buf, "\177ELG", 4);
	try_one("bad-magic", buf, len, 1, "not an ELF file");
	reset();
	eh->e_machine = EM_AARCH64;
	try_one("aarch64", buf, len, 1, "is not x86-64");
	reset();
	eh->e_type = ET_EXEC;
	try_one("et-exec", buf, len, 1, "non-PIE executable");
	reset();
	eh->e_type = ET_REL;
	try_one("et-rel", buf, len, 1, "relocatable object");
	reset();
	eh->e_phoff = 0xffffffffffULL;
	try_one("phoff-huge", buf, len, 1, NULL);
	reset();
	eh->e_phnum = 0xffff;
	try_one("phnum-huge", buf, len, 1, NULL);
	reset();
	eh->e_phentsize = 32;
	try_one("phentsize", buf, len, 1, "program header table");
	reset();
	eh->e_shoff = len - 10;
	try_one("shoff-garbage", buf, len, 0, NULL);
	reset();
	eh->e_shnum = 0xfff0;
	try_one("shnum-huge", buf, len, 0, NULL);
	reset();
	eh->e_shstrndx = 0xfff0;
	try_one("shstrndx-huge", buf, len, 0, NULL);

	/* Segments that lie. */
	reset();
	find_ph(PT_LOAD, 1)->p_filesz = find_ph(PT_LOAD, 1)->p_memsz + 1;
	try_one("filesz>memsz", buf, len, 1, "lies");
	reset();
	find_ph(PT_LOAD, 1)->p_offset = len;
	try_one("offset-past-end", buf, len, 1, "lies");
	reset();
	find_ph(PT_LOAD, 2)->p_memsz = 1ULL << 40;
	try_one("memsz-1TiB", buf, len, 1, "lies");
	reset();
	find_ph(PT_LOAD, 3)->p_memsz = 1ULL << 29;
	find_ph(PT_LOAD, 3)->p_vaddr += 1ULL << 30;
	try_one("span-too-big", buf, len, 1, "span");
	/* Code must come from the file: an executable segment of 1 GiB
	 * zero fill is refused before anything is mapped or decoded (it
	 * took seconds to sweep under ASan); zero fill up to the end of
	 * the page of its last file byte is what linkers emit and loads. */
	reset();
	find_ph(PT_LOAD, 3)->p_flags = PF_R | PF_X;
	find_ph(PT_LOAD, 3)->p_memsz = (1ULL << 30) - 0x10000;
	try_one("code-zero-fill-1GiB", buf, len, 1, "zero fill");
	reset();
	find_ph(PT_LOAD, 1)->p_memsz += PG_SIZE;
	try_one("code-zero-fill-page", buf, len, 1, "zero fill");
	reset();
	find_ph(PT_LOAD, 1)->p_memsz = ((find_ph(PT_LOAD, 1)->p_vaddr +
	    find_ph(PT_LOAD, 1)->p_filesz + PG_SIZE - 1) & ~(PG_SIZE - 1)) -
	    find_ph(PT_LOAD, 1)->p_vaddr;
	must_load("code-zero-fill-tail", buf, len);
	/* A large bss is legal: mapped, never touched by the loader. */
	reset();
	find_ph(PT_LOAD, 3)->p_memsz = (1ULL << 30) - 0x10000;
	must_load("bss-1GiB", buf, len);
	reset();
	find_ph(PT_LOAD, 1)->p_vaddr = find_ph(PT_LOAD, 0)->p_vaddr;
	try_one("overlap", buf, len, 1, "overlaps");
	reset();
	find_ph(PT_LOAD, 1)->p_vaddr = 0xfffffffffffff000ULL;
	try_one("vaddr-wraps", buf, len, 1, "lies");
	reset();
	find_ph(PT_LOAD, 1)->p_flags = PF_R | PF_W | PF_X;
	try_one("segment-rwx", buf, len, 1, "writable and executable");
	reset();
	find_ph(PT_GNU_STACK, 0)->p_flags |= PF_X;
	try_one("execstack", buf, len, 1, "executable stack");
	reset();
	find_ph(PT_GNU_STACK, 0)->p_type = PT_TLS;
	try_one("tls", buf, len, 1, "PT_TLS");
	reset();
	find_ph(PT_GNU_STACK, 0)->p_type = PT_INTERP;
	try_one("interp", buf, len, 1, "PT_INTERP");
	reset();
	find_ph(PT_GNU_RELRO, 0)->p_vaddr = 0x7fff0000;
	try_one("relro-outside", buf, len, 1, "PT_GNU_RELRO");
	reset();
	find_ph(PT_GNU_RELRO, 0)->p_memsz = 1ULL << 32;
	try_one("relro-huge", buf, len, 1, "PT_GNU_RELRO");
	reset();
	find_ph(PT_DYNAMIC, 0)->p_vaddr = 0x7fff0000;
	try_one("dynamic-outside", buf, len, 1, "PT_DYNAMIC");

	/* Dynamic tables and relocations that lie. */
	reset();
	find_dyn(DT_SYMTAB)->d_un.d_ptr = 0x7fffff00;
	try_one("symtab-outside", buf, len, 1, "lies outside");
	reset();
	find_dyn(DT_STRSZ)->d_un.d_val = 1ULL << 40;
	try_one("strsz-huge", buf, len, 1, "lies outside");
	reset();
	find_dyn(DT_RELASZ)->d_un.d_val = 1ULL << 33;
	try_one("relasz-huge", buf, len, 1, "lies outside");
	reset();
	find_dyn(DT_PLTRELSZ)->d_un.d_val = ~0ULL - 7;
	try_one("pltrelsz-huge", buf, len, 1, "lies outside");
	reset();
	find_dyn(DT_RELAENT)->d_un.d_val = 16;
	try_one("relaent", buf, len, 1, "DT_RELAENT");
	reset();
	find_dyn(DT_PLTREL)->d_un.d_val = DT_REL;
	try_one("pltrel-rel", buf, len, 1, "DT_PLTREL");
	reset();
	if ((de = find_dyn(DT_FLAGS)) != NULL || (de = find_dyn(DT_DEBUG)) != NULL) {
		de->d_tag = DT_TEXTREL;
		try_one("dt-textrel", buf, len, 1, "text relocations");
	}

	reset();
	rela = (Elf64_Rela *)at_va(find_dyn(DT_JMPREL)->d_un.d_ptr);
	rela[0].r_offset = 0x7ffffff0;
	try_one("reloc-offset-outside", buf, len, 1, "outside every segment");
	reset();
	rela[0].r_offset = find_ph(PT_LOAD, 1)->p_vaddr;
	try_one("reloc-into-code", buf, len, 1, "text relocation");
	reset();
	rela[0].r_info = ELF64_R_INFO(0xffffff, R_X86_64_JUMP_SLOT);
	try_one("reloc-symbol-range", buf, len, 1, "names symbol");
	reset();
	rela[0].r_info = ELF64_R_INFO(ELF64_R_SYM(rela[0].r_info), 99);
	try_one("reloc-type-99", buf, len, 1, "not implemented");
	reset();
	rela[0].r_info = ELF64_R_INFO(ELF64_R_SYM(rela[0].r_info),
	    R_X86_64_IRELATIVE);
	try_one("reloc-irelative", buf, len, 1, "R_X86_64_IRELATIVE");
	reset();
	{
		Elf64_Sym *sym = (Elf64_Sym *)at_va(
		    find_dyn(DT_SYMTAB)->d_un.d_ptr);

		sym[ELF64_R_SYM(rela[0].r_info)].st_name = 0x7fffffff;
		try_one("symbol-name-outside", buf, len, 1, "string table");
	}

	/* An initialiser pointing at data. */
	reset();
	{
		uint64_t ia = find_dyn(DT_INIT_ARRAY)->d_un.d_ptr;
		Elf64_Rela *r = (Elf64_Rela *)at_va(find_dyn(DT_RELA)->d_un.d_ptr);
		size_t n = find_dyn(DT_RELASZ)->d_un.d_val / sizeof(*r);

		for (size_t i = 0; i < n; i++)
			if (r[i].r_offset == ia)
				r[i].r_addend = (int64_t)find_ph(PT_DYNAMIC,
				    0)->p_vaddr;
		try_one("init-array-to-data", buf, len, 1,
		    "does not point into the object's code");
	}

	/* Random byte flips. */
	for (int k = 0; k < nrand; k++) {
		int flips = 1 + (int)(rnd() % 8);

		reset();
		for (int i = 0; i < flips; i++) {
			size_t off = rnd() % 2 ? rnd() % 1024 : rnd() % len;

			buf[off] ^= (uint8_t)(1u << (rnd() % 8));
			if (rnd() % 4 == 0)
				buf[off] = (uint8_t)rnd();
		}
		try_one("random", buf, len, 0, NULL);
	}
	{
		struct kld_stats stt;

		kld_stats_get(&stt);
		checks++;
		if (stt.objects_rejected < (uint64_t)refused ||
		    stt.objects_checked < (uint64_t)(refused + loaded)) {
			failures++;
			printf("FAIL: stats count %llu rejected of %llu, the test "
			    "saw %d refused of %d\n",
			    (unsigned long long)stt.objects_rejected,
			    (unsigned long long)stt.objects_checked, refused,
			    refused + loaded);
		} else
			printf("ok   kld_stats: %llu objects checked, %llu "
			    "rejected, %llu violations\n",
			    (unsigned long long)stt.objects_checked,
			    (unsigned long long)stt.objects_rejected,
			    (unsigned long long)stt.violations);
	}
	printf("%d mutants: %d refused, %d loaded, %d failures\n", checks,
	    refused, loaded, failures);
	kld_symtab_destroy(tab);
	free(orig);
	free(buf);
	return failures ? 1 : 0;
}
