/*
 * kv_table.c - examples/kv's hash table (see kv_table.h).  Rehashing as
 * Redis's dict does it: while ht[1] exists, lookups search both tables,
 * inserts go to ht[1], and each operation moves one bucket of ht[0], so
 * no single request pays for the whole resize.
 */
#include <stdlib.h>
#include <string.h>

#include "kv_table.h"

#define KV_MIN_SIZE	16
#define KV_EMPTY_VISITS	10	/* empty buckets one rehash step may skip */

/* ---- SipHash-1-3 (Aumasson and Bernstein), 64-bit output ---- */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

uint64_t
kv_siphash(uint64_t k0, uint64_t k1, const void *p, size_t n)
{
	const uint8_t *in = p;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m, b = (uint64_t)n << 56;
	size_t i;
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&m, in + i, 8);	/* x86-64: little-endian */
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < n; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the table ---- */

size_t
kv_entry_cost(size_t klen, size_t vlen)
{
	/* The allocation rounded as a malloc would, plus its header. */
	return ((sizeof(struct kv_entry) + klen + vlen + 15) & ~(size_t)15) +
	    16;
}

void
kv_init(struct kv_table *t, uint64_t k0, uint64_t k1)
{
	memset(t, 0, sizeof(*t));
	t->rehash = -1;
	t->k0 = k0;
	t->k1 = k1;
}

static void
kv_entry_free(struct kv_table *t, struct kv_entry *e)
{
	t->mem -= kv_entry_cost(e->klen, e->vlen);
	if (e->expire != 0)
		t->nexpire--;
	free(e);
}

void
kv_flush(struct kv_table *t)
{
	for (int h = 0; h < 2; h++) {
		for (size_t i = 0; i < t->ht[h].size; i++) {
			struct kv_entry *e = t->ht[h].b[i], *n;
			for (; e != NULL; e = n) {
				n = e->next;
				kv_entry_free(t, e);
			}
		}
		free(t->ht[h].b);
	}
	uint64_t expired = t->expired;
	kv_init(t, t->k0, t->k1);
	t->expired = expired;
}

size_t
kv_size(const struct kv_table *t)
{
	return t->ht[0].used + t->ht[1].used;
}

/* Start moving everything into a table of size buckets; 0 or -1 (no
 * memory: the table keeps working, just with longer chains). */
static int
kv_resize(struct kv_table *t, size_t size)
{
	struct kv_entry **b = calloc(size, sizeof(*b));
	if (b == NULL)
		return -1;
	t->mem += size * sizeof(*b);
	if (t->ht[0].size == 0) {	/* the first table */
		t->ht[0].b = b;
		t->ht[0].size = size;
		return 0;
	}
	t->ht[1].b = b;
	t->ht[1].size = size;
	t->ht[1].used = 0;
	t->rehash = 0;
	return 0;
}

int
kv_rehash(struct kv_table *t, size_t n)
{
	if (t->rehash < 0) {
		/* Shrink a table at most 1/8 full (after deletes, flushes
		 * of many keys, expiries). */
		size_t used = t->ht[0].used, size = KV_MIN_SIZE;
		if (t->ht[0].size > KV_MIN_SIZE && used < t->ht[0].size / 8) {
			while (size < used)
				size *= 2;
			(void)kv_resize(t, size);
		}
		return t->rehash >= 0;
	}
	size_t visits = n * KV_EMPTY_VISITS;
	struct kv_ht *from = &t->ht[0], *to = &t->ht[1];
	while (n > 0 && (size_t)t->rehash < from->size) {
		struct kv_entry *e = from->b[t->rehash], *next;
		if (e == NULL) {
			t->rehash++;
			if (--visits == 0)
				break;
			continue;
		}
		for (; e != NULL; e = next) {
			next = e->next;
			size_t i = e->hash & (to->size - 1);
			e->next = to->b[i];
			to->b[i] = e;
			from->used--;
			to->used++;
		}
		from->b[t->rehash++] = NULL;
		n--;
	}
	if ((size_t)t->rehash < from->size)
		return 1;
	t->mem -= from->size * sizeof(*from->b);
	free(from->b);
	*from = *to;
	memset(to, 0, sizeof(*to));
	t->rehash = -1;
	t->cursor = 0;
	return 0;
}

/* The link pointing at key's entry in one table, or NULL. */
static struct kv_entry **
kv_link(struct kv_ht *ht, uint64_t hash, const char *key, size_t klen)
{
	if (ht->size == 0)
		return NULL;
	struct kv_entry **l = &ht->b[hash & (ht->size - 1)];
	for (; *l != NULL; l = &(*l)->next) {
		struct kv_entry *e = *l;
		if (e->hash == hash && e->klen == klen &&
		    memcmp(e->data, key, klen) == 0)
			return l;
	}
	return NULL;
}

/* The link to key's entry in either table (its table in *h), or NULL. */
static struct kv_entry **
kv_lookup(struct kv_table *t, uint64_t hash, const char *key, size_t klen,
    int *h)
{
	struct kv_entry **l;
	if (t->rehash >= 0)
		(void)kv_rehash(t, 1);
	for (*h = 0; *h < 2; (*h)++)
		if ((l = kv_link(&t->ht[*h], hash, key, klen)) != NULL)
			return l;
	return NULL;
}

static void
kv_unlink(struct kv_table *t, struct kv_entry **l, int h)
{
	struct kv_entry *e = *l;
	*l = e->next;
	t->ht[h].used--;
	kv_entry_free(t, e);
}

struct kv_entry *
kv_find(struct kv_table *t, const char *key, size_t klen, int64_t now)
{
	int h;
	if (kv_size(t) == 0)
		return NULL;
	uint64_t hash = kv_siphash(t->k0, t->k1, key, klen);
	struct kv_entry **l = kv_lookup(t, hash, key, klen, &h);
	if (l == NULL)
		return NULL;
	if ((*l)->expire != 0 && (*l)->expire <= now) {
		kv_unlink(t, l, h);
		t->expired++;
		return NULL;
	}
	return *l;
}

struct kv_entry *
kv_set(struct kv_table *t, const char *key, size_t klen, const char *val,
    size_t vlen, int64_t expire)
{
	int h;
	if (klen > UINT32_MAX || vlen > UINT32_MAX)
		return NULL;
	uint64_t hash = kv_siphash(t->k0, t->k1, key, klen);
	if (t->ht[0].size == 0 && kv_resize(t, KV_MIN_SIZE) != 0)
		return NULL;
	struct kv_entry *e = malloc(sizeof(*e) + klen + vlen);
	if (e == NULL)
		return NULL;
	e->hash = hash;
	e->expire = expire;
	e->klen = (uint32_t)klen;
	e->vlen = (uint32_t)vlen;
	memcpy(e->data, key, klen);
	if (vlen > 0)	/* val may be an empty argument's address */
		memcpy(e->data + klen, val, vlen);
	t->mem += kv_entry_cost(klen, vlen);
	if (expire != 0)
		t->nexpire++;

	struct kv_entry **l = kv_lookup(t, hash, key, klen, &h);
	if (l != NULL) {	/* replace in place in its chain */
		struct kv_entry *old = *l;
		e->next = old->next;
		*l = e;
		kv_entry_free(t, old);
		return e;
	}
	h = t->rehash >= 0;
	struct kv_ht *ht = &t->ht[h];
	size_t i = hash & (ht->size - 1);
	e->next = ht->b[i];
	ht->b[i] = e;
	ht->used++;
	if (t->rehash < 0 && t->ht[0].used >= t->ht[0].size)
		(void)kv_resize(t, t->ht[0].size * 2);
	return e;
}

void
kv_set_expire(struct kv_table *t, struct kv_entry *e, int64_t expire)
{
	if (e->expire != 0)
		t->nexpire--;
	if (expire != 0)
		t->nexpire++;
	e->expire = expire;
}

int
kv_del(struct kv_table *t, const char *key, size_t klen, int64_t now)
{
	int h;
	if (kv_size(t) == 0)
		return 0;
	uint64_t hash = kv_siphash(t->k0, t->k1, key, klen);
	struct kv_entry **l = kv_lookup(t, hash, key, klen, &h);
	if (l == NULL)
		return 0;
	int live = (*l)->expire == 0 || (*l)->expire > now;
	if (!live)
		t->expired++;
	kv_unlink(t, l, h);
	return live;
}

size_t
kv_expire_cycle(struct kv_table *t, int64_t now, size_t max_buckets)
{
	size_t n = 0;
	/* During a rehash the sweep waits: the cursor would skip entries
	 * as buckets move, and the rehash ends soon. */
	if (t->nexpire == 0 || t->rehash >= 0 || t->ht[0].size == 0)
		return 0;
	struct kv_ht *ht = &t->ht[0];
	while (max_buckets-- > 0) {
		if (t->cursor >= ht->size)
			t->cursor = 0;
		struct kv_entry **l = &ht->b[t->cursor++];
		while (*l != NULL) {
			if ((*l)->expire != 0 && (*l)->expire <= now) {
				kv_unlink(t, l, 0);
				t->expired++;
				n++;
			} else {
				l = &(*l)->next;
			}
		}
		if (t->nexpire == 0)
			break;
	}
	return n;
}
