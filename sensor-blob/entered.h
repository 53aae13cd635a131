/* entered.h - processes that entered the container from outside: what
 * `runc exec`, `docker exec`, `kubectl exec` and ECS Exec start. They are
 * not the application's descendants, so no ptrace event or seccomp filter of
 * the sensor's ever sees them; only the process list does.
 *
 * When the sensor is PID 1 of its PID namespace, every process of the
 * namespace descends either from it or from a process whose parent is
 * outside the namespace (its PPid reads 0 from inside): the latter are the
 * entered ones, and so are their descendants. A scan of /proc classifies
 * each process once, by its parent's class, and remembers it; a process
 * already known costs a table lookup. An entered process is checked again
 * at every scan for a new program (an exec since the last one: another
 * executable file, or another argv[0], as from one busybox applet to the
 * next).
 *
 * What a scan cannot do: see a process that started and ended between two
 * scans, or stop a program before it runs. Entered processes are reported
 * and judged after the fact (main.c scans every SN_ENTERED_SCAN_MS).
 * Orphans are re-parented to PID 1, so an entered process's child that is
 * first seen after its parent died counts as the application's.
 */
#ifndef INLAY_SENSOR_ENTERED_H
#define INLAY_SENSOR_ENTERED_H

#include <stddef.h>
#include <sys/types.h>

#define SN_ENTERED_SCAN_MS 50
/* Processes remembered at most; beyond it new processes are not classified
 * (sn_entered_scan says so once). */
#define SN_ENTERED_MAX 65536

struct sn_entered;

/* Called for an entered process first seen, or seen running another
 * program than at the last scan. */
typedef void (*sn_entered_cb)(void *ctx, pid_t pid);

/* proc_root: "/proc", or a directory laid out like it (the tests': each
 * process a directory named by its PID holding "stat", and "exe" and
 * "cmdline", compared between scans). NULL on no memory. */
struct sn_entered *sn_entered_new(const char *proc_root);

/* One pass over the process list: classify the new processes, forget the
 * gone ones, call cb for each entered process that is new or runs a new
 * program. self (the sensor's PID) is never reported. Returns how many
 * entered processes are alive, or -1 when the list cannot be read. */
int sn_entered_scan(struct sn_entered *s, pid_t self, sn_entered_cb cb, void *ctx);

/* The parent and state of a process from the n bytes of its /proc/PID/stat
 * ("PID (COMM) S PPID ..."; COMM is the process's own choice and may hold
 * spaces, parentheses and newlines, so the last ')' ends it). 0, or -1 when
 * the text is not of that form. Exposed for the tests and fuzz target. */
int sn_entered_parse_stat(const char *buf, size_t n, pid_t *ret_ppid, char *ret_state);

/* 1 once the table was full and a process went unclassified. */
int sn_entered_overflowed(const struct sn_entered *s);

/* Accepts NULL. */
void sn_entered_free(struct sn_entered *s);

#endif
