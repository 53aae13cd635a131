/* config.c - see config.h. */
#include "config.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/buf.h"
#include "../manifest/ref.h"
#include "../rewriter/instrument.h"
#include "../rewriter/policy.h"
#include "../rewriter/signature.h"
#include "config_yaml.h"

#define CONFIG_FILE_MAX (1u << 20)

void mr_config_init(struct mr_config *c)
{
	memset(c, 0, sizeof(*c));
	c->tag_ttl = 300;
	c->connections = 256;
	c->idle_seconds = 60;
	c->header_bytes = 32 * 1024;
	c->shutdown_seconds = 30;
	c->defaults.action = MR_INSTRUMENT;
	c->admission.timeout_seconds = 5;
	c->sync.jobs = 4;
}

static void rule_clear(struct mr_rule *r)
{
	free(r->match);
	free(r->mode);
	free(r->policy_json);
	ly_key_free(r->key);
	memset(r, 0, sizeof(*r));
}

static void upstream_clear(struct mr_upstream *u)
{
	free(u->name);
	free(u->host);
	memset(u, 0, sizeof(*u));
}

void mr_config_free(struct mr_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_upstreams; i++)
		upstream_clear(&c->upstreams[i]);
	for (i = 0; i < c->n_rules; i++)
		rule_clear(&c->rules[i]);
	rule_clear(&c->defaults);
	free(c->listen);
	free(c->store);
	free(c->default_upstream);
	free(c->htpasswd);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->access_log);
	free(c->public_host);
	free(c->admission.check_key);
	free(c->admission.tag_suffix);
	for (i = 0; i < c->admission.n_maps; i++) {
		free(c->admission.maps[i].from);
		free(c->admission.maps[i].to);
	}
	for (i = 0; i < c->sync.n_repos; i++) {
		free(c->sync.repos[i].from);
		free(c->sync.repos[i].to);
		free(c->sync.repos[i].tags);
		free(c->sync.repos[i].exclude);
	}
	free(c->sync.tag_suffix);
	memset(c, 0, sizeof(*c));
}

int mr_config_set(char **dst, const char *v, struct err *e)
{
	char *s = strdup(v);

	if (!s)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

static bool name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > MR_UPSTREAM_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-' || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

/* url := ("http" | "https") "://" host[:port] ["/"] */
static int upstream_set(struct mr_config *c, const char *name, const char *url, struct err *e)
{
	struct mr_upstream u = {0}, *slot = NULL;
	const char *rest;
	size_t i, n;

	if (!name_ok(name))
		return err_set(e, ERR_INPUT,
			       "upstream name '%.80s' is invalid (lowercase letters, digits, '.', "
			       "'-', '_', ':'; at most %d characters)",
			       name, MR_UPSTREAM_NAME_MAX);
	if (strncmp(url, "https://", 8) == 0) {
		rest = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		rest = url + 7;
		u.plain_http = true;
	} else {
		return err_set(e, ERR_INPUT, "upstream %s: url '%.200s' must start with https:// or "
					     "http://",
			       name, url);
	}
	n = strcspn(rest, "/");
	if (n == 0 || n > 253 || (rest[n] && strcmp(rest + n, "/") != 0))
		return err_set(e, ERR_INPUT,
			       "upstream %s: url '%.200s' must be scheme://host[:port], with no path",
			       name, url);
	u.name = strdup(name);
	u.host = strndup(rest, n);
	if (!u.name || !u.host) {
		upstream_clear(&u);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	u.docker_hub = strcmp(u.host, "registry-1.docker.io") == 0 ||
		       strcmp(u.host, "index.docker.io") == 0 || strcmp(u.host, "docker.io") == 0;
	for (i = 0; i < c->n_upstreams; i++)
		if (strcmp(c->upstreams[i].name, name) == 0)
			slot = &c->upstreams[i];
	if (!slot) {
		if (c->n_upstreams >= MR_MAX_UPSTREAMS) {
			upstream_clear(&u);
			return err_set(e, ERR_INPUT, "more than %d upstreams", MR_MAX_UPSTREAMS);
		}
		slot = &c->upstreams[c->n_upstreams++];
	} else {
		upstream_clear(slot);
	}
	*slot = u;
	return 0;
}

int mr_config_add_upstream(struct mr_config *c, const char *spec, struct err *e)
{
	const char *eq = strchr(spec, '=');
	char *name;
	int rc;

	if (!eq)
		return err_set(e, ERR_INPUT, "--upstream '%.200s': expected NAME=URL", spec);
	name = strndup(spec, (size_t)(eq - spec));
	if (!name)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	rc = upstream_set(c, name, eq + 1, e);
	free(name);
	return rc;
}

static const char *const rule_keys[] = {"match", "action", "mode", "policy", "key", "inventory", NULL};

static bool key_known(const char *key, const char *const *known)
{
	for (; *known; known++)
		if (strcmp(key, *known) == 0)
			return true;
	return false;
}

static int unknown_keys(json_t *o, const char *const *known, const char *where, struct err *e)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		(void)v;
		if (!key_known(key, known))
			return err_set(e, ERR_INPUT, "%s: unknown key \"%.80s\"", where, key);
	}
	return 0;
}

/* The instrument options of a rule or of the top level. */
static int rule_options(json_t *o, struct mr_rule *r, const char *where, struct err *e)
{
	json_t *v;

	if ((v = json_object_get(o, "action"))) {
		const char *a = json_string_value(v);

		if (a && strcmp(a, "instrument") == 0)
			r->action = MR_INSTRUMENT;
		else if (a && strcmp(a, "passthrough") == 0)
			r->action = MR_PASSTHROUGH;
		else
			return err_set(e, ERR_INPUT, "%s: \"action\" is \"instrument\" or \"passthrough\"",
				       where);
	}
	if ((v = json_object_get(o, "mode"))) {
		const char *m = json_string_value(v);

		if (!m || (strcmp(m, "monitor") != 0 && strcmp(m, "learn") != 0 &&
			   strcmp(m, "enforce") != 0))
			return err_set(e, ERR_INPUT, "%s: \"mode\" is monitor, learn or enforce", where);
		if (mr_config_set(&r->mode, m, e) < 0)
			return -1;
	}
	if ((v = json_object_get(o, "policy"))) {
		char *policy = NULL;

		if (!json_is_string(v))
			return err_set(e, ERR_INPUT, "%s: \"policy\" is a file name", where);
		if (rw_policy_load(json_string_value(v), &policy, e) < 0)
			return err_prefix(e, "%s", where);
		free(r->policy_json);
		r->policy_json = policy;
	}
	if ((v = json_object_get(o, "key"))) {
		struct ly_key *k = NULL;

		if (!json_is_string(v))
			return err_set(e, ERR_INPUT, "%s: \"key\" is a private key file", where);
		if (rw_key_load(json_string_value(v), &k, e) < 0)
			return err_prefix(e, "%s", where);
		ly_key_free(r->key);
		r->key = k;
	}
	if ((v = json_object_get(o, "inventory"))) {
		if (!json_is_boolean(v))
			return err_set(e, ERR_INPUT, "%s: \"inventory\" is true or false", where);
		r->inventory = json_is_true(v);
	}
	return 0;
}

static int get_uint(json_t *o, const char *key, long min, long max, const char *where, long *ret,
		    struct err *e)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return err_set(e, ERR_INPUT, "%s: \"%s\" must be an integer from %ld to %ld", where,
			       key, min, max);
	*ret = (long)json_integer_value(v);
	return 0;
}

static int get_string(json_t *o, const char *key, char **dst, const char *where, struct err *e)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 4096)
		return err_set(e, ERR_INPUT, "%s: \"%s\" must be a non-empty string", where, key);
	return mr_config_set(dst, json_string_value(v), e);
}

static const char *const top_keys[] = {
    "listen", "store", "upstreams", "default_upstream", "tag_ttl", "require_instrumented",
    "htpasswd", "tls", "limits", "rules", "mode", "policy", "key", "inventory", "access_log",
    "public_host", "admission", "sync", NULL};

static int parse_upstreams(struct mr_config *c, json_t *ups, const char *what, struct err *e)
{
	const char *name;
	json_t *u;

	if (!json_is_object(ups))
		return err_set(e, ERR_INPUT, "%s: \"upstreams\" must be an object of NAME: {\"url\": ...}",
			       what);
	json_object_foreach(ups, name, u)
	{
		static const char *const keys[] = {"url", NULL};
		const char *url = json_string_value(json_object_get(u, "url"));

		if (!json_is_object(u) || !url)
			return err_set(e, ERR_INPUT, "%s: upstream \"%.80s\" needs a \"url\"", what, name);
		if (unknown_keys(u, keys, "upstream", e) < 0 || upstream_set(c, name, url, e) < 0)
			return err_prefix(e, "%s", what);
	}
	return 0;
}

static int map_set(struct mr_config *c, const char *from, const char *to, struct err *e)
{
	struct mr_admission *a = &c->admission;

	if (!*from || !*to || strchr(from, '=') || strchr(to, '=') || strlen(from) > 256 ||
	    strlen(to) > 256)
		return err_set(e, ERR_INPUT, "registry map '%.100s=%.100s': expected SRC=DST", from, to);
	if (a->n_maps >= MR_MAX_MAPS)
		return err_set(e, ERR_INPUT, "more than %d registry maps", MR_MAX_MAPS);
	a->maps[a->n_maps].from = strdup(from);
	a->maps[a->n_maps].to = strdup(to);
	a->n_maps++;
	if (!a->maps[a->n_maps - 1].from || !a->maps[a->n_maps - 1].to)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	return 0;
}

int mr_config_add_map(struct mr_config *c, const char *spec, struct err *e)
{
	const char *eq = strchr(spec, '=');
	char *from;
	int rc;

	if (!eq)
		return err_set(e, ERR_INPUT, "--registry-map '%.200s': expected SRC=DST", spec);
	from = strndup(spec, (size_t)(eq - spec));
	if (!from)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	rc = map_set(c, from, eq + 1, e);
	free(from);
	return rc;
}

static int parse_admission(struct mr_config *c, json_t *v, const char *what, struct err *e)
{
	static const char *const keys[] = {"enabled",	 "timeout_seconds", "check_key",
					   "tag_suffix", "registry_map",    NULL};
	struct mr_admission *a = &c->admission;
	long timeout = a->timeout_seconds;
	json_t *enabled, *maps, *to;
	const char *from;

	if (!json_is_object(v))
		return err_set(e, ERR_INPUT, "%s: \"admission\" must be an object", what);
	if (unknown_keys(v, keys, what, e) < 0 ||
	    get_uint(v, "timeout_seconds", 1, 29, what, &timeout, e) < 0 ||
	    get_string(v, "check_key", &a->check_key, what, e) < 0 ||
	    get_string(v, "tag_suffix", &a->tag_suffix, what, e) < 0)
		return -1;
	a->timeout_seconds = (unsigned)timeout;
	if ((enabled = json_object_get(v, "enabled"))) {
		if (!json_is_boolean(enabled))
			return err_set(e, ERR_INPUT, "%s: admission \"enabled\" is true or false", what);
		a->enabled = json_is_true(enabled);
	}
	if ((maps = json_object_get(v, "registry_map"))) {
		if (!json_is_object(maps))
			return err_set(e, ERR_INPUT, "%s: admission \"registry_map\" is {\"SRC\": \"DST\"}",
				       what);
		json_object_foreach(maps, from, to)
		{
			if (!json_is_string(to))
				return err_set(e, ERR_INPUT, "%s: admission registry_map \"%.80s\" must "
							     "be a string", what, from);
			if (map_set(c, from, json_string_value(to), e) < 0)
				return err_prefix(e, "%s", what);
		}
	}
	return 0;
}

static int regex_check(const char *re, const char *what, struct err *e)
{
	regex_t r;
	char msg[160];
	int rc;

	if (strlen(re) > 1024)
		return err_set(e, ERR_INPUT, "%s: the regex is longer than 1024 bytes", what);
	rc = regcomp(&r, re, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &r, msg, sizeof(msg));
		return err_set(e, ERR_INPUT, "%s: '%.200s' is not a regular expression: %s", what, re,
			       msg);
	}
	regfree(&r);
	return 0;
}

/* A sync names repositories: "REG/REPO" or "oci:DIR" without a tag or
 * digest ("REG" and "REG/PREFIX/", catalogs and prefixes, have none). */
static int repository_only(const char *s, struct err *e)
{
	struct mf_ref *r = NULL;
	bool tagged;

	if (strncmp(s, "oci:", 4) == 0)
		tagged = strchr(s + 4, ':') || strchr(s + 4, '@');
	else if (!strchr(s, '/') || s[strlen(s) - 1] == '/')
		return 0;
	else if (mf_ref_parse(s, &r, e) < 0)
		return err_prefix(e, "sync");
	else
		tagged = r->tag || r->digest;
	mf_ref_free(r);
	if (tagged)
		return err_set(e, ERR_INPUT, "sync '%.200s': name a repository, without a tag or "
					     "digest (choose tags with --tags)", s);
	return 0;
}

int mr_config_add_sync(struct mr_config *c, const char *from, const char *to, const char *tags,
		       const char *exclude, struct err *e)
{
	struct mr_sync_repo *r;

	if (c->sync.n_repos >= MR_MAX_SYNC)
		return err_set(e, ERR_INPUT, "more than %d repositories to sync", MR_MAX_SYNC);
	if (!*from || !*to || strlen(from) > 512 || strlen(to) > 512)
		return err_set(e, ERR_INPUT, "sync '%.100s' to '%.100s': both must be given (at most "
					     "512 bytes)", from, to);
	if ((tags && regex_check(tags, "--tags", e) < 0) ||
	    (exclude && regex_check(exclude, "--exclude", e) < 0) ||
	    repository_only(from, e) < 0 || repository_only(to, e) < 0)
		return -1;
	r = &c->sync.repos[c->sync.n_repos++];
	memset(r, 0, sizeof(*r));
	if (mr_config_set(&r->from, from, e) < 0 || mr_config_set(&r->to, to, e) < 0 ||
	    (tags && mr_config_set(&r->tags, tags, e) < 0) ||
	    (exclude && mr_config_set(&r->exclude, exclude, e) < 0))
		return -1;
	return 0;
}

static int parse_sync(struct mr_config *c, json_t *v, const char *what, struct err *e)
{
	static const char *const keys[] = {"jobs",	   "tag_suffix",     "delete",
					   "interval_seconds", "repositories", NULL};
	static const char *const repo_keys[] = {"from", "to", "tags", "exclude", NULL};
	long jobs = c->sync.jobs, interval = c->sync.interval_seconds;
	json_t *del, *repos, *r;
	size_t i;

	if (!json_is_object(v))
		return err_set(e, ERR_INPUT, "%s: \"sync\" must be an object", what);
	if (unknown_keys(v, keys, what, e) < 0 || get_uint(v, "jobs", 1, 64, what, &jobs, e) < 0 ||
	    get_uint(v, "interval_seconds", 0, 30L * 24 * 3600, what, &interval, e) < 0 ||
	    get_string(v, "tag_suffix", &c->sync.tag_suffix, what, e) < 0)
		return -1;
	c->sync.jobs = (unsigned)jobs;
	c->sync.interval_seconds = (unsigned)interval;
	if ((del = json_object_get(v, "delete"))) {
		if (!json_is_boolean(del))
			return err_set(e, ERR_INPUT, "%s: sync \"delete\" is true or false", what);
		c->sync.delete_gone = json_is_true(del);
	}
	repos = json_object_get(v, "repositories");
	if (repos && !json_is_array(repos))
		return err_set(e, ERR_INPUT, "%s: sync \"repositories\" must be an array", what);
	json_array_foreach(repos, i, r)
	{
		char where[96];
		const char *from = json_string_value(json_object_get(r, "from"));
		const char *to = json_string_value(json_object_get(r, "to"));
		json_t *tags = json_object_get(r, "tags"), *exclude = json_object_get(r, "exclude");

		snprintf(where, sizeof(where), "%s: sync repositories[%zu]", what, i);
		if (!json_is_object(r) || !from || !to)
			return err_set(e, ERR_INPUT, "%s: needs \"from\" and \"to\"", where);
		if (unknown_keys(r, repo_keys, where, e) < 0)
			return -1;
		if ((tags && !json_is_string(tags)) || (exclude && !json_is_string(exclude)))
			return err_set(e, ERR_INPUT, "%s: \"tags\" and \"exclude\" are regexes (strings)",
				       where);
		if (mr_config_add_sync(c, from, to, json_string_value(tags),
				       json_string_value(exclude), e) < 0)
			return err_prefix(e, "%s", where);
	}
	return 0;
}

static int parse_rules(struct mr_config *c, json_t *rules, const char *what, struct err *e)
{
	size_t i;
	json_t *r;

	if (!json_is_array(rules))
		return err_set(e, ERR_INPUT, "%s: \"rules\" must be an array", what);
	if (json_array_size(rules) > MR_MAX_RULES)
		return err_set(e, ERR_INPUT, "%s: more than %d rules", what, MR_MAX_RULES);
	json_array_foreach(rules, i, r)
	{
		char where[96];
		struct mr_rule *rule;
		const char *match = json_string_value(json_object_get(r, "match"));

		snprintf(where, sizeof(where), "%s: rules[%zu]", what, i);
		if (!json_is_object(r) || !match || !*match || strlen(match) > 512)
			return err_set(e, ERR_INPUT, "%s: needs \"match\": \"UPSTREAM/REPOSITORY-GLOB\"",
				       where);
		if (unknown_keys(r, rule_keys, where, e) < 0)
			return -1;
		rule = &c->rules[c->n_rules];
		memset(rule, 0, sizeof(*rule));
		rule->action = MR_INSTRUMENT;
		c->n_rules++;
		if (mr_config_set(&rule->match, match, e) < 0 || rule_options(r, rule, where, e) < 0)
			return -1;
	}
	return 0;
}

int mr_config_parse(struct mr_config *c, const char *json, size_t len, const char *what,
		    struct err *e)
{
	json_error_t je;
	json_t *root, *v;
	size_t skip = 0;
	long n;
	int rc = -1;

	/* JSON when it looks like JSON (its errors are the clearer), else YAML. */
	while (skip < len && strchr(" \t\r\n", json[skip]) && json[skip])
		skip++;
	if (skip < len && json[skip] == '{') {
		root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
		if (!root)
			return err_set(e, ERR_INPUT, "%s: line %d: %s", what, je.line, je.text);
	} else if (mr_yaml_to_json(json, len, what, &root, e) < 0) {
		return -1;
	}
	if (!json_is_object(root)) {
		err_set(e, ERR_INPUT, "%s: must be a JSON object", what);
		goto out;
	}
	if (unknown_keys(root, top_keys, what, e) < 0 ||
	    get_string(root, "listen", &c->listen, what, e) < 0 ||
	    get_string(root, "store", &c->store, what, e) < 0 ||
	    get_string(root, "default_upstream", &c->default_upstream, what, e) < 0 ||
	    get_string(root, "htpasswd", &c->htpasswd, what, e) < 0 ||
	    get_string(root, "access_log", &c->access_log, what, e) < 0 ||
	    get_string(root, "public_host", &c->public_host, what, e) < 0 ||
	    rule_options(root, &c->defaults, what, e) < 0)
		goto out;
	if (json_object_get(root, "action")) {
		err_set(e, ERR_INPUT, "%s: \"action\" belongs in a rule", what);
		goto out;
	}
	if ((v = json_object_get(root, "upstreams")) && parse_upstreams(c, v, what, e) < 0)
		goto out;
	if ((v = json_object_get(root, "rules")) && parse_rules(c, v, what, e) < 0)
		goto out;
	if ((v = json_object_get(root, "admission")) && parse_admission(c, v, what, e) < 0)
		goto out;
	if ((v = json_object_get(root, "sync")) && parse_sync(c, v, what, e) < 0)
		goto out;
	n = c->tag_ttl;
	if (get_uint(root, "tag_ttl", 0, 7L * 24 * 3600, what, &n, e) < 0)
		goto out;
	c->tag_ttl = n;
	if ((v = json_object_get(root, "require_instrumented"))) {
		if (!json_is_boolean(v)) {
			err_set(e, ERR_INPUT, "%s: \"require_instrumented\" is true or false", what);
			goto out;
		}
		c->require_instrumented = json_is_true(v);
	}
	if ((v = json_object_get(root, "tls"))) {
		static const char *const keys[] = {"cert", "key", NULL};

		if (!json_is_object(v) || unknown_keys(v, keys, what, e) < 0 ||
		    get_string(v, "cert", &c->tls_cert, what, e) < 0 ||
		    get_string(v, "key", &c->tls_key, what, e) < 0) {
			if (!e->msg[0])
				err_set(e, ERR_INPUT, "%s: \"tls\" is {\"cert\": FILE, \"key\": FILE}", what);
			goto out;
		}
	}
	if ((v = json_object_get(root, "limits"))) {
		static const char *const keys[] = {"connections", "idle_seconds", "header_bytes",
						   "shutdown_seconds", NULL};
		long conn = c->connections, idle = c->idle_seconds, hdr = (long)c->header_bytes,
		     shut = c->shutdown_seconds;

		if (!json_is_object(v)) {
			err_set(e, ERR_INPUT, "%s: \"limits\" must be an object", what);
			goto out;
		}
		if (unknown_keys(v, keys, what, e) < 0 ||
		    get_uint(v, "connections", 1, 10000, what, &conn, e) < 0 ||
		    get_uint(v, "idle_seconds", 1, 3600, what, &idle, e) < 0 ||
		    get_uint(v, "header_bytes", 4096, 1 << 20, what, &hdr, e) < 0 ||
		    get_uint(v, "shutdown_seconds", 0, 3600, what, &shut, e) < 0)
			goto out;
		c->connections = (unsigned)conn;
		c->idle_seconds = (unsigned)idle;
		c->header_bytes = (size_t)hdr;
		c->shutdown_seconds = (unsigned)shut;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int mr_config_load(struct mr_config *c, const char *path, struct err *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (buf_read_file(path, CONFIG_FILE_MAX, &text, &len, e) < 0)
		return err_prefix(e, "config");
	rc = mr_config_parse(c, text, len, path, e);
	free(text);
	return rc;
}

/* The store: oci:DIR (an OCI layout, one node) or REGISTRY/REPOSITORY (a
 * registry the replicas share), never a tag or digest: the mirror stores
 * by digest, and names only the signatures' tags. */
static int store_check(const char *store, struct err *e)
{
	struct mf_ref *r = NULL;
	bool tagged;

	if (strncmp(store, "oci:", 4) == 0)
		return store[4] ? 0
				: err_set(e, ERR_INPUT, "store 'oci:': give the layout's directory");
	if (mf_ref_parse(store, &r, e) < 0)
		return err_prefix(e, "store '%.200s': expected oci:DIR or REGISTRY/REPOSITORY",
				  store);
	tagged = r->tag || r->digest;
	mf_ref_free(r);
	if (tagged)
		return err_set(e, ERR_INPUT,
			       "store '%.200s': a repository, without a tag or digest (the mirror "
			       "stores by digest)",
			       store);
	return 0;
}

int mr_config_finish(struct mr_config *c, struct err *e)
{
	/* Only the webhooks: no registry is mirrored. */
	bool webhooks_only = c->admission.enabled && c->n_upstreams == 0 && !c->store;

	if (!c->store && !webhooks_only)
		return err_set(e, ERR_INPUT,
			       "no store: give --store oci:DIR (or \"store\" in the config)");
	if (c->store && store_check(c->store, e) < 0)
		return -1;
	if (c->n_upstreams == 0 && !webhooks_only)
		return err_set(e, ERR_INPUT, "no upstream: give --upstream NAME=URL (or \"upstreams\")");
	if (c->default_upstream && !mr_config_upstream(c, c->default_upstream))
		return err_set(e, ERR_INPUT, "default upstream '%.80s' is not among the upstreams",
			       c->default_upstream);
	if (!c->default_upstream && c->n_upstreams == 1 &&
	    mr_config_set(&c->default_upstream, c->upstreams[0].name, e) < 0)
		return -1;
	if (!!c->tls_cert != !!c->tls_key)
		return err_set(e, ERR_INPUT, "TLS needs both a certificate and a key");
	if (!c->listen && mr_config_set(&c->listen, "127.0.0.1:5050", e) < 0)
		return -1;
	if (!c->public_host && mr_config_set(&c->public_host, c->listen, e) < 0)
		return -1;
	if (!c->defaults.mode && mr_config_set(&c->defaults.mode, "monitor", e) < 0)
		return -1;
	return 0;
}

int mr_config_finish_sync(struct mr_config *c, struct err *e)
{
	if (c->sync.n_repos == 0)
		return err_set(e, ERR_INPUT, "nothing to sync: give SRC DST (or \"sync\": "
					     "{\"repositories\": [...]} in the config)");
	if (!c->defaults.mode && mr_config_set(&c->defaults.mode, "monitor", e) < 0)
		return -1;
	return 0;
}

const struct mr_upstream *mr_config_upstream(const struct mr_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_upstreams; i++)
		if (strcmp(c->upstreams[i].name, name) == 0)
			return &c->upstreams[i];
	return NULL;
}

bool mr_glob_match(const char *p, const char *s)
{
	/* Over the pattern's tokens, which prefixes of s the pattern so far
	 * matches: time |pattern| x |s|, where trying each way to place the
	 * stars (the obvious recursion) is exponential in their number, and a
	 * client names s. */
	size_t n = strlen(s), j;
	bool *cur = calloc(n + 1, 1), *next = calloc(n + 1, 1), *tmp, any, matched;

	if (!cur || !next) {
		free(cur);
		free(next);
		return false;
	}
	cur[0] = true;
	while (*p) {
		if (p[0] == '*') {
			bool across = p[1] == '*';

			p += across ? 2 : 1;
			next[0] = cur[0];
			for (j = 1; j <= n; j++)
				next[j] = cur[j] || (next[j - 1] && (across || s[j - 1] != '/'));
		} else {
			next[0] = false;
			for (j = 1; j <= n; j++)
				next[j] = cur[j - 1] && s[j - 1] == *p;
			p++;
		}
		tmp = cur;
		cur = next;
		next = tmp;
		for (any = false, j = 0; j <= n && !any; j++)
			any = cur[j];
		if (!any)
			break;
	}
	matched = cur[n];
	free(cur);
	free(next);
	return matched;
}

const struct mr_rule *mr_config_rule(const struct mr_config *c, const char *upstream,
				     const char *repository)
{
	char full[MR_UPSTREAM_NAME_MAX + 2 + 256];
	size_t i;

	snprintf(full, sizeof(full), "%s/%s", upstream, repository);
	for (i = 0; i < c->n_rules; i++)
		if (mr_glob_match(c->rules[i].match, full))
			return &c->rules[i];
	return &c->defaults;
}

void mr_config_instrument_options(const struct mr_config *c, const struct mr_rule *r,
				  struct rw_instrument_options *io)
{
	io->compression = LY_COMPRESS_AUTO;
	io->mode = r->mode ? r->mode : c->defaults.mode;
	io->policy_json = r->policy_json ? r->policy_json : c->defaults.policy_json;
	io->signer = r->key ? r->key : c->defaults.key;
	io->inventory = r->inventory || c->defaults.inventory;
}
