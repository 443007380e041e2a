/*
 * Healthchecks run by the monitor itself (no timers outside it, no daemon): once the container
 * is running, the monitor forks one runner that dies with it. Every interval the runner starts
 * `skiff-helper exec HEALTHSPEC PID START` from the monitor's own sealed copy (the same code as
 * `skiff exec`, so the probe runs in the container's namespaces with its credentials and
 * seccomp filter), collects up to 4096 bytes of its output, stops it after the timeout, and
 * appends one line per probe to the health log:
 *
 *     START_MS END_MS EXIT HEX_OF_OUTPUT
 *
 * (EXIT -1: timed out). The policy (retries, start period, what "healthy" means, how many
 * results are shown) is Node's: src/engine/healthcheck.ts reads the log.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEALTH_OUTPUT_MAX 4096

void parse_health_config(char **fields, struct health_config *h) {
  h->spec = fields[0];
  h->log = fields[1];
  h->interval_ms = strtol(fields[2], NULL, 10);
  h->timeout_ms = strtol(fields[3], NULL, 10);
  if (h->interval_ms <= 0 || h->timeout_ms <= 0) die("monitor: health interval and timeout must be positive");
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* One probe: its exit code (-1 on timeout) and output. */
static int probe(const struct health_config *h, const char *pid, const char *start, char *out, size_t *outlen) {
  int pp[2];
  *outlen = 0;
  if (pipe2(pp, O_CLOEXEC) < 0) return 125;
  pid_t child = fork();
  if (child < 0) return 125;
  if (child == 0) {
    dup2(pp[1], 1);
    dup2(pp[1], 2);
    execl("/proc/self/exe", "skiff-helper", "exec", h->spec, pid, start, (char *)NULL);
    _exit(127);
  }
  close(pp[1]);
  long long deadline = mono_ms() + h->timeout_ms;
  int timed_out = 0;
  for (;;) {
    long long left = deadline - mono_ms();
    if (left <= 0) {
      timed_out = 1;
      break;
    }
    struct pollfd p = {pp[0], POLLIN, 0};
    int n = poll(&p, 1, (int)left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t got = read(pp[0], buf, sizeof buf);
    if (got <= 0) break; /* EOF: the probe (and whatever it started) closed its output */
    size_t room = HEALTH_OUTPUT_MAX - *outlen;
    size_t take = (size_t)got < room ? (size_t)got : room;
    memcpy(out + *outlen, buf, take);
    *outlen += take;
  }
  close(pp[0]);
  if (timed_out) {
    /* The helper passes SIGTERM on to the probe; what does not stop is killed. */
    kill(child, SIGTERM);
    for (int i = 0; i < 20 && waitpid(child, NULL, WNOHANG) == 0; i++) sleep_ms(50);
    kill(child, SIGKILL);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The log is bounded: past LOG_MAX bytes the runner keeps the newer half (whole lines). Node's
 * reading of it stays right from any suffix that holds more than `retries` results, which
 * LOG_MAX / 2 always does (a line is at most ~8 KB). */
#define LOG_MAX (256 * 1024)

static void trim_log(const char *log) {
  int fd = open(log, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  off_t size = lseek(fd, 0, SEEK_END);
  if (size <= LOG_MAX) {
    close(fd);
    return;
  }
  size_t keep = LOG_MAX / 2;
  char *buf = xmalloc(keep);
  ssize_t got = pread(fd, buf, keep, size - (off_t)keep);
  close(fd);
  char *nl = got > 0 ? memchr(buf, '\n', (size_t)got) : NULL;
  if (nl) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", log);
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out >= 0) {
      size_t from = (size_t)(nl + 1 - buf);
      if (write(out, buf + from, (size_t)got - from) == (ssize_t)((size_t)got - from)) rename(tmp, log);
      else unlink(tmp);
      close(out);
    }
  }
  free(buf);
}

static void append_result(const char *log, long long start, long long end, int code, const char *out, size_t len) {
  size_t cap = 64 + 2 * len;
  char *line = xmalloc(cap);
  int n = snprintf(line, cap, "%lld %lld %d ", start, end, code);
  for (size_t i = 0; i < len; i++) n += snprintf(line + n, cap - n, "%02x", (unsigned char)out[i]);
  line[n++] = '\n';
  /* One write with O_APPEND: `skiff healthcheck run` appends to the same log. */
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    if (write(fd, line, n) < 0) {
    }
    close(fd);
  }
  free(line);
}

pid_t start_health_runner(const struct health_config *h, pid_t container) {
  char start[32], pid[16];
  unlink(h->log);
  if (process_start_time(container, start, sizeof start) < 0) return -1;
  snprintf(pid, sizeof pid, "%d", (int)container);
  pid_t monitor = getpid();
  pid_t runner = fork();
  if (runner != 0) return runner; /* the monitor (or a failed fork: no healthchecks, the container runs on) */
  if (die_with_monitor_child(monitor) < 0) _exit(0);
  /* Hold nothing of the monitor's: not its report pipe (its EOF tells skiff the monitor is
   * gone), not the user's terminal or the container log. */
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) _exit(0);
  for (int i = 0; i < 3; i++) dup2(null, i);
  syscall(SYS_close_range, 3, ~0U, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_IGN);
  static char out[HEALTH_OUTPUT_MAX];
  for (;;) {
    sleep_ms(h->interval_ms);
    size_t len;
    long long t0 = now_ms();
    int code = probe(h, pid, start, out, &len);
    append_result(h->log, t0, now_ms(), code, out, len);
    trim_log(h->log);
    if (code == 3 && kill(container, 0) < 0) _exit(0); /* the container is gone */
  }
}
