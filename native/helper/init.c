/*
 * --init (see init.h). Why not bind a separate init binary into the container as Docker does
 * with /sbin/docker-init: the container init is already a clone of the monitor, running from a
 * sealed memfd copy of skiff-helper (sealed_exe.c), so it can stay PID 1 and fork the command
 * itself, with nothing of the host's put into the container's filesystem and nothing new for
 * the container to reach through /proc/1/exe. It forks after every setup step (mounts,
 * rlimits, seccomp, credentials), so it runs exactly as confined as the command.
 */
#include "init.h"
#include "helper.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

char **helper_argv;
int helper_argc;

/* Overwrite our argv in place (the only memory /proc/PID/cmdline reads) with Docker's title. */
static void set_title(char *const *args) {
  prctl(PR_SET_NAME, "docker-init", 0, 0, 0);
  if (!helper_argv || helper_argc == 0) return;
  char *start = helper_argv[0];
  char *end = helper_argv[helper_argc - 1] + strlen(helper_argv[helper_argc - 1]) + 1;
  size_t room = (size_t)(end - start), off = 0;
  const char *head[] = {"/sbin/docker-init", "--"};
  for (int i = 0; i < 2 && off < room; i++) {
    size_t n = strlen(head[i]) + 1;
    if (off + n > room) break;
    memcpy(start + off, head[i], n);
    off += n;
  }
  for (int i = 0; args[i] && off < room; i++) {
    size_t n = strlen(args[i]) + 1;
    if (off + n > room) break;
    memcpy(start + off, args[i], n);
    off += n;
  }
  memset(start + off, 0, room - off);
}

void init_fork_command(int err_fd, const sigset_t *saved_mask, char *const *args) {
  /* Every signal is blocked and taken with sigwaitinfo: as PID 1 of its namespace the init
   * gets only signals it handles, and a signal that arrives between the fork and the wait
   * must still reach the command. */
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  pid_t child = fork();
  if (child < 0) {
    char msg[256];
    int n = snprintf(msg, sizeof msg, "125 init: fork: %s", strerror(errno));
    if (write(err_fd, msg, (size_t)n) < 0) {
    }
    _exit(125);
  }
  if (child == 0) {
    /* The command gets its own process group, in the foreground of the terminal with -t. */
    setpgid(0, 0);
    if (isatty(0)) {
      signal(SIGTTOU, SIG_IGN);
      tcsetpgrp(0, getpid());
      signal(SIGTTOU, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, saved_mask, NULL);
    return;
  }
  /* The command's exec closes its copy of the error pipe; ours must go too, or the monitor
   * would wait for us to exec. */
  close(err_fd);
  set_title(args);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue;
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}
