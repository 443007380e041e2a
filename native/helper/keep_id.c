/*
 * --userns=keep-id (Podman's): the container gets a user namespace of its own, nested in the
 * monitor's (rootless: the pause process's), whose maps Node computed (src/runtime/keep-id.ts).
 * The monitor clones the container's init with CLONE_NEWUSER next to its other namespaces, so
 * they all belong to the new one (proc, sysfs, mqueue can be mounted there), and writes the
 * maps itself: as root of the parent namespace it may map any of that namespace's IDs, no
 * setuid helper needed. The init waits on a pipe until the maps are in place.
 */
#include "helper.h"
#include "keep_id.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int nested_userns_parse_key(struct nested_userns *n, const char *key, int nf, char **f) {
  if (strcmp(key, "userns-map")) return 0;
  if (nf != 2) die("monitor: spec key userns-map wants UIDMAP GIDMAP");
  n->uid_map = f[0];
  n->gid_map = f[1];
  return 1;
}

int nested_userns_clone_flag(const struct nested_userns *n) { return n->uid_map ? CLONE_NEWUSER : 0; }

/* "C:H:N,C:H:N" -> "C H N\nC H N\n" and write it to /proc/PID/FILE in one write, as the kernel wants. */
static int write_map(pid_t pid, const char *file, const char *spec, char *msg, size_t len) {
  char text[4096], path[64];
  size_t off = 0;
  for (const char *p = spec; *p && off < sizeof text - 2; p++) text[off++] = *p == ':' ? ' ' : *p == ',' ? '\n' : *p;
  text[off++] = '\n';
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, off) != (ssize_t)off) {
    snprintf(msg, len, "--userns=keep-id: cannot write the container's %s (%s): %s", file, spec, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

int nested_userns_map(const struct nested_userns *n, pid_t child, int sync_fd, char *msg, size_t len) {
  if (!n->uid_map) return 0;
  if (write_map(child, "uid_map", n->uid_map, msg, len) < 0 || write_map(child, "gid_map", n->gid_map, msg, len) < 0)
    return -1;
  if (write(sync_fd, "m", 1) != 1) {
    snprintf(msg, len, "--userns=keep-id: cannot release the container: %s", strerror(errno));
    return -1;
  }
  close(sync_fd);
  return 0;
}

int nested_userns_enter(const struct nested_userns *n, int sync_fd, const char *rootfs, char *msg, size_t len) {
  if (!n->uid_map) return 0;
  char c;
  ssize_t r;
  while ((r = read(sync_fd, &c, 1)) < 0 && errno == EINTR) {
  }
  close(sync_fd);
  if (r != 1) {
    snprintf(msg, len, "--userns=keep-id: the monitor did not map the container's user namespace");
    return -1;
  }
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || setgroups(0, NULL) < 0) {
    snprintf(msg, len, "--userns=keep-id: cannot become root in the container's user namespace: %s", strerror(errno));
    return -1;
  }
  /* The mounts came from the outer namespace and are locked to their parents here, and
   * pivot_root refuses a locked new root: bind the root onto itself, a mount of our own. */
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
    snprintf(msg, len, "--userns=keep-id: cannot bind the container's root in its user namespace: %s", strerror(errno));
    return -1;
  }
  return 0;
}
