/*
 * Run flags that act on the container's process rather than its filesystem (process_opts.h).
 * Node validated the values (Docker's syntax and messages); this file only applies them.
 */
#include "process_opts.h"
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct { const char *name; int resource; } RLIMIT_NAMES[] = {
    {"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},           {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},       {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
};

static rlim_t parse_limit(const char *s) {
  if (!strcmp(s, "-1") || !strcmp(s, "unlimited")) return RLIM_INFINITY;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || end == s || errno) die("monitor: bad rlimit value %s", s);
  return (rlim_t)v;
}

int process_opts_parse_key(struct process_opts *o, const char *key, int nf, char **f) {
  if (!strcmp(key, "rlimit")) {
    if (nf != 3) die("monitor: spec key rlimit wants 3 fields, got %d", nf);
    if (o->nrlimits >= MAX_RLIMITS) die("monitor: too many rlimits");
    int resource = -1;
    for (size_t i = 0; i < sizeof RLIMIT_NAMES / sizeof RLIMIT_NAMES[0]; i++)
      if (!strcmp(RLIMIT_NAMES[i].name, f[0])) resource = RLIMIT_NAMES[i].resource;
    if (resource < 0) die("monitor: unknown rlimit %s", f[0]);
    o->rlimits[o->nrlimits].resource = resource;
    o->rlimits[o->nrlimits].name = f[0];
    o->rlimits[o->nrlimits].soft = parse_limit(f[1]);
    o->rlimits[o->nrlimits++].hard = parse_limit(f[2]);
    return 1;
  }
  if (!strcmp(key, "oom-score-adj")) {
    if (nf != 1) die("monitor: spec key oom-score-adj wants 1 field, got %d", nf);
    o->oom_score_adj = f[0];
    return 1;
  }
  if (!strcmp(key, "join-ns")) {
    if (nf != 2) die("monitor: spec key join-ns wants 2 fields, got %d", nf);
    if (!strcmp(f[0], "ipc")) o->join_ipc = f[1];
    else if (!strcmp(f[0], "pid")) o->join_pid = f[1];
    else if (!strcmp(f[0], "net")) o->join_net = f[1];
    else die("monitor: cannot join a %s namespace", f[0]);
    return 1;
  }
  return 0;
}

static int join(const char *path, int type) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = setns(fd, type);
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}

void process_opts_join_pid(const struct process_opts *o) {
  if (o->join_pid && join(o->join_pid, CLONE_NEWPID) < 0)
    die("monitor: cannot join the PID namespace %s: %s (is that container still running?)", o->join_pid, strerror(errno));
}

int process_opts_join_ipc(const struct process_opts *o, char *msg, size_t len) {
  if (!o->join_ipc || join(o->join_ipc, CLONE_NEWIPC) == 0) return 0;
  snprintf(msg, len, "cannot join the IPC namespace %s: %s (is that container still running?)", o->join_ipc, strerror(errno));
  return -1;
}

int process_opts_join_net(const struct process_opts *o, char *msg, size_t len) {
  if (!o->join_net || join(o->join_net, CLONE_NEWNET) == 0) return 0;
  snprintf(msg, len, "cannot join the network namespace %s: %s (is that container still running?)", o->join_net, strerror(errno));
  return -1;
}

int process_opts_apply(const struct process_opts *o, char *msg, size_t len) {
  for (int i = 0; i < o->nrlimits; i++) {
    struct rlimit rl = {o->rlimits[i].soft, o->rlimits[i].hard};
    if (setrlimit(o->rlimits[i].resource, &rl) == 0) continue;
    int e = errno;
    struct rlimit now;
    getrlimit(o->rlimits[i].resource, &now);
    if (e == EPERM && rl.rlim_max > now.rlim_max)
      snprintf(msg, len, "cannot set ulimit %s: %s: its hard limit cannot be raised above %llu without CAP_SYS_RESOURCE on the host (rootless); ask for at most that much",
               o->rlimits[i].name, strerror(e), (unsigned long long)now.rlim_max);
    else
      snprintf(msg, len, "cannot set ulimit %s: %s", o->rlimits[i].name, strerror(e));
    return -1;
  }
  if (o->oom_score_adj) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : write(fd, o->oom_score_adj, strlen(o->oom_score_adj));
    int e = errno;
    if (fd >= 0) close(fd);
    if (n < 0) {
      snprintf(msg, len, "cannot set oom-score-adj %s: %s%s", o->oom_score_adj, strerror(e),
               e == EACCES ? " (lowering it needs CAP_SYS_RESOURCE on the host; rootless can only raise it)" : "");
      return -1;
    }
  }
  return 0;
}
