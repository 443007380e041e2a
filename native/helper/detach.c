/*
 * The detach keys of an attached `run -it` / `start -a -i` (Docker's ctrl-p,ctrl-q, or
 * --detach-keys): the monitor reads the user's terminal itself (Node hands it over and does not
 * copy), so it is the monitor that watches for the sequence. Bytes that may begin it are held
 * back until they turn out not to (then passed on, as Docker's escape proxy does); once the
 * whole sequence is typed the container never sees it, and the monitor lets go of the terminal
 * while the container runs on (monitor.c: detach_from_user).
 */
#include "helper.h"

#include <string.h>

void detach_keys_parse(struct detach_keys *d, const char *hex) {
  size_t len = strlen(hex);
  if (len == 0 || len % 2 || len / 2 > sizeof d->keys) die("monitor: bad detach-keys %s", hex);
  for (size_t i = 0; i < len / 2; i++) {
    unsigned v = 0;
    for (int j = 0; j < 2; j++) {
      char c = hex[2 * i + j];
      int nib = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (nib < 0) die("monitor: bad detach-keys %s", hex);
      v = v * 16 + (unsigned)nib;
    }
    d->keys[i] = (unsigned char)v;
  }
  d->n = (int)(len / 2);
  d->matched = 0;
}

size_t detach_keys_filter(struct detach_keys *d, const unsigned char *in, size_t n, unsigned char *out, int *detach) {
  size_t o = 0;
  *detach = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char b = in[i];
    if (b == d->keys[d->matched]) {
      if (++d->matched == d->n) {
        d->matched = 0;
        *detach = 1;
        return o; /* what was typed after the sequence is not the container's */
      }
      continue;
    }
    /* not the sequence after all: what was held back goes on, then this byte (which may start it anew) */
    memcpy(out + o, d->keys, (size_t)d->matched);
    o += (size_t)d->matched;
    d->matched = 0;
    if (b == d->keys[0]) d->matched = 1;
    else out[o++] = b;
  }
  return o;
}
