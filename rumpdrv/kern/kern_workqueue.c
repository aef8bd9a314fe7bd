/*
 * kern_workqueue.c - a workqueue is one kernel thread running queued work
 * items in FIFO order.  workqueue_wait waits until a given item has run.
 */
#include "kern/kern_int.h"

struct workqueue {
	kmutex_t wq_lock;		/* protects everything below */
	kcondvar_t wq_cv;		/* the worker waits for work */
	kcondvar_t wq_done_cv;		/* waiters for completion */
	struct work *wq_head, *wq_tail;
	struct work *wq_running;	/* item being run, or NULL */
	uint64_t wq_gen;		/* items completed */
	bool wq_quit;
	void (*wq_fn)(struct work *, void *);
	void *wq_arg;
	struct lwp *wq_lwp;
};

static void
workqueue_thread(void *a)
{
	struct workqueue *wq = a;
	mutex_enter(&wq->wq_lock);
	for (;;) {
		struct work *wk = wq->wq_head;
		if (wk == NULL) {
			if (wq->wq_quit)
				break;
			cv_wait(&wq->wq_cv, &wq->wq_lock);
			continue;
		}
		wq->wq_head = wk->wk_next;
		if (wq->wq_head == NULL)
			wq->wq_tail = NULL;
		wk->wk_next = NULL;
		wq->wq_running = wk;
		mutex_exit(&wq->wq_lock);
		wq->wq_fn(wk, wq->wq_arg);
		mutex_enter(&wq->wq_lock);
		wq->wq_running = NULL;
		wq->wq_gen++;
		cv_broadcast(&wq->wq_done_cv);
	}
	mutex_exit(&wq->wq_lock);
}

int
workqueue_create(struct workqueue **wqp, const char *name,
    void (*fn)(struct work *, void *), void *arg, int pri, int ipl, int flags)
{
	(void)pri; (void)ipl; (void)flags;
	struct workqueue *wq = kmem_zalloc(sizeof(*wq), KM_SLEEP);
	mutex_init(&wq->wq_lock, MUTEX_DEFAULT, IPL_NONE);
	cv_init(&wq->wq_cv, "wq");
	cv_init(&wq->wq_done_cv, "wqdone");
	wq->wq_fn = fn;
	wq->wq_arg = arg;
	int rv = kthread_create(workqueue_thread, wq, KTHREAD_MUSTJOIN,
	    &wq->wq_lwp, name);
	if (rv != 0) {
		cv_destroy(&wq->wq_done_cv);
		cv_destroy(&wq->wq_cv);
		mutex_destroy(&wq->wq_lock);
		kmem_free(wq, sizeof(*wq));
		return rv;
	}
	*wqp = wq;
	return 0;
}

void
workqueue_enqueue(struct workqueue *wq, struct work *wk, void *ci)
{
	(void)ci;
	mutex_enter(&wq->wq_lock);
	wk->wk_next = NULL;
	if (wq->wq_tail != NULL)
		wq->wq_tail->wk_next = wk;
	else
		wq->wq_head = wk;
	wq->wq_tail = wk;
	cv_signal(&wq->wq_cv);
	mutex_exit(&wq->wq_lock);
}

static bool
workqueue_queued(struct workqueue *wq, struct work *wk)
{
	for (struct work *w = wq->wq_head; w != NULL; w = w->wk_next)
		if (w == wk)
			return true;
	return wq->wq_running == wk;
}

void
workqueue_wait(struct workqueue *wq, struct work *wk)
{
	mutex_enter(&wq->wq_lock);
	while (workqueue_queued(wq, wk))
		cv_wait(&wq->wq_done_cv, &wq->wq_lock);
	mutex_exit(&wq->wq_lock);
}

void
workqueue_destroy(struct workqueue *wq)
{
	mutex_enter(&wq->wq_lock);
	wq->wq_quit = true;
	cv_broadcast(&wq->wq_cv);
	mutex_exit(&wq->wq_lock);
	kthread_join(wq->wq_lwp);
	cv_destroy(&wq->wq_done_cv);
	cv_destroy(&wq->wq_cv);
	mutex_destroy(&wq->wq_lock);
	kmem_free(wq, sizeof(*wq));
}
