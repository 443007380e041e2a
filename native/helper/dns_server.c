/*
 * The embedded DNS server's sockets (dns.h), in the monitor's poll loop: no thread, no process
 * of its own, a few kilobytes while idle.
 *
 * The container init binds 127.0.0.11:53 (UDP and TCP) in each run's new network namespace (the
 * namespace and so the sockets are made again at each --restart run) and passes the sockets to
 * the monitor; `dns-connect` (dns_connect.c) does the same for a running container that joins a
 * user network. This file serves UDP and holds what both protocols share; dns_tcp.c serves TCP.
 * Queries skiff's names answer (dns_message.c) are answered at once; the others are forwarded
 * with a fresh random ID to the upstream resolvers in order, Docker's rules: the next one on a
 * timeout (4 s), SERVFAIL or REFUSED, SERVFAIL to the client when none is left; at most
 * MAX_PENDING at a time (REFUSED beyond, as Docker's maxConcurrent). The host's resolvers are
 * asked from the monitor's (the host's) network namespace, so a loopback resolver such as
 * systemd-resolved's 127.0.0.53 works, and only when the container has a way out (an
 * --internal network's containers never reach the outside through DNS); --dns ones from the
 * container's namespace. A reply is taken only from the address and with the ID it was asked with.
 */
#include "dns.h"
#include "helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING 64
#define TIMEOUT_MS 4000            /* Docker's extIOTimeout */
#define MAX_NAMES_FILE (1 << 20)
#define BUF_SIZE 4096              /* the largest datagram relayed (EDNS's usual 1232 fits) */
#define BATCH 32                   /* datagrams handled per wake-up and socket */

struct pending {
  int used, asked;       /* asked: the upstream index asked last (-1: none yet) */
  unsigned short up_id, client_id;
  struct sockaddr_in client;
  int fd;                /* the socket it was asked through */
  struct sockaddr_storage to;
  socklen_t to_len;
  long long deadline;
  unsigned char *query;
  size_t len;
};

static struct {
  const struct dns_config *c;
  int listen, ctr_up, host_up;
  int netns; /* the container's network namespace, for TCP to its upstreams (-1: none) */
  char *names;
  struct stat names_st;
  int npending;
} S = {.listen = -1, .ctr_up = -1, .host_up = -1, .netns = -1};
/* Out of S, whose initializer puts it in the helper's file (.data): 12 KB that would be
 * resident in every monitor, DNS server or not. */
static struct pending slots[MAX_PENDING];

static unsigned char buf[BUF_SIZE], reply[BUF_SIZE];

int dns_parse_key(struct dns_config *c, const char *key, int nf, char **f) {
  if (!strcmp(key, "dns")) {
    if (nf != 2) die("monitor: spec key dns wants 2 fields, got %d", nf);
    c->names = f[0];
    c->ndots_set = atoi(f[1]);
    return 1;
  }
  if (strcmp(key, "dns-upstream") != 0) return 0;
  if (nf != 2) die("monitor: spec key dns-upstream wants 2 fields, got %d", nf);
  if (c->nup >= DNS_MAX_UPSTREAMS) return 1; /* Docker asks the first three only */
  struct dns_upstream *u = &c->up[c->nup];
  struct sockaddr_in *in4 = (struct sockaddr_in *)&u->addr;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&u->addr;
  memset(u, 0, sizeof *u);
  if (inet_pton(AF_INET, f[0], &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(53);
    u->len = sizeof *in4;
  } else if (inet_pton(AF_INET6, f[0], &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(53);
    u->len = sizeof *in6;
  } else {
    die("monitor: dns-upstream: bad address %s", f[0]);
  }
  u->hostns = atoi(f[1]);
  c->nup++;
  return 1;
}

int dns_config_from_message(struct dns_config *c, const char *data, size_t n, char *msg, size_t len) {
  char *f[2 + 2 * DNS_MAX_UPSTREAMS];
  int nf = 0;
  if (n == 0 || data[n - 1] != 0) {
    snprintf(msg, len, "dns-connect: a malformed message");
    return -1;
  }
  for (size_t off = 0; off < n; off += strlen(data + off) + 1) {
    if (nf == (int)(sizeof f / sizeof f[0])) break; /* Docker asks the first three only */
    f[nf++] = (char *)data + off;
  }
  if (nf < 2 || nf % 2 || f[0][0] != '/') {
    snprintf(msg, len, "dns-connect: a malformed message");
    return -1;
  }
  memset(c, 0, sizeof *c);
  for (int i = 2; i < nf; i += 2) {
    unsigned char a[16];
    if (inet_pton(AF_INET, f[i], a) != 1 && inet_pton(AF_INET6, f[i], a) != 1) {
      snprintf(msg, len, "dns-connect: bad upstream address %.64s", f[i]);
      return -1;
    }
    dns_parse_key(c, "dns-upstream", 2, f + i);
  }
  char *names = strdup(f[0]);
  if (!names) {
    snprintf(msg, len, "dns-connect: out of memory");
    return -1;
  }
  c->names = names;
  c->ndots_set = atoi(f[1]);
  return 0;
}

int dns_wants_container_upstream(const struct dns_config *c) {
  for (int i = 0; i < c->nup; i++)
    if (!c->up[i].hostns) return 1;
  return 0;
}

/* An unbound UDP socket for asking upstreams: dual-stack where there is IPv6, else IPv4. */
static int upstream_socket(void) {
  int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), zero = 0;
  if (fd >= 0) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    return fd;
  }
  return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

/* A socket of TYPE (UDP or TCP, listening) on 127.0.0.11:PORT (0: one the kernel picks), PORT 53
 * shared with any socket of the container's own that asks for it (SO_REUSEADDR, SO_REUSEPORT);
 * -1 with errno. */
static int server_socket(int type, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(0x7f00000b); /* 127.0.0.11: on lo, as all of 127.0.0.0/8 */
  int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
  if (fd >= 0 && (port || type == SOCK_STREAM)) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd >= 0 && port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (fd >= 0 && (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || (type == SOCK_STREAM && listen(fd, 64) < 0))) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static unsigned short bound_port(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  return getsockname(fd, (struct sockaddr *)&a, &len) == 0 && a.sin_family == AF_INET ? ntohs(a.sin_port) : 0;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

int dns_container_sockets(const struct dns_config *c, int fds[DNS_SOCKETS], char *msg, size_t len) {
  for (int i = 0; i < DNS_SOCKETS; i++) fds[i] = -1;
  /* Docker's way: ports of the kernel's choosing and NAT rules from :53 to them, so that :53
   * stays free for a DNS server of the container's own (dns_nat.c); where the kernel has no
   * NAT for us, :53 itself. */
  fds[0] = server_socket(SOCK_DGRAM, 0);
  fds[1] = server_socket(SOCK_STREAM, 0);
  unsigned short udp = fds[0] >= 0 ? bound_port(fds[0]) : 0, tcp = fds[1] >= 0 ? bound_port(fds[1]) : 0;
  if (!udp || !tcp || dns_nat_redirect(udp, tcp) < 0) {
    close_all(fds, 2);
    fds[0] = server_socket(SOCK_DGRAM, 53);
    fds[1] = fds[0] >= 0 ? server_socket(SOCK_STREAM, 53) : -1;
    if (fds[1] < 0) {
      snprintf(msg, len, "embedded DNS: cannot listen on 127.0.0.11:53 in the container's network namespace: %s", strerror(errno));
      close_all(fds, 2);
      return -1;
    }
  }
  if (!dns_wants_container_upstream(c)) return 2;
  fds[2] = upstream_socket();
  fds[3] = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fds[2] < 0 || fds[3] < 0) {
    snprintf(msg, len, "embedded DNS: cannot make a socket for the --dns servers: %s", strerror(errno));
    close_all(fds, DNS_SOCKETS);
    return -1;
  }
  return 4;
}

long long dns_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void dns_server_start(const struct dns_config *c, int *fds, int n) {
  S.c = c;
  S.host_up = -1;
  if (n < (dns_wants_container_upstream(c) ? 4 : 2)) {
    close_all(fds, n);
    return;
  }
  S.listen = fds[0];
  S.ctr_up = n > 2 ? fds[2] : -1;
  S.netns = n > 3 ? fds[3] : -1;
  dns_tcp_start(fds[1]);
  for (int i = 0; i < c->nup; i++)
    if (c->up[i].hostns) S.host_up = upstream_socket(); /* -1: those upstreams are not asked */
}

int dns_server_running(void) { return S.listen >= 0; }

static void finish(struct pending *p) {
  free(p->query);
  memset(p, 0, sizeof *p);
  S.npending--;
}

void dns_server_stop(void) {
  for (int i = 0; i < MAX_PENDING; i++)
    if (slots[i].used) finish(&slots[i]);
  dns_tcp_stop();
  int *fds[] = {&S.listen, &S.ctr_up, &S.host_up, &S.netns};
  for (int i = 0; i < 4; i++)
    if (*fds[i] >= 0) {
      close(*fds[i]);
      *fds[i] = -1;
    }
}

/* The names file's text as it is now: read again when it was replaced (skiff renames a new one
 * in) or changed. NULL when there is none. */
static const char *current_names(void) {
  int fd = open(S.c->names, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_NAMES_FILE) {
    if (fd >= 0) close(fd);
    free(S.names);
    S.names = NULL;
    return NULL;
  }
  if (S.names && st.st_ino == S.names_st.st_ino && st.st_dev == S.names_st.st_dev && st.st_size == S.names_st.st_size &&
      st.st_mtim.tv_sec == S.names_st.st_mtim.tv_sec && st.st_mtim.tv_nsec == S.names_st.st_mtim.tv_nsec) {
    close(fd);
    return S.names;
  }
  char *text = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (text && got < (size_t)st.st_size) {
    ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  free(S.names);
  S.names = text;
  if (!text) return NULL;
  text[got] = 0;
  S.names_st = st;
  return S.names;
}

/* A peer runs while its monitor does: PID with the start time skiff recorded ("0": ourselves). */
static int monitor_alive(const char *pid, size_t pid_len, const char *start, size_t start_len) {
  if (pid_len == 1 && pid[0] == '0') return 1;
  char text[24], now[32];
  if (pid_len == 0 || pid_len >= 11 || start_len == 0 || start_len >= sizeof now) return 0;
  memcpy(text, pid, pid_len);
  text[pid_len] = 0;
  char *end;
  long v = strtol(text, &end, 10);
  if (*end || v <= 0) return 0;
  return process_start_time((pid_t)v, now, sizeof now) == 0 && strlen(now) == start_len && memcmp(now, start, start_len) == 0;
}

static void send_to_client(const struct sockaddr_in *client, const unsigned char *m, size_t n) {
  if (sendto(S.listen, m, n, MSG_DONTWAIT, (const struct sockaddr *)client, sizeof *client) < 0) {
    /* the client went away, or its socket buffer is full: as a lost datagram, it asks again */
  }
}

/* RCODE to the client of P, with the client's own ID (P's query carries the upstream one). */
static void answer_error(struct pending *p, int rcode) {
  size_t n;
  if (dns_error_reply(p->query, p->len, rcode, reply, sizeof reply, &n) != DNS_REPLY) return;
  reply[0] = (unsigned char)(p->client_id >> 8);
  reply[1] = (unsigned char)p->client_id;
  send_to_client(&p->client, reply, n);
}

/* The address the upstream U is asked at through a socket of FAMILY (IPv4 ones as mapped
 * addresses on a dual-stack socket); 0 when that socket cannot reach it. */
static socklen_t upstream_address(const struct dns_upstream *u, int family, struct sockaddr_storage *to) {
  if (u->addr.ss_family == family) {
    memcpy(to, &u->addr, u->len);
    return u->len;
  }
  if (family != AF_INET6) return 0;
  const struct sockaddr_in *in4 = (const struct sockaddr_in *)&u->addr;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)to;
  memset(in6, 0, sizeof *in6);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = in4->sin_port;
  in6->sin6_addr.s6_addr[10] = in6->sin6_addr.s6_addr[11] = 0xff;
  memcpy(&in6->sin6_addr.s6_addr[12], &in4->sin_addr, 4);
  return sizeof *in6;
}

static int socket_family(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 ? ss.ss_family : AF_UNSPEC;
}

/* Ask the next upstream that can be asked; SERVFAIL to the client when none is left. */
static void forward_next(struct pending *p) {
  int external = dns_names_external(S.names);
  for (int i = p->asked + 1; i < S.c->nup; i++) {
    const struct dns_upstream *u = &S.c->up[i];
    int fd = u->hostns ? (external ? S.host_up : -1) : S.ctr_up;
    if (fd < 0) continue;
    socklen_t len = upstream_address(u, socket_family(fd), &p->to);
    p->asked = i;
    if (len == 0 || sendto(fd, p->query, p->len, MSG_DONTWAIT, (struct sockaddr *)&p->to, len) < 0) continue;
    p->fd = fd;
    p->to_len = len;
    p->deadline = dns_now_ms() + TIMEOUT_MS;
    return;
  }
  answer_error(p, 2);
  finish(p);
}

unsigned short dns_random_id(void) {
  unsigned short id;
  static unsigned short fallback = 0x5a17;
  if (getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id) id = fallback += 0x9e37;
  return id;
}

static void forward(const unsigned char *q, size_t n, const struct sockaddr_in *client) {
  unsigned short id = (unsigned short)(q[0] << 8 | q[1]);
  struct pending *free_slot = NULL;
  for (int i = 0; i < MAX_PENDING; i++) {
    struct pending *p = &slots[i];
    if (!p->used) {
      if (!free_slot) free_slot = p;
      continue;
    }
    /* the client asking again while we wait: the answer to the first one is its answer */
    if (p->client_id == id && p->client.sin_port == client->sin_port && p->client.sin_addr.s_addr == client->sin_addr.s_addr) return;
  }
  size_t len;
  if (!free_slot || !(free_slot->query = malloc(n))) {
    if (dns_error_reply(q, n, 5, reply, sizeof reply, &len) == DNS_REPLY) send_to_client(client, reply, len);
    return;
  }
  struct pending *p = free_slot;
  p->used = 1;
  S.npending++;
  p->asked = -1;
  p->client = *client;
  p->client_id = id;
  memcpy(p->query, q, n);
  p->len = n;
  int unique;
  do {
    p->up_id = dns_random_id();
    unique = 1;
    for (int i = 0; i < MAX_PENDING; i++)
      if (&slots[i] != p && slots[i].used && slots[i].up_id == p->up_id) unique = 0;
  } while (!unique);
  p->query[0] = (unsigned char)(p->up_id >> 8);
  p->query[1] = (unsigned char)p->up_id;
  forward_next(p);
}

static void serve_queries(void) {
  for (int i = 0; i < BATCH; i++) {
    struct sockaddr_in client;
    socklen_t clen = sizeof client;
    ssize_t n = recvfrom(S.listen, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&client, &clen);
    if (n < 0) return; /* EAGAIN: all read */
    if ((size_t)n > sizeof buf || clen != sizeof client || client.sin_family != AF_INET) continue;
    size_t len;
    int what = dns_answer_local(buf, (size_t)n, 0, reply, sizeof reply, &len);
    if (what == DNS_REPLY) send_to_client(&client, reply, len);
    else if (what == DNS_FORWARD) forward(buf, (size_t)n, &client);
  }
}

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

static void relay_replies(int fd) {
  for (int i = 0; i < BATCH; i++) {
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from, &flen);
    if (n < 0) return;
    if (n < 12 || !(buf[2] & 0x80)) continue;
    unsigned short id = (unsigned short)(buf[0] << 8 | buf[1]);
    struct pending *p = NULL;
    for (int j = 0; j < MAX_PENDING && !p; j++)
      if (slots[j].used && slots[j].asked >= 0 && slots[j].up_id == id && slots[j].fd == fd && same_address(&slots[j].to, &from)) p = &slots[j];
    if (!p) continue; /* late, or not ours */
    int rcode = buf[3] & 0xf;
    /* too big for us, SERVFAIL or REFUSED: the next upstream (Docker's) */
    if ((size_t)n > sizeof buf || rcode == 2 || rcode == 5) {
      forward_next(p);
      continue;
    }
    size_t len = (size_t)n;
    dns_udp_fit(p->query, p->len, buf, &len, sizeof buf);
    buf[0] = (unsigned char)(p->client_id >> 8);
    buf[1] = (unsigned char)p->client_id;
    send_to_client(&p->client, buf, len);
    finish(p);
  }
}

int dns_pollfds(struct pollfd *p) {
  int n = 0;
  int fds[] = {S.listen, S.host_up, S.ctr_up};
  if (S.listen < 0) return 0;
  for (int i = 0; i < 3; i++) p[n++] = (struct pollfd){fds[i], POLLIN, 0};
  return n + dns_tcp_pollfds(p + n);
}

int dns_poll_timeout(void) {
  long long now = dns_now_ms(), next = S.listen >= 0 ? dns_tcp_deadline() : -1;
  for (int i = 0; S.npending && i < MAX_PENDING; i++)
    if (slots[i].used && (next < 0 || slots[i].deadline < next)) next = slots[i].deadline;
  if (next < 0) return -1;
  return next <= now ? 0 : (int)(next - now);
}

void dns_handle(const struct pollfd *p, int n) {
  if (S.listen < 0) return;
  for (int i = 0; i < 3 && i < n; i++) {
    if (!(p[i].revents & POLLIN)) continue;
    if (p[i].fd == S.listen) serve_queries();
    else relay_replies(p[i].fd);
  }
  dns_tcp_handle(p + 3, n - 3);
  if (S.npending == 0) return;
  long long now = dns_now_ms();
  for (int i = 0; i < MAX_PENDING; i++)
    if (slots[i].used && slots[i].deadline <= now) forward_next(&slots[i]);
}

int dns_answer_local(const unsigned char *q, size_t n, int tcp, unsigned char *out, size_t cap, size_t *outlen) {
  return dns_local_reply(current_names(), S.c->ndots_set, monitor_alive, q, n, tcp, out, cap, outlen);
}

int dns_upstream_count(void) { return S.c ? S.c->nup : 0; }

/* A TCP socket made in the container's network namespace: by a child of ours that enters it
 * (setns needs a single-threaded process, and a rootless monitor could not come back to the
 * host's namespace, which the initial user namespace owns), passed back over a socket pair. */
static int container_tcp_socket(int family) {
  int sv[2], fd = -1;
  if (S.netns < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    int s = setns(S.netns, CLONE_NEWNET) == 0 ? socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
    if (s >= 0) fd_send(sv[1], 'S', &s, 1);
    _exit(0);
  }
  close(sv[1]);
  if (pid > 0 && fd_recv(sv[0], &fd, 1) != 1) fd = -1;
  close(sv[0]);
  /* reaped here, not by the poll loop's waitpid(-1): it has exited or is about to */
  while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  return fd;
}

int dns_upstream_tcp(int i) {
  const struct dns_upstream *u = &S.c->up[i];
  if (u->hostns && !dns_names_external(S.names)) return -1;
  int fd = u->hostns ? socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : container_tcp_socket(u->addr.ss_family);
  if (fd < 0) return -1;
  if (connect(fd, (const struct sockaddr *)&u->addr, u->len) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

int mode_dns_answer(int argc, char **argv) {
  if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "tcp"))) die("usage: dns-answer NAMES_FILE NDOTS_SET [tcp]");
  static struct dns_config c;
  c.names = argv[1];
  c.ndots_set = atoi(argv[2]);
  S.c = &c;
  size_t n = 0;
  for (;;) {
    ssize_t r = read(0, buf + n, sizeof buf - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == sizeof buf) break;
  }
  size_t len;
  int what = dns_local_reply(current_names(), c.ndots_set, monitor_alive, buf, n, argc == 4, reply, sizeof reply, &len);
  if (what == DNS_FORWARD) return 3;
  if (what == DNS_DROP) return 4;
  write_all(1, reply, len, "stdout");
  return 0;
}
