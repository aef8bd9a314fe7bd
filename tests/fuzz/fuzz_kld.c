/*
 * libFuzzer target for the loader: an arbitrary byte string goes through
 * the ELF parser, the verifier (strict), the loader (relocation and
 * binding, no initialisers run) and kld_info.  Any crash, leak or
 * sanitizer report is a bug: ELF files are untrusted input.
 */
#include <stddef.h>
#include <stdint.h>

#include "krank/kld.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kld_symtab *tab;
	struct kld_object *obj;
	struct kld_diag d = { 0 };

	if (tab == NULL) {
		if (kld_symtab_create(&tab) != 0 ||
		    kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports))
			__builtin_trap();
	}
	(void)kld_verify(data, size, "fuzz", KLD_STRICT, &d);
	if (kld_load(data, size, "fuzz", tab, KLD_NO_INIT, &d, &obj) == 0) {
		(void)kld_sym(obj, "main");
		kld_unload(obj);
	}
	(void)kld_info(data, size, "fuzz", NULL);
	return 0;
}
