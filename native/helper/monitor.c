/*
 * monitor mode: runs one container. We are already root in the user namespace (rootless) and
 * in a private mount namespace (main.c). The monitor mounts the rootfs, clones the container's
 * init into new PID/UTS/IPC/net/cgroup/mount namespaces, proxies the pty with -t, forwards
 * signals, reaps the container, records the exit code and cleans up after --rm.
 * The spec file format is in native/PROTOCOL.md; Node computed every value in it.
 */
#include "helper.h"
#include "container_process.h"
#include "dns.h"
#include "init.h"
#include "net_holder.h"
#include "process_opts.h"
#include "usermode_net.h"
#include "port_forward.h"
#include "restart.h"
#include "volume_mount.h"
#include "keep_id.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <linux/openat2.h>
#include <poll.h>
#include <limits.h>
#include <sched.h>
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
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITEMS 256

struct mnt {
  const char *type, *src, *dst, *data;
  unsigned long flags;
  int is_file;
};

struct spec {
  const char *rootfs, *rootfs_type, *rootfs_source, *rootfs_data;
  int ns_flags;
  const char *hostname, *domainname;
  struct mnt mounts[MAX_ITEMS];
  int nmounts;
  const char *sym_target[MAX_ITEMS], *sym_link[MAX_ITEMS];
  int nsyms;
  const char *masks[MAX_ITEMS];
  int nmasks;
  const char *ros[MAX_ITEMS];
  int nros;
  struct container_process process; /* user, caps, seccomp, env, args, cwd (container_process.c) */
  int tty, keep_stdin, ready_fd;
  const char *pid_file, *exit_file, *lock_file;
  const char *cleanup_staging; /* the store's tmp/: `cleanup` paths leave in one rename first */
  char *cleanup[16];
  int ncleanup;
  int init;                       /* --init: PID 1 is a minimal init that forks the command (init.c) */
  struct process_opts proc;       /* --ulimit, --oom-score-adj, joined namespaces (process_opts.c) */
  struct restart_policy restart;  /* --restart (restart.c) */
  /* container stdio (logfile.c, attach.c): */
  const char *log_format, *log_path, *attach_socket;
  long long log_max_size;
  int log_max_files;
  int attached; /* the monitor's own stdio is the user's: copy output there, read stdin from it */
  struct detach_keys detach;      /* attached -it: the sequence that lets go of the user (detach.c) */
  char *detach_cleanup[16];       /* --rm, once detached: what to remove instead of `cleanup` */
  int ndetach_cleanup;
  struct health_config health; /* .spec NULL: no healthcheck */
  struct usermode_net umnet;   /* the user-mode network helper (usermode_net.c); argc 0: none */
  struct net_attachments net;  /* user-defined networks (net_holder.c) */
  struct port_forward ports;   /* published ports through our forwarder (port_forward.c) */
  struct dns_config dns;       /* the embedded DNS server at 127.0.0.11 (dns_server.c); .names NULL: none */
  struct volume_prep vol;       /* copy-up, chown (:U), rootfs-ro (volume_mount.c) */
  struct nested_userns userns;  /* --userns=keep-id (keep_id.c) */
};

/* ---------- spec parsing ---------- */

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
/* Every path the container init resolves inside the rootfs is absolute (it splits at the last
 * '/'); Node never sends anything else, so a relative one is a bug worth stopping at. */
static const char *absolute(const char *key, const char *path) {
  if (path[0] != '/') die("monitor: spec key %s: path \"%s\" is not absolute", key, path);
  return path;
}

#define ADD(arr, count, val) \
  do { \
    if ((count) >= (int)(sizeof(arr) / sizeof((arr)[0])) - 1) die("monitor: too many %s", key); \
    (arr)[(count)++] = (val); \
  } while (0)

/* S is zero (static storage, parsed once): no memset, which would make all of its ~86 KB of
 * arrays resident for the monitor's life where only the entries used are. */
static void parse_spec(const char *path, struct spec *s) {
  struct spec_reader r;
  spec_read_file(&r, path, "monitor");
  container_process_init(&s->process);
  s->ready_fd = -1;
  s->attached = 1;
  const char *key;
  char *f[SPEC_MAX_FIELDS];
  int nf;
  while (spec_next_record(&r, &key, f, &nf)) {
    if (!strcmp(key, "rootfs")) { NEED(1); s->rootfs = f[0]; }
    else if (!strcmp(key, "rootfs-mount")) {
      NEED(3);
      s->rootfs_type = f[0]; s->rootfs_source = f[1]; s->rootfs_data = f[2];
    } else if (!strcmp(key, "ns")) { NEED(1); s->ns_flags |= ns_flag(f[0]); }
    else if (!strcmp(key, "hostname")) { NEED(1); s->hostname = f[0]; }
    else if (!strcmp(key, "domainname")) { NEED(1); s->domainname = f[0]; }
    else if (!strcmp(key, "mount")) {
      NEED(6);
      if (s->nmounts >= MAX_ITEMS) die("monitor: too many mounts");
      struct mnt *m = &s->mounts[s->nmounts++];
      m->type = f[0]; m->src = f[1]; m->dst = absolute(key, f[2]);
      m->flags = strtoul(f[3], NULL, 10); m->data = f[4];
      m->is_file = !strcmp(f[5], "file");
    } else if (!strcmp(key, "symlink")) {
      NEED(2);
      if (s->nsyms >= MAX_ITEMS) die("monitor: too many symlinks");
      s->sym_target[s->nsyms] = f[0]; s->sym_link[s->nsyms++] = absolute(key, f[1]);
    } else if (!strcmp(key, "mask")) { NEED(1); ADD(s->masks, s->nmasks, absolute(key, f[0])); }
    else if (!strcmp(key, "ro")) { NEED(1); ADD(s->ros, s->nros, absolute(key, f[0])); }
    else if (!strcmp(key, "tty")) { NEED(1); s->tty = atoi(f[0]); }
    else if (!strcmp(key, "stdin")) { NEED(1); s->keep_stdin = atoi(f[0]); }
    else if (!strcmp(key, "ready-fd")) { NEED(1); s->ready_fd = atoi(f[0]); }
    else if (!strcmp(key, "pid-file")) { NEED(1); s->pid_file = f[0]; }
    else if (!strcmp(key, "exit-file")) { NEED(1); s->exit_file = f[0]; }
    else if (!strcmp(key, "lock-file")) { NEED(1); s->lock_file = f[0]; }
    else if (!strcmp(key, "cleanup")) { NEED(1); ADD(s->cleanup, s->ncleanup, f[0]); }
    else if (!strcmp(key, "cleanup-staging")) { NEED(1); s->cleanup_staging = f[0]; }
    else if (!strcmp(key, "init")) { NEED(1); s->init = atoi(f[0]); }
    else if (container_process_parse_key(&s->process, "monitor", key, nf, f)) {}
    else if (restart_parse_key(&s->restart, key, nf, f) || process_opts_parse_key(&s->proc, key, nf, f)) {}
    else if (usermode_net_parse_key(&s->umnet, key, nf, f)) {}
    else if (volume_parse_key(&s->vol, key, nf, f) || nested_userns_parse_key(&s->userns, key, nf, f)) {}
    else if (net_attach_parse_key(&s->net, key, nf, f) || port_forward_parse_key(&s->ports, key, nf, f)) {}
    else if (dns_parse_key(&s->dns, key, nf, f)) {}
    else if (!strcmp(key, "log")) {
      NEED(4);
      s->log_format = f[0]; s->log_path = f[1];
      s->log_max_size = strtoll(f[2], NULL, 10); s->log_max_files = atoi(f[3]);
    } else if (!strcmp(key, "attach-socket")) { NEED(1); s->attach_socket = f[0]; }
    else if (!strcmp(key, "attached")) { NEED(1); s->attached = atoi(f[0]); }
    else if (!strcmp(key, "detach-keys")) { NEED(1); detach_keys_parse(&s->detach, f[0]); }
    else if (!strcmp(key, "detach-cleanup")) { NEED(1); ADD(s->detach_cleanup, s->ndetach_cleanup, f[0]); }
    else if (!strcmp(key, "health")) { NEED(4); parse_health_config(f, &s->health); }
    else die("monitor: unknown spec key %s", key);
  }
  if (!s->rootfs || !s->rootfs_type || s->process.nargs == 0) die("monitor: spec lacks rootfs or args");
  container_process_finish(&s->process);
}

/* ---------- container init (runs in the cloned child) ---------- */

/* With a user-mode network, the init waits on this pipe before it runs the command: the
 * monitor writes a byte once the network helper is ready (EOF: it gave up). */
static int net_go_fd = -1;
/* The init's end of the socket pair its embedded DNS sockets go to the monitor through (-1: none). */
static int dns_sock_fd = -1;

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
  const char *err;
  int fd = volume_mount_target(rootfd, dst, is_file, &err);
  if (fd < 0) child_fail(125, "%s", err);
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

/*
 * Add the MS_RDONLY/NOSUID/NODEV/NOEXEC bits of `flags` to the mount at PATH, and with
 * `recursive` to every mount below it too: a bind's own mount(2) ignores these flags, and a
 * remount changes only the top mount, so an rbind'ed /sys would keep writable submounts
 * (/sys/fs/cgroup). mount_setattr(2) only sets bits here, never clears one, so the flags a
 * user namespace may not clear stay as they are. Without it (Linux < 5.12) a plain remount
 * covers the top mount; a recursive read-only mount then fails closed rather than half-apply.
 * Returns 0, or -1 with errno.
 */
static int add_mount_attrs(const char *path, unsigned long flags, int recursive) {
  struct mount_attr attr = {0};
  if (flags & MS_RDONLY) attr.attr_set |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) attr.attr_set |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) attr.attr_set |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) attr.attr_set |= MOUNT_ATTR_NOEXEC;
  if (!attr.attr_set) return 0;
  if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr) == 0)
    return 0;
  if (errno != ENOSYS) return -1;
  if (recursive && (flags & MS_RDONLY)) return -1;
  unsigned long keep = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  return mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | keep | locked_flags(path), NULL);
}

static void do_mount(int rootfd, const struct mnt *m) {
  int fd = ensure_target(rootfd, m->dst, m->is_file);
  char proc_path[64];
  snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
  int is_bind = (m->flags & MS_BIND) != 0;
  unsigned long flags = is_bind ? (m->flags & ~MS_RDONLY) : m->flags;
  if (mount(m->src, proc_path, m->type, flags, m->data[0] ? m->data : NULL) < 0)
    child_fail(125, "cannot mount %s on %s: %s", m->src, m->dst, strerror(errno));
  unsigned long attrs = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (is_bind && attrs) {
    /* Re-open: the fd still points at the covered directory, not the new mount. */
    close(fd);
    fd = openat2_in_root(rootfd, m->dst, O_PATH);
    snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
    if (fd < 0 || add_mount_attrs(proc_path, attrs, (m->flags & MS_REC) != 0) < 0)
      child_fail(125, "cannot make %s %s: %s", m->dst,
                 (attrs & MS_RDONLY) ? "read-only" : "nosuid/nodev/noexec", strerror(errno));
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

/*
 * The host's /dev/null, opened before pivot_root: after it, "/dev/null" would be resolved in
 * the container, where the image decides what it is (an image's /etc/hosts -> /dev/null makes
 * the bind of the hosts file land on the container's /dev/null). Masks and the container's
 * stdin come from this fd.
 */
static int open_host_null(void) {
  int fd = open("/dev/null", O_RDONLY | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) child_fail(125, "cannot open /dev/null: %s", strerror(errno));
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
    child_fail(125, "/dev/null on the host is not the null device (char 1:3); refusing to mask paths with it");
  return fd;
}

/*
 * Open a path to mask or make read-only, resolved inside the rootfs (its /proc and /sys are
 * the container's own mounts by now). A path that is not there needs nothing (as runc): -1.
 * Any other failure fails the start rather than leave the path unprotected.
 */
static int open_protected_path(int rootfd, const char *path) {
  int fd = openat2_in_root(rootfd, path, O_PATH);
  if (fd >= 0) return fd;
  if (errno == ENOENT) return -1;
  child_fail(125, "cannot protect %s: %s", path, strerror(errno));
}

/*
 * Docker's masked paths: the null device over files, an empty read-only tmpfs over
 * directories. Done before pivot_root: the host's null device (null_fd) can be bound only
 * while its mount is still in our namespace.
 */
static void mask_path(int rootfd, const char *path, int null_fd) {
  int fd = open_protected_path(rootfd, path);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) < 0) child_fail(125, "cannot mask %s: %s", path, strerror(errno));
  char target[64], null_path[64];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  snprintf(null_path, sizeof null_path, "/proc/self/fd/%d", null_fd);
  int rc = S_ISDIR(st.st_mode)
               ? mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k")
               : mount(null_path, target, NULL, MS_BIND, NULL);
  if (rc < 0) child_fail(125, "cannot mask %s: %s", path, strerror(errno));
  close(fd);
}

static void readonly_path(int rootfd, const char *path) {
  int fd = open_protected_path(rootfd, path);
  if (fd < 0) return;
  char target[64];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    child_fail(125, "cannot make %s read-only: %s", path, strerror(errno));
  /* Re-open: the fd still points at what the bind covers. */
  close(fd);
  fd = openat2_in_root(rootfd, path, O_PATH);
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  if (fd < 0 || add_mount_attrs(target, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 1) < 0)
    child_fail(125, "cannot make %s read-only: %s", path, strerror(errno));
  close(fd);
}

static void setup_rootfs(const struct spec *s, int null_fd) {
  int rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) child_fail(125, "cannot open rootfs %s: %s", s->rootfs, strerror(errno));
  const char *verr = volume_prepare(&s->vol, rootfd);
  if (verr) child_fail(125, "%s", verr);
  for (int i = 0; i < s->nmounts; i++) do_mount(rootfd, &s->mounts[i]);
  for (int i = 0; i < s->nsyms; i++) do_symlink(rootfd, s->sym_target[i], s->sym_link[i]);
  for (int i = 0; i < s->nros; i++) readonly_path(rootfd, s->ros[i]);
  for (int i = 0; i < s->nmasks; i++) mask_path(rootfd, s->masks[i], null_fd);
  if ((verr = volume_finish(&s->vol, rootfd))) child_fail(125, "%s", verr);
  if (fchdir(rootfd) < 0) child_fail(125, "chdir rootfs: %s", strerror(errno));
  close(rootfd);
  /* pivot_root(".", ".") stacks the old root under the new one; detach it right away. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) child_fail(125, "pivot_root: %s", strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) child_fail(125, "detach old root: %s", strerror(errno));
  if (chdir("/") < 0) child_fail(125, "chdir /: %s", strerror(errno));
}

/* Send fd over a unix socket (SCM_RIGHTS); WHAT names it in the failure. */
static void send_fd(int sock, int fd, const char *what) {
  if (fd_send(sock, 'T', &fd, 1) < 0) child_fail(125, "send %s: %s", what, strerror(errno));
}

static int recv_fd(int sock) {
  int fd;
  return fd_recv(sock, &fd, 1) == 1 ? fd : -1;
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
  send_fd(sock, master, "pty");
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

/*
 * Die with the monitor: nobody else would ever reap, stop or account for the container.
 * Set last, because every credential change (set_identity) clears it. The monitor may already
 * be gone by then, and getppid() cannot tell (the parent is outside our PID namespace, so it
 * reads 0 either way): the monitor holds the write end of `alive` until it exits, so a hangup
 * on our read end means it is dead.
 */
static void die_with_monitor(int alive) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) child_fail(125, "set parent-death signal: %s", strerror(errno));
  struct pollfd p = {alive, POLLIN, 0};
  if (poll(&p, 1, 0) != 0) _exit(125);
}

/* Relays between a terminal and a pipe: the container never gets the user's terminal
 * itself without -t (it could change its modes, read keystrokes, or push input with TIOCSTI).
 * `child_fd[i]` (or -1) is what the container gets as fd i. */
struct stdio_relay {
  int child_fd[3];
  int stdin_from, stdin_to;        /* terminal -> pipe, or -1 */
  int out_from[3], out_to[3];      /* pipe -> terminal for fds 1 and 2, or -1 */
};

static void container_init(const struct spec *s, int tty_sock, int alive, const struct stdio_relay *relay,
                           const sigset_t *oldmask) {
  if (setsid() < 0) child_fail(125, "setsid: %s", strerror(errno));
  for (int i = 0; i < 3; i++)
    if (relay->child_fd[i] >= 0 && dup2(relay->child_fd[i], i) < 0) child_fail(125, "stdio: %s", strerror(errno));
  int null_fd = open_host_null();
  char msg[512];
  if (process_opts_join_ipc(&s->proc, msg, sizeof msg) < 0) child_fail(125, "%s", msg);
  if (process_opts_join_net(&s->proc, msg, sizeof msg) < 0) child_fail(125, "%s", msg);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    child_fail(125, "make mounts private: %s", strerror(errno));
  if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
    child_fail(125, "sethostname: %s", strerror(errno));
  if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
    child_fail(125, "setdomainname: %s", strerror(errno));
  if (s->ns_flags & CLONE_NEWNET) loopback_up();
  if (dns_sock_fd >= 0) {
    int fds[DNS_SOCKETS], n;
    if ((n = dns_container_sockets(&s->dns, fds, msg, sizeof msg)) < 0) child_fail(125, "%s", msg);
    if (fd_send(dns_sock_fd, 'D', fds, n) < 0) child_fail(125, "send the DNS sockets: %s", strerror(errno));
    for (int i = 0; i < n; i++) close(fds[i]);
    close(dns_sock_fd);
  }
  if (net_attach_apply(&s->net, msg, sizeof msg) < 0) child_fail(125, "%s", msg);
  setup_rootfs(s, null_fd);
  if (s->tty) setup_tty(tty_sock);
  else if (!s->keep_stdin && dup2(null_fd, 0) < 0) child_fail(125, "stdin: %s", strerror(errno));
  close(null_fd);
  mkdir_p(s->process.cwd);
  if (process_opts_apply(&s->proc, msg, sizeof msg) < 0) child_fail(125, "%s", msg);
  if (net_go_fd >= 0) {
    char go;
    ssize_t n;
    while ((n = read(net_go_fd, &go, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) _exit(125); /* the monitor reports why */
    close(net_go_fd);
  }
  container_process_set_identity(&s->process); /* after the last mount */
  if (chdir(s->process.cwd) < 0) child_fail(125, "chdir to %s: %s", s->process.cwd, strerror(errno));
  die_with_monitor(alive);
  if (s->init) init_fork_command(child_err_fd, oldmask, s->process.args);
  container_process_exec(&s->process, oldmask);
}

/* ---------- monitor side ---------- */

/*
 * Nothing Node leaked to us may reach fuse-overlayfs or the container (CVE-2024-21626 class):
 * mark every fd above stdio close-on-exec before anything is forked or exec'd. close_range's
 * CLOSE_RANGE_CLOEXEC needs Linux 5.11; before that, walk /proc/self/fd. If neither works the
 * monitor stops. SKIFF_HELPER_FD_WALK=1 in the environment forces the walk (for tests).
 */
static void mark_inherited_fds_cloexec(void) {
  const char *force_walk = getenv("SKIFF_HELPER_FD_WALK");
  if (!(force_walk && !strcmp(force_walk, "1")) &&
      syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
  DIR *d = opendir("/proc/self/fd");
  if (!d) die("monitor: cannot list open files to close them for the container: /proc/self/fd: %s", strerror(errno));
  struct dirent *e;
  while ((e = readdir(d))) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name || fd < 3 || fd == dirfd(d)) continue;
    if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
      die("monitor: cannot mark fd %ld close-on-exec: %s", fd, strerror(errno));
  }
  closedir(d);
}

/* The last line fuse-overlayfs wrote to ERR_FD (a memfd), for the one line of a failure. */
static void fuse_last_error(int err_fd, char *out, size_t len) {
  char buf[4096];
  ssize_t n = err_fd >= 0 ? pread(err_fd, buf, sizeof buf - 1, 0) : -1;
  out[0] = 0;
  if (n <= 0) return;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
  buf[n] = 0;
  char *line = strrchr(buf, '\n');
  snprintf(out, len, ": %.500s", line ? line + 1 : buf);
}

/* fuse-overlayfs -f mounts and then serves: the rootfs is ready once it is a FUSE mount. */
static void wait_for_fuse_mount(pid_t pid, const char *dir, int err_fd) {
  char why[600];
  for (int waited_ms = 0;; waited_ms++) {
    struct statfs sf;
    if (statfs(dir, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC) return;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      fuse_last_error(err_fd, why, sizeof why);
      die("monitor: fuse-overlayfs failed to mount the rootfs%s", why);
    }
    if (waited_ms == 30000) {
      kill(pid, SIGKILL);
      die("monitor: fuse-overlayfs did not mount the rootfs within 30 s");
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

static void mount_rootfs(const struct spec *s) {
  const char *t = s->rootfs_type;
  /* nodev on the container's root (and below, for a bind): with CAP_MKNOD a rootful
   * container could otherwise create a node for a host disk and open it. */
  if (!strcmp(t, "overlay")) {
    if (mount("overlay", s->rootfs, "overlay", MS_NODEV, s->rootfs_data) < 0)
      die("monitor: cannot mount the overlay rootfs: %s", strerror(errno));
  } else if (!strcmp(t, "bind")) {
    if (mount(s->rootfs_source, s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0 ||
        add_mount_attrs(s->rootfs, MS_NODEV, 1) < 0)
      die("monitor: cannot bind the rootfs: %s", strerror(errno));
  } else if (!strcmp(t, "fuse-overlayfs")) {
    /* In the foreground (-f), as our child that dies with us: daemonized, it would outlive a
     * killed monitor, and keep its mount namespace and the mount alive with it. */
    /* Its stderr goes to a memfd, not to the container's: what it says is for a failure to
     * mount (the monitor's one line), and its warnings ("unknown argument ignored: lazytime",
     * fuse3 3.14) must not land in the container's output. */
    int err_fd = (int)syscall(SYS_memfd_create, "fuse-overlayfs-stderr", MFD_CLOEXEC);
    pid_t monitor = getpid(), pid = fork();
    if (pid == 0) {
      if (die_with_monitor_child(monitor) < 0) _exit(125);
      /* Daemonized it let go of our stdio; in the foreground it must too, so that nobody
       * waiting for the container's output waits for fuse-overlayfs. */
      int null = open("/dev/null", O_RDWR | O_CLOEXEC);
      if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(err_fd >= 0 ? err_fd : null, 2) < 0) _exit(125);
      execl(s->rootfs_source, s->rootfs_source, "-f", "-o", s->rootfs_data, s->rootfs, (char *)NULL);
      fprintf(stderr, "skiff-helper: cannot run %s: %s\n", s->rootfs_source, strerror(errno));
      _exit(127);
    }
    if (pid < 0) die("monitor: fork: %s", strerror(errno));
    wait_for_fuse_mount(pid, s->rootfs, err_fd);
    if (err_fd >= 0) close(err_fd);
    if (add_mount_attrs(s->rootfs, MS_NODEV, 0) < 0)
      die("monitor: cannot make the fuse-overlayfs rootfs nodev: %s", strerror(errno));
  } else {
    die("monitor: unknown rootfs mount type %s", t);
  }
}

/* Atomically (rename). durable: fsync first; not for a --rm container (cleanup set), whose files
 * go when it ends: both writes are on `run --rm`'s critical path (the pid file before "ok", the
 * exit file before the monitor exits) and each fsync waited for the filesystem's journal. */
static void write_small_file(const char *path, const char *text, int durable) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) {
  }
  if (durable) fsync(fd);
  close(fd);
  rename(tmp, path);
}

/* Copy what FROM has to TO (-1: nowhere). STREAM 1 or 2 is the container's output: it also
 * goes to the log and to attach clients. */
static int copy_once(int from, int to, int stream) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && errno == EAGAIN) return 0;
  if (n <= 0) {
    log_stream_end(stream);
    return -1;
  }
  if (stream) {
    log_output(stream, buf, n);
    attach_broadcast(stream, buf, n);
  }
  for (ssize_t off = 0; to >= 0 && off < n;) {
    ssize_t w = write(to, buf + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) { /* a non-blocking description someone shares with us */
        struct pollfd p = {to, POLLOUT, 0};
        poll(&p, 1, -1);
        continue;
      }
      return -1;
    }
    off += w;
  }
  return 0;
}

/*
 * Without -t, a terminal on our fds 0/1/2 is not handed to the container: each such fd gets a
 * pipe and we copy (Docker gives the container pipes too). Pipes and files pass through
 * unchanged, so the usual cases cost three isatty() calls. stdin is relayed only with -i.
 */
static void setup_stdio_relay(const struct spec *s, struct stdio_relay *r) {
  for (int i = 0; i < 3; i++) r->child_fd[i] = r->out_from[i] = r->out_to[i] = -1;
  r->stdin_from = r->stdin_to = -1;
  if (s->tty) return;
  /* Output passes through us when it is logged or nobody is attached (attach clients read it). */
  int capture = s->log_path || !s->attached;
  for (int fd = 0; fd < 3; fd++) {
    if (fd == 0 ? !s->keep_stdin || (s->attached && !isatty(0)) : !capture && !isatty(fd)) continue;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) die("monitor: pipe: %s", strerror(errno));
    if (fd == 0) {
      /* Detached with -i: stdin stays open for attach clients, who write through us. */
      r->child_fd[0] = p[0];
      r->stdin_from = s->attached ? 0 : -1;
      r->stdin_to = p[1];
    } else {
      r->child_fd[fd] = p[1];
      r->out_from[fd] = p[0];
      r->out_to[fd] = s->attached ? fd : -1;
    }
  }
}

/* After the clone: the container's ends are its own now. */
static void close_child_stdio_ends(struct stdio_relay *r) {
  for (int i = 0; i < 3; i++)
    if (r->child_fd[i] >= 0) close(r->child_fd[i]);
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* The spec of this monitor, for letting go of the user from inside supervise(). */
static struct spec *the_spec;
static void report_ready(const struct spec *s, const char *text);

/*
 * The user typed the detach keys: give the terminal back (as it was before user_terminal_make_raw), stop
 * using the user's stdio (the output still goes to the log and attach clients), tell skiff
 * (`detached` on the report fd, which is then closed: skiff exits 0 and the container runs on),
 * and from now on act as a detached monitor, --rm cleanup of the whole container included.
 */
static void detach_from_user(void) {
  struct spec *s = the_spec;
  user_terminal_restore();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    close(null);
  }
  report_ready(s, "detached\n");
  if (s->ready_fd >= 0) close(s->ready_fd);
  s->ready_fd = -1;
  s->attached = 0;
  if (s->ndetach_cleanup) {
    memcpy(s->cleanup, s->detach_cleanup, sizeof s->cleanup);
    s->ncleanup = s->ndetach_cleanup;
  }
}

/* The user's terminal to the pty, without the detach keys: -1 at EOF or error, 1 when they were typed. */
static int forward_terminal_input(int master) {
  unsigned char in[4096], out[4096 + sizeof ((struct detach_keys *)0)->keys];
  ssize_t n = read(0, in, sizeof in);
  if (n < 0 && errno == EAGAIN) return 0;
  if (n <= 0) return -1;
  int detach = 0;
  size_t len = the_spec->detach.n ? detach_keys_filter(&the_spec->detach, in, (size_t)n, out, &detach) : (size_t)n;
  const unsigned char *from = the_spec->detach.n ? out : in;
  for (size_t off = 0; off < len;) {
    ssize_t w = write(master, from + off, len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    off += (size_t)w;
  }
  return detach;
}

/*
 * `network connect` of a running container that has no DNS server (dns_connect.c): its sockets,
 * made in the container's namespace, and the configuration skiff chose. The configuration
 * becomes the spec's, so every later --restart run has the server too (its resolv.conf, which
 * skiff rewrote to name 127.0.0.11, stays).
 */
static int dns_connect(const unsigned char *data, size_t n, int *fds, int nfds, char *msg, size_t len) {
  struct dns_config c;
  int rc = -1;
  if (the_spec->dns.names || dns_server_running()) snprintf(msg, len, "the container has a DNS server already");
  else if (dns_config_from_message(&c, (const char *)data, n, msg, len) == 0) {
    if (nfds != (dns_wants_container_upstream(&c) ? 4 : 2)) {
      snprintf(msg, len, "dns-connect: %d sockets, not what the configuration needs", nfds);
      free((char *)c.names);
    } else {
      /* ours to poll: never one that could block the loop */
      for (int i = 0; i < nfds; i++) fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
      the_spec->dns = c;
      dns_server_start(&the_spec->dns, fds, nfds);
      return 0;
    }
  }
  for (int i = 0; i < nfds; i++) close(fds[i]);
  return rc;
}

/* `network connect`/`disconnect` of the running container: its later --restart runs attach the
 * user networks it is on now, as Docker keeps every connected network across restarts. */
static int net_message(const unsigned char *data, size_t n, char *msg, size_t len) {
  return net_attach_message(&the_spec->net, (const char *)data, n, msg, len);
}

/*
 * `network connect` between two runs of a container with no DNS server: its configuration alone
 * (tellMonitorDns), which becomes the spec's, so the next run's init makes its sockets and the
 * run has the server, as a run started with it (there is no namespace to make them in now).
 */
static int dns_configure(const unsigned char *data, size_t n, int *fds, int nfds, char *msg, size_t len) {
  struct dns_config c;
  for (int i = 0; i < nfds; i++) close(fds[i]);
  if (the_spec->dns.names) snprintf(msg, len, "the container has a DNS server already");
  else if (nfds) snprintf(msg, len, "dns-connect: the container is between two runs");
  else if (dns_config_from_message(&c, (const char *)data, n, msg, len) == 0) {
    the_spec->dns = c;
    return 0;
  }
  return -1;
}

/* Between two runs (a --restart back-off) the attach socket still takes net frames and a DNS
 * configuration: there is no container for stdin, signals or a DNS server then. */
static int backoff_attach_fill(struct pollfd *p) {
  return attach_pollfds(p, -1);
}
static void backoff_attach_handle(const struct pollfd *p, int n) {
  struct attach_target target = {-1, -1, 0, dns_configure, net_message};
  attach_handle(p, n, &target);
}
_Static_assert(ATTACH_POLLFDS <= RESTART_WAIT_FDS, "the back-off polls the attach socket");
static const struct restart_wait_hook backoff_attach = {backoff_attach_fill, backoff_attach_handle};

/*
 * Wait for the container, forwarding signals and shuttling bytes: through the pty with -t,
 * through the stdio relay's pipes for terminals without it. Output is drained to EOF before
 * this returns (the container's processes all die with its init, which closes the pipes).
 * Returns the raw wait status.
 */
static int supervise(pid_t child, int master, int sigfd, int forward_stdin, int attached, struct stdio_relay *r) {
  int status = 0, exited = 0, stdin_open = master >= 0 && forward_stdin && attached;
  /* Read the terminal only when the pipe has room: a blocking write into a pipe the
   * container does not read would stop the output relays too. */
  int stdin_pipe_ready = 0;
  for (;;) {
    int outputs_open = r->out_from[1] >= 0 || r->out_from[2] >= 0;
    if (exited && master < 0 && !outputs_open) break;
    if (exited) close_fd(&r->stdin_to);
    int relay_stdin = r->stdin_to >= 0 && r->stdin_from >= 0;
    struct pollfd p[6 + ATTACH_POLLFDS + DNS_POLLFDS] = {
        {sigfd, POLLIN, 0},
        {master, POLLIN, 0},
        {stdin_open || (relay_stdin && stdin_pipe_ready) ? 0 : -1, POLLIN, 0},
        {relay_stdin && !stdin_pipe_ready ? r->stdin_to : -1, POLLOUT, 0},
        {r->out_from[1], POLLIN, 0},
        {r->out_from[2], POLLIN, 0},
    };
    struct attach_target target = {forward_stdin ? (master >= 0 ? master : r->stdin_to) : -1, master, exited ? 0 : child,
                                   exited ? NULL : dns_connect, net_message};
    int nattach = attach_pollfds(p + 6, target.stdin_fd);
    int ndns = dns_pollfds(p + 6 + nattach);
    if (poll(p, 6 + nattach + ndns, dns_poll_timeout()) < 0) {
      if (errno == EINTR) continue;
      die("monitor: poll: %s", strerror(errno));
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          /* Reap everything (fuse-overlayfs is our child too); keep only the container's status. */
          pid_t rc;
          int st;
          while ((rc = waitpid(-1, &st, WNOHANG)) > 0)
            if (rc == child) {
              status = st;
              exited = 1;
            }
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
      if (copy_once(master, attached ? 1 : -1, 1) < 0) close_fd(&master);
    }
    if (stdin_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      int got = master < 0 ? -1 : forward_terminal_input(master);
      if (got < 0) stdin_open = 0;
      if (got == 1) {
        detach_from_user();
        stdin_open = 0;
        attached = 0;
      }
    }
    if (relay_stdin) {
      if (p[3].revents & POLLERR) close_fd(&r->stdin_to); /* the container closed its stdin */
      else if (p[3].revents & POLLOUT) stdin_pipe_ready = 1;
      else if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
        /* At most PIPE_BUF bytes: a pipe that polls writable takes that much without blocking. */
        char buf[PIPE_BUF];
        ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0) close_fd(&r->stdin_to); /* EOF on the terminal: the container sees EOF too */
        else if (write(r->stdin_to, buf, n) < 0) close_fd(&r->stdin_to);
        stdin_pipe_ready = 0;
      }
    }
    for (int fd = 1; fd <= 2; fd++)
      if (r->out_from[fd] >= 0 && (p[3 + fd].revents & (POLLIN | POLLHUP | POLLERR)))
        if (copy_once(r->out_from[fd], r->out_to[fd], fd) < 0) close_fd(&r->out_from[fd]);
    attach_handle(p + 6, nattach, &target);
    dns_handle(p + 6 + nattach, ndns);
  }
  return status;
}

/*
 * PATH moved in one rename into a fresh staging dir under ROOT (the store's tmp/), flock'd
 * through *lockfd while it is removed there: skiff's pruneStaging (layer-store.ts) sweeps such
 * dirs only once no lock is held, so a monitor killed half way leaves nothing behind for long.
 * Why: a skiff that opens a file in the container's directory meanwhile (a `start` creating
 * its op.lock) then finds nothing, instead of adding an entry to a directory half removed
 * (the removal then fails with ENOTEMPTY; the same race engine/remove.ts avoids). NULL when
 * the move cannot be made (another filesystem, a pruner took the dir): PATH is removed where
 * it is, as before.
 */
static char *move_out_for_removal(const char *root, const char *path, int *lockfd) {
  if (mkdir(root, 0700) < 0 && errno != EEXIST) return NULL;
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  size_t n = strlen(root) + strlen(base) + 40;
  char *dir = malloc(n), *dst = malloc(n);
  if (!dir || !dst) { free(dir); free(dst); return NULL; }
  snprintf(dir, n, "%s/removed-XXXXXX", root);
  int fd = -1;
  if (!mkdtemp(dir)) goto fail;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) goto fail_rmdir;
  snprintf(dst, n, "%s/%s", dir, base);
  if (rename(path, dst) < 0) goto fail_rmdir;
  free(dst);
  *lockfd = fd;
  return dir;
fail_rmdir:
  if (fd >= 0) close(fd);
  rmdir(dir);
fail:
  free(dir);
  free(dst);
  return NULL;
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
  int staged_fd[16];
  argv[0] = "rm";
  for (int i = 0; i < s->ncleanup; i++) {
    staged_fd[i] = -1;
    char *staged = s->cleanup_staging ? move_out_for_removal(s->cleanup_staging, s->cleanup[i], &staged_fd[i]) : NULL;
    argv[i + 1] = staged ? staged : s->cleanup[i];
  }
  argv[s->ncleanup + 1] = NULL;
  mode_rm(s->ncleanup + 1, argv);
  for (int i = 0; i < s->ncleanup; i++) if (staged_fd[i] >= 0) close(staged_fd[i]);
  if (lock >= 0) close(lock);
}

/* The report fd stays open until we exit: its EOF tells skiff that the monitor is gone. */
static void report_ready(const struct spec *s, const char *text) {
  if (s->ready_fd < 0) return;
  if (write(s->ready_fd, text, strlen(text)) < 0) {
  }
}

/*
 * One run of the container: clone its init, wait for its exec, supervise it to its end. The
 * first run reports on the ready fd; a restart (restart.c) reports a failure to start on
 * stderr (the container log when detached). *started: whether the command was exec'd.
 * Returns the exit code (125/126/127 when it never started).
 */
static int run_container(struct spec *s, int sigfd, const sigset_t *oldmask, int first, int *started) {
  int errpipe[2], alive[2], sock[2] = {-1, -1}, go[2] = {-1, -1}, dns_sock[2] = {-1, -1}, handoff[2] = {-1, -1};
  if (pipe2(errpipe, O_CLOEXEC) < 0 || pipe2(alive, O_CLOEXEC) < 0) die("monitor: pipe: %s", strerror(errno));
  if (s->umnet.argc && pipe2(go, O_CLOEXEC) < 0) die("monitor: pipe: %s", strerror(errno));
  struct stdio_relay relay;
  setup_stdio_relay(s, &relay);
  if (s->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0)
    die("monitor: socketpair: %s", strerror(errno));
  if (s->dns.names && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dns_sock) < 0)
    die("monitor: socketpair: %s", strerror(errno));
  /* the init sends its bind notifications' listener to the forwarder (port_handoff.c) */
  if (s->ports.handoff && s->ports.n && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, handoff) < 0)
    die("monitor: socketpair: %s", strerror(errno));

  int userns_sync[2] = {-1, -1};
  if (nested_userns_clone_flag(&s->userns) && pipe2(userns_sync, O_CLOEXEC) < 0) die("monitor: pipe: %s", strerror(errno));
  /* The network helper starts first, on a namespace made for it that the init joins: its start-up
   * then overlaps the init's. Not with a nested user namespace (keep-id), which must own it. */
  struct usermode_net_proc net = {-1, -1, -1, -1};
  char net_err[600] = "";
  int early_netns = -1, ns_flags = s->ns_flags;
  if (s->umnet.argc && (ns_flags & CLONE_NEWNET) && !nested_userns_clone_flag(&s->userns) &&
      (early_netns = usermode_net_new_netns(net_err, sizeof net_err)) >= 0) {
    ns_flags &= ~CLONE_NEWNET;
    usermode_net_spawn(&s->umnet, early_netns, oldmask, &net, net_err, sizeof net_err); /* failed: net_err says why */
  }
  pid_t child = syscall(SYS_clone, CLONE_NEWNS | ns_flags | nested_userns_clone_flag(&s->userns) | SIGCHLD, 0, 0, 0, 0);
  if (child < 0) die("monitor: cannot create the container's namespaces: %s", strerror(errno));
  if (child == 0) {
    close(errpipe[0]);
    close(alive[1]);
    child_err_fd = errpipe[1];
    if (early_netns >= 0) {
      if (setns(early_netns, CLONE_NEWNET) < 0) child_fail(125, "join the network namespace: %s", strerror(errno));
      close(early_netns);
    }
    char umsg[512];
    if (userns_sync[1] >= 0) close(userns_sync[1]);
    if (nested_userns_enter(&s->userns, userns_sync[0], s->rootfs, umsg, sizeof umsg) < 0) child_fail(125, "%s", umsg);
    if (sock[0] >= 0) close(sock[0]);
    if (go[1] >= 0) close(go[1]);
    net_go_fd = go[0];
    if (dns_sock[0] >= 0) close(dns_sock[0]);
    dns_sock_fd = dns_sock[1];
    if (handoff[0] >= 0) close(handoff[0]);
    s->process.bind_notify_sock = handoff[1];
    container_init(s, sock[1], alive[0], &relay, oldmask);
  }
  /* The network comes up while the init mounts its root; the command waits for it. Its
   * namespace is opened now, while the init still has the monitor's credentials. */
  int netns = early_netns >= 0 || net_err[0] ? early_netns
              : s->umnet.argc || s->ports.n ? usermode_net_open_netns(child, net_err, sizeof net_err) : -1;
  if (userns_sync[0] >= 0) {
    char umsg[512];
    close(userns_sync[0]);
    /* a child left waiting reads EOF and fails with the monitor's words in errpipe: say them */
    if (nested_userns_map(&s->userns, child, userns_sync[1], umsg, sizeof umsg) < 0) {
      close(userns_sync[1]);
      fprintf(stderr, "skiff: %s\n", umsg);
    }
  }
  if (go[0] >= 0) close(go[0]);
  /* The embedded DNS server's sockets, made by the init in its namespace as soon as its loopback
   * is up (after the user namespace map above, which the init waits for). None when the init
   * failed first: child_wait_exec says why. */
  if (dns_sock[0] >= 0) {
    close(dns_sock[1]);
    int fds[DNS_SOCKETS], n = fd_recv(dns_sock[0], fds, DNS_SOCKETS);
    close(dns_sock[0]);
    dns_server_start(&s->dns, fds, n);
  }
  /* the published ports' forwarder first: it keeps its own copy of NETNS, the helper takes it */
  struct port_forward_proc fwd = {-1, -1};
  int failed = net_err[0] || ((s->umnet.argc || s->ports.n) && netns < 0);
  if (handoff[1] >= 0) close(handoff[1]);
  if (!failed) failed = port_forward_start(&s->ports, netns, handoff[0], getpid(), &fwd, net_err, sizeof net_err) < 0;
  if (handoff[0] >= 0) close(handoff[0]);
  if (!failed && s->umnet.argc && early_netns >= 0) {
    failed = usermode_net_wait_ready(&s->umnet, &net, net_err, sizeof net_err) < 0;
  } else if (!failed && s->umnet.argc) {
    failed = usermode_net_start(&s->umnet, netns, oldmask, &net, net_err, sizeof net_err) < 0;
    netns = -1;
  }
  if (failed) usermode_net_stop(&net, &s->umnet);
  if (netns >= 0) close(netns);
  if (failed) kill(child, SIGKILL);
  else if (go[1] >= 0 && write(go[1], "g", 1) < 0) {
  }
  if (go[1] >= 0) close(go[1]);
  /* alive[1] stays open (close-on-exec) until this run ends: see die_with_monitor. */
  close(alive[0]);
  close(errpipe[1]);
  close_child_stdio_ends(&relay);
  int master = -1;
  if (s->tty) {
    close(sock[1]);
    master = recv_fd(sock[0]);
    close(sock[0]);
  }
  /* The container never started: reported like Docker, and exit 125/126/127. */
  int code;
  if (net_err[0]) {
    /* the network helper failed and the init was killed: say why, as child_wait_exec would */
    close(errpipe[0]);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
    char line[700];
    snprintf(line, sizeof line, "err 125 %s\n", net_err);
    if (first && s->ready_fd >= 0) report_ready(s, line);
    else fprintf(stderr, "skiff: %s\n", net_err);
    code = 125;
  } else {
    code = child_wait_exec(errpipe[0], child, first ? s->ready_fd : -1);
  }
  *started = code == 0;
  if (code) {
    dns_server_stop();
    port_forward_stop(&fwd);
    usermode_net_stop(&net, &s->umnet);
    close(alive[1]);
    if (master >= 0) close(master);
    return code;
  }
  /* the run's start before its PID: whoever sees the new PID sees the new StartedAt too */
  restart_note_started(&s->restart);
  if (s->pid_file) {
    char buf[32];
    snprintf(buf, sizeof buf, "%d\n", (int)child);
    write_small_file(s->pid_file, buf, s->ncleanup == 0);
  }
  /* a runner per run: it probes this run's init, and a restart's health starts over (health.c) */
  pid_t health_runner = s->health.spec ? start_health_runner(&s->health, child) : -1;
  if (first) {
    report_ready(s, "ok\n");
    if (master >= 0 && s->keep_stdin) {
      user_terminal_make_raw();
    }
  }
  int status = supervise(child, master, sigfd, s->keep_stdin, s->attached, &relay);
  usermode_net_stop(&net, &s->umnet); /* first: its teardown then overlaps the rest */
  dns_server_stop();
  port_forward_stop(&fwd);
  /* still our unreaped child (supervise reaps any child that exits): stop it */
  if (health_runner > 0 && waitpid(health_runner, NULL, WNOHANG) == 0) {
    kill(health_runner, SIGKILL);
    while (waitpid(health_runner, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  close(alive[1]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The published ports are bound once, for every run (port_forward.c): a port taken since skiff
 * probed it fails the start with 125 and the "publish ..." report, which Node words as its probe
 * would have and takes as a start that never happened (start.ts). 0 or -1. */
static int publish_ports(struct spec *s) {
  char msg[600], line[700];
  if (port_forward_bind(&s->ports, msg, sizeof msg) == 0) return 0;
  snprintf(line, sizeof line, "err 125 %s\n", msg);
  if (s->ready_fd >= 0) report_ready(s, line);
  else fprintf(stderr, "skiff: %s\n", msg);
  return -1;
}

static void write_exit_file(const struct spec *s, int code) {
  if (!s->exit_file) return;
  char buf[32];
  snprintf(buf, sizeof buf, "%d\n", code);
  write_small_file(s->exit_file, buf, s->ncleanup == 0);
}

int mode_monitor(int argc, char **argv) {
  if (argc != 2) die("usage: monitor SPECFILE");
  mark_inherited_fds_cloexec();
  static struct spec s;
  parse_spec(argv[1], &s);
  the_spec = &s;
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
  process_opts_join_pid(&s.proc);
  net_attach_hold_users_lock(&s.net);
  if (s.log_path) log_open(s.log_format, s.log_path, s.log_max_size, s.log_max_files);
  if (s.attach_socket) attach_listen(s.attach_socket);

  /* Signals are read through a signalfd; the child restores the mask before exec. */
  sigset_t mask, oldmask;
  sigemptyset(&mask);
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&mask, forwarded[i]);
  sigprocmask(SIG_BLOCK, &mask, &oldmask);
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sigfd < 0) die("monitor: signalfd: %s", strerror(errno));

  int code = 125, started;
  if (publish_ports(&s) < 0) {
    write_exit_file(&s, code);
  } else {
    for (int first = 1;; first = 0) {
      code = run_container(&s, sigfd, &oldmask, first, &started);
      write_exit_file(&s, code);
      /* A command that cannot start will not start next time either (the rootfs stays as it was). */
      if (!started) break;
      long delay = restart_next_delay(&s.restart, code);
      if (delay < 0 || restart_wait(&s.restart, sigfd, delay, &backoff_attach) < 0) break;
    }
  }
  user_terminal_restore();
  attach_close(code);
  umount2(s.rootfs, MNT_DETACH);
  cleanup_paths(&s);
  return code;
}
