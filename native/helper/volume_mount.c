/*
 * What the container init does for volumes before and after its mounts (monitor.c's
 * setup_rootfs), as Docker's daemon does for a volume's first use and Podman for :U:
 *  - copy-up: a volume that is still empty gets what the image has at the mount's destination
 *    (files, owners, modes, xattrs; storage.c's copy), and that directory's owner and mode;
 *  - chown: a source and everything below it (no symlink followed) owned by the container's user;
 *  - rootfs-ro: --read-only, the root mount made read-only once everything is mounted on it.
 * The destination is always resolved inside the rootfs (openat2 RESOLVE_IN_ROOT), so an image's
 * symlink cannot send the copy to the host. We are root in the container's user namespace here,
 * before the credential switch, so sub-ID owners are kept.
 */
#include "helper.h"
#include "volume_mount.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_err[1024];

__attribute__((format(printf, 1, 2))) static const char *failed(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_err, sizeof g_err, fmt, ap);
  va_end(ap);
  return g_err;
}

int volume_parse_key(struct volume_prep *v, const char *key, int nf, char **f) {
  if (!strcmp(key, "copy-up")) {
    if (nf != 2 || f[1][0] != '/') die("monitor: spec key copy-up wants SRC and an absolute DST");
    if (v->ncopy >= VOLUME_MAX) die("monitor: too many copy-up records");
    v->copy_src[v->ncopy] = f[0];
    v->copy_dst[v->ncopy++] = f[1];
    return 1;
  }
  if (!strcmp(key, "chown")) {
    if (nf != 3) die("monitor: spec key chown wants PATH UID GID");
    if (v->nchown >= VOLUME_MAX) die("monitor: too many chown records");
    v->chown_path[v->nchown] = f[0];
    v->chown_uid[v->nchown] = strtoul(f[1], NULL, 10);
    v->chown_gid[v->nchown++] = strtoul(f[2], NULL, 10);
    return 1;
  }
  if (!strcmp(key, "rootfs-ro")) {
    if (nf != 1) die("monitor: spec key rootfs-ro wants 1 field");
    v->rootfs_ro = atoi(f[0]);
    return 1;
  }
  return 0;
}

static int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Create the missing entry NAME in PARENT: an empty file or a directory; 0 or -1 with errno. */
static int create_entry(int parent, const char *name, int is_file) {
  if (!is_file) return mkdirat(parent, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
  int f = openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (f < 0) return -1;
  close(f);
  return 0;
}

int volume_mount_target(int rootfd, const char *dst, int is_file, const char **err) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s", dst) >= (int)sizeof path) {
    *err = failed("mount destination %s is too long", dst);
    return -1;
  }
  for (int hops = 0; hops < 40; hops++) {
    size_t len = strlen(path);
    int restarted = 0, made = 0;
    for (size_t i = 1; i <= len && !restarted; i++) {
      if (path[i] != '/' && path[i] != '\0') continue;
      char save = path[i];
      int last = save == '\0' || (save == '/' && path[i + 1] == '\0');
      path[i] = '\0';
      int fd = open_in_root(rootfd, path, O_PATH | (last ? 0 : O_DIRECTORY));
      if (fd >= 0) {
        if (last) return fd;
        close(fd);
        path[i] = save;
        continue;
      }
      if (errno != ENOENT) {
        *err = failed("cannot resolve %s in the container's root: %s", path, strerror(errno));
        return -1;
      }
      /* missing: the entry itself, or a symlink whose target is missing */
      char *slash = strrchr(path, '/');
      *slash = '\0';
      int parent = open_in_root(rootfd, path[0] ? path : "/", O_PATH | O_DIRECTORY);
      *slash = '/';
      if (parent < 0) {
        *err = failed("cannot resolve %s in the container's root: %s", path, strerror(errno));
        return -1;
      }
      char target[4096];
      ssize_t n = readlinkat(parent, slash + 1, target, sizeof target - 1);
      if (n >= 0) {
        /* follow it inside the root: TARGET (from the parent, or from the root) then the rest */
        target[n] = '\0';
        char next[4096];
        const char *rest = last ? "" : path + i + 1;
        *slash = '\0';
        int w = target[0] == '/' ? snprintf(next, sizeof next, "%s/%s", target, rest)
                                 : snprintf(next, sizeof next, "%s/%s/%s", path, target, rest);
        close(parent);
        if (w >= (int)sizeof next) {
          *err = failed("mount destination %s resolves to a path too long", dst);
          return -1;
        }
        memcpy(path, next, (size_t)w + 1);
        while (w > 1 && path[w - 1] == '/') path[--w] = '\0';
        restarted = 1;
        break;
      }
      int rc = ++made > 512 ? (errno = ELOOP, -1) : create_entry(parent, slash + 1, last && is_file);
      close(parent);
      if (rc < 0) {
        *err = failed("cannot create %s in the container's root: %s", path, strerror(errno));
        return -1;
      }
      i--; /* open what was just made */
      path[i + 1] = save;
    }
    if (!restarted) break;
  }
  *err = failed("cannot resolve %s in the container's root: too many levels of symbolic links", dst);
  return -1;
}

/* 1 when the directory open on FD has no entries, 0 when it has, -1 on error. */
static int dir_is_empty(int fd) {
  int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = d >= 0 ? fdopendir(d) : NULL;
  if (!dir) return -1;
  struct dirent *de;
  int empty = 1;
  while ((de = readdir(dir)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
      empty = 0;
      break;
    }
  closedir(dir);
  return empty;
}

/* The image's content at DST into the volume directory SRC, when SRC is empty and DST a directory. */
static const char *copy_up(int rootfd, const char *src, const char *dst) {
  int vfd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (vfd < 0) return failed("cannot open the volume for %s (%s): %s", dst, src, strerror(errno));
  int empty = dir_is_empty(vfd);
  if (empty < 0) return failed("cannot read the volume for %s: %s", dst, strerror(errno));
  int ifd = empty ? open_in_root(rootfd, dst, O_RDONLY | O_DIRECTORY) : -1;
  if (ifd < 0) {
    int e = errno;
    close(vfd);
    /* not empty, or nothing (or no directory) in the image there: nothing to copy */
    if (!empty || e == ENOENT || e == ENOTDIR) return NULL;
    return failed("cannot open %s in the container's root: %s", dst, strerror(e));
  }
  /* storage.c's copy exits on failure: run it in a child and say which volume it was */
  pid_t pid = fork();
  if (pid < 0) return failed("fork: %s", strerror(errno));
  if (pid == 0) {
    copy_dir_contents(ifd, vfd, dst);
    _exit(0);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return failed("waitpid: %s", strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return failed("cannot fill the new volume for %s with the image's content (see the line above)", dst);
  struct stat st;
  if (fstat(ifd, &st) < 0 || fchown(vfd, st.st_uid, st.st_gid) < 0 || fchmod(vfd, st.st_mode & 07777) < 0)
    return failed("cannot give the volume for %s the owner and mode of the image's directory: %s", dst, strerror(errno));
  close(ifd);
  close(vfd);
  return NULL;
}

/* Owner of FD's directory entries, recursively, never following a symlink. */
static const char *chown_below(int fd, const char *path, uid_t uid, gid_t gid) {
  int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = d >= 0 ? fdopendir(d) : NULL;
  if (!dir) return failed("cannot read %s: %s", path, strerror(errno));
  struct dirent *de;
  const char *err = NULL;
  while (!err && (de = readdir(dir))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (fchownat(fd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
      err = failed("cannot chown %s/%s: %s", path, de->d_name, strerror(errno));
      break;
    }
    if (de->d_type != DT_DIR) continue;
    int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      err = failed("cannot open %s/%s: %s", path, de->d_name, strerror(errno));
      break;
    }
    char *subpath = xmalloc(strlen(path) + strlen(de->d_name) + 2);
    sprintf(subpath, "%s/%s", path, de->d_name);
    err = chown_below(sub, subpath, uid, gid);
    free(subpath);
    close(sub);
  }
  closedir(dir);
  return err;
}

static const char *chown_tree(const char *path, uid_t uid, gid_t gid) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ELOOP) return failed("cannot chown %s: it is a symlink", path);
  if (fd < 0) return failed("cannot open %s to chown it: %s", path, strerror(errno));
  struct stat st;
  const char *err = NULL;
  if (fstat(fd, &st) < 0 || fchown(fd, uid, gid) < 0) err = failed("cannot chown %s: %s", path, strerror(errno));
  else if (S_ISDIR(st.st_mode)) err = chown_below(fd, path, uid, gid);
  close(fd);
  return err;
}

const char *volume_prepare(const struct volume_prep *v, int rootfd) {
  for (int i = 0; i < v->ncopy; i++) {
    const char *err = copy_up(rootfd, v->copy_src[i], v->copy_dst[i]);
    if (err) return err;
  }
  for (int i = 0; i < v->nchown; i++) {
    const char *err = chown_tree(v->chown_path[i], v->chown_uid[i], v->chown_gid[i]);
    if (err) return err;
  }
  return NULL;
}

const char *volume_finish(const struct volume_prep *v, int rootfd) {
  if (!v->rootfs_ro) return NULL;
  /* Only the root mount: the volumes, tmpfs and /dev mounted on it keep their own flags. */
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  if (syscall(SYS_mount_setattr, rootfd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) return NULL;
  if (errno == ENOSYS) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", rootfd);
    if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV, NULL) == 0) return NULL;
  }
  return failed("cannot make the root filesystem read-only: %s", strerror(errno));
}
