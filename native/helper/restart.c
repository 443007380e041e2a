/*
 * --restart in the monitor (see restart.h). Docker's rules (moby's restartmanager): `always`
 * and `unless-stopped` restart whatever the exit code, `on-failure[:N]` only after a non-zero
 * one and at most N times; a stop by the user ends every policy. The back-off starts at
 * 100 ms and doubles up to a minute, and starts over after a run that lasted 10 s or more.
 * Without a daemon the two "always" policies behave the same: nothing restarts a container
 * after a reboot unless a unit manager runs it (`skiff generate systemd`).
 *
 * A restart that fails to start (its command gone from the rootfs, a user namespace that cannot
 * be joined) ends the policy, whatever it is: mode_monitor stops when a run did not start. That
 * is moby's rule too: its handleContainerExit waits out the back-off and calls containerStart
 * once; when that fails the container is set stopped and nothing tries again (an error that
 * would recur on every try would otherwise restart for ever). One difference: Docker then shows
 * the last run's exit code with the start's error in State.Error, skiff the failed start's own
 * code (125, 126 or 127), which is what there is to say without a State.Error from the monitor.
 */
#include "restart.h"
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIRST_BACKOFF_MS 100
#define MAX_BACKOFF_MS 60000
#define RESET_AFTER_MS 10000
/* The stop file is looked at this often during a long back-off: a stop that signals a
 * container that is between two runs has nothing to signal. */
#define STOP_POLL_MS 100

/* POLICY and MAX as text into P; -1 (P unchanged) when either is not valid. */
static int set_policy(struct restart_policy *p, const char *name, const char *count) {
  enum restart_kind kind;
  if (!strcmp(name, "no")) kind = RESTART_NO;
  else if (!strcmp(name, "on-failure")) kind = RESTART_ON_FAILURE;
  else if (!strcmp(name, "always")) kind = RESTART_ALWAYS;
  else if (!strcmp(name, "unless-stopped")) kind = RESTART_UNLESS_STOPPED;
  else return -1;
  char *end;
  long max = strtol(count, &end, 10);
  if (*end || end == count || max < 0 || max > 1000000000) return -1;
  p->kind = kind;
  p->max_retries = (int)max;
  return 0;
}

int restart_parse_key(struct restart_policy *p, const char *key, int nf, char **f) {
  if (!strcmp(key, "restart")) {
    if (nf != 2) die("monitor: spec key restart wants 2 fields, got %d", nf);
    if (set_policy(p, f[0], f[1]) < 0) die("monitor: bad restart policy %s:%s", f[0], f[1]);
    return 1;
  }
  if (!strcmp(key, "policy-file")) {
    if (nf != 1) die("monitor: spec key policy-file wants 1 field, got %d", nf);
    p->policy_file = f[0];
    return 1;
  }
  if (!strcmp(key, "stop-file")) {
    if (nf != 1) die("monitor: spec key stop-file wants 1 field, got %d", nf);
    p->stop_file = f[0];
    return 1;
  }
  if (!strcmp(key, "restart-file")) {
    if (nf != 1) die("monitor: spec key restart-file wants 1 field, got %d", nf);
    p->state_file = f[0];
    return 1;
  }
  return 0;
}

static void write_state(const struct restart_policy *p, const char *what) {
  if (!p->state_file) return;
  char tmp[4096], line[64];
  snprintf(tmp, sizeof tmp, "%s.tmp", p->state_file);
  /* the wall-clock start of the current run: skiff's StartedAt (Docker renews it per restart) */
  snprintf(line, sizeof line, "%d %s %lld\n", p->count, what, (long long)p->started_wall_ms);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  if (write(fd, line, strlen(line)) < 0) {
  }
  close(fd);
  rename(tmp, p->state_file);
}

static long elapsed_ms(const struct timespec *since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static int stopped_by_user(const struct restart_policy *p) {
  return p->stop_file && access(p->stop_file, F_OK) == 0;
}

void restart_note_started(struct restart_policy *p) {
  clock_gettime(CLOCK_MONOTONIC, &p->started);
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  p->started_wall_ms = wall.tv_sec * 1000LL + wall.tv_nsec / 1000000;
  if (p->kind != RESTART_NO) write_state(p, "running");
}

/* `skiff update --restart` while the container runs: the policy it wrote (atomically, by rename)
 * replaces the one from the spec. A file that does not parse is ignored. */
static void reload_policy(struct restart_policy *p) {
  char buf[64];
  if (!p->policy_file || read_small_file(p->policy_file, buf, sizeof buf) < 0) return;
  char *sp = strchr(buf, ' '), *nl = strchr(buf, '\n');
  if (!sp || !nl || nl < sp) return;
  *sp = 0;
  *nl = 0;
  set_policy(p, buf, sp + 1);
}

long restart_next_delay(struct restart_policy *p, int code) {
  reload_policy(p);
  if (p->kind == RESTART_NO || stopped_by_user(p)) return -1;
  if (p->kind == RESTART_ON_FAILURE) {
    if (code == 0) return -1;
    if (p->max_retries > 0 && p->count >= p->max_retries) return -1;
  }
  if (elapsed_ms(&p->started) >= RESET_AFTER_MS) p->backoff_ms = 0;
  p->backoff_ms = p->backoff_ms == 0 ? FIRST_BACKOFF_MS : p->backoff_ms * 2;
  if (p->backoff_ms > MAX_BACKOFF_MS) p->backoff_ms = MAX_BACKOFF_MS;
  p->count++;
  write_state(p, "restarting");
  return p->backoff_ms;
}

int restart_wait(struct restart_policy *p, int sigfd, long delay_ms, const struct restart_wait_hook *hook) {
  struct timespec from;
  clock_gettime(CLOCK_MONOTONIC, &from);
  for (;;) {
    if (stopped_by_user(p)) return -1;
    long left = delay_ms - elapsed_ms(&from);
    if (left <= 0) return 0;
    struct pollfd pfd[1 + RESTART_WAIT_FDS] = {{sigfd, POLLIN, 0}};
    int extra = hook ? hook->fill(pfd + 1) : 0;
    int n = poll(pfd, 1 + extra, left < STOP_POLL_MS ? (int)left : STOP_POLL_MS);
    if (n < 0 && errno != EINTR) return -1;
    if (n <= 0) continue;
    if (extra) hook->handle(pfd + 1, extra);
    if (!(pfd[0].revents & POLLIN)) continue;
    struct signalfd_siginfo si;
    if (read(sigfd, &si, sizeof si) != sizeof si) continue;
    if (si.ssi_signo == SIGCHLD) {
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
    } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP ||
               si.ssi_signo == SIGQUIT) {
      /* A stop between two runs: there is no container to pass the signal to. */
      return -1;
    }
  }
}
