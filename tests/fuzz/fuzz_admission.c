/* fuzz_admission.c - deploy/admission on arbitrary request bodies: the
 * AdmissionReview envelope, its object and oldObject, parsed and judged by
 * the validating webhook with no key (which denies whatever it can read,
 * so no image is looked up and nothing leaves the process). Never a crash
 * or a leak; a body it answers gets one AdmissionReview v1 response
 * carrying the request's uid, and one it refuses gets an input error. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../deploy/admission.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dp_admission *admission(void)
{
	static const struct dp_resolve_options rewrite = {.jobs = 1};
	static const struct dp_admission_options o = {
	    .rewrite = &rewrite, .check = NULL, .timeout_ms = 100, .cache_seconds = 1};
	static struct dp_admission *a;
	struct err e = {0};

	if (!a && dp_admission_new(&o, &a, &e) < 0)
		abort();
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};
	char *reply = NULL;
	json_t *req, *resp;

	if (size > DP_ADMISSION_MAX_BODY)
		return 0;
	if (dp_admission_answer(admission(), true, (const char *)data, size, &reply, &e) < 0) {
		if (e.cls != ERR_INPUT || reply)
			abort();
		return 0;
	}
	req = json_loadb((const char *)data, size, 0, NULL);
	resp = json_loads(reply, 0, NULL);
	if (!req || !resp)
		abort();
	if (!json_equal(json_object_get(json_object_get(req, "request"), "uid"),
			json_object_get(json_object_get(resp, "response"), "uid")) ||
	    strcmp(json_string_value(json_object_get(resp, "apiVersion")), "admission.k8s.io/v1") != 0)
		abort();
	json_decref(req);
	json_decref(resp);
	free(reply);
	return 0;
}
