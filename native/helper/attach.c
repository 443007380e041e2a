/*
 * The attach socket: how a later `skiff attach` (or `start -a` of a running container) reaches
 * the container's stdio through its monitor (native/PROTOCOL.md, spec key `attach-socket`).
 * A unix stream socket in the container directory; each side sends frames
 *   TYPE (1 byte)  LENGTH (4 bytes, big-endian)  DATA (LENGTH bytes)
 * monitor -> client: 1 stdout, 2 stderr (the container's output from the moment the client
 * connected), 3 exit (DATA: the exit code in decimal; the monitor closes the socket after it).
 * client -> monitor: 0 stdin bytes (dropped unless the container keeps stdin open), 4 resize
 * (DATA "ROWS COLS", with -t), 5 signal (DATA: the number; the monitor sends it to the container),
 * 6 dns (`dns-connect`, dns_connect.c: the embedded DNS server's sockets as SCM_RIGHTS on the
 * frame's bytes, DATA its configuration; the monitor answers with a frame 6, "ok" or why not),
 * 7 net (`network connect`/`disconnect`: a user network that later --restart runs attach, or no
 * longer attach; answered with a frame 7, "ok" or why not).
 * A client that stops reading for a second is dropped, so it cannot stall the container's output.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define MAX_CLIENTS 16
#define FRAME_MAX (64 * 1024)
#define STDIN_CHUNK 512 /* bytes per write: small enough not to block on a pipe or pty that polled writable */

enum { F_STDIN = 0, F_STDOUT = 1, F_STDERR = 2, F_EXIT = 3, F_RESIZE = 4, F_SIGNAL = 5, F_DNS = 6, F_NET = 7 };

/* Only small fields here: with its initializer `at` is stored in the helper's file (.data),
 * and each page of it the monitor reads stays resident. */
static struct {
  int listen_fd;
  int dirfd;
  char *pending; /* stdin bytes from clients not yet in the container's stdin */
  size_t pending_len, pending_off;
} at = {.listen_fd = -1, .dirfd = -1};
static char at_path[4200];

/* A client's frame buffer is allocated when it connects: most containers never see one, and
 * a static array of them would be resident in every monitor as soon as the slots are set up. */
#define CLIENT_BUF (FRAME_MAX + 5)
static struct client {
  int fd;
  unsigned char *buf; /* CLIENT_BUF bytes while connected */
  size_t len;
  int fds[FD_PASS_MAX]; /* passed with its bytes, for a dns frame (closed unless one takes them) */
  int nfds;
} clients[MAX_CLIENTS];

/* The socket's address through the directory's fd: the container directory's own path can be
 * longer than sun_path's 108 bytes. */
static void socket_addr(struct sockaddr_un *a) {
  const char *slash = strrchr(at_path, '/');
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  snprintf(a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/%.64s", at.dirfd, slash ? slash + 1 : at_path);
}

void attach_listen(const char *path) {
  snprintf(at_path, sizeof at_path, "%s", path);
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || strlen(slash + 1) > 64) die("monitor: attach socket path %s is not absolute or its name is too long", path);
  *slash = 0;
  at.dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (at.dirfd < 0) die("monitor: cannot open %s for the attach socket: %s", dir, strerror(errno));
  struct sockaddr_un a;
  socket_addr(&a);
  unlink(a.sun_path); /* a previous run's */
  at.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (at.listen_fd < 0 || bind(at.listen_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      chmod(a.sun_path, 0600) < 0 || listen(at.listen_fd, 8) < 0)
    die("monitor: cannot create the attach socket %s: %s", path, strerror(errno));
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;
  at.pending = xmalloc(FRAME_MAX * 2);
}

static void drop_client(struct client *c) {
  for (int i = 0; i < c->nfds; i++) close(c->fds[i]);
  c->nfds = 0;
  close(c->fd);
  c->fd = -1;
  c->len = 0;
  free(c->buf);
  c->buf = NULL;
}

/* Send one whole frame: a partial frame would corrupt the stream, so wait (a second at most). */
static int send_frame(struct client *c, int type, const char *data, size_t n) {
  unsigned char h[5] = {type, n >> 24, n >> 16, n >> 8, n};
  struct iovec iov[2] = {{h, 5}, {(void *)data, n}};
  size_t total = 5 + n, sent = 0;
  while (sent < total) {
    struct iovec v[2];
    int cnt = 0;
    size_t skip = sent;
    for (int i = 0; i < 2; i++) {
      if (skip >= iov[i].iov_len) { skip -= iov[i].iov_len; continue; }
      v[cnt].iov_base = (char *)iov[i].iov_base + skip;
      v[cnt++].iov_len = iov[i].iov_len - skip;
      skip = 0;
    }
    struct msghdr m = {.msg_iov = v, .msg_iovlen = cnt};
    ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) { sent += w; continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN) return -1;
    struct pollfd p = {c->fd, POLLOUT, 0};
    if (poll(&p, 1, 1000) <= 0) return -1;
  }
  return 0;
}

void attach_broadcast(int stream, const char *buf, size_t n) {
  if (at.listen_fd < 0) return;
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0 && send_frame(&clients[i], stream, buf, n) < 0) drop_client(&clients[i]);
}

int attach_pollfds(struct pollfd *p, int stdin_fd) {
  if (at.listen_fd < 0) return 0;
  /* nothing takes stdin (the run ended: a back-off): what waited for it would block the clients' reads */
  if (stdin_fd < 0) at.pending_len = at.pending_off = 0;
  int n = 0;
  int busy = at.pending_len > at.pending_off;
  p[n++] = (struct pollfd){at.listen_fd, POLLIN, 0};
  p[n++] = (struct pollfd){busy ? stdin_fd : -1, POLLOUT, 0};
  for (int i = 0; i < MAX_CLIENTS; i++)
    p[n++] = (struct pollfd){busy ? -1 : clients[i].fd, POLLIN, 0};
  return n;
}

static int send_frame(struct client *c, int type, const char *data, size_t n);

static void handle_frame(struct client *c, int type, const unsigned char *d, size_t n, const struct attach_target *t) {
  char text[64];
  size_t tn = n < sizeof text - 1 ? n : sizeof text - 1;
  memcpy(text, d, tn);
  text[tn] = 0;
  if (type == F_STDIN) {
    if (t->stdin_fd < 0) return;
    memcpy(at.pending + at.pending_len, d, n);
    at.pending_len += n;
  } else if (type == F_RESIZE && t->master >= 0) {
    struct winsize ws = {0};
    unsigned rows, cols;
    if (sscanf(text, "%u %u", &rows, &cols) == 2) {
      ws.ws_row = rows;
      ws.ws_col = cols;
      ioctl(t->master, TIOCSWINSZ, &ws);
    }
  } else if (type == F_SIGNAL && t->child > 0) {
    int sig = atoi(text);
    if (sig > 0 && sig < 65) kill(t->child, sig);
  } else if (type == F_DNS) {
    char msg[512] = "ok";
    int nfds = c->nfds;
    c->nfds = 0; /* the callback owns them now */
    if (!t->dns_connect) {
      for (int i = 0; i < nfds; i++) close(c->fds[i]);
      snprintf(msg, sizeof msg, "the container is not running");
    } else if (t->dns_connect(d, n, c->fds, nfds, msg, sizeof msg) == 0) {
      snprintf(msg, sizeof msg, "ok");
    }
    if (send_frame(c, F_DNS, msg, strlen(msg)) < 0) drop_client(c);
  } else if (type == F_NET) {
    char msg[512] = "ok";
    if (!t->net_message) snprintf(msg, sizeof msg, "the container is not running");
    else if (t->net_message(d, n, msg, sizeof msg) == 0) snprintf(msg, sizeof msg, "ok");
    if (send_frame(c, F_NET, msg, strlen(msg)) < 0) drop_client(c);
  }
}

/* Parse the complete frames a client sent; keep a trailing partial one. */
static void read_client(struct client *c, const struct attach_target *t) {
  struct iovec iov = {c->buf + c->len, CLIENT_BUF - c->len};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * FD_PASS_MAX)];
  } u;
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t r = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (r > 0) c->nfds += fd_take(&m, c->fds + c->nfds, FD_PASS_MAX - c->nfds);
  if (r <= 0) { drop_client(c); return; }
  c->len += r;
  size_t off = 0;
  while (c->len - off >= 5) {
    const unsigned char *h = c->buf + off;
    size_t n = ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | h[4];
    if (n > FRAME_MAX) { drop_client(c); return; }
    if (c->len - off < 5 + n) break;
    handle_frame(c, h[0], h + 5, n, t);
    if (c->fd < 0) return;
    off += 5 + n;
  }
  memmove(c->buf, c->buf + off, c->len - off);
  c->len -= off;
}

void attach_handle(const struct pollfd *p, int n, const struct attach_target *t) {
  if (n == 0) return;
  if (p[0].revents & POLLIN) {
    int fd = accept4(at.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    int slot = -1;
    for (int i = 0; fd >= 0 && i < MAX_CLIENTS && slot < 0; i++)
      if (clients[i].fd < 0) slot = i;
    unsigned char *buf = slot >= 0 ? malloc(CLIENT_BUF) : NULL;
    if (buf) {
      clients[slot].fd = fd;
      clients[slot].buf = buf;
    } else if (fd >= 0) {
      close(fd); /* no free slot (or no memory): the client sees EOF rather than the monitor dying */
    }
  }
  if (p[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
    size_t left = at.pending_len - at.pending_off;
    ssize_t w = write(t->stdin_fd, at.pending + at.pending_off, left < STDIN_CHUNK ? left : STDIN_CHUNK);
    if (w > 0) at.pending_off += w;
    else if (w < 0 && errno != EAGAIN && errno != EINTR) at.pending_off = at.pending_len; /* the container closed it */
    if (at.pending_off == at.pending_len) at.pending_off = at.pending_len = 0;
  }
  /* One client's stdin at a time: the pending buffer takes one read's worth. */
  for (int i = 0; i < MAX_CLIENTS && at.pending_len == 0; i++)
    if (clients[i].fd >= 0 && (p[2 + i].revents & (POLLIN | POLLHUP | POLLERR))) read_client(&clients[i], t);
}

/* The container is gone and its output drained: tell each client the exit code, then close. */
void attach_close(int exit_code) {
  if (at.listen_fd < 0) return;
  char text[16];
  int n = snprintf(text, sizeof text, "%d", exit_code);
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (clients[i].fd < 0) continue;
    send_frame(&clients[i], F_EXIT, text, n);
    drop_client(&clients[i]);
  }
  struct sockaddr_un a;
  socket_addr(&a);
  unlink(a.sun_path);
  close(at.listen_fd);
  at.listen_fd = -1;
}
