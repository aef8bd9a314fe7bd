/* The verifier's fast path, out of line (tests/loader/test_kld_fastlen);
 * the code is in kld_fastlen.h. */
#include "kld_fastlen.h"

size_t
kld_fast_len(const uint8_t *p, size_t avail)
{
	return kld_fast_len_inline(p, avail);
}
