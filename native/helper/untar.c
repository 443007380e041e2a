/*
 * skiff-helper apply-tar: unpack one layer blob from stdin below DIR. See native/PROTOCOL.md.
 *
 *   stdin -> decompress (gzip via gunzip.c: ISA-L or zlib; zstd via libzstd; or plain tar, by
 *            magic bytes)
 *         -> sha256 of every uncompressed byte (the layer's diffID)
 *         -> tar parser (ustar, GNU long names, pax) with Docker's pkg/archive policy
 *         -> layer_apply() in storage.c, which resolves every path inside DIR.
 *
 * Node streams the compressed blob in (checking the blob's own digest on the way; with
 * --blob-out this process also writes it to the file that becomes the stored blob, off Node's
 * busy main thread) and never touches the uncompressed bytes: that is the point, because
 * parsing tar and shuffling inflated chunks through JavaScript streams cost more CPU than the
 * unpacking itself. On success this prints "sha256:<hex> <size>" and Node compares the diffID
 * with the image config before it commits the layer; on any refusal it prints one line and
 * exits 1, and Node throws DIR away.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_*: the small static API, not the EVP providers */
#include "gunzip.h"
#include "helper.h"
#include "layer.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define IN_LEN (256u << 10)
#define OUT_LEN (1u << 20)
#define BLOCK 512
#define MAX_PAX_LEN (1u << 20) /* as Go's archive/tar: a pax header is metadata, not data */
#define HOSTILE "; the image is corrupt or malicious, do not use it"

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* Names from the archive are quoted like JSON.stringify would, so a hostile name cannot break
 * the one-line error (newlines, escapes); a name too long for the buffer is cut short. A few
 * rotating buffers, because messages quote up to two; separate arrays rather than one 2-D
 * array, so that a sanitizer build sees an overrun of any of them. */
#define QUOTED_LEN (4 * MAX_PATH_LEN + 3)
static char g_quoted0[QUOTED_LEN], g_quoted1[QUOTED_LEN], g_quoted2[QUOTED_LEN];

static const char *quoted(const char *s) {
  static char *const bufs[] = {g_quoted0, g_quoted1, g_quoted2};
  static unsigned next;
  char *b = bufs[next++ % 3], *o = b;
  /* Room to keep for the widest escape ("\u001f", 6 bytes), the closing quote and the NUL. */
  char *const last = b + QUOTED_LEN - 8;
  *o++ = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p && o <= last; p++) {
    if (*p == '"' || *p == '\\') {
      *o++ = '\\';
      *o++ = (char)*p;
    } else if (*p < 0x20 || *p == 0x7f) {
      o += snprintf(o, 7, "\\u%04x", *p);
    } else {
      *o++ = (char)*p;
    }
  }
  *o++ = '"';
  *o = '\0';
  return b;
}

__attribute__((noreturn)) static void corrupt(const char *detail) {
  die("layer is truncated or corrupt: %s", detail);
}

__attribute__((noreturn, format(printf, 1, 2))) static void hostile(const char *fmt, ...) {
  char msg[3 * QUOTED_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  die("%s" HOSTILE, msg);
}

/* ------------------------------------------------------------------------------------------ */
/* Input: stdin, decompressed and hashed                                                      */
/* ------------------------------------------------------------------------------------------ */

static unsigned char g_in[IN_LEN];
static size_t g_in_pos, g_in_len;
static int g_in_eof;

static unsigned char g_out[OUT_LEN]; /* uncompressed bytes, hashed as they are produced */
static size_t g_out_pos, g_out_len;

static enum { PLAIN, GZIP, ZSTD } g_codec;
static int g_gzip_member_done;
static ZSTD_DStream *g_zs;
static size_t g_zstd_todo = 1; /* ZSTD_decompressStream's hint: 0 once a frame is complete */
static SHA256_CTX g_sha;

static int g_blob_fd = -1; /* --blob-out: every input byte is copied here as it is read */
static const char *g_blob_path;

/* read(2) on stdin into BUF, waiting on a non-blocking pipe; 0 at end of input. */
static size_t read_stdin(unsigned char *buf, size_t len) {
  for (;;) {
    ssize_t n = read(0, buf, len);
    if (n > 0 && g_blob_fd >= 0) write_all(g_blob_fd, buf, (size_t)n, g_blob_path);
    if (n >= 0) return (size_t)n;
    if (errno == EAGAIN) {
      struct pollfd pfd = {.fd = 0, .events = POLLIN};
      (void)poll(&pfd, 1, -1);
    } else if (errno != EINTR) {
      die("apply-tar: reading the layer: %s", strerror(errno));
    }
  }
}

/* Compressed bytes available in g_in (refilled when used up); 0 at end of input. */
static size_t in_avail(void) {
  if (g_in_pos < g_in_len) return g_in_len - g_in_pos;
  if (g_in_eof) return 0;
  g_in_pos = 0;
  g_in_len = read_stdin(g_in, sizeof g_in);
  if (!g_in_len) g_in_eof = 1;
  return g_in_len;
}

/* Read until g_in holds at least N bytes (or the input ended): enough to see the magic. */
static void in_fill(size_t n) {
  while (g_in_len < n && !g_in_eof) {
    size_t k = read_stdin(g_in + g_in_len, sizeof g_in - g_in_len);
    if (!k) g_in_eof = 1;
    g_in_len += k;
  }
}

static void detect_codec(void) {
  in_fill(6);
  const unsigned char *m = g_in;
  size_t n = g_in_len;
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
    g_codec = GZIP;
    gunzip_start();
  } else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
    g_codec = ZSTD;
    g_zs = ZSTD_createDStream();
    if (!g_zs || ZSTD_isError(ZSTD_initDStream(g_zs))) die("apply-tar: cannot start zstd");
  } else if (n >= 6 && !memcmp(m, "\xfd" "7zXZ\0", 6)) {
    die("xz-compressed layer is not supported; decompress it first or use gzip or zstd");
  } else if (n >= 3 && !memcmp(m, "BZh", 3)) {
    die("bzip2-compressed layer is not supported; decompress it first or use gzip or zstd");
  } else {
    g_codec = PLAIN;
  }
}

/* gzip: inflate into g_out. Concatenated members are one stream (as gzip -d and Node's zlib
 * treat them); bytes after the last member that do not start another one are ignored, as
 * Node's zlib does (the compressed digest, checked by Node, still covers them). */
static void inflate_some(void) {
  size_t avail = in_avail();
  if (g_gzip_member_done) {
    if (!avail) return;
    if (g_in[g_in_pos] != 0x1f) {
      g_in_pos = g_in_len; /* trailing bytes: skipped here, drained at the end */
      while (in_avail()) g_in_pos = g_in_len;
      return;
    }
    gunzip_next_member();
    g_gzip_member_done = 0;
  }
  if (!avail) corrupt("unexpected end of gzip data");
  size_t used, made;
  const char *err = NULL;
  enum gunzip_status r = gunzip_step(g_in + g_in_pos, avail, &used, g_out + g_out_len, OUT_LEN - g_out_len, &made, &err);
  g_in_pos += used;
  g_out_len += made;
  if (r == GUNZIP_MEMBER_END) {
    g_gzip_member_done = 1;
  } else if (r == GUNZIP_ERROR) {
    char d[160];
    snprintf(d, sizeof d, "bad gzip data (%s)", err);
    corrupt(d);
  }
}

/* zstd: several frames (and skippable ones) are one stream, as in zstd -d. */
static void unzstd_some(void) {
  size_t avail = in_avail();
  ZSTD_inBuffer in = {g_in + g_in_pos, avail, 0};
  ZSTD_outBuffer out = {g_out, OUT_LEN, g_out_len};
  if (!avail && !g_zstd_todo) return;
  size_t r = ZSTD_decompressStream(g_zs, &out, &in);
  if (ZSTD_isError(r)) {
    char d[160];
    snprintf(d, sizeof d, "bad zstd data (%s)", ZSTD_getErrorName(r));
    corrupt(d);
  }
  g_in_pos += in.pos;
  g_zstd_todo = r;
  if (!avail && out.pos == g_out_len) corrupt("unexpected end of zstd data");
  g_out_len = out.pos;
}

/* Refill g_out with the next uncompressed bytes (hashing them); 0 at the end of the layer. */
static size_t produce(void) {
  g_out_pos = g_out_len = 0;
  if (g_codec == PLAIN) {
    /* Leftovers from the magic-byte peek first, then straight from stdin. */
    if (g_in_pos < g_in_len) {
      g_out_len = g_in_len - g_in_pos;
      memcpy(g_out, g_in + g_in_pos, g_out_len);
      g_in_pos = g_in_len;
    } else if (!g_in_eof) {
      g_out_len = read_stdin(g_out, OUT_LEN);
      if (!g_out_len) g_in_eof = 1;
    }
  } else {
    /* Loop: a call may consume input without producing output (headers, small frames). */
    while (!g_out_len) {
      if (g_codec == GZIP) {
        if (g_gzip_member_done && !in_avail()) break;
        inflate_some();
      } else {
        if (!g_zstd_todo && !in_avail()) break;
        unzstd_some();
      }
    }
  }
  SHA256_Update(&g_sha, g_out, g_out_len);
  return g_out_len;
}

static size_t out_avail(void) { return g_out_pos < g_out_len ? g_out_len - g_out_pos : produce(); }

static const char *g_entry; /* the entry being read, for "truncated in ..." messages */

__attribute__((noreturn)) static void truncated(void) {
  char d[4 * MAX_PATH_LEN + 64];
  if (g_entry) snprintf(d, sizeof d, "unexpected end of data in entry %s", quoted(g_entry));
  else snprintf(d, sizeof d, "unexpected end of data");
  corrupt(d);
}

static void read_exact(void *dst, size_t n) {
  unsigned char *d = dst;
  while (n) {
    size_t a = out_avail();
    if (!a) truncated();
    size_t k = n < a ? n : a;
    memcpy(d, g_out + g_out_pos, k);
    g_out_pos += k;
    d += k;
    n -= k;
  }
}

static void skip(uint64_t n) {
  while (n) {
    size_t a = out_avail();
    if (!a) truncated();
    size_t k = n < a ? (size_t)n : a;
    g_out_pos += k;
    n -= k;
  }
}

/* layer_data_fn: a regular file's data, written from the decompression buffer directly. */
static void data_to_fd(int fd, uint64_t n, const char *path) {
  while (n) {
    size_t a = out_avail();
    if (!a) truncated();
    size_t k = n < a ? (size_t)n : a;
    write_all(fd, g_out + g_out_pos, k, path);
    g_out_pos += k;
    n -= k;
  }
}

static uint64_t padding(uint64_t size) { return (BLOCK - size % BLOCK) % BLOCK; }

/* ------------------------------------------------------------------------------------------ */
/* Tar headers                                                                                */
/* ------------------------------------------------------------------------------------------ */

/* A numeric header field: octal text (leading spaces, ends at NUL/space), or GNU base-256 when
 * the high bit of the first byte is set. Returns 0 for a negative value or one beyond int64, as
 * Go's archive/tar (whose fields are int64) refuses them; so sizes can be added to safely. */
static int parse_num(const unsigned char *f, size_t len, uint64_t *out) {
  uint64_t v = 0;
  if (f[0] & 0x80) {
    if (f[0] == 0xff) return 0; /* negative */
    v = f[0] & 0x7f;
    for (size_t i = 1; i < len; i++) {
      if (v >> 56) return 0;
      v = v << 8 | f[i];
    }
    if (v > INT64_MAX) return 0;
    *out = v;
    return 1;
  }
  size_t i = 0;
  while (i < len && f[i] == ' ') i++;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
    if (v >> 61) return 0;
    v = v << 3 | (uint64_t)(f[i] - '0');
  }
  if (v > INT64_MAX) return 0;
  *out = v;
  return 1;
}

static uint64_t num_field(const unsigned char *f, size_t len) {
  uint64_t v;
  if (!parse_num(f, len, &v)) corrupt("invalid number in a tar header");
  return v;
}

/* The checksum covers the header with its own field read as spaces; old tars summed signed
 * bytes, so both sums are accepted (as Go's archive/tar does). */
static int checksum_ok(const unsigned char *h) {
  uint64_t want;
  if (!parse_num(h + 148, 8, &want)) return 0;
  int64_t usum = 0, ssum = 0;
  for (int i = 0; i < BLOCK; i++) {
    unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
    usum += c;
    ssum += (signed char)c;
  }
  return (uint64_t)usum == want || (uint64_t)ssum == want;
}

static int is_zero_block(const unsigned char *h) {
  for (int i = 0; i < BLOCK; i++)
    if (h[i]) return 0;
  return 1;
}

/* A NUL-terminated copy of a fixed-width header field. */
static void field_str(char *dst, const unsigned char *f, size_t len) {
  size_t n = strnlen((const char *)f, len);
  memcpy(dst, f, n);
  dst[n] = '\0';
}

/* What the metadata entries before an entry say about it. As in Go's archive/tar (Docker's
 * reader): a pax header ('x') replaces what an earlier one said, so a run of them cannot pile
 * up extended attributes without bound; a GNU long name ('L', 'K') wins over a pax path. */
struct xattr {
  char *name;
  unsigned char *value;
  size_t len;
};
static struct pax {
  char *path, *linkpath; /* malloc'd; may contain a NUL (refused later) */
  size_t path_len, linkpath_len;
  int has_size, has_uid, has_gid, has_mtime;
  uint64_t size, uid, gid;
  int64_t mtime;
  struct xattr *xattrs; /* in record order: a later one for the same name wins when applied */
  size_t nxattrs;
} g_pax;
static char *g_long_name, *g_long_link; /* GNU 'L' and 'K' */
static size_t g_long_name_len, g_long_link_len;

static void pax_reset(void) {
  free(g_pax.path);
  free(g_pax.linkpath);
  for (size_t i = 0; i < g_pax.nxattrs; i++) {
    free(g_pax.xattrs[i].name);
    free(g_pax.xattrs[i].value);
  }
  free(g_pax.xattrs);
  memset(&g_pax, 0, sizeof g_pax);
}

/* Everything the metadata entries said: called once the entry they describe is done. */
static void next_reset(void) {
  pax_reset();
  free(g_long_name);
  free(g_long_link);
  g_long_name = g_long_link = NULL;
  g_long_name_len = g_long_link_len = 0;
}

static void *xmemdup(const void *p, size_t n) {
  char *d = xmalloc(n + 1);
  memcpy(d, p, n);
  d[n] = '\0';
  return d;
}

static void add_xattr(char *name, unsigned char *value, size_t len) {
  g_pax.xattrs = xrealloc(g_pax.xattrs, (g_pax.nxattrs + 1) * sizeof *g_pax.xattrs);
  g_pax.xattrs[g_pax.nxattrs++] = (struct xattr){name, value, len};
}

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "%2F" -> "/" (LIBARCHIVE.xattr names are URL-encoded); NULL when malformed. */
static char *url_decode(const char *s, size_t n) {
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      *o++ = s[i];
      continue;
    }
    int hi = i + 2 < n ? hex_digit(s[i + 1]) : -1, lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      free(out);
      return NULL;
    }
    *o++ = (char)(hi << 4 | lo);
    i += 2;
  }
  *o = '\0';
  return out;
}

/* Standard base64 (LIBARCHIVE.xattr values); NULL when malformed. */
static unsigned char *base64_decode(const char *s, size_t n, size_t *outlen) {
  unsigned char *out = xmalloc(n / 4 * 3 + 3);
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
          : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : c == '=' ? -2 : -1;
    if (v == -2) break;
    if (v < 0) { free(out); return NULL; }
    acc = acc << 6 | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits);
    }
  }
  *outlen = o;
  return out;
}

/* A pax size, uid or gid: decimal digits only, within int64 (as Go's archive/tar reads them). */
static int pax_uint(const char *v, uint64_t *out) {
  uint64_t n = 0;
  if (!*v) return 0;
  for (; *v; v++) {
    if (*v < '0' || *v > '9' || n > (INT64_MAX - 9) / 10) return 0;
    n = n * 10 + (uint64_t)(*v - '0');
  }
  *out = n;
  return 1;
}

/* A pax mtime, "[-]SECONDS[.FRACTION]" as Go's archive/tar accepts it, rounded down to whole
 * seconds; 0 when malformed or beyond int64 (a float conversion of 1e300 would be undefined). */
static int pax_time(const char *v, int64_t *out) {
  int neg = *v == '-';
  if (*v == '-' || *v == '+') v++;
  if (*v < '0' || *v > '9') return 0;
  int64_t secs = 0;
  for (; *v >= '0' && *v <= '9'; v++) {
    if (secs > (INT64_MAX - 9) / 10) return 0;
    secs = secs * 10 + (*v - '0');
  }
  int fraction = 0; /* any non-zero digit after the point */
  if (*v == '.') {
    for (v++; *v >= '0' && *v <= '9'; v++) fraction |= *v != '0';
  }
  if (*v) return 0;
  *out = neg ? -secs - fraction : secs;
  return 1;
}

/* Pax records, "%d key=value\n" each; values are bytes (xattr values may be binary). */
static void parse_pax(const char *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    const char *sp = memchr(buf + off, ' ', len - off);
    if (!sp) corrupt("malformed pax header");
    size_t rlen = 0;
    for (const char *p = buf + off; p < sp; p++) {
      if (*p < '0' || *p > '9' || rlen > len) corrupt("malformed pax header");
      rlen = rlen * 10 + (size_t)(*p - '0');
    }
    size_t klen_off = (size_t)(sp - buf) + 1;
    if (rlen <= klen_off - off || off + rlen > len || buf[off + rlen - 1] != '\n')
      corrupt("malformed pax header");
    const char *key = buf + klen_off, *end = buf + off + rlen - 1;
    const char *eq = memchr(key, '=', (size_t)(end - key));
    if (!eq) corrupt("malformed pax header");
    size_t kl = (size_t)(eq - key), vl = (size_t)(end - eq - 1);
    const char *val = eq + 1;
    char *v = xmemdup(val, vl);
#define KEY(k) (kl == sizeof k - 1 && !memcmp(key, k, kl))
    if (KEY("path")) {
      free(g_pax.path);
      g_pax.path = v, g_pax.path_len = vl, v = NULL;
    } else if (KEY("linkpath")) {
      free(g_pax.linkpath);
      g_pax.linkpath = v, g_pax.linkpath_len = vl, v = NULL;
    } else if (KEY("size") || KEY("uid") || KEY("gid")) {
      uint64_t n;
      if (!pax_uint(v, &n)) corrupt("invalid number in a pax header");
      if (KEY("size")) g_pax.size = n, g_pax.has_size = 1;
      else if (KEY("uid")) g_pax.uid = n, g_pax.has_uid = 1;
      else g_pax.gid = n, g_pax.has_gid = 1;
    } else if (KEY("mtime")) {
      if (!pax_time(v, &g_pax.mtime)) corrupt("invalid mtime in a pax header");
      g_pax.has_mtime = 1;
    } else if (kl > 13 && !memcmp(key, "SCHILY.xattr.", 13)) {
      add_xattr(xmemdup(key + 13, kl - 13), (unsigned char *)v, vl);
      v = NULL;
    } else if (kl > 17 && !memcmp(key, "LIBARCHIVE.xattr.", 17)) {
      size_t bl;
      char *name = url_decode(key + 17, kl - 17);
      unsigned char *bin = name ? base64_decode(v, vl, &bl) : NULL;
      if (name && bin) add_xattr(name, bin, bl);
      else free(name), free(bin);
    }
#undef KEY
    free(v);
    off += rlen;
  }
}

/* The data of a metadata entry (pax header, GNU long name), at most LIMIT bytes. */
static char *read_meta(uint64_t size, size_t limit, const char *what) {
  if (size > limit) {
    char d[80];
    snprintf(d, sizeof d, "%s too large", what);
    corrupt(d);
  }
  char *b = xmalloc((size_t)size + 1);
  read_exact(b, (size_t)size);
  b[size] = '\0';
  skip(padding(size));
  return b;
}

/* ------------------------------------------------------------------------------------------ */
/* Policy: what an entry may be (Docker's pkg/archive rules)                                  */
/* ------------------------------------------------------------------------------------------ */

/* Lexically clean a relative path as Go's path.Clean does, into OUT ("" for the root).
 * Returns 0 when it climbs above the root or is too long. */
static int clean_relative(const char *in, char *out, size_t outlen) {
  size_t o = 0;
  const char *p = in;
  while (*p) {
    while (*p == '/') p++;
    const char *e = p;
    while (*e && *e != '/') e++;
    size_t n = (size_t)(e - p);
    if (n == 0 || (n == 1 && p[0] == '.')) {
      /* nothing */
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      if (o == 0) return 0;
      while (o > 0 && out[o - 1] != '/') o--;
      if (o > 0) o--; /* the slash before the dropped component */
    } else {
      if (o + n + 2 > outlen) return 0;
      if (o) out[o++] = '/';
      memcpy(out + o, p, n);
      o += n;
    }
    p = e;
  }
  out[o] = '\0';
  return 1;
}

static char g_clean[MAX_PATH_LEN + 1];

static const char *base_of(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* DIR/NAME into OUT, where DIR is the cleaned parent ("" for the root). */
static void join_rel(char *out, size_t len, const char *path, const char *name) {
  const char *s = strrchr(path, '/');
  if (s) snprintf(out, len, "%.*s/%s", (int)(s - path), path, name);
  else snprintf(out, len, "%s", name);
}

static struct layer_op g_op;
/* tar-in (cp): names are only names (no whiteouts), and --owner gives every entry one owner */
static int g_plain, g_owner_set;
static uint32_t g_owner_uid, g_owner_gid;

static void set_common(uint32_t op, uint32_t mode, uint64_t uid, uint64_t gid, int64_t mtime) {
  g_op.op = op;
  g_op.mode = mode;
  g_op.uid = g_owner_set ? g_owner_uid : uid > 0xffffffffu ? 0xffffffffu : (uint32_t)uid;
  g_op.gid = g_owner_set ? g_owner_gid : gid > 0xffffffffu ? 0xffffffffu : (uint32_t)gid;
  g_op.mtime = mtime;
  g_op.arg[0] = '\0';
  g_op.arg_len = 0;
  g_op.data_len = 0;
}

static void set_arg(const void *p, size_t n) {
  if (n > MAX_ARG_LEN) corrupt("link target or extended attribute too large");
  memcpy(g_op.arg, p, n);
  g_op.arg[n] = '\0';
  g_op.arg_len = n;
}

/* Regular files and the rest; header-only types carry no data whatever their size says. */
enum kind { K_FILE, K_DIR, K_SYMLINK, K_LINK, K_CHR, K_BLK, K_FIFO, K_OTHER };

static enum kind kind_of(char type, const char *name) {
  switch (type) {
  case '\0': { /* pre-POSIX tars mark directories with a trailing slash only (as Go reads them) */
    size_t n = strlen(name);
    return n && name[n - 1] == '/' ? K_DIR : K_FILE;
  }
  case '0':
  case '7': return K_FILE;
  case '1': return K_LINK;
  case '2': return K_SYMLINK;
  case '3': return K_CHR;
  case '4': return K_BLK;
  case '5': return K_DIR;
  case '6': return K_FIFO;
  default: return K_OTHER;
  }
}

static uint64_t g_file_bytes;

/* One entry: check it, apply it with its xattrs. Returns 1 when a FILE op consumed its data,
 * 0 when the caller must skip it (skipped entries, whiteouts). */
static int apply_entry(char type, const char *name, size_t name_len, const char *link, size_t link_len,
                        uint32_t perm, uint64_t uid, uint64_t gid, int64_t mtime, uint64_t size) {
  g_entry = name;
  if (memchr(name, '\0', name_len)) hostile("entry %s contains a NUL byte", quoted(name));
  if (name[0] == '/') hostile("entry %s is an absolute path", quoted(name));
  if (!clean_relative(name, g_clean, sizeof g_clean)) {
    if (strlen(name) > MAX_PATH_LEN) corrupt("entry name too long");
    hostile("entry %s points outside the layer root", quoted(name));
  }
  const char *path = g_clean, *base = base_of(path);
  enum kind k = kind_of(type, name);

  /* AUFS metadata at the top (.wh..wh.plnk, .wh..wh.aufs...) is not content. */
  if (!g_plain && !strncmp(path, ".wh..wh.", 8) && strcmp(path, ".wh..wh..opq")) {
    warnx_("note: skipping AUFS metadata entry %s", quoted(name));
    return 0;
  }
  if (!g_plain && !strncmp(base, ".wh.", 4)) {
    if (!strcmp(base, ".wh..wh..opq")) {
      set_common(OP_OPAQUE, 0, uid, gid, mtime);
      snprintf(g_op.path, sizeof g_op.path, "%.*s", (int)(base == path ? 0 : base - path - 1), path);
    } else {
      const char *hidden = base + 4;
      if (!*hidden || !strcmp(hidden, ".") || !strcmp(hidden, ".."))
        hostile("whiteout entry %s names no file", quoted(name));
      set_common(OP_WHITEOUT, 0, uid, gid, mtime);
      join_rel(g_op.path, sizeof g_op.path, path, hidden);
    }
    layer_apply(&g_op, data_to_fd);
    return 0;
  }
  if (!*path && k != K_DIR) hostile("entry %s is the layer root but not a directory", quoted(name));

  strcpy(g_op.path, path); /* set_common leaves the path alone */
  switch (k) {
  case K_DIR:
    set_common(OP_MKDIR, perm, uid, gid, mtime);
    break;
  case K_FILE:
    set_common(OP_FILE, perm, uid, gid, mtime);
    g_op.data_len = size;
    g_file_bytes += size;
    break;
  case K_SYMLINK:
    /* Any target, as containerd stores them (real images have "linuxrc -> ../bin/busybox"):
     * a symlink is only text here. What keeps writes inside the root is that storage.c
     * resolves every later path with RESOLVE_IN_ROOT and never follows a last component; in
     * a container the root is "/", where ".." stops anyway. */
    if (!link_len || memchr(link, '\0', link_len)) hostile("symlink %s has an invalid target", quoted(name));
    set_common(OP_SYMLINK, perm, uid, gid, mtime);
    set_arg(link, link_len);
    break;
  case K_LINK: {
    char target_clean[MAX_PATH_LEN + 1];
    const char *t = link;
    while (*t == '/') t++; /* absolute targets resolve inside the root, as in Docker */
    if (memchr(link, '\0', link_len) || !clean_relative(t, target_clean, sizeof target_clean) || !*target_clean)
      hostile("hard link %s -> %s points outside the layer root", quoted(name), quoted(link));
    set_common(OP_HARDLINK, perm, uid, gid, mtime);
    set_arg(target_clean, strlen(target_clean));
    break;
  }
  case K_CHR:
  case K_BLK:
  case K_FIFO:
    set_common(OP_DEVICE, (k == K_FIFO ? S_IFIFO : k == K_BLK ? S_IFBLK : S_IFCHR) | perm, uid, gid, mtime);
    break;
  case K_OTHER:
    if (type > 0x20 && type < 0x7f)
      die("unsupported tar entry type '%c' for %s; re-export the image with a standard tar", type, quoted(name));
    die("unsupported tar entry type 0x%02x for %s; re-export the image with a standard tar",
        (unsigned char)type, quoted(name));
  }
  layer_apply(&g_op, data_to_fd);

  for (size_t i = 0; i < g_pax.nxattrs; i++) {
    const struct xattr *x = &g_pax.xattrs[i];
    size_t nl = strlen(x->name);
    if (!nl) continue;
    if (nl + 1 + x->len > MAX_ARG_LEN) corrupt("extended attribute too large");
    set_common(OP_XATTR, 0, uid, gid, mtime);
    memcpy(g_op.arg, x->name, nl + 1);
    memcpy(g_op.arg + nl + 1, x->value, x->len);
    g_op.arg_len = nl + 1 + x->len;
    layer_apply(&g_op, data_to_fd);
  }
  return k == K_FILE;
}

/* Walk the archive: metadata entries fill g_pax and g_long_*, every other entry is applied.
 * Returns at the end-of-archive block or at a clean end of input between entries. */
static void walk_archive(void) {
  unsigned char h[BLOCK];
  for (;;) {
    g_entry = NULL;
    if (!out_avail()) return; /* the input ended between entries */
    read_exact(h, BLOCK);
    if (is_zero_block(h)) return;
    if (!checksum_ok(h)) corrupt("invalid tar header checksum");
    char type = (char)h[156];
    uint64_t size = num_field(h + 124, 12);
    switch (type) {
    case 'x': {
      char *pax = read_meta(size, MAX_PAX_LEN, "pax header");
      pax_reset();
      parse_pax(pax, (size_t)size);
      free(pax);
      continue;
    }
    case 'g': /* global pax header: ignored, as Docker does (Go reads it as an entry of its own,
               * which ends what the metadata entries before it said) */
      skip(size + padding(size)); /* no overflow: parse_num keeps sizes within int64 */
      next_reset();
      continue;
    case 'L':
      free(g_long_name);
      g_long_name = read_meta(size, MAX_PATH_LEN + 1, "long name");
      g_long_name_len = strlen(g_long_name);
      continue;
    case 'K':
      free(g_long_link);
      g_long_link = read_meta(size, MAX_PATH_LEN + 1, "long link name");
      g_long_link_len = strlen(g_long_link);
      continue;
    }

    char name[256 + 2], link[101];
    const char *ename = name, *elink = link;
    size_t ename_len, elink_len;
    if (!memcmp(h + 257, "ustar\0", 6) && h[345]) { /* POSIX ustar: a prefix may hold the dirs */
      char prefix[156], base[101];
      field_str(prefix, h + 345, 155);
      field_str(base, h, 100);
      snprintf(name, sizeof name, "%s/%s", prefix, base);
    } else {
      field_str(name, h, 100);
    }
    field_str(link, h + 157, 100);
    ename_len = strlen(name);
    elink_len = strlen(link);
    if (g_long_name) ename = g_long_name, ename_len = g_long_name_len;
    else if (g_pax.path) ename = g_pax.path, ename_len = g_pax.path_len;
    if (g_long_link) elink = g_long_link, elink_len = g_long_link_len;
    else if (g_pax.linkpath) elink = g_pax.linkpath, elink_len = g_pax.linkpath_len;
    if (g_pax.has_size) size = g_pax.size;
    uint64_t uid = g_pax.has_uid ? g_pax.uid : num_field(h + 108, 8);
    uint64_t gid = g_pax.has_gid ? g_pax.gid : num_field(h + 116, 8);
    int64_t mtime = g_pax.has_mtime ? g_pax.mtime : (int64_t)num_field(h + 136, 12);
    uint32_t perm = (uint32_t)(num_field(h + 100, 8) & 07777);
    enum kind k = kind_of(type, ename);
    if (k != K_FILE && k != K_OTHER) size = 0; /* header-only types, as Go's archive/tar */
    if (k == K_CHR || k == K_BLK) {
      g_op.devmajor = (unsigned)num_field(h + 329, 8);
      g_op.devminor = (unsigned)num_field(h + 337, 8);
    }

    if (!apply_entry(type, ename, ename_len, elink, elink_len, perm, uid, gid, mtime, size)) skip(size);
    skip(padding(size));
    next_reset();
  }
}

int mode_apply_tar(int argc, char **argv) {
  int i = 1, flatten = 0, merge = 0;
  const char *opaque = NULL;
  for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
    if (!strcmp(argv[i], "--flatten")) flatten = 1;
    else if (!strcmp(argv[i], "--opaque-xattr") && i + 1 < argc && argv[i + 1][0]) opaque = argv[++i];
    else if (!strcmp(argv[i], "--blob-out") && i + 1 < argc && argv[i + 1][0]) g_blob_path = argv[++i];
    else if (!strcmp(argv[i], "--plain")) g_plain = 1;
    else if (!strcmp(argv[i], "--no-sync")) layer_no_sync();
    else if (!strcmp(argv[i], "--merge")) merge = 1;
    else if (!strcmp(argv[i], "--owner") && i + 1 < argc && sscanf(argv[i + 1], "%u:%u", &g_owner_uid, &g_owner_gid) == 2) g_owner_set = 1, i++;
    else die("apply-tar: bad option %s (usage: apply-tar [--flatten|--merge] [--no-sync] [--opaque-xattr NAME] [--blob-out FILE] DIR)", argv[i]);
  }
  if (i + 1 != argc) die("apply-tar: usage: apply-tar [--flatten|--merge] [--no-sync] [--opaque-xattr NAME] [--blob-out FILE] DIR");
  if (g_blob_path) {
    /* A new file (O_EXCL): the caller names a path in its private staging directory. */
    g_blob_fd = open(g_blob_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (g_blob_fd < 0) die("apply-tar: %s: %s", g_blob_path, strerror(errno));
  }
  if (merge && flatten) die("apply-tar: --merge and --flatten do not go together");
  layer_open(argv[i], flatten, opaque);
  if (merge) layer_merge();
  if (g_plain) layer_keep_dirs();
  SHA256_Init(&g_sha);
  detect_codec();
  walk_archive();
  /* Everything after the end-of-archive blocks is part of the diffID too. */
  while (out_avail()) g_out_pos = g_out_len;
  while (in_avail()) g_in_pos = g_in_len;
  if (g_blob_fd >= 0 && close(g_blob_fd) < 0) die("apply-tar: %s: %s", g_blob_path, strerror(errno));
  layer_finish(); /* its syncfs makes the blob file durable too (same filesystem) */

  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256_Final(d, &g_sha);
  char line[128], *o = line + sprintf(line, "sha256:");
  for (int k = 0; k < SHA256_DIGEST_LENGTH; k++) o += sprintf(o, "%02x", d[k]);
  sprintf(o, " %llu\n", (unsigned long long)g_file_bytes);
  write_all(1, line, strlen(line), "<stdout>");
  return 0;
}
