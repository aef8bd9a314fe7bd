/* Illegal: a raw system call. */
int
main(void)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(39L) : "rcx", "r11", "memory");
	return (int)r;
}
