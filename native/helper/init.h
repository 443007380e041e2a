/* --init: a minimal init as the container's PID 1 (init.c). */
#ifndef SKIFF_INIT_H
#define SKIFF_INIT_H

#include <signal.h>

/* The helper's own argv (main.c sets it): the init rewrites it so that ps in the container
 * shows "/sbin/docker-init -- CMD...", as Docker's containers do. */
extern char **helper_argv;
extern int helper_argc;

/*
 * Called by the container's init just before exec. Forks: returns in the child, which goes on
 * to exec the command (with SAVED_MASK restored). The calling process stays PID 1 and never
 * returns: it closes ERR_FD (its end of the start-error pipe), reaps every process that exits
 * in the container, forwards every signal it gets to the command, and exits with the command's
 * exit code (128+N when a signal N killed it), as tini (Docker's docker-init) does.
 * ARGS is the command, for the process title.
 */
void init_fork_command(int err_fd, const sigset_t *saved_mask, char *const *args);

#endif
