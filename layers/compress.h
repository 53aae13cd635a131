/* compress.h - reproducible gzip and zstd streams (internal to layers/, also
 * usable by a caller that streams a layer it cannot hold in memory).
 *
 * A compressor takes bytes in pieces and hands its output to a write
 * function as it is produced. The parameters are fixed (layer.h explains
 * them), so the same input gives the same bytes on every run. NONE passes
 * the bytes through unchanged.
 */
#ifndef INLAY_LY_COMPRESS_H
#define INLAY_LY_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "../manifest/err.h"
#include "layer.h"

/* Receives compressed output: return 0, or -1 after filling e to abort. */
typedef int (*ly_write_fn)(void *arg, const void *data, size_t n, struct err *e);

struct ly_compressor;

/* ly_compressor_new's size when the input size is not known in advance. */
#define LY_SIZE_UNKNOWN UINT64_MAX

/* Start a stream of compression c (NONE, GZIP or ZSTD) writing to out(arg).
 * size is the exact number of bytes that will be written, or
 * LY_SIZE_UNKNOWN: zstd records a known size in the frame header and sizes
 * its window to it (a small layer then needs a small window to decompress,
 * not level 19's 8 MiB), and fails at finish when the count differs; gzip
 * ignores it. Nothing is written yet. Returns 0 or -1 (out of memory,
 * library failure, ERR_INPUT for AUTO or an unknown value). */
int ly_compressor_new(enum ly_compression c, uint64_t size, ly_write_fn out, void *arg,
		      struct ly_compressor **ret_z, struct err *e);

/* Compress n more bytes. Output may or may not be written now. Returns 0 or
 * -1 (the write function's error, or the library's). */
int ly_compressor_write(struct ly_compressor *z, const void *data, size_t n, struct err *e);

/* Flush everything and write the trailer (gzip CRC32 and size, zstd end of
 * frame and checksum). No write may follow. Returns 0 or -1. */
int ly_compressor_finish(struct ly_compressor *z, struct err *e);

/* Accepts NULL. Does not call the write function. */
void ly_compressor_free(struct ly_compressor *z);

#endif
