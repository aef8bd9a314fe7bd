/*
 * rumpuser_random.c - randomness from the host kernel's getrandom(2).
 */
#include <errno.h>
#include <sys/random.h>
#include "rumpuser_int.h"

int
rumpuser_getrandom(void *buf, size_t buflen, int flags, size_t *retp)
{
	ssize_t n;

	if ((flags & ~(RUMPUSER_RANDOM_HARD | RUMPUSER_RANDOM_NOWAIT)) != 0 ||
	    retp == NULL || (buf == NULL && buflen != 0))
		return NB_EINVAL;
	do {
		n = getrandom(buf, buflen,
		    (flags & RUMPUSER_RANDOM_NOWAIT) ? GRND_NONBLOCK : 0);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return rumpuser__errtrans(errno);
	*retp = (size_t)n;
	return 0;
}
