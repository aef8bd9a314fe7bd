/* KRANK isolate libc: POSIX descriptor, file and process calls. */
#ifndef _KRANK_UNISTD_H
#define _KRANK_UNISTD_H
#include <sys/types.h>
#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define F_OK 0
#define X_OK 1
#define W_OK 2
#define R_OK 4
int close(int);
ssize_t read(int, void *, size_t);
ssize_t write(int, const void *, size_t);
ssize_t pread(int, void *, size_t, off_t);
ssize_t pwrite(int, const void *, size_t, off_t);
off_t lseek(int, off_t, int);
int fsync(int);
int fdatasync(int);
int ftruncate(int, off_t);
int dup(int);
int dup2(int, int);
int rmdir(const char *);
int unlink(const char *);
char *getcwd(char *, size_t);
int chdir(const char *);
pid_t getpid(void);
unsigned sleep(unsigned);
int usleep(useconds_t);
void _exit(int) __attribute__((noreturn));
#endif
