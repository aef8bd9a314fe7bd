/* An isolate that allocates until malloc fails.  Exit 0 when the failure
 * came with ENOMEM after at least 1 MiB and the memory was usable; 1
 * otherwise. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

int
main(void)
{
	size_t total = 0;
	for (int i = 0; i < 1000000; i++) {
		char *p = malloc(64 * 1024);
		if (p == NULL) {
			printf("heapfill: malloc failed after %lu KiB, errno %d\n",
			    (unsigned long)(total >> 10), errno);
			return errno == ENOMEM && total >= (1u << 20) ? 0 : 1;
		}
		memset(p, 0xa5, 64 * 1024);
		total += 64 * 1024;
	}
	printf("heapfill: never failed\n");
	return 1;
}
