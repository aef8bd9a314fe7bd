/* The export table of the isolate libc, from exports.def. */
#include "kld_libc.h"

#define KLD_EXPORT(name, fn) { #name, (void *)fn },
const struct kld_export kld_libc_exports[] = {
#include "exports.def"
};
#undef KLD_EXPORT
const size_t kld_libc_nexports = sizeof(kld_libc_exports) /
    sizeof(kld_libc_exports[0]);
