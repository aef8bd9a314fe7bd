/* An isolate whose code holds the bytes of syscall (0f 05) inside an
 * immediate: refused in KRANK's default strict mode, run with --lax
 * (exit status 0). */
int
main(void)
{
	int v;

	__asm__ volatile("movl $0x050f, %0" : "=r"(v));
	return v == 0x050f ? 0 : 1;
}
