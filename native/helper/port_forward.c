/*
 * Published ports (-p) through skiff's own forwarder, the model of Podman's rootlessport, in C
 * and with no Node in the data path.
 *
 * The monitor binds every host port once (port_forward_bind), in the host's network namespace,
 * so the ports stay ours across --restart and a clash is known before the container starts. At
 * each run it forks the forwarder, which enters the container's network namespace with
 * setns(2): sockets keep the namespace they were made in, so the bound host sockets still
 * accept on the host while every socket the forwarder makes from then on is the container's.
 * One process, one epoll loop, no round trip to a helper per connection:
 *  - TCP: accept on the host, connect (non-blocking) to the container's address, then relay
 *    both ways with splice(2) through a pipe per direction, so the bytes never reach user
 *    space; a half-close is passed on (shutdown SHUT_WR) once its direction is drained;
 *  - UDP: one socket in the container per client address (a session), connected to the
 *    container's port; its replies go back to that client from the host socket. Sessions idle
 *    for UDP_IDLE_MS are closed (conntrack's UDP timeout is 30-120 s).
 * The container sees its own address as the peer, never the client's: the source address is
 * kept only by slirp4netns's port handler (--network slirp4netns:port_handler=slirp4netns).
 *
 * The forwarder gets PR_SET_PDEATHSIG (it dies with the monitor) and is SIGKILLed when the run
 * ends; it holds no fd of the monitor's but the host sockets (so no pipe the monitor or skiff
 * waits on for EOF stays open through it).
 */
#include "port_forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "port_handoff.h"

#define PIPE_SIZE (1 << 20)  /* per direction: fewer splice calls per megabyte */
#define LISTEN_BACKLOG 128
#define UDP_IDLE_MS 60000
#define UDP_MAX_SESSIONS 256
#define UDP_MAX_DATAGRAM 65536

int port_forward_parse_key(struct port_forward *f, const char *key, int nf, char **fields) {
  if (!strcmp(key, "port-handoff")) {
    if (nf != 1) die("monitor: spec key port-handoff wants 1 field, got %d", nf);
    f->handoff = atoi(fields[0]) != 0;
    return 1;
  }
  if (strcmp(key, "port-forward") != 0) return 0;
  if (nf != 5) die("monitor: spec key port-forward wants 5 fields, got %d", nf);
  if (f->n >= MAX_PORT_FORWARDS) die("monitor: more than %d port-forward records", MAX_PORT_FORWARDS);
  struct port_rule *r = &f->r[f->n++];
  if (strcmp(fields[0], "tcp") != 0 && strcmp(fields[0], "udp") != 0) die("monitor: port-forward: bad protocol %s", fields[0]);
  r->udp = !strcmp(fields[0], "udp");
  r->host_ip = fields[1];
  r->host_port = atoi(fields[2]);
  r->ctr_ip = fields[3];
  r->ctr_port = atoi(fields[4]);
  r->fd = -1;
  if (r->host_port < 1 || r->host_port > 65535 || r->ctr_port < 1 || r->ctr_port > 65535)
    die("monitor: port-forward: bad port in %s %s", fields[2], fields[4]);
  return 1;
}

int port_forward_address(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  if (addr[0] && inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    *len = sizeof *in4;
    return 0;
  }
  if (!addr[0] || inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (!addr[0]) in6->sin6_addr = in6addr_any;
    *len = sizeof *in6;
    return 0;
  }
  return -1;
}

/* One host socket for R, bound (and listening for TCP); -1 with errno. An unspecified address
 * takes both families on one dual-stack socket, or IPv4 alone where the host has no IPv6. */
static int bind_rule(const struct port_rule *r, int handoff) {
  struct sockaddr_storage ss;
  socklen_t len;
  if (port_forward_address(r->host_ip, r->host_port, &ss, &len) < 0) {
    errno = EINVAL;
    return -1;
  }
  int type = (r->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK;
  int fd = socket(ss.ss_family, type, 0);
  if (fd < 0 && !r->host_ip[0] && errno == EAFNOSUPPORT) {
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    memset(&ss, 0, sizeof ss);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(r->host_port);
    in4->sin_addr.s_addr = htonl(INADDR_ANY);
    len = sizeof *in4;
    fd = socket(AF_INET, type, 0);
  }
  if (fd < 0) return -1;
  int one = 1, zero = 0;
  if (!r->udp) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* a socket handed to the container binds beside this one (port_handoff.c): the same user only */
  if (!r->udp && handoff) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (ss.ss_family == AF_INET6 && !r->host_ip[0]) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (!r->udp && listen(fd, LISTEN_BACKLOG) < 0)) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int port_forward_bind(struct port_forward *f, char *msg, size_t len) {
  for (int i = 0; i < f->n; i++) {
    struct port_rule *r = &f->r[i];
    r->fd = bind_rule(r, f->handoff);
    if (r->fd >= 0) continue;
    /* Node words it (port-allocation.ts bindRefusal), as it words its own probe's refusal: a port
     * taken between the probe and this bind reads the same. The address goes last: it may be "". */
    snprintf(msg, len, "publish %s %d %d %d %s", r->udp ? "udp" : "tcp", r->host_port, r->ctr_port, errno, r->host_ip);
    for (int j = 0; j < i; j++) {
      close(f->r[j].fd);
      f->r[j].fd = -1;
    }
    return -1;
  }
  return 0;
}

/* ---------- the forwarder's loop ---------- */

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* What an epoll event points at. */
enum tag_kind { TAG_TCP_LISTENER, TAG_UDP_HOST, TAG_TCP_SIDE, TAG_UDP_SESSION, TAG_HANDOFF_SOCK, TAG_HANDOFF };
struct tag {
  enum tag_kind kind;
  int index;  /* the rule (host UDP sockets), or the side of a TCP connection */
  void *owner;
};

/* A TCP connection: side 0 the client's socket (host), side 1 the container's. pipe[d] carries
 * what side d sent to side !d; queued[d] bytes are in it. */
struct tcp_conn {
  int fd[2];
  int pipe[2][2];
  size_t queued[2];
  unsigned char eof[2], shut[2], connecting, dead;
  struct tag tag[2];
  struct tcp_conn *next_dead;
};

struct udp_session {
  int fd;                      /* in the container, connected to the rule's port */
  const struct port_rule *rule;
  struct sockaddr_storage client;
  socklen_t client_len;
  long last_ms;
  struct tag tag;
  struct udp_session *next_dead;
};

/* A TCP listener and where each of its connections goes: a rule's host socket relays to the
 * container's address; a handed-off port's relay listener in the container's namespace relays to
 * the host socket the container's server now listens on (port_handoff.c), made on the host. */
struct tcp_listener {
  int fd;
  struct sockaddr_storage target;
  socklen_t target_len;
  int target_on_host;
  struct tag tag;
};

static int epfd;
static struct tcp_conn *dead_conns;
static struct udp_session *dead_sessions;
static struct udp_session *sessions[UDP_MAX_SESSIONS];
static int nsessions;
static char dgram[UDP_MAX_DATAGRAM];

static int watch(int fd, struct tag *t, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = t};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void conn_close(struct tcp_conn *c) {
  if (c->dead) return;
  c->dead = 1;
  for (int i = 0; i < 2; i++) {
    close(c->fd[i]);
    close(c->pipe[i][0]);
    close(c->pipe[i][1]);
  }
  /* freed after the current batch of events, which may still name it */
  c->next_dead = dead_conns;
  dead_conns = c;
}

/* Move what side D sent on to side !D until neither step makes progress; -1: the connection failed. */
static int pump(struct tcp_conn *c, int d) {
  int to = !d;
  for (;;) {
    int progress = 0;
    if (!c->eof[d] && c->queued[d] < PIPE_SIZE) {
      ssize_t n = splice(c->fd[d], NULL, c->pipe[d][1], NULL, PIPE_SIZE - c->queued[d], SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) c->queued[d] += n, progress = 1;
      else if (n == 0) c->eof[d] = 1, progress = 1;
      else if (errno != EAGAIN && errno != EINTR) return -1;
    }
    if (c->queued[d] > 0) {
      ssize_t n = splice(c->pipe[d][0], NULL, c->fd[to], NULL, c->queued[d], SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) c->queued[d] -= n, progress = 1;
      else if (n < 0 && errno != EAGAIN && errno != EINTR) return -1;
    }
    if (c->eof[d] && c->queued[d] == 0 && !c->shut[d]) {
      shutdown(c->fd[to], SHUT_WR);
      c->shut[d] = 1;
    }
    if (!progress) return 0;
  }
}

static void conn_event(struct tcp_conn *c, int side, uint32_t events) {
  if (c->dead) return;
  if (c->connecting) {
    if (side != 1) return;  /* the client's data waits in its socket until we are connected */
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &l);
    if (err || (events & (EPOLLERR | EPOLLHUP))) {
      conn_close(c);  /* nothing listens in the container: the client sees its connection end */
      return;
    }
    if (!(events & EPOLLOUT)) return;
    c->connecting = 0;
  }
  if (pump(c, 0) < 0 || pump(c, 1) < 0 || (c->shut[0] && c->shut[1])) conn_close(c);
}

static int new_pipe(int p[2]) {
  if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
  fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE); /* may be refused (the user's pipe quota): the default then */
  return 0;
}

/* An fd kept free for tcp_accept when the others are spent (the classic spare-fd trick). */
static int spare_fd = -1;

static int host_socket(int family);

static void tcp_accept(const struct tcp_listener *l) {
  for (;;) {
    int client = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0 && (errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
      /* Out of fds (a client holding many connections): a connection left in the backlog would
       * wake the level-triggered listener again at once, a busy loop until fds come free. Take
       * it with the spare fd and close it: that client is refused, the loop goes on. */
      close(spare_fd);
      client = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
      if (client >= 0) close(client);
      spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (client >= 0) continue;
    }
    if (client < 0) return;  /* EAGAIN */
    struct tcp_conn *c = calloc(1, sizeof *c);
    int family = l->target.ss_family, target = -1;
    if (c) target = l->target_on_host ? host_socket(family) : socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (target >= 0 && l->target_on_host) fcntl(target, F_SETFL, O_NONBLOCK);
    if (target < 0) {
      close(client);
      free(c);
      continue;
    }
    c->fd[0] = client;
    c->fd[1] = target;
    c->pipe[0][0] = c->pipe[0][1] = c->pipe[1][0] = c->pipe[1][1] = -1;
    if (new_pipe(c->pipe[0]) < 0 || new_pipe(c->pipe[1]) < 0) {
      conn_close(c);
      continue;
    }
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(target, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(target, (const struct sockaddr *)&l->target, l->target_len) < 0 && errno != EINPROGRESS) {
      conn_close(c);
      continue;
    }
    c->connecting = 1;
    for (int side = 0; side < 2; side++) {
      c->tag[side] = (struct tag){TAG_TCP_SIDE, side, c};
      if (watch(c->fd[side], &c->tag[side], EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
        conn_close(c);
        break;
      }
    }
  }
}

static void session_close(int i) {
  struct udp_session *s = sessions[i];
  close(s->fd);
  /* A new client evicts the oldest session while an event of the same batch may still name it
   * (its reply came in at that moment): freed after the batch, as a TCP connection is. */
  s->fd = -1;
  s->next_dead = dead_sessions;
  dead_sessions = s;
  sessions[i] = sessions[--nsessions];
}

/* The session of CLIENT on rule R, made when new (the oldest one makes room at the limit). */
static struct udp_session *session_for(const struct port_rule *r, const struct sockaddr_storage *client, socklen_t clen) {
  for (int i = 0; i < nsessions; i++)
    if (sessions[i]->rule == r && sessions[i]->client_len == clen && !memcmp(&sessions[i]->client, client, clen)) return sessions[i];
  if (nsessions == UDP_MAX_SESSIONS) {
    int oldest = 0;
    for (int i = 1; i < nsessions; i++)
      if (sessions[i]->last_ms < sessions[oldest]->last_ms) oldest = i;
    session_close(oldest);
  }
  struct sockaddr_storage ss;
  socklen_t len;
  if (port_forward_address(r->ctr_ip, r->ctr_port, &ss, &len) < 0) return NULL;
  struct udp_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&ss, len) < 0) {
    if (s->fd >= 0) close(s->fd);
    free(s);
    return NULL;
  }
  s->rule = r;
  memcpy(&s->client, client, clen);
  s->client_len = clen;
  s->tag = (struct tag){TAG_UDP_SESSION, 0, s};
  if (watch(s->fd, &s->tag, EPOLLIN) < 0) {
    close(s->fd);
    free(s);
    return NULL;
  }
  sessions[nsessions++] = s;
  return s;
}

static void udp_from_client(const struct port_rule *r) {
  for (;;) {
    struct sockaddr_storage client;
    socklen_t clen = sizeof client;
    ssize_t n = recvfrom(r->fd, dgram, sizeof dgram, 0, (struct sockaddr *)&client, &clen);
    if (n < 0) return;
    struct udp_session *s = session_for(r, &client, clen);
    if (!s) continue;
    s->last_ms = now_ms();
    if (send(s->fd, dgram, n, 0) < 0) { /* the container is not listening yet: dropped, as UDP may be */ }
  }
}

static void udp_from_container(struct udp_session *s) {
  while (s->fd >= 0) {
    ssize_t n = recv(s->fd, dgram, sizeof dgram, 0);
    if (n < 0) return;
    s->last_ms = now_ms();
    sendto(s->rule->fd, dgram, n, 0, (struct sockaddr *)&s->client, s->client_len);
  }
}

static void sweep_idle_sessions(void) {
  long now = now_ms();
  for (int i = 0; i < nsessions;)
    if (now - sessions[i]->last_ms > UDP_IDLE_MS) session_close(i);
    else i++;
}

static int by_number(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* Close every fd but the rules' sockets, NETNS and HANDOFF_SOCK (close_range over the gaps), and
 * point 0-2 at /dev/null: nothing the monitor or skiff waits on for EOF may stay open through us. */
static void keep_only(const struct port_forward *f, int netns, int handoff_sock) {
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) _exit(1);
  for (int fd = 0; fd < 3; fd++) dup2(devnull, fd);
  static int keep[MAX_PORT_FORWARDS + 2];
  int n = 0;
  keep[n++] = netns;
  if (handoff_sock >= 0) keep[n++] = handoff_sock;
  for (int i = 0; i < f->n; i++) keep[n++] = f->r[i].fd;
  qsort(keep, n, sizeof keep[0], by_number);
  unsigned int from = 3;
  for (int i = 0; i <= n; i++) {
    unsigned int to = i < n ? (unsigned int)keep[i] : ~0U;
    if (to > from && syscall(SYS_close_range, from, to - 1, 0) < 0)
      for (unsigned int fd = from; fd < to && fd < 65536; fd++) close((int)fd);
    if (i < n && (unsigned int)keep[i] + 1 > from) from = (unsigned int)keep[i] + 1;
  }
}

/* ---------- handed-off ports (port_handoff.c) ---------- */

/*
 * Sockets in the host's network namespace, made on request by a thread that stays there: a
 * network namespace is per thread, and the main thread went into the container's. Only with
 * port-handoff: the handed-off sockets, and the host end of each relay listener's connections.
 */
static int factory_req[2] = {-1, -1}, factory_resp[2] = {-1, -1};

static void *socket_factory(void *unused) {
  (void)unused;
  int family;
  while (read(factory_req[0], &family, sizeof family) == sizeof family) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int reply = fd >= 0 ? fd : -errno;
    if (write(factory_resp[1], &reply, sizeof reply) != sizeof reply) break;
  }
  return NULL;
}

static int host_socket(int family) {
  int reply;
  if (factory_req[1] < 0) {
    errno = ENOSYS;
    return -1;
  }
  if (write(factory_req[1], &family, sizeof family) != sizeof family ||
      read(factory_resp[0], &reply, sizeof reply) != sizeof reply)
    return -1;
  if (reply < 0) {
    errno = -reply;
    return -1;
  }
  return reply;
}

static int start_socket_factory(void) {
  pthread_attr_t attr;
  pthread_t t;
  if (pipe2(factory_req, O_CLOEXEC) < 0 || pipe2(factory_resp, O_CLOEXEC) < 0) return -1;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int r = pthread_create(&t, &attr, socket_factory, NULL);
  pthread_attr_destroy(&attr);
  return r == 0 ? 0 : -1;
}

static const struct port_forward *the_rules;
static struct tcp_listener rule_listeners[MAX_PORT_FORWARDS];
#define MAX_RELAYS 64
static struct tcp_listener relays[MAX_RELAYS];
static int nrelays;

/* The container's server serves every family rule I's host socket did: stop accepting there
 * (connect AF_UNSPEC leaves it bound, so the port stays reserved; the next run listens again). */
static void unlisten_rule(int i) {
  int fd = the_rules->r[i].fd;
  epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  connect(fd, &unspec, sizeof unspec);
}

static int same_listen_address(const struct tcp_listener *l, const struct sockaddr_storage *ctr, socklen_t len) {
  struct sockaddr_storage have;
  socklen_t have_len = sizeof have;
  return getsockname(l->fd, (struct sockaddr *)&have, &have_len) == 0 && have_len == len && !memcmp(&have, ctr, len);
}

static void relay_to_host(const struct sockaddr_storage *ctr, socklen_t ctr_len, int v6only, const struct sockaddr_storage *host,
                          socklen_t host_len) {
  for (int i = 0; i < nrelays; i++)
    if (same_listen_address(&relays[i], ctr, ctr_len)) return; /* the server bound again: the relay stays */
  if (nrelays == MAX_RELAYS) return;
  int fd = socket(ctr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ctr->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  struct tcp_listener *l = &relays[nrelays];
  l->fd = fd;
  memcpy(&l->target, host, sizeof l->target);
  l->target_len = host_len;
  l->target_on_host = 1;
  l->tag = (struct tag){TAG_TCP_LISTENER, 0, l};
  /* taken (a server started by exec holds it): the container's own clients then miss the port */
  if (bind(fd, (const struct sockaddr *)ctr, ctr_len) < 0 || listen(fd, LISTEN_BACKLOG) < 0 || watch(fd, &l->tag, EPOLLIN) < 0) {
    close(fd);
    return;
  }
  nrelays++;
}

static const struct handoff_ops handoff_ops = {host_socket, unlisten_rule, relay_to_host};

/* ---------- the forwarder ---------- */

static void __attribute__((noreturn)) forwarder(const struct port_forward *f, int netns, int handoff_sock, pid_t monitor,
                                                const sigset_t *mask) {
  if (die_with_monitor_child(monitor) < 0) _exit(0);
  prctl(PR_SET_NAME, "skiff-portfwd", 0, 0, 0);
  keep_only(f, netns, handoff_sock);
  /* the monitor's mask blocks the signals it reads through its signalfd: the defaults here */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);  /* a peer gone mid-splice is an EPIPE, not our end */
  spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  sigprocmask(SIG_SETMASK, mask, NULL);
  /* before setns: the factory thread keeps the host's network namespace */
  if (handoff_sock >= 0 && start_socket_factory() < 0) _exit(1);
  if (setns(netns, CLONE_NEWNET) < 0) _exit(1);
  close(netns);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) _exit(1);
  the_rules = f;
  static struct tag udp_tags[MAX_PORT_FORWARDS];
  for (int i = 0; i < f->n; i++) {
    const struct port_rule *r = &f->r[i];
    struct tag *t = &udp_tags[i];
    if (r->udp) {
      *t = (struct tag){TAG_UDP_HOST, i, NULL};
    } else {
      struct tcp_listener *l = &rule_listeners[i];
      l->fd = r->fd;
      if (port_forward_address(r->ctr_ip, r->ctr_port, &l->target, &l->target_len) < 0) _exit(1);
      /* a run before this one may have handed the port off and stopped its listening */
      listen(r->fd, LISTEN_BACKLOG);
      t = &l->tag;
      *t = (struct tag){TAG_TCP_LISTENER, i, l};
    }
    if (watch(r->fd, t, EPOLLIN) < 0) _exit(1);
  }
  struct tag handoff_tag = {TAG_HANDOFF_SOCK, 0, NULL}, listener_tag = {TAG_HANDOFF, 0, NULL};
  int notify_listener = -1;
  if (handoff_sock >= 0 && watch(handoff_sock, &handoff_tag, EPOLLIN) < 0) _exit(1);
  struct epoll_event ev[64];
  for (;;) {
    int n = epoll_wait(epfd, ev, 64, nsessions ? 5000 : -1);
    if (n < 0 && errno != EINTR) _exit(1);
    for (int i = 0; i < n; i++) {
      struct tag *t = ev[i].data.ptr;
      switch (t->kind) {
        case TAG_TCP_LISTENER: tcp_accept(t->owner); break;
        case TAG_UDP_HOST: udp_from_client(&f->r[t->index]); break;
        case TAG_TCP_SIDE: conn_event(t->owner, t->index, ev[i].events); break;
        case TAG_UDP_SESSION: udp_from_container(t->owner); break;
        case TAG_HANDOFF_SOCK:
          /* the init's listener, once (or EOF: the init failed before sending it) */
          epoll_ctl(epfd, EPOLL_CTL_DEL, handoff_sock, NULL);
          if (fd_recv(handoff_sock, &notify_listener, 1) == 1 && watch(notify_listener, &listener_tag, EPOLLIN) < 0) _exit(1);
          close(handoff_sock);
          break;
        case TAG_HANDOFF:
          /* EPOLLHUP: every process of the container is gone; the run's end stops us */
          if (ev[i].events & EPOLLHUP) epoll_ctl(epfd, EPOLL_CTL_DEL, notify_listener, NULL);
          else port_handoff_notified(notify_listener, f, &handoff_ops);
          break;
      }
    }
    while (dead_conns) {
      struct tcp_conn *c = dead_conns;
      dead_conns = c->next_dead;
      free(c);
    }
    while (dead_sessions) {
      struct udp_session *u = dead_sessions;
      dead_sessions = u->next_dead;
      free(u);
    }
    if (nsessions) sweep_idle_sessions();
  }
}

int port_forward_start(const struct port_forward *f, int netns, int handoff_sock, pid_t monitor,
                       struct port_forward_proc *p, char *msg, size_t len) {
  p->pid = -1;
  p->pidfd = -1;
  if (f->n == 0) return 0;
  sigset_t none;
  sigemptyset(&none);
  p->pid = fork();
  if (p->pid < 0) {
    snprintf(msg, len, "cannot start the port forwarder: %s", strerror(errno));
    return -1;
  }
  if (p->pid == 0) forwarder(f, netns, handoff_sock, monitor, &none);
  p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
  return 0;
}

void port_forward_stop(struct port_forward_proc *p) {
  if (p->pid <= 0) return;
  if (p->pidfd >= 0) syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
  else kill(p->pid, SIGKILL);
  while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR) {
  }
  if (p->pidfd >= 0) close(p->pidfd);
  p->pid = -1;
  p->pidfd = -1;
}
