/* seccomp.c - see seccomp.h. */
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "decode.h"

/* Classic BPF (linux/bpf_common.h). */
#define BPF_LD 0x00
#define BPF_W 0x00
#define BPF_ABS 0x20
#define BPF_JMP 0x05
#define BPF_JA 0x00
#define BPF_JEQ 0x10
#define BPF_JGE 0x30
#define BPF_JSET 0x40
#define BPF_K 0x00
#define BPF_RET 0x06

#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_GET_NOTIF_SIZES 3
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1U << 3)
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1U << 0)
#define SECCOMP_IOCTL_NOTIF_RECV _IOWR('!', 0, struct sn_seccomp_notif)
#define SECCOMP_IOCTL_NOTIF_SEND _IOWR('!', 1, struct sn_seccomp_notif_resp)
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, uint64_t)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1ULL << 0)

#define X32_SYSCALL_BIT 0x40000000U
#define CLONE_UNTRACED_FLAG 0x00800000U
#define CAP_SYS_ADMIN_BIT 21

#define OFF_NR offsetof(struct sn_seccomp_data, nr)
#define OFF_ARCH offsetof(struct sn_seccomp_data, arch)
#define OFF_ARG_LO(i) (offsetof(struct sn_seccomp_data, args) + 8 * (i))
#define OFF_ARG_HI(i) (OFF_ARG_LO(i) + 4)

#define WRITE_FLAGS ((uint32_t)(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND))
#define EXEC_BITS 0111U

enum rule_kind {
	R_STOP,	   /* always stops */
	R_FLAGS,   /* stops when the low word of args[arg] has a bit of val */
	R_NONZERO, /* stops when args[arg] is not 0 */
	R_ERRNO,   /* fails with errno val */
};

struct rule {
	int nr;
	uint8_t kind;
	uint8_t arg;
	uint32_t val;
};

/* The rules every filter has. */
static const struct rule base_rules[] = {
    {SYS_execve, R_STOP, 0, 0},
    {SYS_execveat, R_STOP, 0, 0},
    {SYS_connect, R_STOP, 0, 0},
    {SYS_bind, R_STOP, 0, 0},
    {SYS_listen, R_STOP, 0, 0},
    {SYS_sendto, R_NONZERO, 4, 0},
    {SYS_sendmsg, R_STOP, 0, 0},
    {SYS_openat, R_FLAGS, 2, WRITE_FLAGS},
    {SYS_openat2, R_STOP, 0, 0},
    {SYS_fchmod, R_FLAGS, 1, EXEC_BITS},
    {SYS_fchmodat, R_FLAGS, 2, EXEC_BITS},
    {SYS_fchmodat2, R_FLAGS, 2, EXEC_BITS},
    {SYS_memfd_create, R_STOP, 0, 0},
    {SYS_ptrace, R_STOP, 0, 0},
    {SYS_io_uring_setup, R_STOP, 0, 0},
    {SYS_mount, R_STOP, 0, 0},
    {SYS_umount2, R_STOP, 0, 0},
    {SYS_unshare, R_STOP, 0, 0},
    {SYS_setns, R_STOP, 0, 0},
#ifdef SYS_open
    {SYS_open, R_FLAGS, 1, WRITE_FLAGS},
#endif
#ifdef SYS_creat
    {SYS_creat, R_STOP, 0, 0},
#endif
#ifdef SYS_chmod
    {SYS_chmod, R_FLAGS, 1, EXEC_BITS},
#endif
};

/* Trace mode only: no descendant may leave the tracer's sight. */
static const struct rule trace_rules[] = {
    {SYS_clone, R_FLAGS, 0, CLONE_UNTRACED_FLAG},
    {SYS_clone3, R_ERRNO, 0, ENOSYS},
    /* The sensor's own hand-over uses it in notification mode. */
    {SYS_sendmmsg, R_STOP, 0, 0},
};

#define NRULES                                                                                     \
	(sizeof(base_rules) / sizeof(base_rules[0]) + sizeof(trace_rules) / sizeof(trace_rules[0]))

/* Fixed labels; the rules' blocks and the dispatch tree's inner nodes get
 * the ones after these. L_NOTIFY is the hybrid filter's second stop. */
enum { L_ALLOW, L_STOP, L_NOTIFY, L_DENY, L_FIRST };
#define MAX_LABELS ((int)(L_FIRST + 2 * NRULES + 8))
#define MAX_FIXUPS (SN_FILTER_MAX * 2)

struct builder {
	struct sn_sock_filter *prog;
	size_t max, n;
	int overflow;
	int label_pos[MAX_LABELS];
	int nlabels;
	struct {
		unsigned at;	     /* instruction */
		unsigned char field; /* 0: jt, 1: jf, 2: k (BPF_JA) */
		unsigned char label;
	} fix[MAX_FIXUPS];
	size_t nfix;
};

static void emit(struct builder *b, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (b->n >= b->max) {
		b->overflow = 1;
		return;
	}
	b->prog[b->n].code = code;
	b->prog[b->n].jt = jt;
	b->prog[b->n].jf = jf;
	b->prog[b->n].k = k;
	b->n++;
}

static int new_label(struct builder *b)
{
	if (b->nlabels >= MAX_LABELS) {
		b->overflow = 1;
		return L_ALLOW;
	}
	b->label_pos[b->nlabels] = -1;
	return b->nlabels++;
}

static void place(struct builder *b, int label)
{
	b->label_pos[label] = (int)b->n;
}

/* A jump to label in field (0 jt, 1 jf, 2 k) of the instruction just
 * emitted; resolved once every label has its place. */
static void jump_to(struct builder *b, unsigned field, int label)
{
	if (b->nfix >= MAX_FIXUPS || b->n == 0) {
		b->overflow = 1;
		return;
	}
	b->fix[b->nfix].at = (unsigned)(b->n - 1);
	b->fix[b->nfix].field = (unsigned char)field;
	b->fix[b->nfix].label = (unsigned char)label;
	b->nfix++;
}

static int resolve(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->nfix; i++) {
		int to = b->label_pos[b->fix[i].label];
		long off = (long)to - (long)b->fix[i].at - 1;

		if (to < 0 || off < 0)
			return -1;
		if (b->fix[i].field == 2)
			b->prog[b->fix[i].at].k = (uint32_t)off;
		else if (off > 255)
			return -1; /* conditional jumps reach 255 ahead at most */
		else if (b->fix[i].field == 0)
			b->prog[b->fix[i].at].jt = (uint8_t)off;
		else
			b->prog[b->fix[i].at].jf = (uint8_t)off;
	}
	return 0;
}

/* File opens and executions: the calls the hybrid filter hands to the
 * listener. They need no registers changed (a denial is an error answer)
 * and no syscall-exit stop, and they are the frequent ones. */
static int to_listener(int nr)
{
	switch (nr) {
	case SYS_execve:
	case SYS_execveat:
#ifdef SYS_open
	case SYS_open:
#endif
#ifdef SYS_creat
	case SYS_creat:
#endif
	case SYS_openat:
	case SYS_openat2:
		return 1;
	}
	return 0;
}

/* The stop a rule's calls take in this filter. */
static int stop_label(enum sn_filter_mode mode, const struct rule *r)
{
	return mode == SN_FILTER_HYBRID && to_listener(r->nr) ? L_NOTIFY : L_STOP;
}

/* Where a match on rule r goes: straight to its stop for R_STOP, to the
 * rule's own block otherwise. */
static int rule_target(enum sn_filter_mode mode, const struct rule *r, const int *block_label)
{
	return r->kind == R_STOP ? stop_label(mode, r) : *block_label;
}

/* A binary search over the sorted numbers: a syscall reaches its verdict in
 * a handful of comparisons, which matters on kernels without the seccomp
 * action cache (before 5.11), where the filter runs on every call. */
static void emit_tree(struct builder *b, enum sn_filter_mode mode, const struct rule *rules,
		      const int *blocks, size_t lo, size_t hi)
{
	size_t i, mid;
	int right;

	if (hi - lo <= 4) {
		for (i = lo; i < hi; i++) {
			emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, (uint32_t)rules[i].nr);
			jump_to(b, 0, rule_target(mode, &rules[i], &blocks[i]));
		}
		emit(b, BPF_RET | BPF_K, 0, 0, SN_SECCOMP_RET_ALLOW);
		return;
	}
	mid = lo + (hi - lo) / 2;
	right = new_label(b);
	emit(b, BPF_JMP | BPF_JGE | BPF_K, 0, 0, (uint32_t)rules[mid].nr);
	jump_to(b, 0, right);
	emit_tree(b, mode, rules, blocks, lo, mid);
	place(b, right);
	emit_tree(b, mode, rules, blocks, mid, hi);
}

static void emit_block(struct builder *b, enum sn_filter_mode mode, const struct rule *r)
{
	int stop = stop_label(mode, r);

	switch (r->kind) {
	case R_FLAGS:
		emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_ARG_LO(r->arg));
		emit(b, BPF_JMP | BPF_JSET | BPF_K, 0, 0, r->val);
		jump_to(b, 0, stop);
		jump_to(b, 1, L_ALLOW);
		break;
	case R_NONZERO:
		emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_ARG_LO(r->arg));
		emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0);
		jump_to(b, 1, stop);
		emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_ARG_HI(r->arg));
		emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0);
		jump_to(b, 0, L_ALLOW);
		jump_to(b, 1, stop);
		break;
	case R_ERRNO:
		emit(b, BPF_RET | BPF_K, 0, 0, SN_SECCOMP_RET_ERRNO | (r->val & 0xffff));
		break;
	}
}

int sn_filter_build(enum sn_filter_mode mode, struct sn_sock_filter *prog, size_t max)
{
	static struct builder b; /* 2 KiB: kept off the stack of a fresh child */
	struct rule rules[NRULES];
	int blocks[NRULES];
	size_t n = 0, i, j;

	for (i = 0; i < sizeof(base_rules) / sizeof(base_rules[0]); i++)
		rules[n++] = base_rules[i];
	if (mode != SN_FILTER_NOTIFY)
		for (i = 0; i < sizeof(trace_rules) / sizeof(trace_rules[0]); i++)
			rules[n++] = trace_rules[i];
	/* Insertion sort: a couple of dozen entries, no libc qsort needed. */
	for (i = 1; i < n; i++) {
		struct rule t = rules[i];

		for (j = i; j > 0 && rules[j - 1].nr > t.nr; j--)
			rules[j] = rules[j - 1];
		rules[j] = t;
	}

	memset(&b, 0, sizeof(b));
	b.prog = prog;
	b.max = max;
	b.nlabels = L_FIRST;
	for (i = 0; i < L_FIRST; i++)
		b.label_pos[i] = -1;
	for (i = 0; i < n; i++)
		blocks[i] = rules[i].kind == R_STOP ? L_STOP : new_label(&b);

	emit(&b, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_ARCH);
	emit(&b, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, SN_AUDIT_ARCH);
	jump_to(&b, 1, L_DENY);
	emit(&b, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_NR);
#if defined(__x86_64__)
	/* x32 calls carry bit 30 and reuse the numbers below it for other
	 * calls: they would slip past the comparisons below. */
	emit(&b, BPF_JMP | BPF_JSET | BPF_K, 0, 0, X32_SYSCALL_BIT);
	jump_to(&b, 0, L_DENY);
#endif
	emit_tree(&b, mode, rules, blocks, 0, n);
	for (i = 0; i < n; i++) {
		if (rules[i].kind == R_STOP)
			continue;
		place(&b, blocks[i]);
		emit_block(&b, mode, &rules[i]);
	}
	place(&b, L_ALLOW);
	emit(&b, BPF_RET | BPF_K, 0, 0, SN_SECCOMP_RET_ALLOW);
	place(&b, L_STOP);
	emit(&b, BPF_RET | BPF_K, 0, 0,
	     mode == SN_FILTER_NOTIFY ? SN_SECCOMP_RET_USER_NOTIF : SN_SECCOMP_RET_TRACE);
	if (mode == SN_FILTER_HYBRID) {
		place(&b, L_NOTIFY);
		emit(&b, BPF_RET | BPF_K, 0, 0, SN_SECCOMP_RET_USER_NOTIF);
	}
	place(&b, L_DENY);
	emit(&b, BPF_RET | BPF_K, 0, 0, SN_SECCOMP_RET_ERRNO | EPERM);
	if (b.overflow || resolve(&b) < 0)
		return -1;
	return (int)b.n;
}

int sn_filter_install(enum sn_filter_mode mode, int *ret_fd)
{
	static struct sn_sock_filter prog[SN_FILTER_MAX];
	struct sn_sock_fprog fprog;
	unsigned flags = mode != SN_FILTER_TRACE ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	int n = sn_filter_build(mode, prog, SN_FILTER_MAX);
	long r;

	if (n < 0)
		return -E2BIG;
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
	if (r < 0)
		return -errno;
	if (mode != SN_FILTER_TRACE)
		*ret_fd = (int)r;
	return 0;
}

/* capget(2) without <sys/capability.h>, which musl does not ship. */
struct cap_header {
	uint32_t version;
	int pid;
};
struct cap_data {
	uint32_t effective, permitted, inheritable;
};
#define CAP_VERSION_3 0x20080522U

uint64_t sn_effective_caps(void)
{
	struct cap_header h = {.version = CAP_VERSION_3, .pid = 0};
	struct cap_data d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

int sn_have_cap_sys_admin(void)
{
	return (sn_effective_caps() >> CAP_SYS_ADMIN_BIT) & 1;
}

struct notif_sizes {
	uint16_t notif, resp, data;
};

int sn_notify_open(struct sn_notify *n, int fd, struct sn_err *e)
{
	struct notif_sizes sz;

	memset(n, 0, sizeof(*n));
	n->fd = fd;
	/* The kernel may know larger structures than this header: RECV and
	 * SEND want buffers of the kernel's sizes. */
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
		sn_err_sys(e, "cannot read seccomp notification sizes");
		goto fail;
	}
	n->req_size =
	    sz.notif > sizeof(struct sn_seccomp_notif) ? sz.notif : sizeof(struct sn_seccomp_notif);
	n->resp_size = sz.resp > sizeof(struct sn_seccomp_notif_resp)
			   ? sz.resp
			   : sizeof(struct sn_seccomp_notif_resp);
	/* Linux 6.6: the caller and the sensor hand the CPU to each other
	 * instead of waking one another on another CPU, which halves the
	 * cost of a round trip. Older kernels refuse it; nothing changes. */
	{
		uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;

		ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags);
	}
	n->req = calloc(1, n->req_size);
	n->resp = calloc(1, n->resp_size);
	if (!n->req || !n->resp) {
		errno = ENOMEM;
		sn_err_sys(e, "seccomp notification buffers");
		goto fail;
	}
	return 0;
fail:
	sn_notify_close(n);
	return -1;
}

int sn_notify_recv(struct sn_notify *n, struct sn_seccomp_notif *ret)
{
	/* The kernel refuses a buffer that is not zeroed. */
	memset(n->req, 0, n->req_size);
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_RECV, n->req) < 0)
		return -errno;
	memcpy(ret, n->req, sizeof(*ret));
	return 0;
}

int sn_notify_reply(struct sn_notify *n, uint64_t id, int err)
{
	struct sn_seccomp_notif_resp *r = n->resp;

	memset(n->resp, 0, n->resp_size);
	r->id = id;
	if (err) {
		r->error = -err;
	} else {
		r->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	}
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_SEND, n->resp) < 0)
		return -errno;
	return 0;
}

void sn_notify_close(struct sn_notify *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	free(n->req);
	free(n->resp);
	n->fd = -1;
	n->req = n->resp = NULL;
}
