/* Per-container process settings from the run flags (process_opts.c): --ulimit,
 * --oom-score-adj, --ipc/--pid/--network container:NAME. */
#ifndef SKIFF_PROCESS_OPTS_H
#define SKIFF_PROCESS_OPTS_H

#include <stddef.h>
#include <sys/resource.h>

#define MAX_RLIMITS 16

struct process_opts {
  struct { int resource; const char *name; rlim_t soft, hard; } rlimits[MAX_RLIMITS];
  int nrlimits;
  const char *oom_score_adj; /* decimal, or NULL to inherit */
  const char *join_ipc;      /* /proc/PID/ns/ipc of the container whose IPC namespace we share */
  const char *join_pid;      /* /proc/PID/ns/pid ... */
  const char *join_net;      /* /proc/PID/ns/net ... (--network container:NAME) */
};

/* The spec keys rlimit, oom-score-adj and join-ns; 1 when KEY was one of them. */
int process_opts_parse_key(struct process_opts *o, const char *key, int nf, char **f);

/* In the monitor, before the container is cloned: a PID namespace is joined for children only. */
void process_opts_join_pid(const struct process_opts *o);

/* In the container init, before its mounts (the mqueue mount belongs to the IPC namespace). On
 * failure: the errno-style message in MSG and -1. */
int process_opts_join_ipc(const struct process_opts *o, char *msg, size_t len);
/* Join the network namespace of another container (in the container's init, before its mounts:
 * sysfs needs the network namespace it describes); 0, or -1 with the reason in msg. */
int process_opts_join_net(const struct process_opts *o, char *msg, size_t len);

/* In the container init, before credentials change: rlimits and the OOM score. -1 with MSG. */
int process_opts_apply(const struct process_opts *o, char *msg, size_t len);

#endif
