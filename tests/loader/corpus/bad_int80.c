/* Illegal: the 32-bit system call gate. */
int
main(void)
{
	__asm__ volatile("int $0x80" : : "a"(20) : "memory");
	return 0;
}
