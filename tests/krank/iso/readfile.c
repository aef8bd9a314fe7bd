/* An isolate that prints the first line of the file argv[1] (for the
 * disk tests: the file lives on an ext2 image read through KRANK). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char buf[256];
	ssize_t n;
	int fd;

	if (argc < 2 || (fd = open(argv[1], O_RDONLY)) < 0) {
		printf("readfile: cannot open %s\n", argc > 1 ? argv[1] : "?");
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 1;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = '\0';
	printf("read: %s\n", buf);
	return 0;
}
