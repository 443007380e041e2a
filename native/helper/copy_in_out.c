/*
 * cp, export, diff and commit's storage side (see native/PROTOCOL.md): tar-out writes a tree
 * of a container (or the host) as a tar, tar-in applies a tar below a directory of a
 * container, stat-path says what a path is, changes lists a container's changes. Node says
 * where the container's root is:
 *
 *   --root DIR            a directory (a vfs rootfs, the host's /, an upper dir)
 *   --pid PID             a running container: its init's root (/proc/PID/root), the mounts
 *                         it sees included, so a write lands where the container sees it
 *   --overlay DATA DIR    mount overlayfs with DATA at DIR first, in a private mount namespace
 *                         (a stopped container; read-only when DATA has no upperdir)
 *
 * Every path inside it is resolved with openat2(RESOLVE_IN_ROOT): a symlink in the container,
 * however absolute or full of "..", resolves as the container would see it, never to the host.
 */
#include "helper.h"
#include "layer.h"
#include "tarwrite.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *g_what = "cp";

/* Parse the root options at ARGV[*I]; returns 1 when one was consumed. */
static int root_option(char **argv, int argc, int *i, int *root) {
  if (!strcmp(argv[*i], "--root") && *i + 1 < argc) {
    *root = open(argv[++*i], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*root < 0) die("%s: %s: %s", g_what, argv[*i], strerror(errno));
    return 1;
  }
  if (!strcmp(argv[*i], "--pid") && *i + 1 < argc) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%s/root", argv[++*i]);
    *root = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*root < 0) die("%s: the container's process %s is gone: %s", g_what, argv[*i], strerror(errno));
    return 1;
  }
  if (!strcmp(argv[*i], "--overlay") && *i + 2 < argc) {
    const char *data = argv[++*i], *dir = argv[++*i];
    if (unshare(CLONE_NEWNS) < 0) die("%s: cannot create a mount namespace: %s", g_what, strerror(errno));
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("%s: cannot make / private: %s", g_what, strerror(errno));
    unsigned long flags = MS_NODEV | MS_NOSUID | (strstr(data, "upperdir=") ? 0 : MS_RDONLY);
    if (mount("overlay", dir, "overlay", flags, data) < 0)
      die("%s: cannot mount the container's filesystem: %s", g_what, strerror(errno));
    *root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*root < 0) die("%s: %s: %s", g_what, dir, strerror(errno));
    return 1;
  }
  return 0;
}

/* PATH (absolute in the container) resolved below ROOT; O_PATH, following the last symlink
 * only with FOLLOW (still inside ROOT). -1 with errno when it is not there. */
static int resolve(int root, const char *path, int follow) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/') path++;
  for (int tries = 0;; tries++) {
    int fd = (int)syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof how);
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR) || tries > 64) return fd;
  }
}

/* stat-path [--follow] ROOTOPT PATH: one line, "dir", "file", "symlink TARGET", "other" or
 * "missing" (also when a parent is not a directory), for Node's copy rules. */
int mode_stat_path(int argc, char **argv) {
  g_what = "stat-path";
  int root = -1, follow = 0, i = 1;
  for (; i < argc - 1; i++) {
    if (!strcmp(argv[i], "--follow")) follow = 1;
    else if (!root_option(argv, argc, &i, &root)) break;
  }
  if (root < 0 || i != argc - 1) die("usage: stat-path [--follow] --root DIR|--pid PID|--overlay DATA DIR PATH");
  int fd = resolve(root, argv[i], follow);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) { puts("missing"); return 0; }
    die("%s: %s", argv[i], strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) puts("dir");
  else if (S_ISREG(st.st_mode)) puts("file");
  else if (S_ISLNK(st.st_mode)) {
    char target[4097];
    ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
    target[n < 0 ? 0 : n] = '\0';
    printf("symlink %s\n", target);
  } else puts("other");
  return 0;
}

/* tar-out [--follow] [--layer] [--name ARC] [--owner U:G] [--exclude ARC]... [--to FILE] ROOTOPT PATH:
 * PATH (and everything below it) as a tar on stdout, its top entry named ARC (default: PATH's
 * last component; "" writes a directory's children only). --layer: overlay whiteouts become
 * .wh. entries. --exclude: an entry of that archive name is left out with all below it.
 * --to: the tar goes to the new FILE instead, which is synced (syncfs) and whose digest line
 * ("sha256:HEX BYTES FILE_BYTES") is printed on stdout. */
int mode_tar_out(int argc, char **argv) {
  g_what = "tar-out";
  raise_nofile(); /* two fds per level of the tree (tarwrite.c) */
  struct tar_writer tw = {.fd = 1};
  int root = -1, follow = 0, i = 1;
  const char *arc = NULL, *to = NULL;
  tw.exclude = xmalloc((size_t)argc * sizeof *tw.exclude);
  int nexclude = 0;
  for (; i < argc - 1; i++) {
    if (!strcmp(argv[i], "--follow")) follow = 1;
    else if (!strcmp(argv[i], "--exclude") && i + 1 < argc - 1) tw.exclude[nexclude++] = argv[++i];
    else if (!strcmp(argv[i], "--layer")) tw.whiteouts = 1;
    else if (!strcmp(argv[i], "--to") && i + 1 < argc - 1) to = argv[++i];
    else if (!strcmp(argv[i], "--name") && i + 1 < argc - 1) arc = argv[++i];
    else if (!strcmp(argv[i], "--owner") && i + 1 < argc - 1) {
      if (sscanf(argv[++i], "%u:%u", &tw.uid, &tw.gid) != 2) die("tar-out: bad --owner %s", argv[i]);
      tw.owner_set = 1;
    } else if (!root_option(argv, argc, &i, &root)) break;
  }
  tw.exclude[nexclude] = NULL;
  if (root < 0 || i != argc - 1) die("usage: tar-out [--follow] [--layer] [--name ARC] [--owner U:G] [--exclude ARC]... [--to FILE] --root DIR|--pid PID|--overlay DATA DIR PATH");
  if (to) {
    /* A new file (O_EXCL) in the caller's private staging dir; the digest line goes to stdout. */
    tw.fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (tw.fd < 0) die("tar-out: %s: %s", to, strerror(errno));
    tw.digest = 1;
  }
  const char *path = argv[i];
  int fd = resolve(root, path, follow);
  if (fd < 0) die("tar-out: %s: %s", path, strerror(errno));
  if (!arc) {
    const char *end = path + strlen(path);
    while (end > path && end[-1] == '/') end--;
    const char *base = end;
    while (base > path && base[-1] != '/') base--;
    static char name[MAX_TAR_PATH + 1];
    snprintf(name, sizeof name, "%.*s", (int)(end - base), base);
    arc = *name ? name : "";
  }
  tw_entry(&tw, fd, arc);
  tw_finish(&tw);
  if (to) {
    /* Durable before Node names it (build: the blob, and the tree it was read from, which is on
     * the same filesystem and becomes the layer by a rename). */
    if (syncfs(tw.fd) < 0 || close(tw.fd) < 0) die("tar-out: %s: %s", to, strerror(errno));
    char line[160];
    tw_digest_line(&tw, line, sizeof line);
    write_all(1, line, strlen(line), "<stdout>");
  }
  return 0;
}

/* tar-in [--owner U:G] [--no-sync] ROOTOPT DIR: the tar on stdin applied below DIR (inside the
 * root), as plain files (a .wh. name is a name), entries owned by U:G when given. DIR must exist.
 * --no-sync: no syncfs at the end (build: the step is synced once, by tar-out --to). */
int mode_tar_in(int argc, char **argv) {
  g_what = "tar-in";
  int root = -1, i = 1, no_sync = 0;
  const char *owner = NULL;
  for (; i < argc - 1; i++) {
    if (!strcmp(argv[i], "--owner") && i + 1 < argc - 1) owner = argv[++i];
    else if (!strcmp(argv[i], "--no-sync")) no_sync = 1;
    else if (!root_option(argv, argc, &i, &root)) break;
  }
  if (root < 0 || i != argc - 1) die("usage: tar-in [--owner U:G] [--no-sync] --root DIR|--pid PID|--overlay DATA DIR DIR");
  int fd = resolve(root, argv[i], 1);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) die("tar-in: %s: %s", argv[i], strerror(errno));
  if (!S_ISDIR(st.st_mode)) die("tar-in: %s: %s", argv[i], strerror(ENOTDIR));
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/self/fd/%d", fd);
  char *args[8];
  int n = 0;
  args[n++] = "apply-tar";
  args[n++] = "--plain";
  if (no_sync) args[n++] = "--no-sync";
  if (owner) {
    args[n++] = "--owner";
    args[n++] = (char *)owner;
  }
  args[n++] = dir;
  args[n] = NULL;
  return mode_apply_tar(n, args);
}

/* --- changes UPPER LOWER...: what a container changed, for diff --- */

static int *g_lowers;
static int g_nlowers;

/* Is PATH in the image below (any lower layer, resolved inside each)? */
static int in_lower(const char *path) {
  for (int k = 0; k < g_nlowers; k++) {
    int fd = resolve(g_lowers[k], path, 0);
    if (fd >= 0) {
      struct stat st;
      int whiteout = fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0;
      close(fd);
      return !whiteout;
    }
  }
  return 0;
}

static void emit(char kind, const char *path) {
  printf("%c %s", kind, path);
  putchar('\0');
}

/* Recursive, once per level of a tree the container made as deep as it liked: the path is on the
 * heap (a PATH_MAX buffer here was 4 KiB of stack per level) and the fds are lifted (two per level). */
static void changes_walk(int dirfd, const char *dir) {
  int fd = dup(dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) die("changes: %s: %s", dir, strerror(errno));
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    char *path = xmalloc(len);
    snprintf(path, len, "%s/%s", dir, e->d_name);
    struct stat st;
    if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) { free(path); continue; }
    if (S_ISCHR(st.st_mode) && st.st_rdev == 0) { emit('D', path); free(path); continue; }
    emit(in_lower(path) ? 'C' : 'A', path);
    if (S_ISDIR(st.st_mode)) {
      int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        changes_walk(sub, path);
        close(sub);
      }
    }
    free(path);
  }
  closedir(d);
}

int mode_changes(int argc, char **argv) {
  if (argc < 2) die("usage: changes UPPER [LOWER...] (lowers top first)");
  raise_nofile();
  int upper = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (upper < 0) die("changes: %s: %s", argv[1], strerror(errno));
  g_nlowers = argc - 2;
  g_lowers = xmalloc(((size_t)g_nlowers + 1) * sizeof *g_lowers);
  for (int k = 0; k < g_nlowers; k++) {
    g_lowers[k] = open(argv[k + 2], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (g_lowers[k] < 0) die("changes: %s: %s", argv[k + 2], strerror(errno));
  }
  changes_walk(upper, "");
  fflush(stdout);
  return 0;
}
