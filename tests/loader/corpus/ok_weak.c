/* A weak import the export table lacks binds to NULL, not an error. */
extern int krank_no_such_function(void) __attribute__((weak));

int
main(void)
{
	return krank_no_such_function == 0 ? 0 : 1;
}
