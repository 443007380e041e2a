/* skiff-helper: shared declarations. See native/PROTOCOL.md for the contract with Node. */
#ifndef SKIFF_HELPER_H
#define SKIFF_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Print "skiff-helper: <msg>" to stderr (one line). */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A map as Node gives it ("C:H:N,C:H:N") and the setuid tool that applies it. */
struct id_map {
  const char *spec;
  const char *tool;
};

/* Run newuidmap/newgidmap PID C H N ... ; returns its exit status (main.c). */
int run_map_tool(const char *tool, pid_t pid, const char *spec);

/* Re-execute this program from a sealed memfd copy unless already running from one, so that a
 * container cannot reach the helper's file on the host (sealed_exe.c). */
void run_from_sealed_copy(char **argv);

/* Join (creating it first if needed) the pause process's user namespace recorded in
 * PIDFILE; 0 on success, -1 when the caller should create a namespace itself (pause.c). */
int join_pause(const char *pidfile, struct id_map *uid, struct id_map *gid);

/* malloc/realloc or exit with one "out of memory" line (storage.c). */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);

/* write(2) all of P or exit with "<mode>: PATH: <error>" (storage.c). */
void write_all(int fd, const void *p, size_t n, const char *path);

/* Copy the entries of directory SFD into directory DFD with owners, modes, xattrs, times and
 * hard links (storage.c); exits with one line on failure. SPATH names SFD in messages. */
void copy_dir_contents(int sfd, int dfd, const char *spath);

/* The soft RLIMIT_NOFILE lifted to the hard one: tree walks hold fds per level (storage.c). */
void raise_nofile(void);

/* Modes. Each returns the process exit code. argv[0] is the mode name. */
int mode_apply_tar(int argc, char **argv);     /* untar.c */
int mode_rm(int argc, char **argv);            /* storage.c */
int mode_copy(int argc, char **argv);          /* storage.c */
int mode_probe_overlay(int argc, char **argv); /* main.c */
int mode_monitor(int argc, char **argv);       /* monitor.c */
int mode_exec(int argc, char **argv);          /* exec.c */

/* Healthchecks (health.c): the monitor's `health SPEC LOG INTERVAL_MS TIMEOUT_MS` record. */
struct health_config {
  const char *spec, *log;
  long interval_ms, timeout_ms;
};
void parse_health_config(char **fields, struct health_config *h);
/* Fork the runner that probes the container every interval, its health log started over (a new
 * run's health starts again, as Docker's); returns the runner's PID (-1: none) at once. */
pid_t start_health_runner(const struct health_config *h, pid_t container);

/* Detach keys (detach.c): the sequence, and how much of it was typed so far. */
struct detach_keys {
  unsigned char keys[16];
  int n, matched; /* n 0: none */
};
void detach_keys_parse(struct detach_keys *d, const char *hex);
/* Copy IN to OUT (room for N + 16 bytes) without the detach sequence, holding back a possible
 * start of it; *detach = 1 once it is complete (the rest of IN is dropped). Returns OUT's length. */
size_t detach_keys_filter(struct detach_keys *d, const unsigned char *in, size_t n, unsigned char *out, int *detach);

/* Read the small file PATH into BUF (at most LEN - 1 bytes), NUL-terminated: its length, or -1
 * when it cannot be opened or is empty. exec.c. */
ssize_t read_small_file(const char *path, char *buf, size_t len);

/* In a child the monitor just forked: have the kernel kill it when the monitor dies, and 0 when
 * the monitor still lives (-1: it died first, and the child was reparented). exec.c. */
int die_with_monitor_child(pid_t monitor);

/* Field 22 of /proc/PID/stat, the start time skiff records next to each PID (exec.c); 0, or -1
 * when there is no such process or it is a zombie (dead, not reaped yet). */
int process_start_time(pid_t pid, char *out, size_t outlen);
int mode_tar_out(int argc, char **argv);       /* copy_in_out.c */
int mode_tar_in(int argc, char **argv);        /* copy_in_out.c */
int mode_stat_path(int argc, char **argv);     /* copy_in_out.c */
int mode_changes(int argc, char **argv);       /* copy_in_out.c */

/* The user's terminal on fd 0 raw while a pty is relayed to it, restored at exit too
 * (user_terminal.c); both do nothing where fd 0 is no terminal. */
void user_terminal_make_raw(void);
void user_terminal_restore(void);

/* Install a seccomp filter given as hex of struct sock_filter[] (seccomp.c); 0 or -1/errno. */
int install_seccomp(const char *hex);

/* The container log (logfile.c): FORMAT json-file or k8s-file; MAX_SIZE <= 0 = no rotation. */
void log_open(const char *format, const char *path, long long max_size, int max_files);
/* Bytes the container wrote on STREAM (1 stdout, 2 stderr); log_stream_end when it closed. */
void log_output(int stream, const char *buf, size_t n);
void log_stream_end(int stream);

/* File descriptors over a unix socket, SCM_RIGHTS (fd_pass.c). fd_send: N (1..FD_PASS_MAX) fds
 * with the one byte BYTE, 0 or -1. fd_recv: one message's fds into FDS (at most MAX; close-on-exec, the
 * rest closed): how many, or -1 at EOF or error. fd_take: the same from a message already received. */
#define FD_PASS_MAX 4
struct msghdr;
int fd_send(int sock, unsigned char byte, const int *fds, int n);
int fd_recv(int sock, int *fds, int max);
int fd_take(struct msghdr *msg, int *fds, int max);

/* The attach socket (attach.c). What attach clients' frames act on: */
struct pollfd;
struct attach_target {
  int stdin_fd; /* the container's stdin (pipe or pty master), -1 when it has none open */
  int master;   /* the pty master with -t, else -1 */
  pid_t child;  /* the container's init, for signal frames */
  /* dns frames (`dns-connect`): start the embedded DNS server on FDS (taken over) with the
   * configuration in DATA; 0, or -1 with one line in MSG. NULL: refused. */
  int (*dns_connect)(const unsigned char *data, size_t n, int *fds, int nfds, char *msg, size_t len);
  /* net frames (`network connect`/`disconnect`): the user networks of later runs change as DATA
   * says (net_attach_message); 0, or -1 with one line in MSG. */
  int (*net_message)(const unsigned char *data, size_t n, char *msg, size_t len);
};
#define ATTACH_POLLFDS 18 /* the most pollfds attach_pollfds fills */
void attach_listen(const char *path);
int attach_pollfds(struct pollfd *p, int stdin_fd);
void attach_handle(const struct pollfd *p, int n, const struct attach_target *t);
void attach_broadcast(int stream, const char *buf, size_t n);
void attach_close(int exit_code);

#endif
