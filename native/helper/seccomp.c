/*
 * Load the container's seccomp filter. The policy (Docker's profile format, its default
 * profile, capabilities, architectures) lives on the Node side (src/runtime/seccomp/), which
 * compiles it to classic BPF; the spec carries the program as hex of struct sock_filter[].
 * The Node side writes little-endian instructions: every architecture it has a syscall table
 * for (x86_64, aarch64) is little-endian.
 */
#include "helper.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "seccomp programs are compiled little-endian (src/runtime/seccomp/bpf.ts)"
#endif

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int install_seccomp(const char *hex) {
  size_t len = strlen(hex);
  size_t n = len / (2 * sizeof(struct sock_filter));
  if (len == 0 || len % (2 * sizeof(struct sock_filter)) || n > BPF_MAXINSNS) {
    errno = EINVAL;
    return -1;
  }
  struct sock_filter *prog = malloc(n * sizeof *prog);
  if (!prog) return -1;
  unsigned char *bytes = (unsigned char *)prog;
  for (size_t i = 0; i < len / 2; i++) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(prog);
      errno = EINVAL;
      return -1;
    }
    bytes[i] = (unsigned char)(hi << 4 | lo);
  }
  struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};
  int r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
  int e = errno;
  free(prog);
  errno = e;
  return r;
}
