/* Legal by default, refused with --strict: the bytes of syscall (0f 05)
 * hidden in an immediate operand. */
int
main(void)
{
	int v;

	__asm__ volatile("movl $0x050f, %0" : "=r"(v));
	return v == 0x050f ? 0 : 1;
}
