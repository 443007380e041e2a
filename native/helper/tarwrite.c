/*
 * Writing a tar stream of a tree (cp out, export, commit's layer): POSIX ustar headers with pax
 * records for what ustar cannot hold (long names, big IDs and sizes, xattrs), hard links kept
 * as links, and optionally overlay whiteouts turned into the image format's .wh. entries.
 *
 * The walk never follows a symlink: every entry is opened relative to its parent's fd with
 * O_NOFOLLOW and described from that fd (fstat), so a symlink swapped in while we walk is
 * written as a symlink, never read through.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_*: the small static API, as untar.c */
#include "tarwrite.h"
#include "helper.h"

#include <openssl/sha.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define BLOCK 512

static struct tar_writer *g_tw;
static SHA256_CTX g_sha; /* with tw->digest: the stream's digest (a layer's diff ID) */

static void out(const void *p, size_t n) {
  if (g_tw->digest) {
    if (g_tw->bytes == 0) SHA256_Init(&g_sha);
    SHA256_Update(&g_sha, p, n);
  }
  g_tw->bytes += n;
  write_all(g_tw->fd, p, n, "<tar output>");
}

static void pad(uint64_t size) {
  static const char zeros[BLOCK];
  size_t r = (size_t)(size % BLOCK);
  if (r) out(zeros, BLOCK - r);
}

/* --- the hard-link table: (dev, ino) -> the first name written --- */
struct link_entry {
  dev_t dev;
  ino_t ino;
  char *name;
};
static struct link_entry *g_links;
static size_t g_nlinks, g_caplinks;

static const char *link_seen(dev_t dev, ino_t ino) {
  for (size_t i = 0; i < g_nlinks; i++)
    if (g_links[i].dev == dev && g_links[i].ino == ino) return g_links[i].name;
  return NULL;
}

static void link_add(dev_t dev, ino_t ino, const char *name) {
  if (g_nlinks == g_caplinks) {
    g_caplinks = g_caplinks ? g_caplinks * 2 : 64;
    g_links = xrealloc(g_links, g_caplinks * sizeof *g_links);
  }
  char *copy = strdup(name);
  if (!copy) die("out of memory");
  g_links[g_nlinks++] = (struct link_entry){dev, ino, copy};
}

/* --- pax records --- */
struct pax {
  char *buf;
  size_t len, cap;
};

static void pax_add(struct pax *p, const char *key, const char *val, size_t vlen) {
  /* "LEN key=value\n" where LEN counts itself */
  size_t body = strlen(key) + vlen + 3; /* ' ' '=' '\n' */
  size_t digits = 1, total;
  for (;;) {
    total = body + digits;
    size_t d = 1;
    for (size_t t = total; t >= 10; t /= 10) d++;
    if (d == digits) break;
    digits = d;
  }
  if (p->len + total + 1 > p->cap) {
    p->cap = (p->len + total + 1) * 2;
    p->buf = xrealloc(p->buf, p->cap);
  }
  int n = snprintf(p->buf + p->len, p->cap - p->len, "%zu %s=", total, key);
  memcpy(p->buf + p->len + n, val, vlen);
  p->buf[p->len + n + vlen] = '\n';
  p->len += total;
}

static void octal(char *field, size_t width, uint64_t v) {
  /* width-1 zero-padded digits and a NUL, as GNU and Go write them (callers check the fit) */
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = (char)('0' + (v & 7));
}

static int fits_octal(uint64_t v, size_t width) {
  return v < (1ULL << (3 * (width - 1)));
}

static void checksum(unsigned char *h) {
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < BLOCK; i++) sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
  h[155] = ' ';
}

static void header_block(const char *name, char type, uint32_t mode, uint64_t uid, uint64_t gid, uint64_t size,
                         int64_t mtime, const char *link, unsigned major, unsigned minor) {
  unsigned char h[BLOCK];
  memset(h, 0, sizeof h);
  snprintf((char *)h, 101, "%s", name);
  octal((char *)h + 100, 8, mode & 07777);
  octal((char *)h + 108, 8, fits_octal(uid, 8) ? uid : 0);
  octal((char *)h + 116, 8, fits_octal(gid, 8) ? gid : 0);
  octal((char *)h + 124, 12, fits_octal(size, 12) ? size : 0);
  octal((char *)h + 136, 12, mtime > 0 && fits_octal((uint64_t)mtime, 12) ? (uint64_t)mtime : 0);
  h[156] = (unsigned char)type;
  if (link) snprintf((char *)h + 157, 101, "%s", link);
  memcpy(h + 257, "ustar\0" "00", 8);
  octal((char *)h + 329, 8, major);
  octal((char *)h + 337, 8, minor);
  checksum(h);
  out(h, BLOCK);
}

/* One entry: a pax header first when ustar cannot say it all, then the ustar header. */
static void write_header(const char *name, char type, const struct stat *st, uint64_t size, const char *link,
                         struct pax *xattrs) {
  struct pax p = {0};
  uint64_t uid = g_tw->owner_set ? g_tw->uid : st->st_uid, gid = g_tw->owner_set ? g_tw->gid : st->st_gid;
  if (strlen(name) > 100) pax_add(&p, "path", name, strlen(name));
  if (link && strlen(link) > 100) pax_add(&p, "linkpath", link, strlen(link));
  char num[32];
  if (!fits_octal(uid, 8)) pax_add(&p, "uid", num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)uid));
  if (!fits_octal(gid, 8)) pax_add(&p, "gid", num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)gid));
  if (!fits_octal(size, 12)) pax_add(&p, "size", num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)size));
  if (xattrs && xattrs->len) {
    if (p.len + xattrs->len + 1 > p.cap) {
      p.cap = p.len + xattrs->len + 1;
      p.buf = xrealloc(p.buf, p.cap);
    }
    memcpy(p.buf + p.len, xattrs->buf, xattrs->len);
    p.len += xattrs->len;
  }
  if (p.len) {
    char pname[101];
    snprintf(pname, sizeof pname, "PaxHeaders.0/%.80s", name);
    header_block(pname, 'x', 0644, 0, 0, p.len, st->st_mtime, NULL, 0, 0);
    out(p.buf, p.len);
    pad(p.len);
    free(p.buf);
  }
  unsigned major = 0, minor = 0;
  if (type == '3' || type == '4') major = major(st->st_rdev), minor = minor(st->st_rdev);
  header_block(name, type, st->st_mode, uid, gid, size, st->st_mtime, link, major, minor);
}

/* Extended attributes of an open (non-O_PATH) fd as SCHILY.xattr pax records; overlay's own
 * (its opaque and redirect markers) are storage details, never content. The buffers are static:
 * on the stack, inlined into tw_entry, they made each level of a tree cost 128 KiB of it. */
static void read_xattrs(int fd, struct pax *p) {
  static char names[65536];
  ssize_t n = flistxattr(fd, names, sizeof names);
  if (n <= 0) return;
  for (char *k = names; k < names + n; k += strlen(k) + 1) {
    if (!strncmp(k, "trusted.overlay.", 16) || !strncmp(k, "user.overlay.", 13)) continue;
    static char val[65536];
    ssize_t vl = fgetxattr(fd, k, val, sizeof val);
    if (vl < 0) continue;
    char key[300];
    snprintf(key, sizeof key, "SCHILY.xattr.%.255s", k);
    pax_add(p, key, val, (size_t)vl);
  }
}

static int is_opaque(int dirfd) {
  char v[4];
  for (int i = 0; i < 2; i++) {
    const char *name = i ? "user.overlay.opaque" : "trusted.overlay.opaque";
    ssize_t n = fgetxattr(dirfd, name, v, sizeof v);
    if (n == 1 && v[0] == 'y') return 1;
  }
  return 0;
}

static void empty_file(const char *name, const struct stat *like) {
  struct stat st = *like;
  st.st_mode = S_IFREG | 0644;
  write_header(name, '0', &st, 0, NULL, NULL);
}

static void join(char *dst, size_t len, const char *dir, const char *name) {
  if (!*dir) snprintf(dst, len, "%s", name);
  else snprintf(dst, len, "%s/%s", dir, name);
  if (strlen(dst) >= len - 1)
    die("tar: a path longer than %d bytes cannot be archived (as Docker's, whose lstat gets ENAMETOOLONG): %.100s...: make the tree shallower",
        MAX_TAR_PATH, dir);
}

static void copy_data(int fd, uint64_t size, const char *name) {
  char buf[65536];
  uint64_t left = size;
  while (left) {
    ssize_t n = read(fd, buf, left < sizeof buf ? left : sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("tar: read %s: %s", name, strerror(errno));
    if (n == 0) { /* the file shrank while we read it: the header promised SIZE bytes */
      memset(buf, 0, sizeof buf);
      while (left) {
        size_t k = left < sizeof buf ? left : sizeof buf;
        out(buf, k);
        left -= k;
      }
      break;
    }
    out(buf, (size_t)n);
    left -= (uint64_t)n;
  }
  pad(size);
}

static void walk_dir(int dirfd, const char *arcdir);

/* The entry that the O_PATH fd PFD (never a followed symlink) refers to, named ARCNAME. */
static int excluded(const char *arcname) {
  for (char **e = g_tw->exclude; e && *e; e++)
    if (!strcmp(*e, arcname)) return 1;
  return 0;
}

/* Recursive (walk_dir), once per level of the tree: what is on its stack is multiplied by the
 * depth, which a container controls (a RUN step's `mkdir -p a/a/a/...`). So the name buffers
 * are static (none is used across the recursion; ARCNAME, which is, is the caller's), and a
 * tree as deep as MAX_TAR_PATH allows fits in the default 8 MiB stack. */
void tw_entry(struct tar_writer *tw, int pfd, const char *arcname) {
  g_tw = tw;
  if (*arcname && excluded(arcname)) return;
  struct stat st;
  if (fstat(pfd, &st) < 0) die("tar: %s: %s", arcname, strerror(errno));
  static char name[MAX_TAR_PATH + 2];
  if (S_ISDIR(st.st_mode)) {
    int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) die("tar: %s: %s", arcname, strerror(errno));
    if (*arcname) {
      struct pax x = {0};
      read_xattrs(dfd, &x);
      snprintf(name, sizeof name, "%s/", arcname);
      write_header(name, '5', &st, 0, NULL, &x);
      free(x.buf);
      if (tw->whiteouts && is_opaque(dfd)) {
        join(name, sizeof name, arcname, ".wh..wh..opq");
        empty_file(name, &st);
      }
    }
    walk_dir(dfd, arcname);
    close(dfd);
    return;
  }
  if (!*arcname) die("tar: the source is not a directory");
  if (S_ISLNK(st.st_mode)) {
    static char target[MAX_TAR_PATH + 1];
    ssize_t n = readlinkat(pfd, "", target, sizeof target - 1);
    if (n < 0) die("tar: readlink %s: %s", arcname, strerror(errno));
    target[n] = '\0';
    write_header(arcname, '2', &st, 0, target, NULL);
    return;
  }
  if (S_ISCHR(st.st_mode) && st.st_rdev == 0 && tw->whiteouts) {
    /* overlay whiteout: ".wh.NAME" next to where NAME was */
    const char *slash = strrchr(arcname, '/');
    static char dir[MAX_TAR_PATH + 1];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - arcname) : 0, arcname);
    static char wh[MAX_TAR_PATH + 1];
    snprintf(wh, sizeof wh, ".wh.%s", slash ? slash + 1 : arcname);
    join(name, sizeof name, dir, wh);
    empty_file(name, &st);
    return;
  }
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    const char *first = link_seen(st.st_dev, st.st_ino);
    if (first) {
      write_header(arcname, '1', &st, 0, first, NULL);
      return;
    }
    link_add(st.st_dev, st.st_ino, arcname);
  }
  if (S_ISREG(st.st_mode)) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
    /* reopening our own O_PATH fd: the same inode, whatever now sits at its name */
    int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) die("tar: %s: %s", arcname, strerror(errno));
    struct pax x = {0};
    read_xattrs(fd, &x);
    write_header(arcname, '0', &st, (uint64_t)st.st_size, NULL, &x);
    free(x.buf);
    tw->file_bytes += (uint64_t)st.st_size;
    copy_data(fd, (uint64_t)st.st_size, arcname);
    close(fd);
    return;
  }
  char type = S_ISCHR(st.st_mode) ? '3' : S_ISBLK(st.st_mode) ? '4' : S_ISFIFO(st.st_mode) ? '6' : 0;
  if (!type) return; /* sockets: tar has no type for them (as Go's archive/tar skips them) */
  write_header(arcname, type, &st, 0, NULL, NULL);
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The children of DIRFD, sorted (the stream is the same for the same tree). */
static void walk_dir(int dirfd, const char *arcdir) {
  int fd = dup(dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) die("tar: %s: %s", *arcdir ? arcdir : ".", strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) names = xrealloc(names, (cap = cap ? cap * 2 : 32) * sizeof *names);
    names[n] = strdup(e->d_name);
    if (!names[n++]) die("out of memory");
  }
  closedir(d);
  qsort(names, n, sizeof *names, name_cmp);
  static char joined[MAX_TAR_PATH + 2];
  for (size_t i = 0; i < n; i++) {
    join(joined, sizeof joined, arcdir, names[i]);
    char *arc = strdup(joined); /* the arcdir of everything below: kept, but only as long as it is */
    if (!arc) die("out of memory");
    int pfd = openat(dirfd, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0) {
      if (errno == ENOENT) { free(arc); free(names[i]); continue; } /* removed while we walked */
      die("tar: %s: %s", arc, strerror(errno));
    }
    tw_entry(g_tw, pfd, arc);
    close(pfd);
    free(arc);
    free(names[i]);
  }
  free(names);
}

void tw_finish(struct tar_writer *tw) {
  static const char zeros[2 * BLOCK];
  g_tw = tw;
  out(zeros, sizeof zeros);
}

void tw_digest_line(struct tar_writer *tw, char *line, size_t len) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256_Final(d, &g_sha);
  char hex[2 * SHA256_DIGEST_LENGTH + 1];
  for (int k = 0; k < SHA256_DIGEST_LENGTH; k++) sprintf(hex + 2 * k, "%02x", d[k]);
  snprintf(line, len, "sha256:%s %llu %llu\n", hex, (unsigned long long)tw->bytes, (unsigned long long)tw->file_bytes);
}
