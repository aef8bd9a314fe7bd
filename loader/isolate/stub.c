/* Link stub for isolates: a shared object that defines every name of the
 * export table (the isolate libc's and krank's system calls), so that
 * krank-cc's link fails on anything else.  Never
 * loaded: krank-ld binds these names to the host's functions. */
#define KLD_EXPORT(name, fn) void name(void); void name(void) {}
#include "exports.def"
#include "krk_sys_exports.def"
