/* config.c - see config.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sn_config_defaults(struct sn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->version = SN_CONFIG_VERSION;
	c->mode = SN_MODE_MONITOR;
	c->fail = SN_FAIL_OPEN;
	c->output.kind = SN_OUTPUT_STDERR;
	c->output.fd = -1;
}

void sn_config_free(struct sn_config *c)
{
	if (!c)
		return;
	sn_json_free(c->doc);
	free(c->text);
	sn_config_defaults(c);
}

int sn_mode_parse(const char *s, enum sn_mode *ret, struct sn_err *e)
{
	if (strcmp(s, "monitor") == 0)
		*ret = SN_MODE_MONITOR;
	else if (strcmp(s, "learn") == 0)
		*ret = SN_MODE_LEARN;
	else if (strcmp(s, "enforce") == 0)
		*ret = SN_MODE_ENFORCE;
	else
		return sn_err_set(e, "unknown mode \"%.64s\" (use monitor, learn or enforce)", s);
	return 0;
}

static int fail_parse(const char *s, enum sn_fail *ret, struct sn_err *e)
{
	if (strcmp(s, "open") == 0)
		*ret = SN_FAIL_OPEN;
	else if (strcmp(s, "closed") == 0)
		*ret = SN_FAIL_CLOSED;
	else
		return sn_err_set(e, "unknown fail mode \"%.64s\" (use open or closed)", s);
	return 0;
}

const char *sn_mode_name(enum sn_mode m)
{
	switch (m) {
	case SN_MODE_MONITOR:
		return "monitor";
	case SN_MODE_LEARN:
		return "learn";
	case SN_MODE_ENFORCE:
		return "enforce";
	}
	return "unknown";
}

const char *sn_fail_name(enum sn_fail f)
{
	return f == SN_FAIL_CLOSED ? "closed" : "open";
}

int sn_output_spec_parse(const char *s, struct sn_output_spec *ret, struct sn_err *e)
{
	if (strcmp(s, "stderr") == 0) {
		ret->kind = SN_OUTPUT_STDERR;
		ret->fd = -1;
		ret->path[0] = '\0';
		return 0;
	}
	if (strncmp(s, "file:", 5) == 0) {
		const char *path = s + 5;
		size_t n = strlen(path);

		if (path[0] != '/')
			return sn_err_set(e, "output \"%.64s\": the file path must be absolute", s);
		if (n >= sizeof(ret->path))
			return sn_err_set(e, "output file path is longer than %zu bytes",
					  sizeof(ret->path) - 1);
		ret->kind = SN_OUTPUT_FILE;
		ret->fd = -1;
		memcpy(ret->path, path, n + 1);
		return 0;
	}
	if (strncmp(s, "fd:", 3) == 0) {
		const char *d = s + 3;
		long v = 0;

		if (!*d)
			return sn_err_set(e, "output \"fd:\" needs a descriptor number");
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return sn_err_set(
				    e, "output \"%.64s\": fd:N needs a decimal number", s);
			v = v * 10 + (*d - '0');
			if (v > INT_MAX)
				return sn_err_set(e, "output \"%.64s\": descriptor out of range",
						  s);
		}
		ret->kind = SN_OUTPUT_FD;
		ret->fd = (int)v;
		ret->path[0] = '\0';
		return 0;
	}
	return sn_err_set(e, "unknown output \"%.64s\" (use stderr, file:PATH or fd:N)", s);
}

/* A known key with the wrong type is an error, not "unknown": the writer meant
 * this setting and got it wrong. */
static const char *want_string(const struct sn_json *v, const char *key, struct sn_err *e)
{
	const char *s = sn_json_cstr(v);

	if (!s)
		sn_err_set(e, "\"%s\" must be a string without NUL bytes, not %s", key,
			   v->type == SN_JSON_STRING ? "one with \\u0000"
						     : sn_json_type_name(v->type));
	return s;
}

/* Recover the fail mode from a document that did not parse, with a plain
 * token scan: `"fail"`, optional blanks, `:`, optional blanks, `"closed"`.
 * Anything else keeps fail-open. */
static enum sn_fail scan_fail_mode(const char *t, size_t len)
{
	static const char key[] = "\"fail\"", val[] = "\"closed\"";
	size_t i, j;

	for (i = 0; i + sizeof(key) - 1 <= len; i++) {
		if (memcmp(t + i, key, sizeof(key) - 1) != 0)
			continue;
		j = i + sizeof(key) - 1;
		while (j < len && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r'))
			j++;
		if (j >= len || t[j] != ':')
			continue;
		j++;
		while (j < len && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r'))
			j++;
		if (len - j >= sizeof(val) - 1 && memcmp(t + j, val, sizeof(val) - 1) == 0)
			return SN_FAIL_CLOSED;
	}
	return SN_FAIL_OPEN;
}

/* Read the known keys of a parsed document into *out (which holds defaults). */
static int apply_doc(struct sn_config *out, const struct sn_json *root, struct sn_err *e)
{
	const struct sn_json *v;
	const char *s;

	if (root->type != SN_JSON_OBJECT)
		return sn_err_set(e, "the top level must be an object, not %s",
				  sn_json_type_name(root->type));
	/* fail first: when a later key is wrong, the caller still learns which
	 * way to fail. */
	v = sn_json_get(root, "fail");
	if (v) {
		if (!(s = want_string(v, "fail", e)) || fail_parse(s, &out->fail, e) < 0)
			return -1;
	}
	v = sn_json_get(root, "version");
	if (v) {
		if (v->type != SN_JSON_NUMBER || !v->is_int)
			return sn_err_set(e, "\"version\" must be an integer, not %s",
					  v->type == SN_JSON_NUMBER ? v->str
								    : sn_json_type_name(v->type));
		if (v->num != SN_CONFIG_VERSION)
			return sn_err_set(e,
					  "config version %lld is not supported (this sensor "
					  "reads version %d; instrument the image again)",
					  v->num, SN_CONFIG_VERSION);
	}
	v = sn_json_get(root, "mode");
	if (v) {
		if (!(s = want_string(v, "mode", e)) || sn_mode_parse(s, &out->mode, e) < 0)
			return -1;
	}
	v = sn_json_get(root, "output");
	if (v) {
		if (!(s = want_string(v, "output", e)) ||
		    sn_output_spec_parse(s, &out->output, e) < 0)
			return -1;
	}
	v = sn_json_get(root, "learn_interval");
	if (v) {
		if (v->type != SN_JSON_NUMBER || !v->is_int || v->num < 0 ||
		    v->num > SN_LEARN_INTERVAL_MAX)
			return sn_err_set(e,
					  "\"learn_interval\" must be a whole number of seconds "
					  "from 0 to %d, not %s",
					  SN_LEARN_INTERVAL_MAX,
					  v->type == SN_JSON_NUMBER ? v->str
								    : sn_json_type_name(v->type));
		out->learn_interval = (unsigned)v->num;
	}
	v = sn_json_get(root, "inventory");
	if (v) {
		if (!(s = want_string(v, "inventory", e)))
			return -1;
		if (s[0] != '/' || strlen(s) >= PATH_MAX)
			return sn_err_set(e,
					  "\"inventory\" must be an absolute path shorter than "
					  "%d bytes",
					  PATH_MAX);
		out->inventory = s;
	}
	v = sn_json_get(root, "policy");
	if (v && v->type != SN_JSON_NULL) {
		if (v->type != SN_JSON_OBJECT)
			return sn_err_set(e, "\"policy\" must be an object, not %s",
					  sn_json_type_name(v->type));
		out->policy = v;
	}
	return 0;
}

/* Parse text that *c now owns (c->text, len bytes). */
static int parse_owned(struct sn_config *c, size_t len, struct sn_err *e)
{
	struct sn_config tmp;

	sn_config_defaults(&tmp);
	if (sn_json_parse(c->text, len, &tmp.doc, e) < 0) {
		c->fail = scan_fail_mode(c->text, len);
		return -1;
	}
	if (apply_doc(&tmp, sn_json_root(tmp.doc), e) < 0) {
		c->fail = tmp.fail;
		sn_json_free(tmp.doc);
		return -1;
	}
	if (tmp.policy) {
		tmp.policy_text = c->text + tmp.policy->src_off;
		tmp.policy_len = tmp.policy->src_len;
	}
	tmp.text = c->text;
	tmp.source = c->source;
	*c = tmp;
	return 0;
}

int sn_config_parse(struct sn_config *c, const char *text, size_t len, struct sn_err *e)
{
	char *copy;

	sn_config_free(c);
	if (len > SN_CONFIG_MAX)
		return sn_err_set(e, "config is %zu bytes, more than the %d allowed", len,
				  SN_CONFIG_MAX);
	copy = malloc(len + 1);
	if (!copy) {
		errno = ENOMEM;
		return sn_err_sys(e, "cannot read config");
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	c->text = copy;
	if (parse_owned(c, len, e) < 0) {
		enum sn_fail f = c->fail;

		sn_config_free(c);
		c->fail = f;
		return -1;
	}
	return 0;
}

int sn_config_load(struct sn_config *c, const char *path, int required, struct sn_err *e)
{
	struct stat st;
	size_t len = 0;
	char *text = NULL;
	int fd, r = -1;

	sn_config_free(c);
	/* O_NONBLOCK: a FIFO planted at the path must not hang PID 1 in open(). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && !required)
			return 0;
		return sn_err_sys(e, "cannot open config %s", path);
	}
	if (fstat(fd, &st) < 0) {
		sn_err_sys(e, "cannot stat config %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sn_err_set(e, "config %s is not a regular file", path);
		goto out;
	}
	if (st.st_size > SN_CONFIG_MAX) {
		sn_err_set(e, "config %s is %lld bytes, more than the %d allowed", path,
			   (long long)st.st_size, SN_CONFIG_MAX);
		goto out;
	}
	/* Read up to one byte past the limit: the size from fstat is only a hint
	 * for a file that may still be growing. */
	text = malloc(SN_CONFIG_MAX + 2);
	if (!text) {
		sn_err_sys(e, "cannot read config %s", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, text + len, SN_CONFIG_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sn_err_sys(e, "cannot read config %s", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SN_CONFIG_MAX) {
			sn_err_set(e, "config %s is more than %d bytes", path, SN_CONFIG_MAX);
			goto out;
		}
	}
	text[len] = '\0';
	c->text = text;
	text = NULL; /* transferred */
	c->source = path;
	if (parse_owned(c, len, e) < 0) {
		enum sn_fail f = c->fail;

		sn_err_prefix(e, "config %s", path);
		sn_config_free(c);
		c->fail = f;
		goto out;
	}
	r = 0;
out:
	free(text);
	close(fd);
	return r;
}

int sn_config_apply_env(struct sn_config *c, struct sn_err *e)
{
	const char *mode = getenv("INLAY_MODE"), *output = getenv("INLAY_OUTPUT");
	struct sn_output_spec spec;
	enum sn_mode m = c->mode;

	if (mode && *mode && sn_mode_parse(mode, &m, e) < 0)
		return sn_err_prefix(e, "INLAY_MODE");
	if (output && *output) {
		if (sn_output_spec_parse(output, &spec, e) < 0)
			return sn_err_prefix(e, "INLAY_OUTPUT");
		c->output = spec;
	}
	c->mode = m;
	return 0;
}
