/*
 * skiff-helper storage: applying layer entries (for apply-tar, whose reader is untar.c), rm, copy.
 * See native/PROTOCOL.md.
 *
 * These run inside the user namespace (rootless) or as root (rootful) on trees that Node cannot
 * touch itself (files owned by sub-IDs). The one rule: no path taken from a layer may make a
 * write land outside the layer directory. Every entry path is split into parent
 * and last component; the parent is resolved with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) against the layer root, and the last component is acted on with *at()
 * calls that never follow it (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW, O_EXCL). rm and copy walk trees
 * by file descriptor for the same reason: a symlink inside the tree is never followed.
 *
 * This program is exec'd (not forked from Node), so libc (malloc, stdio) is fine here.
 */
#include "helper.h"
#include "layer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#define IO_BUF_LEN (1u << 20)

/* Mode name used as the prefix of every error line ("skiff-helper: <mode>: <path>: ..."). */
static const char *g_mode = "storage";

/* The copy fallback's buffer (copy_data). */
static unsigned char g_buf[IO_BUF_LEN];

/* ------------------------------------------------------------------------------------------ */
/* Small utilities                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* S as it may be printed: control characters escaped as in JSON ("\u000a"), so that a name
 * from a layer cannot split a message into lines of its own making. Returns S itself when it
 * has none (the usual case), else a new string: only ever used on the way to an exit or a
 * once-per-run note, so it is not freed. */
static const char *shown(const char *s) {
  size_t n = 0, bad = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) bad += *p < 0x20 || *p == 0x7f;
  if (!bad) return s;
  char *out = malloc(n + 5 * bad + 1), *o = out;
  if (!out) return "(unprintable name)";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) o += sprintf(o, "\\u%04x", *p);
    else *o++ = (char)*p;
  }
  *o = '\0';
  return out;
}

/* The single error exit: one line naming the mode, the object and the reason. */
__attribute__((noreturn)) static void fail(const char *path, int err) {
  die("%s: %s: %s", g_mode, (path && *path) ? shown(path) : ".", strerror(err));
}

__attribute__((noreturn)) static void fail_msg(const char *path, const char *msg) {
  die("%s: %s: %s", g_mode, (path && *path) ? shown(path) : ".", msg);
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) fail_msg("memory", "out of memory");
  return p;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) fail_msg("memory", "out of memory");
  return p;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

/* "a" + "/" + "b", freshly allocated (used for child paths in messages and hard-link maps). */
static char *join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *r = xmalloc(la + lb + 2);
  memcpy(r, a, la);
  size_t o = la;
  if (la) r[o++] = '/';
  memcpy(r + o, b, lb + 1);
  return r;
}

/* Deep trees are walked with one or two fds per level; lift the soft limit to the hard one so
 * the depth of a layer is not limited by the default 1024 (helper.h). */
void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void write_all(int fd, const void *p, size_t n, const char *path) {
  const unsigned char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(path, errno);
    }
    c += w;
    n -= (size_t)w;
  }
}

/* "/proc/self/fd/N": lets the *xattr() path calls reach the inode behind an O_PATH fd, which
 * the f*xattr() calls refuse. The fd was opened with O_NOFOLLOW, so this names the entry
 * itself; callers never use it for symlinks. */
static const char *fd_path(int fd, char *buf, size_t len) {
  snprintf(buf, len, "/proc/self/fd/%d", fd);
  return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* String-keyed hash table (flatten: paths written by this layer; copy: inode -> first path)   */
/* ------------------------------------------------------------------------------------------ */

struct table {
  char **keys;
  char **vals;
  size_t cap, n;
};

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static size_t table_slot(const struct table *t, const char *key) {
  size_t i = hash_str(key) & (t->cap - 1);
  while (t->keys[i] && strcmp(t->keys[i], key) != 0) i = (i + 1) & (t->cap - 1);
  return i;
}

static void table_grow(struct table *t) {
  struct table n = {calloc(t->cap ? t->cap * 2 : 1024, sizeof(char *)),
                    calloc(t->cap ? t->cap * 2 : 1024, sizeof(char *)), t->cap ? t->cap * 2 : 1024,
                    t->n};
  if (!n.keys || !n.vals) fail_msg("memory", "out of memory");
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->keys[i]) continue;
    size_t j = table_slot(&n, t->keys[i]);
    n.keys[j] = t->keys[i];
    n.vals[j] = t->vals[i];
  }
  free(t->keys);
  free(t->vals);
  *t = n;
}

/* Value for key, or NULL; *found tells a NULL value from a missing key. */
static char *table_get(const struct table *t, const char *key, int *found) {
  *found = 0;
  if (!t->cap) return NULL;
  size_t i = table_slot(t, key);
  if (!t->keys[i]) return NULL;
  *found = 1;
  return t->vals[i];
}

static void table_put(struct table *t, const char *key, char *val) {
  if ((t->n + 1) * 2 > t->cap) table_grow(t);
  size_t i = table_slot(t, key);
  if (!t->keys[i]) {
    t->keys[i] = xstrdup(key);
    t->n++;
  }
  t->vals[i] = val;
}

/* ------------------------------------------------------------------------------------------ */
/* Tree removal (rm mode, and layer entries that replace a directory or white it out)         */
/* ------------------------------------------------------------------------------------------ */

static void rm_tree(int pfd, const char *name, const char *path, dev_t dev);

/* Open directory NAME below PFD for reading without following a symlink. A 0000 directory from
 * a layer cannot be opened without capabilities even by its owner: make it usable first. */
static int open_dir_for_walk(int pfd, const char *name) {
  int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES && fchmodat(pfd, name, 0700, 0) == 0)
    fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd;
}

/* Remove every entry of the open directory FD. Repeats until a pass finds nothing, because
 * removing entries while reading a directory may make some filesystems skip entries. */
static void rm_contents(int fd, const char *path, dev_t dev) {
  int dfd = dup(fd);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) fail(path, errno);
  for (;;) {
    int removed = 0;
    struct dirent *de;
    rewinddir(d);
    while ((errno = 0, de = readdir(d))) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
      removed = 1;
      /* Fast path: most entries are files; unlinkat says EISDIR for directories. */
      if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN &&
          (unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT))
        continue;
      char *child = join(path, de->d_name);
      rm_tree(fd, de->d_name, child, dev);
      free(child);
    }
    if (errno) fail(path, errno);
    if (!removed) break;
  }
  closedir(d);
}

/* Remove NAME (below directory fd PFD) and everything under it, never following a symlink and
 * never crossing into another filesystem (a still-mounted rootfs or volume is refused, not
 * emptied). A missing entry is not an error. PATH is only for messages. */
static void rm_tree(int pfd, const char *name, const char *path, dev_t dev) {
  struct stat st;
  if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return;
    fail(path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT) fail(path, errno);
    return;
  }
  if (st.st_dev != dev) fail_msg(path, "is a mount point; refusing to remove across it");
  int fd = open_dir_for_walk(pfd, name);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail(path, errno);
  }
  /* Layers contain 0555 directories; without CAP_DAC_OVERRIDE we need u+wx to empty them.
   * The directory is about to go, so changing its mode is harmless; errors surface below. */
  if ((st.st_mode & 0700) != 0700) (void)fchmod(fd, (st.st_mode & 07777) | 0700);
  rm_contents(fd, path, dev);
  close(fd);
  if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) fail(path, errno);
}

/* Split PATH (a plain filesystem path from Node) into an O_PATH fd for its parent and its last
 * component. Returns -1 with errno when the parent cannot be opened. */
static int open_parent_of(const char *path, char **copy, const char **name) {
  char *c = xstrdup(path);
  size_t n = strlen(c);
  while (n > 1 && c[n - 1] == '/') c[--n] = '\0';
  char *slash = strrchr(c, '/');
  const char *parent = ".";
  *name = c;
  if (slash) {
    *slash = '\0';
    *name = slash + 1;
    parent = slash == c ? "/" : c;
  }
  *copy = c;
  return open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* rm PATH...: remove trees whose files may be owned by sub-IDs. Missing paths are fine. */
int mode_rm(int argc, char **argv) {
  g_mode = "rm";
  raise_nofile();
  for (int i = 1; i < argc; i++) {
    char *copy;
    const char *name;
    int pfd = open_parent_of(argv[i], &copy, &name);
    if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || !strcmp(argv[i], "/"))
      fail_msg(argv[i], "refusing to remove this path");
    if (pfd < 0) {
      /* A parent that is missing (or not a directory) means the path is not there. */
      if (errno == ENOENT || errno == ENOTDIR) {
        free(copy);
        continue;
      }
      fail(argv[i], errno);
    }
    struct stat pst;
    if (fstat(pfd, &pst) < 0) fail(argv[i], errno);
    rm_tree(pfd, name, argv[i], pst.st_dev);
    close(pfd);
    free(copy);
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Applying layer entries (layer.h; the tar reader is untar.c)                               */
/* ------------------------------------------------------------------------------------------ */

static const struct layer_op *g_f; /* the entry being applied (layer_apply) */
static layer_data_fn g_data;        /* copies its file data */
static int g_root = -1;          /* O_PATH fd of the layer directory */
static dev_t g_root_dev;         /* its filesystem, for rm_tree's mount-point check */
static const char *g_root_name;  /* DIR as given, for messages about the stream itself */
static int g_flatten;            /* --flatten: whiteouts remove instead of marking */
static const char *g_opaque_xattr = "trusted.overlay.opaque";
static struct table g_written;   /* --flatten, --merge: paths this layer wrote (kept by OPAQUE) */
static int g_merge; /* --merge: DIR holds earlier layers in overlay format (build --squash) */
static int g_noted_xattr, g_noted_dev;
static int g_keep_dirs; /* cp (tar-in): never replace a directory by a non-directory or back */

/* Directory mtimes to apply after everything else: adding entries changes them. */
struct dir_time {
  char *path;
  int64_t mtime;
};
static struct dir_time *g_dirs;
static size_t g_ndirs, g_capdirs;

/* --- path resolution inside the layer root --- */

/* openat2 below the layer root: symlinks (absolute or relative) and ".." are resolved as if
 * the root were "/", and /proc magic links are refused, so the result is always inside it. */
static int open_in_root(const char *rel, uint64_t flags) {
  struct open_how how = {.flags = flags | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  for (int tries = 0;; tries++) {
    int fd = (int)syscall(SYS_openat2, g_root, *rel ? rel : ".", &how, sizeof how);
    /* EAGAIN: a concurrent rename raced the lookup; it is safe to retry. */
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR) || tries > 64) return fd;
  }
}

/* O_PATH fd of directory REL (inside the root), creating missing directories (0755, like tar)
 * when CREATE is set. Each missing component is made with mkdirat() in its resolved parent,
 * so it lands inside the root even if an earlier component was a symlink. */
static int open_dir_in_root(const char *rel, int create) {
  int fd = open_in_root(rel, O_PATH | O_DIRECTORY);
  if (fd >= 0 || errno != ENOENT || !create) return fd;
  char buf[MAX_PATH_LEN + 1];
  strcpy(buf, rel);
  int cur = open_in_root("", O_PATH | O_DIRECTORY);
  size_t len = strlen(buf);
  for (size_t i = 0; cur >= 0 && i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    buf[i] = '\0';
    char *comp = strrchr(buf, '/');
    comp = comp ? comp + 1 : buf;
    int next = open_in_root(buf, O_PATH | O_DIRECTORY);
    if (next < 0 && errno == ENOENT) {
      if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
        int e = errno;
        close(cur);
        errno = e;
        return -1;
      }
      next = open_in_root(buf, O_PATH | O_DIRECTORY);
    }
    int e = errno;
    close(cur);
    errno = e;
    cur = next;
    if (i < len) buf[i] = '/';
  }
  return cur;
}

/* Cache of the last parent directory: layers list many files per directory. Dropped whenever
 * an entry is removed or a symlink is made, since either can change what a path resolves to.
 * (A stale fd would still point inside the root; the cache only matters for correctness.) */
static char g_cache_path[MAX_PATH_LEN + 1];
static int g_cache_fd = -1;
static int g_cache_setgid = -1; /* is that directory setgid? -1: not looked at yet */

static void cache_drop(void) {
  if (g_cache_fd >= 0) close(g_cache_fd);
  g_cache_fd = -1;
  g_cache_setgid = -1;
}

/* Split normalised PATH into its parent (returned as a borrowed O_PATH fd, parents created when
 * CREATE) and its last component NAME. The root itself and ".." as last component are refused
 * for ops that act on an entry. Returns -1 with errno if the parent cannot be resolved. */
static int parent_fd(const char *path, const char **name, int create) {
  const char *slash = strrchr(path, '/');
  char parent[MAX_PATH_LEN + 1];
  size_t plen = slash ? (size_t)(slash - path) : 0;
  memcpy(parent, path, plen);
  parent[plen] = '\0';
  *name = slash ? slash + 1 : path;
  if (!**name || !strcmp(*name, "..")) {
    errno = EINVAL;
    return -1;
  }
  if (g_cache_fd >= 0 && !strcmp(parent, g_cache_path)) return g_cache_fd;
  int fd = open_dir_in_root(parent, create);
  if (fd < 0) return -1;
  cache_drop();
  strcpy(g_cache_path, parent);
  g_cache_fd = fd;
  return fd;
}

/* --- creating entries with their final owner and mode at once --- */

/* Most entries belong to root, and we create as root (in the user namespace, rootless), so
 * fchown and then fchmod (chown clears setuid bits) are two syscalls per file for nothing.
 * An entry may skip them when what the kernel gives a new file is already what the tar says:
 * our own IDs (the group is the parent's when the parent is setgid), and the create mode as
 * is (umask is 0; setuid/setgid/sticky bits go through fchmod, and a default ACL would mask
 * the mode, so a layer that sets one turns this off). */
static uid_t g_euid;
static gid_t g_egid;
static int g_acl_may_mask_modes; /* a default ACL is or may be there: always fchown and fchmod */

/* Would a new entry in PFD (the cached parent) get the current entry's owner by itself? */
static int owner_is_implied(int pfd) {
  if (g_f->uid != g_euid || g_f->gid != g_egid || g_acl_may_mask_modes) return 0;
  if (g_cache_setgid < 0) {
    struct stat st;
    if (fstat(pfd, &st) < 0) return 0;
    g_cache_setgid = (st.st_mode & S_ISGID) && st.st_gid != g_egid;
  }
  return !g_cache_setgid;
}

static int must_parent(const char *path, const char **name) {
  int fd = parent_fd(path, name, 1);
  if (fd < 0) fail(path, errno);
  return fd;
}

/* Make room for a new entry NAME in PFD: remove whatever is there (a directory with all its
 * contents). Keeps nothing: every op that calls this replaces the entry. */
static void clear_entry(int pfd, const char *name, const char *path) {
  struct stat st;
  if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return;
    fail(path, errno);
  }
  if (g_keep_dirs && S_ISDIR(st.st_mode)) fail_msg(path, "cannot overwrite a directory with a non-directory");
  if (S_ISDIR(st.st_mode)) rm_tree(pfd, name, path, g_root_dev);
  else if (unlinkat(pfd, name, 0) < 0) fail(path, errno);
  cache_drop(); /* last: PFD may be the cached fd */
}

/* Record PATH (and, since they now exist because of this layer, its parents) as written by
 * this layer, so a later OPAQUE marker for an ancestor keeps it (--flatten only). */
static void mark_written(const char *path) {
  if (!g_flatten && !g_merge) return;
  char buf[MAX_PATH_LEN + 1];
  strcpy(buf, path);
  for (char *s = buf;; s++) {
    if (*s == '/' || !*s) {
      char c = *s;
      *s = '\0';
      int found;
      table_get(&g_written, buf, &found);
      if (!found) table_put(&g_written, buf, NULL);
      if (!c) break;
      *s = c;
    }
  }
}

static struct timespec ts_of(int64_t sec) { return (struct timespec){.tv_sec = sec, .tv_nsec = 0}; }

/* Set owner then mode (chown clears setuid/setgid, so chmod must come second). */
static void own_and_mode(int fd, const char *path) {
  /* EINVAL: the ID is not mapped (single-ID namespace, no subuid range): the file goes to
   * root, as Podman's ignore_chown_errors does. */
  if (fchown(fd, g_f->uid, g_f->gid) < 0 && (errno != EINVAL || fchown(fd, 0, 0) < 0)) fail(path, errno);
  if (fchmod(fd, g_f->mode & 07777) < 0) fail(path, errno);
}

/* A directory at PATH (the root if PATH is ""), created with PERM if missing; a non-directory
 * in the way is replaced. Returns a readable fd of the directory itself. */
static int make_dir(const char *path, mode_t perm) {
  int fd;
  if (!*path) {
    fd = openat(g_root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else {
    const char *name;
    int pfd = must_parent(path, &name);
    if (mkdirat(pfd, name, perm) < 0) {
      struct stat st;
      if (errno != EEXIST) fail(path, errno);
      if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) fail(path, errno);
      if (!S_ISDIR(st.st_mode)) {
        if (g_keep_dirs) fail_msg(path, "cannot overwrite a non-directory with a directory");
        clear_entry(pfd, name, path);
        pfd = must_parent(path, &name);
        if (mkdirat(pfd, name, perm) < 0) fail(path, errno);
      }
    }
    fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) fail(path, errno);
  return fd;
}

static void op_mkdir(void) {
  int fd = make_dir(g_f->path, 0700);
  own_and_mode(fd, g_f->path);
  g_cache_setgid = -1; /* this may be the cached parent, and its mode just changed */
  close(fd);
  if (g_ndirs == g_capdirs) {
    g_capdirs = g_capdirs ? g_capdirs * 2 : 256;
    g_dirs = xrealloc(g_dirs, g_capdirs * sizeof *g_dirs);
  }
  g_dirs[g_ndirs++] = (struct dir_time){xstrdup(g_f->path), g_f->mtime};
  mark_written(g_f->path);
}

static void op_file(void) {
  const char *name;
  int pfd = must_parent(g_f->path, &name);
  int implied = owner_is_implied(pfd) && !(g_f->mode & 07000);
  /* O_EXCL|O_NOFOLLOW: never write through whatever is there. Usually nothing is, so the
   * create comes first and room is made only when it fails. */
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  const mode_t mode = implied ? g_f->mode & 0777 : 0600;
  int fd = openat(pfd, name, flags, mode);
  if (fd < 0 && errno == EEXIST) {
    clear_entry(pfd, name, g_f->path);
    pfd = must_parent(g_f->path, &name);
    fd = openat(pfd, name, flags, mode); /* if anything reappeared there, fail */
  }
  if (fd < 0) fail(g_f->path, errno);
  g_data(fd, g_f->data_len, g_f->path);
  if (!implied) own_and_mode(fd, g_f->path);
  struct timespec t[2] = {ts_of(g_f->mtime), ts_of(g_f->mtime)};
  if (futimens(fd, t) < 0) fail(g_f->path, errno);
  if (close(fd) < 0) fail(g_f->path, errno);
  mark_written(g_f->path);
}

/* Owner and times of a non-directory entry that cannot be opened (symlink, device, fifo). */
static void own_and_time_at(int pfd, const char *name, int chmod_too, int owner_implied) {
  if (!owner_implied && fchownat(pfd, name, g_f->uid, g_f->gid, AT_SYMLINK_NOFOLLOW) < 0 &&
      (errno != EINVAL || fchownat(pfd, name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0))
    fail(g_f->path, errno);
  if (chmod_too && fchmodat(pfd, name, g_f->mode & 07777, 0) < 0) fail(g_f->path, errno);
  struct timespec t[2] = {ts_of(g_f->mtime), ts_of(g_f->mtime)};
  if (utimensat(pfd, name, t, AT_SYMLINK_NOFOLLOW) < 0) fail(g_f->path, errno);
}

static void op_symlink(void) {
  const char *name;
  if (memchr(g_f->arg, '\0', g_f->arg_len)) fail_msg(g_f->path, "NUL byte in link target");
  int pfd = must_parent(g_f->path, &name);
  clear_entry(pfd, name, g_f->path);
  pfd = must_parent(g_f->path, &name);
  if (symlinkat(g_f->arg, pfd, name) < 0) fail(g_f->path, errno);
  own_and_time_at(pfd, name, 0, owner_is_implied(pfd));
  cache_drop(); /* the new link can redirect paths resolved so far */
  mark_written(g_f->path);
}

static void op_hardlink(void) {
  const char *tname;
  char target[MAX_ARG_LEN + 1];
  if (memchr(g_f->arg, '\0', g_f->arg_len)) fail_msg(g_f->path, "NUL byte in link target");
  strcpy(target, g_f->arg); /* already cleaned by the tar reader (untar.c) */
  /* The target is resolved in the root as well; linkat() without AT_SYMLINK_FOLLOW links the
   * entry itself, so a target that is a symlink can never pull in a file from outside. */
  const char *slash = strrchr(target, '/');
  tname = slash ? slash + 1 : target;
  if (!*tname || !strcmp(tname, "..")) fail_msg(g_f->path, "invalid hard link target");
  if (slash) target[slash - target] = '\0';
  int tpfd = open_dir_in_root(slash ? target : "", 0);
  struct stat tst, cur;
  if (tpfd < 0 || fstatat(tpfd, tname, &tst, AT_SYMLINK_NOFOLLOW) < 0)
    die("%s: %s: link target %s: %s", g_mode, shown(g_f->path), shown(g_f->arg), strerror(errno));
  const char *name;
  int pfd = must_parent(g_f->path, &name);
  if (fstatat(pfd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_dev == tst.st_dev &&
      cur.st_ino == tst.st_ino) {
    close(tpfd); /* already the same file (a link to itself) */
    return;
  }
  clear_entry(pfd, name, g_f->path);
  pfd = must_parent(g_f->path, &name);
  if (linkat(tpfd, tname, pfd, name, 0) < 0) fail(g_f->path, errno);
  close(tpfd);
  mark_written(g_f->path);
}

static void op_whiteout(void) {
  const char *name;
  if (g_flatten) {
    /* Flattened rootfs: the path simply goes. A missing parent means nothing to hide. */
    int pfd = parent_fd(g_f->path, &name, 0);
    if (pfd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return;
      fail(g_f->path, errno);
    }
    rm_tree(pfd, name, g_f->path, g_root_dev);
    cache_drop(); /* last: PFD is the cached fd */
    return;
  }
  int pfd = must_parent(g_f->path, &name);
  clear_entry(pfd, name, g_f->path);
  pfd = must_parent(g_f->path, &name);
  /* Overlay whiteout: char device 0:0, which the kernel lets a user namespace create. */
  if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0) fail(g_f->path, errno);
}

/* --flatten or --merge OPAQUE: remove everything below the open directory FD (at normalised
 * PATH) that this layer did not write itself; descend into directories it did write. */
static void empty_except_written(int fd, const char *path) {
  int dfd = dup(fd);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) fail(path, errno);
  struct dirent *de;
  while ((errno = 0, de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char *child = join(path, de->d_name);
    int found;
    table_get(&g_written, child, &found);
    if (!found) {
      rm_tree(fd, de->d_name, child, g_root_dev);
    } else {
      int cfd = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd >= 0) {
        empty_except_written(cfd, child);
        close(cfd);
      } else if (errno != ENOTDIR && errno != ELOOP) {
        fail(child, errno);
      }
    }
    free(child);
  }
  if (errno) fail(path, errno);
  closedir(d);
}

static void op_opaque(void) {
  if (g_flatten) {
    int fd = open_in_root(g_f->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return;
      fail(g_f->path, errno);
    }
    cache_drop();
    empty_except_written(fd, g_f->path);
    close(fd);
    return;
  }
  if (g_merge) {
    /* what earlier merged layers put below the directory goes, as this layer hides it; the
     * opaque mark stays, for the layers below all of them */
    int old = open_in_root(g_f->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (old >= 0) {
      cache_drop();
      empty_except_written(old, g_f->path);
      close(old);
    } else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) {
      fail(g_f->path, errno);
    }
  }
  int fd = make_dir(g_f->path, 0755);
  if (fsetxattr(fd, g_opaque_xattr, "y", 1, 0) < 0) fail(g_f->path, errno);
  close(fd);
}

static void op_xattr(void) {
  const char *key = g_f->arg;
  size_t klen = strnlen(key, g_f->arg_len);
  if (klen == 0 || klen >= g_f->arg_len) fail_msg(g_f->path, "malformed extended attribute");
  const char *val = g_f->arg + klen + 1;
  size_t vlen = g_f->arg_len - klen - 1;
  if (!strcmp(key, "system.posix_acl_default")) g_acl_may_mask_modes = 1;
  /* Resolve the entry itself without following it; a symlink's xattrs are skipped (user.*
   * cannot be set on symlinks, and the /proc path below would follow it). */
  int fd = open_in_root(g_f->path, O_PATH | O_NOFOLLOW);
  if (fd < 0) fail(g_f->path, errno);
  struct stat st;
  if (fstat(fd, &st) < 0) fail(g_f->path, errno);
  if (!S_ISLNK(st.st_mode)) {
    char p[64];
    if (setxattr(fd_path(fd, p, sizeof p), key, val, vlen, 0) < 0) {
      if (errno != EPERM && errno != ENOTSUP) fail(g_f->path, errno);
      if (!g_noted_xattr++)
        warnx_("note: extended attributes not permitted here (first: %s on %s); skipping them",
               shown(key), shown(g_f->path));
    }
  }
  close(fd);
}

static void op_device(void) {
  mode_t type = g_f->mode & S_IFMT;
  if (type != S_IFCHR && type != S_IFBLK && type != S_IFIFO)
    fail_msg(g_f->path, "not a device or fifo");
  unsigned maj = g_f->devmajor, min = g_f->devminor;
  const char *name;
  int pfd = must_parent(g_f->path, &name);
  clear_entry(pfd, name, g_f->path);
  pfd = must_parent(g_f->path, &name);
  if (mknodat(pfd, name, type | (g_f->mode & 07777), makedev(maj, min)) < 0) {
    if (errno != EPERM || type == S_IFIFO) fail(g_f->path, errno);
    if (!g_noted_dev++)
      warnx_("note: device nodes cannot be created here (rootless); skipping them (first: %s)",
             shown(g_f->path));
    return;
  }
  own_and_time_at(pfd, name, 1, 0);
  mark_written(g_f->path);
}

/* Directory mtimes, last: every entry added to a directory bumped its mtime. A directory that
 * was replaced later (by a symlink, say) is skipped: O_NOFOLLOW|O_DIRECTORY refuses it. */
static void apply_dir_times(void) {
  for (size_t i = 0; i < g_ndirs; i++) {
    int fd = open_in_root(g_dirs[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      fail(g_dirs[i].path, errno);
    }
    struct timespec t[2] = {ts_of(g_dirs[i].mtime), ts_of(g_dirs[i].mtime)};
    if (futimens(fd, t) < 0) fail(g_dirs[i].path, errno);
    close(fd);
  }
}

void layer_open(const char *dir, int flatten, const char *opaque_xattr) {
  g_mode = "apply-tar";
  g_root_name = dir;
  g_flatten = flatten;
  if (opaque_xattr) g_opaque_xattr = opaque_xattr;
  umask(0);
  g_euid = geteuid();
  g_egid = getegid();
  raise_nofile();
  g_root = open(g_root_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (g_root < 0 || fstat(g_root, &st) < 0) fail(g_root_name, errno);
  g_root_dev = st.st_dev;
  /* A default ACL would mask create modes (see owner_is_implied); with --flatten the tree
   * below DIR is an earlier layer's copy, whose directories may carry one. */
  if (flatten || getxattr(g_root_name, "system.posix_acl_default", NULL, 0) > 0) g_acl_may_mask_modes = 1;
}

void layer_keep_dirs(void) { g_keep_dirs = 1; }

void layer_merge(void) {
  g_merge = 1;
  g_acl_may_mask_modes = 1; /* the tree holds earlier layers, as with --flatten */
}

void layer_apply(const struct layer_op *op, layer_data_fn data) {
  g_f = op;
  g_data = data;
  switch (op->op) {
  case OP_MKDIR: op_mkdir(); break;
  case OP_FILE: op_file(); break;
  case OP_SYMLINK: op_symlink(); break;
  case OP_HARDLINK: op_hardlink(); break;
  case OP_WHITEOUT: op_whiteout(); break;
  case OP_OPAQUE: op_opaque(); break;
  case OP_XATTR: op_xattr(); break;
  case OP_DEVICE: op_device(); break;
  default: fail_msg(op->path, "unknown layer operation");
  }
}

static int g_no_sync;
void layer_no_sync(void) { g_no_sync = 1; }

void layer_finish(void) {
  apply_dir_times();
  if (g_no_sync) return;
  /* Durable before Node renames the layer into place; syncfs needs a real fd (not O_PATH). */
  int fd = openat(g_root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || syncfs(fd) < 0) fail(g_root_name, errno);
  close(fd);
}

/* ------------------------------------------------------------------------------------------ */
/* copy                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static struct table g_links;   /* "dev:ino" of multiply-linked sources -> path below g_dst_pfd */
static int g_dst_pfd = -1;     /* parent directory of DST */
static dev_t g_dst_dev;        /* DST itself, so a DST inside SRC is not copied into itself */
static ino_t g_dst_ino;
static int g_dst_known;
static int g_noted_cxattr, g_noted_cdev;

/* Copy all extended attributes from one inode to another (both given as fds, O_PATH allowed).
 * Attributes we may not set here (trusted.*, security.* rootless) are skipped with one note. */
static void copy_xattrs(int sfd, int dfd, const char *path) {
  char sp[64], dp[64];
  fd_path(sfd, sp, sizeof sp);
  fd_path(dfd, dp, sizeof dp);
  ssize_t n = listxattr(sp, NULL, 0);
  if (n <= 0) {
    if (n < 0 && errno != ENOTSUP) fail(path, errno);
    return;
  }
  char *names = xmalloc((size_t)n);
  n = listxattr(sp, names, (size_t)n);
  if (n < 0) fail(path, errno);
  for (char *k = names; k < names + n; k += strlen(k) + 1) {
    ssize_t vl = getxattr(sp, k, NULL, 0);
    if (vl < 0) {
      if (errno == ENODATA || errno == EPERM || errno == ENOTSUP) continue;
      fail(path, errno);
    }
    char *v = xmalloc((size_t)vl);
    vl = getxattr(sp, k, v, (size_t)vl);
    if (vl < 0) fail(path, errno);
    if (setxattr(dp, k, v, (size_t)vl, 0) < 0) {
      if (errno != EPERM && errno != ENOTSUP) fail(path, errno);
      if (!g_noted_cxattr++)
        warnx_("note: extended attributes not permitted here (first: %s on %s); skipping them", shown(k), shown(path));
    }
    free(v);
  }
  free(names);
}

/* File contents: a reflink where the filesystem has them, else copy_file_range (in-kernel),
 * else read/write. Copies until EOF rather than trusting st_size. */
static void copy_data(int s, int d, const char *path) {
  if (ioctl(d, FICLONE, s) == 0) return;
  for (;;) {
    ssize_t n = copy_file_range(s, NULL, d, NULL, 1u << 30, 0);
    if (n == 0) return;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) break;
    fail(path, errno);
  }
  for (;;) {
    ssize_t n = read(s, g_buf, sizeof g_buf);
    if (n == 0) return;
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, errno);
    }
    write_all(d, g_buf, (size_t)n, path);
  }
}

/* Owner, mode, xattrs, times on an opened copy (chown before chmod keeps setuid bits; xattrs
 * after chown because chown drops security.capability). */
static void finish_fd(int sfd, int dfd, const struct stat *st, const char *path) {
  if (fchown(dfd, st->st_uid, st->st_gid) < 0) fail(path, errno);
  if (fchmod(dfd, st->st_mode & 07777) < 0) fail(path, errno);
  copy_xattrs(sfd, dfd, path);
  struct timespec t[2] = {st->st_atim, st->st_mtim};
  if (futimens(dfd, t) < 0) fail(path, errno);
}

static void copy_entry(int spfd, const char *sname, int dpfd, const char *dname, const char *spath,
                       const char *rel);

static void copy_dir(int spfd, const char *sname, int dpfd, const char *dname, const char *spath,
                     const char *rel, const struct stat *st) {
  if (mkdirat(dpfd, dname, 0700) < 0) fail(rel, errno);
  int sfd = openat(spfd, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sfd < 0) fail(spath, errno);
  int dfd = openat(dpfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) fail(rel, errno);
  if (!g_dst_known) { /* the first directory made is DST itself */
    struct stat dst;
    if (fstat(dfd, &dst) < 0) fail(rel, errno);
    g_dst_dev = dst.st_dev;
    g_dst_ino = dst.st_ino;
    g_dst_known = 1;
  }
  int tmp = dup(sfd);
  DIR *d = tmp >= 0 ? fdopendir(tmp) : NULL;
  if (!d) fail(spath, errno);
  struct dirent *de;
  while ((errno = 0, de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char *cs = join(spath, de->d_name), *cr = join(rel, de->d_name);
    copy_entry(sfd, de->d_name, dfd, de->d_name, cs, cr);
    free(cs);
    free(cr);
  }
  if (errno) fail(spath, errno);
  closedir(d);
  finish_fd(sfd, dfd, st, rel); /* last: the children changed the directory's mtime */
  close(sfd);
  close(dfd);
}

static void copy_file(int spfd, const char *sname, int dpfd, const char *dname, const char *spath,
                      const char *rel, const struct stat *st) {
  /* O_NONBLOCK: if the entry was swapped for a FIFO meanwhile, do not hang; checked below. */
  int s = openat(spfd, sname, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  struct stat now;
  if (s < 0 || fstat(s, &now) < 0) fail(spath, errno);
  if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino) fail_msg(spath, "changed during copy");
  int d = openat(dpfd, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (d < 0) fail(rel, errno);
  copy_data(s, d, spath);
  finish_fd(s, d, st, rel);
  if (close(d) < 0) fail(rel, errno);
  close(s);
}

static void copy_symlink(int spfd, const char *sname, int dpfd, const char *dname, const char *spath,
                         const char *rel, const struct stat *st) {
  size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : 4096;
  char *target = xmalloc(cap);
  ssize_t n = readlinkat(spfd, sname, target, cap);
  if (n < 0) fail(spath, errno);
  if ((size_t)n >= cap) fail_msg(spath, "changed during copy");
  target[n] = '\0';
  if (symlinkat(target, dpfd, dname) < 0) fail(rel, errno);
  free(target);
  if (fchownat(dpfd, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0) fail(rel, errno);
  struct timespec t[2] = {st->st_atim, st->st_mtim};
  if (utimensat(dpfd, dname, t, AT_SYMLINK_NOFOLLOW) < 0) fail(rel, errno);
}

/* FIFOs, sockets, whiteouts (char 0:0) and devices. Devices other than whiteouts cannot be
 * made rootless: skipped with one note. */
static void copy_special(int spfd, const char *sname, int dpfd, const char *dname, const char *spath,
                         const char *rel, const struct stat *st) {
  if (mknodat(dpfd, dname, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0) {
    if (errno == EPERM && (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))) {
      if (!g_noted_cdev++)
        warnx_("note: device nodes cannot be created here (rootless); skipping them (first: %s)", shown(spath));
      return;
    }
    fail(rel, errno);
  }
  if (fchownat(dpfd, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0) fail(rel, errno);
  if (fchmodat(dpfd, dname, st->st_mode & 07777, 0) < 0) fail(rel, errno);
  int s = openat(spfd, sname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int d = openat(dpfd, dname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (s < 0) fail(spath, errno);
  if (d < 0) fail(rel, errno);
  copy_xattrs(s, d, rel);
  close(s);
  close(d);
  struct timespec t[2] = {st->st_atim, st->st_mtim};
  if (utimensat(dpfd, dname, t, AT_SYMLINK_NOFOLLOW) < 0) fail(rel, errno);
}

/* Second and later names of a multiply-linked inode become hard links to the first copy. The
 * first copy's path is resolved beneath DST's parent without following any symlink. */
static int link_if_seen(int dpfd, const char *dname, const char *rel, char *key) {
  int found;
  char *first = table_get(&g_links, key, &found);
  if (!found) return 0;
  char *dir = xstrdup(first), *slash = strrchr(dir, '/');
  const char *last = slash ? slash + 1 : dir;
  if (slash) *slash = '\0';
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
  int fd = (int)syscall(SYS_openat2, g_dst_pfd, slash ? dir : ".", &how, sizeof how);
  if (fd < 0 || linkat(fd, last, dpfd, dname, 0) < 0) fail(rel, errno);
  close(fd);
  free(dir);
  return 1;
}

static void copy_entry(int spfd, const char *sname, int dpfd, const char *dname, const char *spath,
                       const char *rel) {
  struct stat st;
  if (fstatat(spfd, sname, &st, AT_SYMLINK_NOFOLLOW) < 0) fail(spath, errno);
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev == g_dst_dev && st.st_ino == g_dst_ino) return; /* DST lies inside SRC */
    copy_dir(spfd, sname, dpfd, dname, spath, rel, &st);
    return;
  }
  char key[64];
  snprintf(key, sizeof key, "%jx:%jx", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
  if (st.st_nlink > 1 && link_if_seen(dpfd, dname, rel, key)) return;
  if (S_ISREG(st.st_mode)) copy_file(spfd, sname, dpfd, dname, spath, rel, &st);
  else if (S_ISLNK(st.st_mode)) copy_symlink(spfd, sname, dpfd, dname, spath, rel, &st);
  else copy_special(spfd, sname, dpfd, dname, spath, rel, &st);
  if (st.st_nlink > 1) table_put(&g_links, key, xstrdup(rel));
}

/* What the directory SFD holds, copied into the (empty) directory DFD as `copy` copies: a new
 * volume's first fill from the image (volume_mount.c, in a child: failures exit as here). */
void copy_dir_contents(int sfd, int dfd, const char *spath) {
  g_mode = "copy-up";
  umask(0);
  struct stat dst;
  if (fstat(dfd, &dst) < 0) fail(spath, errno);
  g_dst_dev = dst.st_dev;
  g_dst_ino = dst.st_ino;
  g_dst_known = 1;
  g_dst_pfd = dfd; /* hard links are found again by their path below the volume */
  int tmp = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = tmp >= 0 ? fdopendir(tmp) : NULL;
  if (!d) fail(spath, errno);
  struct dirent *de;
  while ((errno = 0, de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char *cs = join(spath, de->d_name);
    copy_entry(sfd, de->d_name, dfd, de->d_name, cs, de->d_name);
    free(cs);
  }
  if (errno) fail(spath, errno);
  closedir(d);
}

/* copy SRC DST: DST's parent exists, DST does not. */
int mode_copy(int argc, char **argv) {
  g_mode = "copy";
  if (argc != 3) die("copy: usage: copy SRC DST");
  umask(0);
  raise_nofile();
  char *scopy, *dcopy;
  const char *sname, *dname;
  int spfd = open_parent_of(argv[1], &scopy, &sname);
  if (!*sname || !strcmp(sname, ".") || !strcmp(sname, "..") || !strcmp(argv[1], "/")) {
    /* SRC names a directory only by "." or "/": copy it through an fd of itself. */
    if (spfd >= 0) close(spfd);
    spfd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
    sname = ".";
  }
  if (spfd < 0) fail(argv[1], errno);
  g_dst_pfd = open_parent_of(argv[2], &dcopy, &dname);
  if (g_dst_pfd < 0) fail(argv[2], errno);
  if (!*dname || !strcmp(dname, ".") || !strcmp(dname, "..")) fail_msg(argv[2], "invalid destination");
  struct stat st;
  if (fstatat(g_dst_pfd, dname, &st, AT_SYMLINK_NOFOLLOW) == 0) fail(argv[2], EEXIST);
  copy_entry(spfd, sname, g_dst_pfd, dname, argv[1], dname);
  free(scopy);
  free(dcopy);
  return 0;
}
