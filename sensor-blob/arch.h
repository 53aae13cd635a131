/* arch.h - a tracee's registers at a syscall stop, for the architectures the
 * sensor is built for (x86_64 and aarch64).
 *
 * The sensor is compiled once per platform and only ever traces programs of
 * its own architecture (the seccomp filter denies foreign-architecture and x32
 * system calls, seccomp.h), so the register layout is a compile-time choice.
 * Registers are read and written with PTRACE_GETREGSET / PTRACE_SETREGSET
 * NT_PRSTATUS, which both architectures support (aarch64 has no GETREGS).
 *
 *   x86_64:  number orig_rax; arguments rdi rsi rdx r10 r8 r9; result rax.
 *            A syscall is skipped by setting orig_rax to -1 at the stop; the
 *            result is then whatever rax holds.
 *   aarch64: number x8 (NT_ARM_SYSTEM_CALL to change it); arguments x0-x5;
 *            result x0. x0 is also the first argument, so a skipped call
 *            returns the value written to x0.
 *
 * Only valid while the tracee sits in a ptrace stop.
 */
#ifndef INLAY_SENSOR_ARCH_H
#define INLAY_SENSOR_ARCH_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#if defined(__x86_64__)
#define SN_ARCH_NAME "x86_64"
#define SN_AUDIT_ARCH 0xc000003eU /* AUDIT_ARCH_X86_64 = EM_X86_64 | 64BIT | LE */
#elif defined(__aarch64__)
#define SN_ARCH_NAME "aarch64"
#define SN_AUDIT_ARCH 0xc00000b7U /* AUDIT_ARCH_AARCH64 = EM_AARCH64 | 64BIT | LE */
#else
#error "the sensor supports x86_64 and aarch64 only"
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the seccomp filter loads the low word of 64-bit arguments: little-endian only"
#endif

struct sn_regs {
	struct user_regs_struct r;
};

/* Read the registers of stopped tracee `pid`. 0, or -errno (ESRCH when it
 * was killed meanwhile). */
int sn_regs_get(pid_t pid, struct sn_regs *regs);

/* The system call number, its argument i (0..5) and the return register. */
long sn_regs_syscall(const struct sn_regs *regs);
uint64_t sn_regs_arg(const struct sn_regs *regs, unsigned i);
long sn_regs_retval(const struct sn_regs *regs);

/* Replace argument i in the tracee (and in *regs). 0 or -errno. */
int sn_regs_set_arg(pid_t pid, struct sn_regs *regs, unsigned i, uint64_t value);

/* At a seccomp stop: skip the system call so that it returns `retval`
 * (e.g. -EACCES) without running. 0 or -errno. */
int sn_regs_skip(pid_t pid, struct sn_regs *regs, long retval);

#endif
