/*
 * Parked objects (kld_set_park): an unloaded object kept mapped, with its
 * final protections, for the next load of the same image.  Taking one
 * back copies its writable pages from a saved copy and nothing else: on
 * a host where an mprotect, a munmap or a page fault costs 12-55 us,
 * that is what separates a start of a few microseconds from one of
 * ~150 (docs/PERFORMANCE.md).  The code pages were verified when the
 * object was loaded and have been read+execute (never writable) since;
 * the image is compared byte for byte with a private copy, never trusted
 * by name or hash.
 *
 * Fresh parking (kld_set_park_fresh): an object is never started twice
 * at one place.  At unload, after its finalisers, the parked object's
 * span is given back (zeroed by the pool, or unmapped) and the same
 * image is loaded anew - a new random place, the verdict cache or the
 * verifier, relocation, protections - and parked unused, so the next
 * start takes it without a kernel call.  The work moves from the start
 * to the unload before it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kld_int.h"

/* Parked objects above this span are not kept (memory held idle). */
#define KLD_PARK_MAX_SPAN	(64ULL << 20)
#define PG			4096ULL

struct kld_park_img {
	struct kld_park_img *next;	/* park.list, most recent first */
	uint8_t *image;			/* private copy of the ELF file */
	size_t len;
	uint64_t exports_id;
	const struct kld_symtab *exports;	/* what it was bound to ... */
	bool exports_gone;		/* ... until kld_symtab_destroy */
	bool unused;			/* fresh: never run, nothing to reset */
	unsigned flags, nwarn;
	bool busy;			/* an object runs in it */
	struct kld_object tmpl;		/* as loaded, before initialisers;
					 * tmpl.own belongs to the record */
	unsigned nrw;			/* writable runs of the span */
	struct { size_t off, len; } rw[KLD_MAX_SEGS * 2];
	uint8_t *rw_init;		/* their bytes before initialisers */
};

/* park.lock protects everything here; a busy record's memory belongs to
 * the object running in it. */
static struct {
	pthread_mutex_t lock;
	struct kld_park_img *list;	/* busy and idle */
	unsigned max, nidle;
	bool fresh;			/* kld_set_park_fresh */
	struct kld_park_stats st;
} park = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
rec_free(struct kld_park_img *r)
{
	kld_obj_unmap(&r->tmpl);
	free(r->tmpl.own);
	free(r->image);
	free(r->rw_init);
	free(r);
}

/* Unlink idle records past the limit, least recent first; the caller
 * frees them once the lock is dropped (munmap is slow). */
static struct kld_park_img *
trim_locked(void)
{
	struct kld_park_img *out = NULL;

	while (park.nidle > park.max) {
		struct kld_park_img **pp, **last = NULL;

		for (pp = &park.list; *pp != NULL; pp = &(*pp)->next)
			if (!(*pp)->busy)
				last = pp;
		if (last == NULL)
			break;
		struct kld_park_img *r = *last;

		*last = r->next;
		r->next = out;
		out = r;
		park.nidle--;
		park.st.freed++;
	}
	return out;
}

static void
free_list(struct kld_park_img *r)
{
	while (r != NULL) {
		struct kld_park_img *n = r->next;

		rec_free(r);
		r = n;
	}
}

void
kld_set_park(unsigned n)
{
	struct kld_park_img *out;

	pthread_mutex_lock(&park.lock);
	park.max = n;
	out = trim_locked();
	pthread_mutex_unlock(&park.lock);
	free_list(out);
}

void
kld_set_park_fresh(int fresh)
{
	struct kld_park_img *out = NULL, **pp, *r;

	pthread_mutex_lock(&park.lock);
	park.fresh = fresh != 0;
	/* Idle objects that have run would start again at their place. */
	for (pp = &park.list; fresh && (r = *pp) != NULL; )
		if (!r->busy && !r->unused) {
			*pp = r->next;
			r->next = out;
			out = r;
			park.nidle--;
			park.st.freed++;
		} else
			pp = &r->next;
	pthread_mutex_unlock(&park.lock);
	free_list(out);
}

void
kld_park_exports_gone(const struct kld_symtab *t)
{
	pthread_mutex_lock(&park.lock);
	for (struct kld_park_img *r = park.list; r != NULL; r = r->next)
		if (r->exports == t)
			r->exports_gone = true;
	pthread_mutex_unlock(&park.lock);
}

void
kld_park_stats_get(struct kld_park_stats *s)
{
	pthread_mutex_lock(&park.lock);
	*s = park.st;
	s->parked = park.nidle;
	pthread_mutex_unlock(&park.lock);
}

struct kld_object *
kld_park_take(const void *image, size_t len, uint64_t exports_id,
    unsigned flags, struct kld_diag *d)
{
	struct kld_park_img *r, **pp;
	struct kld_object *o;
	size_t at = 0;

	if ((o = malloc(sizeof(*o))) == NULL)
		return NULL;
	pthread_mutex_lock(&park.lock);
	for (pp = &park.list; (r = *pp) != NULL; pp = &r->next)
		if (!r->busy && r->len == len && r->exports_id == exports_id &&
		    r->flags == flags && memcmp(r->image, image, len) == 0)
			break;
	if (r != NULL) {
		r->busy = true;
		park.nidle--;
		park.st.taken++;
		*pp = r->next;		/* to the front: most recent */
		r->next = park.list;
		park.list = r;
	}
	pthread_mutex_unlock(&park.lock);
	if (r == NULL) {
		free(o);
		return NULL;
	}
	/* Only these pages are writable; the rest is as verified.  An
	 * unused (fresh) object's are as saved already. */
	for (unsigned i = 0; i < r->nrw && !r->unused; i++) {
		memcpy(r->tmpl.map + r->rw[i].off, r->rw_init + at,
		    r->rw[i].len);
		at += r->rw[i].len;
	}
	r->unused = false;
	*o = r->tmpl;
	o->own = NULL;			/* the record's copy: syms, strtab */
	o->park = r;
	if (r->nwarn != 0)
		kld_report(d, KLD_WARNING, "krank-ld: %u warning%s when this "
		    "code was verified (parked object)", r->nwarn,
		    r->nwarn == 1 ? "" : "s");
	return o;
}

/* The writable runs of st's final protections (kld_load.c's protect:
 * PF_W segments without their RELRO part), or false when a writable
 * page is shared with another segment (its protection would then
 * depend on the order of mprotect calls: not parked). */
static bool
rw_runs(struct kld_park_img *r, const struct kld_stage *st)
{
	uint64_t rfrom = st->relro_vaddr & ~(PG - 1);
	uint64_t rto = (st->relro_vaddr + st->relro_memsz) & ~(PG - 1);

	if (st->relro_memsz == 0 || rto <= rfrom)
		rfrom = rto = 0;
	r->nrw = 0;
	for (unsigned i = 0; i < st->nseg; i++) {
		const struct kld_seg *s = &st->seg[i];
		uint64_t from = s->vaddr & ~(PG - 1);
		uint64_t to = (s->vaddr + s->memsz + PG - 1) & ~(PG - 1);
		uint64_t a = from, b = from;

		if (!(s->flags & PF_W))
			continue;
		if (s->flags & PF_X)
			return false;
		for (unsigned j = 0; j < st->nseg; j++) {
			const struct kld_seg *t = &st->seg[j];
			uint64_t tf = t->vaddr & ~(PG - 1);
			uint64_t tt = (t->vaddr + t->memsz + PG - 1) & ~(PG - 1);

			if (j != i && tf < to && tt > from)
				return false;
		}
		if (rto > rfrom && rfrom < to && rto > from) {
			a = rfrom > from ? rfrom : from;
			b = rto < to ? rto : to;
		}
		if (a > from) {
			r->rw[r->nrw].off = from - st->lo;
			r->rw[r->nrw++].len = a - from;
		}
		if (to > b) {
			r->rw[r->nrw].off = b - st->lo;
			r->rw[r->nrw++].len = to - b;
		}
	}
	return true;
}

void
kld_park_keep(struct kld_object *o, const struct kld_stage *st,
    const void *image, size_t len, const struct kld_symtab *exports,
    uint64_t exports_id, unsigned flags, unsigned nwarn)
{
	struct kld_park_img *r;
	size_t total = 0;
	bool on;

	pthread_mutex_lock(&park.lock);
	on = park.max > 0;
	pthread_mutex_unlock(&park.lock);
	if (!on)
		return;
	if ((r = calloc(1, sizeof(*r))) == NULL || o->mapsz >
	    KLD_PARK_MAX_SPAN || !rw_runs(r, st))
		goto refuse;
	for (unsigned i = 0; i < r->nrw; i++)
		total += r->rw[i].len;
	if ((r->image = malloc(len ? len : 1)) == NULL ||
	    (r->rw_init = malloc(total ? total : 1)) == NULL)
		goto refuse;
	memcpy(r->image, image, len);
	total = 0;
	for (unsigned i = 0; i < r->nrw; i++) {
		memcpy(r->rw_init + total, o->map + r->rw[i].off, r->rw[i].len);
		total += r->rw[i].len;
	}
	r->len = len;
	r->exports_id = exports_id;
	r->exports = exports;
	r->flags = flags;
	r->nwarn = nwarn;
	r->busy = true;
	r->tmpl = *o;			/* takes o->own */
	o->own = NULL;
	o->park = r;
	pthread_mutex_lock(&park.lock);
	r->next = park.list;
	park.list = r;
	park.st.kept++;
	pthread_mutex_unlock(&park.lock);
	return;
refuse:
	if (r != NULL) {
		free(r->image);
		free(r);
	}
	pthread_mutex_lock(&park.lock);
	park.st.refused++;
	pthread_mutex_unlock(&park.lock);
}

void
kld_park_touch_rw(const struct kld_park_img *r, uint8_t *map)
{
	for (unsigned i = 0; i < r->nrw; i++)
		for (size_t o = 0; o < r->rw[i].len; o += PG) {
			volatile uint8_t *p = map + r->rw[i].off + o;

			*p = *p;
		}
}

/* Make busy record r idle (and trim). */
static void
park_idle(struct kld_park_img *r)
{
	struct kld_park_img *out;

	pthread_mutex_lock(&park.lock);
	r->busy = false;
	park.nidle++;
	out = trim_locked();		/* r itself when parking is off */
	pthread_mutex_unlock(&park.lock);
	free_list(out);
}

/* Fresh parking: r (unlinked, its object gone) is replaced by a new load
 * of its image, parked unused; r is freed.  Its span goes first, so that
 * a pool has the room. */
static void
refresh(struct kld_park_img *r)
{
	struct kld_object *n;

	kld_obj_unmap(&r->tmpl);
	if (kld_load_fresh(r->image, r->len, NULL, r->exports, r->flags,
	    &n) == 0) {
		struct kld_park_img *r2 = n->park;

		if (r2 != NULL) {
			r2->nwarn = r->nwarn;	/* not the cache's note */
			r2->unused = true;
			free(n);
			park_idle(r2);
		} else {			/* refused: not parkable */
			kld_obj_unmap(n);
			free(n->own);
			free(n);
		}
	}
	pthread_mutex_lock(&park.lock);
	park.st.refreshed++;
	pthread_mutex_unlock(&park.lock);
	free(r->tmpl.own);
	free(r->image);
	free(r->rw_init);
	free(r);
}

void
kld_park_release(struct kld_object *o)
{
	struct kld_park_img *r = o->park, **pp;
	enum { IDLE, REFRESH, DROP } what = IDLE;

	free(o);
	pthread_mutex_lock(&park.lock);
	/* Fresh: a run's place is never used again; without the export
	 * table to bind to, the object is only freed. */
	if (park.fresh && park.max > 0)
		what = r->exports_gone ? DROP : REFRESH;
	if (what != IDLE) {
		for (pp = &park.list; *pp != r; pp = &(*pp)->next)
			;
		*pp = r->next;
		if (what == DROP)
			park.st.freed++;
	}
	pthread_mutex_unlock(&park.lock);
	if (what == IDLE)
		park_idle(r);
	else if (what == REFRESH)
		refresh(r);
	else
		rec_free(r);
}
