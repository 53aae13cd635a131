/* creds.c - see creds.h. */
#include "creds.h"
#include "../layers/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define KEY_MAX 512 /* a registry key with a repository path */
#define HELPER_NAME_MAX 64

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void rg_creds_free(struct rg_creds *c)
{
	if (!c)
		return;
	wipe_free(c->username);
	wipe_free(c->password);
	wipe_free(c->identity_token);
	free(c);
}

void rg_authfile_hit_clear(struct rg_authfile_hit *h)
{
	if (!h)
		return;
	rg_creds_free(h->creds);
	free(h->helper);
	memset(h, 0, sizeof(*h));
}

/* Zero every string inside a parsed document before it is freed: jansson
 * frees its copies without wiping them, and auth files hold secrets. The
 * strings are jansson's own heap copies, so writing to them is safe. */
static void json_wipe(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (!j)
		return;
	if (json_is_string(j)) {
		explicit_bzero((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v) json_wipe(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) json_wipe(v);
	}
}

static void json_wipe_decref(json_t *j)
{
	json_wipe(j);
	json_decref(j);
}

static struct rg_creds *creds_new(const char *user, size_t ulen, const char *pass, size_t plen,
				  const char *token)
{
	struct rg_creds *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->username = strndup(user, ulen);
	if (pass)
		c->password = strndup(pass, plen);
	if (token)
		c->identity_token = strdup(token);
	if (!c->username || (pass && !c->password) || (token && !c->identity_token)) {
		rg_creds_free(c);
		return NULL;
	}
	return c;
}

int rg_creds_from_userpass(const char *s, struct rg_creds **ret_creds, struct err *e)
{
	const char *colon = strchr(s, ':');
	struct rg_creds *c;

	if (!colon || colon == s)
		return err_set(
		    e, ERR_INPUT,
		    "credentials must be given as USER:PASSWORD (the user part is missing "
		    "or there is no ':')");
	c = creds_new(s, (size_t)(colon - s), colon + 1, strlen(colon + 1), NULL);
	if (!c)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	*ret_creds = c;
	return 0;
}

/* ---- keys ---- */

void rg_registry_key_normalize(const char *key, char *out, size_t n)
{
	char host[KEY_MAX];
	const char *p = key, *rest;
	size_t hl, rl, i;

	if (n == 0)
		return;
	if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	hl = strcspn(p, "/");
	if (hl >= sizeof(host))
		hl = sizeof(host) - 1;
	for (i = 0; i < hl; i++)
		host[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] - 'A' + 'a' : p[i]);
	host[hl] = '\0';
	rest = p + strcspn(p, "/");
	rl = strlen(rest);
	while (rl > 0 && rest[rl - 1] == '/')
		rl--;
	/* docker writes "https://host/v1/" for Docker Hub and some tools
	 * "host/v2/": both mean the registry itself. */
	if ((rl == 3 && (strncmp(rest, "/v1", 3) == 0 || strncmp(rest, "/v2", 3) == 0)))
		rl = 0;
	if (strcmp(host, "index.docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0)
		snprintf(host, sizeof(host), "docker.io");
	snprintf(out, n, "%s%.*s", host, (int)rl, rest);
}

/* The member of obj whose key names the registry; candidates from the most
 * specific (host/path) to the registry itself. At each level a key spelled
 * exactly like the candidate (or, for the registry itself, like auth_key)
 * beats one that only normalises to it. */
static json_t *match_member(json_t *obj, const char *auth_key, const char *path,
			    bool (*usable)(json_t *), const char **ret_key)
{
	char want[KEY_MAX], norm[KEY_MAX];
	const char *k;
	json_t *v;
	size_t wl;

	rg_registry_key_normalize(auth_key, want, sizeof(want));
	wl = strlen(want);
	if (path && *path && wl + 1 + strlen(path) < sizeof(want)) {
		want[wl] = '/';
		strcpy(want + wl + 1, path);
	}
	for (;;) {
		char *slash;
		bool top = strlen(want) == wl;

		v = json_object_get(obj, top ? auth_key : want);
		if (v && (!usable || usable(v))) {
			*ret_key =
			    top ? auth_key : json_object_iter_key(json_object_iter_at(obj, want));
			return v;
		}
		json_object_foreach(obj, k, v)
		{
			rg_registry_key_normalize(k, norm, sizeof(norm));
			if (strcmp(norm, want) == 0 && (!usable || usable(v))) {
				*ret_key = k;
				return v;
			}
		}
		/* One path component less. */
		slash = strrchr(want, '/');
		if (!slash || (size_t)(slash - want) < wl)
			break;
		*slash = '\0';
	}
	return NULL;
}

static bool entry_has_creds(json_t *v)
{
	json_t *a = json_object_get(v, "auth"), *u = json_object_get(v, "username"),
	       *t = json_object_get(v, "identitytoken");

	if (!json_is_object(v))
		return true; /* reported as malformed by the caller */
	return (json_is_string(a) && json_string_length(a) > 0) ||
	       (json_is_string(u) && json_string_length(u) > 0) ||
	       (json_is_string(t) && json_string_length(t) > 0) || (a && !json_is_string(a)) ||
	       (u && !json_is_string(u)) || (t && !json_is_string(t));
}

/* Standard base64, padding optional and unused bits ignored, as docker's
 * own clients accept in auth entries. Deliberately not ly_base64_decode
 * (layers/sign.h), which takes only the one canonical encoding a signature
 * may have; the alphabet is the same (ly_base64_value). out must hold
 * len*3/4+1. */
static int b64_decode(const char *in, size_t len, char *out, size_t *ret_len)
{
	size_t i, o = 0;
	unsigned int acc = 0;
	int bits = 0, v;

	while (len > 0 && in[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		v = ly_base64_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6)
		return -1; /* one stray character */
	out[o] = '\0';
	*ret_len = o;
	return 0;
}

static int entry_creds(json_t *v, const char *origin, const char *key, struct rg_creds **ret,
		       struct err *e)
{
	json_t *a = json_object_get(v, "auth"), *u = json_object_get(v, "username"),
	       *p = json_object_get(v, "password"), *t = json_object_get(v, "identitytoken");
	const char *token = NULL, *user = "", *pass = NULL;
	size_t ulen = 0, plen = 0, dlen = 0;
	char *dec = NULL, *colon;
	struct rg_creds *c;
	int rc = -1;

	if (!json_is_object(v))
		return err_set(e, ERR_INPUT, "%s: auths[\"%.100s\"] is not an object", origin, key);
	if ((a && !json_is_string(a)) || (u && !json_is_string(u)) || (p && !json_is_string(p)) ||
	    (t && !json_is_string(t)))
		return err_set(e, ERR_INPUT,
			       "%s: auths[\"%.100s\"]: auth, username, password and identitytoken "
			       "must be strings",
			       origin, key);
	if (t && json_string_length(t) > 0)
		token = json_string_value(t);
	if (a && json_string_length(a) > 0) {
		size_t alen = json_string_length(a);

		dec = malloc(alen / 4 * 3 + 4);
		if (!dec)
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		if (b64_decode(json_string_value(a), alen, dec, &dlen) < 0 ||
		    memchr(dec, '\0', dlen)) {
			err_set(e, ERR_INPUT, "%s: auths[\"%.100s\"].auth is not valid base64",
				origin, key);
			goto out;
		}
		colon = strchr(dec, ':');
		if (!colon) {
			err_set(e, ERR_INPUT,
				"%s: auths[\"%.100s\"].auth does not decode to user:password",
				origin, key);
			goto out;
		}
		user = dec;
		ulen = (size_t)(colon - dec);
		pass = colon + 1;
		plen = strlen(pass);
	} else if (u && json_string_length(u) > 0) {
		user = json_string_value(u);
		ulen = json_string_length(u);
		if (p) {
			pass = json_string_value(p);
			plen = json_string_length(p);
		}
	}
	if (token && ulen == 0)
		pass = NULL; /* a lone identity token */
	if (!token && !pass) {
		err_set(e, ERR_INPUT, "%s: auths[\"%.100s\"] has a user but no password", origin,
			key);
		goto out;
	}
	c = creds_new(user, ulen, pass, plen, token);
	if (!c) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret = c;
	rc = 0;
out:
	if (dec) {
		explicit_bzero(dec, dlen);
		free(dec);
	}
	return rc;
}

static bool helper_name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (n >= HELPER_NAME_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return n > 0 && s[0] != '.';
}

static int take_helper(json_t *v, const char *origin, const char *where, bool store,
		       struct rg_authfile_hit *ret, struct err *e)
{
	if (!json_is_string(v) || !helper_name_ok(json_string_value(v)))
		return err_set(e, ERR_INPUT,
			       "%s: %s must name a credential helper (letters, digits, '.', '_', "
			       "'-')",
			       origin, where);
	ret->helper = strdup(json_string_value(v));
	if (!ret->helper)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	ret->helper_is_store = store;
	return 1;
}

int rg_authfile_lookup_buf(const char *data, size_t len, const char *origin, const char *auth_key,
			   const char *path, struct rg_authfile_hit *ret, struct err *e)
{
	struct rg_authfile_hit hit = {0};
	json_t *root, *auths, *helpers, *store, *v;
	json_error_t je;
	const char *key = NULL;
	char where[160];
	int rc = -1;

	if (len > RG_AUTHFILE_MAX)
		return err_set(e, ERR_INPUT, "%s: larger than %d bytes; not an auth file", origin,
			       RG_AUTHFILE_MAX);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		/* je.text quotes at most a token of the input, never a value. */
		return err_set(e, ERR_INPUT, "%s: line %d: malformed JSON (%s)", origin, je.line,
			       strstr(je.text, "duplicate") ? "duplicate key" : "syntax error");
	if (!json_is_object(root)) {
		err_set(e, ERR_INPUT, "%s: not a JSON object; not an auth file", origin);
		goto out;
	}
	auths = json_object_get(root, "auths");
	helpers = json_object_get(root, "credHelpers");
	store = json_object_get(root, "credsStore");
	if ((auths && !json_is_object(auths)) || (helpers && !json_is_object(helpers))) {
		err_set(e, ERR_INPUT, "%s: \"auths\" and \"credHelpers\" must be objects", origin);
		goto out;
	}
	if (helpers && (v = match_member(helpers, auth_key, path, NULL, &key))) {
		snprintf(where, sizeof(where), "credHelpers[\"%.100s\"]", key);
		rc = take_helper(v, origin, where, false, &hit, e);
		goto out;
	}
	if (auths && (v = match_member(auths, auth_key, path, entry_has_creds, &key))) {
		if (entry_creds(v, origin, key, &hit.creds, e) < 0)
			goto out;
		rc = 1;
		goto out;
	}
	if (store && !(json_is_string(store) && json_string_length(store) == 0)) {
		rc = take_helper(store, origin, "credsStore", true, &hit, e);
		goto out;
	}
	rc = 0;
out:
	if (rc == 1) {
		*ret = hit;
		memset(&hit, 0, sizeof(hit)); /* transferred */
	}
	rg_authfile_hit_clear(&hit);
	json_wipe_decref(root);
	return rc;
}

int rg_authfile_lookup(const char *file, bool must_exist, const char *auth_key, const char *path,
		       struct rg_authfile_hit *ret, struct err *e)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = -1;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return err_sys(e, errno == ENOENT ? ERR_INPUT : ERR_OPERATIONAL,
			       "cannot open auth file %s", file);
	}
	if (fstat(fd, &st) < 0) {
		err_sys(e, ERR_OPERATIONAL, "cannot stat auth file %s", file);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > RG_AUTHFILE_MAX) {
		err_set(e, ERR_INPUT, "auth file %s: not a regular file of at most %d bytes", file,
			RG_AUTHFILE_MAX);
		goto out;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	/* Read at most the size seen, plus one byte to notice growth. */
	while (got <= (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, ERR_OPERATIONAL, "cannot read auth file %s", file);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > (size_t)st.st_size) {
		err_set(e, ERR_OPERATIONAL, "auth file %s changed while being read", file);
		goto out;
	}
	rc = rg_authfile_lookup_buf(data, got, file, auth_key, path, ret, e);
out:
	if (data) {
		explicit_bzero(data, got);
		free(data);
	}
	close(fd);
	return rc;
}

/* ---- credential helpers ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write all of s to fd without dying of SIGPIPE when the helper does not
 * read its stdin: SIGPIPE is blocked in this thread and a pending one is
 * consumed before the mask is restored. */
static void write_input(int fd, const char *s)
{
	sigset_t pipe_set, old;
	size_t len = strlen(s), off = 0;
	struct timespec zero = {0, 0};
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (off < len) {
		n = write(fd, s + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* A short, printable excerpt of what a failing helper said, for messages. */
static void excerpt(const char *s, size_t n, char *out, size_t outn)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < outn && s[i] != '\n'; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[o] = '\0';
}

static int parse_helper_output(const char *out, size_t n, const char *prog,
			       struct rg_creds **ret_creds, struct err *e)
{
	json_t *root, *u, *s;
	struct rg_creds *c;
	json_error_t je;
	int rc = -1;

	root = json_loadb(out, n, 0, &je);
	if (!root)
		return err_set(e, ERR_OPERATIONAL, "credential helper %s: its answer is not JSON",
			       prog);
	u = json_object_get(root, "Username");
	s = json_object_get(root, "Secret");
	if (!json_is_string(u) || !json_is_string(s)) {
		err_set(e, ERR_OPERATIONAL,
			"credential helper %s: its answer lacks the Username and Secret strings",
			prog);
		goto out;
	}
	if (json_string_length(s) == 0) {
		rc = 0;
		goto out;
	}
	if (strcmp(json_string_value(u), "<token>") == 0)
		c = creds_new("", 0, NULL, 0, json_string_value(s));
	else
		c = creds_new(json_string_value(u), json_string_length(u), json_string_value(s),
			      json_string_length(s), NULL);
	if (!c) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret_creds = c;
	rc = 1;
out:
	json_wipe_decref(root);
	return rc;
}

int rg_cred_helper_get(const char *name, const char *server, struct rg_creds **ret_creds,
		       struct err *e)
{
	char prog[HELPER_NAME_MAX + 32], *out = NULL, said[128];
	char *argv[3] = {prog, (char *)"get", NULL};
	int in[2] = {-1, -1}, outp[2] = {-1, -1}, status = 0, r, rc = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_init = false, attr_init = false, timed_out = false, too_big = false;
	sigset_t none, dfl;
	long long deadline;
	size_t got = 0;
	pid_t pid = -1;

	if (!helper_name_ok(name))
		return err_set(e, ERR_INPUT, "invalid credential helper name");
	snprintf(prog, sizeof(prog), "docker-credential-%s", name);
	out = malloc(RG_HELPER_OUTPUT_MAX + 1);
	if (!out)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		err_sys(e, ERR_OPERATIONAL, "credential helper %s: cannot create a pipe", prog);
		goto out;
	}
	fa_init = posix_spawn_file_actions_init(&fa) == 0;
	attr_init = posix_spawnattr_init(&attr) == 0;
	if (!fa_init || !attr_init) {
		err_set(e, ERR_OPERATIONAL, "credential helper %s: cannot prepare to run it", prog);
		goto out;
	}
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	if (posix_spawn_file_actions_adddup2(&fa, in[0], 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, outp[1], 1) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0 ||
	    /* nothing else of ours (sockets, other pipes) leaks into it */
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &dfl) != 0 ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0) {
		err_set(e, ERR_OPERATIONAL, "credential helper %s: cannot prepare to run it", prog);
		goto out;
	}
	r = posix_spawnp(&pid, prog, &fa, &attr, argv, environ);
	if (r != 0) {
		pid = -1;
		errno = r;
		err_sys(e, ERR_OPERATIONAL, "cannot run credential helper %s (is it on PATH?)",
			prog);
		goto out;
	}
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	write_input(in[1], server);
	close(in[1]);
	in[1] = -1;

	deadline = now_ms() + RG_HELPER_TIMEOUT_MS;
	for (;;) {
		struct pollfd pfd = {.fd = outp[0], .events = POLLIN};
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_sys(e, ERR_OPERATIONAL, "credential helper %s: poll", prog);
			goto out;
		}
		if (r == 0)
			continue;
		if (got == RG_HELPER_OUTPUT_MAX) {
			too_big = true;
			break;
		}
		n = read(outp[0], out + got, RG_HELPER_OUTPUT_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	if (timed_out || too_big)
		kill(pid, SIGKILL);
	/* EOF on stdout; give the helper until the deadline to exit. */
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			break;
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			timed_out = true;
		}
		usleep(10000);
	}
	pid = -1;
	if (timed_out) {
		err_set(e, ERR_OPERATIONAL, "credential helper %s did not answer within %d s", prog,
			RG_HELPER_TIMEOUT_MS / 1000);
		goto out;
	}
	if (too_big) {
		err_set(e, ERR_OPERATIONAL, "credential helper %s: answer larger than %d bytes",
			prog, RG_HELPER_OUTPUT_MAX);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* docker's helpers report "credentials not found" this way. */
		if (strstr(out, "credentials not found")) {
			rc = 0;
			goto out;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
			errno = ENOENT;
			err_sys(e, ERR_OPERATIONAL, "cannot run credential helper %s", prog);
			goto out;
		}
		excerpt(out, got, said, out[0] == '{' ? 1 : sizeof(said));
		err_set(e, ERR_OPERATIONAL, "credential helper %s failed (%s %d)%s%s", prog,
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			said[0] ? ": " : "", said);
		goto out;
	}
	rc = parse_helper_output(out, got, prog, ret_creds, e);
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_init)
		posix_spawnattr_destroy(&attr);
	for (r = 0; r < 2; r++) {
		if (in[r] >= 0)
			close(in[r]);
		if (outp[r] >= 0)
			close(outp[r]);
	}
	explicit_bzero(out, RG_HELPER_OUTPUT_MAX + 1);
	free(out);
	return rc;
}

/* ---- the chain ---- */

/* Returns 1 with creds, 0 to go on with the next file, -1 on error. */
static int try_file(const char *file, bool must_exist, const char *auth_key, const char *path,
		    struct rg_creds **ret, struct err *e)
{
	struct rg_authfile_hit hit = {0};
	struct err herr;
	int r;

	r = rg_authfile_lookup(file, must_exist, auth_key, path, &hit, e);
	if (r <= 0)
		return r;
	if (hit.creds) {
		*ret = hit.creds;
		hit.creds = NULL; /* transferred */
		rg_authfile_hit_clear(&hit);
		return 1;
	}
	err_clear(&herr);
	r = rg_cred_helper_get(hit.helper, auth_key, ret, &herr);
	if (r < 0 && hit.helper_is_store && herr.sys_errno == ENOENT)
		r = 0; /* a credsStore that is not installed here: no match */
	if (r < 0) {
		*e = herr;
		err_prefix(e, "credentials for %s (named in %s)", auth_key, file);
	}
	rg_authfile_hit_clear(&hit);
	return r;
}

static int home_dir(char *out, size_t n)
{
	const char *h = getenv("HOME");
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (h && *h) {
		snprintf(out, n, "%s", h);
		return 0;
	}
	if (getpwuid_r(getuid(), &pw, tmp, sizeof(tmp), &res) != 0 || !res || !pw.pw_dir)
		return -1;
	snprintf(out, n, "%s", pw.pw_dir);
	return 0;
}

int rg_creds_lookup(const char *auth_key, const char *path, const struct rg_options *opt,
		    struct rg_creds **ret_creds, struct err *e)
{
	struct rg_creds *c = NULL;
	char file[4200], home[4096];
	const char *env;
	int r;

	if (opt->creds && *opt->creds) {
		if (rg_creds_from_userpass(opt->creds, &c, e) < 0)
			return err_prefix(e, "--creds");
		*ret_creds = c;
		return 0;
	}
	if (opt->authfile && *opt->authfile) {
		r = try_file(opt->authfile, true, auth_key, path, &c, e);
		if (r != 0)
			goto done;
	}
	env = getenv("REGISTRY_AUTH_FILE");
	if (env && *env) {
		r = try_file(env, false, auth_key, path, &c, e);
		if (r != 0)
			goto done;
	}
	env = getenv("XDG_RUNTIME_DIR");
	if (env && *env) {
		snprintf(file, sizeof(file), "%s/containers/auth.json", env);
		r = try_file(file, false, auth_key, path, &c, e);
		if (r != 0)
			goto done;
	}
	env = getenv("DOCKER_CONFIG");
	if (env && *env) {
		snprintf(file, sizeof(file), "%s/config.json", env);
	} else if (home_dir(home, sizeof(home)) == 0) {
		snprintf(file, sizeof(file), "%s/.docker/config.json", home);
	} else {
		*ret_creds = NULL;
		return 0;
	}
	r = try_file(file, false, auth_key, path, &c, e);
done:
	if (r < 0)
		return -1;
	*ret_creds = c;
	return 0;
}
