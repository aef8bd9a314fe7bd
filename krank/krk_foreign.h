/*
 * krk_foreign.h - foreign isolates: Linux processes that use KRANK through
 * the queues (krk_foreign.c).  Every attachment (krk_ctl_attach.c) is one,
 * and so is every process KRANK starts itself (`spawn --foreign`, held by
 * a pidfd) from the moment it runs; a process that attaches joins the
 * entry KRANK spawned it as (matched by pid).  The attach socket
 * (attach.socket) admits root and the users of attach.users, checked with
 * SO_PEERCRED, and serves only `attach` and `chanpool`.
 *
 * Ids come from the isolates' sequence (krk_isolate_new_id), so an id
 * names an in-process or a foreign isolate, never both.  One mutex
 * protects the table; functions return 0 or an errno value.
 */
#ifndef KRK_FOREIGN_H
#define KRK_FOREIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "krk.h"

struct krq_sclient;
struct krs_ctx;

enum krk_foreign_state {
	KRK_FOREIGN_RUNNING = 0,	/* spawned, alive (attached or not) */
	KRK_FOREIGN_ATTACHED,		/* not spawned by KRANK, attached */
	KRK_FOREIGN_EXITED,		/* spawned, exited: status */
	KRK_FOREIGN_KILLED,		/* spawned, killed by signal signo */
	KRK_FOREIGN_DETACHED,		/* not spawned, its attachment ended */
	KRK_FOREIGN_FAILED,		/* could not be started */
};
const char *krk_foreign_state_name(enum krk_foreign_state s);

struct krk_foreign_info {
	int id;
	char name[KRK_NAME_MAX];	/* the command's base name, or comm */
	char cmd[256];			/* the command line (spawned) */
	enum krk_foreign_state state;
	pid_t pid;
	uint32_t uid;
	bool spawned;
	bool attached;			/* has an attachment now */
	unsigned attachments;		/* attachments it has had */
	unsigned rings;			/* ring pairs of the attachment */
	uint64_t calls;			/* requests served, all attachments */
	uint64_t rejected;		/* requests refused as malformed */
	unsigned fds_open, fds_limit;	/* KRANK descriptors (attached) */
	int status;			/* EXITED: exit status */
	int signo;			/* KILLED: the signal */
	char note[192];			/* why the last attachment ended */
	uint64_t started_ns;		/* CLOCK_MONOTONIC */
};

/* Counters (atomic), for krankctl metrics. */
struct krk_foreign_counters {
	uint64_t attached;		/* attachments made */
	uint64_t refused;		/* peers refused by attach.users */
	uint64_t limited;		/* attachments refused by attach.max */
	uint64_t spawned;		/* processes started */
	uint64_t cut;			/* attachments cut off for abuse */
};
extern struct krk_foreign_counters krk_foreign_stats;

/*
 * krk_foreign_start - serve cfg->attach_socket (mode 0666: SO_PEERCRED
 * decides), and remember cfg's preload library and limits for spawn.
 * EADDRINUSE (a live KRANK answers there), or the socket's error; a
 * one-line reason in err.  krk_foreign_stop - close the socket, send
 * SIGTERM to the processes KRANK started (SIGKILL after 2 s) and wait
 * until they are reaped.
 */
int krk_foreign_start(const struct krk_config *cfg, char *err,
    size_t errlen);
void krk_foreign_stop(void);
/* As krk_ctl_defer_accept and krk_ctl_accept_start (krk.h), for this socket. */
void krk_foreign_defer_accept(void);
int krk_foreign_accept_start(void);
/* krk_foreign_describe - "SOCKET (mode 0666; root, alice may attach;
 * per attachment at most 1024 descriptors, 4 ring pairs; 64 at once)". */
void krk_foreign_describe(char *buf, size_t len);

/*
 * From krk_ctl_attach.c: an attachment of process pid (uid) began (its
 * entry's id in *idp; holder_fd is the connection, which kill shuts down
 * to end an attachment KRANK did not spawn) or ended (why).  c and ctx
 * stay valid until krk_foreign_detached returns.
 */
void krk_foreign_attached(pid_t pid, uint32_t uid, unsigned nrings,
    struct krq_sclient *c, struct krs_ctx *ctx, int holder_fd, int *idp);
void krk_foreign_detached(int id, const char *why, bool cut);

/*
 * krk_foreign_spawn - start argv[0] (searched in PATH) as a Linux process
 * with LD_PRELOAD = the preload library and KRANK_ATTACH = the attach
 * socket, stdin from /dev/null, stdout and stderr KRANK's; name (NULL:
 * argv[0]'s base name); user (NULL: KRANK's own), a name or uid that
 * attach.users must allow, with its primary and supplementary groups.
 * Its id in *idp.  The error of posix_spawn, fork/exec or pidfd_open, or
 * EACCES/ENOENT for the user, with a reason in err.
 */
int krk_foreign_spawn(char *const argv[], const char *name, const char *user,
    int *idp, char *err, size_t errlen);
/* krk_foreign_kill - signal a spawned process through its pidfd (ESRCH
 * once it has ended), or end the attachment of one KRANK did not spawn
 * (sig is then ignored).  ESRCH: no such foreign isolate. */
int krk_foreign_kill(int id, int sig);
/* krk_foreign_wait - until the process has ended (spawned) or its
 * attachment has (not spawned), up to timeout_ns; ESRCH, ETIMEDOUT. */
int krk_foreign_wait(int id, uint64_t timeout_ns,
    struct krk_foreign_info *info);
int krk_foreign_get(int id, struct krk_foreign_info *info);
/* krk_foreign_find - id by name (the first match); ESRCH. */
int krk_foreign_find(const char *name, int *idp);
/* krk_foreign_list - a snapshot (malloc'd array, oldest first). */
int krk_foreign_list(struct krk_foreign_info **vp, size_t *np);

#endif
