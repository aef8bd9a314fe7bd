/*
 * Scratch buffers reused from load to load (test_kld_scratch.sh):
 *   test_kld_scratch FULL.kx BSS.kx
 * FULL.kx fills its span with code and data; BSS.kx, loaded next in the
 * same process and so staged in the same scratch buffer, must find its
 * bss and the gaps zero (its main returns 1 otherwise).  Both run several
 * times, alternately, with the verdict cache off and on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "krank/kld.h"

#include "kld_run.h"

static int failures, checks;
static struct kld_symtab *tab;

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/test_kld_scratch.XXXXXX";

	if (argc != 3) {
		fprintf(stderr, "usage: test_kld_scratch FULL.kx BSS.kx\n");
		return 2;
	}
	kld_run_quiet();
	kld_symtab_create(&tab);
	kld_symtab_add(tab, kld_libc_exports, kld_libc_nexports);
	for (int cached = 0; cached < 2; cached++) {
		if (cached && (mkdtemp(dir) == NULL ||
		    kld_vcache_enable(dir, NULL) != 0)) {
			printf("FAIL: no cache directory\n");
			return 1;
		}
		for (int i = 0; i < 4; i++) {
			int f = kld_run_file(argv[1], tab, 0);
			int b = kld_run_file(argv[2], tab, 0);

			checks += 2;
			if (f < 0) {
				failures++;
				printf("FAIL: %s did not load\n", argv[1]);
			}
			if (b != 0) {
				failures++;
				printf("FAIL: %s after %s (cache %s): main "
				    "returned %d (1: its bss was not zero; -1: not "
				    "loaded)\n",
				    argv[2], argv[1], cached ? "on" : "off", b);
			}
		}
	}
	kld_vcache_disable();
	{
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("note: could not remove %s\n", dir);
	}
	kld_symtab_destroy(tab);
	printf("%s %d checks, %d failures\n", failures ? "FAIL" : "ok  ",
	    checks, failures);
	return failures != 0;
}
