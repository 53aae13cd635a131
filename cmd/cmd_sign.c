/* cmd_sign.c - `inlay sign REF --key FILE`: cosign-compatible signatures for
 * an image (or an index and its images) already in a registry. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/image.h"
#include "cli.h"
#include "../rewriter/signature.h"

enum {
	OPT_KEY = OPT_COMMAND_BASE,
};

const char rw_sign_usage[] =
    "Usage: inlay sign REF --key FILE [options]\n"
    "\n"
    "Sign an image that is already in a registry the way 'inlay instrument --key'\n"
    "signs what it pushes: a cosign-compatible signature (tag sha256-<hex>.sig in the\n"
    "same repository) of the manifest REF names and, for an index, of each of its\n"
    "images (attestation manifests excepted). For images instrumented elsewhere or\n"
    "before a key existed. The image itself is not changed, so its sensor layer stays\n"
    "as it was signed (or not): 'inlay verify' reports a sensor layer without a\n"
    "signature until the image is instrumented again with --key.\n"
    "Signing again with the same key changes nothing; signatures by other keys are\n"
    "kept. Prints each signed manifest as REPOSITORY@sha256:... and its signature tag.\n"
    "\n"
    "  --key FILE            private key (PEM PKCS#8, mode 0600; encrypted keys take\n"
    "                        their passphrase from " RW_KEY_PASSWORD_ENV " or the terminal)\n"
    "  --platform OS/ARCH    sign only these images of an index (and the index)\n"
    "  --json                print a JSON report\n" RW_TRANSPORT_USAGE;

struct signed_one {
	char digest[MF_DIGEST_MAX];
	char platform[64];
	bool pushed;
};

static int sign_one(struct rg_endpoint *ep, const struct ly_key *key, const char *digest,
		    const char *platform, struct signed_one *list, size_t *n, struct err *e)
{
	struct signed_one *s = &list[*n];

	if (rw_sign_manifest(ep, key, digest, &s->pushed, e) < 0)
		return -1;
	snprintf(s->digest, sizeof(s->digest), "%s", digest);
	snprintf(s->platform, sizeof(s->platform), "%s", platform);
	(*n)++;
	return 0;
}

static int print_result(const struct rg_endpoint *ep, const struct signed_one *list, size_t n,
			bool json, struct err *e)
{
	const char *repo = rg_endpoint_repository(ep);
	char tag[RW_SIGNATURE_TAG_MAX];
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; i < n; i++) {
		if (rw_signature_tag(list[i].digest, tag, e) < 0) {
			json_decref(arr);
			return -1;
		}
		if (!json) {
			printf("%s@%s %s signature %s:%s%s\n", repo, list[i].digest,
			       list[i].platform, repo, tag,
			       list[i].pushed ? "" : " (already signed with this key)");
			continue;
		}
		json_array_append_new(arr,
				      json_pack("{s:s, s:s, s:s, s:b}", "digest", list[i].digest,
						"platform", list[i].platform, "signature_tag", tag,
						"pushed", list[i].pushed));
	}
	if (!json) {
		json_decref(arr);
		return 0;
	}
	o = json_pack("{s:s, s:o}", "repository", repo, "signed", arr);
	return rw_print_json(o, e);
}

int cmd_sign(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
	    RW_TRANSPORT_OPTIONS,
	    {"key", required_argument, NULL, OPT_KEY},
	    {NULL, 0, NULL, 0},
	};
	struct signed_one *list = NULL;
	struct rg_manifest_blob mb = {0};
	struct mf_manifest *m = NULL;
	struct rg_endpoint *ep = NULL;
	struct ly_key *key = NULL;
	const char *key_path = NULL;
	struct rw_common c;
	size_t n = 0, i;
	int opt, rc = -1;

	rw_common_init(&c);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = rw_common_option(&c, opt, optarg, e);

		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		if (opt == OPT_KEY) {
			key_path = optarg;
			continue;
		}
		rw_bad_option(e, "sign", argv);
		goto out;
	}
	if (c.help) {
		fputs(rw_sign_usage, stdout);
		rc = 0;
		goto out;
	}
	if (argc - optind != 1) {
		rw_usage_error(e, "sign", "takes one image reference");
		goto out;
	}
	if (!key_path) {
		rw_usage_error(e, "sign",
			       "give --key FILE, a private key (make one with 'inlay keygen')");
		goto out;
	}
	list = calloc(MF_MAX_CHILDREN + 1, sizeof(*list));
	if (!list) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (rw_key_load(key_path, &key, e) < 0)
		goto out;
	if (rg_endpoint_open(argv[optind], &c.dst, &ep, e) < 0 ||
	    rg_manifest_get(ep, NULL, &mb, e) < 0)
		goto out;
	if (mf_manifest_parse(mb.data, mb.len, mb.media_type, &m, e) < 0) {
		err_prefix(e, "%s", rg_endpoint_display(ep));
		goto out;
	}
	/* Children first, the index last: what the index names is signed by the
	 * time anyone can find the index's own signature. */
	for (i = 0; i < mf_manifest_child_count(m); i++) {
		const struct mf_descriptor *d = mf_manifest_child(m, i);
		char *pl;

		if (rw_is_attestation(d) ||
		    !rw_platform_selected(&d->platform, c.platforms, c.n_platforms))
			continue;
		pl = mf_platform_string(&d->platform);
		rc = sign_one(ep, key, d->digest, pl ? pl : "image", list, &n, e);
		free(pl);
		if (rc < 0)
			goto out;
		rc = -1;
	}
	if (mf_manifest_kind(m) == MF_KIND_INDEX && n == 0 && c.n_platforms) {
		err_set(e, ERR_INPUT, "%s: the index has no image for the platforms asked for",
			rg_endpoint_display(ep));
		goto out;
	}
	if (sign_one(ep, key, mb.digest, mf_manifest_kind(m) == MF_KIND_INDEX ? "index" : "image",
		     list, &n, e) < 0)
		goto out;
	rc = print_result(ep, list, n, c.json, e);
out:
	free(list);
	mf_manifest_free(m);
	rg_manifest_blob_clear(&mb);
	rg_endpoint_free(ep);
	ly_key_free(key);
	rw_common_free(&c);
	return rc;
}
