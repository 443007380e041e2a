/*
 * dns-connect CTR_PID CTR_START ATTACH_SOCKET NAMES_FILE NDOTS_SET [IP HOSTNS]...
 *
 * `network connect` of a running container that has no embedded DNS server (one started on the
 * default network): Docker starts its resolver then (libnetwork's sandbox, when an endpoint that
 * needs one joins). Its sockets must be made in the container's network namespace, which the
 * monitor cannot enter and come back from (rootless, the host's namespace belongs to the
 * initial user namespace), so this helper enters it (checked by the init's PID and start time),
 * makes them as the init would at a start (dns_container_sockets: 127.0.0.11 over UDP and TCP,
 * the NAT rules or :53, and with --dns upstreams their socket and the namespace), and hands them
 * to the monitor over its attach socket (a frame 6 whose bytes carry them as SCM_RIGHTS and
 * whose data is the configuration, attach.c) which it already polls. The monitor's answer (a
 * frame 6: "ok" or why not) is ours: exit 0, or 1 with its one line.
 */
#include "dns.h"
#include "helper.h"
#include "net_holder.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_WAIT_MS 10000

/* Connect to the monitor's attach socket PATH (through its directory: sun_path holds 108 bytes). */
static int connect_monitor(const char *path) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || strlen(slash + 1) > 64) die("dns-connect: bad attach socket path %s", path);
  *slash = 0;
  int dfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) die("dns-connect: %s: %s", dir, strerror(errno));
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
    die("the container's monitor does not answer (%s): %s", path, strerror(errno));
  close(dfd);
  return fd;
}

/* Read exactly N bytes within the deadline; 0 or -1. */
static int read_full(int fd, unsigned char *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, ANSWER_WAIT_MS) <= 0) return -1;
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

int mode_dns_connect(int argc, char **argv) {
  if (argc < 6 || (argc - 6) % 2) die("usage: dns-connect CTR_PID CTR_START ATTACH_SOCKET NAMES_FILE NDOTS_SET [IP HOSTNS]...");
  unsigned char frame[5 + 4096];
  size_t n = 0;
  for (int i = 4; i < argc; i++) {
    size_t l = strlen(argv[i]) + 1;
    if (5 + n + l > sizeof frame) die("dns-connect: the configuration is too long");
    memcpy(frame + 5 + n, argv[i], l);
    n += l;
  }
  struct dns_config c;
  char msg[512];
  if (dns_config_from_message(&c, (const char *)frame + 5, n, msg, sizeof msg) < 0) die("%s", msg);
  frame[0] = 6;
  frame[1] = frame[2] = 0;
  frame[3] = (unsigned char)(n >> 8);
  frame[4] = (unsigned char)n;

  int sock = connect_monitor(argv[3]);
  int ns = net_open_netns_of(argv[1], argv[2], "container");
  if (ns < 0) die("%s", net_error());
  if (setns(ns, CLONE_NEWNET) < 0) die("cannot enter the container's network namespace: %s", strerror(errno));
  int fds[DNS_SOCKETS], k = dns_container_sockets(&c, fds, msg, sizeof msg);
  if (k < 0) die("%s", msg);
  /* the sockets ride on the frame's first byte, the rest follows on the stream */
  if (fd_send(sock, frame[0], fds, k) < 0) die("dns-connect: cannot reach the monitor: %s", strerror(errno));
  write_all(sock, frame + 1, 4 + n, argv[3]);
  for (int i = 0; i < k; i++) close(fds[i]);

  for (;;) {
    unsigned char h[5], body[600];
    if (read_full(sock, h, 5) < 0) die("the container's monitor did not answer (it stopped?)");
    size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
    if (h[0] == 3) die("the container stopped");
    /* the container's output (we are an attach client too): skipped */
    for (size_t left = len; left > 0;) {
      size_t part = left < sizeof body ? left : sizeof body;
      if (read_full(sock, body, part) < 0) die("the container's monitor did not answer");
      left -= part;
      if (h[0] == 6) {
        body[part < sizeof body ? part : sizeof body - 1] = 0;
        break;
      }
    }
    if (h[0] != 6) continue;
    if (len == 2 && memcmp(body, "ok", 2) == 0) return 0;
    die("%s", (char *)body);
  }
}
