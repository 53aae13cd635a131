/* progress.c - see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

#define REDRAW_MS 100

static void draw(struct rg_progress *pg, bool force)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - pg->last_draw.tv_sec) * 1000 +
	     (now.tv_nsec - pg->last_draw.tv_nsec) / 1000000;
	if (!force && ms < REDRAW_MS)
		return;
	pg->last_draw = now;
	fprintf(stderr, "\r\033[K%s %zu/%zu  %.1f/%.1f MB", pg->label, pg->items_done,
		pg->items_total, (double)pg->bytes_done / 1e6, (double)pg->bytes_total / 1e6);
	fflush(stderr);
}

void rg_progress_start(struct rg_progress *pg, const struct rg_endpoint *ep, const char *label,
		       size_t items, uint64_t bytes)
{
	const struct rg_options *opt = rg_endpoint_options(ep);

	memset(pg, 0, sizeof(*pg));
	pthread_mutex_init(&pg->lock, NULL);
	pg->enabled = opt && !opt->quiet && items > 0 && isatty(STDERR_FILENO);
	pg->label = label;
	pg->items_total = items;
	pg->bytes_total = bytes;
}

void rg_progress_bytes(struct rg_progress *pg, size_t n)
{
	if (!pg->enabled)
		return;
	pthread_mutex_lock(&pg->lock);
	pg->bytes_done += n;
	draw(pg, false);
	pthread_mutex_unlock(&pg->lock);
}

void rg_progress_item_done(struct rg_progress *pg, uint64_t unsent)
{
	if (!pg->enabled)
		return;
	pthread_mutex_lock(&pg->lock);
	pg->items_done++;
	pg->bytes_done += unsent;
	draw(pg, true);
	pthread_mutex_unlock(&pg->lock);
}

void rg_progress_end(struct rg_progress *pg)
{
	if (pg->enabled)
		fputs("\n", stderr);
	pthread_mutex_destroy(&pg->lock);
}
