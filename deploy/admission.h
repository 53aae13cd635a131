/* admission.h - Kubernetes admission webhooks over the rewrite
 * (DESIGN.md section 11): an AdmissionReview v1 request in, its response
 * out.
 *
 * Mutating: a JSON patch doing to the object what `inlay rewrite` does to a
 * file - each container's image replaced by the instrumented, signed image
 * pinned by digest, the sensor put in front of an entrypoint override.
 * Validating: the object is allowed when every container passes what
 * `inlay rewrite --check` checks, denied with one line per container that
 * does not.
 *
 * Each (image, platform) is worked on once however many requests name it
 * at once (the pods of one ReplicaSet arrive together), and a result is
 * reused for cache_seconds. An answer never waits longer than timeout_ms,
 * which stays under the API server's timeoutSeconds: when an image is
 * still being instrumented by then, the request is denied with a message
 * saying so, the work goes on, and the retry that follows (controllers
 * retry pod creation) finds the result. A request with dryRun pushes
 * nothing: its patch names the digest a run would make.
 *
 * On UPDATE only what the update changes is judged: a container whose
 * image and entrypoint override are those of oldObject is left alone (a
 * Pod's command cannot change after creation, and objects admitted before
 * the webhook existed keep working). */
#ifndef INLAY_DP_ADMISSION_H
#define INLAY_DP_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include "../manifest/err.h"
#include "resolve.h"

/* An AdmissionReview v1 is two objects (object, oldObject) of at most
 * 1.5 MiB each (etcd's default limit) and its envelope. */
#define DP_ADMISSION_MAX_BODY (8u * 1024 * 1024)

struct dp_admission_options {
	/* how mutate resolves images (check false); plan_only is set per
	 * request from its dryRun */
	const struct dp_resolve_options *rewrite;
	/* how validate checks them (check true, instrument->signer the key);
	 * NULL when there is no key: validate then denies everything */
	const struct dp_resolve_options *check;
	unsigned timeout_ms;    /* an answer within this */
	unsigned cache_seconds; /* a resolved image is reused this long */
};

struct dp_admission;

/* o and what it points to must outlive the dp_admission. */
int dp_admission_new(const struct dp_admission_options *o, struct dp_admission **ret,
		     struct err *e);

/* Answer one AdmissionReview request: *ret is the AdmissionReview response
 * (JSON; caller frees). A decision, allowed or denied, is 0. ERR_INPUT when
 * the body is no AdmissionReview v1 request (the caller answers 400). Blocks
 * for at most o->timeout_ms. Thread-safe. */
int dp_admission_answer(struct dp_admission *a, bool validate, const char *body, size_t len,
			char **ret, struct err *e);

/* Wait up to wait_seconds for work that outlived its requests, then free
 * a. Returns the number of images still being worked on; when not 0, a is
 * not freed (nor may what its options point to be: the process is about
 * to exit). Accepts NULL. */
int dp_admission_free(struct dp_admission *a, unsigned wait_seconds);

#endif
