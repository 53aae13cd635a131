/* config.h - what `inlay serve` is told: where it listens, which upstream
 * registries it mirrors, where it keeps what it made, and per repository
 * what it does (DESIGN.md section 9).
 *
 * One configuration comes from a JSON file (--config) and/or from flags;
 * flags given with a file override its top-level values. Everything is
 * checked here, once, before the server starts: a bad value is ERR_INPUT
 * naming the key. The structure owns all its strings.
 *
 * The JSON form:
 *   {"listen": "127.0.0.1:5050",
 *    "store": "oci:/var/lib/inlay/store",
 *    "upstreams": {"docker.io": {"url": "https://registry-1.docker.io"},
 *                  "local": {"url": "http://127.0.0.1:5000"}},
 *    "default_upstream": "docker.io",
 *    "public_host": "mirror.example.com",
 *    "tag_ttl": 300,
 *    "require_instrumented": false,
 *    "htpasswd": "/etc/inlay/htpasswd",
 *    "tls": {"cert": "server.pem", "key": "server.key"},
 *    "limits": {"connections": 256, "idle_seconds": 60, "header_bytes": 32768},
 *    "rules": [{"match": "docker.io/library/busy*", "action": "instrument",
 *               "mode": "enforce", "policy": "policy.json", "key": "cosign.key",
 *               "inventory": false},
 *              {"match": "local/vendor-**", "action": "passthrough"}],
 *    "admission": {"enabled": true, "timeout_seconds": 5, "check_key": "cosign.pub",
 *                  "tag_suffix": "-inlay",
 *                  "registry_map": {"docker.io": "registry.example.com/mirror"}},
 *    "sync": {"jobs": 4, "tag_suffix": "", "delete": false, "interval_seconds": 3600,
 *             "repositories": [{"from": "docker.io/library/nginx",
 *                               "to": "registry.example.com/hub/nginx",
 *                               "tags": "^1\\.2[0-9]", "exclude": "alpine"}]}}
 * A rule's match is a glob over "UPSTREAM/REPOSITORY": '*' matches within
 * one path component, '**' across components; the first rule that matches
 * wins, and a repository no rule matches is instrumented with the
 * defaults (the top-level "mode", "policy", "key", "inventory").
 *
 * "admission" turns on the Kubernetes admission webhooks (DESIGN.md
 * section 11), which instrument with the defaults; with it, upstreams and
 * a store are optional (a webhook alone). "sync" is what `inlay sync` and
 * `inlay serve --sync-interval` instrument ahead of time (mirror/sync.h). */
#ifndef INLAY_MR_CONFIG_H
#define INLAY_MR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "../layers/sign.h"
#include "../manifest/err.h"

#define MR_MAX_UPSTREAMS 32
#define MR_MAX_RULES 256
#define MR_UPSTREAM_NAME_MAX 64
#define MR_MAX_MAPS 64

struct mr_upstream {
	char *name;      /* what clients say: "docker.io" (?ns=) or a path prefix */
	char *host;      /* host[:port] for references: "registry-1.docker.io" */
	bool plain_http; /* the url said http:// */
	bool docker_hub; /* one-component names gain "library/" */
};

enum mr_action { MR_INSTRUMENT, MR_PASSTHROUGH };

/* How one repository is served: the instrument options that matter. */
struct mr_rule {
	char *match;         /* glob over "UPSTREAM/REPOSITORY"; NULL for the defaults */
	enum mr_action action;
	char *mode;          /* "monitor", "learn", "enforce" */
	char *policy_json;   /* the validated policy document, or NULL */
	struct ly_key *key;  /* signs sensor layer and results, or NULL */
	bool inventory;
};

/* The admission webhooks: /admission/mutate and /admission/validate. */
struct mr_admission {
	bool enabled;
	unsigned timeout_seconds; /* an answer within this (the API server waits 10 s) */
	char *check_key;          /* public key validate checks with; NULL: the defaults' key */
	char *tag_suffix;         /* results are tagged <tag><suffix>; NULL: "-inlay" */
	struct {
		char *from, *to;
	} maps[MR_MAX_MAPS];      /* results of images from `from` go to `to` */
	size_t n_maps;
};

/* `inlay sync` (and `inlay serve --sync-interval`): what is synced. */
#define MR_MAX_SYNC 256
struct mr_sync_repo {
	char *from;          /* "REG/REPO", or "REG" / "REG/PREFIX/": its catalog */
	char *to;            /* "REG/REPO" or "oci:DIR"; for a catalog, the prefix */
	char *tags, *exclude; /* POSIX extended regexes over the tag, or NULL */
};
struct mr_sync {
	struct mr_sync_repo repos[MR_MAX_SYNC];
	size_t n_repos;
	unsigned jobs;          /* tags at once (default 4) */
	char *tag_suffix;       /* destination tag = source tag + this; NULL: "" (in place: "-inlay") */
	bool delete_gone;       /* delete destination tags whose source tag is gone */
	unsigned interval_seconds; /* serve --sync-interval; 0: never */
};

struct mr_config {
	char *listen;  /* "HOST:PORT" ("[::1]:5050" for IPv6) */
	char *store;   /* "oci:DIR" */
	struct mr_upstream upstreams[MR_MAX_UPSTREAMS];
	size_t n_upstreams;
	char *default_upstream; /* name of the upstream for names no other picks, or NULL */
	struct mr_rule rules[MR_MAX_RULES];
	size_t n_rules;
	struct mr_rule defaults;
	long tag_ttl;               /* seconds an upstream tag's digest is trusted */
	bool require_instrumented;  /* refuse upstream digests by digest */
	char *htpasswd;             /* Basic auth users (bcrypt), or NULL: open */
	char *tls_cert, *tls_key;   /* PEM files, or NULL: plain HTTP */
	unsigned connections;       /* connections at once */
	unsigned idle_seconds;      /* a connection silent this long is closed */
	size_t header_bytes;        /* request line + headers, at most */
	unsigned shutdown_seconds;  /* SIGTERM: in-flight requests get this long */
	char *access_log;           /* file for the JSON lines, or NULL: stderr */
	/* How clients reach the mirror ("mirror.example.com"); signatures
	 * name PUBLIC_HOST/NAME. Default: the listen address. */
	char *public_host;
	struct mr_admission admission;
	struct mr_sync sync;
};

void mr_config_init(struct mr_config *c);
void mr_config_free(struct mr_config *c);

/* Replace the string *dst with a copy of v. */
int mr_config_set(char **dst, const char *v, struct err *e);


/* Read a configuration file into c (over what c already holds): JSON, or
 * the same in YAML (config_yaml.h). */
int mr_config_load(struct mr_config *c, const char *path, struct err *e);

/* Parse the same from memory (JSON when it starts with '{', else YAML);
 * `what` names it in errors. */
int mr_config_parse(struct mr_config *c, const char *json, size_t len, const char *what,
		    struct err *e);

/* --upstream NAME=URL: add (or replace) one upstream. */
int mr_config_add_upstream(struct mr_config *c, const char *spec, struct err *e);

/* --registry-map SRC=DST for the admission webhooks. */
int mr_config_add_map(struct mr_config *c, const char *spec, struct err *e);

/* Add one repository (or catalog) to sync; tags and exclude may be NULL.
 * The regexes are checked here. */
int mr_config_add_sync(struct mr_config *c, const char *from, const char *to, const char *tags,
		       const char *exclude, struct err *e);

/* The checks of mr_config_finish that `inlay sync` needs: something to
 * sync, the default mode. No store, upstream or listen address. */
int mr_config_finish_sync(struct mr_config *c, struct err *e);

/* Checks that need the whole configuration (a store and at least one
 * upstream unless the admission webhooks are all that is served, the
 * default upstream known, TLS cert and key both or neither). */
int mr_config_finish(struct mr_config *c, struct err *e);

/* The upstream named `name`, or NULL. */
const struct mr_upstream *mr_config_upstream(const struct mr_config *c, const char *name);

/* The rule for "UPSTREAM/REPOSITORY": the first that matches, else the
 * defaults. Never NULL. */
const struct mr_rule *mr_config_rule(const struct mr_config *c, const char *upstream,
				     const char *repository);

/* The instrument options rule r gives (its values, else the defaults'):
 * mode, policy, signer, inventory; compression follows the base. The other
 * fields of io are left as they are. */
struct rw_instrument_options;
void mr_config_instrument_options(const struct mr_config *c, const struct mr_rule *r,
				  struct rw_instrument_options *io);

/* Glob match of the rules: '*' within a component, '**' across. */
bool mr_glob_match(const char *pattern, const char *s);

#endif
