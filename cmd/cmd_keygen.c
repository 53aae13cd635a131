/* cmd_keygen.c - `inlay keygen [--type ed25519|ecdsa-p256] -o PREFIX`. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../layers/sign.h"
#include "cli.h"
#include "../rewriter/signature.h"

enum {
	OPT_TYPE = OPT_COMMAND_BASE,
	OPT_ENCRYPT,
};

const char rw_keygen_usage[] =
    "Usage: inlay keygen [--type ed25519|ecdsa-p256] [--encrypt] -o PREFIX\n"
    "\n"
    "Make a key pair for signing instrumented images: PREFIX.key, the private key\n"
    "(PEM PKCS#8, mode 0600) for 'inlay instrument --key' and 'inlay sign --key', and\n"
    "PREFIX.pub, the public key (PEM SubjectPublicKeyInfo) for 'inlay verify --key',\n"
    "'cosign verify --key', Kyverno and Sigstore's policy-controller. Existing files\n"
    "are never overwritten. Keys made by 'openssl genpkey -algorithm ed25519' (or EC\n"
    "P-256) work as well.\n"
    "\n"
    "  --type T              ed25519 (default: deterministic signatures, so an image\n"
    "                        instrumented twice keeps its digest) or ecdsa-p256\n"
    "  -o, --output PREFIX   where to write PREFIX.key and PREFIX.pub\n"
    "  --encrypt             encrypt the private key (AES-256, PBKDF2) with a passphrase\n"
    "                        from " RW_KEY_PASSWORD_ENV " or asked on the terminal\n"
    "  --json                print a JSON report\n";

/* Refuse early when either file exists, so no half pair is ever left. The
 * writes themselves use O_EXCL, which settles any race. */
static int check_absent(const char *path, struct err *e)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return err_set(e, ERR_INPUT,
			       "%s already exists; inlay never overwrites a key file "
			       "(remove it or choose another -o PREFIX)",
			       path);
	if (errno != ENOENT)
		return err_sys(e, ERR_INPUT, "%s", path);
	return 0;
}

int cmd_keygen(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
	    {"type", required_argument, NULL, OPT_TYPE}, {"output", required_argument, NULL, 'o'},
	    {"encrypt", no_argument, NULL, OPT_ENCRYPT}, {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, OPT_HELP},	 {NULL, 0, NULL, 0},
	};
	enum ly_key_type type = LY_KEY_ED25519;
	const char *prefix = NULL;
	char *key_path = NULL, *pub_path = NULL, *pass = NULL;
	char fingerprint[LY_DIGEST_MAX];
	struct ly_key *key = NULL;
	bool encrypt = false, json = false, wrote_key = false;
	int opt, rc = -1;

	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_TYPE:
			if (ly_key_type_parse(optarg, &type, e) < 0) {
				err_prefix(e, "--type");
				goto out;
			}
			break;
		case 'o':
			prefix = optarg;
			break;
		case OPT_ENCRYPT:
			encrypt = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_HELP:
			fputs(rw_keygen_usage, stdout);
			rc = 0;
			goto out;
		default:
			rw_bad_option(e, "keygen", argv);
			goto out;
		}
	}
	if (optind != argc) {
		rw_usage_error(e, "keygen", "takes no arguments besides options");
		goto out;
	}
	if (!prefix || !prefix[0]) {
		rw_usage_error(e, "keygen",
			       "give -o PREFIX (the key pair goes to PREFIX.key and "
			       "PREFIX.pub)");
		goto out;
	}
	if (asprintf(&key_path, "%s.key", prefix) < 0)
		key_path = NULL;
	if (asprintf(&pub_path, "%s.pub", prefix) < 0)
		pub_path = NULL;
	if (!key_path || !pub_path) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (check_absent(key_path, e) < 0 || check_absent(pub_path, e) < 0)
		goto out;
	if (encrypt && rw_new_passphrase(key_path, &pass, e) < 0)
		goto out;
	if (ly_key_generate(type, &key, e) < 0 || ly_key_fingerprint(key, fingerprint, e) < 0)
		goto out;
	if (ly_key_write_private(key, key_path, pass, e) < 0)
		goto out;
	wrote_key = true;
	if (ly_key_write_public(key, pub_path, e) < 0)
		goto out;
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s}", "type", ly_key_type_name(type),
				      "private_key", key_path, "public_key", pub_path, "encrypted",
				      encrypt, "signer", fingerprint);
		if (rw_print_json(o, e) < 0)
			goto out;
	} else {
		printf("private key: %s (%s%s, mode 0600: keep it secret)\n", key_path,
		       ly_key_type_name(type), encrypt ? ", encrypted" : "");
		printf("public key:  %s\n", pub_path);
		printf("signer:      %s\n", fingerprint);
	}
	rc = 0;
out:
	/* A private key without its public half is of no use and must not be
	 * mistaken for a finished pair. */
	if (rc < 0 && wrote_key)
		unlink(key_path);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	ly_key_free(key);
	free(key_path);
	free(pub_path);
	return rc;
}
