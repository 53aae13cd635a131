/* htpasswd.h - client authentication for the mirror: an Apache htpasswd
 * file of bcrypt entries (`htpasswd -B`, as Distribution takes), checked
 * against HTTP Basic credentials.
 *
 * bcrypt is slow by design (milliseconds a check), so a pair that passed
 * is remembered (its SHA-256, never the password) for a few minutes; a
 * failed pair always costs the full check. Thread-safe after loading. */
#ifndef INLAY_MR_HTPASSWD_H
#define INLAY_MR_HTPASSWD_H

#include <stdbool.h>
#include <stddef.h>

#include "../manifest/err.h"

#define MR_USER_MAX 128

struct mr_htpasswd; /* opaque */

/* Load path: "user:$2y$..." lines; blank lines and '#' comments skipped.
 * Anything else (other hash schemes, malformed lines) is ERR_INPUT naming
 * the line: a user silently unable to log in is worse. */
int mr_htpasswd_load(const char *path, struct mr_htpasswd **ret, struct err *e);
void mr_htpasswd_free(struct mr_htpasswd *h);

/* Check an Authorization header value. True when it is "Basic" with a
 * user and password the file accepts; *ret_user (MR_USER_MAX) gets the
 * user name either way when one could be read, for the access log. */
bool mr_htpasswd_check(struct mr_htpasswd *h, const char *authorization,
		       char ret_user[MR_USER_MAX]);

#endif
