/*
 * Published TCP ports without a relay process (port_handoff.h): why and how.
 *
 * Through the forwarder every byte of a published port crosses three processes (client,
 * forwarder, server); on a 2-vCPU machine that costs a third of loopback's throughput however
 * lean the forwarder is (docs/PERFORMANCE.md, "Published-port throughput"). Here the server's
 * own listening socket lives in the host's network namespace instead, so a client talks to it as
 * over loopback, and the server sees the client's real address (Docker's userland proxy and
 * Podman's rootlessport show it their own).
 *
 * The container's init installs a seccomp filter that turns every bind(2) into a user
 * notification (port_handoff_install); the forwarder receives them (port_handoff_notified). For
 * the bind of a published container port, at the wildcard address or the container's own, by a
 * TCP socket, the forwarder makes a socket in the host's namespace with the same family and
 * options, binds it to the published host address and port, and puts it in place of the
 * container's socket (SECCOMP_IOCTL_NOTIF_ADDFD with SETFD, the same fd number); the bind
 * returns 0 and the server's listen() and accept() work on the host socket. Every other bind
 * goes on unchanged in the container's namespace (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 *
 * What keeps working as before: the host port stays reserved by the monitor's socket for the
 * container's life (SO_REUSEPORT lets the handed-off socket share it: same user only), and that
 * socket keeps relaying through the forwarder whatever family the server's socket does not
 * serve (an IPv4-only server on a dual-stack -p, say), until it does; inside the container,
 * connections to the server's address reach it through a relay listener (handoff_ops.relay).
 *
 * What differs, as with bypass4netns: getsockname() on the server's socket names the host's
 * address and port; a server started later by `exec` on a handed-off port finds it taken by that
 * relay. Only used where the container can reach the host's loopback anyway (the default
 * slirp4netns network with host loopback on: network/usermode.ts), since a socket in the host's
 * namespace could also connect() from there before it listens.
 *
 * Never trusted: the container's memory (the address is read once, and only picks whether to
 * hand off; the host socket is always bound to the published host address) and its PID (checked
 * with SECCOMP_IOCTL_NOTIF_ID_VALID before the fd is taken and before one is put in).
 */
#include "port_handoff.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "helper.h"

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "port_handoff.c: no audit architecture for this machine"
#endif

#define FAMILY_V4 1
#define FAMILY_V6 2

int port_handoff_install(int sock) {
  /* Other architectures' binds (i386's socketcall) are let through: they bind in the container's
   * namespace, where the forwarder reaches them as before. */
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bind, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof insns / sizeof insns[0], .filter = insns};
  int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (listener < 0) return -1;
  int r = fd_send(sock, 'H', &listener, 1);
  int e = errno;
  close(listener);
  errno = e;
  return r;
}

/* ---------- the forwarder's side ---------- */

/* Per rule, for this run: the families the container's handed-off sockets serve, and whether
 * the monitor's socket still listens (the forwarder is forked afresh for each run). */
static unsigned char covered[MAX_PORT_FORWARDS], unlistened[MAX_PORT_FORWARDS];

/* The families rule R's host socket serves (port_forward.c bind_rule: "" is dual-stack). */
static int rule_families(const struct port_rule *r) {
  struct sockaddr_storage ss;
  socklen_t len;
  if (!r->host_ip[0]) return FAMILY_V4 | FAMILY_V6;
  if (port_forward_address(r->host_ip, r->host_port, &ss, &len) < 0) return 0;
  return ss.ss_family == AF_INET ? FAMILY_V4 : FAMILY_V6;
}

/* The one TCP rule publishing container port PORT; -1 for none, or for several (one socket
 * cannot be in two places: those stay with the forwarder). */
static int rule_for_port(const struct port_forward *f, int port) {
  int found = -1;
  for (int i = 0; i < f->n; i++) {
    if (f->r[i].udp || f->r[i].ctr_port != port) continue;
    if (found >= 0) return -1;
    found = i;
  }
  return found;
}

/* Is ADDR (the container's bind) where the forwarder relays rule R to: the wildcard, or the
 * container's own address? A server bound to its loopback is not published, as in Docker. */
static int bind_address_published(const struct sockaddr_storage *ss, const struct port_rule *r) {
  struct in_addr ctr4;
  int have4 = inet_pton(AF_INET, r->ctr_ip, &ctr4) == 1;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    return a->sin_addr.s_addr == htonl(INADDR_ANY) || (have4 && a->sin_addr.s_addr == ctr4.s_addr);
  }
  const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
  if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr)) return 1;
  if (have4 && IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) return !memcmp(&a->sin6_addr.s6_addr[12], &ctr4, 4);
  struct in6_addr ctr6;
  return inet_pton(AF_INET6, r->ctr_ip, &ctr6) == 1 && IN6_ARE_ADDR_EQUAL(&a->sin6_addr, &ctr6);
}

/* Where the handed-off socket binds on the host: rule R's address in FAMILY (the wildcard of
 * FAMILY for "", an IPv4 host address as v4-mapped for a dual-stack IPv6 socket). 0, or -1 when
 * the socket cannot take it. */
static int host_bind_address(const struct port_rule *r, int family, int v6only, struct sockaddr_storage *ss, socklen_t *len) {
  if (port_forward_address(r->host_ip, r->host_port, ss, len) < 0) return -1;
  if (ss->ss_family == family) return 0;
  if (!r->host_ip[0]) { /* the IPv6 wildcard, wanted as IPv4's */
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof *ss);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(r->host_port);
    in4->sin_addr.s_addr = htonl(INADDR_ANY);
    *len = sizeof *in4;
    return 0;
  }
  if (family == AF_INET || v6only) return -1; /* an IPv6 host address for an IPv4 socket, or v4 for a v6-only one */
  struct sockaddr_in v4 = *(struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  memset(ss, 0, sizeof *ss);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = v4.sin_port;
  in6->sin6_addr.s6_addr[10] = in6->sin6_addr.s6_addr[11] = 0xff;
  memcpy(&in6->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
  *len = sizeof *in6;
  return 0;
}

/* Where the relay inside the container connects to reach the handed-off socket: the host
 * address it is bound to, or the loopback of its family when that is the wildcard. */
static void host_connect_address(const struct sockaddr_storage *bound, int v6only, struct sockaddr_storage *ss, socklen_t *len) {
  memcpy(ss, bound, sizeof *ss);
  if (bound->ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    if (a->sin_addr.s_addr == htonl(INADDR_ANY)) a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *len = sizeof *a;
    return;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
  *len = sizeof *a;
  if (!IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr)) return;
  if (v6only) {
    a->sin6_addr = in6addr_loopback;
    return;
  }
  /* a dual-stack wildcard takes IPv4, and the host may have no ::1 */
  struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
  int port = a->sin6_port;
  memset(ss, 0, sizeof *ss);
  in4->sin_family = AF_INET;
  in4->sin_port = (in_port_t)port;
  in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  *len = sizeof *in4;
}

static int sockopt_int(int fd, int level, int name) {
  int v = 0;
  socklen_t l = sizeof v;
  return getsockopt(fd, level, name, &v, &l) == 0 ? v : 0;
}

/* The options a server sets before bind() that shape the listening socket, copied from the
 * container's socket (FROM) to the host one (TO); its file status flags (O_NONBLOCK) too. */
static void copy_socket_options(int from, int to, int family) {
  static const struct { int level, name; } opts[] = {
      {SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_KEEPALIVE}, {IPPROTO_TCP, TCP_NODELAY},
      {IPPROTO_TCP, TCP_DEFER_ACCEPT}, {IPPROTO_TCP, TCP_FASTOPEN},
  };
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    int v = sockopt_int(from, opts[i].level, opts[i].name);
    if (v) setsockopt(to, opts[i].level, opts[i].name, &v, sizeof v);
  }
  if (family == AF_INET6) {
    int v6only = sockopt_int(from, IPPROTO_IPV6, IPV6_V6ONLY);
    setsockopt(to, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  int one = 1;
  setsockopt(to, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one); /* beside the monitor's socket */
  int fl = fcntl(from, F_GETFL);
  if (fl >= 0) fcntl(to, F_SETFL, fl & O_NONBLOCK);
}

/* Whether fd FD of PID is close-on-exec, from its fdinfo ("flags:" in octal, O_CLOEXEC included). */
static int fd_cloexec(pid_t pid, int fd) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fd);
  int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) return 0;
  ssize_t n = read(in, buf, sizeof buf - 1);
  close(in);
  if (n <= 0) return 0;
  buf[n] = 0;
  const char *p = strstr(buf, "flags:");
  return p && (strtoul(p + 6, NULL, 8) & O_CLOEXEC) != 0;
}

static int notif_id_valid(int listener, __u64 id) { return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0; }

/*
 * Put a host socket in place of the container's fd REQ->data.args[0] for rule I; the bind's
 * address is SS. 0 when done (the caller answers the bind with 0), -1 to let the bind go on.
 */
static int hand_off(int listener, const struct seccomp_notif *req, const struct port_forward *f, int i,
                    const struct sockaddr_storage *ss, socklen_t ss_len, const struct handoff_ops *ops) {
  const struct port_rule *r = &f->r[i];
  int ctr_fd = (int)req->data.args[0], result = -1, theirs = -1, host = -1;
  int pidfd = (int)syscall(SYS_pidfd_open, req->pid, 0);
  if (pidfd < 0 || !notif_id_valid(listener, req->id)) goto out; /* the PID is the notifier's still */
  theirs = (int)syscall(SYS_pidfd_getfd, pidfd, ctr_fd, 0);
  if (theirs < 0) goto out;
  int family = ss->ss_family;
  if (sockopt_int(theirs, SOL_SOCKET, SO_TYPE) != SOCK_STREAM || sockopt_int(theirs, SOL_SOCKET, SO_DOMAIN) != family ||
      sockopt_int(theirs, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP)
    goto out;
  int v6only = family == AF_INET6 && sockopt_int(theirs, IPPROTO_IPV6, IPV6_V6ONLY);
  int serves = family == AF_INET ? FAMILY_V4 : FAMILY_V6 | (v6only ? 0 : FAMILY_V4);
  if (!(serves & rule_families(r))) goto out; /* e.g. an IPv6-only server on -p 127.0.0.1:P */
  struct sockaddr_storage hs;
  socklen_t hs_len;
  if (host_bind_address(r, family, v6only, &hs, &hs_len) < 0) goto out;
  if ((host = ops->host_socket(family)) < 0) goto out;
  copy_socket_options(theirs, host, family);
  if (bind(host, (struct sockaddr *)&hs, hs_len) < 0) goto out;
  int cloexec = fd_cloexec(req->pid, ctr_fd);
  if (!notif_id_valid(listener, req->id)) goto out;
  struct seccomp_notif_addfd addfd = {
      .id = req->id, .flags = SECCOMP_ADDFD_FLAG_SETFD, .srcfd = (__u32)host, .newfd = (__u32)ctr_fd,
      .newfd_flags = cloexec ? O_CLOEXEC : 0,
  };
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0) goto out;
  result = 0;
  close(theirs); /* the container's own socket is gone with it: nothing holds its port there */
  theirs = -1;
  covered[i] |= (unsigned char)serves;
  if (!unlistened[i] && (covered[i] & rule_families(r)) == rule_families(r)) {
    ops->unlisten(i);
    unlistened[i] = 1;
  }
  struct sockaddr_storage target;
  socklen_t target_len;
  host_connect_address(&hs, v6only, &target, &target_len);
  ops->relay(ss, ss_len, v6only, &target, target_len);
out:
  if (host >= 0) close(host);
  if (theirs >= 0) close(theirs);
  if (pidfd >= 0) close(pidfd);
  return result;
}

void port_handoff_notified(int listener, const struct port_forward *f, const struct handoff_ops *ops) {
  static struct seccomp_notif *req;
  static struct seccomp_notif_resp *resp;
  static struct seccomp_notif_sizes sizes;
  if (!req) {
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) return;
    req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
    resp = calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
    if (!req || !resp) _exit(1);
  }
  memset(req, 0, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) return; /* the notifier died meanwhile */
  memset(resp, 0, sizeof *resp);
  resp->id = req->id;
  resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  struct sockaddr_storage ss;
  socklen_t len = (socklen_t)req->data.args[2];
  int port = 0, i = -1;
  if (req->data.nr == __NR_bind && len >= sizeof(struct sockaddr_in) && len <= sizeof ss) {
    memset(&ss, 0, sizeof ss);
    struct iovec local = {&ss, len}, remote = {(void *)(uintptr_t)req->data.args[1], len};
    if (syscall(SYS_process_vm_readv, req->pid, &local, 1, &remote, 1, 0) == (ssize_t)len) {
      if (ss.ss_family == AF_INET) port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
      else if (ss.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
  }
  if (port) i = rule_for_port(f, port);
  if (i >= 0 && bind_address_published(&ss, &f->r[i]) && hand_off(listener, req, f, i, &ss, len, ops) == 0) {
    resp->flags = 0;
    resp->val = 0;
    resp->error = 0;
  }
  ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp); /* ENOENT: the notifier died meanwhile */
}
