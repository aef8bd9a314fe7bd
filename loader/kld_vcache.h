/*
 * Internals of the verdict cache (kld_vcache.c) and the SHA-256 it keys
 * verdicts with (kld_sha256.c).
 */
#ifndef KLD_VCACHE_H
#define KLD_VCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KLD_SHA256_LEN	32

struct kld_sha256 {
	uint32_t h[8];
	uint64_t total;
	uint8_t buf[64];
	size_t fill;
	bool portable;		/* never the SHA extensions (tests) */
};

void kld_sha256_init(struct kld_sha256 *c);
void kld_sha256_update(struct kld_sha256 *c, const void *data, size_t len);
void kld_sha256_final(struct kld_sha256 *c, uint8_t out[KLD_SHA256_LEN]);
void kld_sha256(const void *data, size_t len, uint8_t out[KLD_SHA256_LEN]);

struct kld_stage;
struct kld_diag;

/* Whether kld_vcache_enable was called (and not undone). */
bool kld_vcache_active(void);
/* The key of st's instruction verdict: its executable pages, where they
 * lie, the resync points inside them and the mode (KLD_STRICT). */
void kld_vcache_key(const struct kld_stage *st, uint8_t key[KLD_SHA256_LEN]);
/* True when an accepted verdict for key is cached (memory, then the
 * directory); *nwarn is how many warnings the verification gave.  Bad
 * entries are counted, reported as a warning and make this false. */
bool kld_vcache_lookup(const uint8_t key[KLD_SHA256_LEN], unsigned flags,
    const char *name, struct kld_diag *d, unsigned *nwarn);
/* Remember that the code of key was accepted with nwarn warnings. */
void kld_vcache_store(const uint8_t key[KLD_SHA256_LEN], unsigned flags,
    unsigned nwarn, const char *name, struct kld_diag *d);

#endif
