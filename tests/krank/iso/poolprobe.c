/*
 * poolprobe - for test_krk_pool: an isolate whose data must start zeroed
 * (memory of the isolate pool that another isolate used was wiped before
 * reuse).  Exits 0 when its bss and its data page are as the ELF says,
 * 3 when it finds another isolate's bytes; then marks them for the next
 * one.  With argument "writecode" it writes to its own code (W^X: the
 * write must fault); with "spin" it runs until it is killed.
 */
#include <string.h>

/* 48 KiB: with the code, the object spans more than 64 KiB (the
 * smallest pool), so the test can size a pool that fits it once. */
unsigned char probe_bss[48 << 10];
unsigned char probe_data[64] = { 1 };

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "writecode") == 0) {
		*(volatile unsigned char *)(void *)main = 0xc3;
		return 4;		/* not reached: the write faults */
	}
	if (argc > 1 && strcmp(argv[1], "spin") == 0)
		for (volatile unsigned long n = 0;; n++)
			;
	for (size_t i = 0; i < sizeof(probe_bss); i++)
		if (probe_bss[i] != 0)
			return 3;
	if (probe_data[0] != 1)
		return 3;
	for (size_t i = 1; i < sizeof(probe_data); i++)
		if (probe_data[i] != 0)
			return 3;
	memset(probe_bss, 0xa5, sizeof(probe_bss));
	memset(probe_data, 0xa5, sizeof(probe_data));
	return 0;
}
