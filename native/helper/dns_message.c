/*
 * DNS messages of the embedded DNS server (dns.h): what is answered locally, as Docker's
 * libnetwork resolver answers it, and what goes to the upstream resolvers.
 *
 * Every datagram comes from a process in the container, so this is hostile-input code in a
 * process outside the container (root on the host when rootful): every read is checked against
 * the datagram's length, the question's name is decoded into a fixed buffer checked against
 * the 255-byte limit, compression pointers are refused in the question (a client never sends
 * one there), and replies are built in the caller's buffer within its capacity. No allocation.
 * native/helper/fuzz/dns_fuzz.c feeds it arbitrary datagrams and names files.
 *
 * Local answers (Docker's): A for a name (container name, alias, short ID, hostname) of a
 * running container on one of the container's networks, as NAME or NAME.NETWORK, from the first
 * network (in interface order) that has it; AAAA and MX for such a name: no error, no answer
 * (the networks are IPv4 only); PTR for such an address: NAME.NETWORK. Everything else is
 * forwarded, except a single-label A/AAAA query when the container's resolv.conf sets ndots
 * itself (no error, no answer: the client goes on with its search domains).
 *
 * The names file (src/network/user-networks/dns-names.ts) is read as it is, a line at a time:
 *   external                                  the container has a way out
 *   NETWORK MONITOR_PID MONITOR_START IPV4 NAME...   one container on one network
 * lines grouped by network in the container's interface order; a '#' line is a comment.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define HDR 12
#define T_A 1
#define T_PTR 12
#define T_MX 15
#define T_AAAA 28
#define T_OPT 41
#define C_IN 1
#define TTL 600 /* Docker's respTTL */
#define MAX_ANSWERS 64
#define RC_FORMERR 1
#define RC_NOTIMP 4

struct query {
  uint16_t flags, qtype, qclass;
  size_t qend;      /* just past the question (HDR when there is none to echo) */
  char name[256];   /* lowercased, dotted, no trailing dot ("" = the root) */
  size_t name_len;
  int name_ok;      /* 0: a label holds a byte no container name has ('.', space, control, 8-bit) */
  size_t max_reply; /* 512, or the client's EDNS UDP payload size */
};

static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)(v >> 8);
  p[1] = (unsigned char)v;
}

/* -1: nothing to answer (a response, or shorter than a header). 0: a query. 1: one to refuse
 * with *RCODE (FORMERR, NOTIMP), its question not echoed. */
static int parse_query(const unsigned char *m, size_t n, struct query *q, int *rcode) {
  if (n < HDR) return -1;
  q->flags = get16(m + 2);
  q->qend = HDR;
  q->max_reply = 512;
  if (q->flags & 0x8000) return -1; /* a response: never answered (no loops between resolvers) */
  if (((q->flags >> 11) & 0xf) != 0) {
    *rcode = RC_NOTIMP;
    return 1;
  }
  if (get16(m + 4) != 1) {
    *rcode = RC_FORMERR;
    return 1;
  }
  size_t off = HDR, len = 0, wire = 1;
  q->name_ok = 1;
  for (;;) {
    if (off >= n) goto formerr;
    unsigned l = m[off++];
    if (l == 0) break;
    /* above 63: a compression pointer or a reserved label type, never in a question */
    if (l > 63 || l > n - off) goto formerr;
    wire += l + 1;
    if (wire > 255) goto formerr;
    if (len) q->name[len++] = '.';
    for (unsigned i = 0; i < l; i++) {
      unsigned char c = m[off + i];
      if (c <= ' ' || c >= 0x7f || c == '.') q->name_ok = 0;
      q->name[len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    off += l;
  }
  q->name[len] = 0;
  q->name_len = len;
  if (n - off < 4) goto formerr;
  q->qtype = get16(m + off);
  q->qclass = get16(m + off + 2);
  q->qend = off + 4;
  /* EDNS: the OPT record, when it is the only other record (as stub resolvers send it) */
  if (get16(m + 6) == 0 && get16(m + 8) == 0 && get16(m + 10) == 1 && n - q->qend >= 11 && m[q->qend] == 0 &&
      get16(m + q->qend + 1) == T_OPT) {
    size_t size = get16(m + q->qend + 3);
    if (size > q->max_reply) q->max_reply = size;
  }
  return 0;
formerr:
  q->qend = HDR;
  *rcode = RC_FORMERR;
  return 1;
}

/* The reply's header and the question as asked; its length. CAP >= 512 > any question. */
static size_t begin_reply(const unsigned char *m, const struct query *q, int rcode, unsigned char *out) {
  memcpy(out, m, q->qend);
  /* QR, the opcode and RD as asked, RA (Docker's createRespMsg), the rcode */
  put16(out + 2, 0x8000 | (q->flags & 0x7900) | 0x0080 | (unsigned)rcode);
  put16(out + 4, q->qend > HDR ? 1 : 0);
  put16(out + 6, 0);
  put16(out + 8, 0);
  put16(out + 10, 0);
  return q->qend;
}

/* ---- the names file ---- */

struct field {
  const char *p;
  size_t n;
};

/* One container line: NETWORK PID START IP and the names (the rest of the line). */
struct rec {
  struct field net, pid, start, ip, names;
};

static struct field next_field(const char **p, const char *end) {
  while (*p < end && (**p == ' ' || **p == '\t')) (*p)++;
  struct field f = {*p, 0};
  while (*p < end && **p != ' ' && **p != '\t') (*p)++;
  f.n = (size_t)(*p - f.p);
  return f;
}

/* The next line of the names file at *P, advanced past it; 0 at the end. R.net.n == 0: not a
 * container line (a comment, `external`, anything else). */
static int next_line(const char **p, struct rec *r) {
  if (!*p || !**p) return 0;
  const char *line = *p, *end = strchr(line, '\n');
  if (!end) end = line + strlen(line);
  *p = *end ? end + 1 : end;
  memset(r, 0, sizeof *r);
  if (*line == '#') return 1;
  const char *c = line;
  struct field f[4];
  for (int i = 0; i < 4; i++) f[i] = next_field(&c, end);
  if (f[3].n == 0) return 1;
  r->net = f[0];
  r->pid = f[1];
  r->start = f[2];
  r->ip = f[3];
  r->names.p = c;
  r->names.n = (size_t)(end - c);
  return 1;
}

static int field_is(struct field f, const char *s, size_t n) { return f.n == n && strncasecmp(f.p, s, n) == 0; }

static int has_name(const struct rec *r, const char *name, size_t n) {
  const char *c = r->names.p, *end = r->names.p + r->names.n;
  for (;;) {
    struct field f = next_field(&c, end);
    if (f.n == 0) return 0;
    if (field_is(f, name, n)) return 1;
  }
}

static int parse_ip(struct field f, unsigned char ip[4]) {
  char text[16];
  if (f.n == 0 || f.n >= sizeof text) return 0;
  memcpy(text, f.p, f.n);
  text[f.n] = 0;
  return inet_pton(AF_INET, text, ip) == 1;
}

int dns_names_external(const char *names) {
  const char *p = names;
  while (p && *p) {
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == 8 && memcmp(p, "external", 8) == 0) return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

/*
 * The addresses of NAME on NET (any network when NETLEN is 0): those of the first network, in
 * the file's order, where a running container has the name. Their count (at most MAX), or -1
 * when no network has it.
 */
static int lookup(const char *names, const char *name, size_t n, const char *net, size_t netlen, dns_alive_fn alive,
                  unsigned char ips[][4], int max) {
  const char *p = names;
  struct rec r;
  struct field found = {NULL, 0};
  int count = 0;
  while (next_line(&p, &r)) {
    if (r.net.n == 0) continue;
    if (found.p && !field_is(r.net, found.p, found.n)) break; /* that network's lines are over */
    if (netlen && !field_is(r.net, net, netlen)) continue;
    unsigned char ip[4];
    if (!has_name(&r, name, n) || !parse_ip(r.ip, ip) || !alive(r.pid.p, r.pid.n, r.start.p, r.start.n)) continue;
    if (!found.p) found = r.net;
    if (count < max) memcpy(ips[count++], ip, 4);
  }
  return found.p ? count : -1;
}

/* NAME as Docker's sandbox resolves it: the whole name on any network, then A.B in network C... */
static int resolve(const char *names, const struct query *q, dns_alive_fn alive, unsigned char ips[][4], int max) {
  int got = lookup(names, q->name, q->name_len, NULL, 0, alive, ips, max);
  for (size_t i = q->name_len; got < 0 && i-- > 1;)
    if (q->name[i] == '.') got = lookup(names, q->name, i, q->name + i + 1, q->name_len - i - 1, alive, ips, max);
  return got;
}

/* "D.C.B.A.in-addr.arpa" as A.B.C.D's four bytes: 1, or 0 when it is no such name. */
static int ptr_address(const struct query *q, unsigned char ip[4]) {
  static const char suffix[] = ".in-addr.arpa";
  size_t sl = sizeof suffix - 1;
  if (q->name_len <= sl || memcmp(q->name + q->name_len - sl, suffix, sl) != 0) return 0;
  const char *c = q->name, *end = q->name + q->name_len - sl;
  for (int i = 3; i >= 0; i--) {
    unsigned v = 0, digits = 0;
    while (c < end && *c >= '0' && *c <= '9' && digits < 3) v = v * 10 + (unsigned)(*c++ - '0'), digits++;
    if (digits == 0 || v > 255 || (digits > 1 && c[-(int)digits] == '0')) return 0;
    ip[i] = (unsigned char)v;
    if (i > 0) {
      if (c >= end || *c != '.') return 0;
      c++;
    }
  }
  return c == end;
}

/* Encode NAME.NETWORK. as labels into OUT (room for ROOM bytes): its length, or 0 when it does not fit or is no name. */
static size_t encode_ptr_target(struct field name, struct field net, unsigned char *out, size_t room) {
  size_t o = 0;
  struct field parts[2] = {name, net};
  for (int i = 0; i < 2; i++) {
    const char *c = parts[i].p, *end = parts[i].p + parts[i].n;
    while (c < end) {
      const char *dot = memchr(c, '.', (size_t)(end - c));
      size_t l = (size_t)((dot ? dot : end) - c);
      if (l == 0 || l > 63 || o + l + 1 >= room || o + l + 1 > 254) return 0;
      out[o++] = (unsigned char)l;
      memcpy(out + o, c, l);
      o += l;
      c += l + (dot ? 1 : 0);
    }
  }
  if (o + 1 > room) return 0;
  out[o++] = 0;
  return o;
}

/* PTR for a running container's address: NAME.NETWORK of its first name on the first network that has it. */
static size_t ptr_answer(const char *names, const unsigned char ip[4], dns_alive_fn alive, unsigned char *out, size_t room) {
  const char *p = names;
  struct rec r;
  while (next_line(&p, &r)) {
    unsigned char have[4];
    if (r.net.n == 0 || !parse_ip(r.ip, have) || memcmp(have, ip, 4) != 0 || !alive(r.pid.p, r.pid.n, r.start.p, r.start.n)) continue;
    const char *c = r.names.p;
    struct field first = next_field(&c, r.names.p + r.names.n);
    if (first.n == 0) continue;
    return encode_ptr_target(first, r.net, out, room);
  }
  return 0;
}

/* One answer record at OUT + O for the question's name (a pointer to offset 12): its length, or 0 when it does not fit LIMIT. */
static size_t put_rr(unsigned char *out, size_t o, size_t limit, unsigned type, const unsigned char *rdata, size_t rdlen) {
  if (o + 12 + rdlen > limit) return 0;
  unsigned char *r = out + o;
  put16(r, 0xc000 | HDR);
  put16(r + 2, type);
  put16(r + 4, C_IN);
  put16(r + 6, 0);
  put16(r + 8, TTL);
  put16(r + 10, (unsigned)rdlen);
  memcpy(r + 12, rdata, rdlen);
  return 12 + rdlen;
}

int dns_local_reply(const char *names, int ndots_set, dns_alive_fn alive, const unsigned char *m, size_t n, int tcp,
                    unsigned char *out, size_t cap, size_t *outlen) {
  struct query q;
  int rcode = 0;
  int parsed = parse_query(m, n, &q, &rcode);
  if (parsed < 0) return DNS_DROP;
  if (parsed > 0) {
    *outlen = begin_reply(m, &q, rcode, out);
    return DNS_REPLY;
  }
  if (!q.name_ok || q.qclass != C_IN || !names) return DNS_FORWARD;
  /* over UDP what the client takes (512, or its EDNS size); over TCP what the buffer holds */
  size_t limit = !tcp && q.max_reply < cap ? q.max_reply : cap;
  if (limit < 512) limit = 512 <= cap ? 512 : cap;
  if (q.qtype == T_PTR) {
    unsigned char ip[4], target[256];
    size_t tlen;
    if (!ptr_address(&q, ip) || (tlen = ptr_answer(names, ip, alive, target, sizeof target)) == 0) return DNS_FORWARD;
    size_t o = begin_reply(m, &q, 0, out), rr = put_rr(out, o, limit, T_PTR, target, tlen);
    if (rr == 0) out[2] |= 0x02; /* TC: does not fit */
    else put16(out + 6, 1);
    *outlen = o + rr;
    return DNS_REPLY;
  }
  if (q.qtype != T_A && q.qtype != T_AAAA && q.qtype != T_MX) return DNS_FORWARD;
  unsigned char ips[MAX_ANSWERS][4];
  int got = resolve(names, &q, alive, ips, MAX_ANSWERS);
  if (got < 0) {
    /* ndots set by the user and a single label: not forwarded, the client tries its search list */
    if (q.qtype == T_MX || !ndots_set || memchr(q.name, '.', q.name_len) || q.name_len == 0) return DNS_FORWARD;
    got = 0;
  }
  size_t o = begin_reply(m, &q, 0, out);
  if (q.qtype == T_A) {
    int answers = 0;
    for (int i = 0; i < got; i++) {
      size_t rr = put_rr(out, o, limit, T_A, ips[i], 4);
      if (rr == 0) {
        out[2] |= 0x02;
        break;
      }
      o += rr;
      answers++;
    }
    put16(out + 6, (unsigned)answers);
  }
  *outlen = o;
  return DNS_REPLY;
}

int dns_error_reply(const unsigned char *m, size_t n, int rcode, unsigned char *out, size_t cap, size_t *outlen) {
  struct query q;
  int r = 0;
  int parsed = parse_query(m, n, &q, &r);
  if (parsed < 0 || cap < 512) return DNS_DROP;
  *outlen = begin_reply(m, &q, parsed > 0 ? r : rcode, out);
  return DNS_REPLY;
}

int dns_udp_fit(const unsigned char *query, size_t qlen, unsigned char *resp, size_t *resplen, size_t cap) {
  struct query q;
  int rcode = 0;
  if (parse_query(query, qlen, &q, &rcode) != 0 || *resplen <= q.max_reply || *resplen < HDR || cap < 512) return 0;
  /* Docker's Truncate: what fits. Here the least that does: the header (the upstream's rcode,
   * TC set) and the question as asked; the client asks again over TCP. */
  unsigned char id0 = resp[0], id1 = resp[1];
  rcode = resp[3] & 0xf;
  *resplen = begin_reply(query, &q, rcode, resp);
  resp[0] = id0;
  resp[1] = id1;
  resp[2] |= 0x02;
  return 1;
}

int dns_tcp_frame(const unsigned char *buf, size_t len, size_t max, size_t *msglen) {
  if (len < 2) return 0;
  size_t n = get16(buf);
  /* shorter than a header, or longer than any query we take: no DNS client sends that */
  if (n < HDR || n > max) return -1;
  if (len - 2 < n) return 0;
  *msglen = n;
  return 1;
}
