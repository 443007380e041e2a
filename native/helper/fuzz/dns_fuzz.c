/*
 * libFuzzer target for the embedded DNS server's message code (dns_message.c): every datagram
 * it parses comes from a process in the container and is parsed outside it. Each input is a
 * names file and a datagram: the first byte B says how long the names file is (B * 2 bytes,
 * at most what is left), the rest is the datagram; an input whose first byte is odd uses a
 * fixed names file instead, so that the answering paths are reached too (bit 2: as over TCP,
 * without the 512-byte limit). The same bytes also go through the TCP framing and, as an
 * upstream's response, through the cut to the client's UDP size. Oracle: a reply is at least a
 * header, fits the buffer and the client's limit, carries the query's ID and is a response; an
 * error reply likewise; a frame is whole and within its limits; a cut response is a header and
 * question with TC, at most 512 bytes.
 * Build and run: native/helper/fuzz/dns.sh [SECONDS] (docs/FUZZING.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dns.h"

static const char fixed_names[] =
    "# fixed\nexternal\napp 0 0 10.89.1.2 web www 0123456789ab\napp 9 9 10.89.1.9 gone\n"
    "app 0 0 10.89.1.3 db\nother 0 0 10.89.2.2 web solo a.b.c\n";

/* peers whose PID starts with 9 have stopped */
static int alive(const char *pid, size_t pid_len, const char *start, size_t start_len) {
  (void)start;
  (void)start_len;
  return pid_len > 0 && pid[0] != '9';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t names_len = (size_t)data[0] * 2;
  const uint8_t *rest = data + 1;
  size_t left = size - 1;
  char *names = NULL;
  if (data[0] & 1) {
    names_len = 0;
  } else {
    if (names_len > left) names_len = left;
    names = malloc(names_len + 1);
    memcpy(names, rest, names_len);
    names[names_len] = 0;
    rest += names_len;
    left -= names_len;
  }
  /* the datagram in a buffer of its own size, so that ASan sees any read past it */
  uint8_t *q = malloc(left ? left : 1);
  memcpy(q, rest, left);
  unsigned char out[4096];
  size_t outlen = 0;
  int what = dns_local_reply(names ? names : fixed_names, data[0] & 2, alive, q, left, data[0] & 4, out, sizeof out, &outlen);
  if (what == DNS_REPLY) {
    if (outlen < 12 || outlen > sizeof out || memcmp(out, q, 2) != 0 || !(out[2] & 0x80)) abort();
  } else if (what != DNS_FORWARD && what != DNS_DROP) {
    abort();
  }
  if (dns_error_reply(q, left, 2, out, sizeof out, &outlen) == DNS_REPLY && (outlen < 12 || outlen > 512 + 4 || memcmp(out, q, 2) != 0))
    abort();
  /* the same bytes as what a TCP client sent (length first) */
  size_t msglen = 0;
  int framed = dns_tcp_frame(q, left, 4096, &msglen);
  if (framed < -1 || framed > 1 || (framed == 1 && (msglen < 12 || msglen > 4096 || msglen + 2 > left))) abort();
  /* and as an upstream's response to the query: cut to the client's size, or left alone */
  unsigned char resp[4096];
  size_t rlen = left < sizeof resp ? left : sizeof resp;
  memcpy(resp, q, rlen);
  if (dns_udp_fit(q, left, resp, &rlen, sizeof resp) && (rlen < 12 || rlen > 512 || !(resp[2] & 0x02) || memcmp(resp, q, 2) != 0))
    abort();
  free(q);
  free(names);
  return 0;
}
