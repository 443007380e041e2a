/* Streaming gzip decoding for apply-tar: ISA-L's igzip when its library can be loaded (about
 * three times zlib's speed, and inflating is most of a pull's CPU), zlib otherwise. */
#ifndef SKIFF_GUNZIP_H
#define SKIFF_GUNZIP_H

#include <stddef.h>

enum gunzip_status {
  GUNZIP_MORE,       /* give more input or more output room */
  GUNZIP_MEMBER_END, /* a gzip member ended (trailer checked); call gunzip_next_member() to go on */
  GUNZIP_ERROR,      /* bad data: the reason is in *err */
};

/* Choose the backend and start the first member. SKIFF_GZIP=zlib forces zlib and
 * SKIFF_GZIP=isa-l insists on ISA-L (tests use both); otherwise ISA-L if it loads. */
void gunzip_start(void);

/* Start the next member of a concatenated stream, after GUNZIP_MEMBER_END. */
void gunzip_next_member(void);

/* Decode from IN (*in_used is set to the bytes consumed) into OUT (*out_made to the bytes
 * produced). Consumes no input past the end of a member. */
enum gunzip_status gunzip_step(const unsigned char *in, size_t in_len, size_t *in_used, unsigned char *out,
                               size_t out_len, size_t *out_made, const char **err);

/* "isa-l" or "zlib": the backend in use, for messages. */
const char *gunzip_backend(void);

#endif
