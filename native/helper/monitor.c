/*
 * monitor mode: runs one container. We are already root in the user namespace (rootless) and
 * in a private mount namespace (main.c). The monitor mounts the rootfs, clones the container's
 * init into new PID/UTS/IPC/net/cgroup/mount namespaces, proxies the pty with -t, forwards
 * signals, reaps the container, records the exit code and cleans up after --rm.
 * The spec file format is in native/PROTOCOL.md; Node computed every value in it.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <linux/openat2.h>
#include <poll.h>
#include <grp.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

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

#define MAX_ITEMS 256

struct mnt {
  const char *type, *src, *dst, *data;
  unsigned long flags;
  int is_file;
};

struct spec {
  const char *rootfs, *rootfs_type, *rootfs_source, *rootfs_data;
  int ns_flags;
  const char *hostname, *cwd;
  struct mnt mounts[MAX_ITEMS];
  int nmounts;
  const char *sym_target[MAX_ITEMS], *sym_link[MAX_ITEMS];
  int nsyms;
  const char *masks[MAX_ITEMS];
  int nmasks;
  const char *ros[MAX_ITEMS];
  int nros;
  uid_t uid;
  gid_t gid;
  gid_t groups[64];
  int ngroups;
  char *env[MAX_ITEMS * 4];
  int nenv;
  char *args[MAX_ITEMS * 4];
  int nargs;
  uint64_t caps;
  int tty, keep_stdin, ready_fd, no_new_privs;
  const char *seccomp; /* BPF program as hex; NULL = unconfined */
  const char *pid_file, *exit_file, *lock_file;
  char *cleanup[16];
  int ncleanup;
};

/* ---------- spec parsing ---------- */

static char *read_all(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("monitor: cannot open spec %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0) die("monitor: stat spec: %s", strerror(errno));
  char *buf = malloc(st.st_size + 1);
  size_t off = 0;
  while (off < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + off, st.st_size - off);
    if (n <= 0) die("monitor: read spec: %s", n < 0 ? strerror(errno) : "short read");
    off += n;
  }
  buf[off] = 0;
  close(fd);
  *len = off;
  return buf;
}

static int ns_flag(const char *name) {
  if (!strcmp(name, "pid")) return CLONE_NEWPID;
  if (!strcmp(name, "uts")) return CLONE_NEWUTS;
  if (!strcmp(name, "ipc")) return CLONE_NEWIPC;
  if (!strcmp(name, "net")) return CLONE_NEWNET;
  if (!strcmp(name, "cgroup")) return CLONE_NEWCGROUP;
  die("monitor: unknown namespace %s", name);
}

#define NEED(n) \
  if (nf != (n)) die("monitor: spec key %s wants %d fields, got %d", key, (n), nf)
#define ADD(arr, count, val) \
  do { \
    if ((count) >= (int)(sizeof(arr) / sizeof((arr)[0])) - 1) die("monitor: too many %s", key); \
    (arr)[(count)++] = (val); \
  } while (0)

static void parse_spec(const char *path, struct spec *s) {
  size_t len;
  char *p = read_all(path, &len), *end = p + len;
  memset(s, 0, sizeof *s);
  s->ready_fd = -1;
  s->cwd = "/";
  while (p < end) {
    const char *key = p;
    p += strlen(p) + 1;
    if (p >= end) die("monitor: spec truncated after %s", key);
    int nf = atoi(p);
    p += strlen(p) + 1;
    char *f[64];
    if (nf < 0 || nf > 64) die("monitor: bad field count for %s", key);
    for (int i = 0; i < nf; i++) {
      if (p >= end) die("monitor: spec truncated in %s", key);
      f[i] = p;
      p += strlen(p) + 1;
    }
    if (!strcmp(key, "rootfs")) { NEED(1); s->rootfs = f[0]; }
    else if (!strcmp(key, "rootfs-mount")) {
      NEED(3);
      s->rootfs_type = f[0]; s->rootfs_source = f[1]; s->rootfs_data = f[2];
    } else if (!strcmp(key, "ns")) { NEED(1); s->ns_flags |= ns_flag(f[0]); }
    else if (!strcmp(key, "hostname")) { NEED(1); s->hostname = f[0]; }
    else if (!strcmp(key, "mount")) {
      NEED(6);
      if (s->nmounts >= MAX_ITEMS) die("monitor: too many mounts");
      struct mnt *m = &s->mounts[s->nmounts++];
      m->type = f[0]; m->src = f[1]; m->dst = f[2];
      m->flags = strtoul(f[3], NULL, 10); m->data = f[4];
      m->is_file = !strcmp(f[5], "file");
    } else if (!strcmp(key, "symlink")) {
      NEED(2);
      if (s->nsyms >= MAX_ITEMS) die("monitor: too many symlinks");
      s->sym_target[s->nsyms] = f[0]; s->sym_link[s->nsyms++] = f[1];
    } else if (!strcmp(key, "mask")) { NEED(1); ADD(s->masks, s->nmasks, f[0]); }
    else if (!strcmp(key, "ro")) { NEED(1); ADD(s->ros, s->nros, f[0]); }
    else if (!strcmp(key, "cwd")) { NEED(1); s->cwd = f[0]; }
    else if (!strcmp(key, "user")) {
      NEED(2); s->uid = strtoul(f[0], NULL, 10); s->gid = strtoul(f[1], NULL, 10);
    } else if (!strcmp(key, "groups")) {
      for (int i = 0; i < nf; i++) ADD(s->groups, s->ngroups, strtoul(f[i], NULL, 10));
    } else if (!strcmp(key, "env")) { NEED(1); ADD(s->env, s->nenv, f[0]); }
    else if (!strcmp(key, "arg")) { NEED(1); ADD(s->args, s->nargs, f[0]); }
    else if (!strcmp(key, "caps")) {
      for (int i = 0; i < nf; i++) s->caps |= 1ULL << strtoul(f[i], NULL, 10);
    } else if (!strcmp(key, "tty")) { NEED(1); s->tty = atoi(f[0]); }
    else if (!strcmp(key, "stdin")) { NEED(1); s->keep_stdin = atoi(f[0]); }
    else if (!strcmp(key, "seccomp")) { NEED(1); s->seccomp = f[0]; }
    else if (!strcmp(key, "no-new-privs")) { NEED(1); s->no_new_privs = atoi(f[0]); }
    else if (!strcmp(key, "ready-fd")) { NEED(1); s->ready_fd = atoi(f[0]); }
    else if (!strcmp(key, "pid-file")) { NEED(1); s->pid_file = f[0]; }
    else if (!strcmp(key, "exit-file")) { NEED(1); s->exit_file = f[0]; }
    else if (!strcmp(key, "lock-file")) { NEED(1); s->lock_file = f[0]; }
    else if (!strcmp(key, "cleanup")) { NEED(1); ADD(s->cleanup, s->ncleanup, f[0]); }
    else die("monitor: unknown spec key %s", key);
  }
  if (!s->rootfs || !s->rootfs_type || s->nargs == 0) die("monitor: spec lacks rootfs or args");
  s->env[s->nenv] = NULL;
  s->args[s->nargs] = NULL;
}

/* ---------- container init (runs in the cloned child) ---------- */

/* Errors in the child travel to the monitor over a CLOEXEC pipe: "CODE message". */
static int err_fd = -1;

static void child_fail(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void child_fail(int code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(msg, sizeof msg, "%d ", code);
  vsnprintf(msg + n, sizeof msg - n, fmt, ap);
  va_end(ap);
  if (write(err_fd, msg, strlen(msg)) < 0) {
  }
  _exit(code);
}

static int openat2_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = flags | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/*
 * Create DST (a dir, or an empty file for file bind mounts) inside the rootfs, creating
 * parents, never following a symlink out of the rootfs: each step is resolved IN_ROOT.
 * Returns an O_PATH fd for the target.
 */
static int ensure_target(int rootfd, const char *dst, int is_file) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dst);
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    int fd = openat2_in_root(rootfd, path, O_PATH | O_DIRECTORY);
    if (fd < 0) {
      char *slash = strrchr(path, '/');
      *slash = 0;
      int parent = openat2_in_root(rootfd, path[0] ? path : "/", O_PATH | O_DIRECTORY);
      *slash = '/';
      if (parent < 0 || (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST))
        child_fail(125, "cannot create %s in the rootfs: %s", path, strerror(errno));
      close(parent);
    } else close(fd);
    *p = '/';
  }
  int fd = openat2_in_root(rootfd, path, O_PATH);
  if (fd >= 0) return fd;
  char *slash = strrchr(path, '/');
  *slash = 0;
  int parent = openat2_in_root(rootfd, path[0] ? path : "/", O_PATH | O_DIRECTORY);
  *slash = '/';
  if (parent < 0) child_fail(125, "cannot resolve %s in the rootfs: %s", dst, strerror(errno));
  if (is_file) {
    int f = openat(parent, slash + 1, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0) child_fail(125, "cannot create %s in the rootfs: %s", dst, strerror(errno));
    close(f);
  } else if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST) {
    child_fail(125, "cannot create %s in the rootfs: %s", dst, strerror(errno));
  }
  close(parent);
  fd = openat2_in_root(rootfd, path, O_PATH);
  if (fd < 0) child_fail(125, "cannot resolve %s in the rootfs: %s", dst, strerror(errno));
  return fd;
}

/* Flags a user namespace may not clear on remount: keep whatever the mount already has. */
static unsigned long locked_flags(const char *path) {
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) < 0) return 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int remount_ro(const char *path, unsigned long extra) {
  return mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | extra | locked_flags(path),
               NULL);
}

static void do_mount(int rootfd, const struct mnt *m) {
  int fd = ensure_target(rootfd, m->dst, m->is_file);
  char proc_path[64];
  snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
  int is_bind = (m->flags & MS_BIND) != 0;
  unsigned long flags = is_bind ? (m->flags & ~MS_RDONLY) : m->flags;
  if (mount(m->src, proc_path, m->type, flags, m->data[0] ? m->data : NULL) < 0)
    child_fail(125, "cannot mount %s on %s: %s", m->src, m->dst, strerror(errno));
  if (is_bind && (m->flags & MS_RDONLY)) {
    /* Re-open: the fd still points at the covered directory, not the new mount. */
    close(fd);
    fd = openat2_in_root(rootfd, m->dst, O_PATH);
    snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
    if (fd < 0 || remount_ro(proc_path, m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)) < 0)
      child_fail(125, "cannot make %s read-only: %s", m->dst, strerror(errno));
  }
  close(fd);
}

static void do_symlink(int rootfd, const char *target, const char *link) {
  char path[4096];
  snprintf(path, sizeof path, "%s", link);
  char *slash = strrchr(path, '/');
  *slash = 0;
  int parent = openat2_in_root(rootfd, path[0] ? path : "/", O_PATH | O_DIRECTORY);
  if (parent < 0 || (symlinkat(target, parent, slash + 1) < 0 && errno != EEXIST))
    child_fail(125, "cannot create symlink %s: %s", link, strerror(errno));
  close(parent);
}

/* Docker's masked paths: /dev/null over files, an empty read-only tmpfs over directories. */
static void mask_path(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0) return;
  int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k")
                               : mount("/dev/null", path, NULL, MS_BIND, NULL);
  if (rc < 0) child_fail(125, "cannot mask %s: %s", path, strerror(errno));
}

static void readonly_path(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0) return;
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
      remount_ro(path, MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
    child_fail(125, "cannot make %s read-only: %s", path, strerror(errno));
}

static void setup_rootfs(const struct spec *s) {
  int rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) child_fail(125, "cannot open rootfs %s: %s", s->rootfs, strerror(errno));
  for (int i = 0; i < s->nmounts; i++) do_mount(rootfd, &s->mounts[i]);
  for (int i = 0; i < s->nsyms; i++) do_symlink(rootfd, s->sym_target[i], s->sym_link[i]);
  if (fchdir(rootfd) < 0) child_fail(125, "chdir rootfs: %s", strerror(errno));
  close(rootfd);
  /* pivot_root(".", ".") stacks the old root under the new one; detach it right away. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) child_fail(125, "pivot_root: %s", strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) child_fail(125, "detach old root: %s", strerror(errno));
  if (chdir("/") < 0) child_fail(125, "chdir /: %s", strerror(errno));
  for (int i = 0; i < s->nros; i++) readonly_path(s->ros[i]);
  for (int i = 0; i < s->nmasks; i++) mask_path(s->masks[i]);
}

/* Send fd over a unix socket (SCM_RIGHTS). */
static void send_fd(int sock, int fd) {
  char byte = 'T';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, 0) < 0) child_fail(125, "send pty: %s", strerror(errno));
}

static int recv_fd(int sock) {
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

/* Open a pty in the container's own devpts, hand the master to the monitor, make the slave
 * our controlling terminal and stdio. The initial window size comes from the user's terminal,
 * which is still our fd 0 at this point. */
static void setup_tty(int sock) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) child_fail(125, "open /dev/ptmx: %s", strerror(errno));
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) child_fail(125, "unlock pty: %s", strerror(errno));
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) child_fail(125, "open pty peer: %s", strerror(errno));
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0) ioctl(slave, TIOCSWINSZ, &ws);
  send_fd(sock, master);
  close(master);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) child_fail(125, "set controlling tty: %s", strerror(errno));
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0) child_fail(125, "dup pty: %s", strerror(errno));
  if (slave > 2) close(slave);
}

static void mkdir_p(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    mkdir(path, 0755);
    *p = '/';
  }
  mkdir(path, 0755);
}

static void set_identity(const struct spec *s) {
  /* The bounding set limits what any later exec can gain; drop all but the kept caps. */
  for (int cap = 0; cap <= 63; cap++) {
    if (s->caps & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      child_fail(125, "drop capability %d: %s", cap, strerror(errno));
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (setgroups(s->ngroups, s->groups) < 0 && errno != EPERM)
    child_fail(125, "setgroups: %s", strerror(errno));
  if (setresgid(s->gid, s->gid, s->gid) < 0)
    child_fail(125, "cannot switch to group %u: %s", s->gid, strerror(errno));
  if (setresuid(s->uid, s->uid, s->uid) < 0)
    child_fail(125, "cannot switch to user %u: %s", s->uid, strerror(errno));
  /* Root keeps exactly the kept set; inheritable stays empty (as Docker since CVE-2022-24769).
   * A non-root user lost its capabilities in setresuid, as in Docker. */
  if (s->uid == 0) {
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2] = {{0}};
    d[0].effective = d[0].permitted = (uint32_t)s->caps;
    d[1].effective = d[1].permitted = (uint32_t)(s->caps >> 32);
    if (syscall(SYS_capset, &h, d) < 0) child_fail(125, "capset: %s", strerror(errno));
  }
}

static const char *env_path(const struct spec *s) {
  for (int i = 0; i < s->nenv; i++)
    if (!strncmp(s->env[i], "PATH=", 5)) return s->env[i] + 5;
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* execve with Docker's error codes: 127 not found, 126 found but not executable. */
static void exec_command(const struct spec *s) {
  const char *cmd = s->args[0];
  if (strchr(cmd, '/')) {
    execve(cmd, s->args, s->env);
    int e = errno;
    child_fail(e == ENOENT ? 127 : 126, "exec %s: %s", cmd, strerror(e));
  }
  char path[4096];
  int saw_eacces = 0;
  const char *dirs = env_path(s);
  while (*dirs) {
    const char *colon = strchr(dirs, ':');
    size_t n = colon ? (size_t)(colon - dirs) : strlen(dirs);
    snprintf(path, sizeof path, "%.*s/%s", (int)n, n ? dirs : ".", cmd);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      execve(path, s->args, s->env);
      if (errno == EACCES) saw_eacces = 1;
      else if (errno != ENOENT) child_fail(126, "exec %s: %s", cmd, strerror(errno));
    }
    dirs += n + (colon ? 1 : 0);
    if (!colon) break;
  }
  if (saw_eacces) child_fail(126, "exec %s: permission denied", cmd);
  child_fail(127, "exec: \"%s\": executable file not found in $PATH", cmd);
}

/* A fresh network namespace has its loopback down; Docker's containers see it up. */
static void loopback_up(void) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) child_fail(125, "loopback: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) child_fail(125, "loopback up: %s", strerror(errno));
  close(sock);
}

static void load_seccomp(const struct spec *s) {
  if (install_seccomp(s->seccomp) < 0) child_fail(125, "seccomp: %s", strerror(errno));
}

static void container_init(const struct spec *s, int tty_sock, const sigset_t *oldmask) {
  if (setsid() < 0) child_fail(125, "setsid: %s", strerror(errno));
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    child_fail(125, "make mounts private: %s", strerror(errno));
  if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
    child_fail(125, "sethostname: %s", strerror(errno));
  if (s->ns_flags & CLONE_NEWNET) loopback_up();
  setup_rootfs(s);
  if (s->tty) setup_tty(tty_sock);
  else if (!s->keep_stdin) {
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0) child_fail(125, "open /dev/null: %s", strerror(errno));
    if (null > 0) close(null);
  }
  mkdir_p(s->cwd);
  /* After the last mount. Without no_new_privs the filter needs CAP_SYS_ADMIN (in the namespace),
   * so it goes in before the capabilities are dropped; with it, as late as possible (as runc). */
  if (s->seccomp && !s->no_new_privs) load_seccomp(s);
  set_identity(s);
  if (s->no_new_privs) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) child_fail(125, "no_new_privs: %s", strerror(errno));
    if (s->seccomp) load_seccomp(s);
  }
  if (chdir(s->cwd) < 0) child_fail(125, "chdir to %s: %s", s->cwd, strerror(errno));
  /* Nothing of ours may leak into the container: mark every fd above stdio close-on-exec. */
  syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
  sigprocmask(SIG_SETMASK, oldmask, NULL);
  reset_signal_dispositions();
  exec_command(s);
}

/* ---------- monitor side ---------- */

static void mount_rootfs(const struct spec *s) {
  const char *t = s->rootfs_type;
  if (!strcmp(t, "overlay")) {
    if (mount("overlay", s->rootfs, "overlay", 0, s->rootfs_data) < 0)
      die("monitor: cannot mount the overlay rootfs: %s", strerror(errno));
  } else if (!strcmp(t, "bind")) {
    if (mount(s->rootfs_source, s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
      die("monitor: cannot bind the rootfs: %s", strerror(errno));
  } else if (!strcmp(t, "fuse-overlayfs")) {
    pid_t pid = fork();
    if (pid == 0) {
      execl(s->rootfs_source, s->rootfs_source, "-o", s->rootfs_data, s->rootfs, (char *)NULL);
      fprintf(stderr, "skiff-helper: cannot run %s: %s\n", s->rootfs_source, strerror(errno));
      _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      die("monitor: fuse-overlayfs failed to mount the rootfs");
  } else {
    die("monitor: unknown rootfs mount type %s", t);
  }
}

static void write_small_file(const char *path, const char *text) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) {
  }
  fsync(fd);
  close(fd);
  rename(tmp, path);
}

static struct termios saved_termios;
static int termios_saved;

static void restore_terminal(void) {
  if (termios_saved) tcsetattr(0, TCSADRAIN, &saved_termios);
}

static void make_raw(void) {
  if (!isatty(0) || tcgetattr(0, &saved_termios) < 0) return;
  termios_saved = 1;
  struct termios raw = saved_termios;
  cfmakeraw(&raw);
  tcsetattr(0, TCSADRAIN, &raw);
}

static int copy_once(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return -1;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    off += w;
  }
  return 0;
}

/* Wait for the container, forwarding signals and (with -t) shuttling bytes through the pty.
 * Returns the raw wait status. */
static int supervise(pid_t child, int master, int sigfd, int forward_stdin) {
  int status = 0, exited = 0, stdin_open = master >= 0 && forward_stdin;
  for (;;) {
    struct pollfd p[3] = {{sigfd, POLLIN, 0}, {master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    if (exited && master < 0) break;
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      die("monitor: poll: %s", strerror(errno));
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          pid_t r;
          while ((r = waitpid(-1, &status, WNOHANG)) > 0)
            if (r == child) exited = 1;
        } else if (si.ssi_signo == SIGWINCH && master >= 0) {
          struct winsize ws;
          if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0)
            ioctl(master, TIOCSWINSZ, &ws);
        } else if (!exited) {
          kill(child, si.ssi_signo);
        }
      }
    }
    if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (copy_once(master, 1) < 0) {
        close(master);
        master = -1;
      }
    }
    if (stdin_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (master < 0 || copy_once(0, master) < 0) stdin_open = 0;
    }
  }
  return status;
}

/* --rm: remove what Node named. Under the store lock, so that no skiff process is
 * half-way through rewriting this container's state while it disappears. */
static void cleanup_paths(struct spec *s) {
  if (s->ncleanup == 0) return;
  int lock = -1;
  if (s->lock_file) {
    lock = open(s->lock_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock >= 0) flock(lock, LOCK_EX);
  }
  char *argv[18];
  argv[0] = "rm";
  for (int i = 0; i < s->ncleanup; i++) argv[i + 1] = s->cleanup[i];
  argv[s->ncleanup + 1] = NULL;
  mode_rm(s->ncleanup + 1, argv);
  if (lock >= 0) close(lock);
}

/* The report fd stays open until we exit: its EOF tells skiff that the monitor is gone. */
static void report_ready(const struct spec *s, const char *text) {
  if (s->ready_fd < 0) return;
  if (write(s->ready_fd, text, strlen(text)) < 0) {
  }
}

int mode_monitor(int argc, char **argv) {
  if (argc != 2) die("usage: monitor SPECFILE");
  static struct spec s;
  parse_spec(argv[1], &s);
  if (s.ready_fd >= 0) fcntl(s.ready_fd, F_SETFD, FD_CLOEXEC);
  /* skiff may close its end of the report pipe (detached runs); never die of that. The
   * container gets default dispositions back before exec. */
  signal(SIGPIPE, SIG_IGN);
  /* Node puts the pipes it touches (its own stdout) in non-blocking mode, and a file
   * description is shared: give the container blocking stdio, as libuv does for children. */
  for (int fd = 0; fd < 3; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  mount_rootfs(&s);

  int errpipe[2], sock[2] = {-1, -1};
  if (pipe2(errpipe, O_CLOEXEC) < 0) die("monitor: pipe: %s", strerror(errno));
  if (s.tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0)
    die("monitor: socketpair: %s", strerror(errno));

  /* Signals are read through a signalfd; the child restores the mask before exec. */
  sigset_t mask, oldmask;
  sigemptyset(&mask);
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&mask, forwarded[i]);
  sigprocmask(SIG_BLOCK, &mask, &oldmask);
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sigfd < 0) die("monitor: signalfd: %s", strerror(errno));

  pid_t child = syscall(SYS_clone, CLONE_NEWNS | s.ns_flags | SIGCHLD, 0, 0, 0, 0);
  if (child < 0) die("monitor: cannot create the container's namespaces: %s", strerror(errno));
  if (child == 0) {
    close(errpipe[0]);
    err_fd = errpipe[1];
    if (sock[0] >= 0) close(sock[0]);
    container_init(&s, sock[1], &oldmask);
  }
  close(errpipe[1]);
  int master = -1;
  if (s.tty) {
    close(sock[1]);
    master = recv_fd(sock[0]);
    close(sock[0]);
  }
  char err[1100];
  ssize_t n = read(errpipe[0], err, sizeof err - 1);
  close(errpipe[0]);
  int code;
  if (n > 0) {
    /* The container never started: report like Docker and exit 125/126/127. */
    err[n] = 0;
    code = atoi(err);
    const char *msg = strchr(err, ' ');
    msg = msg ? msg + 1 : err;
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
    char line[1200];
    snprintf(line, sizeof line, "err %d %s\n", code, msg);
    if (s.ready_fd >= 0) report_ready(&s, line);
    else fprintf(stderr, "skiff: %s\n", msg);
    if (s.exit_file) {
      snprintf(line, sizeof line, "%d\n", code);
      write_small_file(s.exit_file, line);
    }
    umount2(s.rootfs, MNT_DETACH);
    cleanup_paths(&s);
    return code;
  }
  if (s.pid_file) {
    char buf[32];
    snprintf(buf, sizeof buf, "%d\n", (int)child);
    write_small_file(s.pid_file, buf);
  }
  report_ready(&s, "ok\n");
  if (master >= 0 && s.keep_stdin) {
    make_raw();
    atexit(restore_terminal);
  }
  int status = supervise(child, master, sigfd, s.keep_stdin);
  restore_terminal();
  code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (s.exit_file) {
    char buf[32];
    snprintf(buf, sizeof buf, "%d\n", code);
    write_small_file(s.exit_file, buf);
  }
  umount2(s.rootfs, MNT_DETACH);
  cleanup_paths(&s);
  return code;
}
