/*
 * A process of the container's own, from its spec records to its execve (container_process.h).
 * Node computed every value (user, groups, capabilities, the compiled seccomp program, env);
 * this file applies them in the forked child, for the container's init and for exec alike.
 */
#include "container_process.h"
#include "helper.h"
#include "port_handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------- the spec ---------- */

void spec_read_file(struct spec_reader *r, const char *path, const char *who) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("%s: cannot open spec %s: %s", who, path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0) die("%s: stat spec: %s", who, strerror(errno));
  char *buf = xmalloc(st.st_size + 1);
  size_t off = 0;
  while (off < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + off, st.st_size - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("%s: read spec: %s", who, n < 0 ? strerror(errno) : "short read");
    off += n;
  }
  buf[off] = 0;
  close(fd);
  *r = (struct spec_reader){buf, buf + off, who};
}

int spec_next_record(struct spec_reader *r, const char **key, char **f, int *nf) {
  if (r->p >= r->end) return 0;
  *key = r->p;
  r->p += strlen(r->p) + 1;
  if (r->p >= r->end) die("%s: spec truncated after %s", r->who, *key);
  *nf = atoi(r->p);
  r->p += strlen(r->p) + 1;
  if (*nf < 0 || *nf > SPEC_MAX_FIELDS) die("%s: bad field count for %s", r->who, *key);
  for (int i = 0; i < *nf; i++) {
    if (r->p >= r->end) die("%s: spec truncated in %s", r->who, *key);
    f[i] = r->p;
    r->p += strlen(r->p) + 1;
  }
  return 1;
}

void container_process_init(struct container_process *p) {
  p->cwd = "/";
  p->bind_notify_sock = -1;
}

static void add_item(char **arr, int *count, char *val, const char *who, const char *key) {
  if (*count >= CONTAINER_PROCESS_MAX_LIST - 1) die("%s: too many %s", who, key);
  arr[(*count)++] = val;
}

int container_process_parse_key(struct container_process *p, const char *who, const char *key, int nf, char **f) {
#define WANT(n) \
  if (nf != (n)) die("%s: spec key %s wants %d fields, got %d", who, key, (n), nf)
  if (!strcmp(key, "cwd")) {
    WANT(1);
    p->cwd = f[0];
  } else if (!strcmp(key, "user")) {
    WANT(2);
    p->uid = strtoul(f[0], NULL, 10);
    p->gid = strtoul(f[1], NULL, 10);
  } else if (!strcmp(key, "groups")) {
    if (p->ngroups + nf > (int)(sizeof p->groups / sizeof p->groups[0])) die("%s: too many groups", who);
    for (int i = 0; i < nf; i++) p->groups[p->ngroups++] = strtoul(f[i], NULL, 10);
  } else if (!strcmp(key, "env")) {
    WANT(1);
    add_item(p->env, &p->nenv, f[0], who, key);
  } else if (!strcmp(key, "arg")) {
    WANT(1);
    add_item(p->args, &p->nargs, f[0], who, key);
  } else if (!strcmp(key, "caps")) {
    for (int i = 0; i < nf; i++) {
      char *e;
      unsigned long cap = strtoul(f[i], &e, 10);
      /* The sets are 64 bits wide: a larger number would shift out of range (undefined). */
      if (*e || e == f[i] || cap > 63) die("%s: capability number \"%s\" is out of range 0-63", who, f[i]);
      p->caps |= 1ULL << cap;
    }
  } else if (!strcmp(key, "seccomp")) {
    WANT(1);
    p->seccomp = f[0];
  } else if (!strcmp(key, "no-new-privs")) {
    WANT(1);
    p->no_new_privs = atoi(f[0]);
  } else {
    return 0;
  }
#undef WANT
  return 1;
}

void container_process_finish(struct container_process *p) {
  p->env[p->nenv] = NULL;
  p->args[p->nargs] = NULL;
}

/* ---------- in the forked child ---------- */

int child_err_fd = -1;

void child_fail(int code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(msg, sizeof msg, "%d ", code);
  vsnprintf(msg + n, sizeof msg - n, fmt, ap);
  va_end(ap);
  if (write(child_err_fd, msg, strlen(msg)) < 0) {
  }
  _exit(code);
}

int child_wait_exec(int err_read, pid_t child, int report_fd) {
  char err[1100];
  ssize_t n;
  while ((n = read(err_read, err, sizeof err - 1)) < 0 && errno == EINTR) {
  }
  close(err_read);
  if (n <= 0) return 0;
  err[n] = 0;
  int code = atoi(err);
  const char *msg = strchr(err, ' ');
  msg = msg ? msg + 1 : err;
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
  }
  char line[1200];
  if (report_fd >= 0) {
    int len = snprintf(line, sizeof line, "err %d %s\n", code, msg);
    if (write(report_fd, line, (size_t)len) < 0) {
    }
  } else {
    fprintf(stderr, "skiff: %s\n", msg);
  }
  return code ? code : 125; /* never 0: that would read as started */
}

static void load_seccomp(const struct container_process *p) {
  /* The handoff's filter first (the profile may not allow seccomp(2) itself). Without it (a
   * kernel before 5.0) the forwarder relays every published port, as it would anyway: the
   * forwarder reads EOF instead of a listener. */
  if (p->bind_notify_sock >= 0) {
    port_handoff_install(p->bind_notify_sock);
    close(p->bind_notify_sock);
  }
  if (p->seccomp && install_seccomp(p->seccomp) < 0) child_fail(125, "seccomp: %s", strerror(errno));
}

static void set_credentials(const struct container_process *p) {
  /* The bounding set limits what any later exec can gain; drop all but the kept caps. */
  for (int cap = 0; cap <= 63; cap++) {
    if (p->caps & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      child_fail(125, "drop capability %d: %s", cap, strerror(errno));
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  /* EPERM: a user namespace with setgroups denied (no subordinate IDs) has only one group. */
  if (setgroups(p->ngroups, p->groups) < 0 && errno != EPERM) child_fail(125, "setgroups: %s", strerror(errno));
  if (setresgid(p->gid, p->gid, p->gid) < 0) child_fail(125, "cannot switch to group %u: %s", p->gid, strerror(errno));
  if (setresuid(p->uid, p->uid, p->uid) < 0) child_fail(125, "cannot switch to user %u: %s", p->uid, strerror(errno));
  /* Root keeps exactly the kept set. A non-root user lost its permitted and effective
   * capabilities in setresuid, as in Docker, but setresuid leaves the inheritable set alone:
   * whatever skiff's caller had there would reach file capabilities in the image. So the
   * inheritable set is emptied for every user (as Docker since CVE-2022-24769), and the
   * ambient set with it, after the switch (capset can drop but not raise it). */
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {{0}};
  if (p->uid == 0) {
    d[0].effective = d[0].permitted = (uint32_t)p->caps;
    d[1].effective = d[1].permitted = (uint32_t)(p->caps >> 32);
  }
  if (syscall(SYS_capset, &h, d) < 0) child_fail(125, "capset: %s", strerror(errno));
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

void container_process_set_identity(const struct container_process *p) {
  /* Without no_new_privs the filter needs CAP_SYS_ADMIN (in the namespace), so it goes in
   * before the capabilities are dropped; with it, as late as possible (as runc). */
  if (!p->no_new_privs) load_seccomp(p);
  set_credentials(p);
  if (p->no_new_privs) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) child_fail(125, "no_new_privs: %s", strerror(errno));
    load_seccomp(p);
  }
}

/* Every signal back to SIG_DFL for the container, as Docker's containers start. glibc's
 * posix_spawn (how Node starts this helper) leaves its two internal real-time signals (32, 33)
 * ignored across exec, and glibc's signal()/sigaction() refuse to touch them, so this uses the
 * raw system call with the kernel's struct sigaction. */
static void reset_signal_dispositions(void) {
  struct {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
  } dfl = {SIG_DFL, 0, NULL, 0};
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  }
}

static const char *env_path(const struct container_process *p) {
  for (int i = 0; i < p->nenv; i++)
    if (!strncmp(p->env[i], "PATH=", 5)) return p->env[i] + 5;
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

void container_process_exec(const struct container_process *p, const sigset_t *oldmask) {
  reset_signal_dispositions(); /* before the mask opens: a signal must not find an old handler */
  sigprocmask(SIG_SETMASK, oldmask, NULL);
  const char *cmd = p->args[0];
  if (strchr(cmd, '/')) {
    execve(cmd, p->args, p->env);
    int e = errno;
    child_fail(e == ENOENT ? 127 : 126, "exec %s: %s", cmd, strerror(e));
  }
  char path[4096];
  int saw_eacces = 0;
  const char *dirs = env_path(p);
  while (*dirs) {
    const char *colon = strchr(dirs, ':');
    size_t n = colon ? (size_t)(colon - dirs) : strlen(dirs);
    snprintf(path, sizeof path, "%.*s/%s", (int)n, n ? dirs : ".", cmd);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      execve(path, p->args, p->env);
      if (errno == EACCES) saw_eacces = 1;
      else if (errno != ENOENT) child_fail(126, "exec %s: %s", cmd, strerror(errno));
    }
    dirs += n + (colon ? 1 : 0);
    if (!colon) break;
  }
  if (saw_eacces) child_fail(126, "exec %s: permission denied", cmd);
  child_fail(127, "exec: \"%s\": executable file not found in $PATH", cmd);
}
