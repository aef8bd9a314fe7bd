/*
 * hyp_posix.h - knobs of the POSIX host of the hypercall layer, for tests
 * and tools.  Not needed by rump kernels.
 */
#ifndef KRANK_HYP_POSIX_H
#define KRANK_HYP_POSIX_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * hyp_posix_hostcall - replace one entry of the host-call table (names:
 * open close fstat stat pread pwrite preadv pwritev readv writev fsync
 * fdatasync mmap munmap mlock posix_memalign mlock2 free, and for packet
 * I/O read ioctl fcntl poll socket bind setsockopt sendmsg sendto recv
 * recvmmsg eventfd write) with fn; fn NULL restores the host's function (libc's; for
 * posix_memalign and free the DPDK host's heap in
 * libkrank-hypercall-dpdk).  Replace posix_memalign and free together
 * when the replacement allocates.  Returns the previous function, or
 * NULL for an unknown name.  Not thread-safe: call before starting I/O.
 */
void *hyp_posix_hostcall(const char *name, void *fn);

/* Which engine serves rumpuser_bio: "io_uring", "threads" or "inline". */
const char *hyp_posix_bio_engine(void);

#ifdef __cplusplus
}
#endif
#endif
