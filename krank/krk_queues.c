/*
 * krk_queues.c - the krank command serves its system-call API
 * (krank.proto, krq_dispatch) to processes that attach over the control
 * socket: it registers the dispatcher with the attach command, with the
 * deployment's queues settings.  Kept out of libkrk.a so that the core's
 * tests need not link the dispatcher.
 */
#include <string.h>
#include <unistd.h>

#include "krk.h"
#include "krk_attach.h"
#include "krq_call.h"
#include "krq_layout.h"

/* Slots hold a whole request: a path of up to 1024 bytes and its
 * envelope, or an inline payload of libkrank's default size. */
#define KRK_QUEUE_SLOT_SIZE 1536

static struct krk_attach_ops krk_queue_ops;

void
krk_queues_register(const struct krk_config *cfg)
{
	struct krq_server_cfg *q = &krk_queue_ops.cfg;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(&krk_queue_ops, 0, sizeof(krk_queue_ops));
	krk_queue_ops.serve = krq_dispatch;
	q->thread_end = krq_dispatch_end;
	q->features = KRQ_FEAT_FIXED;
	krk_queue_ops.open = krq_caller_open;
	krk_queue_ops.close = krq_caller_close;
	q->nrings = cfg->queue_rings != 0 ? cfg->queue_rings :
	    ncpu < 1 ? 1 : ncpu > 64 ? 64 : (unsigned)ncpu;
	q->nslots = cfg->queue_slots;
	q->slot_size = KRK_QUEUE_SLOT_SIZE;
	q->area_len = cfg->queue_area;
	q->spin_ns = (int64_t)cfg->queue_spin_ns;
	q->client_spin_ns = (int64_t)(cfg->queue_client_spin_ns == UINT64_MAX ?
	    cfg->queue_spin_ns : cfg->queue_client_spin_ns);
	if (cfg->attach_rings != 0 && q->nrings > cfg->attach_rings)
		q->nrings = cfg->attach_rings;	/* attach.rings: the most */
	krk_queue_ops.fds = cfg->attach_fds;
	krk_queue_ops.max = cfg->attach_max;
	q->cores = cfg->cores;		/* cfg outlives the node */
	q->ncores = cfg->ncores;
	krk_ctl_set_attach(&krk_queue_ops);
}
