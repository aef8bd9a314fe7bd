/*
 * kv_table.h - examples/kv's keyspace: a chained hash table keyed by a
 * seeded SipHash (clients choose the keys), resized incrementally as
 * Redis's dict is (two tables; every operation moves one bucket; the
 * server's timer moves more), with per-key expiry (checked lazily on
 * access and swept by kv_expire_cycle) and a count of the memory it holds.
 * Single-threaded: the server's event loop is its only user.
 */
#ifndef KRANK_EXAMPLES_KV_TABLE_H
#define KRANK_EXAMPLES_KV_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct kv_entry {
	struct kv_entry *next;
	uint64_t hash;
	int64_t expire;		/* ms on the monotonic clock; 0: none */
	uint32_t klen, vlen;
	char data[];		/* key, then value */
};

struct kv_ht {
	struct kv_entry **b;
	size_t size;		/* 0 or a power of 2 */
	size_t used;
};

struct kv_table {
	struct kv_ht ht[2];	/* ht[1] only while rehashing */
	long rehash;		/* next ht[0] bucket to move; -1: none */
	uint64_t k0, k1;	/* SipHash key */
	size_t mem;		/* bytes held: entries and bucket arrays */
	size_t nexpire;		/* entries with an expiry */
	size_t cursor;		/* kv_expire_cycle's next bucket */
	uint64_t expired;	/* entries removed because they expired */
};

static inline const char *
kv_key(const struct kv_entry *e)
{
	return e->data;
}

static inline char *
kv_val(struct kv_entry *e)
{
	return e->data + e->klen;
}

/* The bytes an entry of these sizes adds to kv_table.mem. */
size_t kv_entry_cost(size_t klen, size_t vlen);

/* An empty table hashing with the key (k0, k1). */
void kv_init(struct kv_table *t, uint64_t k0, uint64_t k1);
/* Free every entry and the bucket arrays; the table is empty again. */
void kv_flush(struct kv_table *t);

/* Keys held (expired ones not swept yet included, as Redis's DBSIZE). */
size_t kv_size(const struct kv_table *t);

/*
 * The live entry of key, or NULL; an expired one found is removed (the
 * caller's now, ms on the monotonic clock).
 */
struct kv_entry *kv_find(struct kv_table *t, const char *key, size_t klen,
    int64_t now);

/*
 * Set key to val with expiry expire (0: none), replacing an existing
 * entry.  The new entry, or NULL when memory ran out (the table is then
 * unchanged).
 */
struct kv_entry *kv_set(struct kv_table *t, const char *key, size_t klen,
    const char *val, size_t vlen, int64_t expire);

/* Change an entry's expiry (0: none), keeping nexpire right. */
void kv_set_expire(struct kv_table *t, struct kv_entry *e, int64_t expire);

/* Remove key: 1 when a live entry was removed, 0 otherwise. */
int kv_del(struct kv_table *t, const char *key, size_t klen, int64_t now);

/* Move up to n buckets of a running rehash (and start a shrink when the
 * table is mostly empty); 1 when a rehash is still running. */
int kv_rehash(struct kv_table *t, size_t n);

/*
 * Remove expired entries, visiting at most max_buckets buckets from where
 * the last call stopped; the number removed.
 */
size_t kv_expire_cycle(struct kv_table *t, int64_t now, size_t max_buckets);

/* SipHash-1-3 of (p, n) under (k0, k1). */
uint64_t kv_siphash(uint64_t k0, uint64_t k1, const void *p, size_t n);

#endif /* KRANK_EXAMPLES_KV_TABLE_H */
