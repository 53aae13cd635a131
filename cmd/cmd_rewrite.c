/* cmd_rewrite.c - `inlay rewrite [FILE|-]...`: deployment specs rewritten
 * to run instrumented, signed images pinned by digest, with the sensor in
 * front of every entrypoint override (DESIGN.md section 11); `--check`
 * gates a spec on exactly that. */
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../deploy/resolve.h"
#include "../deploy/spec.h"
#include "../deploy/splice.h"
#include "../manifest/buf.h"
#include "../rewriter/policy.h"
#include "../rewriter/signature.h"
#include "cli.h"

#define MAX_FILES 1024
#define MAX_MAPS 64

enum {
	OPT_OUTPUT = OPT_COMMAND_BASE,
	OPT_IN_PLACE,
	OPT_FORMAT,
	OPT_CHECK,
	OPT_KEY,
	OPT_MODE,
	OPT_POLICY,
	OPT_INVENTORY,
	OPT_REGISTRY_MAP,
	OPT_TAG_SUFFIX,
};

const char rw_rewrite_usage[] =
    "Usage: inlay rewrite [FILE|-]... [options]\n"
    "\n"
    "Rewrite deployment specs so every container runs an instrumented image,\n"
    "signed and pinned by digest: each image is instrumented (or found already\n"
    "instrumented at its destination) and its field becomes REPOSITORY@sha256:...;\n"
    "an entrypoint override (Kubernetes and Cloud Run command, ECS entryPoint, ACI\n"
    "command) gets \"/.inlay/sensor\", \"--\" in front, as it would bypass the sensor\n"
    "otherwise. args and ECS command stay. Nothing else changes: comments, key\n"
    "order, quoting and anchors stay byte for byte.\n"
    "\n"
    "Formats (told from the content): Kubernetes YAML or JSON (Pod, Deployment,\n"
    "StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob,\n"
    "PodTemplate and Lists of them; containers, initContainers, ephemeralContainers;\n"
    "multi-document streams; other kinds pass through), Cloud Run (Knative\n"
    "Service), ECS task definitions (register input, describe output, or a list of\n"
    "container definitions), Azure Container Instances YAML or JSON.\n"
    "\n"
    "The platform instrumented is the one the spec runs: ECS\n"
    "runtimePlatform.cpuArchitecture, a pod's nodeSelector or required node\n"
    "affinity on kubernetes.io/arch, linux/amd64 for ACI; else the whole index.\n"
    "Results are tagged <tag>" "-inlay[-ARCH] in the source's repository, or where\n"
    "--registry-map sends them. With no FILE, or -, the spec is read from stdin.\n"
    "\n"
    "  -o, --output FILE     write the result there (one input), not to stdout\n"
    "  --in-place            rewrite each FILE (atomically: a temporary file, renamed)\n"
    "  --format F            auto (default), kubernetes, cloudrun, ecs or aci\n"
    "  --check               change nothing: exit 3, with one line per container,\n"
    "                        unless every image is pinned, instrumented and signed by\n"
    "                        --key PUB and every override starts the sensor\n"
    "  --key FILE            sign the results (private key), or with --check the public\n"
    "                        key they must be signed by\n"
    "  --mode monitor|learn|enforce, --policy FILE, --inventory   as for instrument\n"
    "  --registry-map SRC=DST   results of images from SRC (a registry, or a\n"
    "                        registry/prefix) go to DST instead (repeatable)\n"
    "  --tag-suffix S        result tag suffix (default -inlay)\n"
    "  --jobs N              images resolved at once (default 4)\n"
    "  --json                print a report (then give -o or --in-place for the spec)\n"
    "Exit status: 0 done, 1 a registry or I/O failure, 2 bad input (a malformed\n"
    "spec, a field of the wrong type, an image reference that is not one), 3 --check\n"
    "found a container to fix. On failure nothing is written.\n" RW_TRANSPORT_USAGE;

struct input {
	const char *name; /* the path, or "-" */
	char *text;
	size_t len;
	struct dp_spec *spec;
	char *out; /* the rewritten text */
	size_t out_len;
};

struct rewrite {
	struct input *in;
	size_t n;
	struct dp_resolver *resolver;
	bool check;
	bool json; /* findings go in the report, not in lines */
	size_t findings, failures;
};

static void print_warning(const char *msg)
{
	fprintf(stderr, "inlay rewrite: warning: %s\n", msg);
}

/* Write data to path through a temporary file in the same directory and a
 * rename, so a reader sees the old file or the new one, never half of one.
 * An existing file keeps its mode. */
static int write_atomically(const char *path, const char *data, size_t len, struct err *e)
{
	char *dir_copy = strdup(path), *tmp = NULL;
	struct stat st;
	size_t off = 0;
	int fd = -1, rc = -1;

	if (!dir_copy || asprintf(&tmp, "%s/.%s.inlay-XXXXXX", dirname(dir_copy),
				  strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0) {
		tmp = NULL;
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_sys(e, ERR_OPERATIONAL, "create a temporary file beside %s", path);
		goto out;
	}
	if (fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644) < 0) {
		err_sys(e, ERR_OPERATIONAL, "chmod %s", tmp);
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			err_sys(e, ERR_OPERATIONAL, "write %s", tmp);
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		err_sys(e, ERR_OPERATIONAL, "write %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err_sys(e, ERR_OPERATIONAL, "rename %s to %s", tmp, path);
		goto out;
	}
	free(tmp);
	tmp = NULL; /* renamed: nothing to remove */
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(dir_copy);
	return rc;
}

static int parse_map(const char *arg, struct dp_registry_map *m, struct err *e)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1] || strchr(eq + 1, '='))
		return rw_usage_error(e, "rewrite", "--registry-map takes SRC=DST, not '%.100s'",
				      arg);
	m->from = strndup(arg, (size_t)(eq - arg));
	m->to = eq + 1;
	return m->from ? 0 : err_set(e, ERR_OPERATIONAL, "out of memory");
}

static const char *image_of(const struct input *in, const struct dp_container *c)
{
	return c->image ? dp_node(in->spec->tree, c->image)->value : NULL;
}

/* The edits of one spec, from the resolved images. */
static int rewrite_spec(struct rewrite *rw, struct input *in, struct err *e)
{
	struct dp_edits ed = {0};
	size_t i;
	int rc = -1;

	for (i = 0; i < in->spec->n; i++) {
		const struct dp_container *c = &in->spec->containers[i];
		const struct dp_resolved *d;

		if (!c->image)
			continue;
		d = dp_resolver_get(rw->resolver, image_of(in, c), c->arch);
		if (dp_edit_scalar(&ed, in->spec->tree, c->image, d->result, e) < 0)
			goto out;
		if (c->command && !dp_command_has_sensor(in->spec->tree, c->command) &&
		    dp_edit_prefix_sensor(&ed, in->spec->tree, c->command, e) < 0)
			goto out;
	}
	rc = dp_splice(in->text, in->len, &ed, &in->out, &in->out_len, e);
out:
	if (rc < 0)
		err_prefix(e, "%s", in->name);
	dp_edits_free(&ed);
	return rc;
}

/* Report every image that could not be resolved (stderr), and count (and
 * in --check without --json print on stdout) every container to fix. */
static void report_lines(struct rewrite *rw, int *worst)
{
	FILE *out = rw->json ? NULL : stdout;
	size_t f, i;

	for (f = 0; f < rw->n; f++) {
		struct input *in = &rw->in[f];

		for (i = 0; i < in->spec->n; i++) {
			const struct dp_container *c = &in->spec->containers[i];
			const struct dp_resolved *d =
			    c->image ? dp_resolver_get(rw->resolver, image_of(in, c), c->arch) : NULL;

			if (d && d->failed) {
				fprintf(stderr, "inlay rewrite: %s: %s: image %s: %s\n", in->name,
					c->where, d->image, d->err.msg);
				rw->failures++;
				if (d->failed > *worst)
					*worst = d->failed;
			} else if (rw->check && d && d->finding[0]) {
				if (out)
					fprintf(out, "%s: %s: %s: %s\n", in->name, c->where, d->image,
						d->finding);
				rw->findings++;
			} else if (rw->check && dp_container_problem(in->spec->tree, c)) {
				if (out)
					fprintf(out, "%s: %s: %s\n", in->name, c->where,
						dp_container_problem(in->spec->tree, c));
				rw->findings++;
			}
		}
	}
}

static int print_report(const struct rewrite *rw, struct err *e)
{
	json_t *arr = json_array();
	size_t f, i;

	for (f = 0; arr && f < rw->n; f++) {
		const struct input *in = &rw->in[f];

		for (i = 0; i < in->spec->n; i++) {
			const struct dp_container *c = &in->spec->containers[i];
			const struct dp_resolved *d =
			    c->image ? dp_resolver_get(rw->resolver, image_of(in, c), c->arch) : NULL;
			bool override = c->command != 0;
			bool has = override && dp_command_has_sensor(in->spec->tree, c->command);
			json_t *o = json_pack(
			    "{s:s, s:s, s:I, s:s, s:s, s:s?, s:s, s:b, s:b}", "file", in->name, "format",
			    dp_format_name(in->spec->format), "document", (json_int_t)c->doc + 1,
			    "container", c->where, "pointer", c->pointer, "image", image_of(in, c),
			    "platform", c->arch[0] ? c->arch : "all", "entrypoint_override", override,
			    rw->check ? "entrypoint_starts_sensor" : "entrypoint_changed",
			    rw->check ? has : override && !has);

			if (o && d && rw->check)
				json_object_set_new(o, "finding", json_string(d->finding));
			if (o && d && !rw->check) {
				json_object_set_new(o, "new_image", json_string(d->result));
				json_object_set_new(o, "pushed", json_boolean(d->pushed));
			}
			json_array_append_new(arr, o);
		}
	}
	return rw_print_json(json_pack("{s:b, s:o}", "check", rw->check, "containers", arr), e);
}

int cmd_rewrite(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
	    RW_TRANSPORT_OPTIONS,
	    {"output", required_argument, NULL, OPT_OUTPUT},
	    {"in-place", no_argument, NULL, OPT_IN_PLACE},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"mode", required_argument, NULL, OPT_MODE},
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"inventory", no_argument, NULL, OPT_INVENTORY},
	    {"registry-map", required_argument, NULL, OPT_REGISTRY_MAP},
	    {"tag-suffix", required_argument, NULL, OPT_TAG_SUFFIX},
	    {NULL, 0, NULL, 0},
	};
	struct rw_instrument_options io = {0};
	struct dp_resolve_options ro = {0};
	struct dp_registry_map maps[MAX_MAPS];
	struct rewrite rw = {0};
	struct ly_key *key = NULL;
	enum dp_format format = DP_FORMAT_AUTO;
	const char *output = NULL, *key_path = NULL;
	char *policy = NULL;
	bool in_place = false;
	struct rw_common c;
	size_t i, n_maps = 0, f;
	int opt, rc = -1, worst = 0;

	rw_common_init(&c);
	io.compression = LY_COMPRESS_AUTO;
	io.mode = "monitor";
	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		int r = rw_common_option(&c, opt, optarg, e);

		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		switch (opt) {
		case 'o':
		case OPT_OUTPUT:
			output = optarg;
			break;
		case OPT_IN_PLACE:
			in_place = true;
			break;
		case OPT_FORMAT:
			if (dp_format_parse(optarg, &format, e) < 0)
				goto out;
			break;
		case OPT_CHECK:
			rw.check = true;
			break;
		case OPT_KEY:
			key_path = optarg;
			break;
		case OPT_MODE:
			if (rw_mode_check("rewrite", optarg, e) < 0)
				goto out;
			io.mode = optarg;
			break;
		case OPT_POLICY:
			free(policy);
			policy = NULL;
			if (rw_policy_load(optarg, &policy, e) < 0)
				goto out;
			break;
		case OPT_INVENTORY:
			io.inventory = true;
			break;
		case OPT_REGISTRY_MAP:
			if (n_maps == MAX_MAPS) {
				rw_usage_error(e, "rewrite", "at most %d --registry-map", MAX_MAPS);
				goto out;
			}
			if (parse_map(optarg, &maps[n_maps], e) < 0)
				goto out;
			n_maps++;
			break;
		case OPT_TAG_SUFFIX:
			ro.tag_suffix = optarg;
			break;
		default:
			rw_bad_option(e, "rewrite", argv);
			goto out;
		}
	}
	if (c.help) {
		fputs(rw_rewrite_usage, stdout);
		rc = 0;
		goto out;
	}
	if (c.n_platforms) {
		rw_usage_error(e, "rewrite", "the platform comes from each spec; --platform is not taken");
		goto out;
	}
	if (argc - optind > MAX_FILES) {
		rw_usage_error(e, "rewrite", "at most %d files at once", MAX_FILES);
		goto out;
	}
	if (rw.check && (output || in_place)) {
		rw_usage_error(e, "rewrite", "--check changes nothing: -o and --in-place do not go with it");
		goto out;
	}
	if (rw.check && !key_path) {
		rw_usage_error(e, "rewrite", "--check needs --key PUB, the key images must be signed by");
		goto out;
	}
	if (output && in_place) {
		rw_usage_error(e, "rewrite", "give -o FILE or --in-place, not both");
		goto out;
	}
	if (output && argc - optind > 1) {
		rw_usage_error(e, "rewrite", "-o takes the result of one input; for several, use --in-place");
		goto out;
	}
	if (c.json && !rw.check && !output && !in_place) {
		rw_usage_error(e, "rewrite", "--json prints the report on stdout: give -o FILE or --in-place for the spec");
		goto out;
	}
	if (key_path && (rw.check ? ly_key_load_public(key_path, &key, e) : rw_key_load(key_path, &key, e)) < 0)
		goto out;

	/* Every input read and understood before any registry is asked. */
	rw.n = argc - optind ? (size_t)(argc - optind) : 1;
	rw.in = calloc(rw.n, sizeof(*rw.in));
	if (!rw.in) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	for (f = 0; f < rw.n; f++) {
		const char *path = argc - optind ? argv[optind + (int)f] : "-";

		if (in_place && strcmp(path, "-") == 0) {
			rw_usage_error(e, "rewrite", "--in-place needs files, not standard input");
			goto out;
		}
		rw.in[f].name = path;
		if (buf_read_file(path, DP_MAX_TEXT, &rw.in[f].text, &rw.in[f].len, e) < 0)
			goto out;
		if (dp_spec_load(rw.in[f].text, rw.in[f].len, format, &rw.in[f].spec, e) < 0) {
			err_prefix(e, "%s", path);
			goto out;
		}
	}

	io.policy_json = policy;
	io.signer = key;
	io.jobs = 4;
	ro.transport = &c.src;
	ro.instrument = &io;
	ro.key_path = key_path;
	if (!ro.tag_suffix)
		ro.tag_suffix = "-inlay";
	ro.maps = maps;
	ro.n_maps = n_maps;
	ro.jobs = c.src.jobs;
	ro.check = rw.check;
	ro.warn = c.src.quiet ? NULL : print_warning;
	if (dp_resolver_new(&ro, &rw.resolver, e) < 0)
		goto out;
	for (f = 0; f < rw.n; f++)
		for (i = 0; i < rw.in[f].spec->n; i++) {
			const struct dp_container *ct = &rw.in[f].spec->containers[i];

			if (ct->image &&
			    dp_resolver_add(rw.resolver, image_of(&rw.in[f], ct), ct->arch, e) < 0)
				goto out;
		}
	dp_resolver_run(rw.resolver);
	rw.json = c.json;
	report_lines(&rw, &worst);
	if (rw.failures) {
		err_set(e, worst ? worst : ERR_OPERATIONAL,
			"%zu container%s could not be resolved (above); nothing was written",
			rw.failures, rw.failures == 1 ? "" : "s");
		goto out;
	}
	if (rw.check) {
		if (c.json && print_report(&rw, e) < 0)
			goto out;
		rc = 0;
		if (rw.findings)
			rc = err_set(e, ERR_VERIFY,
				     "%zu container%s not run an instrumented image signed by %s, "
				     "pinned by digest, with the sensor first (listed above)",
				     rw.findings, rw.findings == 1 ? " does" : "s do", key_path);
		goto out;
	}
	for (f = 0; f < rw.n; f++)
		if (rewrite_spec(&rw, &rw.in[f], e) < 0)
			goto out;
	/* Written only once every spec is rewritten: all or nothing. */
	for (f = 0; f < rw.n; f++) {
		const struct input *in = &rw.in[f];

		if (in_place || output) {
			if (write_atomically(output ? output : in->name, in->out, in->out_len, e) < 0)
				goto out;
		} else {
			if (f > 0 && !in->spec->tree->json &&
			    (in->out_len < 3 || memcmp(in->out, "---", 3) != 0))
				fputs("---\n", stdout);
			if (fwrite(in->out, 1, in->out_len, stdout) != in->out_len) {
				err_sys(e, ERR_OPERATIONAL, "write standard output");
				goto out;
			}
		}
	}
	rc = c.json ? print_report(&rw, e) : 0;
out:
	for (f = 0; rw.in && f < rw.n; f++) {
		free(rw.in[f].text);
		free(rw.in[f].out);
		dp_spec_free(rw.in[f].spec);
	}
	free(rw.in);
	for (i = 0; i < n_maps; i++)
		free((char *)maps[i].from);
	dp_resolver_free(rw.resolver);
	ly_key_free(key);
	free(policy);
	rw_common_free(&c);
	return rc;
}
