/*
 * fuzz_ctl_serve - libFuzzer target for a whole control request: the
 * bytes go through a socketpair into krk_ctl_serve (framing, dispatch and
 * every command's argument parsing), with the real isolate calls (never
 * initialised) and no booted stack or vfs (their commands answer with
 * errors).  The client side is closed for writing, so waits and
 * captures end at once.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "krk.h"
#include "krk_ctl_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	if (!inited) {
		krk_log_init(1 << 16, -1);
		inited = 1;
	}
	if (size > 2 * KRK_CTL_MAX_REQ)
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	struct timeval tv = { 1, 0 };
	setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (size > 0 && write(sv[0], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[0], SHUT_WR);
	krk_ctl_serve(sv[1]);
	close(sv[1]);
	char buf[65536], first = 0;
	ssize_t n, got = 0;
	while ((n = read(sv[0], buf, sizeof(buf))) > 0) {
		if (got == 0)
			first = buf[0];
		got += n;
	}
	close(sv[0]);
	/* Every answer starts with a status line (or nothing for a client
	 * that sent nothing). */
	if (got > 0 && first != 'o' && first != 'e')
		abort();
	if (size > 0 && got == 0)
		abort();
	return 0;
}
