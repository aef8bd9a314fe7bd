/*
 * fuzz_ctl_req - libFuzzer target for the control socket's request parser
 * (krk_ctl_req_parse in krank/krk_ctl_proto.h): any bytes, at any length,
 * must give a whole request, "more needed" or a refusal, and the strings
 * returned must lie inside the input and be NUL-terminated there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "krk_ctl_proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan sees any over-read. */
	char *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	const char *argv[KRK_CTL_MAX_ARGS];
	int argc = -1;
	size_t used = 0;
	int rv = krk_ctl_req_parse(buf, size, argv, KRK_CTL_MAX_ARGS, &argc,
	    &used);
	if (rv == 0) {
		if (argc < 0 || argc > KRK_CTL_MAX_ARGS || used == 0 || used > size ||
		    buf[used - 1] != '\0')
			abort();
		for (int i = 0; i < argc; i++) {
			if (argv[i] < buf || argv[i] >= buf + used)
				abort();
			size_t l = strnlen(argv[i], (size_t)(buf + used - argv[i]));
			if (l == 0 || argv[i] + l >= buf + used)
				abort();
		}
	} else if (rv != EAGAIN && rv != E2BIG && rv != EMSGSIZE)
		abort();
	else if (rv == EMSGSIZE && size < KRK_CTL_MAX_REQ)
		abort();
	free(buf);
	return 0;
}
