/*
 * fuzz_krk_config - libFuzzer target for the deployment parser
 * (krank/krk_config.c): arbitrary bytes as a deployment file.  Beyond
 * memory safety it checks the round trip: what is accepted prints as YAML
 * that parses again and prints the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krk_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
print_to_mem(const struct krk_config *cfg, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		abort();
	krk_config_print(cfg, f);
	fclose(f);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char err[4096];
	struct krk_config *cfg, *cfg2;
	char *p1, *p2;
	size_t l1, l2;
	int e;

	e = krk_config_parse("fuzz/deploy.yaml", (const char *)data, size,
	    &cfg, err, sizeof(err));
	if (e != 0) {
		/* Every rejection says why, in the documented form. */
		if (err[0] == '\0' || strncmp(err, "fuzz/deploy.yaml:", 17) != 0)
			abort();
		return 0;
	}
	p1 = print_to_mem(cfg, &l1);
	e = krk_config_parse("fuzz/deploy.yaml", p1, l1, &cfg2, err,
	    sizeof(err));
	if (e != 0) {
		fprintf(stderr, "printed deployment rejected:\n%s---\n%s", p1,
		    err);
		abort();
	}
	p2 = print_to_mem(cfg2, &l2);
	if (l1 != l2 || memcmp(p1, p2, l1) != 0) {
		fprintf(stderr, "round trip differs:\n%s---\n%s", p1, p2);
		abort();
	}
	free(p1);
	free(p2);
	krk_config_free(cfg);
	krk_config_free(cfg2);
	return 0;
}
