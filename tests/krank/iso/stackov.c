/* An isolate that recurses until it runs into its stack's guard page. */
int deep(volatile char *prev);

int
deep(volatile char *prev)
{
	volatile char pad[512];
	pad[0] = prev ? prev[0] + 1 : 0;
	return deep(pad) + pad[1];
}

int
main(void)
{
	return deep(0);
}
