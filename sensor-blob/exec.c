/* exec.c - see exec.h. */
#include "exec.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

int sn_exec_status(int err)
{
	return err == ENOENT ? 127 : 126;
}

static void record(struct sn_exec_failure *fail, int err, const char *path)
{
	size_t n = strlen(path);

	if (n >= sizeof(fail->path))
		n = sizeof(fail->path) - 1;
	memcpy(fail->path, path, n);
	fail->path[n] = '\0';
	fail->err = err;
	fail->detail = SN_EXEC_PLAIN;
}

/* Refine a failure with what stat() says about the file: ENOENT for a file
 * that exists means the kernel could not find its interpreter; EACCES on a
 * directory is better said as "Is a directory". */
static void explain(struct sn_exec_failure *fail, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return;
	if (fail->err == ENOENT)
		fail->detail = SN_EXEC_NO_INTERPRETER;
	else if (fail->err == EACCES && S_ISDIR(st.st_mode))
		fail->detail = SN_EXEC_IS_DIRECTORY;
}

void sn_exec_search(char *const argv[], struct sn_exec_failure *fail)
{
	const char *file = argv[0], *path, *p, *z;
	char buf[PATH_MAX];
	size_t k;
	int seen_eacces = 0, seen_noint = 0;

	memset(fail, 0, sizeof(*fail));
	if (!*file) {
		record(fail, ENOENT, "");
		return;
	}
	if (strchr(file, '/')) {
		execve(file, argv, environ);
		record(fail, errno, file);
		explain(fail, file);
		return;
	}
	k = strlen(file);
	if (k > NAME_MAX) {
		record(fail, ENAMETOOLONG, file);
		return;
	}
	path = getenv("PATH");
	if (!path)
		path = SN_EXEC_DEFAULT_PATH;
	for (p = path;; p = z + 1) {
		size_t l;

		z = strchrnul(p, ':');
		l = (size_t)(z - p);
		/* An entry too long to hold the name cannot contain it. */
		if (l < sizeof(buf) - (k + 1)) {
			memcpy(buf, p, l);
			buf[l] = '/';
			/* An empty entry is the current directory: "file" alone. */
			memcpy(buf + l + (l > 0), file, k + 1);
			execve(buf, argv, environ);
			switch (errno) {
			case EACCES:
				/* Keep searching, but report this one if nothing runs. */
				if (!seen_eacces) {
					record(fail, EACCES, buf);
					explain(fail, buf);
				}
				seen_eacces = 1;
				break;
			case ENOENT:
				/* A file that exists but fails with ENOENT lacks its
				 * interpreter; remember it for the message, as bash
				 * does ("bad interpreter"). */
				if (!seen_eacces && !seen_noint) {
					struct sn_exec_failure f;

					record(&f, ENOENT, buf);
					explain(&f, buf);
					if (f.detail == SN_EXEC_NO_INTERPRETER) {
						*fail = f;
						seen_noint = 1;
					}
				}
				break;
			case ENOTDIR:
			case ESTALE:
			case ENODEV:
			case ETIMEDOUT:
				/* Entries that are not usable directories are
				 * skipped, as glibc's execvp does. */
				break;
			default:
				/* ENOEXEC, ETXTBSY, ELOOP, E2BIG, ENOMEM...: the file
				 * was found; searching on would run something else. */
				record(fail, errno, buf);
				explain(fail, buf);
				return;
			}
		}
		if (!*z)
			break;
	}
	if (seen_eacces || seen_noint)
		return;
	record(fail, ENOENT, file);
	fail->detail = SN_EXEC_NOT_IN_PATH;
}
