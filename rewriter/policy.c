/* policy.c - see policy.h. */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../manifest/buf.h"

#define MAX_RULES RW_POLICY_MAX_RULES
#define MAX_RULE_LEN RW_POLICY_MAX_RULE_LEN

typedef bool (*rule_check_fn)(const char *rule);

static bool only_keys(json_t *o, const char *const *allowed, const char *where, struct err *e)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v) {
		bool ok = false;

		for (i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			err_set(e, ERR_INPUT, "%s: unknown key '%.100s'", where, key);
			return false;
		}
	}
	return true;
}

static bool port_valid(const char *s)
{
	size_t n = strlen(s);
	long v;

	if (strcmp(s, "*") == 0)
		return true;
	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return false;
	v = strtol(s, NULL, 10);
	return v >= 1 && v <= 65535;
}

/* "tcp:8080", "udp:53", "tcp:*" */
static bool listen_rule_valid(const char *r)
{
	if (strncmp(r, "tcp:", 4) != 0 && strncmp(r, "udp:", 4) != 0)
		return false;
	return port_valid(r + 4);
}

/* "10.0.0.0/8:5432", "192.168.1.10:443", "[fd00::/8]:443", "*:53". An IPv6
 * address always goes in brackets (without them "fd00::1:443" could be
 * read two ways), an IPv4 one never; BITS is 1-3 digits. The sensor
 * (sensor-blob/policy.c) has its own parser of the same grammar, written to
 * accept what glibc's inet_pton accepts. */
static bool connect_rule_valid(const char *r)
{
	const char *colon = strrchr(r, ':');
	unsigned char tmp[16];
	char addr[128];
	size_t n;
	char *slash;
	bool v6;

	if (!colon || !port_valid(colon + 1))
		return false;
	n = (size_t)(colon - r);
	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, r, n);
	addr[n] = '\0';
	if (strcmp(addr, "*") == 0)
		return true;
	v6 = addr[0] == '[';
	if (v6) {
		if (n < 3 || addr[n - 1] != ']')
			return false;
		memmove(addr, addr + 1, n - 2);
		addr[n - 2] = '\0';
	}
	slash = strchr(addr, '/');
	if (slash) {
		size_t digits = strlen(slash + 1);

		if (digits == 0 || digits > 3 || strspn(slash + 1, "0123456789") != digits ||
		    strtol(slash + 1, NULL, 10) > (v6 ? 128 : 32))
			return false;
		*slash = '\0';
	}
	return inet_pton(v6 ? AF_INET6 : AF_INET, addr, tmp) == 1;
}

/* Absolute, and no ".." component that would make a prefix mean more than
 * it says. */
static bool absolute_path_valid(const char *r)
{
	const char *p = r;

	if (r[0] != '/')
		return false;
	while ((p = strstr(p, "..")) != NULL) {
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return false;
		p += 2;
	}
	return true;
}

/* /PATH or /PATH[APPLET]: '\' escapes the next character (never '/');
 * unescaped '[' and ']' only frame the applet, at the very end; '*' and '?'
 * glob within one component. The path has no empty or "." component and
 * does not end in '/' (such a rule could never match the normalised path
 * the sensor compares with); the applet is not empty and has no '/'. */
static bool exec_rule_valid(const char *r)
{
	size_t n = strlen(r), i, comp = 1, j;

	if (r[0] != '/')
		return false;
	for (i = 1; i < n; i++) {
		if (r[i] == '\\') {
			if (i + 1 >= n || r[i + 1] == '/')
				return false;
			i++;
			continue;
		}
		if (r[i] == ']')
			return false;
		if (r[i] == '[')
			break;
		if (r[i] == '/') {
			if (i == comp || (i == comp + 1 && r[comp] == '.'))
				return false;
			comp = i + 1;
		}
	}
	if (i == comp || (i == comp + 1 && r[comp] == '.'))
		return false;
	if (i == n)
		return true;
	for (j = i + 1; j < n; j++) {
		if (r[j] == '\\') {
			if (j + 1 >= n || r[j + 1] == '/')
				return false;
			j++;
			continue;
		}
		if (r[j] == '/' || r[j] == '[')
			return false;
		if (r[j] == ']')
			break;
	}
	return j == n - 1 && j > i + 1;
}

bool rw_policy_rule_valid(enum rw_policy_list list, const char *rule)
{
	if (!rule || strlen(rule) > RW_POLICY_MAX_RULE_LEN)
		return false;
	switch (list) {
	case RW_POLICY_EXEC:
		return exec_rule_valid(rule);
	case RW_POLICY_LISTEN:
		return listen_rule_valid(rule);
	case RW_POLICY_CONNECT:
		return connect_rule_valid(rule);
	case RW_POLICY_WRITE:
		return absolute_path_valid(rule);
	}
	return false;
}

static int check_rules(json_t *section, const char *sname, const char *key, rule_check_fn valid,
		       const char *shape, struct err *e)
{
	json_t *arr = json_object_get(section, key), *v;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return err_set(e, ERR_INPUT, "%s.%s: expected an array of strings", sname, key);
	if (json_array_size(arr) > MAX_RULES)
		return err_set(e, ERR_INPUT, "%s.%s: more than %d rules", sname, key, MAX_RULES);
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (!s || strlen(s) > MAX_RULE_LEN || !valid(s))
			return err_set(e, ERR_INPUT, "%s.%s[%zu]: '%.100s' is not %s", sname, key, i,
				       s ? s : "(not a string)", shape);
	}
	return 0;
}

static int validate(json_t *root, struct err *e)
{
	static const char *const top_keys[] = {"exec", "net", "files", NULL};
	static const char *const exec_keys[] = {"allow", "drift", NULL};
	static const char *const net_keys[] = {"listen", "connect", NULL};
	static const char *const files_keys[] = {"write", NULL};
	json_t *exec, *net, *files, *drift;

	if (!json_is_object(root))
		return err_set(e, ERR_INPUT, "a policy is a JSON object with exec, net and files sections");
	if (!only_keys(root, top_keys, "policy", e))
		return -1;
	exec = json_object_get(root, "exec");
	net = json_object_get(root, "net");
	files = json_object_get(root, "files");
	if (exec) {
		if (!json_is_object(exec) || !only_keys(exec, exec_keys, "exec", e))
			return e->msg[0] ? -1 : err_set(e, ERR_INPUT, "exec: expected an object");
		if (check_rules(exec, "exec", "allow", exec_rule_valid,
				"an absolute program path (optionally PATH[applet])", e) < 0)
			return -1;
		drift = json_object_get(exec, "drift");
		if (drift && (!json_is_string(drift) || (strcmp(json_string_value(drift), "alert") != 0 &&
							   strcmp(json_string_value(drift), "block") != 0)))
			return err_set(e, ERR_INPUT, "exec.drift: expected \"alert\" or \"block\"");
	}
	if (net) {
		if (!json_is_object(net) || !only_keys(net, net_keys, "net", e))
			return e->msg[0] ? -1 : err_set(e, ERR_INPUT, "net: expected an object");
		if (check_rules(net, "net", "listen", listen_rule_valid, "PROTO:PORT (tcp:8080)", e) < 0 ||
		    check_rules(net, "net", "connect", connect_rule_valid,
				"ADDRESS[/BITS]:PORT (10.0.0.0/8:5432)", e) < 0)
			return -1;
	}
	if (files) {
		if (!json_is_object(files) || !only_keys(files, files_keys, "files", e))
			return e->msg[0] ? -1 : err_set(e, ERR_INPUT, "files: expected an object");
		if (check_rules(files, "files", "write", absolute_path_valid,
				"an absolute path prefix (/var/log/app/)", e) < 0)
			return -1;
	}
	return 0;
}

int rw_policy_parse(const void *data, size_t len, char **ret_json, struct err *e)
{
	json_error_t je;
	json_t *root;
	char *text;

	if (len > RW_POLICY_MAX_BYTES)
		return err_set(e, ERR_INPUT, "policy larger than %u bytes", RW_POLICY_MAX_BYTES);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return err_set(e, ERR_INPUT, "not valid JSON at line %d column %d: %s", je.line,
			       je.column, je.text);
	err_clear(e);
	if (validate(root, e) < 0) {
		json_decref(root);
		return -1;
	}
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (!text)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	*ret_json = text;
	return 0;
}

int rw_policy_load(const char *path, char **ret_json, struct err *e)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd, rc = -1;

	buf_init(&b, RW_POLICY_MAX_BYTES);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_INPUT, "policy %s", path);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			err_set(e, ERR_INPUT, "policy %s: larger than %u bytes", path, RW_POLICY_MAX_BYTES);
			goto out;
		}
	}
	if (n < 0) {
		err_sys(e, ERR_OPERATIONAL, "read policy %s", path);
		goto out;
	}
	if (rw_policy_parse(b.data ? b.data : "", b.len, ret_json, e) < 0) {
		err_prefix(e, "policy %s", path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	buf_free(&b);
	return rc;
}
