/* Illegal: an absolute address in code (a text relocation). */
int g = 5;

int
main(void)
{
	int *p;

	__asm__("movabsq $g, %0" : "=r"(p));
	return *p;
}
