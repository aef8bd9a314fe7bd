/* KRANK isolate libc: directories (getdents64's record layout). */
#ifndef _KRANK_DIRENT_H
#define _KRANK_DIRENT_H
#include <sys/types.h>
struct dirent {
	ino_t d_ino;
	off_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[256];
};
#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12
typedef struct __dirstream DIR;
DIR *opendir(const char *);
DIR *fdopendir(int);
struct dirent *readdir(DIR *);
int closedir(DIR *);
int dirfd(DIR *);
ssize_t getdents64(int, void *, size_t);
#endif
