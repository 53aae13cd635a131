/* capture.h - what trace.c (the mechanisms: ptrace stops, seccomp
 * notifications, the start-up handshake) shares with capture.c (what a
 * stopped call means: the judges, the events, the process cache). Internal
 * to the capture engine; the rest of the sensor uses trace.h.
 *
 * Everything here runs in the sensor's single thread.
 */
#ifndef INLAY_SENSOR_CAPTURE_H
#define INLAY_SENSOR_CAPTURE_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "decode.h"
#include "seccomp.h"
#include "trace.h"

#define SN_CAP_BUCKETS 1024
#define SN_CAP_PROC_MAX 4096 /* cached processes; more are still traced, just not cached */

/* An exec judged at its seccomp stop, waiting for the exec event. */
struct exec_check {
	int valid;
	int light; /* only identity and drift were checked: exe is the access path */
	dev_t dev;
	ino_t ino;
	unsigned char allowed, drift;
	char exe[PATH_MAX + 64];   /* resolved executable (light: access path) */
	char applet[NAME_MAX + 1]; /* "" when none */
};

/* A connect let through, reported at its syscall-exit stop. */
struct conn_pending {
	int dup; /* the socket, copied from the caller; -1 when that failed */
	int allowed;
	struct sockaddr_storage peer;
	socklen_t peer_len;
};

struct proc {
	struct proc *next;
	pid_t pid;
	unsigned char seen; /* its first stop (the auto-attach stop) is past */
	/* One thread for certain: forked, or past an exec, and no clone since.
	 * Its exec event then needs no question which thread exec'd. */
	unsigned char single;
	uint32_t last_dest; /* hash of the last sendto destination reported */
	/* tgid, ppid and uid from /proc/PID/status, read at its first event
	 * and again after each exec: three system calls fewer per event. A
	 * parent's death or a setuid without exec is seen at the next exec. */
	unsigned char info_ok;
	struct sn_procinfo info;
	struct exec_check *exec;
	struct conn_pending *conn;
	char exe[256];	   /* what it runs, /proc/PID/exe at its last exec */
	char argv0[128];   /* Falco's proc.exe */
	char cmdline[512]; /* Falco's proc.cmdline */
};

struct bucket {
	const char *name;
	long rate, burst; /* events per second, most events at once */
	long tokens;	  /* thousandths of an event */
	struct timespec last;
	unsigned long dropped;
};

struct sn_capture {
	struct sn_capture_opts o;
	enum sn_mechanism mech;
	char degraded[512];
	int sock[2]; /* handshake: [0] the sensor's end, [1] the child's */
	int enforce, drift_block;
	int nnp; /* the child runs under no_new_privs: exec never changes a uid */
	struct proc *table[SN_CAP_BUCKETS];
	unsigned nprocs;
	struct sn_notify notify;
	int notify_open;
	/* The listener thread (trace.c) judges notifications under `lock`,
	 * which the main thread holds whenever it is not waiting in the
	 * supervisor's poll: so everything here, and the event output, has
	 * one owner at a time. */
	pthread_mutex_t lock;
	int listener; /* the thread runs: it may use c and c->notify until exit */
	struct bucket activity, alerts;
};

/* The process cache: one entry per traced thread, created at its first
 * stop or its parent's fork event, freed at its exit. sn_cap_proc_add
 * returns the existing entry, or NULL when the cache is full (callers cope:
 * a process without an entry is judged from /proc alone). */
struct proc *sn_cap_proc_find(struct sn_capture *c, pid_t pid);
struct proc *sn_cap_proc_add(struct sn_capture *c, pid_t pid);
void sn_cap_proc_forget(struct sn_capture *c, pid_t pid);
void sn_cap_forget_all(struct sn_capture *c);

/* SIGKILL every cached process (what PTRACE_O_EXITKILL does when the
 * sensor exits, done before its listener closes). */
void sn_cap_kill_all(struct sn_capture *c);

/* A new process starts as a copy of its parent (exe, command line) until it
 * execs; is_fork (a fork or vfork event, not a clone that may be a thread)
 * also derives its pid, ppid and uid. parent may be NULL. */
void sn_cap_proc_inherit(struct proc *child, struct proc *parent, int is_fork);

/* Set the mode-derived fields and the rate limits of a zeroed capture whose
 * options (c->o) are set. */
void sn_cap_init(struct sn_capture *c);

/* One stopped call, from either mechanism (p: its cache entry, NULL in
 * notification mode or when the cache is full). Reports, learns, decides.
 * Returns the errno to fail the call with, 0 to let it run; *ret_exit asks
 * the tracer for the call's syscall-exit stop (sn_cap_connect_done). */
int sn_cap_judge(struct sn_capture *c, const struct sn_syscall *sc, struct proc *p, int *ret_exit);

/* The ptrace exec event of pid (now running its new program): cache what
 * it runs, re-check it against what was judged at the seccomp stop, report;
 * kills it in enforce mode when what runs is not allowed. */
void sn_cap_exec_event(struct sn_capture *c, pid_t pid, struct proc *p);

/* The syscall-exit stop of a connect let through (p->conn): report it with
 * its local address and result. */
void sn_cap_connect_done(struct sn_capture *c, pid_t pid, struct proc *p);

/* Report what the rate limit dropped, if anything. */
void sn_cap_finish(struct sn_capture *c);

#endif
