/*
 * fuzz_hostnet_rule - libFuzzer target for hostnet's allow-list entries
 * (rumpdrv/hostnet/hostnet_rule.c): any bytes as an entry; an accepted
 * one must format to text that parses back to the same rule, and the
 * error offset of a refused one must lie inside the entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../rumpdrv/include/krank/krs_hostnet.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[300];
	struct krs_hostnet_rule r, r2;
	const char *why;
	size_t pos;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (krs_hostnet_rule_parse(s, &r, &pos, &why) != 0) {
		if (why == NULL || pos > strlen(s))
			abort();
		return 0;
	}
	char buf[128];
	krs_hostnet_rule_format(&r, buf, sizeof(buf));
	if (krs_hostnet_rule_parse(buf, &r2, NULL, NULL) != 0 ||
	    memcmp(&r, &r2, sizeof(r)) != 0)
		abort();
	/* matching its own address and low port must hold */
	if (!krs_hostnet_rule_match(&r, r.hr_family, r.hr_addr, r.hr_port_lo))
		abort();
	return 0;
}
