/*
 * krk_config_check - the deployment parser alone, as `krank check -v` will
 * run it: `krk_config_check FILE` prints the errors (exit 1) or the
 * effective deployment (exit 0).  `-` reads standard input through
 * krk_config_parse under the name given by -n (default "stdin.yaml").
 * -c prints where the components were named instead (krank's registry
 * check reports at those places).
 * Used by tests/krank/test_krk_config.sh, also under ASan+UBSan.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krk_config.h"

int
main(int argc, char **argv)
{
	static char err[16384];
	struct krk_config *cfg;
	const char *name = "stdin.yaml";
	int e, a = 1;
	bool locs = false;
	size_t i;

	if (argc > 1 && strcmp(argv[1], "-c") == 0) {
		locs = true;
		a++;
	}
	if (argc > a + 1 && strcmp(argv[a], "-n") == 0) {
		name = argv[a + 1];
		a += 2;
	}
	if (argc != a + 1) {
		fprintf(stderr, "usage: krk_config_check [-c] [-n NAME] FILE|-\n");
		return 2;
	}
	if (strcmp(argv[a], "-") == 0) {
		size_t cap = 1 << 21, len = 0, r;
		char *buf = malloc(cap);

		if (buf == NULL)
			return 2;
		while ((r = fread(buf + len, 1, cap - len, stdin)) > 0 &&
		    (len += r) < cap)
			;
		e = krk_config_parse(name, buf, len, &cfg, err, sizeof(err));
		free(buf);
	} else
		e = krk_config_load(argv[a], &cfg, err, sizeof(err));
	if (e != 0) {
		fputs(err, stderr);
		fprintf(stderr, "krk_config_check: %s: %s\n", argv[a],
		    strerror(e));
		return 1;
	}
	if (locs) {
		printf("components %u:%u\n", cfg->components_loc.line,
		    cfg->components_loc.col);
		for (i = 0; i < cfg->ncomponents; i++)
			printf("%s %u:%u\n", cfg->components[i],
			    cfg->component_locs[i].line,
			    cfg->component_locs[i].col);
	} else
		krk_config_print(cfg, stdout);
	krk_config_free(cfg);
	return 0;
}
