/* htpasswd.c - see htpasswd.h. */
#include "htpasswd.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../layers/hash.h"
#include "../layers/sign.h"

#define USERS_MAX 10000
#define LINE_MAX_BYTES 1024
#define CREDENTIALS_MAX 1024 /* decoded user:password */
#define REMEMBER_SLOTS 64
#define REMEMBER_SECONDS 300

struct user {
	char *name;
	char *hash;
};

struct remembered {
	char digest[LY_DIGEST_MAX]; /* of "user:password" */
	time_t until;
};

struct mr_htpasswd {
	struct user *users;
	size_t n;
	pthread_mutex_t lock;
	struct remembered seen[REMEMBER_SLOTS];
	size_t next_slot;
};

void mr_htpasswd_free(struct mr_htpasswd *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++) {
		free(h->users[i].name);
		free(h->users[i].hash);
	}
	free(h->users);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static bool bcrypt_hash(const char *s)
{
	return strncmp(s, "$2y$", 4) == 0 || strncmp(s, "$2b$", 4) == 0 ||
	       strncmp(s, "$2a$", 4) == 0;
}

int mr_htpasswd_load(const char *path, struct mr_htpasswd **ret, struct err *e)
{
	struct mr_htpasswd *h;
	char line[LINE_MAX_BYTES + 2];
	unsigned lineno = 0;
	FILE *f;
	int rc = -1;

	f = fopen(path, "re");
	if (!f)
		return err_sys(e, ERR_INPUT, "cannot open htpasswd file %.200s", path);
	h = calloc(1, sizeof(*h));
	if (!h || !(h->users = calloc(USERS_MAX, sizeof(*h->users)))) {
		free(h);
		fclose(f);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	pthread_mutex_init(&h->lock, NULL);
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		char *colon;

		lineno++;
		if (len > LINE_MAX_BYTES) {
			err_set(e, ERR_INPUT, "%.200s:%u: line longer than %d bytes", path, lineno,
				LINE_MAX_BYTES);
			goto out;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		if (!colon || colon == line || (size_t)(colon - line) >= MR_USER_MAX) {
			err_set(e, ERR_INPUT, "%.200s:%u: expected USER:HASH", path, lineno);
			goto out;
		}
		if (!bcrypt_hash(colon + 1)) {
			err_set(e, ERR_INPUT,
				"%.200s:%u: only bcrypt entries are accepted (make them with "
				"'htpasswd -B')",
				path, lineno);
			goto out;
		}
		if (h->n >= USERS_MAX) {
			err_set(e, ERR_INPUT, "%.200s: more than %d users", path, USERS_MAX);
			goto out;
		}
		*colon = '\0';
		h->users[h->n].name = strdup(line);
		h->users[h->n].hash = strdup(colon + 1);
		h->n++;
		if (!h->users[h->n - 1].name || !h->users[h->n - 1].hash) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
	}
	if (ferror(f)) {
		err_sys(e, ERR_INPUT, "cannot read %.200s", path);
		goto out;
	}
	*ret = h;
	h = NULL; /* transferred */
	rc = 0;
out:
	fclose(f);
	mr_htpasswd_free(h);
	return rc;
}

static bool remembered(struct mr_htpasswd *h, const char *digest)
{
	time_t now = time(NULL);
	bool hit = false;
	size_t i;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < REMEMBER_SLOTS && !hit; i++)
		hit = h->seen[i].until > now && strcmp(h->seen[i].digest, digest) == 0;
	pthread_mutex_unlock(&h->lock);
	return hit;
}

static void remember(struct mr_htpasswd *h, const char *digest)
{
	pthread_mutex_lock(&h->lock);
	snprintf(h->seen[h->next_slot].digest, LY_DIGEST_MAX, "%s", digest);
	h->seen[h->next_slot].until = time(NULL) + REMEMBER_SECONDS;
	h->next_slot = (h->next_slot + 1) % REMEMBER_SLOTS;
	pthread_mutex_unlock(&h->lock);
}

bool mr_htpasswd_check(struct mr_htpasswd *h, const char *authorization,
		       char ret_user[MR_USER_MAX])
{
	unsigned char *plain = NULL;
	char digest[LY_DIGEST_MAX];
	struct crypt_data *cd = NULL;
	const char *b64, *hashed;
	struct err ignored;
	size_t len, i, ulen;
	char *colon;
	bool ok = false;

	ret_user[0] = '\0';
	if (!authorization || strncasecmp(authorization, "Basic ", 6) != 0)
		return false;
	b64 = authorization + 6;
	while (*b64 == ' ')
		b64++;
	if (strlen(b64) > CREDENTIALS_MAX * 4 / 3 + 4 ||
	    ly_base64_decode(b64, strlen(b64), CREDENTIALS_MAX, &plain, &len, &ignored) < 0)
		return false;
	colon = memchr(plain, ':', len);
	if (!colon || memchr(plain, '\0', len))
		goto out;
	ulen = (size_t)(colon - (char *)plain);
	if (ulen == 0 || ulen >= MR_USER_MAX)
		goto out;
	/* The name goes to the log: printable ASCII only. */
	for (i = 0; i < ulen; i++)
		ret_user[i] = plain[i] > 0x20 && plain[i] < 0x7f ? (char)plain[i] : '?';
	ret_user[ulen] = '\0';
	ly_sha256_digest(plain, len, digest);
	if (remembered(h, digest)) {
		ok = true;
		goto out;
	}
	for (i = 0; i < h->n; i++)
		if (strlen(h->users[i].name) == ulen && memcmp(h->users[i].name, plain, ulen) == 0)
			break;
	if (i == h->n)
		goto out;
	cd = calloc(1, sizeof(*cd)); /* 32 KiB: not on a connection's stack */
	if (!cd)
		goto out;
	*colon = '\0';
	hashed = crypt_r(colon + 1, h->users[i].hash, cd);
	if (hashed && strlen(hashed) == strlen(h->users[i].hash) &&
	    CRYPTO_memcmp(hashed, h->users[i].hash, strlen(hashed)) == 0) {
		ok = true;
		remember(h, digest);
	}
out:
	if (plain) {
		OPENSSL_cleanse(plain, len);
		free(plain);
	}
	free(cd);
	return ok;
}
