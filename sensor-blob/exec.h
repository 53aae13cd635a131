/* exec.h - start the application the way a shell would: execvp's PATH search
 * without its /bin/sh fallback, and a precise record of why it failed.
 *
 * Runs in the forked child between fork() and execve(), so it allocates
 * nothing and calls only async-signal-safe functions. The failure record is
 * small enough (< PIPE_BUF) to reach the parent in one atomic pipe write.
 */
#ifndef INLAY_SENSOR_EXEC_H
#define INLAY_SENSOR_EXEC_H

#define SN_EXEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What the parent can say beyond strerror(err). */
enum sn_exec_detail {
	SN_EXEC_PLAIN,		/* nothing more to say */
	SN_EXEC_NOT_IN_PATH,	/* a bare name found in no PATH entry */
	SN_EXEC_NO_INTERPRETER, /* path exists, but ENOENT: its #! or ELF interpreter is missing */
	SN_EXEC_IS_DIRECTORY,	/* path is a directory */
};

struct sn_exec_failure {
	int err;	 /* errno of the exec that decided the outcome */
	int detail;	 /* enum sn_exec_detail */
	char path[1024]; /* the file that failed (may be cut), "" when none */
};

/* Execute argv[0] with argv and the current environment (the sensor's own,
 * never modified). A name containing '/' is used as is; a bare name is
 * searched in $PATH (SN_EXEC_DEFAULT_PATH when unset; an empty entry means the
 * current directory). EACCES on one entry keeps searching but wins over "not
 * found"; ENOENT/ENOTDIR entries are skipped; any other error stops the search.
 * ENOEXEC is not retried through /bin/sh. Returns only on failure, with *fail
 * filled. */
void sn_exec_search(char *const argv[], struct sn_exec_failure *fail);

/* The exit status for a failed exec, as shells use it: 127 for ENOENT
 * (not found), 126 for everything else (found but not executable). */
int sn_exec_status(int err);

#endif
