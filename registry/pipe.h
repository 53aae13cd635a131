/* pipe.h - a bounded in-memory pipe between two threads (internal to
 * registry/). A blob streamed from one registry to another flows through one
 * of these: the download thread writes, the upload reads, and neither can
 * hold more than the pipe's capacity, whatever the blob's size.
 *
 * Either side can fail the pipe; the other side then sees -1 at its next
 * call, so a failed download aborts the upload before it commits and a
 * failed upload stops the download. */
#ifndef INLAY_RG_PIPE_H
#define INLAY_RG_PIPE_H

#include <stddef.h>
#include <sys/types.h>

struct rg_pipe;

/* A pipe holding at most capacity bytes. NULL on ENOMEM. */
struct rg_pipe *rg_pipe_new(size_t capacity);

/* Accepts NULL. Both sides must be done with it. */
void rg_pipe_free(struct rg_pipe *p);

/* Writer: block until all n bytes are in. 0, or -1 when the pipe failed. */
int rg_pipe_write(struct rg_pipe *p, const void *data, size_t n);

/* Writer: no more data. The reader sees 0 once it drained the pipe. */
void rg_pipe_close(struct rg_pipe *p);

/* Reader: block until some bytes are there; returns their count (> 0), 0 at
 * the end after rg_pipe_close, or -1 when the pipe failed. The last byte
 * written is handed out only after rg_pipe_close, so a reader can never
 * consume a whole stream the writer has not vouched for. The capacity must
 * be at least 2. */
ssize_t rg_pipe_read(struct rg_pipe *p, void *data, size_t n);

/* Either side: fail the pipe and wake the other side. */
void rg_pipe_fail(struct rg_pipe *p);

#endif
