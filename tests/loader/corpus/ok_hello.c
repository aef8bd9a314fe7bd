/* The smallest useful isolate. */
#include <stdio.h>

int
main(void)
{
	puts("hello from an isolate");
	return 0;
}
