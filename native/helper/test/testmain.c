/* Standalone driver for testing untar.c and storage.c without main.c (no namespace options;
 * not part of the helper build). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../helper.h"

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("skiff-helper: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

void warnx_(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("skiff-helper: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage: MODE ARGS");
  if (!strcmp(argv[1], "apply-tar")) return mode_apply_tar(argc - 1, argv + 1);
  if (!strcmp(argv[1], "rm")) return mode_rm(argc - 1, argv + 1);
  if (!strcmp(argv[1], "copy")) return mode_copy(argc - 1, argv + 1);
  die("unknown mode %s", argv[1]);
}
