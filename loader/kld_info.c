/*
 * krank-ld info: what an object contains, as the loader sees it
 * (segments, sections, dynamic tables, imports and exports).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "kld_int.h"

#define OUT(...) kld_report(d, KLD_INFO, __VA_ARGS__)

int
kld_info(const void *image, size_t len, const char *name,
    struct kld_diag *diag)
{
	struct kld_diag local = { 0 };
	struct kld_diag *d = diag ? diag : &local;
	struct kld_stage st;
	const struct kld_dyn *dy = &st.dyn;
	const Elf64_Sym *syms;
	const char *str;
	size_t nimp = 0, nexp = 0;
	int error;

	memset(&st, 0, sizeof(st));
	st.name = name;
	st.img = image;
	st.len = len;
	st.diag = d;
	if ((error = kld_elf_parse(&st)) != 0 ||
	    (error = kld_stage_map(&st)) != 0 ||
	    (error = kld_dyn_parse(&st)) != 0)
		goto out;
	OUT("%s: ELF64 x86-64 ET_DYN, %zu bytes, entry %#llx, %u PT_LOAD, "
	    "span %#llx bytes", name, len, (unsigned long long)st.eh.e_entry,
	    st.nseg, (unsigned long long)(st.hi - st.lo));
	for (unsigned i = 0; i < st.nseg; i++)
		OUT("  segment %u: vaddr %#09llx memsz %#09llx filesz %#09llx "
		    "%c%c%c", i, (unsigned long long)st.seg[i].vaddr,
		    (unsigned long long)st.seg[i].memsz,
		    (unsigned long long)st.seg[i].filesz,
		    st.seg[i].flags & PF_R ? 'R' : '-',
		    st.seg[i].flags & PF_W ? 'W' : '-',
		    st.seg[i].flags & PF_X ? 'X' : '-');
	if (st.relro_memsz)
		OUT("  relro: %#llx + %#llx", (unsigned long long)st.relro_vaddr,
		    (unsigned long long)st.relro_memsz);
	for (size_t i = 0; i < st.nscn; i++)
		OUT("  section %-20s addr %#09llx size %#08llx %s%s", st.scn[i].name,
		    (unsigned long long)st.scn[i].addr,
		    (unsigned long long)st.scn[i].size,
		    st.scn[i].flags & SHF_WRITE ? "W" : "",
		    st.scn[i].flags & SHF_EXECINSTR ? "X" : "");
	OUT("  dynamic: %zu symbols, RELA %llu bytes, PLT %llu bytes, "
	    "%u DT_NEEDED, init %s, init_array %llu, fini_array %llu, %zu "
	    "function symbols", dy->nsyms, (unsigned long long)dy->relasz,
	    (unsigned long long)dy->pltrelsz, dy->nneeded,
	    dy->init ? "yes" : "no",
	    (unsigned long long)dy->init_arraysz / 8,
	    (unsigned long long)dy->fini_arraysz / 8, st.nfuncs);
	syms = dy->symtab ? kld_stage_ptr(&st, dy->symtab, 0) : NULL;
	str = dy->strtab ? kld_stage_ptr(&st, dy->strtab, dy->strsz) : NULL;
	for (size_t i = 1; syms != NULL && str != NULL && i < dy->nsyms; i++) {
		const Elf64_Sym *s = &syms[i];

		if (s->st_name >= dy->strsz || memchr(str + s->st_name, 0,
		    dy->strsz - s->st_name) == NULL)
			continue;
		if (s->st_shndx == SHN_UNDEF) {
			OUT("  import %s%s", str + s->st_name,
			    ELF64_ST_BIND(s->st_info) == STB_WEAK ?
			    " (weak)" : "");
			nimp++;
		} else if (ELF64_ST_BIND(s->st_info) != STB_LOCAL) {
			OUT("  export %s = %#llx", str + s->st_name,
			    (unsigned long long)s->st_value);
			nexp++;
		}
	}
	OUT("  %zu imports, %zu exports", nimp, nexp);
out:
	if (st.map != NULL)
		munmap(st.map, st.mapsz);
	kld_stage_fini(&st);
	return error;
}
