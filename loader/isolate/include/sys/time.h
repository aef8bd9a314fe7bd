/* KRANK isolate libc: gettimeofday. */
#ifndef _KRANK_SYS_TIME_H
#define _KRANK_SYS_TIME_H
#include <sys/types.h>
#include <time.h>
struct timeval {
	time_t tv_sec;
	suseconds_t tv_usec;
};
int gettimeofday(struct timeval *, void *);
#endif
