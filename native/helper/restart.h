/* --restart carried out by the container's own monitor (restart.c). There is no daemon: the
 * monitor that ran the container runs it again from the same spec, with the rootfs still
 * mounted, until the policy says no or the user stopped it. */
#ifndef SKIFF_RESTART_H
#define SKIFF_RESTART_H

#include <poll.h>
#include <signal.h>
#include <time.h>

enum restart_kind { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS, RESTART_UNLESS_STOPPED };

struct restart_policy {
  enum restart_kind kind;
  int max_retries;          /* on-failure:N; 0 = no limit (Docker's MaximumRetryCount) */
  const char *stop_file;    /* exists = the user stopped the container: never restart */
  const char *state_file;   /* "COUNT running|restarting STARTED_MS\n" for skiff to read */
  const char *policy_file;  /* "POLICY MAX\n" written by `skiff update --restart`: read before each decision */
  int count;                /* restarts so far (Docker's RestartCount) */
  long backoff_ms;          /* the last delay; 0 = none yet */
  struct timespec started;  /* when the current run began */
  long long started_wall_ms; /* the same, in ms since the epoch, for the state file */
};

/* Parse the spec keys that belong to the policy (restart, stop-file, restart-file, policy-file); 1 when KEY
 * was one of them. Dies on a malformed value. */
int restart_parse_key(struct restart_policy *p, const char *key, int nf, char **f);

/* Mark the start of a run (for the 10 s reset of the back-off) and record it for skiff. */
void restart_note_started(struct restart_policy *p);

/* The container exited with CODE: the delay before the next run in ms, or -1 for no restart
 * (policy, retry limit, or the user's stop). Counts the restart when there is one. */
long restart_next_delay(struct restart_policy *p, int code);

/* What else the monitor serves during a back-off (the attach socket, for `network connect` and
 * `disconnect` between two runs): FILL puts at most RESTART_WAIT_FDS pollfds in P and says how
 * many, HANDLE takes their events. */
#define RESTART_WAIT_FDS 32
struct restart_wait_hook {
  int (*fill)(struct pollfd *p);
  void (*handle)(const struct pollfd *p, int n);
};

/* Wait out the back-off on SIGFD (the monitor's signalfd), serving HOOK (may be NULL): children
 * that exit meanwhile are reaped, a terminating signal or the user's stop file ends the wait.
 * 0 = run again, -1 = stop. */
int restart_wait(struct restart_policy *p, int sigfd, long delay_ms, const struct restart_wait_hook *hook);

#endif
