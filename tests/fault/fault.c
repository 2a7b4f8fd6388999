/* fault.c - an LD_PRELOAD library that makes one system call of the program
 * fail, for the fault-injection tests (tests/bats/fault.bats).
 *
 *   VMCOREFIX_FAULT_AT=N        the N-th call (from 1) of the kind chosen fails
 *   VMCOREFIX_FAULT_CALL=K      read (read, pread), write, pwrite, fsync (fsync,
 *                               fdatasync), rename, ftruncate, fallocate,
 *                               copy_file_range, ioctl (the writer's clones,
 *                               FICLONERANGE), or any (all of them)
 *   VMCOREFIX_FAULT_ERRNO=E     EIO, ENOSPC, EINTR, or short: a transfer (read,
 *                               pread, write, pwrite, copy_file_range) moves only
 *                               half of its bytes (0 of 1); with short only
 *                               transfers are counted; or kill: the process
 *                               is killed (SIGKILL) instead of making the call
 *   VMCOREFIX_FAULT_REPORT=F    when the fault fires, "CALL N" is appended to F
 *                               (no report: the run made fewer than N calls)
 *
 * Only calls made after main starts count (the dynamic loader's and libc's
 * start-up are left alone): __libc_start_main is wrapped to arm the counter
 * just before main.  Calls libc makes internally (stdio's writes) are not
 * seen; the program's own calls are.  Exactly one call fails per run. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

enum call { C_READ, C_WRITE, C_PWRITE, C_FSYNC, C_RENAME, C_FTRUNCATE, C_FALLOCATE,
	    C_COPY, C_IOCTL, C_ANY };
static const char *const call_names[] = { "read", "write", "pwrite", "fsync", "rename",
					  "ftruncate", "fallocate", "copy_file_range", "ioctl",
					  "any" };

static bool armed, fired, short_io, kill_it;
static long fault_at, calls;
static int fault_errno = EIO;
static enum call which = C_ANY;

static void log_fired(enum call c)
{
	const char *path = getenv("VMCOREFIX_FAULT_REPORT");
	if (!path)
		return;
	char line[64];
	int n = snprintf(line, sizeof(line), "%s %ld\n", call_names[c], calls);
	/* raw system calls: the wrappers below must not see these */
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0644);
	if (fd >= 0) {
		if (syscall(SYS_write, fd, line, (size_t)n) < 0)
			(void)0;
		syscall(SYS_close, fd);
	}
}

/* Whether this call is the one to fail. */
static bool hit(enum call c, bool transfer)
{
	if (!armed || fired || (which != C_ANY && which != c) || (short_io && !transfer))
		return false;
	if (++calls != fault_at)
		return false;
	fired = true;
	log_fired(c);
	if (kill_it)
		raise(SIGKILL);
	return true;
}

static void arm(void)
{
	const char *at = getenv("VMCOREFIX_FAULT_AT"), *call = getenv("VMCOREFIX_FAULT_CALL");
	const char *e = getenv("VMCOREFIX_FAULT_ERRNO");
	fault_at = at ? atol(at) : 0;
	for (int i = 0; call && i <= C_ANY; i++)
		if (strcmp(call, call_names[i]) == 0)
			which = (enum call)i;
	if (e && strcmp(e, "ENOSPC") == 0)
		fault_errno = ENOSPC;
	else if (e && strcmp(e, "EINTR") == 0)
		fault_errno = EINTR;
	else if (e && strcmp(e, "short") == 0)
		short_io = true;
	else if (e && strcmp(e, "kill") == 0)
		kill_it = true;
	armed = fault_at > 0;
}

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (!real_##name) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* The fault: -1 and errno, or (short) half the count for the real call. */
#define FAIL_OR_SHORT(count) \
	do { \
		if (!short_io) { \
			errno = fault_errno; \
			return -1; \
		} \
		(count) /= 2; \
	} while (0)

ssize_t read(int fd, void *buf, size_t n)
{
	REAL(read);
	if (hit(C_READ, true))
		FAIL_OR_SHORT(n);
	return real_read(fd, buf, n);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	REAL(pread);
	if (hit(C_READ, true))
		FAIL_OR_SHORT(n);
	return real_pread(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	REAL(pread64);
	if (hit(C_READ, true))
		FAIL_OR_SHORT(n);
	return real_pread64(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);
	if (hit(C_WRITE, true))
		FAIL_OR_SHORT(n);
	return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);
	if (hit(C_PWRITE, true))
		FAIL_OR_SHORT(n);
	return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite64);
	if (hit(C_PWRITE, true))
		FAIL_OR_SHORT(n);
	return real_pwrite64(fd, buf, n, off);
}

ssize_t copy_file_range(int in, off_t *inoff, int out, off_t *outoff, size_t n,
			unsigned int flags)
{
	REAL(copy_file_range);
	if (hit(C_COPY, true))
		FAIL_OR_SHORT(n);
	return real_copy_file_range(in, inoff, out, outoff, n, flags);
}

/* Calls that move no bytes: a "short" fault does not apply to them. */
#define PLAIN_FAULT(c) \
	do { \
		if (hit(c, false)) { \
			errno = fault_errno; \
			return -1; \
		} \
	} while (0)

/* ioctl's third argument is a pointer for every request the program makes. */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	REAL(ioctl);
	PLAIN_FAULT(C_IOCTL);
	return real_ioctl(fd, req, arg);
}

int fsync(int fd)
{
	REAL(fsync);
	PLAIN_FAULT(C_FSYNC);
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	PLAIN_FAULT(C_FSYNC);
	return real_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
	REAL(rename);
	PLAIN_FAULT(C_RENAME);
	return real_rename(from, to);
}

int ftruncate(int fd, off_t len)
{
	REAL(ftruncate);
	PLAIN_FAULT(C_FTRUNCATE);
	return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len)
{
	REAL(ftruncate64);
	PLAIN_FAULT(C_FTRUNCATE);
	return real_ftruncate64(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	REAL(fallocate);
	PLAIN_FAULT(C_FALLOCATE);
	return real_fallocate(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	REAL(fallocate64);
	PLAIN_FAULT(C_FALLOCATE);
	return real_fallocate64(fd, mode, off, len);
}

/* main wrapped: the counter is armed when it starts. */
typedef int main_fn(int, char **, char **);
static main_fn *real_main;

static int armed_main(int argc, char **argv, char **envp)
{
	arm();
	return real_main(argc, argv, envp);
}

int __libc_start_main(main_fn *main, int argc, char **argv, void (*init)(void),
		      void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	typedef int start_fn(main_fn *, int, char **, void (*)(void), void (*)(void),
			     void (*)(void), void *);
	start_fn *real_start = (start_fn *)dlsym(RTLD_NEXT, "__libc_start_main");
	real_main = main;
	return real_start(armed_main, argc, argv, init, fini, rtld_fini, stack_end);
}
