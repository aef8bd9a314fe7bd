/*
 * kern_rmtable.c - a read-mostly table of (name, pointer) under a reader/
 * writer lock of the hypercall layer.  Not liburcu: liburcu makes its own
 * host calls (membarrier, futex, its call_rcu pthreads) outside the
 * hypercall layer and needs every reader thread registered with it; see
 * docs/rumpdrv.md.  Readers of these tables (fs type lookup at mount) are
 * off the hot paths.
 */
#include <string.h>

#include "kern/kern_int.h"

struct rmentry {
	struct rmentry *next;
	char *key;
	void *val;
};

struct rmtable {
	krwlock_t lock;			/* protects head and every entry */
	struct rmentry *head;
};

int
rmtable_create(struct rmtable **tp)
{
	struct rmtable *t = kmem_zalloc(sizeof(*t), KM_SLEEP);
	rw_init(&t->lock);
	*tp = t;
	return 0;
}

void
rmtable_destroy(struct rmtable *t)
{
	struct rmentry *e, *n;
	for (e = t->head; e != NULL; e = n) {
		n = e->next;
		kmem_strfree(e->key);
		kmem_free(e, sizeof(*e));
	}
	rw_destroy(&t->lock);
	kmem_free(t, sizeof(*t));
}

int
rmtable_insert(struct rmtable *t, const char *key, void *val)
{
	struct rmentry *e = kmem_zalloc(sizeof(*e), KM_SLEEP);
	e->key = kmem_strdup(key, KM_SLEEP);
	e->val = val;
	rw_enter(&t->lock, RW_WRITER);
	for (struct rmentry *o = t->head; o != NULL; o = o->next) {
		if (strcmp(o->key, key) == 0) {
			rw_exit(&t->lock);
			kmem_strfree(e->key);
			kmem_free(e, sizeof(*e));
			return EEXIST;
		}
	}
	e->next = t->head;
	t->head = e;
	rw_exit(&t->lock);
	return 0;
}

int
rmtable_remove(struct rmtable *t, const char *key)
{
	rw_enter(&t->lock, RW_WRITER);
	for (struct rmentry **pp = &t->head; *pp != NULL; pp = &(*pp)->next) {
		struct rmentry *e = *pp;
		if (strcmp(e->key, key) == 0) {
			*pp = e->next;
			rw_exit(&t->lock);
			kmem_strfree(e->key);
			kmem_free(e, sizeof(*e));
			return 0;
		}
	}
	rw_exit(&t->lock);
	return ENOENT;
}

void *
rmtable_lookup(struct rmtable *t, const char *key,
    void (*fn)(void *, void *), void *arg)
{
	void *val = NULL;
	rw_enter(&t->lock, RW_READER);
	for (struct rmentry *e = t->head; e != NULL; e = e->next) {
		if (strcmp(e->key, key) == 0) {
			val = e->val;
			if (fn != NULL)
				fn(val, arg);
			break;
		}
	}
	rw_exit(&t->lock);
	return val;
}
