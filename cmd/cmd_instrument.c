/* cmd_instrument.c - `inlay instrument SRC [DST]`. */
#include <elf.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../manifest/buf.h"
#include "../manifest/ref.h"
#include "cli.h"
#include "../rewriter/instrument.h"
#include "../rewriter/policy.h"
#include "../rewriter/signature.h"

#define SENSOR_FILE_MAX (32u * 1024 * 1024)
#define DEFAULT_TAG_SUFFIX "-inlay"

enum {
	OPT_STRICT = OPT_COMMAND_BASE,
	OPT_COMPRESSION,
	OPT_MODE,
	OPT_POLICY,
	OPT_TAG_SUFFIX,
	OPT_SENSOR,
	OPT_KEY,
	OPT_INVENTORY,
};

const char rw_instrument_usage[] =
	"Usage: inlay instrument SRC [DST] [options]\n"
	"\n"
	"Append the inlay sensor layer to an image (or to every linux/amd64 and\n"
	"linux/arm64 image of an index), make the sensor the entrypoint that starts and\n"
	"supervises the original command, and push the result. SRC is never modified.\n"
	"DST defaults to SRC's repository with the tag <tag>-inlay. Prints the result as\n"
	"REPOSITORY@sha256:...\n"
	"\n"
	"  --platform OS/ARCH    instrument only these platforms of an index (repeatable)\n"
	"  --strict-platforms    refuse an index with platforms inlay has no sensor for\n"
	"                        (default: keep them unchanged, with a warning)\n"
	"  --compression gzip|zstd|none   the sensor layer's compression (default: as\n"
	"                        the base image; zstd and none need an OCI manifest)\n"
	"  --mode monitor|learn|enforce   the sensor's mode (default monitor)\n"
	"  --policy FILE         a policy (JSON) for the sensor to enforce\n"
	"  --tag-suffix S        default DST tag suffix (default -inlay)\n"
	"  --sensor FILE         use this static sensor binary for its architecture\n"
	"                        instead of the embedded one (repeatable)\n"
	"  --key FILE            sign: the sensor layer (labels io.inlay.sensor.signature and\n"
	"                        .signer) and, once pushed, every manifest (cosign-compatible\n"
	"                        signatures, tag sha256-<hex>.sig); a PEM PKCS#8 private key\n"
	"                        of mode 0600 (see 'inlay keygen'; encrypted keys take their\n"
	"                        passphrase from " RW_KEY_PASSWORD_ENV " or the terminal)\n"
	"  --inventory           also record the image's executables in the sensor layer\n"
	"                        (/.inlay/inventory): a program the image did not hold\n"
	"                        then counts as drift. Reads every layer of every image\n"
	"                        instrumented (otherwise none is read in place)\n"
	"  --json                print a JSON report\n" RW_TRANSPORT_USAGE;

struct sensor_file {
	unsigned char *data;
	size_t len;
};

static void print_warning(const char *msg)
{
	fprintf(stderr, "inlay instrument: warning: %s\n", msg);
}

/* True when the ELF asks for a dynamic loader, or its program headers lie
 * outside the file (then it is no binary to trust either). */
static bool has_interpreter(const char *data, size_t len)
{
	const Elf64_Ehdr *h = (const Elf64_Ehdr *)data;
	size_t i;

	if (h->e_phentsize != sizeof(Elf64_Phdr) || h->e_phoff > len ||
	    (size_t)h->e_phnum * sizeof(Elf64_Phdr) > len - h->e_phoff)
		return true;
	for (i = 0; i < h->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, data + h->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP)
			return true;
	}
	return false;
}

/* Read a --sensor binary and tell its architecture from the ELF header. */
static int load_sensor(const char *path, struct sensor_file files[2], struct err *e)
{
	struct buf b;
	char chunk[65536];
	ssize_t n;
	int fd, arch, rc = -1;
	const Elf64_Ehdr *h;

	buf_init(&b, SENSOR_FILE_MAX);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_INPUT, "--sensor %s", path);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			err_set(e, ERR_INPUT, "--sensor %s: larger than %u bytes", path, SENSOR_FILE_MAX);
			goto out;
		}
	}
	if (n < 0) {
		err_sys(e, ERR_OPERATIONAL, "read --sensor %s", path);
		goto out;
	}
	h = (const Elf64_Ehdr *)b.data;
	if (b.len < sizeof(*h) || memcmp(h->e_ident, ELFMAG, SELFMAG) != 0 ||
	    h->e_ident[EI_CLASS] != ELFCLASS64 || (h->e_type != ET_EXEC && h->e_type != ET_DYN) ||
	    has_interpreter(b.data, b.len)) {
		err_set(e, ERR_INPUT,
			"--sensor %s: not a static 64-bit ELF executable (it must run in images "
			"without a libc)",
			path);
		goto out;
	}
	if (h->e_machine == EM_X86_64)
		arch = 0;
	else if (h->e_machine == EM_AARCH64)
		arch = 1;
	else {
		err_set(e, ERR_INPUT, "--sensor %s: built for ELF machine %u; inlay needs x86-64 or aarch64",
			path, h->e_machine);
		goto out;
	}
	free(files[arch].data);
	files[arch].data = (unsigned char *)buf_detach(&b, &files[arch].len);
	rc = files[arch].data ? 0 : err_set(e, ERR_OPERATIONAL, "out of memory");
out:
	close(fd);
	buf_free(&b);
	return rc;
}

/* SRC's repository with tag <tag><suffix>. */
static int default_destination(const struct rg_endpoint *src, const char *suffix, char **ret,
			       struct err *e)
{
	const char *tag = rg_endpoint_tag(src);
	char newtag[256];

	if (!tag && rg_endpoint_digest(src))
		return err_set(e, ERR_INPUT, "%s names no tag to derive DST from; give DST",
			       rg_endpoint_display(src));
	snprintf(newtag, sizeof(newtag), "%s%s", tag ? tag : "latest", suffix);
	if (!mf_tag_valid(newtag))
		return err_set(e, ERR_INPUT, "'%.200s' is not a valid tag (at most 128 of A-Za-z0-9_.-); "
					     "give DST or a shorter --tag-suffix",
			       newtag);
	if (asprintf(ret, "%s:%s", rg_endpoint_repository(src), newtag) < 0)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	return 0;
}

static int print_report(const struct rg_endpoint *src, const struct rg_endpoint *dst,
			const struct rw_instrument_result *r, double secs, struct err *e)
{
	json_t *o, *arr = json_array();
	char *result = NULL;
	size_t i;

	for (i = 0; i < r->n_platforms; i++) {
		const struct rw_platform_result *p = &r->platforms[i];
		json_t *po = json_pack("{s:s, s:s, s:s, s:b}", "platform", p->platform,
				       "source_digest", p->source_digest, "digest", p->result_digest,
				       "instrumented", p->instrumented);

		if (po && p->instrumented)
			json_object_set_new(po, "sensor_layer",
					    json_pack("{s:s, s:I}", "digest", p->sensor_layer_digest,
						      "size", (json_int_t)p->sensor_layer_size));
		if (po && p->inventory)
			json_object_set_new(
			    po, "inventory",
			    json_pack("{s:I, s:I, s:I}", "entries", (json_int_t)p->inventory_entries,
				      "left_out", (json_int_t)p->inventory_left_out,
				      "bytes_downloaded",
				      (json_int_t)p->inventory_bytes_downloaded));
		json_array_append_new(arr, po);
	}
	if (asprintf(&result, "%s@%s", rg_endpoint_repository(dst), r->result_digest) < 0)
		result = NULL;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:{s:I, s:I, s:i, s:i, s:i}, s:f}",
		      "source", rg_endpoint_display(src), "source_digest", r->source_digest,
		      "destination", rg_endpoint_display(dst), "result", result ? result : "",
		      "digest", r->result_digest, "platforms", arr, "dropped_attestations",
		      (int)r->dropped_attestations, "transfer", "bytes_downloaded",
		      (json_int_t)r->stats.bytes_downloaded, "bytes_uploaded",
		      (json_int_t)r->stats.bytes_uploaded, "blobs_present", (int)r->stats.blobs_present,
		      "blobs_mounted", (int)r->stats.blobs_mounted, "blobs_streamed",
		      (int)r->stats.blobs_streamed, "seconds", secs);
	free(result);
	return rw_print_json(o, e);
}

int cmd_instrument(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		RW_TRANSPORT_OPTIONS,
		{"strict-platforms", no_argument, NULL, OPT_STRICT},
		{"compression", required_argument, NULL, OPT_COMPRESSION},
		{"mode", required_argument, NULL, OPT_MODE},
		{"policy", required_argument, NULL, OPT_POLICY},
		{"tag-suffix", required_argument, NULL, OPT_TAG_SUFFIX},
		{"sensor", required_argument, NULL, OPT_SENSOR},
		{"key", required_argument, NULL, OPT_KEY},
		{"inventory", no_argument, NULL, OPT_INVENTORY},
		{NULL, 0, NULL, 0},
	};
	struct rw_instrument_options io = {0};
	struct rw_instrument_result *res = NULL;
	struct sensor_file sensors[2] = {{0}};
	struct rg_endpoint *src = NULL, *dst = NULL;
	struct ly_key *key = NULL;
	const char *suffix = DEFAULT_TAG_SUFFIX;
	char *policy = NULL, *dst_ref = NULL;
	struct rw_common c;
	struct timespec t0;
	int opt, rc = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rw_common_init(&c);
	io.compression = LY_COMPRESS_AUTO;
	io.mode = "monitor";
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = rw_common_option(&c, opt, optarg, e);

		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		switch (opt) {
		case OPT_STRICT:
			io.strict_platforms = true;
			break;
		case OPT_COMPRESSION:
			if (ly_compression_parse(optarg, &io.compression, e) < 0) {
				err_prefix(e, "--compression");
				goto out;
			}
			break;
		case OPT_MODE:
			if (rw_mode_check("instrument", optarg, e) < 0)
				goto out;
			io.mode = optarg;
			break;
		case OPT_POLICY:
			free(policy);
			policy = NULL;
			if (rw_policy_load(optarg, &policy, e) < 0)
				goto out;
			break;
		case OPT_TAG_SUFFIX:
			suffix = optarg;
			break;
		case OPT_SENSOR:
			if (load_sensor(optarg, sensors, e) < 0)
				goto out;
			break;
		case OPT_INVENTORY:
			io.inventory = true;
			break;
		case OPT_KEY:
			ly_key_free(key);
			key = NULL;
			if (rw_key_load(optarg, &key, e) < 0)
				goto out;
			break;
		default:
			rw_bad_option(e, "instrument", argv);
			goto out;
		}
	}
	if (c.help) {
		fputs(rw_instrument_usage, stdout);
		rc = 0;
		goto out;
	}
	if (argc - optind < 1 || argc - optind > 2) {
		rw_usage_error(e, "instrument", "takes SRC and an optional DST");
		goto out;
	}
	io.platforms = c.platforms;
	io.n_platforms = c.n_platforms;
	io.policy_json = policy;
	io.sensor_amd64 = sensors[0].data;
	io.sensor_amd64_len = sensors[0].len;
	io.sensor_arm64 = sensors[1].data;
	io.sensor_arm64_len = sensors[1].len;
	io.jobs = c.dst.jobs;
	io.signer = key;
	if (rg_endpoint_open(argv[optind], &c.src, &src, e) < 0)
		goto out;
	if (argc - optind == 2) {
		dst_ref = strdup(argv[optind + 1]);
		if (!dst_ref) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
	} else if (default_destination(src, suffix, &dst_ref, e) < 0) {
		goto out;
	}
	if (rg_endpoint_open(dst_ref, &c.dst, &dst, e) < 0)
		goto out;
	res = calloc(1, sizeof(*res));
	if (!res) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (rw_instrument(src, dst, &io, res, c.src.quiet ? NULL : print_warning, e) < 0)
		goto out;
	/* Signatures last: they name digests that must already be there. */
	if (key && rw_sign_instrumented(dst, key, res, e) < 0)
		goto out;
	if (c.json)
		rc = print_report(src, dst, res, rw_seconds_since(&t0), e);
	else
		rc = printf("%s@%s\n", rg_endpoint_repository(dst), res->result_digest) < 0 ? -1 : 0;
out:
	free(res);
	free(policy);
	free(dst_ref);
	free(sensors[0].data);
	free(sensors[1].data);
	ly_key_free(key);
	rg_endpoint_free(src);
	rg_endpoint_free(dst);
	rw_common_free(&c);
	return rc;
}
