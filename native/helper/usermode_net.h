/* The container's user-mode network helper, pasta or slirp4netns (usermode_net.c). Node computes
 * its whole command line (src/network/usermode.ts); the monitor starts it on each new container's
 * network namespace, waits until it reports ready, and stops it when the container ends. */
#ifndef SKIFF_USERMODE_NET_H
#define SKIFF_USERMODE_NET_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#define NET_MAX_ARGS 256
#define NET_MAX_REQUESTS 128

struct usermode_net {
  char *argv[NET_MAX_ARGS + 1]; /* argc 0: no helper (not the user-mode network) */
  int argc;
  const char *log;              /* the helper's stdout and stderr */
  const char *pid_file;         /* "PID STARTTIME": lets skiff kill a helper whose monitor was killed */
  const char *api_socket;       /* slirp4netns: where to send the port requests once it is ready */
  const char *requests[NET_MAX_REQUESTS];
  int nrequests;
};

/* A running helper: its pid, a pidfd (signals never hit a reused PID), and the write end of
 * the pipe whose EOF tells it that the monitor is gone (slirp4netns's --exit-fd). */
struct usermode_net_proc {
  pid_t pid;
  int pidfd, exit_w;
  int ready_r; /* until it is ready: the pipe it reports readiness on */
};

/* The spec keys net-helper, net-log, net-pid-file, net-api-socket, net-api-request; 1 when KEY was one. */
int usermode_net_parse_key(struct usermode_net *n, const char *key, int nf, char **f);

/* Open the network namespace of CHILD (the container's init, just cloned) for usermode_net_start.
 * Before the init changes its credentials (--userns=keep-id becomes another user in its own user
 * namespace, and the monitor may then no longer open its /proc entries): right after the clone. */
int usermode_net_open_netns(pid_t child, char *msg, size_t len);

/* A new network namespace, owned by our user namespace, as an fd (close-on-exec); -1 with one
 * line in msg. For usermode_net_spawn before the container's clone: the helper then starts
 * (15-30 ms) while the monitor and the init prepare the container, and the init joins the
 * namespace (setns) instead of making its own. */
int usermode_net_new_netns(char *msg, size_t len);

/* Fork and exec the helper on NETNS (not closed here) without waiting for it; then
 * usermode_net_wait_ready, or usermode_net_stop. 0, or -1 with one line in msg. */
int usermode_net_spawn(const struct usermode_net *n, int netns, const sigset_t *oldmask,
                       struct usermode_net_proc *p, char *msg, size_t len);

/* Wait until the spawned helper is ready (at most 10 s) and send its API requests. 0, or -1
 * with one line in msg (nothing left running). */
int usermode_net_wait_ready(const struct usermode_net *n, struct usermode_net_proc *p, char *msg, size_t len);

/* usermode_net_spawn and usermode_net_wait_ready at once, on NETNS (from usermode_net_open_netns;
 * closed here, always). 0, or -1 with one line in msg (nothing left running). */
int usermode_net_start(const struct usermode_net *n, int netns, const sigset_t *oldmask,
                       struct usermode_net_proc *p, char *msg, size_t len);

/* Stop the helper: SIGKILL; reaped here only when it holds host ports (port_handler=slirp4netns),
 * else by the monitor's next waitpid(-1) or, once the monitor has exited, by init. */
void usermode_net_stop(struct usermode_net_proc *p, const struct usermode_net *n);

#endif
