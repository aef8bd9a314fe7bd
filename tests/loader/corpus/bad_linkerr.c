/* krank-cc must refuse to link this: fopen is not in the isolate libc. */
void *fopen(const char *, const char *);

int
main(void)
{
	return fopen("/etc/passwd", "r") != 0;
}
