/*
 * krk_attach.h - attaching a Linux process to KRANK's queues over the
 * control socket (the `attach` command, krk_ctl_attach.c).  KRANK
 * registers what serves the queues at boot; without a registration
 * `attach` answers with an error.
 *
 * Per attachment: a krs_ctx for the peer (SO_PEERCRED uid/gid), a
 * krq_sclient (region + server threads) whose memfd goes to the peer with
 * SCM_RIGHTS after "ok\n", and the connection held open for the
 * attachment's life by a thread of its own (an attachment does not take
 * one of the control socket's service slots): when the peer closes it
 * (or dies), KRANK stops the server threads, calls close, and destroys
 * the context.  A client cut off for abuse has its connection closed too,
 * and krk_ctl_stop ends every attachment before it returns.  Each
 * attachment is a foreign isolate (krk_foreign.h) while it lasts.  When
 * it ends, its descriptors are revoked first (krs_ctx_revoke), so a
 * server thread blocked in a call for the dead client (accept, recv)
 * returns before the threads are joined.
 */
#ifndef KRK_ATTACH_H
#define KRK_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "krq_server.h"

struct krs_ctx;

struct krk_attach_ops {
	krq_serve_fn *serve;	/* the dispatcher (hA's krq_dispatch) */
	/*
	 * open - make serve's argument for one client from its context and
	 * its buffer area in KRANK's mapping (e.g. a struct krq_caller);
	 * 0 or an errno value (the attach fails with it).  close - free it,
	 * after the server threads stopped and before the context goes.
	 */
	int (*open)(void *ops_arg, struct krs_ctx *ctx, void *area,
	    size_t area_len, void **argp);
	void (*close)(void *arg);
	void *ops_arg;
	/* The region's geometry, spins and cores; cfg.nrings is the default
	 * when the client asks for 0, and the most it may ask for.  log and
	 * log_arg are set by krk_ctl_attach.c (krk_log). */
	struct krq_server_cfg cfg;
	/* Limits of each attachment (attach.fds, attach.max): descriptors
	 * open in its context, attachments at once; 0: none. */
	unsigned fds;
	unsigned max;
};

/* krk_ctl_set_attach - register (the structure is copied; cfg.cores is
 * not: it must stay valid) or, with NULL, unregister.  Attachments that
 * exist keep what they were created with. */
void krk_ctl_set_attach(const struct krk_attach_ops *ops);
/* krk_ctl_attach_describe - when a dispatcher is registered, what each
 * attachment gets (one line, for the boot report); false when none. */
bool krk_ctl_attach_describe(char *buf, size_t len);
/* krk_ctl_attach_count - attachments alive now. */
unsigned krk_ctl_attach_count(void);
/* krk_ctl_attach_drain - wait until every attachment has ended (each
 * notices krk_ctl_stopping within 200 ms); krk_ctl_stop calls it. */
void krk_ctl_attach_drain(void);

#endif
