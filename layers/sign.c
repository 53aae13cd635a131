/* sign.c - see sign.h. Everything goes through OpenSSL's EVP interface, so
 * the same code serves both key types; only the digest given to
 * EVP_DigestSignInit differs (none for Ed25519, SHA-256 for ECDSA). */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ly_key {
	EVP_PKEY *pkey;
	enum ly_key_type type;
	bool private;
};

/* Fill e with a message ending in OpenSSL's reason for the most recent
 * failure, and empty OpenSSL's error queue so it never leaks into a later,
 * unrelated message. */
static int ssl_err(struct err *e, int cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ssl_err(struct err *e, int cls, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	unsigned long code = ERR_peek_last_error();
	const char *reason = code ? ERR_reason_error_string(code) : NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	if (reason)
		return err_set(e, cls, "%s (OpenSSL: %s)", what, reason);
	return err_set(e, cls, "%s", what);
}

int ly_key_type_parse(const char *name, enum ly_key_type *ret, struct err *e)
{
	if (strcmp(name, "ed25519") == 0)
		*ret = LY_KEY_ED25519;
	else if (strcmp(name, "ecdsa-p256") == 0)
		*ret = LY_KEY_ECDSA_P256;
	else
		return err_set(e, ERR_INPUT, "unknown key type '%.40s' (ed25519 or ecdsa-p256)",
			       name);
	return 0;
}

const char *ly_key_type_name(enum ly_key_type t)
{
	return t == LY_KEY_ECDSA_P256 ? "ecdsa-p256" : "ed25519";
}

/* Wrap pkey (taken over, freed on failure) after checking it is a key type
 * inlay signs with. */
static int key_wrap(EVP_PKEY *pkey, bool private, const char *what, struct ly_key **ret_key,
		    struct err *e)
{
	struct ly_key *k;
	enum ly_key_type t;

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
		t = LY_KEY_ED25519;
	} else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		char group[64] = "";
		size_t glen = 0;

		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1 ||
		    OBJ_txt2nid(group) != NID_X9_62_prime256v1) {
			EVP_PKEY_free(pkey);
			ERR_clear_error();
			return err_set(e, ERR_INPUT,
				       "%s: an EC key on curve '%.40s'; inlay signs with P-256 "
				       "(prime256v1) or Ed25519 keys only",
				       what, group[0] ? group : "unnamed");
		}
		t = LY_KEY_ECDSA_P256;
	} else {
		const char *name = OBJ_nid2sn(EVP_PKEY_get_base_id(pkey));

		EVP_PKEY_free(pkey);
		return err_set(e, ERR_INPUT,
			       "%s: a %.20s key; inlay signs with Ed25519 or ECDSA P-256 keys",
			       what, name ? name : "unknown");
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	k->pkey = pkey;
	k->type = t;
	k->private = private;
	*ret_key = k;
	return 0;
}

int ly_key_generate(enum ly_key_type t, struct ly_key **ret_key, struct err *e)
{
	EVP_PKEY *pkey;

	if (t == LY_KEY_ED25519)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (t == LY_KEY_ECDSA_P256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		return err_set(e, ERR_INPUT, "unknown key type %d", (int)t);
	if (!pkey)
		return ssl_err(e, ERR_OPERATIONAL, "cannot generate a %s key", ly_key_type_name(t));
	return key_wrap(pkey, true, "new key", ret_key, e);
}

/* What the PEM passphrase callback needs: the caller's callback, and the
 * passphrase once asked, so OpenSSL trying several decoders never asks the
 * user twice. */
struct pass_state {
	ly_passphrase_fn fn;
	void *ctx;
	const char *what;
	int asked; /* 0 not yet, 1 have it, -1 could not get one */
	int len;
	char pass[LY_PASSPHRASE_MAX + 1];
	struct err err;
};

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_state *s = u;

	(void)rwflag;
	if (s->asked == 0) {
		int n = -1;

		if (!s->fn)
			err_set(&s->err, ERR_INPUT, "%s is encrypted and no passphrase can be had",
				s->what);
		else
			n = s->fn(s->pass, sizeof(s->pass), s->what, s->ctx, &s->err);
		if (n < 0 || (size_t)n >= sizeof(s->pass)) {
			if (n >= 0)
				err_set(&s->err, ERR_INPUT, "the passphrase for %s is too long",
					s->what);
			s->asked = -1;
		} else {
			s->asked = 1;
			s->len = n;
		}
	}
	if (s->asked < 0 || s->len > size)
		return -1;
	memcpy(buf, s->pass, (size_t)s->len);
	return s->len;
}

int ly_key_from_private_pem(const void *pem, size_t len, const char *what, ly_passphrase_fn pass,
			    void *pass_ctx, struct ly_key **ret_key, struct err *e)
{
	struct pass_state *s;
	EVP_PKEY *pkey;
	BIO *bio;
	int rc;

	if (len > LY_KEY_FILE_MAX)
		return err_set(e, ERR_INPUT, "%s: larger than %u bytes; not a key", what,
			       LY_KEY_FILE_MAX);
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	s->fn = pass;
	s->ctx = pass_ctx;
	s->what = what;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		free(s);
		return ssl_err(e, ERR_OPERATIONAL, "out of memory");
	}
	ERR_clear_error();
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_pass_cb, s);
	BIO_free(bio);
	if (pkey) {
		ERR_clear_error();
		rc = key_wrap(pkey, true, what, ret_key, e);
	} else if (s->asked < 0) {
		ERR_clear_error();
		*e = s->err;
		rc = -1;
	} else if (s->asked > 0) {
		rc = ssl_err(e, ERR_INPUT, "cannot decrypt the private key %s: wrong passphrase?",
			     what);
	} else {
		rc = ssl_err(e, ERR_INPUT,
			     "%s: not a PEM private key (expected PKCS#8 'BEGIN PRIVATE KEY' or "
			     "'BEGIN ENCRYPTED PRIVATE KEY', as made by 'inlay keygen' or "
			     "'openssl genpkey')",
			     what);
	}
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	return rc;
}

int ly_key_from_public_pem(const void *pem, size_t len, const char *what, struct ly_key **ret_key,
			   struct err *e)
{
	EVP_PKEY *pkey;
	BIO *bio;

	if (len > LY_KEY_FILE_MAX)
		return err_set(e, ERR_INPUT, "%s: larger than %u bytes; not a key", what,
			       LY_KEY_FILE_MAX);
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return ssl_err(e, ERR_OPERATIONAL, "out of memory");
	ERR_clear_error();
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey)
		return ssl_err(
		    e, ERR_INPUT,
		    "%s: not a PEM public key (expected 'BEGIN PUBLIC KEY', as 'inlay keygen' "
		    "writes to PREFIX.pub or 'openssl pkey -pubout' prints)",
		    what);
	ERR_clear_error();
	return key_wrap(pkey, false, what, ret_key, e);
}

/* Read at most max bytes of fd into a new buffer (NUL-terminated). A file
 * larger than max is an error, not a truncation. */
static int read_bounded(int fd, const char *path, size_t max, char **ret, size_t *ret_len,
			struct err *e)
{
	char *data = malloc(max + 1);
	size_t len = 0;
	ssize_t n;

	if (!data)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (;;) {
		n = read(fd, data + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > max) {
			OPENSSL_cleanse(data, len);
			free(data);
			return err_set(e, ERR_INPUT, "%s: larger than %zu bytes; not a key", path,
				       max);
		}
	}
	if (n < 0) {
		OPENSSL_cleanse(data, len);
		free(data);
		return err_sys(e, ERR_OPERATIONAL, "read %s", path);
	}
	data[len] = '\0';
	*ret = data;
	*ret_len = len;
	return 0;
}

/* Open a key file for reading without blocking on a FIFO, and check it is a
 * regular file; for a private key also that nobody but its owner may touch
 * it. The checks are made on the descriptor that is then read. */
static int open_key_file(const char *path, bool private, int *ret_fd, struct err *e)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return err_sys(e, errno == ENOENT || errno == EACCES ? ERR_INPUT : ERR_OPERATIONAL,
			       "open key %s", path);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return err_sys(e, ERR_OPERATIONAL, "stat key %s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_INPUT, "key %s is not a regular file", path);
	}
	if (private && (st.st_mode & 077)) {
		close(fd);
		return err_set(
		    e, ERR_INPUT,
		    "private key %s has mode %04o: it must not be accessible to group or others "
		    "(run 'chmod 600 %s')",
		    path, (unsigned)(st.st_mode & 07777), path);
	}
	*ret_fd = fd;
	return 0;
}

int ly_key_load_private(const char *path, ly_passphrase_fn pass, void *pass_ctx,
			struct ly_key **ret_key, struct err *e)
{
	char *data = NULL;
	size_t len = 0;
	int fd, rc;

	if (open_key_file(path, true, &fd, e) < 0)
		return -1;
	rc = read_bounded(fd, path, LY_KEY_FILE_MAX, &data, &len, e);
	close(fd);
	if (rc < 0)
		return -1;
	rc = ly_key_from_private_pem(data, len, path, pass, pass_ctx, ret_key, e);
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

int ly_key_load_public(const char *path, struct ly_key **ret_key, struct err *e)
{
	char *data = NULL;
	size_t len = 0;
	int fd, rc;

	if (open_key_file(path, false, &fd, e) < 0)
		return -1;
	rc = read_bounded(fd, path, LY_KEY_FILE_MAX, &data, &len, e);
	close(fd);
	if (rc < 0)
		return -1;
	rc = ly_key_from_public_pem(data, len, path, ret_key, e);
	free(data);
	return rc;
}

void ly_key_free(struct ly_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* OpenSSL clears private key material on free */
	free(k);
}

enum ly_key_type ly_key_type(const struct ly_key *k)
{
	return k->type;
}

bool ly_key_is_private(const struct ly_key *k)
{
	return k->private;
}

int ly_key_public_der(const struct ly_key *k, unsigned char **ret_der, size_t *ret_len,
		      struct err *e)
{
	unsigned char *der = NULL, *copy;
	int n = i2d_PUBKEY(k->pkey, &der);

	if (n <= 0)
		return ssl_err(e, ERR_OPERATIONAL, "cannot encode the public key");
	copy = malloc((size_t)n);
	if (!copy) {
		OPENSSL_free(der);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*ret_der = copy;
	*ret_len = (size_t)n;
	return 0;
}

int ly_key_fingerprint(const struct ly_key *k, char out[LY_DIGEST_MAX], struct err *e)
{
	unsigned char *der;
	size_t len;

	if (ly_key_public_der(k, &der, &len, e) < 0)
		return -1;
	ly_sha256_digest(der, len, out);
	free(der);
	return 0;
}

/* The contents of a memory BIO as a new NUL-terminated string. */
static int bio_take(BIO *bio, char **ret, size_t *ret_len, struct err *e)
{
	char *mem = NULL, *copy;
	long n = BIO_get_mem_data(bio, &mem);

	if (n <= 0 || !mem)
		return ssl_err(e, ERR_OPERATIONAL, "cannot encode the key");
	copy = malloc((size_t)n + 1);
	if (!copy)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	memcpy(copy, mem, (size_t)n);
	copy[n] = '\0';
	*ret = copy;
	if (ret_len)
		*ret_len = (size_t)n;
	return 0;
}

int ly_key_public_pem(const struct ly_key *k, char **ret_pem, size_t *ret_len, struct err *e)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc;

	if (!bio)
		return ssl_err(e, ERR_OPERATIONAL, "out of memory");
	if (PEM_write_bio_PUBKEY(bio, k->pkey) != 1)
		rc = ssl_err(e, ERR_OPERATIONAL, "cannot encode the public key as PEM");
	else
		rc = bio_take(bio, ret_pem, ret_len, e);
	BIO_free(bio);
	return rc;
}

int ly_key_private_pem(const struct ly_key *k, const char *passphrase, char **ret_pem,
		       size_t *ret_len, struct err *e)
{
	/* A secure-memory BIO: the PEM text is wiped when the BIO is freed. */
	BIO *bio = BIO_new(BIO_s_secmem());
	const EVP_CIPHER *cipher = passphrase ? EVP_aes_256_cbc() : NULL;
	size_t plen = passphrase ? strlen(passphrase) : 0;
	int rc;

	if (!k->private)
		return err_set(e, ERR_INPUT, "a public key has no private half to write");
	if (plen > LY_PASSPHRASE_MAX)
		return err_set(e, ERR_INPUT, "the passphrase is longer than %d bytes",
			       LY_PASSPHRASE_MAX);
	if (!bio)
		return ssl_err(e, ERR_OPERATIONAL, "out of memory");
	if (PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, cipher, passphrase ? passphrase : NULL,
					  (int)plen, NULL, NULL) != 1)
		rc = ssl_err(e, ERR_OPERATIONAL, "cannot encode the private key as PKCS#8 PEM");
	else
		rc = bio_take(bio, ret_pem, ret_len, e);
	BIO_free(bio);
	return rc;
}

/* Create path (never an existing file or a symlink) with exactly `mode`
 * and write data to it; on any failure the half-written file is removed. */
static int write_new_file(const char *path, mode_t mode, const char *data, size_t len,
			  struct err *e)
{
	size_t off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0) {
		if (errno == EEXIST)
			return err_set(e, ERR_INPUT,
				       "%s already exists; inlay never overwrites a key file "
				       "(remove it or choose another -o PREFIX)",
				       path);
		return err_sys(e, ERR_OPERATIONAL, "create %s", path);
	}
	/* The umask may have taken bits away; set exactly what was asked. */
	if (fchmod(fd, mode) < 0) {
		err_sys(e, ERR_OPERATIONAL, "chmod %s", path);
		goto fail;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_sys(e, ERR_OPERATIONAL, "write %s", path);
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		err_sys(e, ERR_OPERATIONAL, "fsync %s", path);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_sys(e, ERR_OPERATIONAL, "close %s", path);
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(path);
	return -1;
}

int ly_key_write_private(const struct ly_key *k, const char *path, const char *passphrase,
			 struct err *e)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if (ly_key_private_pem(k, passphrase, &pem, &len, e) < 0)
		return -1;
	rc = write_new_file(path, 0600, pem, len, e);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return rc;
}

int ly_key_write_public(const struct ly_key *k, const char *path, struct err *e)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	if (ly_key_public_pem(k, &pem, &len, e) < 0)
		return -1;
	rc = write_new_file(path, 0644, pem, len, e);
	free(pem);
	return rc;
}

/* Ed25519 signs the message itself (no digest); ECDSA its SHA-256. */
static const EVP_MD *key_md(const struct ly_key *k)
{
	return k->type == LY_KEY_ED25519 ? NULL : EVP_sha256();
}

int ly_sign(const struct ly_key *k, const void *data, size_t len, unsigned char **ret_sig,
	    size_t *ret_len, struct err *e)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	int rc = -1;

	if (!k->private)
		return err_set(e, ERR_INPUT,
			       "signing needs a private key, and this is a public key");
	if (!data)
		data = "";
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, key_md(k), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &sig_len, data, len) != 1) {
		ssl_err(e, ERR_OPERATIONAL, "cannot start a %s signature",
			ly_key_type_name(k->type));
		goto out;
	}
	if (sig_len == 0 || sig_len > LY_SIGNATURE_MAX) {
		err_set(e, ERR_OPERATIONAL, "unexpected %s signature size %zu",
			ly_key_type_name(k->type), sig_len);
		goto out;
	}
	sig = malloc(sig_len);
	if (!sig) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	/* ECDSA and Ed25519 contexts take one EVP_DigestSign each: start over. */
	if (EVP_DigestSignInit(ctx, NULL, key_md(k), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, data, len) != 1) {
		ssl_err(e, ERR_OPERATIONAL, "%s signing failed", ly_key_type_name(k->type));
		goto out;
	}
	*ret_sig = sig;
	*ret_len = sig_len;
	sig = NULL; /* transferred */
	rc = 0;
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int ly_verify(const struct ly_key *k, const void *data, size_t len, const unsigned char *sig,
	      size_t sig_len, struct err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (!ctx)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (!data)
		data = "";
	if (EVP_DigestVerifyInit(ctx, NULL, key_md(k), NULL, k->pkey) != 1) {
		EVP_MD_CTX_free(ctx);
		return ssl_err(e, ERR_OPERATIONAL, "cannot start a %s verification",
			       ly_key_type_name(k->type));
	}
	r = sig_len > LY_SIGNATURE_MAX ? 0 : EVP_DigestVerify(ctx, sig, sig_len, data, len);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (r != 1)
		return err_set(e, ERR_VERIFY, "the %s signature does not verify with this key",
			       ly_key_type_name(k->type));
	return 0;
}

int ly_sign_base64(const struct ly_key *k, const void *data, size_t len, char **ret_b64,
		   struct err *e)
{
	unsigned char *sig;
	size_t sig_len;
	int rc;

	if (ly_sign(k, data, len, &sig, &sig_len, e) < 0)
		return -1;
	rc = ly_base64_encode(sig, sig_len, ret_b64, e);
	free(sig);
	return rc;
}

int ly_verify_base64(const struct ly_key *k, const void *data, size_t len, const char *b64,
		     struct err *e)
{
	unsigned char *sig;
	size_t sig_len;
	int rc;

	if (ly_base64_decode(b64, strlen(b64), LY_SIGNATURE_MAX, &sig, &sig_len, e) < 0) {
		e->cls = ERR_VERIFY;
		return err_prefix(e, "signature");
	}
	rc = ly_verify(k, data, len, sig, sig_len, e);
	free(sig);
	return rc;
}

int ly_base64_encode(const void *data, size_t len, char **ret_text, struct err *e)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = data;
	size_t i, o = 0;
	char *out;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return err_set(e, ERR_INPUT, "too much data to encode");
	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	*ret_text = out;
	return 0;
}

int ly_base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int ly_base64_decode(const char *text, size_t len, size_t max, unsigned char **ret_data,
		     size_t *ret_len, struct err *e)
{
	const unsigned char *in = (const unsigned char *)text;
	size_t pad = 0, out_len, i, o = 0;
	unsigned char *out;

	if (len % 4 != 0)
		return err_set(e, ERR_INPUT, "not base64: its length %zu is not a multiple of 4",
			       len);
	if (len && in[len - 1] == '=')
		pad = len >= 2 && in[len - 2] == '=' ? 2 : 1;
	out_len = len / 4 * 3 - pad;
	if (out_len > max)
		return err_set(e, ERR_INPUT, "base64 text decodes to %zu bytes, more than %zu",
			       out_len, max);
	out = malloc(out_len + 1);
	if (!out)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (i = 0; i < len; i += 4) {
		int v[4], k, n = 4;
		unsigned w;

		if (i + 4 == len)
			n = 4 - (int)pad;
		for (k = 0; k < 4; k++) {
			v[k] = k < n ? ly_base64_value(in[i + k]) : 0;
			if (v[k] < 0) {
				free(out);
				return err_set(e, ERR_INPUT,
					       "not base64: byte %zu is not in the alphabet",
					       i + (size_t)k);
			}
		}
		w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 |
		    (unsigned)v[3];
		/* Bits the padding leaves unused must be zero: one encoding per
		 * byte string. */
		if ((n == 3 && (w & 0xff)) || (n == 2 && (w & 0xffff))) {
			free(out);
			return err_set(e, ERR_INPUT,
				       "not canonical base64: non-zero bits before the padding");
		}
		out[o++] = (unsigned char)(w >> 16);
		if (n > 2)
			out[o++] = (unsigned char)(w >> 8);
		if (n > 3)
			out[o++] = (unsigned char)w;
	}
	out[o] = '\0';
	*ret_data = out;
	*ret_len = o;
	return 0;
}
