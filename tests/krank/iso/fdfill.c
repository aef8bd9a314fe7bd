/* An isolate that opens files until open fails.  Exit 0 when the failure
 * is EMFILE with exactly LIMIT descriptors in use (argv[1]; 0-2 are taken
 * from the start), 1 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int limit = argc > 1 ? atoi(argv[1]) : 16, last = -1;
	for (int i = 0; i < 100000; i++) {
		int fd = open("/", O_RDONLY);
		if (fd < 0) {
			printf("fdfill: open failed after fd %d, errno %d\n", last,
			    errno);
			return errno == EMFILE && last == limit - 1 ? 0 : 1;
		}
		last = fd;
	}
	return 1;
}
