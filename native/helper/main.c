/*
 * skiff-helper: entry point. Parses the namespace options shared by every mode, enters the
 * user namespace (rootless) and, for modes that mount, a private mount namespace, then runs
 * the mode. This program is exec'd by Node, never forked from it, so it may use libc freely.
 * See native/PROTOCOL.md.
 */
#include "helper.h"
#include "dns.h"
#include "net_holder.h"
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* One line on stderr, prefixed so that Node can tell the helper's words from a container's. */
static void vsay(const char *fmt, va_list ap) {
  fputs("skiff-helper: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(fmt, ap);
  va_end(ap);
  exit(1);
}

void warnx_(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(fmt, ap);
  va_end(ap);
}

/* True when the map is exactly "0:<own id>:1": then no setuid helper is needed. */
static int is_self_map(const char *spec, unsigned own) {
  char buf[64];
  snprintf(buf, sizeof buf, "0:%u:1", own);
  return strcmp(spec, buf) == 0;
}

static void write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) die("open %s: %s", path, strerror(errno));
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len) die("write %s: %s", path, strerror(errno));
  close(fd);
}

/*
 * Ranges in a map spec "C:H:N,C:H:N...", or -1 when it is not one. The kernel takes up to 340
 * ranges per map (Linux 4.15; 5 before); refusing more here beats newuidmap's vaguer error.
 */
#define MAX_MAP_RANGES 340
static int map_ranges(const char *spec) {
  int ranges = 0;
  const char *p = spec;
  for (;;) {
    for (int field = 0; field < 3; field++) {
      if (*p < '0' || *p > '9') return -1;
      while (*p >= '0' && *p <= '9') p++;
      if (field < 2 && *p++ != ':') return -1;
    }
    ranges++;
    if (*p == '\0') return ranges;
    if (*p++ != ',') return -1;
  }
}

static void check_map(const char *option, const char *spec) {
  int ranges = map_ranges(spec);
  if (ranges < 0) die("%s %s: not a map of the form C:H:N[,C:H:N...]", option, spec);
  if (ranges > MAX_MAP_RANGES)
    die("%s has %d ranges; the kernel takes at most %d: merge adjacent ranges in /etc/subuid and /etc/subgid",
        option, ranges, MAX_MAP_RANGES);
}

/* Run newuidmap/newgidmap PID C H N ... for the map spec (checked by main); returns the exit status. */
int run_map_tool(const char *tool, pid_t pid, const char *spec) {
  char **argv = xmalloc((3 + 3 * (size_t)map_ranges(spec)) * sizeof *argv);
  char pidbuf[16];
  char *copy = strdup(spec);
  if (!copy) die("out of memory");
  int n = 0;
  snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
  argv[n++] = (char *)tool;
  argv[n++] = pidbuf;
  for (char *save = NULL, *tok = strtok_r(copy, ",:", &save); tok; tok = strtok_r(NULL, ",:", &save))
    argv[n++] = tok;
  argv[n] = NULL;
  pid_t child = fork();
  if (child < 0) die("fork: %s", strerror(errno));
  if (child == 0) {
    execv(tool, argv);
    fprintf(stderr, "skiff-helper: cannot run %s: %s\n", tool, strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  free(copy);
  free(argv);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * Enter a new user namespace with the given maps. newuidmap must run from the parent
 * namespace (a setuid binary exec'd inside the new namespace would not be privileged), so a
 * mapper child is forked first and told to act once we have unshared.
 */
static void enter_userns(struct id_map *uid, struct id_map *gid) {
  unsigned own_uid = getuid(), own_gid = getgid();
  int self_uid = is_self_map(uid->spec, own_uid), self_gid = is_self_map(gid->spec, own_gid);
  int go[2], done[2];
  pid_t mapper = -1;
  pid_t me = getpid();

  if (!(self_uid && self_gid)) {
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
    mapper = fork();
    if (mapper < 0) die("fork: %s", strerror(errno));
    if (mapper == 0) {
      char c;
      close(go[1]);
      close(done[0]);
      if (read(go[0], &c, 1) != 1) _exit(1);
      int rc = 0;
      if (!self_uid && run_map_tool(uid->tool, me, uid->spec) != 0) rc = 2;
      if (!rc && !self_gid && run_map_tool(gid->tool, me, gid->spec) != 0) rc = 3;
      _exit(rc);
    }
    close(go[0]);
    close(done[1]);
  }

  if (unshare(CLONE_NEWUSER) < 0)
    die("cannot create a user namespace: %s (are unprivileged user namespaces enabled?)",
        strerror(errno));

  if (mapper > 0) {
    if (write(go[1], "g", 1) != 1) die("mapper pipe: %s", strerror(errno));
    int status = 0;
    while (waitpid(mapper, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      die("%s failed: cannot map the subordinate IDs (check /etc/subuid and /etc/subgid)",
          WIFEXITED(status) && WEXITSTATUS(status) == 3 ? gid->tool : uid->tool);
    close(go[1]);
    close(done[0]);
  }
  if (self_gid) {
    char buf[64];
    write_file("/proc/self/setgroups", "deny");
    snprintf(buf, sizeof buf, "0 %u 1\n", own_gid);
    write_file("/proc/self/gid_map", buf);
  }
  if (self_uid) {
    char buf[64];
    snprintf(buf, sizeof buf, "0 %u 1\n", own_uid);
    write_file("/proc/self/uid_map", buf);
  }
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
    die("cannot become root in the user namespace: %s", strerror(errno));
}

/* A private mount namespace, so that nothing we mount is seen by (or leaks to) the host. */
static void enter_mountns(void) {
  if (unshare(CLONE_NEWNS) < 0) die("cannot create a mount namespace: %s", strerror(errno));
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    die("cannot make / private: %s", strerror(errno));
}

/* probe-overlay DIR [userxattr]: exit 0 when kernel overlayfs mounts in this namespace. */
int mode_probe_overlay(int argc, char **argv) {
  if (argc < 2) die("usage: probe-overlay DIR [userxattr]");
  const char *dir = argv[1];
  const char *extra = argc > 2 ? ",userxattr" : "";
  char l[4096], u[4096], w[4096], m[4096], opts[16384];
  snprintf(l, sizeof l, "%s/l", dir);
  snprintf(u, sizeof u, "%s/u", dir);
  snprintf(w, sizeof w, "%s/w", dir);
  snprintf(m, sizeof m, "%s/m", dir);
  mkdir(dir, 0700);
  mkdir(l, 0755);
  mkdir(u, 0755);
  mkdir(w, 0755);
  mkdir(m, 0755);
  snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s%s", l, u, w, extra);
  int rc = mount("overlay", m, "overlay", 0, opts) == 0 ? 0 : 1;
  if (rc) fprintf(stderr, "skiff-helper: overlay: %s\n", strerror(errno));
  else umount2(m, MNT_DETACH);
  return rc;
}

struct mode {
  const char *name;
  int (*fn)(int, char **);
  int needs_mountns;
  /* Runs a container, so it must run from a sealed copy of this program (sealed_exe.c). Any
   * future mode that puts a process into a container (exec) needs this too. */
  int runs_container;
};

/* Two executables are built from these sources (build/build.mjs): skiff-monitor, with the modes
 * that run a container's processes and live as long as they do, and skiff-helper, with the rest
 * (storage, networks). The monitor's is small, because each running container keeps a sealed
 * copy of it (sealed_exe.c) resident: none of the pull/unpack code or its libraries is in it. */
static const struct mode modes[] = {
#ifdef SKIFF_MONITOR_BUILD
    {"monitor", mode_monitor, 1, 1},
    /* joins the container's own user and mount namespaces itself (exec.c): no namespace here */
    {"exec", mode_exec, 0, 1},
#else
    {"apply-tar", mode_apply_tar, 0, 0},
    {"rm", mode_rm, 0, 0},
    {"copy", mode_copy, 0, 0},
    {"probe-overlay", mode_probe_overlay, 1, 0},
    /* cp, export, diff, commit (copy_in_out.c); --overlay makes its own mount namespace */
    {"tar-out", mode_tar_out, 0, 0},
    {"tar-in", mode_tar_in, 0, 0},
    {"stat-path", mode_stat_path, 0, 0},
    {"changes", mode_changes, 0, 0},
    /* user-defined networks (net_holder.c): the namespace holder, attaching running containers */
    {"net-holder", mode_net_holder, 0, 0},
    {"net-connect", mode_net_connect, 0, 0},
    {"net-disconnect", mode_net_disconnect, 0, 0},
    /* the embedded DNS server's answer to one query (dns_server.c), for the tests */
    {"dns-answer", mode_dns_answer, 0, 0},
    /* `network connect`: the embedded DNS server's sockets for a running monitor (dns_connect.c) */
    {"dns-connect", mode_dns_connect, 0, 0},
#endif
};

int main(int argc, char **argv) {
  /* --init rewrites it as the container's process title (init.c). */
  helper_argv = argv;
  helper_argc = argc;
  struct id_map uid = {NULL, "newuidmap"}, gid = {NULL, "newgidmap"};
  const char *pause_pidfile = NULL;
  int i = 1;
  for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    if (!strcmp(argv[i], "--uidmap")) uid.spec = argv[i + 1];
    else if (!strcmp(argv[i], "--gidmap")) gid.spec = argv[i + 1];
    else if (!strcmp(argv[i], "--newuidmap")) uid.tool = argv[i + 1];
    else if (!strcmp(argv[i], "--newgidmap")) gid.tool = argv[i + 1];
    else if (!strcmp(argv[i], "--pause")) pause_pidfile = argv[i + 1];
    else die("unknown option %s", argv[i]);
  }
  if (i >= argc) die("usage: skiff-helper [--uidmap M --gidmap M] MODE ARGS...");
  for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
    if (strcmp(argv[i], modes[m].name) != 0) continue;
    /* First, before any namespace: the re-executed copy starts over from here. */
    if (modes[m].runs_container) run_from_sealed_copy(argv);
    if (uid.spec != NULL || gid.spec != NULL) { /* even "": refused below, not ignored */
      if (!uid.spec || !gid.spec) die("--uidmap and --gidmap go together");
      check_map("--uidmap", uid.spec);
      check_map("--gidmap", gid.spec);
      if (pause_pidfile && join_pause(pause_pidfile, &uid, &gid) == 0) {
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
          die("cannot become root in the user namespace: %s", strerror(errno));
      } else {
        enter_userns(&uid, &gid);
      }
    }
    if (modes[m].needs_mountns) enter_mountns();
    return modes[m].fn(argc - i, argv + i);
  }
  die("unknown mode %s", argv[i]);
}
