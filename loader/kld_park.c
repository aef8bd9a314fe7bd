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
 *
 * Deferred (kld_set_park_defer): the unload only queues that work; the
 * host runs it (kld_park_work) from a thread of its choosing once it has
 * told its waiters that the run ended.  So that a start right after a
 * stop does not wait for it, an image kept in one object gets a second,
 * "twin", loaded and parked unused in the same way: the objects of one
 * group (one image: same bytes, exports and flags) are one running and
 * one idle or being reloaded, in the steady state.
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
	bool busy;			/* an object runs in it, or it waits
					 * for its reload (deferred) */
	uint64_t group;			/* the objects of one image */
	/* Deferred work (park.work): */
	bool reload;			/* stopped: give back, load again */
	bool twin;			/* park one more object of its group */
	bool queued;			/* on park.work */
	bool held;			/* read by the worker (twin) */
	struct kld_park_img *wnext;	/* park.work */
	struct kld_object tmpl;		/* as loaded, before initialisers;
					 * tmpl.own belongs to the record */
	unsigned nrw;			/* writable runs of the span */
	struct { size_t off, len; } rw[KLD_MAX_SEGS * 2];
	uint8_t *rw_init;		/* their bytes before initialisers */
};

/* park.lock protects everything here; a busy record's memory belongs to
 * the object running in it.  Deferred work is done by one thread at a
 * time (wbusy); a record on park.work stays on park.list, busy, until
 * the worker takes it off. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cv;		/* wbusy or working changed */
	struct kld_park_img *list;	/* busy and idle */
	unsigned max, nidle;
	bool fresh;			/* kld_set_park_fresh */
	void (*notify)(void *);		/* kld_set_park_defer; NULL: not */
	void *notify_arg;
	struct kld_park_img *work, **work_tail;	/* queued, FIFO */
	const struct kld_symtab *wexports;	/* the worker's table */
	bool wbusy;			/* a thread runs kld_park_work */
	unsigned npending;		/* records queued or being worked on */
	uint64_t groups;
	struct kld_park_stats st;
} park = { .lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
    .work_tail = &park.work };

static void
rec_free(struct kld_park_img *r)
{
	kld_obj_unmap(&r->tmpl);
	free(r->tmpl.own);
	free(r->image);
	free(r->rw_init);
	free(r);
}

/* Idle, and no work queued on it or reading it: may be freed. */
static bool
freeable(const struct kld_park_img *r)
{
	return !r->busy && !r->queued && !r->held;
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
			if (freeable(*pp))
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

/* Deferred: put r on the work queue.  park.lock held; true when the
 * host must be told (r was not queued yet). */
static bool
queue_locked(struct kld_park_img *r)
{
	if (r->queued)
		return false;
	r->queued = true;
	r->wnext = NULL;
	*park.work_tail = r;
	park.work_tail = &r->wnext;
	park.npending++;
	return true;
}

/* Another object of r's group is idle, waits for its reload or is about
 * to be loaded as a twin.  park.lock held. */
static bool
covered_locked(const struct kld_park_img *r)
{
	for (const struct kld_park_img *q = park.list; q != NULL; q = q->next)
		if (q != r && q->group == r->group &&
		    (!q->busy || q->reload || q->twin))
			return true;
	return false;
}

/* r has just started (taken, or loaded in full): if nothing else of its
 * group is left for the next start, queue a twin.  park.lock held;
 * true when the host must be told. */
static bool
want_twin_locked(struct kld_park_img *r)
{
	if (park.notify == NULL || !park.fresh || park.max == 0 ||
	    covered_locked(r))
		return false;
	r->twin = true;
	return queue_locked(r);
}

/* Tell the host (no lock held) what was read under park.lock. */
static void
tell(bool told, void (*fn)(void *), void *arg)
{
	if (told && fn != NULL)
		fn(arg);
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
	/* Off: queued records are freed now, not loaded again later. */
	if (n == 0)
		kld_park_settle();
}

void
kld_set_park_fresh(int fresh)
{
	struct kld_park_img *out = NULL, **pp, *r;

	pthread_mutex_lock(&park.lock);
	park.fresh = fresh != 0;
	/* Idle objects that have run would start again at their place. */
	for (pp = &park.list; fresh && (r = *pp) != NULL; )
		if (freeable(r) && !r->unused) {
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
kld_set_park_defer(void (*notify)(void *arg), void *arg)
{
	pthread_mutex_lock(&park.lock);
	park.notify = notify;
	park.notify_arg = arg;
	pthread_mutex_unlock(&park.lock);
}

void
kld_park_exports_gone(const struct kld_symtab *t)
{
	pthread_mutex_lock(&park.lock);
	for (struct kld_park_img *r = park.list; r != NULL; r = r->next)
		if (r->exports == t)
			r->exports_gone = true;
	/* A reload in progress binds against t: let it finish. */
	while (park.wexports == t)
		pthread_cond_wait(&park.cv, &park.lock);
	pthread_mutex_unlock(&park.lock);
}

void
kld_park_stats_get(struct kld_park_stats *s)
{
	pthread_mutex_lock(&park.lock);
	*s = park.st;
	s->parked = park.nidle;
	s->pending = park.npending;
	pthread_mutex_unlock(&park.lock);
}

struct kld_object *
kld_park_take(const void *image, size_t len, uint64_t exports_id,
    unsigned flags, struct kld_diag *d)
{
	struct kld_park_img *r, **pp;
	struct kld_object *o;
	void (*fn)(void *) = NULL;
	void *arg = NULL;
	bool told = false;
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
		told = want_twin_locked(r);
		fn = park.notify;
		arg = park.notify_arg;
	}
	pthread_mutex_unlock(&park.lock);
	tell(told, fn, arg);
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
    uint64_t exports_id, unsigned flags, unsigned nwarn, bool join)
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
	/* One group per image: a full load joins the objects of the same
	 * bytes (all busy, or it would have taken one). */
	for (struct kld_park_img *q = park.list; join && q != NULL; q = q->next)
		if (q->len == len && q->exports_id == exports_id &&
		    q->flags == flags && memcmp(q->image, image, len) == 0) {
			r->group = q->group;
			break;
		}
	if (r->group == 0)
		r->group = ++park.groups;
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

/* Make busy record r idle (and trim); group: r's group from now, or 0 to
 * keep it. */
static void
park_idle(struct kld_park_img *r, uint64_t group)
{
	struct kld_park_img *out;

	pthread_mutex_lock(&park.lock);
	r->busy = false;
	if (group != 0)
		r->group = group;
	park.nidle++;
	out = trim_locked();		/* r itself when parking is off */
	pthread_mutex_unlock(&park.lock);
	free_list(out);
}

/* A new load of r's image (new place, verdict cache or verifier), parked
 * unused in group.  Diagnostics are dropped: r's load reported them. */
static void
load_unused(const struct kld_park_img *r, uint64_t group)
{
	struct kld_object *n;

	if (kld_load_fresh(r->image, r->len, NULL, r->exports, r->flags,
	    &n) != 0)
		return;
	if (n->park != NULL) {
		struct kld_park_img *r2 = n->park;

		r2->nwarn = r->nwarn;	/* not the cache's note */
		r2->unused = true;
		free(n);
		park_idle(r2, group);
	} else {			/* refused: not parkable */
		kld_obj_unmap(n);
		free(n->own);
		free(n);
	}
}

/* Fresh parking: r (unlinked, its object gone) is replaced by a new load
 * of its image, parked unused; r is freed.  Its span goes first, so that
 * a pool has the room. */
static void
refresh(struct kld_park_img *r, uint64_t group)
{
	kld_obj_unmap(&r->tmpl);
	load_unused(r, group);
	pthread_mutex_lock(&park.lock);
	park.st.refreshed++;
	pthread_mutex_unlock(&park.lock);
	free(r->tmpl.own);
	free(r->image);
	free(r->rw_init);
	free(r);
}

void
kld_park_loaded(struct kld_park_img *r)
{
	void (*fn)(void *);
	void *arg;
	bool told;

	pthread_mutex_lock(&park.lock);
	told = want_twin_locked(r);
	fn = park.notify;
	arg = park.notify_arg;
	pthread_mutex_unlock(&park.lock);
	tell(told, fn, arg);
}

void
kld_park_release(struct kld_object *o)
{
	struct kld_park_img *r = o->park, **pp;
	enum { IDLE, REFRESH, DROP } what = IDLE;
	void (*fn)(void *);
	void *arg;
	bool told;

	free(o);
	pthread_mutex_lock(&park.lock);
	/* Fresh: a run's place is never used again; without the export
	 * table to bind to, the object is only freed. */
	if (park.fresh && park.max > 0)
		what = r->exports_gone ? DROP : REFRESH;
	if (what != IDLE && park.notify != NULL) {
		/* Deferred: the worker gives it back and loads it again
		 * (or frees it); busy until then. */
		r->reload = true;
		told = queue_locked(r);
		fn = park.notify;
		arg = park.notify_arg;
		pthread_mutex_unlock(&park.lock);
		tell(told, fn, arg);
		return;
	}
	if (what != IDLE) {
		for (pp = &park.list; *pp != r; pp = &(*pp)->next)
			;
		*pp = r->next;
		if (what == DROP)
			park.st.freed++;
	}
	pthread_mutex_unlock(&park.lock);
	if (what == IDLE)
		park_idle(r, 0);
	else if (what == REFRESH)
		refresh(r, r->group);
	else
		rec_free(r);
}

unsigned
kld_park_work(void)
{
	struct kld_park_img *r, **pp;
	unsigned done = 0;

	pthread_mutex_lock(&park.lock);
	if (park.wbusy) {		/* that thread empties the queue */
		pthread_mutex_unlock(&park.lock);
		return 0;
	}
	park.wbusy = true;
	while ((r = park.work) != NULL) {
		if ((park.work = r->wnext) == NULL)
			park.work_tail = &park.work;
		r->queued = false;
		bool on = park.fresh && park.max > 0 && !r->exports_gone;
		bool reload = r->reload;
		bool twin = r->twin;
		uint64_t group = r->group;

		r->twin = false;	/* unless covered by now */
		twin = twin && on && !covered_locked(r);
		r->reload = false;
		if (reload) {
			for (pp = &park.list; *pp != r; pp = &(*pp)->next)
				;
			*pp = r->next;
			if (!on)
				park.st.freed++;
		}
		if (twin)
			park.st.twins++;
		r->held = twin && !reload;
		park.wexports = on ? r->exports : NULL;
		pthread_mutex_unlock(&park.lock);
		/* A twin's source runs meanwhile (busy): only its image,
		 * exports and flags are read, which never change. */
		if (twin)
			load_unused(r, group);
		if (reload && on)
			refresh(r, group);
		else if (reload)
			rec_free(r);
		pthread_mutex_lock(&park.lock);
		if (twin && !reload) {
			struct kld_park_img *out;

			r->held = false;	/* may have gone idle */
			out = trim_locked();
			pthread_mutex_unlock(&park.lock);
			free_list(out);
			pthread_mutex_lock(&park.lock);
		}
		park.wexports = NULL;
		park.npending--;
		done++;
		pthread_cond_broadcast(&park.cv);
	}
	park.wbusy = false;
	pthread_cond_broadcast(&park.cv);
	pthread_mutex_unlock(&park.lock);
	return done;
}

void
kld_park_settle(void)
{
	pthread_mutex_lock(&park.lock);
	while (park.work != NULL || park.wbusy) {
		if (!park.wbusy) {
			pthread_mutex_unlock(&park.lock);
			(void)kld_park_work();
			pthread_mutex_lock(&park.lock);
			continue;
		}
		pthread_cond_wait(&park.cv, &park.lock);
	}
	pthread_mutex_unlock(&park.lock);
}
