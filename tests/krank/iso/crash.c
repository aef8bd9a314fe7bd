/* An isolate that dereferences NULL (in a named function, so the fault
 * report can name it). */
#include <stdio.h>

volatile int *crash_target;

int crash_here(void) __attribute__((noinline));

int
crash_here(void)
{
	return *crash_target;
}

int
main(void)
{
	printf("crash: about to dereference NULL\n");
	return crash_here();
}
