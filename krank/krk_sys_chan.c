/*
 * krk_sys_chan.c - the isolates' channel calls (loader/isolate/include/
 * krank/chan.h) over krank/krk_chan.c: pointers in, pointers out, the
 * calling isolate as the owner of every buffer it holds.
 */
#include "krk_sys_int.h"
#include "krk_chan.h"

int
krk_sys_chan_create(const char *name, unsigned nbufs, unsigned bufsize)
{
	int fd = -1, e;

	if (krk_sys_badptr(name))
		return krk_sys_fail(EFAULT);
	krk_sys_enter();
	e = krk_chan_create(name, nbufs, bufsize, 0, &fd);
	krk_sys_exit();
	return e ? krk_sys_fail(e) : fd;
}

int
krk_sys_chan_open(const char *name, int end)
{
	int fd = -1, e;

	if (krk_sys_badptr(name))
		return krk_sys_fail(EFAULT);
	krk_sys_enter();
	e = krk_chan_open(name, end, 0, &fd);
	krk_sys_exit();
	return e ? krk_sys_fail(e) : fd;
}

long
krk_sys_chan_buf(int fd, void **ptrp)
{
	uint64_t off;
	uint32_t size = 0;
	void *p = NULL;
	int e;

	if (krk_sys_badbuf(ptrp, sizeof(*ptrp)))
		return krk_sys_fail(EFAULT);
	krk_sys_enter();
	e = krk_chan_alloc_buf(fd, (uint32_t)krk_self_id(), -1, &off, &p,
	    &size);
	krk_sys_exit();
	if (e)
		return krk_sys_fail(e);
	*ptrp = p;
	return (long)size;
}

int
krk_sys_chan_send(int fd, void *ptr, size_t len)
{
	int e;

	if (len > UINT32_MAX)
		return krk_sys_fail(EINVAL);
	krk_sys_enter();
	e = krk_chan_send_ptr(fd, (uint32_t)krk_self_id(), ptr, (uint32_t)len);
	krk_sys_exit();
	return e ? krk_sys_fail(e) : 0;
}

int
krk_sys_chan_recv(int fd, void **ptrp, size_t *lenp)
{
	uint64_t off;
	uint32_t len = 0;
	void *p = NULL;
	int e;

	if (krk_sys_badbuf(ptrp, sizeof(*ptrp)) ||
	    krk_sys_badbuf(lenp, sizeof(*lenp)))
		return krk_sys_fail(EFAULT);
	krk_sys_enter();
	e = krk_chan_recv(fd, (uint32_t)krk_self_id(), -1, &off, &p, &len);
	krk_sys_exit();
	if (e)
		return krk_sys_fail(e);
	*ptrp = p;
	*lenp = len;
	return 0;
}

int
krk_sys_chan_release(int fd, void *ptr)
{
	int e;

	krk_sys_enter();
	e = krk_chan_release_ptr(fd, (uint32_t)krk_self_id(), ptr);
	krk_sys_exit();
	return e ? krk_sys_fail(e) : 0;
}
