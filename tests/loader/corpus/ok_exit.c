/* exit() from deep inside an isolate ends it with that status. */
#include <stdlib.h>

static void
deep(int n)
{
	if (n == 0)
		exit(7);
	deep(n - 1);
}

int
main(void)
{
	deep(3);
	return 1;
}
