/* An isolate that stays alive making system calls: a 1 ms sleep in a
 * loop (about 1000 calls a second, little CPU), for krankctl's top. */
#include <time.h>

int
main(void)
{
	struct timespec ms = { 0, 1000000 };

	for (;;)
		nanosleep(&ms, NULL);
}
