/*
 * DNS over TCP for the embedded DNS server (dns.h), served from the monitor's poll loop next to
 * UDP, as Docker's resolver serves 127.0.0.11:53 over both: a client whose UDP answer came back
 * truncated (TC) asks again here, and `dig +tcp`/`nslookup -vc` work. Each message has its
 * length (2 bytes, big-endian) before it (RFC 1035 4.2.2); a connection carries any number of
 * queries, answered in order, one at a time (the next one is read once the answer before it is
 * written). Local answers are the UDP ones without the 512-byte limit; the others are forwarded
 * over TCP (Docker's resolver asks the upstreams with the client's protocol: an upstream's UDP
 * answer could be truncated again, which a TCP client must not get), to the same upstreams in
 * the same order and by the same rules as UDP (the next one on a failed connect, a timeout, a
 * connection closed before the whole answer, SERVFAIL or REFUSED; SERVFAIL when none is left).
 *
 * The clients are the container's processes, so every limit is a hard one, and nothing here
 * blocks the monitor: every socket is non-blocking; at most DNS_TCP_CLIENTS connections (a new
 * one past them closes the one idle longest, so connections held open cannot lock others out);
 * IDLE_MS for a whole query to arrive (after the connect or the last answer) and for an answer
 * to be read, else the connection is closed (slowloris); a length under a header or over
 * MAX_QUERY closes it at once (no buffer grows on a client's word); an answer the socket does
 * not take whole is kept and written as it polls writable. An upstream's answer is read up to
 * the 65535 bytes its length can say.
 */
#include "dns.h"
#include "helper.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_QUERY 4096         /* as over UDP: a query is far shorter */
#define IDLE_MS 8000           /* as miekg/dns's idle timeout, which Docker's resolver runs on */
#define UPSTREAM_TIMEOUT_MS 4000 /* Docker's extIOTimeout, as over UDP */
#define ACCEPTS 16             /* connections taken per wake-up */
#define IN_SIZE (2 + MAX_QUERY)

struct conn {
  int fd;                            /* -1: a free slot */
  int eof;                           /* the client shut its side: answer what it sent, then close */
  long long deadline, last;          /* closed at DEADLINE when waiting for the client; LAST: its last answer */
  unsigned char *in;                 /* IN_SIZE bytes while connected: what the client sent and is not answered yet */
  size_t in_len;
  unsigned char *out;                /* the answer being written (length included), or NULL */
  size_t out_len, out_off;
  /* the query being forwarded (q != NULL) */
  unsigned char *q;                  /* length, then the query with the upstream ID */
  size_t q_len;
  unsigned short client_id, up_id;
  int up, asked, sending;            /* the upstream's socket, its index, whether the query is still to be sent */
  long long up_deadline;
  unsigned char r_hdr[2];            /* the upstream's answer: its length, */
  unsigned char *r;                  /* then all of it (length included) */
  size_t r_len, r_want;
};

/* Small: the buffers are allocated per connection, so a monitor whose container never uses TCP
 * keeps none of them resident. */
static struct conn C[DNS_TCP_CLIENTS];
static int T_listen = -1;
static unsigned char answer[2 + 4096];

static unsigned get16(const unsigned char *p) { return (unsigned)(p[0] << 8 | p[1]); }
static void put16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)(v >> 8);
  p[1] = (unsigned char)v;
}

void dns_tcp_start(int listen_fd) {
  T_listen = listen_fd;
  for (int i = 0; i < DNS_TCP_CLIENTS; i++) {
    memset(&C[i], 0, sizeof C[i]);
    C[i].fd = C[i].up = -1;
  }
}

static void end_forward(struct conn *c) {
  if (c->up >= 0) close(c->up);
  c->up = -1;
  free(c->q);
  free(c->r);
  c->q = c->r = NULL;
  c->q_len = c->r_len = c->r_want = 0;
}

static void drop(struct conn *c) {
  end_forward(c);
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = c->in_len = 0;
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->eof = 0;
  free(c->in);
  c->in = NULL;
}

void dns_tcp_stop(void) {
  /* Not started (a container without the server: the monitor stops it after every run): C[] is
   * still all zero, and its fds of 0 are the monitor's stdin, which the next --restart run's
   * container would then lack. No listener, no clients either. */
  if (T_listen < 0) return;
  for (int i = 0; i < DNS_TCP_CLIENTS; i++) drop(&C[i]);
  if (T_listen >= 0) close(T_listen);
  T_listen = -1;
}

/* Write what the socket takes of the answer; the rest when it polls writable. */
static void flush(struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w <= 0) {
      drop(c);
      return;
    }
    c->out_off += (size_t)w;
  }
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = 0;
  c->last = dns_now_ms();
  c->deadline = c->last + IDLE_MS;
}

/* Send MSG (LEN bytes, taken over: malloc'd, its length already in its first 2 bytes). */
static void reply(struct conn *c, unsigned char *msg, size_t len) {
  c->out = msg;
  c->out_len = len;
  c->out_off = 0;
  c->deadline = dns_now_ms() + IDLE_MS; /* for the client to read it */
  flush(c);
}

/* A copy of the N-byte message M with its length before it, or NULL. */
static unsigned char *framed(const unsigned char *m, size_t n) {
  unsigned char *f = malloc(n + 2);
  if (!f) return NULL;
  put16(f, (unsigned)n);
  memcpy(f + 2, m, n);
  return f;
}

static void reply_copy(struct conn *c, const unsigned char *m, size_t n) {
  unsigned char *f = framed(m, n);
  if (f) reply(c, f, n + 2);
  else drop(c);
}

/* Ask the next upstream that can be asked; SERVFAIL to the client when none is left. */
static void next_upstream(struct conn *c) {
  if (c->up >= 0) close(c->up);
  c->up = -1;
  free(c->r);
  c->r = NULL;
  c->r_len = c->r_want = 0;
  for (int i = c->asked + 1; i < dns_upstream_count(); i++) {
    c->asked = i;
    int fd = dns_upstream_tcp(i);
    if (fd < 0) continue;
    c->up = fd;
    c->sending = 1;
    c->up_deadline = dns_now_ms() + UPSTREAM_TIMEOUT_MS;
    return;
  }
  size_t n;
  int ok = dns_error_reply(c->q + 2, c->q_len - 2, 2, answer, sizeof answer, &n) == DNS_REPLY;
  put16(answer, c->client_id);
  end_forward(c);
  if (ok) reply_copy(c, answer, n);
  else drop(c);
}

static void forward(struct conn *c, const unsigned char *m, size_t n) {
  if (!(c->q = framed(m, n))) {
    drop(c);
    return;
  }
  c->q_len = n + 2;
  c->client_id = (unsigned short)get16(m);
  c->up_id = dns_random_id();
  put16(c->q + 2, c->up_id);
  c->asked = -1;
  next_upstream(c);
}

/* Answer the queries the client sent, in order, while nothing else is under way. */
static void serve(struct conn *c) {
  while (c->fd >= 0 && !c->out && !c->q) {
    size_t n;
    int f = dns_tcp_frame(c->in, c->in_len, MAX_QUERY, &n);
    if (f < 0 || (f == 0 && c->eof)) {
      drop(c); /* a length no query has, or all answered and the client is done */
      return;
    }
    if (f == 0) return;
    size_t len;
    int what = dns_answer_local(c->in + 2, n, 1, answer, sizeof answer, &len);
    if (what == DNS_REPLY) reply_copy(c, answer, len);
    else if (what == DNS_FORWARD) forward(c, c->in + 2, n);
    else drop(c); /* a response, or no message at all: nothing a client sends */
    if (c->fd < 0) return;
    memmove(c->in, c->in + 2 + n, c->in_len - 2 - n);
    c->in_len -= 2 + n;
  }
}

static void read_client(struct conn *c) {
  if (c->in_len == IN_SIZE) return; /* a whole query waits there: never the case while we read */
  ssize_t n = recv(c->fd, c->in + c->in_len, IN_SIZE - c->in_len, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n < 0) {
    drop(c);
    return;
  }
  if (n == 0) c->eof = 1;
  c->in_len += (size_t)n;
}

/* The upstream's answer, as much as has come; sent on once it is whole. */
static void read_upstream(struct conn *c) {
  for (;;) {
    unsigned char *dst = c->r ? c->r + c->r_len : c->r_hdr + c->r_len;
    size_t want = c->r ? 2 + c->r_want : 2;
    ssize_t got = recv(c->up, dst, want - c->r_len, MSG_DONTWAIT);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return;
    if (got <= 0) {
      next_upstream(c); /* closed before the whole answer */
      return;
    }
    c->r_len += (size_t)got;
    if (!c->r && c->r_len == 2) {
      c->r_want = get16(c->r_hdr);
      if (c->r_want < 12 || !(c->r = malloc(2 + c->r_want))) {
        next_upstream(c);
        return;
      }
      memcpy(c->r, c->r_hdr, 2);
    } else if (c->r && c->r_len == 2 + c->r_want) {
      break;
    }
  }
  unsigned char *m = c->r + 2;
  int rcode = m[3] & 0xf;
  /* not the answer to our query, SERVFAIL or REFUSED: the next upstream (Docker's) */
  if (get16(m) != c->up_id || !(m[2] & 0x80) || rcode == 2 || rcode == 5) {
    next_upstream(c);
    return;
  }
  put16(m, c->client_id);
  unsigned char *whole = c->r;
  size_t len = c->r_len;
  c->r = NULL;
  end_forward(c);
  reply(c, whole, len);
}

static void upstream_event(struct conn *c, short revents) {
  if (!c->sending) {
    if (revents & (POLLIN | POLLERR | POLLHUP)) read_upstream(c);
    return;
  }
  if (!(revents & (POLLOUT | POLLERR | POLLHUP))) return;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->up, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
    next_upstream(c);
    return;
  }
  /* at most 4 KiB on a new connection: a send that does not take it whole is a failure */
  ssize_t w = send(c->up, c->q, c->q_len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w != (ssize_t)c->q_len) next_upstream(c);
  else c->sending = 0;
}

static void accept_clients(void) {
  for (int k = 0; k < ACCEPTS; k++) {
    int fd = accept4(T_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    struct conn *slot = NULL, *idle = NULL, *any = NULL;
    for (int i = 0; i < DNS_TCP_CLIENTS && !slot; i++) {
      struct conn *c = &C[i];
      if (c->fd < 0) slot = c;
      else {
        if (!any || c->last < any->last) any = c;
        if (!c->q && (!idle || c->last < idle->last)) idle = c;
      }
    }
    if (!slot) {
      slot = idle ? idle : any;
      drop(slot);
    }
    if (!(slot->in = malloc(IN_SIZE))) {
      close(fd);
      return;
    }
    slot->fd = fd;
    slot->in_len = 0;
    slot->last = dns_now_ms();
    slot->deadline = slot->last + IDLE_MS;
  }
}

int dns_tcp_pollfds(struct pollfd *p) {
  if (T_listen < 0) return 0;
  p[0] = (struct pollfd){T_listen, POLLIN, 0};
  for (int i = 0; i < DNS_TCP_CLIENTS; i++) {
    const struct conn *c = &C[i];
    short ev = c->out ? POLLOUT : !c->q && !c->eof ? POLLIN : 0;
    p[1 + i] = (struct pollfd){c->fd, ev, 0};
    p[1 + DNS_TCP_CLIENTS + i] = (struct pollfd){c->up, c->sending ? POLLOUT : POLLIN, 0};
  }
  return 1 + 2 * DNS_TCP_CLIENTS;
}

long long dns_tcp_deadline(void) {
  long long next = -1;
  for (int i = 0; i < DNS_TCP_CLIENTS; i++) {
    const struct conn *c = &C[i];
    if (c->fd < 0) continue;
    long long d = c->up >= 0 ? c->up_deadline : c->deadline;
    if (next < 0 || d < next) next = d;
  }
  return next;
}

void dns_tcp_handle(const struct pollfd *p, int n) {
  if (T_listen < 0 || n < 1 + 2 * DNS_TCP_CLIENTS) return;
  for (int i = 0; i < DNS_TCP_CLIENTS; i++) {
    struct conn *c = &C[i];
    const struct pollfd *cp = &p[1 + i], *up = &p[1 + DNS_TCP_CLIENTS + i];
    if (c->fd < 0 || cp->fd != c->fd) continue;
    if (c->up >= 0 && up->fd == c->up && up->revents) upstream_event(c, up->revents);
    if (c->fd < 0) continue;
    if (c->out && (cp->revents & (POLLOUT | POLLERR | POLLHUP))) flush(c);
    else if (cp->events & POLLIN && cp->revents & (POLLIN | POLLERR | POLLHUP)) read_client(c);
    else if (cp->revents & (POLLERR | POLLHUP)) drop(c); /* gone while its query was forwarded */
    serve(c);
  }
  long long now = dns_now_ms();
  for (int i = 0; i < DNS_TCP_CLIENTS; i++) {
    struct conn *c = &C[i];
    if (c->fd < 0) continue;
    if (c->up >= 0 && now >= c->up_deadline) next_upstream(c);
    else if (c->up < 0 && !c->q && now >= c->deadline) drop(c);
    serve(c);
  }
  if (p[0].revents & POLLIN) accept_clients();
}
