/*
 * The container's user-mode network helper (pasta or slirp4netns), run by the monitor.
 *
 * Node computes the helper's command line (src/network/usermode.ts); the contract, the same for
 * both helpers, is three fds: 3 is the container's network namespace (the helper joins it through
 * /proc/self/fd/3, so it never needs ptrace access to the container's init, which a helper that
 * has dropped its capabilities lacks), 4 is the write end of a pipe on which it reports readiness
 * (pasta writes its PID file there, slirp4netns its ready byte), 5 the read end of a pipe whose
 * write end only the monitor holds (slirp4netns's --exit-fd: EOF = the monitor is gone).
 *
 * The helper must never outlive the container: it gets PR_SET_PDEATHSIG (SIGKILL when the monitor
 * dies, even by SIGKILL; neither helper changes credentials, which would clear it), the monitor
 * stops it when the container ends, and its "PID STARTTIME" file lets skiff kill it should the
 * monitor die in a way that still leaves it (src/engine/lost-container.ts).
 */
#include "usermode_net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#define READY_TIMEOUT_MS 10000

int usermode_net_parse_key(struct usermode_net *n, const char *key, int nf, char **f) {
  if (!strcmp(key, "net-helper")) {
    if (nf < 1 || nf > NET_MAX_ARGS) die("monitor: spec key net-helper wants 1 to %d fields, got %d", NET_MAX_ARGS, nf);
    for (int i = 0; i < nf; i++) n->argv[i] = f[i];
    n->argv[nf] = NULL;
    n->argc = nf;
    return 1;
  }
  const char **one = !strcmp(key, "net-log")          ? &n->log
                     : !strcmp(key, "net-pid-file")   ? &n->pid_file
                     : !strcmp(key, "net-api-socket") ? &n->api_socket
                                                      : NULL;
  if (one) {
    if (nf != 1) die("monitor: spec key %s wants 1 field, got %d", key, nf);
    *one = f[0];
    return 1;
  }
  if (!strcmp(key, "net-api-request")) {
    if (nf != 1) die("monitor: spec key net-api-request wants 1 field, got %d", nf);
    if (n->nrequests >= NET_MAX_REQUESTS) die("monitor: too many net-api-request");
    n->requests[n->nrequests++] = f[0];
    return 1;
  }
  return 0;
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Move FD to TARGET in the child about to exec (no earlier fd numbers are clobbered: every
 * source was first moved above 9). */
static void place(int fd, int target) {
  if (dup2(fd, target) < 0) _exit(127);
}

static void exec_helper(const struct usermode_net *n, int netns, int ready_w, int exit_r, const sigset_t *oldmask, pid_t monitor) {
  if (die_with_monitor_child(monitor) < 0) _exit(127);
  /* The monitor ignores SIGPIPE and reads signals through a signalfd: give the helper the
   * defaults (pasta refuses to start with SIGPIPE ignored). */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, oldmask, NULL);
  int fds[3] = {fcntl(netns, F_DUPFD, 10), fcntl(ready_w, F_DUPFD, 10), fcntl(exit_r, F_DUPFD, 10)};
  if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) _exit(127);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int log_fd = n->log ? open(n->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
  if (null_fd >= 0) place(null_fd, 0);
  if (log_fd >= 0) {
    place(log_fd, 1);
    place(log_fd, 2);
  } else if (null_fd >= 0) {
    place(null_fd, 1);
    place(null_fd, 2);
  }
  place(fds[0], 3);
  place(fds[1], 4);
  place(fds[2], 5);
  /* Every other fd the monitor holds is close-on-exec (mark_inherited_fds_cloexec). */
  execv(n->argv[0], n->argv);
  fprintf(stderr, "cannot run %s: %s\n", n->argv[0], strerror(errno));
  _exit(127);
}

/* The line of the helper's log that says what went wrong: the last one naming an error
 * (slirp4netns prints its settings before it fails), else the last one. */
static void last_log_line(const char *log, char *out, size_t len) {
  out[0] = 0;
  char buf[8192];
  if (!log || read_small_file(log, buf, sizeof buf) < 0) return;
  const char *last = NULL, *error = NULL;
  for (char *line = strtok(buf, "\r\n"); line; line = strtok(NULL, "\r\n")) {
    last = line;
    if (strstr(line, "rror") || strstr(line, "ailed") || strstr(line, "annot") || strstr(line, "ouldn't")) error = line;
  }
  const char *line = error ? error : last;
  if (!line) return;
  /* pasta prefixes a timestamp ("1796585789.6460: ") */
  const char *colon = strstr(line, ": ");
  if (colon && colon - line < 24 && strspn(line, "0123456789.") == (size_t)(colon - line)) line = colon + 2;
  snprintf(out, len, "%.*s", (int)(len - 1), line);
}

static void kill_helper(const struct usermode_net_proc *p) {
  if (p->pidfd >= 0) syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
  else kill(p->pid, SIGKILL);
}

static void kill_and_reap(struct usermode_net_proc *p) {
  kill_helper(p);
  while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void write_pid_file(const struct usermode_net *n, pid_t pid) {
  if (!n->pid_file) return;
  char start[64], buf[96];
  if (process_start_time(pid, start, sizeof start) < 0) return;
  snprintf(buf, sizeof buf, "%d %s\n", (int)pid, start);
  int fd = open(n->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  if (write(fd, buf, strlen(buf)) < 0) {
  }
  close(fd);
}

/* One request on one connection, as the slirp4netns API wants it; 0, or -1 with its reason. */
static int api_request(const char *socket_path, const char *request, char *msg, size_t len) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) {
    snprintf(msg, len, "the slirp4netns API socket path is too long: %s", socket_path);
    return -1;
  }
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    snprintf(msg, len, "cannot reach the slirp4netns API at %s: %s", socket_path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  char reply[2048];
  size_t got = 0;
  if (write(fd, request, strlen(request)) < 0 || shutdown(fd, SHUT_WR) < 0) {
    snprintf(msg, len, "slirp4netns API: %s", strerror(errno));
    close(fd);
    return -1;
  }
  for (ssize_t r; got < sizeof reply - 1 && (r = read(fd, reply + got, sizeof reply - 1 - got)) != 0;) {
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += r;
  }
  close(fd);
  reply[got] = 0;
  if (strstr(reply, "\"return\"")) return 0;
  /* {"error":{"desc":"..."}} */
  const char *desc = strstr(reply, "\"desc\"");
  if (desc && (desc = strchr(desc + 6, '"'))) {
    size_t l = strcspn(desc + 1, "\"");
    snprintf(msg, len, "slirp4netns refused a port forward: %.*s", (int)l, desc + 1);
  } else {
    snprintf(msg, len, "slirp4netns refused a port forward: %s", got ? reply : "no answer");
  }
  return -1;
}

int usermode_net_open_netns(pid_t child, char *msg, size_t len) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)child);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) snprintf(msg, len, "cannot prepare the network helper: %s: %s", path, strerror(errno));
  return fd;
}

/* Fork and exec the helper on NETNS (kept: the caller closes it); its ready pipe is p->ready_r. */
static int spawn(const struct usermode_net *n, int netns, const sigset_t *oldmask, struct usermode_net_proc *p,
                 char *msg, size_t len) {
  p->pid = -1;
  p->pidfd = p->exit_w = p->ready_r = -1;
  int ready[2] = {-1, -1}, alive[2] = {-1, -1};
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(alive, O_CLOEXEC) < 0) {
    snprintf(msg, len, "cannot prepare the network helper: %s", strerror(errno));
    goto fail_fds;
  }
  pid_t monitor = getpid();
  p->pid = fork();
  if (p->pid < 0) {
    snprintf(msg, len, "cannot start %s: %s", n->argv[0], strerror(errno));
    goto fail_fds;
  }
  if (p->pid == 0) exec_helper(n, netns, ready[1], alive[0], oldmask, monitor);
  close_fd(&ready[1]);
  close_fd(&alive[0]);
  p->ready_r = ready[0];
  p->exit_w = alive[1];
  p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
  return 0;

fail_fds:
  close_fd(&ready[0]);
  close_fd(&ready[1]);
  close_fd(&alive[0]);
  close_fd(&alive[1]);
  return -1;
}

/* The child of usermode_net_new_netns: it shares our memory and fd table (CLONE_VM,
 * CLONE_FILES), so the fd it opens on its new namespace is ours once it has exited. */
static int open_own_netns(void *out) {
  *(int *)out = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  return 0;
}

int usermode_net_new_netns(char *msg, size_t len) {
  static char stack[16384] __attribute__((aligned(16)));
  int fd = -1;
  pid_t pid = clone(open_own_netns, stack + sizeof stack, CLONE_NEWNET | CLONE_VM | CLONE_FILES | CLONE_VFORK | SIGCHLD, &fd);
  if (pid < 0) {
    snprintf(msg, len, "cannot create the container's network namespace: %s", strerror(errno));
    return -1;
  }
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  if (fd < 0) snprintf(msg, len, "cannot open the container's new network namespace");
  return fd;
}

int usermode_net_spawn(const struct usermode_net *n, int netns, const sigset_t *oldmask,
                       struct usermode_net_proc *p, char *msg, size_t len) {
  return spawn(n, netns, oldmask, p, msg, len);
}

int usermode_net_wait_ready(const struct usermode_net *n, struct usermode_net_proc *p, char *msg, size_t len) {
  /* Ready: a byte on the pipe. The helper gone (EOF with nothing said, or its pidfd readable)
   * or silent for too long: it failed. */
  const char *base = strrchr(n->argv[0], '/');
  base = base ? base + 1 : n->argv[0];
  long deadline = now_ms() + READY_TIMEOUT_MS;
  int ok = 0;
  for (;;) {
    struct pollfd pf[2] = {{p->ready_r, POLLIN, 0}, {p->pidfd, POLLIN, 0}};
    long left = deadline - now_ms();
    if (left <= 0) {
      snprintf(msg, len, "%s did not set up the container's network within %d s", base, READY_TIMEOUT_MS / 1000);
      break;
    }
    int r = poll(pf, p->pidfd >= 0 ? 2 : 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(msg, len, "waiting for %s: %s", base, strerror(errno));
      break;
    }
    if (pf[0].revents & (POLLIN | POLLHUP)) {
      char b[64];
      ssize_t got = read(p->ready_r, b, sizeof b);
      if (got > 0) {
        ok = 1;
        break;
      }
      if (got < 0 && errno == EINTR) continue;
      pf[1].revents = POLLIN; /* EOF: it closed every write end, i.e. it exited */
    }
    if (pf[1].revents & POLLIN) {
      /* give it a moment to finish writing its log */
      int status = 0;
      while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
      }
      p->pid = -1;
      char line[512];
      last_log_line(n->log, line, sizeof line);
      snprintf(msg, len, "%s failed to set up the container's network%s%s", base, line[0] ? ": " : "", line);
      break;
    }
  }
  close_fd(&p->ready_r);
  if (ok) {
    for (int i = 0; i < n->nrequests; i++)
      if (api_request(n->api_socket, n->requests[i], msg, len) < 0) {
        ok = 0;
        break;
      }
  }
  if (!ok) {
    if (p->pid > 0) kill_and_reap(p);
    close_fd(&p->pidfd);
    close_fd(&p->exit_w);
    p->pid = -1;
    return -1;
  }
  write_pid_file(n, p->pid);
  return 0;
}

int usermode_net_start(const struct usermode_net *n, int netns, const sigset_t *oldmask,
                       struct usermode_net_proc *p, char *msg, size_t len) {
  int rc = spawn(n, netns, oldmask, p, msg, len);
  close_fd(&netns);
  return rc < 0 ? -1 : usermode_net_wait_ready(n, p, msg, len);
}

void usermode_net_stop(struct usermode_net_proc *p, const struct usermode_net *n) {
  if (p->pid <= 0) return;
  close_fd(&p->ready_r);
  close_fd(&p->exit_w);
  /* SIGKILL at once: neither helper has anything to flush, and pasta takes ~30 ms to act on
   * SIGTERM, which every `run --rm` would wait for. Its death is not waited for either: closing
   * its tap device unregisters the interface (RCU grace periods, 15-20 ms of a `run --rm`'s wall
   * time). A later run's supervise or restart_wait reaps it (waitpid(-1)), else init once the
   * monitor has exited. Only a helper holding host ports (slirp4netns's port handler) is
   * waited for: those sockets close during that same exit, and the next container may want
   * the port at once. */
  if (n->nrequests) kill_and_reap(p);
  else kill_helper(p);
  close_fd(&p->pidfd);
  p->pid = -1;
  if (n->pid_file) unlink(n->pid_file);
  if (n->api_socket) unlink(n->api_socket);
}
