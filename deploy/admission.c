/* admission.c - see admission.h. */
#include "admission.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../layers/sign.h"
#include "../rewriter/instrument.h"
#include "spec.h"

#define API_VERSION "admission.k8s.io/v1"
#define UID_MAX 128
#define MAX_ENTRIES 4096 /* images remembered */
#define MAX_RUNNING 32   /* images worked on at once */
#define MESSAGE_MAX 4096 /* a denial's message */

enum work { WORK_REWRITE, WORK_PLAN, WORK_CHECK };

/* One (work, image, platform): being resolved, or resolved at done_at. */
struct entry {
	struct dp_admission *a;
	enum work work;
	char *image;
	char arch[16];
	bool done;
	struct timespec done_at;
	int refs; /* the worker while it runs, and each request waiting on it */
	struct dp_resolved out; /* once done; out.image is not set */
	struct entry *next;
};

struct dp_admission {
	const struct dp_admission_options *o;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* an entry is done (CLOCK_MONOTONIC) */
	struct entry *entries;
	size_t n_entries;
	int running;
};

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

int dp_admission_new(const struct dp_admission_options *o, struct dp_admission **ret,
		     struct err *e)
{
	struct dp_admission *a = calloc(1, sizeof(*a));
	pthread_condattr_t ca;

	if (!a)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	a->o = o;
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->changed, &ca);
	pthread_condattr_destroy(&ca);
	*ret = a;
	return 0;
}

static void entry_free(struct entry *en)
{
	free(en->image);
	free(en);
}

/* Done, and good to answer from: succeeded, found nothing wrong, and not
 * older than cache_seconds. Failures and findings are asked again (the
 * registry may be back, the image may have been signed since). */
static bool fresh(const struct dp_admission *a, const struct entry *en)
{
	return en->done && !en->out.failed && !en->out.finding[0] &&
	       since(&en->done_at) < (double)a->o->cache_seconds;
}

/* Drop what no request holds and nobody would answer from; under lock. */
static void evict(struct dp_admission *a)
{
	struct entry **p = &a->entries;

	while (*p) {
		struct entry *en = *p;

		if (en->refs == 0 && !fresh(a, en)) {
			*p = en->next;
			entry_free(en);
			a->n_entries--;
		} else {
			p = &en->next;
		}
	}
}

static void *work(void *arg)
{
	struct entry *en = arg;
	struct dp_admission *a = en->a;
	struct dp_resolve_options o = *(en->work == WORK_CHECK ? a->o->check : a->o->rewrite);
	struct dp_resolver *r = NULL;
	struct dp_resolved out = {0};
	struct err e = {0};

	o.plan_only = en->work == WORK_PLAN;
	o.jobs = 1;
	if (dp_resolver_new(&o, &r, &e) < 0 || dp_resolver_add(r, en->image, en->arch, &e) < 0) {
		out.failed = err_exit_status(&e);
		out.err = e;
	} else {
		dp_resolver_run(r);
		out = *dp_resolver_get(r, en->image, en->arch);
		out.image = NULL; /* the resolver's; en->image is the same */
	}
	dp_resolver_free(r);
	pthread_mutex_lock(&a->lock);
	en->out = out;
	en->done = true;
	clock_gettime(CLOCK_MONOTONIC, &en->done_at);
	en->refs--;
	a->running--;
	pthread_cond_broadcast(&a->changed);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* The entry for (work, image, arch), found or started, with a reference
 * for the caller; NULL when too much is going on (the caller denies, and
 * the retry comes back later). Under lock. */
static struct entry *hold(struct dp_admission *a, enum work w, const char *image,
			  const char *arch)
{
	struct entry *en;
	pthread_attr_t attr;
	pthread_t t;
	int r;

	for (en = a->entries; en; en = en->next) {
		/* A dry run may answer from a real run's result. */
		if ((en->work == w || (w == WORK_PLAN && en->work == WORK_REWRITE)) &&
		    strcmp(en->image, image) == 0 && strcmp(en->arch, arch) == 0 &&
		    (!en->done || fresh(a, en))) {
			en->refs++;
			return en;
		}
	}
	evict(a);
	if (a->n_entries >= MAX_ENTRIES || a->running >= MAX_RUNNING)
		return NULL;
	en = calloc(1, sizeof(*en));
	if (!en || !(en->image = strdup(image))) {
		free(en);
		return NULL;
	}
	en->a = a;
	en->work = w;
	snprintf(en->arch, sizeof(en->arch), "%s", arch);
	en->refs = 2; /* the worker and the caller */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, work, en);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		entry_free(en);
		return NULL;
	}
	en->next = a->entries;
	a->entries = en;
	a->n_entries++;
	a->running++;
	return en;
}

int dp_admission_free(struct dp_admission *a, unsigned wait_seconds)
{
	struct timespec deadline;
	struct entry *en;
	int left;

	if (!a)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wait_seconds;
	pthread_mutex_lock(&a->lock);
	while (a->running > 0 && pthread_cond_timedwait(&a->changed, &a->lock, &deadline) == 0)
		;
	left = a->running;
	pthread_mutex_unlock(&a->lock);
	if (left > 0)
		return left;
	while ((en = a->entries)) {
		a->entries = en->next;
		entry_free(en);
	}
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->changed);
	free(a);
	return 0;
}

/* ---- one request ---- */

struct review {
	char uid[UID_MAX + 1];
	const char *operation;
	bool dry_run;
	char *object, *old_object; /* compact JSON text, or NULL */
	struct dp_spec *spec, *old_spec;
	struct entry **held;       /* per container of spec, or NULL */
	char message[MESSAGE_MAX]; /* why it is denied; "" */
	int code;                  /* the denial's HTTP-like code */
};

static void deny(struct review *rv, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add one reason to the denial ("; " between reasons, the message bounded). */
static void deny(struct review *rv, int code, const char *fmt, ...)
{
	size_t n = strlen(rv->message);
	va_list ap;

	if (!rv->code || code > rv->code)
		rv->code = code;
	if (n && n + 2 < sizeof(rv->message)) {
		memcpy(rv->message + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(rv->message + n, sizeof(rv->message) - n, fmt, ap);
	va_end(ap);
}

static int parse(struct review *rv, const char *body, size_t len, json_t **ret_root,
		 struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je), *rq, *obj, *old, *dry;
	const char *api, *kind, *uid;

	*ret_root = root;
	if (!root)
		return err_set(e, ERR_INPUT, "the AdmissionReview is not JSON: %s (line %d)", je.text,
			       je.line);
	api = json_string_value(json_object_get(root, "apiVersion"));
	kind = json_string_value(json_object_get(root, "kind"));
	if (!kind || strcmp(kind, "AdmissionReview") != 0)
		return err_set(e, ERR_INPUT, "the body is not an AdmissionReview (kind)");
	if (!api || strcmp(api, API_VERSION) != 0)
		return err_set(e, ERR_INPUT,
			       "AdmissionReview %.40s: only " API_VERSION
			       " is answered (set admissionReviewVersions: [\"v1\"])",
			       api ? api : "without apiVersion");
	rq = json_object_get(root, "request");
	uid = json_string_value(json_object_get(rq, "uid"));
	if (!json_is_object(rq) || !uid || !*uid || strlen(uid) > UID_MAX)
		return err_set(e, ERR_INPUT, "the AdmissionReview has no request with a uid");
	snprintf(rv->uid, sizeof(rv->uid), "%s", uid);
	rv->operation = json_string_value(json_object_get(rq, "operation"));
	if (!rv->operation)
		return err_set(e, ERR_INPUT, "the AdmissionReview request has no operation");
	dry = json_object_get(rq, "dryRun");
	if (dry && !json_is_boolean(dry))
		return err_set(e, ERR_INPUT, "the AdmissionReview request's dryRun is not a boolean");
	rv->dry_run = json_is_true(dry);
	obj = json_object_get(rq, "object");
	old = json_object_get(rq, "oldObject");
	if ((obj && !json_is_object(obj) && !json_is_null(obj)) ||
	    (old && !json_is_object(old) && !json_is_null(old)))
		return err_set(e, ERR_INPUT, "the AdmissionReview's object is not an object");
	if ((json_is_object(obj) && !(rv->object = json_dumps(obj, JSON_COMPACT))) ||
	    (json_is_object(old) && !(rv->old_object = json_dumps(old, JSON_COMPACT))))
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	return 0;
}

static const char *image_of(const struct dp_spec *s, const struct dp_container *c)
{
	return c->image ? dp_node(s->tree, c->image)->value : NULL;
}

static bool same_command(const struct dp_tree *a, size_t ca, const struct dp_tree *b, size_t cb)
{
	const struct dp_node *x = dp_node(a, ca), *y = dp_node(b, cb);
	size_t i;

	if (!x || !y)
		return !x && !y;
	if (x->n != y->n)
		return false;
	for (i = 0; i < x->n; i++)
		if (strcmp(dp_item(a, x, i)->value, dp_item(b, y, i)->value) != 0)
			return false;
	return true;
}

/* What the request changes in a container: on CREATE everything; on
 * UPDATE its image and its override each when they differ from oldObject's
 * (a container oldObject lacks is all new). */
struct change {
	bool image, command;
};

static struct change changes(const struct review *rv, const struct dp_container *c)
{
	const struct dp_spec *o = rv->old_spec;
	struct change ch = {true, true};
	size_t i;

	for (i = 0; o && i < o->n; i++) {
		const struct dp_container *p = &o->containers[i];
		const char *a = image_of(rv->spec, c), *b = image_of(o, p);

		if (strcmp(p->pointer, c->pointer) != 0)
			continue;
		ch.image = a && b ? strcmp(a, b) != 0 : a || b;
		ch.command = !same_command(rv->spec->tree, c->command, o->tree, p->command);
		break;
	}
	return ch;
}

/* Hold an entry for every container to judge; wait for them until the
 * deadline. */
static void resolve(struct dp_admission *a, struct review *rv, bool validate,
		    const struct timespec *t0)
{
	enum work w = validate ? WORK_CHECK : rv->dry_run ? WORK_PLAN : WORK_REWRITE;
	struct timespec deadline = *t0;
	size_t i;
	bool pending;

	deadline.tv_sec += a->o->timeout_ms / 1000;
	deadline.tv_nsec += (long)(a->o->timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&a->lock);
	for (i = 0; i < rv->spec->n; i++) {
		const struct dp_container *c = &rv->spec->containers[i];

		if (!c->image || !changes(rv, c).image)
			continue;
		rv->held[i] = hold(a, w, image_of(rv->spec, c), c->arch);
		if (!rv->held[i])
			deny(rv, 503, "%s: inlay is busy with other images; retry", c->where);
	}
	for (;;) {
		pending = false;
		for (i = 0; i < rv->spec->n; i++)
			pending |= rv->held[i] && !rv->held[i]->done;
		if (!pending ||
		    pthread_cond_timedwait(&a->changed, &a->lock, &deadline) != 0)
			break;
	}
	pthread_mutex_unlock(&a->lock);
}

static void release(struct dp_admission *a, struct review *rv)
{
	size_t i;

	pthread_mutex_lock(&a->lock);
	for (i = 0; rv->spec && i < rv->spec->n; i++)
		if (rv->held[i])
			rv->held[i]->refs--;
	pthread_mutex_unlock(&a->lock);
}

/* An entry's outcome for one container: 1 usable, 0 denied (reason
 * added). Entries are read after resolve: a done entry no longer changes. */
static int outcome(struct dp_admission *a, struct review *rv, const struct dp_container *c,
		   const struct entry *en)
{
	bool done;

	pthread_mutex_lock(&a->lock);
	done = en->done;
	pthread_mutex_unlock(&a->lock);
	if (!done) {
		deny(rv, 503,
		     "%s: image %s is still being instrumented; the work goes on and a retry "
		     "will find it",
		     c->where, en->image);
		return 0;
	}
	if (en->out.failed) {
		deny(rv, en->out.failed == ERR_OPERATIONAL ? 500 : 400, "%s: image %s: %s", c->where,
		     en->image, en->out.err.msg);
		return 0;
	}
	if (en->out.finding[0]) {
		deny(rv, 403, "%s: %s: %s", c->where, en->image, en->out.finding);
		return 0;
	}
	return 1;
}

static json_t *sensor_command(const struct dp_tree *t, size_t command)
{
	const struct dp_node *n = dp_node(t, command);
	json_t *arr = json_pack("[ss]", RW_SENSOR_PATH, "--");
	size_t i;

	for (i = 0; arr && i < n->n; i++)
		json_array_append_new(arr, json_string(dp_item(t, n, i)->value));
	return arr;
}

/* Mutate: the JSON patch (an empty array when nothing changes). */
static json_t *decide_mutate(struct dp_admission *a, struct review *rv)
{
	json_t *patch = json_array();
	size_t i;

	for (i = 0; patch && i < rv->spec->n; i++) {
		const struct dp_container *c = &rv->spec->containers[i];
		const char *image = image_of(rv->spec, c);
		char path[600];

		if (rv->held[i] && !outcome(a, rv, c, rv->held[i]))
			continue;
		if (rv->held[i] && strcmp(rv->held[i]->out.result, image) != 0) {
			snprintf(path, sizeof(path), "%s/image", c->pointer);
			json_array_append_new(patch,
					      json_pack("{s:s, s:s, s:s}", "op", "replace", "path", path,
							"value", rv->held[i]->out.result));
		}
		if (c->command && changes(rv, c).command &&
		    !dp_command_has_sensor(rv->spec->tree, c->command)) {
			snprintf(path, sizeof(path), "%s/%s", c->pointer, c->command_field);
			json_array_append_new(patch,
					      json_pack("{s:s, s:s, s:o}", "op", "replace", "path", path,
							"value", sensor_command(rv->spec->tree, c->command)));
		}
	}
	return patch;
}

/* Validate: every container judged is pinned, instrumented, signed, and
 * starts the sensor. */
static void decide_validate(struct dp_admission *a, struct review *rv)
{
	size_t i;

	for (i = 0; i < rv->spec->n; i++) {
		const struct dp_container *c = &rv->spec->containers[i];
		struct change ch = changes(rv, c);

		if (ch.command && c->command && !dp_command_has_sensor(rv->spec->tree, c->command))
			deny(rv, 403, "%s: %s", c->where, dp_container_problem(rv->spec->tree, c));
		if (ch.image && !c->image)
			deny(rv, 403, "%s: no image", c->where);
		else if (rv->held[i])
			(void)outcome(a, rv, c, rv->held[i]);
	}
}

static int respond(const struct review *rv, json_t *patch, char **ret, struct err *e)
{
	json_t *resp = json_pack("{s:s, s:b}", "uid", rv->uid, "allowed", rv->message[0] == '\0');
	json_t *root;
	char *patch_text = NULL, *b64 = NULL;
	int rc = -1;

	if (!resp)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (rv->message[0])
		json_object_set_new(resp, "status",
				    json_pack("{s:i, s:s}", "code", rv->code, "message", rv->message));
	else if (patch && json_array_size(patch) > 0) {
		patch_text = json_dumps(patch, JSON_COMPACT);
		if (!patch_text || ly_base64_encode(patch_text, strlen(patch_text), &b64, e) < 0)
			goto out;
		json_object_set_new(resp, "patchType", json_string("JSONPatch"));
		json_object_set_new(resp, "patch", json_string(b64));
	}
	root = json_pack("{s:s, s:s, s:o}", "apiVersion", API_VERSION, "kind", "AdmissionReview",
			 "response", resp);
	resp = NULL; /* stolen */
	*ret = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	rc = *ret ? 0 : err_set(e, ERR_OPERATIONAL, "out of memory");
out:
	json_decref(resp);
	free(patch_text);
	free(b64);
	return rc;
}

int dp_admission_answer(struct dp_admission *a, bool validate, const char *body, size_t len,
			char **ret, struct err *e)
{
	struct review rv = {0};
	struct timespec t0;
	json_t *root = NULL, *patch = NULL;
	struct err why = {0};
	int rc = -1;

	*ret = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (parse(&rv, body, len, &root, e) < 0)
		goto out;
	/* Nothing to judge: a DELETE, CONNECT, or an object without one. */
	if ((strcmp(rv.operation, "CREATE") != 0 && strcmp(rv.operation, "UPDATE") != 0) ||
	    !rv.object) {
		rc = respond(&rv, NULL, ret, e);
		goto out;
	}
	if (dp_spec_load(rv.object, strlen(rv.object), DP_FORMAT_KUBERNETES, &rv.spec, &why) < 0) {
		deny(&rv, 400, "%s", why.msg);
		rc = respond(&rv, NULL, ret, e);
		goto out;
	}
	/* An old object inlay cannot read judges every container as new. */
	if (rv.old_object &&
	    dp_spec_load(rv.old_object, strlen(rv.old_object), DP_FORMAT_KUBERNETES, &rv.old_spec,
			 &why) < 0)
		rv.old_spec = NULL;
	rv.held = calloc(rv.spec->n ? rv.spec->n : 1, sizeof(*rv.held));
	if (!rv.held) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (validate && !a->o->check) {
		deny(&rv, 500, "inlay serve has no key to check signatures with (--key or "
			       "--admission-key)");
	} else {
		resolve(a, &rv, validate, &t0);
		if (validate)
			decide_validate(a, &rv);
		else
			patch = decide_mutate(a, &rv);
	}
	rc = respond(&rv, patch, ret, e);
out:
	if (rv.held)
		release(a, &rv);
	json_decref(patch);
	json_decref(root);
	free(rv.held);
	dp_spec_free(rv.spec);
	dp_spec_free(rv.old_spec);
	free(rv.object);
	free(rv.old_object);
	return rc;
}
