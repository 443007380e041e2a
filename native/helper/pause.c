/*
 * The pause process: a tiny process that holds the user's namespace open, as Podman's does.
 * Mapping sub-IDs needs two setuid helpers (newuidmap, newgidmap), which cost tens of
 * milliseconds; with the pause process only the first skiff command pays that, and every later
 * one joins the namespace with setns(2). The pause process is a fork of this C program (never
 * of Node), closes every inherited fd at once, and sleeps until killed.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#define PAUSE_NAME "skiff-pause"

/* Read a small file whole (a /proc file may come in several reads). Never follows a symlink
 * in the last component: the pid file lives in a directory Node checked is ours, and nothing
 * else should be able to point us elsewhere. */
static int read_text(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t off = 0;
  for (;;) {
    ssize_t n = read(fd, buf + off, len - 1 - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return -1;
    }
    if (n == 0 || (off += (size_t)n) == len - 1) break;
  }
  close(fd);
  buf[off] = 0;
  return 0;
}

/* Does /proc/PID/{uid,gid}_map hold exactly the map "C:H:N,C:H:N"? */
static int map_matches(pid_t pid, const char *which, const char *spec) {
  /* Up to 340 lines of "%10u %10u %10u\n" (about 11.6 KB) and their "C:H:N," form. */
  static char text[16384], expect[16384];
  char path[64];
  expect[0] = 0;
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, which);
  if (read_text(path, text, sizeof text) < 0) return 0;
  /* Normalise the kernel's "%10u %10u %10u\n" lines into our "C:H:N,..." form. */
  size_t used = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    unsigned c, h, n;
    if (sscanf(line, "%u %u %u", &c, &h, &n) != 3) return 0;
    int w = snprintf(expect + used, sizeof expect - used, "%s%u:%u:%u", used ? "," : "", c, h, n);
    if (w < 0 || (size_t)w >= sizeof expect - used) return 0;
    used += (size_t)w;
  }
  return strcmp(expect, spec) == 0;
}

/* Join the namespace of the recorded pause process if it is really ours and current. */
static int try_join(const char *pidfile, struct id_map *uid, struct id_map *gid) {
  char buf[64], path[64];
  if (read_text(pidfile, buf, sizeof buf) < 0) return -1;
  pid_t pid = (pid_t)atoi(buf);
  if (pid <= 1) return -1;
  snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
  if (read_text(path, buf, sizeof buf) < 0 || strncmp(buf, PAUSE_NAME, strlen(PAUSE_NAME)) != 0) return -1;
  if (!map_matches(pid, "uid_map", uid->spec) || !map_matches(pid, "gid_map", gid->spec)) return -1;
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = setns(fd, CLONE_NEWUSER);
  close(fd);
  return rc;
}

/* The pause process itself: nothing inherited, no controlling terminal, sleep forever. */
static void pause_forever(int keep1, int keep2) __attribute__((noreturn));
static void pause_forever(int keep1, int keep2) {
  int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; fd++) dup2(null, fd);
  for (int fd = 3; fd < 4096; fd++)
    if (fd != keep1 && fd != keep2) close(fd);
  (void)keep1;
  (void)keep2;
  prctl(PR_SET_NAME, PAUSE_NAME, 0, 0, 0);
  if (chdir("/") < 0) {
  }
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGTERM);
  sigprocmask(SIG_SETMASK, &all, NULL);
  for (;;) pause();
}

static pid_t spawn_pause(struct id_map *uid, struct id_map *gid) {
  int unshared[2], mapped[2];
  if (pipe2(unshared, O_CLOEXEC) < 0 || pipe2(mapped, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    char c;
    close(unshared[0]);
    close(mapped[1]);
    setsid();
    if (unshare(CLONE_NEWUSER) < 0) _exit(1);
    if (write(unshared[1], "u", 1) != 1) _exit(1);
    if (read(mapped[0], &c, 1) != 1) _exit(1);
    close(unshared[1]);
    close(mapped[0]);
    pause_forever(-1, -1);
  }
  close(unshared[1]);
  close(mapped[0]);
  char c;
  if (read(unshared[0], &c, 1) != 1)
    die("cannot create a user namespace for the pause process (are unprivileged user namespaces enabled?)");
  if (run_map_tool(uid->tool, pid, uid->spec) != 0 || run_map_tool(gid->tool, pid, gid->spec) != 0) {
    kill(pid, SIGKILL);
    die("newuidmap/newgidmap failed: cannot map the subordinate IDs (check /etc/subuid and /etc/subgid)");
  }
  if (write(mapped[1], "g", 1) != 1) die("pause process: %s", strerror(errno));
  close(unshared[0]);
  close(mapped[1]);
  return pid;
}

/* Replace PIDFILE with PID: a fresh temporary file (never through a symlink or a file someone
 * left there), then rename. The caller holds the lock, so the temporary name is ours. */
static void write_pidfile(const char *pidfile, pid_t pid) {
  char tmp[4096], line[32];
  snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
  if (unlink(tmp) < 0 && errno != ENOENT) return;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return;
  int len = snprintf(line, sizeof line, "%d\n", (int)pid);
  int ok = write(fd, line, (size_t)len) == len;
  close(fd);
  if (!ok || rename(tmp, pidfile) < 0) unlink(tmp);
}

int join_pause(const char *pidfile, struct id_map *uid, struct id_map *gid) {
  char lockpath[4096];
  snprintf(lockpath, sizeof lockpath, "%s.lock", pidfile);
  int lock = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0 && errno == ELOOP) die("refusing to follow the symlink %s; remove it", lockpath);
  if (lock < 0) return -1;
  flock(lock, LOCK_EX);
  int rc = try_join(pidfile, uid, gid);
  if (rc < 0) {
    write_pidfile(pidfile, spawn_pause(uid, gid));
    rc = try_join(pidfile, uid, gid);
  }
  close(lock);
  return rc;
}
