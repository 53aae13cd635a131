/* fuzz_sn_policy.c - the sensor's policy parser and matcher, and its
 * learn-mode profile, on arbitrary bytes:
 *  - the bytes as JSON: sn_policy_new on the root, then every sn_policy_*
 *    question with fixed inputs and with strings cut from the bytes; never a
 *    crash, and a policy without lists allows everything;
 *  - the bytes as observations: pieces recorded into a profile, emitted as
 *    events; every event line must be JSON within SN_EVENT_MAX whose
 *    "profile" is a valid policy, and when nothing was dropped that policy
 *    must allow every observation recorded (learn -> enforce never denies
 *    what was learned). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../sensor-blob/json.h"
#include "../../sensor-blob/policy.h"

#define PIECES 6

struct obs {
	char s[PIECES][256];
	size_t n;
};

/* Cut the input at '\n' into at most PIECES NUL-terminated strings. */
static void cut(const uint8_t *data, size_t size, struct obs *o)
{
	size_t i = 0;

	o->n = 0;
	while (i <= size && o->n < PIECES) {
		size_t len = 0;

		while (i + len < size && data[i + len] != '\n' && len < sizeof(o->s[0]) - 1)
			len++;
		memcpy(o->s[o->n], data + i, len);
		o->s[o->n][len] = '\0';
		o->n++;
		i += len + 1;
	}
}

static void sockaddrs(const uint8_t *data, size_t size, struct sockaddr_in *in,
		      struct sockaddr_in6 *in6)
{
	uint8_t b[22] = {0};

	memcpy(b, data, size < sizeof(b) ? size : sizeof(b));
	memset(in, 0, sizeof(*in));
	memset(in6, 0, sizeof(*in6));
	in->sin_family = AF_INET;
	memcpy(&in->sin_addr, b, 4);
	memcpy(&in->sin_port, b + 4, 2);
	in6->sin6_family = AF_INET6;
	memcpy(&in6->sin6_addr, b + 6, 16);
	/* Half the time an IPv4-mapped address. */
	if (b[0] & 1) {
		memset(&in6->sin6_addr, 0, 10);
		in6->sin6_addr.s6_addr[10] = 0xff;
		in6->sin6_addr.s6_addr[11] = 0xff;
	}
	memcpy(&in6->sin6_port, b + 4, 2);
}

static void ask_everything(const struct sn_policy *p, const struct obs *o,
			   const struct sockaddr_in *in, const struct sockaddr_in6 *in6)
{
	static const char *const exes[] = {"/bin/busybox", "/usr/bin/python3", "/", "x", NULL};
	static const char *const applets[] = {"cat", "busybox", "", "/bin/wc", NULL};
	static const char *const paths[] = {"/tmp/x", "/tmp", "/a/../b", "//", "", NULL};
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	size_t i, j;

	for (i = 0; i < sizeof(exes) / sizeof(exes[0]); i++)
		for (j = 0; j < sizeof(applets) / sizeof(applets[0]); j++)
			sn_policy_exec_allowed(p, exes[i], applets[j]);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		sn_policy_write_allowed(p, paths[i]);
	for (i = 0; i < o->n; i++) {
		sn_policy_exec_allowed(p, o->s[i], i + 1 < o->n ? o->s[i + 1] : NULL);
		sn_policy_write_allowed(p, o->s[i]);
		sn_policy_listen_allowed(p, o->s[i], (unsigned)i * 4099);
	}
	sn_policy_listen_allowed(p, "tcp", 8080);
	sn_policy_listen_allowed(p, "udp", 0);
	sn_policy_listen_allowed(p, "udp", 70000);
	sn_policy_connect_allowed(p, (const struct sockaddr *)in, sizeof(*in));
	sn_policy_connect_allowed(p, (const struct sockaddr *)in6, sizeof(*in6));
	sn_policy_connect_allowed(p, (const struct sockaddr *)in6, 24);
	sn_policy_connect_allowed(p, (const struct sockaddr *)in6, 7);
	if (!sn_policy_connect_allowed(p, (const struct sockaddr *)&un, sizeof(un)))
		abort(); /* AF_UNIX is always allowed */
	sn_policy_drift(p);
}

/* Check one emitted event line; on the last part, check the observations. */
static void check_line(const char *line, size_t len, const struct obs *o,
		       const struct sockaddr_in *in, const struct sockaddr_in6 *in6, int check_all)
{
	const struct sn_json *f, *dropped;
	struct sn_json_doc *doc = NULL;
	struct sn_policy *p = NULL;
	struct sn_err e;
	size_t i;

	if (len + 1 > SN_EVENT_MAX)
		abort();
	if (sn_json_parse(line, len, &doc, &e) < 0)
		abort();
	f = sn_json_get(sn_json_root(doc), "output_fields");
	dropped = sn_json_get(f, "profile.dropped");
	if (!dropped || sn_policy_new(sn_json_get(f, "profile"), &p, &e) < 0)
		abort();
	if (check_all && dropped->num == 0) {
		for (i = 0; i < o->n; i++) {
			const char *applet = i + 1 < o->n ? o->s[i + 1] : NULL;

			if (o->s[i][0] == '/' && !sn_policy_exec_allowed(p, o->s[i], applet)) {
				/* Recorded without a drop: must match. Unless the
				 * exe was refused as a directory or "/", which
				 * counts as a drop, so cannot happen here. */
				abort();
			}
			if (o->s[i][0] == '/' && !sn_policy_write_allowed(p, o->s[i]))
				abort();
		}
		if (ntohs(in->sin_port) &&
		    !sn_policy_connect_allowed(p, (const struct sockaddr *)in, sizeof(*in)))
			abort();
		if (ntohs(in6->sin6_port) &&
		    !sn_policy_connect_allowed(p, (const struct sockaddr *)in6, sizeof(*in6)))
			abort();
		if (!sn_policy_listen_allowed(p, "tcp", ntohs(in->sin_port)))
			abort();
	}
	sn_policy_free(p);
	sn_json_free(doc);
}

static void profile_roundtrip(const struct obs *o, const struct sockaddr_in *in,
			      const struct sockaddr_in6 *in6)
{
	static int fd = -1;
	struct sn_profile *pr = sn_profile_new();
	struct sn_output out;
	struct sn_err e;
	char *text, *line, *nl;
	off_t n;
	size_t i;
	int parts;

	if (!pr)
		return;
	if (fd < 0)
		fd = memfd_create("fuzz_sn_policy", 0);
	if (fd < 0 || ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	for (i = 0; i < o->n; i++) {
		if (o->s[i][0] == '/') {
			sn_profile_exec(pr, o->s[i], i + 1 < o->n ? o->s[i + 1] : NULL);
			sn_profile_write(pr, o->s[i]);
		}
	}
	sn_profile_connect(pr, (const struct sockaddr *)in, sizeof(*in));
	sn_profile_connect(pr, (const struct sockaddr *)in6, sizeof(*in6));
	sn_profile_listen(pr, "tcp", ntohs(in->sin_port));
	out.fd = fd;
	out.owned = 0;
	if (sn_profile_emit(pr, &out, &e) < 0)
		abort();
	sn_profile_free(pr);
	n = lseek(fd, 0, SEEK_END);
	if (n <= 0)
		abort();
	text = malloc((size_t)n + 1);
	if (!text || pread(fd, text, (size_t)n, 0) != n)
		abort();
	text[n] = '\0';
	/* Count the parts first: the union is checked on a one-part profile. */
	for (parts = 0, line = text; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		parts++;
	for (line = text; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		check_line(line, (size_t)(nl - line), o, in, in6, parts == 1);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sn_json_doc *doc = NULL;
	struct sn_policy *p = NULL;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sn_err e;
	struct obs o;

	cut(data, size, &o);
	sockaddrs(data, size, &in, &in6);
	if (sn_json_parse((const char *)data, size, &doc, &e) == 0) {
		if (sn_policy_new(sn_json_root(doc), &p, &e) == 0) {
			ask_everything(p, &o, &in, &in6);
			sn_policy_free(p);
		}
		sn_json_free(doc);
	}
	/* No policy at all: everything is allowed. */
	if (sn_policy_new(NULL, &p, &e) < 0)
		abort();
	if (!sn_policy_exec_allowed(p, o.s[0], NULL) || !sn_policy_write_allowed(p, o.s[0]))
		abort();
	sn_policy_free(p);
	profile_roundtrip(&o, &in, &in6);
	return 0;
}
