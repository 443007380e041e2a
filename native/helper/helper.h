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

/* Modes. Each returns the process exit code. argv[0] is the mode name. */
int mode_apply_tar(int argc, char **argv);     /* untar.c */
int mode_rm(int argc, char **argv);            /* storage.c */
int mode_copy(int argc, char **argv);          /* storage.c */
int mode_probe_overlay(int argc, char **argv); /* main.c */
int mode_monitor(int argc, char **argv);       /* monitor.c */
int mode_tar_out(int argc, char **argv);       /* copy_in_out.c */
int mode_tar_in(int argc, char **argv);        /* copy_in_out.c */
int mode_stat_path(int argc, char **argv);     /* copy_in_out.c */
int mode_changes(int argc, char **argv);       /* copy_in_out.c */

/* Install a seccomp filter given as hex of struct sock_filter[] (seccomp.c); 0 or -1/errno. */
int install_seccomp(const char *hex);

#endif
