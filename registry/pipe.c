/* pipe.c - see pipe.h. A ring buffer guarded by one mutex and one condition
 * variable; the transfers are network-bound, so a lock-free ring would buy
 * nothing measurable. */
#include "pipe.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct rg_pipe {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned char *ring;
	size_t cap, head, len; /* data at ring[head .. head+len) modulo cap */
	bool closed, failed;
};

struct rg_pipe *rg_pipe_new(size_t capacity)
{
	struct rg_pipe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->ring = malloc(capacity);
	if (!p->ring) {
		free(p);
		return NULL;
	}
	p->cap = capacity;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	return p;
}

void rg_pipe_free(struct rg_pipe *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->changed);
	free(p->ring);
	free(p);
}

int rg_pipe_write(struct rg_pipe *p, const void *data, size_t n)
{
	const unsigned char *src = data;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	while (n > 0) {
		size_t tail, chunk;

		while (!p->failed && p->len == p->cap)
			pthread_cond_wait(&p->changed, &p->lock);
		if (p->failed) {
			rc = -1;
			break;
		}
		tail = (p->head + p->len) % p->cap;
		chunk = p->cap - p->len;
		if (chunk > p->cap - tail)
			chunk = p->cap - tail;
		if (chunk > n)
			chunk = n;
		memcpy(p->ring + tail, src, chunk);
		p->len += chunk;
		src += chunk;
		n -= chunk;
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void rg_pipe_close(struct rg_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->closed = true;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

ssize_t rg_pipe_read(struct rg_pipe *p, void *data, size_t n)
{
	size_t chunk;
	ssize_t rc;

	pthread_mutex_lock(&p->lock);
	/* Until the writer closes the pipe, the last byte stays in it: a
	 * reader that knows the length (an upload with Content-Length) could
	 * otherwise finish, and commit, before the writer has verified what it
	 * wrote. */
	while (!p->failed && !p->closed && p->len <= 1)
		pthread_cond_wait(&p->changed, &p->lock);
	if (p->failed) {
		rc = -1;
	} else if (p->len == 0) {
		rc = 0; /* closed and drained */
	} else {
		chunk = p->closed ? p->len : p->len - 1;
		if (chunk > p->cap - p->head)
			chunk = p->cap - p->head;
		if (chunk > n)
			chunk = n;
		memcpy(data, p->ring + p->head, chunk);
		p->head = (p->head + chunk) % p->cap;
		p->len -= chunk;
		rc = (ssize_t)chunk;
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void rg_pipe_fail(struct rg_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->failed = true;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}
