/*
 * krank/chan.h - zero-copy channels between isolates.  A channel has a
 * name, one receive end (its creator's) and one send end (taken by name
 * by another isolate, at run time), and a pool of buffers: the sender
 * takes a free buffer, fills it and sends it; the receiver gets the same
 * memory, nothing is copied, and releases it when done, which makes it
 * free for the sender again.  When every buffer is out the sender waits
 * (backpressure).  Ends are descriptors: poll() and epoll see the receive
 * end readable when a message waits (and at end of stream, with POLLHUP),
 * the send end writable when a buffer is free (POLLERR once the receiver
 * is gone); fcntl(O_NONBLOCK) makes calls fail with EAGAIN instead of
 * waiting; close() ends an end.  Functions return -1 and set errno.
 *
 * A buffer is the caller's between krank_chan_buf (or krank_chan_recv) and
 * krank_chan_send (or krank_chan_release): a pointer that is not a buffer
 * of the channel, one the caller does not hold, or a second release is
 * refused (EINVAL), never a crash.  While held, a buffer is the caller's
 * memory for every call (write it to a socket or a file as it is); after
 * send or release it is not (EFAULT).  When an isolate ends, the buffers it
 * held return to the pool; when the sender ends, the receiver sees end of
 * stream; when the receiver ends, the sender gets EPIPE.
 */
#ifndef _KRANK_CHAN_H
#define _KRANK_CHAN_H
#include <stddef.h>

#define KRANK_CHAN_RECV	0
#define KRANK_CHAN_SEND	1
#define KRANK_CHAN_NAME_MAX 64		/* with the NUL */

/* A channel called name (1..63 bytes, no '/') of nbufs buffers (up to
 * 65536) of bufsize bytes each (up to 64 MiB); returns its receive end.
 * EEXIST, EINVAL, ENOMEM, EMFILE. */
int krank_chan_create(const char *name, unsigned nbufs, unsigned bufsize);
/* An end of the channel called name: KRANK_CHAN_SEND (once: EBUSY while
 * another holds it).  ENOENT, EBUSY, EPIPE (the sender already ended). */
int krank_chan_open(const char *name, int end);
/* On the send end: a free buffer of the pool in *ptr; returns its size
 * (bufsize).  Waits while none is free.  EAGAIN (O_NONBLOCK), EPIPE. */
long krank_chan_buf(int fd, void **ptr);
/* Hand the buffer at ptr, with len bytes of message (1..bufsize), to the
 * receiver.  EINVAL (not a buffer the caller holds), EPIPE. */
int krank_chan_send(int fd, void *ptr, size_t len);
/* On the receive end: the next message's buffer and length.  Waits
 * while there is none.  At end of stream: 0 with *ptr NULL and *len 0.
 * EAGAIN (O_NONBLOCK). */
int krank_chan_recv(int fd, void **ptr, size_t *len);
/* Give a buffer back to the pool (a received one, or on the send end
 * one taken and not sent).  EINVAL (not held, already released). */
int krank_chan_release(int fd, void *ptr);
#endif
