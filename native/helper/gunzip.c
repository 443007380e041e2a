/*
 * Streaming gzip decoding for apply-tar (see gunzip.h).
 *
 * ISA-L is loaded with dlopen, and only from the directory that holds this executable: the
 * build copies the libisal.so.2 it compiled against next to skiff-helper, and the single
 * executable carries it as an asset beside the helper. So the struct layout in the header we
 * compiled with is the library's, and a machine without ISA-L needs nothing installed. When it
 * cannot be loaded the helper uses the statically linked zlib: slower, same results.
 *
 * Either way the caller hashes every byte produced and Node compares that with the image's
 * diffID before it commits the layer, so a decoder bug cannot slip a wrong layer in.
 */
#include "gunzip.h"
#include "helper.h"

#include <dlfcn.h>
#include <isa-l/igzip_lib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define ISAL_LIBRARY "libisal.so.2"

/* One input or output window per call is at most this big (ISA-L counts in uint32_t). */
#define STEP_MAX (1u << 30)

static struct {
  void (*init)(struct inflate_state *);
  void (*reset)(struct inflate_state *);
  int (*inflate)(struct inflate_state *);
} g_isal;
static struct inflate_state *g_isal_state; /* non-NULL: ISA-L is the backend */
static z_stream g_zlib;

/* dlopen ISA-L from this executable's directory; 0 when it is not there or not usable. */
static int load_isal(const char **why) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    *why = "cannot find the helper's own directory";
    return 0;
  }
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  char path[PATH_MAX + sizeof ISAL_LIBRARY];
  snprintf(path, sizeof path, "%.*s/%s", (int)(slash ? slash - self : 0), self, ISAL_LIBRARY);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    *why = dlerror();
    return 0;
  }
  g_isal.init = (void (*)(struct inflate_state *))dlsym(lib, "isal_inflate_init");
  g_isal.reset = (void (*)(struct inflate_state *))dlsym(lib, "isal_inflate_reset");
  g_isal.inflate = (int (*)(struct inflate_state *))dlsym(lib, "isal_inflate");
  if (!g_isal.init || !g_isal.reset || !g_isal.inflate) {
    *why = "it lacks isal_inflate";
    return 0;
  }
  g_isal_state = xmalloc(sizeof *g_isal_state);
  return 1;
}

void gunzip_start(void) {
  const char *want = getenv("SKIFF_GZIP"), *why = "";
  if (!want || strcmp(want, "zlib")) {
    if (load_isal(&why)) {
      g_isal.init(g_isal_state);
      g_isal_state->crc_flag = ISAL_GZIP; /* parse the gzip header, check CRC and size */
      return;
    }
    if (want && !strcmp(want, "isa-l")) die("apply-tar: cannot load %s: %s", ISAL_LIBRARY, why);
  }
  if (inflateInit2(&g_zlib, 15 + 16) != Z_OK) die("apply-tar: cannot start zlib");
}

void gunzip_next_member(void) {
  if (g_isal_state) {
    g_isal.reset(g_isal_state);
    g_isal_state->crc_flag = ISAL_GZIP;
  } else {
    inflateReset(&g_zlib);
  }
}

const char *gunzip_backend(void) { return g_isal_state ? "isa-l" : "zlib"; }

/* zlib's own words for the same faults, so a message does not depend on the backend. */
static const char *isal_error(int r) {
  switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid block type";
    case ISAL_INVALID_SYMBOL: return "invalid code";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "incorrect header check";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
    default: return "inflate failed";
  }
}

static enum gunzip_status step_isal(const unsigned char *in, size_t in_len, size_t *in_used, unsigned char *out,
                                    size_t out_len, size_t *out_made, const char **err) {
  struct inflate_state *s = g_isal_state;
  s->next_in = (uint8_t *)in;
  s->avail_in = (uint32_t)in_len;
  s->next_out = out;
  s->avail_out = (uint32_t)out_len;
  int r = g_isal.inflate(s);
  /* At the end of a member ISA-L hands back the bytes it had buffered past the trailer, so
   * next_in is exactly where the next member (or trailing data) starts. */
  *in_used = (size_t)(s->next_in - in);
  *out_made = out_len - s->avail_out;
  if (r < 0) {
    *err = isal_error(r);
    return GUNZIP_ERROR;
  }
  return s->block_state == ISAL_BLOCK_FINISH ? GUNZIP_MEMBER_END : GUNZIP_MORE;
}

static enum gunzip_status step_zlib(const unsigned char *in, size_t in_len, size_t *in_used, unsigned char *out,
                                    size_t out_len, size_t *out_made, const char **err) {
  g_zlib.next_in = (unsigned char *)in;
  g_zlib.avail_in = (uInt)in_len;
  g_zlib.next_out = out;
  g_zlib.avail_out = (uInt)out_len;
  int r = inflate(&g_zlib, Z_NO_FLUSH);
  *in_used = in_len - g_zlib.avail_in;
  *out_made = out_len - g_zlib.avail_out;
  if (r == Z_STREAM_END) return GUNZIP_MEMBER_END;
  if (r == Z_OK || r == Z_BUF_ERROR) return GUNZIP_MORE;
  *err = g_zlib.msg ? g_zlib.msg : "inflate failed";
  return GUNZIP_ERROR;
}

enum gunzip_status gunzip_step(const unsigned char *in, size_t in_len, size_t *in_used, unsigned char *out,
                               size_t out_len, size_t *out_made, const char **err) {
  if (in_len > STEP_MAX) in_len = STEP_MAX;
  if (out_len > STEP_MAX) out_len = STEP_MAX;
  return g_isal_state ? step_isal(in, in_len, in_used, out, out_len, out_made, err)
                      : step_zlib(in, in_len, in_used, out, out_len, out_made, err);
}
