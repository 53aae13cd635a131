/* cmd_serve.c - `inlay serve`: the instrumenting registry mirror
 * (DESIGN.md section 9). Reads the configuration, starts the server, and
 * waits for SIGTERM or SIGINT to stop it gracefully. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../deploy/admission.h"
#include "../mirror/config.h"
#include "../mirror/mirror.h"
#include "../mirror/server.h"
#include "../mirror/sync.h"
#include "../rewriter/policy.h"
#include "../rewriter/signature.h"

const char rw_serve_usage[] =
	"Usage: inlay serve [--config FILE] [options]\n"
	"\n"
	"Run a registry mirror that hands every client the instrumented image: a pull of\n"
	"MIRROR/NAME:TAG reads NAME:TAG from the upstream, instruments it (the same result as\n"
	"'inlay instrument', so every replica computes the same digest), keeps the small\n"
	"objects in the store and serves the result; base layers stream from the upstream\n"
	"to the client, verified, and are kept in the store as they pass. Read-only: GET and\n"
	"HEAD of the distribution API, /healthz and /metrics. Stops gracefully on SIGTERM.\n"
	"\n"
	"  --config FILE         JSON or YAML configuration (upstreams, rules, limits; see\n"
	"                        the man page); the options below override its values\n"
	"  --listen HOST:PORT    address to listen on (default 127.0.0.1:5050)\n"
	"  --upstream NAME=URL   an upstream registry (repeatable): clients name it with\n"
	"                        ?ns=NAME (containerd) or as the first path component\n"
	"  --default-upstream NAME  the upstream for names that pick none (default: the\n"
	"                        only one)\n"
	"  --store oci:DIR|REGISTRY/REPOSITORY  where results and blobs are kept: an OCI\n"
	"                        layout (one node, or a shared file system), or a\n"
	"                        registry repository the replicas share\n"
	"  --tag-ttl SECONDS     how long an upstream tag's digest is trusted (default 300)\n"
	"  --require-instrumented  refuse manifests by digest that are not results, and\n"
	"                        images that cannot be instrumented\n"
	"  --mode monitor|learn|enforce, --policy FILE, --key FILE, --inventory\n"
	"                        the instrument options for repositories no rule names\n"
	"  --public-host HOST[:PORT]  how clients reach the mirror; signatures name\n"
	"                        HOST/NAME (default: the listen address)\n"
	"  --htpasswd FILE       require HTTP Basic auth (bcrypt entries, htpasswd -B)\n"
	"  --tls-cert FILE, --tls-key FILE  serve HTTPS\n"
	"  --max-connections N   connections at once (default 256)\n"
	"  --access-log FILE     the JSON access log (default: standard error)\n"
	"\n"
	"Kubernetes admission webhooks (AdmissionReview v1, over HTTPS):\n"
	"  --admission           serve POST /admission/mutate (a JSON patch doing what\n"
	"                        'inlay rewrite' does) and /admission/validate (what\n"
	"                        'inlay rewrite --check' decides); with no --upstream and\n"
	"                        no --store, only these\n"
	"  --admission-timeout S answer within S seconds (default 5, at most 29): an image\n"
	"                        still being instrumented then is denied, to be retried\n"
	"  --admission-key PUB   the key validate checks signatures with (default: --key)\n"
	"  --registry-map SRC=DST, --tag-suffix S   where results go, as for rewrite\n"
	"\n"
	"  --sync-interval D     run the config's \"sync\" section (as 'inlay sync') every D\n"
	"                        (90s, 15m, 6h, 1d; or seconds), the first run at start\n"
	"\n"
	"Upstream transport options: --ca-file, --insecure, --plain-http, --creds,\n"
	"--authfile (as for copy).\n";

enum {
	OPT_CONFIG = OPT_COMMAND_BASE,
	OPT_LISTEN,
	OPT_UPSTREAM,
	OPT_DEFAULT_UPSTREAM,
	OPT_STORE,
	OPT_TAG_TTL,
	OPT_REQUIRE,
	OPT_PUBLIC_HOST,
	OPT_HTPASSWD,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_MAX_CONN,
	OPT_ACCESS_LOG,
	OPT_ADMISSION,
	OPT_ADMISSION_TIMEOUT,
	OPT_ADMISSION_KEY,
	OPT_REGISTRY_MAP,
	OPT_TAG_SUFFIX,
	OPT_SYNC_INTERVAL,
};

/* The mirror's warnings, as JSON lines in the access log (one stdio call
 * a line, as the server writes its own). */
static FILE *warn_log;

static void log_line(const char *level, const char *msg)
{
	json_t *o = json_pack("{s:s, s:s}", "level", level, "message", msg);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (text) {
		fprintf(warn_log ? warn_log : stderr, "%s\n", text);
		fflush(warn_log ? warn_log : stderr);
	}
	free(text);
}

static void warn_line(const char *msg)
{
	log_line("warning", msg);
}

static int parse_count(const char *arg, const char *what, long min, long max, long *ret,
		       struct err *e)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return rw_usage_error(e, "serve", "%s takes a number from %ld to %ld", what, min, max);
	*ret = v;
	return 0;
}

/* Apply one serve option (not the transport ones) to cfg. */
static int apply_option(struct mr_config *cfg, int opt, const char *arg, struct err *e)
{
	long n;

	switch (opt) {
	case OPT_LISTEN:
		return mr_config_set(&cfg->listen, arg, e);
	case OPT_UPSTREAM:
		return mr_config_add_upstream(cfg, arg, e);
	case OPT_DEFAULT_UPSTREAM:
		return mr_config_set(&cfg->default_upstream, arg, e);
	case OPT_STORE:
		return mr_config_set(&cfg->store, arg, e);
	case OPT_TAG_TTL:
		if (parse_count(arg, "--tag-ttl", 0, 7L * 24 * 3600, &n, e) < 0)
			return -1;
		cfg->tag_ttl = n;
		return 0;
	case OPT_REQUIRE:
		cfg->require_instrumented = true;
		return 0;
	case OPT_PUBLIC_HOST:
		return mr_config_set(&cfg->public_host, arg, e);
	case OPT_HTPASSWD:
		return mr_config_set(&cfg->htpasswd, arg, e);
	case OPT_TLS_CERT:
		return mr_config_set(&cfg->tls_cert, arg, e);
	case OPT_TLS_KEY:
		return mr_config_set(&cfg->tls_key, arg, e);
	case OPT_MAX_CONN:
		if (parse_count(arg, "--max-connections", 1, 10000, &n, e) < 0)
			return -1;
		cfg->connections = (unsigned)n;
		return 0;
	case OPT_ACCESS_LOG:
		return mr_config_set(&cfg->access_log, arg, e);
	case OPT_ADMISSION:
		cfg->admission.enabled = true;
		return 0;
	case OPT_ADMISSION_TIMEOUT:
		if (parse_count(arg, "--admission-timeout", 1, 29, &n, e) < 0)
			return -1;
		cfg->admission.timeout_seconds = (unsigned)n;
		return 0;
	case OPT_ADMISSION_KEY:
		return mr_config_set(&cfg->admission.check_key, arg, e);
	case OPT_REGISTRY_MAP:
		return mr_config_add_map(cfg, arg, e);
	case OPT_TAG_SUFFIX:
		return mr_config_set(&cfg->admission.tag_suffix, arg, e);
	case OPT_SYNC_INTERVAL: {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(arg, &end, 10);
		n = !*end ? 1 : strcmp(end, "s") == 0 ? 1 : strcmp(end, "m") == 0 ? 60
			: strcmp(end, "h") == 0 ? 3600 : strcmp(end, "d") == 0 ? 86400 : 0;
		if (errno || end == arg || n == 0 || v == 0 || v > 30UL * 86400 / (unsigned long)n)
			return rw_usage_error(e, "serve", "--sync-interval takes a duration from 1s to "
							  "30d (90s, 15m, 6h, 1d)");
		cfg->sync.interval_seconds = (unsigned)(v * (unsigned long)n);
		return 0;
	}
	}
	return rw_usage_error(e, "serve", "unknown option");
}

/* The admission webhooks: deploy/'s answers behind two of the server's
 * POST endpoints, instrumenting with the configuration's defaults. */
struct webhooks;

struct webhook_end {
	struct webhooks *w;
	bool validate;
};

struct webhooks {
	struct rw_instrument_options instrument, instrument_check;
	struct dp_resolve_options rewrite, check;
	struct dp_registry_map maps[MR_MAX_MAPS];
	struct dp_admission_options options;
	struct dp_admission *admission;
	struct ly_key *check_key; /* loaded from --admission-key */
	struct mr_post_route routes[2];
	struct webhook_end ends[2];
};

static unsigned webhook_answer(void *ctx, const char *body, size_t len, char **reply)
{
	const struct webhook_end *end = ctx;
	struct err e = {0};
	json_t *o;

	if (dp_admission_answer(end->w->admission, end->validate, body, len, reply, &e) == 0)
		return 200;
	/* Not an AdmissionReview (or no memory): the API server treats a
	 * failed call by the webhook's failurePolicy. */
	o = json_pack("{s:s}", "error", e.msg);
	*reply = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return e.cls == ERR_INPUT ? 400 : 500;
}

static int webhooks_start(struct webhooks *w, const struct mr_config *cfg,
			  const struct rg_options *transport, struct err *e)
{
	const struct mr_admission *a = &cfg->admission;
	size_t i;

	memset(w, 0, sizeof(*w));
	w->instrument.compression = LY_COMPRESS_AUTO;
	w->instrument.mode = cfg->defaults.mode;
	w->instrument.policy_json = cfg->defaults.policy_json;
	w->instrument.inventory = cfg->defaults.inventory;
	w->instrument.signer = cfg->defaults.key;
	for (i = 0; i < a->n_maps; i++) {
		w->maps[i].from = a->maps[i].from;
		w->maps[i].to = a->maps[i].to;
	}
	w->rewrite.transport = transport;
	w->rewrite.instrument = &w->instrument;
	w->rewrite.key_path = "the mirror's key";
	w->rewrite.tag_suffix = a->tag_suffix ? a->tag_suffix : "-inlay";
	w->rewrite.maps = w->maps;
	w->rewrite.n_maps = a->n_maps;
	w->rewrite.jobs = 1;
	w->rewrite.warn = warn_line;
	if (a->check_key && ly_key_load_public(a->check_key, &w->check_key, e) < 0)
		return err_prefix(e, "--admission-key");
	w->check = w->rewrite;
	w->check.check = true;
	w->instrument_check = w->instrument;
	w->instrument_check.signer = w->check_key ? w->check_key : cfg->defaults.key;
	w->check.instrument = &w->instrument_check;
	w->check.key_path = a->check_key ? a->check_key : "the mirror's key";
	w->options.rewrite = &w->rewrite;
	w->options.check = w->instrument_check.signer ? &w->check : NULL;
	w->options.timeout_ms = a->timeout_seconds * 1000;
	w->options.cache_seconds = (unsigned)cfg->tag_ttl;
	if (!w->options.check)
		warn_line("admission: no --key or --admission-key: /admission/validate denies every "
			  "request, as it cannot check signatures");
	if (dp_admission_new(&w->options, &w->admission, e) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		w->ends[i].w = w;
		w->ends[i].validate = i == 1;
		w->routes[i].path = i == 1 ? "/admission/validate" : "/admission/mutate";
		w->routes[i].max_body = DP_ADMISSION_MAX_BODY;
		w->routes[i].answer = webhook_answer;
		w->routes[i].ctx = &w->ends[i];
	}
	return 0;
}

/* Block the stop signals in every thread (the server's inherit the mask)
 * so that only sigwait sees them. */
/* --sync-interval: the config's sync, run by a thread of its own at
 * start and then every interval; what changed goes to the log. */
struct scheduler {
	const struct mr_config *cfg;
	struct mr_sync_options options;
	pthread_t thread;
	bool started;
	volatile int stop;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC */
};

static void sync_logged(void *ctx, const struct mr_sync_item *it)
{
	json_t *o;
	char *text;

	(void)ctx;
	if (strcmp(it->status, "unchanged") == 0)
		return;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "level", it->error ? "warning" : "info", "sync",
		      it->status, "source", it->source, "destination", it->destination, "digest",
		      it->digest);
	if (o && it->error)
		json_object_set_new(o, "error", json_string(it->error));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text) {
		fprintf(warn_log ? warn_log : stderr, "%s\n", text);
		fflush(warn_log ? warn_log : stderr);
	}
	free(text);
}

static void *sync_loop(void *arg)
{
	struct scheduler *s = arg;
	struct timespec until;

	while (!s->stop) {
		struct mr_sync_counts n = {0};
		struct err e = {0};
		char line[256];

		if (mr_sync_run(&s->options, &n, &e) < 0) {
			warn_line(e.msg);
		} else {
			snprintf(line, sizeof(line),
				 "sync: %u instrumented, %u unchanged, %u kept, %u failed, %u deleted",
				 n.instrumented, n.unchanged, n.kept, n.failed, n.deleted);
			log_line(n.failed ? "warning" : "info", line);
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += s->cfg->sync.interval_seconds;
		pthread_mutex_lock(&s->lock);
		while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
			;
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

static int scheduler_start(struct scheduler *s, const struct mr_config *cfg, struct rw_common *c,
			   struct err *e)
{
	pthread_condattr_t ca;

	if (cfg->sync.n_repos == 0)
		return rw_usage_error(e, "serve", "--sync-interval needs a \"sync\" section with "
						  "repositories in the config");
	s->cfg = cfg;
	s->options.cfg = cfg;
	s->options.src_transport = &c->src;
	s->options.dst_transport = &c->dst;
	s->options.report = sync_logged;
	s->options.warn = warn_line;
	s->options.stop = &s->stop;
	c->src.quiet = c->dst.quiet = true;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, sync_loop, s) != 0)
		return err_set(e, ERR_OPERATIONAL, "cannot start the sync thread");
	s->started = true;
	return 0;
}

/* Let the tags being synced finish; the rest waits for the next start. */
static void scheduler_stop(struct scheduler *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	s->started = false;
}

static int wait_for_stop(sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

int cmd_serve(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		RW_TRANSPORT_OPTIONS,
		{"config", required_argument, NULL, OPT_CONFIG},
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"upstream", required_argument, NULL, OPT_UPSTREAM},
		{"default-upstream", required_argument, NULL, OPT_DEFAULT_UPSTREAM},
		{"store", required_argument, NULL, OPT_STORE},
		{"tag-ttl", required_argument, NULL, OPT_TAG_TTL},
		{"require-instrumented", no_argument, NULL, OPT_REQUIRE},
		RW_RULE_OPTIONS,
		{"public-host", required_argument, NULL, OPT_PUBLIC_HOST},
		{"htpasswd", required_argument, NULL, OPT_HTPASSWD},
		{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
		{"tls-key", required_argument, NULL, OPT_TLS_KEY},
		{"max-connections", required_argument, NULL, OPT_MAX_CONN},
		{"access-log", required_argument, NULL, OPT_ACCESS_LOG},
		{"admission", no_argument, NULL, OPT_ADMISSION},
		{"admission-timeout", required_argument, NULL, OPT_ADMISSION_TIMEOUT},
		{"admission-key", required_argument, NULL, OPT_ADMISSION_KEY},
		{"registry-map", required_argument, NULL, OPT_REGISTRY_MAP},
		{"tag-suffix", required_argument, NULL, OPT_TAG_SUFFIX},
		{"sync-interval", required_argument, NULL, OPT_SYNC_INTERVAL},
		{NULL, 0, NULL, 0},
	};
	struct mr_config cfg;
	struct mr_mirror *mirror = NULL;
	struct mr_server *server = NULL;
	struct webhooks hooks = {0};
	struct scheduler sched = {0};
	struct rw_common c;
	FILE *log = stderr;
	sigset_t stop;
	const char *config_file = NULL;
	int opt, rc = -1, sig, left = 0;

	mr_config_init(&cfg);
	rw_common_init(&c);
	/* First pass: the configuration file, which the other options
	 * override whatever their order. */
	config_file = rw_config_arg(argc, argv);
	if (config_file && mr_config_load(&cfg, config_file, e) < 0)
		goto out;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = rw_common_option(&c, opt, optarg, e);

		if (r == 0)
			r = rw_rule_option(&cfg.defaults, "serve", opt, optarg, e);
		if (r < 0)
			goto out;
		if (r == 1 || opt == OPT_CONFIG)
			continue;
		if (opt < OPT_COMMAND_BASE) {
			rw_bad_option(e, "serve", argv);
			goto out;
		}
		if (apply_option(&cfg, opt, optarg, e) < 0)
			goto out;
	}
	if (c.help) {
		fputs(rw_serve_usage, stdout);
		rc = 0;
		goto out;
	}
	if (optind != argc) {
		rw_usage_error(e, "serve", "takes no arguments, got '%.60s'", argv[optind]);
		goto out;
	}
	if (mr_config_finish(&cfg, e) < 0)
		goto out;
	if (cfg.access_log && !(log = fopen(cfg.access_log, "ae"))) {
		err_sys(e, ERR_INPUT, "cannot open the access log %.200s", cfg.access_log);
		log = stderr;
		goto out;
	}
	warn_log = log;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (cfg.store && mr_mirror_new(&cfg, &c.src, warn_line, &mirror, e) < 0)
		goto out;
	if (cfg.admission.enabled && webhooks_start(&hooks, &cfg, &c.src, e) < 0)
		goto out;
	if (mr_server_start(&cfg, mirror, hooks.routes, cfg.admission.enabled ? 2 : 0, log,
			    &server, e) < 0)
		goto out;
	if (cfg.sync.interval_seconds && scheduler_start(&sched, &cfg, &c, e) < 0)
		goto out;
	fprintf(stderr, "inlay serve: listening on %s://%s (port %u), store %s%s\n",
		cfg.tls_cert ? "https" : "http", cfg.listen, mr_server_port(server),
		cfg.store ? cfg.store : "none",
		cfg.admission.enabled ? ", admission webhooks on /admission/mutate and "
					"/admission/validate"
				      : "");
	sig = wait_for_stop(&stop);
	fprintf(stderr, "inlay serve: %s: finishing the requests in flight (at most %us)\n",
		sig == SIGTERM ? "SIGTERM" : "SIGINT", cfg.shutdown_seconds);
	scheduler_stop(&sched);
	left = mr_server_stop(server);
	server = NULL;
	if (left > 0)
		fprintf(stderr, "inlay serve: %d blobs were still being stored; they are dropped\n",
			left);
	/* Images the webhooks still instrument for requests already answered. */
	if (left == 0 && (left = dp_admission_free(hooks.admission, cfg.shutdown_seconds)) > 0)
		fprintf(stderr, "inlay serve: %d images were still being instrumented; they are "
				"dropped\n", left);
	hooks.admission = NULL;
	rc = 0;
out:
	scheduler_stop(&sched);
	if (left == 0) {
		(void)mr_server_stop(server);
		(void)dp_admission_free(hooks.admission, 0);
		ly_key_free(hooks.check_key);
		mr_mirror_free(mirror);
	}
	if (log != stderr && left == 0)
		fclose(log);
	if (left == 0) /* else blobs still being stored read it until the exit */
		mr_config_free(&cfg);
	rw_common_free(&c);
	return rc;
}
