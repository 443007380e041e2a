/*
 * exec mode: run one more process in a running container (`skiff exec`), and, for the monitor's
 * healthchecks to come, any process that must look like the container's own.
 *
 * The helper is started by Node outside every namespace (no --uidmap: the container's user
 * namespace is joined here, not created). It opens a pidfd of the container's init, checks
 * that the PID still names the process Node recorded (start time), and joins all of its
 * namespaces at once with setns(pidfd, ...): user first (the kernel orders it), so the other
 * namespaces are entered with the capabilities the user namespace gives. Joining a PID
 * namespace only applies to children, so the command is forked; the helper stays outside the
 * container's PID namespace (the container cannot see or signal it) and supervises: it proxies
 * the pty (-t), relays terminals it must not hand over (as the monitor does), forwards signals
 * and exits with the command's code. With `detach 1` it returns once the command has exec'd;
 * the command is then reparented to the container's init.
 *
 * The process settings (user, groups, caps, seccomp program, no_new_privs, env, cwd) come from
 * Node in the spec file (native/PROTOCOL.md, "exec spec"); they are applied in the same order
 * as for the container's init.
 */
#include "helper.h"
#include "container_process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct exec_spec {
  pid_t target;
  const char *target_start;
  struct container_process process; /* user, caps, seccomp, env, args, cwd (container_process.c) */
  int tty, keep_stdin, ready_fd, detach;
};

/* ---------- spec ---------- */

/* The monitor spec's record format, exec's keys only. */
/* S is zero (static storage, parsed once): see parse_spec in monitor.c. */
static void parse_exec_spec(const char *path, struct exec_spec *s, char **target) {
  struct spec_reader r;
  spec_read_file(&r, path, "exec");
  container_process_init(&s->process);
  s->ready_fd = -1;
  const char *key;
  char *f[SPEC_MAX_FIELDS];
  int nf;
  while (spec_next_record(&r, &key, f, &nf)) {
#define WANT(n) \
  if (nf != (n)) die("exec: spec key %s wants %d fields, got %d", key, (n), nf)
    if (container_process_parse_key(&s->process, "exec", key, nf, f)) {
    } else if (!strcmp(key, "target")) {
      WANT(2);
      s->target = (pid_t)strtol(f[0], NULL, 10);
      s->target_start = f[1];
    } else if (!strcmp(key, "tty")) {
      WANT(1);
      s->tty = atoi(f[0]);
    } else if (!strcmp(key, "stdin")) {
      WANT(1);
      s->keep_stdin = atoi(f[0]);
    } else if (!strcmp(key, "ready-fd")) {
      WANT(1);
      s->ready_fd = atoi(f[0]);
    } else if (!strcmp(key, "detach")) {
      WANT(1);
      s->detach = atoi(f[0]);
    } else {
      die("exec: unknown spec key %s", key);
    }
#undef WANT
  }
  if (target) {
    s->target = (pid_t)strtol(target[0], NULL, 10);
    s->target_start = target[1];
  }
  if (s->target <= 0 || !s->target_start || s->process.nargs == 0) die("exec: spec lacks target or args");
  container_process_finish(&s->process);
}

/* ---------- joining the container ---------- */

/* Field 22 of /proc/PID/stat (the start time), as Node records it next to each PID. */
ssize_t read_small_file(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  return n;
}

int die_with_monitor_child(pid_t monitor) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) return -1;
  /* getppid() is 0 while the monitor lives when the child was forked into another container's
   * PID namespace (--pid container:NAME), where the monitor is not visible; once reparented, the
   * child has a parent inside that namespace. */
  pid_t parent = getppid();
  return parent == monitor || parent == 0 ? 0 : -1;
}

int process_start_time(pid_t pid, char *out, size_t outlen) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
  if (!p || !p[1] || !p[2]) return -1;
  p += 2;
  if (*p == 'Z' || *p == 'X') return -1; /* dead, only not reaped yet: runs no more */
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return -1;
    p++;
  }
  size_t len = strcspn(p, " ");
  if (len + 1 > outlen) return -1;
  memcpy(out, p, len);
  out[len] = 0;
  return 0;
}

/*
 * The namespaces of the target that differ from ours: setns(2) refuses to "join" the user
 * namespace we are already in (rootful, or --network host's net namespace is simply shared).
 */
static int namespaces_to_join(pid_t pid) {
  static const struct { const char *name; int flag; } all[] = {
      {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"uts", CLONE_NEWUTS},
      {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
  };
  int flags = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    char theirs[64], ours[64];
    struct stat a, b;
    snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)pid, all[i].name);
    snprintf(ours, sizeof ours, "/proc/self/ns/%s", all[i].name);
    if (stat(theirs, &a) < 0) die("exec: cannot read the container's %s namespace: %s", all[i].name, strerror(errno));
    if (stat(ours, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) flags |= all[i].flag;
  }
  return flags;
}

/* Exit 3 tells Node the container is not running (any more): it ended before we got in. */
#define EXIT_NOT_RUNNING 3

static int join_container(const struct exec_spec *s) {
  int pidfd = (int)syscall(SYS_pidfd_open, s->target, 0);
  if (pidfd < 0) {
    if (errno == ESRCH) exit(EXIT_NOT_RUNNING);
    die("exec: pidfd_open %d: %s", (int)s->target, strerror(errno));
  }
  /* With the pidfd open, a PID reused after this check would leave the pidfd naming the exited
   * process (setns then fails with ESRCH), never the newcomer. */
  char start[32];
  if (process_start_time(s->target, start, sizeof start) < 0 || strcmp(start, s->target_start) != 0)
    exit(EXIT_NOT_RUNNING);
  int flags = namespaces_to_join(s->target);
  if (flags && setns(pidfd, flags) < 0) {
    if (errno == ESRCH) exit(EXIT_NOT_RUNNING);
    die("exec: cannot join the container's namespaces: %s", strerror(errno));
  }
  close(pidfd);
  /* Rootless: we entered the user namespace as its owner's ID, which the map makes root. */
  if ((flags & CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
    die("exec: cannot become root in the container's user namespace: %s", strerror(errno));
  /* setns into the mount namespace put us at its root: the container's. */
  if (chdir("/") < 0) die("exec: chdir /: %s", strerror(errno));
  return flags;
}

/*
 * A pty from the container's own devpts instance (/dev/pts is the runtime's mount: the image
 * cannot put anything else there, but container root could bind something over it, so the
 * multiplexer is opened without following links and checked to be a devpts node).
 */
static int open_container_pty(int *slave_out) {
  struct open_how how = {.flags = O_RDWR | O_NOCTTY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
  int master = (int)syscall(SYS_openat2, AT_FDCWD, "/dev/pts/ptmx", &how, sizeof how);
  struct statfs sf;
  if (master < 0) die("exec: cannot open the container's /dev/pts/ptmx: %s", strerror(errno));
  if (fstatfs(master, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC)
    die("exec: the container's /dev/pts/ptmx is not on devpts; refusing to use it");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) die("exec: unlock pty: %s", strerror(errno));
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) die("exec: open pty peer: %s", strerror(errno));
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0) ioctl(slave, TIOCSWINSZ, &ws);
  *slave_out = slave;
  return master;
}

/* ---------- the command (forked child, in the container's PID namespace) ---------- */

static void run_command(const struct exec_spec *s, const int child_fd[3], const sigset_t *oldmask) {
  const struct container_process *p = &s->process;
  if (setsid() < 0) child_fail(125, "setsid: %s", strerror(errno));
  for (int i = 0; i < 3; i++)
    if (dup2(child_fd[i], i) < 0) child_fail(125, "stdio: %s", strerror(errno));
  if (s->tty && ioctl(0, TIOCSCTTY, 0) < 0) child_fail(125, "set controlling tty: %s", strerror(errno));
  container_process_set_identity(p);
  /* Docker counts a missing working directory as "not found" (127). */
  if (chdir(p->cwd) < 0) child_fail(errno == ENOENT ? 127 : 126, "chdir to cwd (\"%s\") failed: %s", p->cwd, strerror(errno));
  container_process_exec(p, oldmask);
}

/* ---------- supervising ---------- */

/* One byte stream the helper copies: FROM -> TO. `closes_to`: at EOF close TO as well (a pipe
 * that stands in for the container's stdin, so the command sees EOF too). */
struct relay {
  int from, to, closes_to;
};

static int copy_chunk(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n <= 0) return -1;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    off += w;
  }
  return 0;
}

static void close_relay(struct relay *r) {
  if (r->closes_to && r->to >= 0) close(r->to);
  if (r->from > 2) close(r->from);
  r->from = -1;
}

/* What the command got is written; drain what it left in pipes or the pty without waiting for
 * processes it started in the background (they may hold the other end for ever). */
static void drain_outputs(struct relay *r, int n) {
  for (int i = 0; i < n; i++) {
    if (r[i].from < 0 || r[i].from == 0) continue;
    fcntl(r[i].from, F_SETFL, fcntl(r[i].from, F_GETFL) | O_NONBLOCK);
    char buf[16384];
    ssize_t got;
    while ((got = read(r[i].from, buf, sizeof buf)) > 0)
      for (ssize_t off = 0; off < got;) {
        ssize_t w = write(r[i].to, buf + off, got - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) break;
        off += w;
      }
  }
}

static int supervise(pid_t child, int sigfd, int master, struct relay *r, int n) {
  for (;;) {
    struct pollfd p[8];
    p[0] = (struct pollfd){sigfd, POLLIN, 0};
    for (int i = 0; i < n; i++) p[i + 1] = (struct pollfd){r[i].from, POLLIN, 0};
    if (poll(p, n + 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("exec: poll: %s", strerror(errno));
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          int status;
          pid_t got = waitpid(child, &status, WNOHANG);
          if (got == child) {
            drain_outputs(r, n);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          }
        } else if (si.ssi_signo == SIGWINCH) {
          struct winsize ws;
          if (master >= 0 && (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0))
            ioctl(master, TIOCSWINSZ, &ws);
        } else {
          kill(child, (int)si.ssi_signo);
        }
      }
    }
    for (int i = 0; i < n; i++)
      if (r[i].from >= 0 && (p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) && copy_chunk(r[i].from, r[i].to) < 0)
        close_relay(&r[i]);
  }
}

static void report(const struct exec_spec *s, const char *text) {
  if (s->ready_fd >= 0 && write(s->ready_fd, text, strlen(text)) < 0) {
  }
}

int mode_exec(int argc, char **argv) {
  /* PID START after the spec: the target when the spec has none (the monitor's healthchecks:
   * the spec is written before the container's PID is known). */
  if (argc != 2 && argc != 4) die("usage: exec SPECFILE [PID START]");
  /* Nothing our caller leaked may reach the container (as in the monitor). */
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) die("exec: close_range: %s", strerror(errno));
  static struct exec_spec s;
  parse_exec_spec(argv[1], &s, argc == 4 ? argv + 2 : NULL);
  signal(SIGPIPE, SIG_IGN);
  /* Never let the container's processes read this process's memory through /proc (it holds
   * the user namespace's full capabilities until the fork). */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (int fd = 0; fd < 3; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  /* The host's null device, before we are in the container (whose /dev the container owns). */
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) die("exec: /dev/null: %s", strerror(errno));
  join_container(&s);

  /* What the command gets as fds 0-1-2, and the streams we copy. Without -t a terminal is never
   * handed over: the command gets a pipe and we copy (it could otherwise change the terminal's
   * modes or push input into it). Pipes and files pass through. */
  int child_fd[3], master = -1;
  struct relay relays[4];
  int nrelays = 0;
  if (s.detach) {
    for (int i = 0; i < 3; i++) child_fd[i] = null_fd;
  } else if (s.tty) {
    int slave;
    master = open_container_pty(&slave);
    if (fchown(slave, s.process.uid, (gid_t)-1) < 0) {
    } /* the command's own terminal, as Docker's */
    for (int i = 0; i < 3; i++) child_fd[i] = slave;
    relays[nrelays++] = (struct relay){master, 1, 0};
    if (s.keep_stdin) relays[nrelays++] = (struct relay){0, master, 0};
  } else {
    for (int fd = 0; fd < 3; fd++) {
      child_fd[fd] = fd;
      if (fd == 0 && !s.keep_stdin) {
        child_fd[0] = null_fd;
        continue;
      }
      if (!isatty(fd)) continue;
      int pp[2];
      if (pipe2(pp, O_CLOEXEC) < 0) die("exec: pipe: %s", strerror(errno));
      if (fd == 0) {
        child_fd[0] = pp[0];
        relays[nrelays++] = (struct relay){0, pp[1], 1};
      } else {
        child_fd[fd] = pp[1];
        relays[nrelays++] = (struct relay){pp[0], fd, 0};
      }
    }
  }

  sigset_t mask, oldmask;
  sigemptyset(&mask);
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&mask, forwarded[i]);
  sigprocmask(SIG_BLOCK, &mask, &oldmask);
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sigfd < 0) die("exec: signalfd: %s", strerror(errno));

  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) < 0) die("exec: pipe: %s", strerror(errno));
  pid_t child = fork();
  if (child < 0) die("exec: fork: %s", strerror(errno));
  if (child == 0) {
    close(errpipe[0]);
    child_err_fd = errpipe[1];
    run_command(&s, child_fd, &oldmask);
  }
  close(errpipe[1]);
  /* The command's ends are its own now (the pty slave is all three with -t: close it once). */
  for (int i = 0; i < 3; i++) {
    int fd = child_fd[i];
    if (fd <= 2 || fd == null_fd) continue;
    close(fd);
    for (int j = i; j < 3; j++)
      if (child_fd[j] == fd) child_fd[j] = -1;
  }
  int failed = child_wait_exec(errpipe[0], child, s.ready_fd);
  if (failed) return failed;
  report(&s, "ok\n");
  if (s.detach) return 0;
  if (master >= 0 && s.keep_stdin) user_terminal_make_raw();
  int code = supervise(child, sigfd, master, relays, nrelays);
  user_terminal_restore();
  return code;
}
