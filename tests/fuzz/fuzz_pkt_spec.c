/*
 * fuzz_pkt_spec - libFuzzer target for the packet port spec parser
 * (hyp_pkt_spec.c): arbitrary bytes as a spec string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include "hyp_pkt_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_spec ps;
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pkt_spec_parse(s, &ps) == 0) {
		/* What is accepted is bounded and well-formed. */
		if (ps.name[0] == '\0' || strlen(ps.name) >= IFNAMSIZ ||
		    ps.opts.loss > 1.0 || ps.opts.dup > 1.0 ||
		    ps.opts.reorder > 1.0 || (ps.opts.has_mac && (ps.opts.mac[0] & 1)) ||
		    ps.opts.queues > PKT_MAXQ)
			abort();
	} else if (ps.why != NULL && strstr(ps.why, "queues") == NULL) {
		abort();	/* only a bad queues= says why today */
	}
	free(s);
	return 0;
}
