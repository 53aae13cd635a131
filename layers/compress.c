/* compress.c - see compress.h. */
#include "compress.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* Output is handed on in pieces of this size: large enough that the hash and
 * buffer appends see few calls, small enough to live in the struct. */
#define LY_Z_CHUNK 65536

/* RFC 1952 header: ID1 ID2 CM=8 (deflate) FLG=0 (no name, comment, extra or
 * header CRC) MTIME=0 XFL=2 (level 9: "maximum compression") OS=255
 * (unknown). Nothing depends on the time, the file or the machine. */
static const unsigned char gzip_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255};

struct ly_compressor {
	enum ly_compression c;
	ly_write_fn out;
	void *arg;
	bool started; /* the gzip header is out */
	bool finished;
	z_stream zs;
	bool zs_init;
	uint32_t crc;	/* gzip CRC32 of the input */
	uint32_t isize; /* gzip input size modulo 2^32 (RFC 1952) */
	ZSTD_CCtx *zc;
	unsigned char chunk[LY_Z_CHUNK];
};

int ly_compressor_new(enum ly_compression c, uint64_t size, ly_write_fn out, void *arg,
		      struct ly_compressor **ret_z, struct err *e)
{
	struct ly_compressor *z = NULL;
	size_t zr;
	int r = -1;

	if (c != LY_COMPRESS_NONE && c != LY_COMPRESS_GZIP && c != LY_COMPRESS_ZSTD)
		return err_set(e, ERR_INPUT,
			       "cannot compress a layer as '%s' (use gzip, zstd or none)",
			       ly_compression_name(c));
	z = calloc(1, sizeof(*z));
	if (!z)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	z->c = c;
	z->out = out;
	z->arg = arg;
	if (c == LY_COMPRESS_GZIP) {
		/* Raw deflate (negative window bits): the gzip wrapper is ours,
		 * so no field of it comes from zlib's defaults. */
		if (deflateInit2(&z->zs, LY_GZIP_LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
		    Z_OK) {
			err_set(e, ERR_OPERATIONAL, "cannot start gzip compression (zlib): %s",
				z->zs.msg ? z->zs.msg : "out of memory");
			goto out;
		}
		z->zs_init = true;
		z->crc = (uint32_t)crc32(0L, Z_NULL, 0);
	} else if (c == LY_COMPRESS_ZSTD) {
		z->zc = ZSTD_createCCtx();
		if (!z->zc) {
			err_set(e, ERR_OPERATIONAL, "cannot start zstd compression: out of memory");
			goto out;
		}
		/* Every parameter that changes the bytes is set, not inherited:
		 * worker threads would split the input differently. */
		zr = ZSTD_CCtx_setParameter(z->zc, ZSTD_c_compressionLevel, LY_ZSTD_LEVEL);
		if (!ZSTD_isError(zr))
			zr = ZSTD_CCtx_setParameter(z->zc, ZSTD_c_checksumFlag, 1);
		if (!ZSTD_isError(zr))
			zr = ZSTD_CCtx_setParameter(z->zc, ZSTD_c_nbWorkers, 0);
		if (!ZSTD_isError(zr) && size != LY_SIZE_UNKNOWN)
			zr = ZSTD_CCtx_setPledgedSrcSize(z->zc, size);
		if (ZSTD_isError(zr)) {
			err_set(e, ERR_OPERATIONAL, "cannot set up zstd compression: %s",
				ZSTD_getErrorName(zr));
			goto out;
		}
	}
	*ret_z = z;
	z = NULL; /* transferred */
	r = 0;
out:
	ly_compressor_free(z);
	return r;
}

/* Run deflate over the pending input with `flush`, handing on every full or
 * final chunk. */
static int gzip_pump(struct ly_compressor *z, int flush, struct err *e)
{
	int zr;
	size_t have;

	do {
		z->zs.next_out = z->chunk;
		z->zs.avail_out = sizeof(z->chunk);
		zr = deflate(&z->zs, flush);
		if (zr == Z_STREAM_ERROR)
			return err_set(e, ERR_OPERATIONAL, "gzip compression failed (zlib): %s",
				       z->zs.msg ? z->zs.msg : "stream error");
		have = sizeof(z->chunk) - z->zs.avail_out;
		if (have && z->out(z->arg, z->chunk, have, e) < 0)
			return -1;
		/* deflate stops only when out of input or output space; a full
		 * chunk means there may be more. */
	} while (z->zs.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
	return 0;
}

static int gzip_start(struct ly_compressor *z, struct err *e)
{
	if (z->started)
		return 0;
	z->started = true;
	return z->out(z->arg, gzip_header, sizeof(gzip_header), e);
}

static int zstd_pump(struct ly_compressor *z, const void *data, size_t n, ZSTD_EndDirective mode,
		     struct err *e)
{
	ZSTD_inBuffer in = {data, n, 0};
	ZSTD_outBuffer outb;
	size_t left;

	do {
		outb.dst = z->chunk;
		outb.size = sizeof(z->chunk);
		outb.pos = 0;
		left = ZSTD_compressStream2(z->zc, &outb, &in, mode);
		if (ZSTD_isError(left))
			return err_set(e, ERR_OPERATIONAL, "zstd compression failed: %s",
				       ZSTD_getErrorName(left));
		if (outb.pos && z->out(z->arg, z->chunk, outb.pos, e) < 0)
			return -1;
		/* continue: until the input is taken; end: until the frame
		 * is complete (left == 0). */
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

int ly_compressor_write(struct ly_compressor *z, const void *data, size_t n, struct err *e)
{
	const unsigned char *p = data;
	uInt step;

	if (z->finished)
		return err_set(e, ERR_OPERATIONAL,
			       "internal error: write after the end of a %s stream",
			       ly_compression_name(z->c));
	if (n == 0)
		return 0;
	switch (z->c) {
	case LY_COMPRESS_NONE:
		return z->out(z->arg, data, n, e);
	case LY_COMPRESS_GZIP:
		if (gzip_start(z, e) < 0)
			return -1;
		/* zlib counts in uInt: feed sizes beyond it in steps. */
		while (n > 0) {
			step = n > UINT_MAX ? UINT_MAX : (uInt)n;
			z->crc = (uint32_t)crc32(z->crc, p, step);
			z->isize += (uint32_t)step;
			z->zs.next_in = (Bytef *)(uintptr_t)p;
			z->zs.avail_in = step;
			if (gzip_pump(z, Z_NO_FLUSH, e) < 0)
				return -1;
			p += step;
			n -= step;
		}
		return 0;
	case LY_COMPRESS_ZSTD:
		return zstd_pump(z, data, n, ZSTD_e_continue, e);
	default:
		return err_set(e, ERR_OPERATIONAL, "internal error: bad compression %d", (int)z->c);
	}
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)((v >> 8) & 0xff);
	p[2] = (unsigned char)((v >> 16) & 0xff);
	p[3] = (unsigned char)((v >> 24) & 0xff);
}

int ly_compressor_finish(struct ly_compressor *z, struct err *e)
{
	unsigned char trailer[8];

	if (z->finished)
		return err_set(e, ERR_OPERATIONAL, "internal error: %s stream finished twice",
			       ly_compression_name(z->c));
	z->finished = true;
	switch (z->c) {
	case LY_COMPRESS_NONE:
		return 0;
	case LY_COMPRESS_GZIP:
		if (gzip_start(z, e) < 0)
			return -1;
		z->zs.next_in = NULL;
		z->zs.avail_in = 0;
		if (gzip_pump(z, Z_FINISH, e) < 0)
			return -1;
		put_le32(trailer, z->crc);
		put_le32(trailer + 4, z->isize);
		return z->out(z->arg, trailer, sizeof(trailer), e);
	case LY_COMPRESS_ZSTD:
		return zstd_pump(z, NULL, 0, ZSTD_e_end, e);
	default:
		return err_set(e, ERR_OPERATIONAL, "internal error: bad compression %d", (int)z->c);
	}
}

void ly_compressor_free(struct ly_compressor *z)
{
	if (!z)
		return;
	if (z->zs_init)
		deflateEnd(&z->zs);
	ZSTD_freeCCtx(z->zc);
	free(z);
}
