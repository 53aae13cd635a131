/* arch.c - see arch.h. */
#include "arch.h"

#include <elf.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL 0x404
#endif

static int regset(int req, pid_t pid, int type, void *data, size_t len)
{
	struct iovec iov = {.iov_base = data, .iov_len = len};

	if (ptrace(req, pid, (void *)(long)type, &iov) < 0)
		return -errno;
	return 0;
}

int sn_regs_get(pid_t pid, struct sn_regs *regs)
{
	return regset(PTRACE_GETREGSET, pid, NT_PRSTATUS, &regs->r, sizeof(regs->r));
}

static int regs_put(pid_t pid, struct sn_regs *regs)
{
	return regset(PTRACE_SETREGSET, pid, NT_PRSTATUS, &regs->r, sizeof(regs->r));
}

#if defined(__x86_64__)

long sn_regs_syscall(const struct sn_regs *regs)
{
	return (long)regs->r.orig_rax;
}

uint64_t sn_regs_arg(const struct sn_regs *regs, unsigned i)
{
	switch (i) {
	case 0:
		return regs->r.rdi;
	case 1:
		return regs->r.rsi;
	case 2:
		return regs->r.rdx;
	case 3:
		return regs->r.r10;
	case 4:
		return regs->r.r8;
	case 5:
		return regs->r.r9;
	}
	return 0;
}

long sn_regs_retval(const struct sn_regs *regs)
{
	return (long)regs->r.rax;
}

int sn_regs_set_arg(pid_t pid, struct sn_regs *regs, unsigned i, uint64_t value)
{
	switch (i) {
	case 0:
		regs->r.rdi = value;
		break;
	case 1:
		regs->r.rsi = value;
		break;
	case 2:
		regs->r.rdx = value;
		break;
	case 3:
		regs->r.r10 = value;
		break;
	case 4:
		regs->r.r8 = value;
		break;
	case 5:
		regs->r.r9 = value;
		break;
	default:
		return -EINVAL;
	}
	return regs_put(pid, regs);
}

int sn_regs_skip(pid_t pid, struct sn_regs *regs, long retval)
{
	/* orig_rax -1 makes the kernel skip the call after the seccomp stop;
	 * rax is left as the result. */
	regs->r.orig_rax = (unsigned long long)-1;
	regs->r.rax = (unsigned long long)retval;
	return regs_put(pid, regs);
}

#elif defined(__aarch64__)

long sn_regs_syscall(const struct sn_regs *regs)
{
	return (long)regs->r.regs[8];
}

uint64_t sn_regs_arg(const struct sn_regs *regs, unsigned i)
{
	return i < 6 ? regs->r.regs[i] : 0;
}

long sn_regs_retval(const struct sn_regs *regs)
{
	return (long)regs->r.regs[0];
}

int sn_regs_set_arg(pid_t pid, struct sn_regs *regs, unsigned i, uint64_t value)
{
	if (i >= 6)
		return -EINVAL;
	regs->r.regs[i] = value;
	return regs_put(pid, regs);
}

int sn_regs_skip(pid_t pid, struct sn_regs *regs, long retval)
{
	int nr = -1, r;

	/* x0 first: it is the result of a skipped call. The number lives in
	 * the kernel's syscallno, which only NT_ARM_SYSTEM_CALL reaches;
	 * writing x8 would not skip anything. */
	regs->r.regs[0] = (unsigned long long)retval;
	r = regs_put(pid, regs);
	if (r < 0)
		return r;
	return regset(PTRACE_SETREGSET, pid, NT_ARM_SYSTEM_CALL, &nr, sizeof(nr));
}

#endif
