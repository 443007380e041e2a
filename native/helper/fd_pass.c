/* Passing file descriptors over unix sockets (SCM_RIGHTS, helper.h): the container init's pty
 * and DNS sockets to the monitor, the DNS sockets of `network connect` to a running monitor,
 * a socket made in the container's network namespace by a short-lived child. */
#include "helper.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int fd_send(int sock, unsigned char byte, const int *fds, int n) {
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * FD_PASS_MAX)];
  } u;
  if (n < 1 || n > FD_PASS_MAX) return -1;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int fd_take(struct msghdr *msg, int *fds, int max) {
  int got = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (got < max) fds[got++] = fd;
      else close(fd); /* more than the caller takes: never leaked */
    }
  }
  return got;
}

int fd_recv(int sock, int *fds, int max) {
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * FD_PASS_MAX)];
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  return fd_take(&msg, fds, max);
}
