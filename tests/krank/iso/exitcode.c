/* An isolate that exits with the status given as its argument. */
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	int st = argc > 1 ? atoi(argv[1]) : 3;
	printf("exitcode: exiting with %d\n", st);
	exit(st);
}
