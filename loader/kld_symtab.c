/*
 * The export table an isolate binds against: an open-addressing hash of
 * name -> address, built once by the host and read-only during loads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kld_int.h"

struct kld_symtab {
	struct kld_export *slot;	/* name NULL: empty */
	size_t cap, n;			/* cap is a power of two */
	uint64_t id;			/* new at every change (kld_park.c) */
};

static _Atomic uint64_t symtab_ids;

uint64_t
kld_symtab_id(const struct kld_symtab *t)
{
	return t != NULL ? t->id : 0;
}

static uint32_t
hash_name(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int
kld_symtab_create(struct kld_symtab **tabp)
{
	struct kld_symtab *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return ENOMEM;
	t->cap = 64;
	t->id = ++symtab_ids;
	t->slot = calloc(t->cap, sizeof(*t->slot));
	if (t->slot == NULL) {
		free(t);
		return ENOMEM;
	}
	*tabp = t;
	return 0;
}

static void
put(struct kld_export *slot, size_t cap, const struct kld_export *e)
{
	size_t i = hash_name(e->name) & (cap - 1);

	while (slot[i].name != NULL && strcmp(slot[i].name, e->name) != 0)
		i = (i + 1) & (cap - 1);
	slot[i] = *e;
}

int
kld_symtab_add(struct kld_symtab *t, const struct kld_export *v, size_t n)
{
	t->id = ++symtab_ids;		/* even if it fails half-way */
	for (size_t k = 0; k < n; k++) {
		if (v[k].name == NULL)
			return EINVAL;
		if ((t->n + 1) * 2 > t->cap) {
			size_t cap = t->cap * 2;
			struct kld_export *s = calloc(cap, sizeof(*s));

			if (s == NULL)
				return ENOMEM;
			for (size_t i = 0; i < t->cap; i++)
				if (t->slot[i].name != NULL)
					put(s, cap, &t->slot[i]);
			free(t->slot);
			t->slot = s;
			t->cap = cap;
		}
		if (kld_symtab_lookup(t, v[k].name) == NULL)
			t->n++;
		put(t->slot, t->cap, &v[k]);
	}
	return 0;
}

void *
kld_symtab_lookup(const struct kld_symtab *t, const char *name)
{
	size_t i = hash_name(name) & (t->cap - 1);

	while (t->slot[i].name != NULL) {
		if (strcmp(t->slot[i].name, name) == 0)
			return t->slot[i].addr;
		i = (i + 1) & (t->cap - 1);
	}
	return NULL;
}

void
kld_symtab_destroy(struct kld_symtab *t)
{
	if (t == NULL)
		return;
	kld_park_exports_gone(t);
	free(t->slot);
	free(t);
}
