/*
 * kern_rmtable.c - a read-mostly table of (name, pointer) under RCU: the
 * hypercall layer's hyp_rcu_* (liburcu underneath, so liburcu's host
 * calls stay in the hypercall layer).  Lookups take no lock and write no
 * shared memory; inserts and removals serialise on a mutex, publish with
 * release stores, and a removed entry is freed only after every reader
 * that might still see it has left (hyp_rcu_synchronize).
 */
#include <string.h>

#include <krank/hyp.h>

#include "kern/kern_int.h"

struct rmentry {
	struct rmentry *next;		/* published with release stores */
	char *key;			/* immutable once published */
	void *val;
};

struct rmtable {
	kmutex_t lock;			/* serialises updaters */
	struct rmentry *head;		/* RCU: readers load with acquire */
};

int
rmtable_create(struct rmtable **tp)
{
	struct rmtable *t = kmem_zalloc(sizeof(*t), KM_SLEEP);
	mutex_init(&t->lock, MUTEX_DEFAULT, IPL_NONE);
	*tp = t;
	return 0;
}

void
rmtable_destroy(struct rmtable *t)
{
	struct rmentry *e, *n;

	/* The caller guarantees no reader remains; wait for any late one. */
	hyp_rcu_synchronize();
	for (e = t->head; e != NULL; e = n) {
		n = e->next;
		kmem_strfree(e->key);
		kmem_free(e, sizeof(*e));
	}
	mutex_destroy(&t->lock);
	kmem_free(t, sizeof(*t));
}

int
rmtable_insert(struct rmtable *t, const char *key, void *val)
{
	struct rmentry *e = kmem_zalloc(sizeof(*e), KM_SLEEP);
	e->key = kmem_strdup(key, KM_SLEEP);
	e->val = val;
	mutex_enter(&t->lock);
	for (struct rmentry *o = t->head; o != NULL; o = o->next) {
		if (strcmp(o->key, key) == 0) {
			mutex_exit(&t->lock);
			kmem_strfree(e->key);
			kmem_free(e, sizeof(*e));
			return EEXIST;
		}
	}
	e->next = t->head;
	/* Readers see the entry only whole. */
	__atomic_store_n(&t->head, e, __ATOMIC_RELEASE);
	mutex_exit(&t->lock);
	return 0;
}

int
rmtable_remove(struct rmtable *t, const char *key)
{
	mutex_enter(&t->lock);
	for (struct rmentry **pp = &t->head; *pp != NULL; pp = &(*pp)->next) {
		struct rmentry *e = *pp;
		if (strcmp(e->key, key) == 0) {
			__atomic_store_n(pp, e->next, __ATOMIC_RELEASE);
			mutex_exit(&t->lock);
			/* Readers may still walk e: wait them out. */
			hyp_rcu_synchronize();
			kmem_strfree(e->key);
			kmem_free(e, sizeof(*e));
			return 0;
		}
	}
	mutex_exit(&t->lock);
	return ENOENT;
}

void *
rmtable_lookup(struct rmtable *t, const char *key,
    void (*fn)(void *, void *), void *arg)
{
	void *val = NULL;

	hyp_rcu_read_lock();
	for (struct rmentry *e = __atomic_load_n(&t->head, __ATOMIC_ACQUIRE);
	    e != NULL; e = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE)) {
		if (strcmp(e->key, key) == 0) {
			val = e->val;
			if (fn != NULL)
				fn(val, arg);
			break;
		}
	}
	hyp_rcu_read_unlock();
	return val;
}
