/* skiff-helper: shared declarations. See native/PROTOCOL.md for the contract with Node. */
#ifndef SKIFF_HELPER_H
#define SKIFF_HELPER_H

#include <stddef.h>
#include <stdint.h>

/* Print "skiff-helper: <msg>" to stderr (one line). */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Modes. Each returns the process exit code. argv[0] is the mode name. */
int mode_apply_layer(int argc, char **argv);   /* storage.c */
int mode_rm(int argc, char **argv);            /* storage.c */
int mode_copy(int argc, char **argv);          /* storage.c */
int mode_probe_overlay(int argc, char **argv); /* main.c */
int mode_monitor(int argc, char **argv);       /* monitor.c */

/* Install the default seccomp filter on the calling thread (seccomp.c); 0 or -1/errno. */
int install_seccomp(void);

#endif
