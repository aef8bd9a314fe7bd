/*
 * fuzz_krq_ring - libFuzzer target for KRANK's ring consumer
 * (krq_sclient_poll in krank/krq_server.c): the input rewrites the rings
 * of a real region (indices, bells, slot lengths and bytes; the header
 * page is KRANK's and left alone) between passes of the consumer.  Every
 * request handed to the serve function must be a private buffer within
 * the slot's capacity, every pass must serve at most what a ring holds,
 * and nothing may be read or written outside the region (ASan).
 *
 * Requests are published by their slot tags (krq_layout.h), which the
 * seeds set.  Input: records "off_lo off_hi n data[n] act": write data at
 * offset off of the ring area (wrapped, clipped), then when act & 1 run a
 * pass of ring pair (act >> 1) & 1.  At the end both pairs get a pass.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "krq_layout.h"
#include "krq_server.h"

#define NSLOTS		8
#define SLOT_SIZE	128
#define CAP		(SLOT_SIZE - KRQ_SLOT_HDR)

static void *region;
static size_t region_len;

static int
serve(void *arg, const void *req, size_t len, void *resp, size_t cap,
    size_t *resplenp)
{
	(void)arg;
	const unsigned char *r = req;
	if (len > CAP || cap != CAP)
		abort();
	if (r >= (const unsigned char *)region &&
	    r < (const unsigned char *)region + region_len)
		abort();		/* served from shared memory */
	unsigned sum = 0;
	for (size_t i = 0; i < len; i++)	/* ASan: the whole copy */
		sum += r[i];
	size_t n = len ? r[0] % (CAP + 1) : 0;
	memset(resp, (int)sum, n);
	*resplenp = n;
	return len > 1 && r[1] == 0xee ? 22 : 0;
}

/* Cut-off lines would flood the fuzzer's output. */
static void
quiet_log(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static void
poll_pair(struct krq_sclient *c, unsigned r)
{
	int n = krq_sclient_poll(c, r, serve, NULL);
	if (n > NSLOTS)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct krq_server_cfg cfg = { .nrings = 2, .nslots = NSLOTS,
	    .slot_size = SLOT_SIZE, .area_len = 0, .spin_ns = 0,
	    .client_spin_ns = 0, .max_bad = 16, .log = quiet_log };
	struct krq_sclient *c;
	int fd;
	if (krq_sclient_create(&cfg, &c, &fd) != 0)
		abort();
	close(fd);
	krq_sclient_region(c, &region, &region_len);
	unsigned char *rings = (unsigned char *)region + KRQ_PAGE;
	size_t rings_len = 4 * krq_ring_size(NSLOTS, SLOT_SIZE);
	size_t i = 0;
	while (i + 3 <= size) {
		size_t off = (data[i] | (size_t)data[i + 1] << 8) % rings_len;
		size_t n = data[i + 2];
		i += 3;
		if (n > size - i)
			n = size - i;
		if (n > rings_len - off)
			memcpy(rings + off, data + i, rings_len - off);
		else
			memcpy(rings + off, data + i, n);
		i += n;
		if (i < size) {
			uint8_t act = data[i++];
			if (act & 1)
				poll_pair(c, (act >> 1) & 1);
		}
	}
	poll_pair(c, 0);
	poll_pair(c, 1);
	krq_sclient_destroy(c);
	return 0;
}
