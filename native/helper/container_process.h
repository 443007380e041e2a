/*
 * A process of the container's own (container_process.c): the spec records that describe it and,
 * in the forked child, its credentials, seccomp filter, signal dispositions and the exec of its
 * command with Docker's exit codes. One owner for the container's init (monitor.c) and for
 * `exec` (exec.c), so that a process exec'd into a container is set up exactly as its init was.
 */
#ifndef SKIFF_CONTAINER_PROCESS_H
#define SKIFF_CONTAINER_PROCESS_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#define CONTAINER_PROCESS_MAX_LIST 1024
#define SPEC_MAX_FIELDS 64

struct container_process {
  const char *cwd; /* "/" unless the spec says */
  uid_t uid;
  gid_t gid;
  gid_t groups[64];
  int ngroups;
  char *env[CONTAINER_PROCESS_MAX_LIST]; /* NULL-terminated by container_process_finish */
  int nenv;
  char *args[CONTAINER_PROCESS_MAX_LIST]; /* the same */
  int nargs;
  uint64_t caps;       /* the bounding set; also permitted and effective for root */
  const char *seccomp; /* BPF program as hex; NULL = unconfined */
  int no_new_privs;
  int bind_notify_sock; /* the init with handed-off ports: where its bind notifications' listener goes (port_handoff.c); -1 */
};

/* A spec file (native/PROTOCOL.md): records `KEY \0 N \0 F1 \0 ... FN \0`. WHO ("monitor",
 * "exec") starts every error message. */
struct spec_reader {
  char *p, *end;
  const char *who;
};
void spec_read_file(struct spec_reader *r, const char *path, const char *who);
/* The next record: 1 with its KEY and NF fields in F (room for SPEC_MAX_FIELDS), 0 after the
 * last. Dies on a malformed record. */
int spec_next_record(struct spec_reader *r, const char **key, char **f, int *nf);

/* P must be zero already (static storage): its arrays are tens of KB, and clearing them would
 * make every page resident for the monitor's whole life. */
void container_process_init(struct container_process *p);
/* The process's spec keys (cwd user groups env arg caps seccomp no-new-privs); 1 when KEY was
 * one of them. Dies with WHO's prefix on a bad value. */
int container_process_parse_key(struct container_process *p, const char *who, const char *key, int nf, char **f);
void container_process_finish(struct container_process *p);

/* Failures in the forked child travel to its parent on a close-on-exec pipe (child_err_fd) as
 * "CODE message"; the child then exits with CODE. */
extern int child_err_fd;
void child_fail(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* The parent's side, after closing its copy of child_err_fd's pipe end (ERR_READ is the other):
 * 0 once the child has exec'd (the pipe closed empty); or, when it failed, the child reaped,
 * its code returned and "err CODE message" reported on REPORT_FD (the ready fd, native/
 * PROTOCOL.md), or "skiff: message" on stderr when REPORT_FD is -1. */
int child_wait_exec(int err_read, pid_t child, int report_fd);

/* In the child, after its last mount: seccomp filter, bounding set, groups, IDs, capabilities
 * and no_new_privs, in runc's order. Fails through child_fail. */
void container_process_set_identity(const struct container_process *p);

/* Every signal disposition back to the default and the mask to OLDMASK, then execve the
 * command, looked up in the PATH of its environment: 127 when it is not found, 126 when it
 * cannot be executed (Docker's codes). Never returns. */
void container_process_exec(const struct container_process *p, const sigset_t *oldmask) __attribute__((noreturn));

#endif
